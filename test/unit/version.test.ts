import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { KpkgError } from '../../packager/errors.js';
import { assertRpmVersion, compareEVR, formatEVR, parseEVR, rpmvercmp } from '../../packager/rpm/version.js';
import { rpmVersionFromSemver, semverFromRpmVersion } from '../../packager/assemble/semver-version.js';

/** Semver versions that stress the prerelease order: shared prefixes, numbers next to words, digits and `-` inside words. */
const arbSemver: fc.Arbitrary<string> = (() => {
  const num = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(0, 1, 2, 9, 10, 11, 100) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) },
  );
  const numericId = num.map(String);
  const alnumId = fc
    .string({ unit: fc.constantFrom('-', '0', '1', '9', 'A', 'L', 'Z', 'a', 'b', 'l', 'z'), minLength: 1, maxLength: 4 })
    .filter((s) => !/^[0-9]+$/.test(s));
  const wordId = fc.constantFrom('alpha', 'beta', 'rc', 'rc1', 'rc10', 'rc9', 'next', 'Alpha', 'a-b', 'x-1');
  const id = fc.oneof(numericId, alnumId, wordId);
  const pre = fc.array(id, { minLength: 0, maxLength: 4 });
  const build = fc.option(fc.constantFrom('build.5', '001', 'sha.abc-1'), { nil: undefined });
  return fc.tuple(num, num, num, pre, build).map(([M, m, p, ids, b]) => {
    const small = (n: number) => (n > 1000 ? n : n % 3); // mostly equal tuples, so prereleases get compared
    return `${small(M)}.${small(m)}.${small(p)}${ids.length ? `-${ids.join('.')}` : ''}${b ? `+${b}` : ''}`;
  });
})();

const sign = (n: number) => Math.sign(n);

