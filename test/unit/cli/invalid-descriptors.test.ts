// The corpus of invalid components (test/fixtures/invalid-descriptors/cases.json) through the real
// CLI: `kpkg build --skip-build` and `kpkg validate` on a real component directory each, a fixture
// whose descriptor (or package.json, or files) carries the one fault of the case. Each exits 2
// with one line `kpkg: <file and field>: ...`, no stack, and writes nothing anywhere.
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kpkg, type CliResult } from '../../helpers/cli.js';
import { scratch } from '../../helpers/files.js';
import { BASES, baseComponent, CASES, componentOf, type InvalidCase } from '../../helpers/invalid-descriptors.js';

const { fresh } = scratch('invalid-descriptors');

/** Every entry under `dir` (links not followed) with its kind and size: what a command could have left. */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, encoding: 'utf8' })).sort().map((rel) => {
    const st = lstatSync(join(dir, rel));
    return `${rel} ${st.isDirectory() ? 'dir' : st.size}`;
  });
}

function expectOneLine(r: CliResult, c: InvalidCase): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  const lines = r.stderr.slice(0, -1).split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  const line = lines[0]!;
  expect(line.startsWith(`kpkg: ${c.error}: `), line).toBe(true);
  expect(line).toContain(c.detail);
  expect(line).not.toMatch(/internal error|^\s+at |\n/);
  // nothing a terminal would act on: the message shows control characters as escapes
  expect(line).not.toMatch(/[\u0000-\u001f\u007f]/);
}

describe('the corpus of invalid components', () => {
  it('is large and names a field or a position in every case', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(150);
    expect(new Set(CASES.map((c) => c.what)).size).toBe(CASES.length);
    for (const c of CASES) expect(c.error, c.what).toMatch(/^(component|package)\.json(:\d+:\d+|: \/.*)?$/);
  });

  // Without these, a case might fail for another reason than its own fault.
  it.each(Object.keys(BASES))('base %s builds and validates as it is', async (name) => {
    const root = fresh('base');
    const dir = baseComponent(name, root);
    const built = await kpkg('build', dir, '--output', join(root, 'out'), '--skip-build');
    expect(built.code, built.stderr).toBe(0);
    expect(readdirSync(join(root, 'out'))).toHaveLength(3);
    const validated = await kpkg('validate', dir);
    expect(validated.code, validated.stderr).toBe(0);
  });
});

describe.each(['build', 'validate'] as const)('kpkg %s on an invalid component', (command) => {
  it.each(CASES.map((c) => [c.what, c] as const))('%s', async (_what, c) => {
    const root = fresh('case');
    const dir = componentOf(c, root);
    const out = join(root, 'out');
    const before = listing(root);
    const r = command === 'build' ? await kpkg('build', dir, '--output', out, '--skip-build') : await kpkg('validate', dir);
    expectOneLine(r, c);
    expect(existsSync(out)).toBe(false);
    expect(listing(root)).toEqual(before);
  });
});
