import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { KpkgError } from '../../../packager/errors.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/components/', import.meta.url));

/** A temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'kpkg-descriptor-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export type Tree = Record<string, string | { symlink: string } | { mode: number; content: string } | null>;

/** Writes a tree: `'a/b.txt': 'text'`, `'link': { symlink: '../x' }`, `'empty/': null` for a directory. */
export async function writeTree(root: string, tree: Tree): Promise<void> {
  for (const [path, spec] of Object.entries(tree)) {
    const abs = join(root, path);
    if (spec === null) {
      await mkdir(abs, { recursive: true });
      continue;
    }
    await mkdir(dirname(abs), { recursive: true });
    if (typeof spec === 'string') await writeFile(abs, spec);
    else if ('symlink' in spec) await symlink(spec.symlink, abs);
    else await writeFile(abs, spec.content, { mode: spec.mode });
  }
}

/** Expects `fn` to reject with KpkgError INVALID_DESCRIPTOR whose message contains every part. */
export async function expectInvalid(fn: () => unknown, ...parts: (string | RegExp)[]): Promise<KpkgError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an error').toBeInstanceOf(KpkgError);
  const err = caught as KpkgError;
  expect(err.code).toBe('INVALID_DESCRIPTOR');
  for (const part of parts) {
    if (typeof part === 'string') expect(err.message).toContain(part);
    else expect(err.message).toMatch(part);
  }
  expect(err.message).not.toMatch(/\n\s+at /);
  return err;
}