describe('rpmvercmp', () => {
  // The cases of rpm's own test suite (tests/rpmvercmp.at), as [a, b, expected].
  const rpmSuite: [string, string, number][] = [
    ['1.0', '1.0', 0], ['1.0', '2.0', -1], ['2.0', '1.0', 1],
    ['2.0.1', '2.0.1', 0], ['2.0', '2.0.1', -1], ['2.0.1', '2.0', 1],
    ['2.0.1a', '2.0.1a', 0], ['2.0.1a', '2.0.1', 1], ['2.0.1', '2.0.1a', -1],
    ['5.5p1', '5.5p1', 0], ['5.5p1', '5.5p2', -1], ['5.5p2', '5.5p1', 1],
    ['5.5p10', '5.5p10', 0], ['5.5p1', '5.5p10', -1], ['5.5p10', '5.5p1', 1],
    ['10xyz', '10.1xyz', -1], ['10.1xyz', '10xyz', 1],
    ['xyz10', 'xyz10', 0], ['xyz10', 'xyz10.1', -1], ['xyz10.1', 'xyz10', 1],
    ['xyz.4', 'xyz.4', 0], ['xyz.4', '8', -1], ['8', 'xyz.4', 1], ['xyz.4', '2', -1], ['2', 'xyz.4', 1],
    ['5.5p2', '5.6p1', -1], ['5.6p1', '5.5p2', 1],
    ['5.6p1', '6.5p1', -1], ['6.5p1', '5.6p1', 1],
    ['6.0.rc1', '6.0', 1], ['6.0', '6.0.rc1', -1],
    ['10b2', '10a1', 1], ['10a2', '10b2', -1],
    ['1.0aa', '1.0aa', 0], ['1.0a', '1.0aa', -1], ['1.0aa', '1.0a', 1],
    ['10.0001', '10.0001', 0], ['10.0001', '10.1', 0], ['10.1', '10.0001', 0],
    ['10.0001', '10.0039', -1], ['10.0039', '10.0001', 1],
    ['4.999.9', '5.0', -1], ['5.0', '4.999.9', 1],
    ['20101121', '20101121', 0], ['20101121', '20101122', -1], ['20101122', '20101121', 1],
    ['2_0', '2_0', 0], ['2.0', '2_0', 0], ['2_0', '2.0', 0],
    ['a', 'a', 0], ['a+', 'a+', 0], ['a+', 'a_', 0], ['a_', 'a+', 0], ['+a', '+a', 0], ['+a', '_a', 0], ['_a', '+a', 0],
    ['+_', '+_', 0], ['_+', '+_', 0], ['_+', '_+', 0], ['+', '_', 0], ['_', '+', 0],
    ['1.0~rc1', '1.0~rc1', 0], ['1.0~rc1', '1.0', -1], ['1.0', '1.0~rc1', 1],
    ['1.0~rc1', '1.0~rc2', -1], ['1.0~rc2', '1.0~rc1', 1],
    ['1.0~rc1~git123', '1.0~rc1~git123', 0], ['1.0~rc1~git123', '1.0~rc1', -1], ['1.0~rc1', '1.0~rc1~git123', 1],
    ['1.0^', '1.0^', 0], ['1.0^', '1.0', 1], ['1.0', '1.0^', -1],
    ['1.0^git1', '1.0^git1', 0], ['1.0^git1', '1.0', 1], ['1.0', '1.0^git1', -1],
    ['1.0^git1', '1.0^git2', -1], ['1.0^git2', '1.0^git1', 1],
    ['1.0^git1', '1.01', -1], ['1.01', '1.0^git1', 1],
    ['1.0^20160101', '1.0^20160101', 0], ['1.0^20160101', '1.0.1', -1], ['1.0.1', '1.0^20160101', 1],
    ['1.0^20160101^git1', '1.0^20160101^git1', 0], ['1.0^20160102', '1.0^20160101^git1', 1], ['1.0^20160101^git1', '1.0^20160102', -1],
    ['1.0~rc1^git1', '1.0~rc1^git1', 0], ['1.0~rc1^git1', '1.0~rc1', 1], ['1.0~rc1', '1.0~rc1^git1', -1],
    ['1.0^git1~pre', '1.0^git1~pre', 0], ['1.0^git1', '1.0^git1~pre', 1], ['1.0^git1~pre', '1.0^git1', -1],
    // rpm's documented oddities (kept as rpm behaves): a letter right after digits is a new segment...
    ['1b.fc17', '1.fc17', -1], ['1g.fc17', '1.fc17', 1],
    // ...and non-ASCII characters are mere separators.
    ['1.1.α', '1.1.β', 0], ['1.1.αα', '1.1.α', 0],
  ];
  it.each(rpmSuite)('rpmvercmp(%s, %s) = %i', (a, b, expected) => {
    expect(rpmvercmp(a, b)).toBe(expected);
  });

  it('handles what the suite does not spell out', () => {
    expect(rpmvercmp('1.0', '1.0.')).toBe(0); // trailing separators do not count
    expect(rpmvercmp('1.0~', '1.0')).toBe(-1);
    expect(rpmvercmp('1.0~~', '1.0~')).toBe(-1);
    expect(rpmvercmp('2.0.0~~', '2.0.0~A0')).toBe(-1);
    expect(rpmvercmp('2.0.0~~', '1.999.999')).toBe(1);
    expect(rpmvercmp('1a', '1A')).toBe(1); // strcmp: upper case first
    expect(rpmvercmp('123456789012345678901234567890', '123456789012345678901234567891')).toBe(-1); // no overflow
    expect(rpmvercmp('1.0\0garbage', '1.0')).toBe(0); // C strings
    expect(rpmvercmp('', '')).toBe(0);
    expect(rpmvercmp('', '1')).toBe(-1);
    expect(rpmvercmp('', '~')).toBe(1);
    expect(rpmvercmp('', '^')).toBe(-1);
  });

  it('is antisymmetric and reflexive on any strings', () => {
    const s = fc.string({ unit: fc.constantFrom('0', '1', '9', 'a', 'B', 'z', '.', '_', '~', '^', '-', 'é'), maxLength: 8 });
    fc.assert(
      fc.property(s, s, (a, b) => {
        expect(rpmvercmp(a, b)).toBe(-rpmvercmp(b, a) || 0);
        expect(rpmvercmp(a, a)).toBe(0);
      }),
      { numRuns: 3000, seed: 42 },
    );
  });
});

