/** File helpers shared by the unit and system tests. */
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll } from 'vitest';

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every entry under `dir` that is not a directory, as sorted relative paths. */
export function listFiles(dir: string, root = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, root));
    else out.push(relative(root, p));
  }
  return out.sort();
}

/** Every directory under `dir`, as sorted relative paths. */
export function listDirs(dir: string, root = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = join(dir, e.name);
    out.push(relative(root, p), ...listDirs(p, root));
  }
  return out.sort();
}

/** sha256 of every file under `dir`, by relative path: equal trees, equal records. */
export function treeDigests(dir: string): Record<string, string> {
  return Object.fromEntries(listFiles(dir).map((rel) => [rel, sha256File(join(dir, rel))]));
}

/**
 * Where tests that create thousands of small files put them: /dev/shm (memory) when it can be
 * written, the system temp dir otherwise.
 */
export function memoryTmpDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/** A temporary directory (under `base`) removed after the test file; `fresh(what)` makes a new one inside it. */
export function scratch(prefix: string, base = tmpdir()): { work: string; fresh: (what: string) => string } {
  const work = mkdtempSync(join(base, `kpkg-${prefix}-`));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  let n = 0;
  return {
    work,
    fresh: (what) => {
      const d = join(work, `${what}-${n++}`);
      mkdirSync(d, { recursive: true });
      return d;
    },
  };
}
