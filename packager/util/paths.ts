import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The directory of this package (where package.json, templates/ and schema/ are), found by walking
 * up from this module: the same code runs from packager/ (tests, TypeScript) and dist/packager/.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'generator-kelkoo') return (root = dir);
      } catch {
        // not ours; keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the generator-kelkoo package root');
    dir = parent;
  }
}

/** This package's version, from its package.json (what `--version` prints). */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

export function templatesDir(...parts: string[]): string {
  return join(packageRoot(), 'templates', ...parts);
}

export function schemaDir(...parts: string[]): string {
  return join(packageRoot(), 'schema', ...parts);
}
