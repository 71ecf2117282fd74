// npm run demo: builds the RPMs of the example component in examples/hello and says where they are.
import { execFileSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kpkg = join(root, 'dist', 'bin', 'kpkg.js');
const output = join(root, 'demo-output', 'target');
const example = join(root, 'examples', 'hello');

console.log(`Building the example component ${relative(root, example)} with kpkg build...\n`);
let result;
try {
  result = JSON.parse(execFileSync(process.execPath, [kpkg, 'build', example, '--output', output, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
} catch (e) {
  console.error(`demo: kpkg build failed (exit ${e.status ?? e.message})`);
  process.exit(1);
}
for (const a of result.artifacts) {
  console.log(`  ${a.role.padEnd(12)} ${relative(process.cwd(), a.file)}  (${a.size} bytes, sha256 ${a.sha256.slice(0, 12)}...)`);
}
const app = result.artifacts.find((a) => a.role === 'application');
console.log(`\nLook inside without rpm installed:\n  node ${relative(process.cwd(), kpkg)} inspect ${relative(process.cwd(), app.file)}`);