describe('EVR', () => {
  it.each([
    ['1.2.3', { version: '1.2.3' }],
    ['1.2.3-4', { version: '1.2.3', release: '4' }],
    ['2:1.2.3-4.el9', { epoch: 2, version: '1.2.3', release: '4.el9' }],
    [':1.0', { epoch: 0, version: '1.0' }],
    ['1-2-3', { version: '1-2', release: '3' }],
    ['1.0~rc.1-1', { version: '1.0~rc.1', release: '1' }],
  ])('parseEVR(%s)', (text, evr) => {
    expect(parseEVR(text)).toEqual(evr);
  });

  it('formats back what it parsed', () => {
    for (const t of ['1.2.3', '1.2.3-4', '2:1.2.3-4.el9', '0:1.0']) expect(formatEVR(parseEVR(t))).toBe(t);
  });

  it('orders as rpm orders packages', () => {
    expect(compareEVR({ version: '1.0' }, { epoch: 0, version: '1.0' })).toBe(0);
    expect(compareEVR({ epoch: 1, version: '0.1' }, { version: '9.9' })).toBe(1);
    expect(compareEVR({ version: '1.0', release: '2' }, { version: '1.0', release: '10' })).toBe(-1);
    expect(compareEVR({ version: '1.0' }, { version: '1.0', release: '1' })).toBe(-1);
    expect(compareEVR({ version: '1.0~rc.1', release: '9' }, { version: '1.0', release: '1' })).toBe(-1);
  });
});

