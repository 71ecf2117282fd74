// Our version mapping and our rpmvercmp against rpm's own comparison: thousands of pairs, asked of
// one rpm process (the embedded Lua's rpm.vercmp, rpm >= 4.14), compared with semver.compare and
// with our port.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import semver from 'semver';
import { expect, it } from 'vitest';
import { compareEVR, parseEVR, rpmvercmp } from '../../packager/rpm/version.js';
import { rpmVersionFromSemver } from '../../packager/assemble/semver-version.js';
import { describeWithTools, runOk, tmpDir } from './tools.js';

/** rpm.vercmp(a, b) for every pair, in one rpm process. rpm 4.18's rpm.vercmp compares [epoch:]version[-release] values. */
function rpmVercmpAll(pairs: readonly (readonly [string, string])[]): number[] {
  for (const [a, b] of pairs) {
    if (/[\t\n]/.test(a + b) || a === '' || b === '') throw new Error(`cannot pass ${JSON.stringify([a, b])} to rpm`);
  }
  const dir = tmpDir('vercmp');
  const file = join(dir, 'pairs.tsv');
  writeFileSync(file, pairs.map(([a, b]) => `${a}\t${b}\n`).join(''));
  const lua = [
    'local out = {}',
    `for line in io.lines("${file}") do`,
    '  local a, b = line:match("^([^\\t]*)\\t([^\\t]*)$")',
    '  out[#out + 1] = tostring(rpm.vercmp(a, b))',
    'end',
    'io.write(table.concat(out, "\\n"), "\\n")',
  ].join('\n');
  const res = runOk('rpm', ['--eval', `%{lua:\n${lua}\n}`]);
  const answers = res.stdout.split('\n').filter((l) => l !== '').map(Number);
  expect(answers).toHaveLength(pairs.length);
  return answers;
}

// Semver versions that stress the prerelease order (the same shapes as test/unit/version.test.ts).
const num = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0, 1, 2, 9, 10, 11, 100) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) },
);
const alnumId = fc
  .string({ unit: fc.constantFrom('-', '0', '1', '9', 'A', 'L', 'Z', 'a', 'b', 'l', 'z'), minLength: 1, maxLength: 4 })
  .filter((s) => !/^[0-9]+$/.test(s));
const wordId = fc.constantFrom('alpha', 'beta', 'rc', 'rc1', 'rc10', 'rc9', 'next', 'Alpha', 'a-b', 'x-1');
const id = fc.oneof(num.map(String), alnumId, wordId);
const arbSemver = fc
  .tuple(num, num, num, fc.array(id, { maxLength: 4 }), fc.option(fc.constantFrom('build.5', '001'), { nil: undefined }))
  .map(([M, m, p, ids, b]) => {
    const small = (n: number) => (n > 1000 ? n : n % 3);
    return `${small(M)}.${small(m)}.${small(p)}${ids.length ? `-${ids.join('.')}` : ''}${b ? `+${b}` : ''}`;
  });

// Any [epoch:]version[-release] rpm can parse, with the characters rpmvercmp treats specially.
const arbEVR = fc.string({ unit: fc.constantFrom('0', '1', '2', '9', 'a', 'b', 'Z', '.', '_', '+', '~', '^', '-', ':', 'é'), minLength: 1, maxLength: 10 });

describeWithTools(['rpm'], 'version order: rpm agrees', () => {
  it('with semver.compare, on our RPM versions of 4000 pairs of semver versions', () => {
    const pairs = fc.sample(fc.tuple(arbSemver, arbSemver), { numRuns: 4000, seed: 424242 });
    // and the neighbours that matter most: equal tuples, a version and its prereleases, `~~` bounds
    pairs.push(['1.0.0-alpha', '1.0.0-alpha.1'], ['1.0.0-alpha.1', '1.0.0-alpha.beta'], ['1.0.0-rc.10', '1.0.0-rc.9'], ['0.0.0-0', '0.0.0-a']);
    const mapped = pairs.map(([a, b]) => [rpmVersionFromSemver(a), rpmVersionFromSemver(b)] as const);
    const answers = rpmVercmpAll(mapped);
    const wrong = pairs
      .map(([a, b], i) => ({ a, b, rpmA: mapped[i]![0], rpmB: mapped[i]![1], semver: semver.compare(a, b), rpm: answers[i] }))
      .filter((r) => Math.sign(r.semver) !== Math.sign(r.rpm!));
    expect(wrong).toEqual([]);
  });

  it('with our rpmvercmp port, on 4000 random version strings', () => {
    const pairs = fc.sample(fc.tuple(arbEVR, arbEVR), { numRuns: 4000, seed: 777 });
    const answers = rpmVercmpAll(pairs);
    const wrong = pairs
      .map(([a, b], i) => ({ a, b, ours: compareEVR(parseEVR(a), parseEVR(b)), rpm: answers[i] }))
      .filter((r) => r.ours !== r.rpm);
    expect(wrong).toEqual([]);
    // plain versions: rpm.vercmp compares them with rpmvercmp itself
    for (const [i, [a, b]] of pairs.entries()) {
      if (!/[-:]/.test(a + b)) expect(rpmvercmp(a, b)).toBe(answers[i]);
    }
  });

  it('that X.Y.Z~~ sits below every prerelease of X.Y.Z and above everything lower', () => {
    const versions = fc.sample(arbSemver, { numRuns: 1000, seed: 99 });
    const pairs = versions.map((v) => {
      const p = semver.parse(v)!;
      return [`${p.major}.${p.minor}.${p.patch}~~`, rpmVersionFromSemver(v)] as const;
    });
    const answers = rpmVercmpAll(pairs);
    expect(answers.every((a) => a === -1)).toBe(true);
    const lower = versions.filter((v) => semver.parse(v)!.patch > 0);
    const below = rpmVercmpAll(
      lower.map((v) => {
        const p = semver.parse(v)!;
        return [`${p.major}.${p.minor}.${p.patch}~~`, rpmVersionFromSemver(`${p.major}.${p.minor}.${p.patch - 1}`)] as const;
      }),
    );
    expect(below.every((a) => a === 1)).toBe(true);
  });
});
