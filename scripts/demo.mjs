// npm run demo: scaffolds a webapp with the archetype's defaults (kpkg new webapp hello-web
// --defaults) into demo-output/, builds its RPMs with kpkg build, publishes them into a yum
// repository (demo-output/repo) with kpkg publish, and prints the dnf line that installs from it.
// Works offline after `npm ci`: the component has no runtime dependency, and its build (tsc, with
// @types/node) finds this repository's node_modules, as npm run and tsc look in parent directories.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kpkg = join(root, 'dist', 'bin', 'kpkg.js');
const outputRoot = join(root, 'demo-output');
const name = 'hello-web';
const component = join(outputRoot, name);
const output = join(outputRoot, 'target');

const rel = (p) => relative(process.cwd(), p) || '.';

function kpkgRun(args, what, options = {}) {
  try {
    return execFileSync(process.execPath, [kpkg, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
  } catch (e) {
    console.error(`demo: ${what} failed (exit ${e.status ?? e.message})`);
    process.exit(1);
  }
}

// a fresh component each time: the demo shows what the archetype writes today
rmSync(component, { recursive: true, force: true });
mkdirSync(outputRoot, { recursive: true });
console.log(`Scaffolding a webapp with the defaults: kpkg new webapp ${name} --defaults (in ${rel(outputRoot)})...\n`);
kpkgRun(['new', 'webapp', name, '--defaults'], 'kpkg new', { cwd: outputRoot, stdio: ['ignore', 'ignore', 'inherit'] });

console.log(`Building it: kpkg build ${rel(component)} (runs its npm run build, then writes the RPMs)...\n`);
const result = JSON.parse(kpkgRun(['build', component, '--output', output, '--json'], 'kpkg build'));
for (const a of result.artifacts) {
  console.log(`  ${a.role.padEnd(12)} ${rel(a.file)}  (${a.size} bytes, sha256 ${a.sha256.slice(0, 12)}...)`);
}
const app = result.artifacts.find((a) => a.role === 'application');
console.log(`\nLook inside without rpm installed:\n  node ${rel(kpkg)} inspect ${rel(app.file)}`);
console.log(`Run it from its sources:\n  (cd ${rel(component)} && KELKOO_CONFIG_DIR=. npm start)   # then http://localhost:8080/`);

// publish: the two RPMs into a yum repository under demo-output/repo, then the dnf line that
// installs from it. A fresh repository each run, as the component is fresh: the rebuilt packages
// have other bytes under the same name-version-release, which a published repository refuses.
const repo = join(outputRoot, 'repo');
rmSync(repo, { recursive: true, force: true });
const rpms = result.artifacts.filter((a) => a.file.endsWith('.rpm')).map((a) => a.file);
console.log(`\nPublishing them: kpkg publish ${rpms.map(rel).join(' ')} --repo ${rel(repo)}...\n`);
const published = JSON.parse(kpkgRun(['publish', ...rpms, '--repo', repo, '--json'], 'kpkg publish'));
for (const href of published.added) console.log(`  added ${href}`);
const deploy = result.artifacts.find((a) => a.role === 'deployment');
const deployName = deploy?.name ?? `${name}-deploy`;
console.log(`\nInstall from it on a server (the deployment package pulls the application with it):`);
console.log(`  dnf --repofrompath=kpkg-demo,file://${repo} --repo=kpkg-demo --nogpgcheck install ${deployName}`);
console.log(`(publish with --sign-key <key.asc> to sign the packages and repodata/repomd.xml; then drop --nogpgcheck)`);
