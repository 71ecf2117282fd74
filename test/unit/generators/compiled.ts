// The generator tests load the COMPILED generators, as yo does (generators/<name>/index.js ->
// dist/generators/<name>/generator.js). Builds them first when dist/ is missing or older than
// the TypeScript it comes from.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

export function ensureCompiled(): void {
  const marker = join(ROOT, 'dist', 'generators', 'lib', 'base.js');
  const sources = Math.max(newest(join(ROOT, 'generators')), newest(join(ROOT, 'packager')));
  if (existsSync(marker) && statSync(marker).mtimeMs >= sources) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
}

export const generatorPath = (name: string): string => join(ROOT, 'generators', name, 'index.js');
