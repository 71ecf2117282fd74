/** File helpers shared by the unit and system tests. */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll } from 'vitest';

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** sha256 of every file under `dir`, by relative path: equal trees, equal records. */
export function treeDigests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = sha256File(p);
    }
  };
  walk(dir);
  return out;
}

/** A temporary directory removed after the test file; `fresh(what)` makes a new one inside it. */
export function scratch(prefix: string): { work: string; fresh: (what: string) => string } {
  const work = mkdtempSync(join(tmpdir(), `kpkg-${prefix}-`));
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