describe('rpmVersionFromSemver', () => {
  it.each([
    ['1.3.0', '1.3.0'],
    ['1.3.0-rc.2', '1.3.0~rc.2'], // docs/architecture.md, the descriptor
    ['1.0.0-alpha', '1.0.0~alpha'],
    ['1.0.0-alpha.1', '1.0.0~alpha.1'],
    ['1.0.0-beta.11', '1.0.0~beta.11'],
    ['1.0.0-rc.10', '1.0.0~rc.10'],
    ['0.0.0-0', '0.0.0~A0'],
    ['1.0.0-0.3.7', '1.0.0~A0.3.7'],
    ['1.0.0-alpha.beta', '1.0.0~alpha.9999999999999999beta'],
    ['1.0.0-x.7.z.92', '1.0.0~x.7.9999999999999999z.92'],
    ['2.0.0-rc1', '2.0.0~rcAC'],
    ['1.0.0-beta-2', '1.0.0~betaAAAD'],
    ['1.0.0-Alpha', '1.0.0~ALlpha'],
    ['1.0.0-x-y-z.--', '1.0.0~xAAyAAz.9999999999999999AAAA'],
    ['1.0.0+build.5', '1.0.0'], // build metadata has no precedence: dropped
    ['1.0.0-rc.1+build.5', '1.0.0~rc.1'],
    ['v2.1.0', '2.1.0'],
    ['9007199254740991.0.0-9007199254740991', '9007199254740991.0.0~A9007199254740991'],
  ])('%s -> %s', (v, rpm) => {
    expect(rpmVersionFromSemver(v)).toBe(rpm);
    expect(semverFromRpmVersion(rpm)).toBe(semver.parse(v)!.format());
  });

  it('orders the semver.org example as semver does', () => {
    const chain = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'];
    for (let i = 0; i + 1 < chain.length; i++) {
      expect(rpmvercmp(rpmVersionFromSemver(chain[i]!), rpmVersionFromSemver(chain[i + 1]!))).toBe(-1);
    }
  });

  it.each(['1.2', '1.2.3.4', '01.2.3', '1.2.3-01', '1.2.3-', '1.2.3-a..b', 'latest', '', '1.2.3-rc_1'])('refuses %j', (v) => {
    expect(() => rpmVersionFromSemver(v)).toThrow(KpkgError);
    expect(() => rpmVersionFromSemver(v)).toThrow(/not a semver version/);
  });

  it('refuses numeric identifiers node-semver cannot compare exactly', () => {
    expect(semver.compare('1.0.0-9007199254740993', '1.0.0-9007199254740992')).toBe(0); // the reason
    expect(() => rpmVersionFromSemver('1.0.0-9007199254740993')).toThrow(/above 2\^53-1/);
    expect(() => rpmVersionFromSemver('1.0.0-rc.99999999999999999')).toThrow(/above 2\^53-1/);
    try {
      rpmVersionFromSemver('1.0.0-9007199254740993');
    } catch (err) {
      expect((err as KpkgError).code).toBe('INVALID_INPUT');
    }
  });

  it('keeps the order of semver for every pair (property)', () => {
    fc.assert(
      fc.property(arbSemver, arbSemver, (a, b) => {
        expect(sign(rpmvercmp(rpmVersionFromSemver(a), rpmVersionFromSemver(b)))).toBe(sign(semver.compare(a, b)));
      }),
      { numRuns: 20000, seed: 20240601 },
    );
  });

  it('keeps the order against neighbours: a prefix, one more identifier, a bumped tuple (property)', () => {
    fc.assert(
      fc.property(arbSemver, fc.constantFrom('0', '1', 'a', '-', 'A', 'z'), (a, extra) => {
        const v = semver.parse(a)!;
        const longer = v.prerelease.length ? `${v.format()}.${extra}` : `${v.format()}-${extra}`;
        const release = `${v.major}.${v.minor}.${v.patch}`;
        const next = `${v.major}.${v.minor}.${v.patch + 1}-0`;
        const neighbours = v.patch < Number.MAX_SAFE_INTEGER ? [longer, release, next] : [longer, release];
        for (const b of neighbours) {
          expect(sign(rpmvercmp(rpmVersionFromSemver(a), rpmVersionFromSemver(b)))).toBe(sign(semver.compare(a, b)));
        }
        // and the `~~` bound sits below every prerelease of the tuple, above everything lower
        expect(rpmvercmp(`${release}~~`, rpmVersionFromSemver(a))).toBe(semver.gte(a, `${release}-0`) ? -1 : 1);
      }),
      { numRuns: 5000, seed: 7 },
    );
  });

  it('writes only what rpm accepts in a Version, and maps back (property)', () => {
    fc.assert(
      fc.property(arbSemver, (v) => {
        const rpm = rpmVersionFromSemver(v);
        expect(rpm).toMatch(/^[A-Za-z0-9.~]+$/);
        expect(() => assertRpmVersion(rpm)).not.toThrow();
        expect(semverFromRpmVersion(rpm)).toBe(semver.parse(v)!.format());
        // equal images only for versions semver holds equal (build metadata aside)
        expect(rpmVersionFromSemver(semver.parse(v)!.format())).toBe(rpm);
      }),
      { numRuns: 5000, seed: 11 },
    );
  });

  it.each(['1.0', '1.0.0-rc.2', '1.0.0~AB', '1.0.0~A01', '1.0.0~rc.01', '1.0.0~rc.9999999999999999A', '1.0.0~AM', '1.0.0~'])(
    'semverFromRpmVersion refuses %j, which no semver version maps to',
    (rpm) => {
      expect(() => semverFromRpmVersion(rpm)).toThrow(/is not the image of a semver version/);
    },
  );
});

describe('assertRpmVersion', () => {
  it.each(['1.0', '1.0~rc.1', '1.0^git1', '1_0+x'])('accepts %j', (v) => expect(() => assertRpmVersion(v)).not.toThrow());
  it.each([
    ['', /empty/],
    ['1.0-1', /contains "-"/],
    ['1.0 ', /contains " "/],
    ['%{ver}', /contains "%"/],
    ['1..0', /"\.\."/],
    ['1.0é', /ASCII letters/],
  ])('refuses %j', (v, msg) => expect(() => assertRpmVersion(v, 'Version')).toThrow(msg));
});
