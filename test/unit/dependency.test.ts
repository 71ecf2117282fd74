import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { KpkgError } from '../../packager/errors.js';
import { type Dependency, dependencyExpr, formatDependency, formatDependencyExpr, parseDependency, parseRichDependency, RPMSENSE_CONFIG, RPMSENSE_EQUAL, RPMSENSE_FIND_PROVIDES, RPMSENSE_FIND_REQUIRES, RPMSENSE_GREATER, RPMSENSE_INTERP, RPMSENSE_KEYRING, RPMSENSE_LESS, RPMSENSE_META, RPMSENSE_MISSINGOK, RPMSENSE_POSTTRANS, RPMSENSE_PREREQ, RPMSENSE_PRETRANS, RPMSENSE_RPMLIB, RPMSENSE_SCRIPT_POST, RPMSENSE_SCRIPT_POSTUN, RPMSENSE_SCRIPT_PRE, RPMSENSE_SCRIPT_PREUN, RPMSENSE_SCRIPT_VERIFY, RPMSENSE_SENSEMASK, RPMSENSE_TRIGGERIN, RPMSENSE_TRIGGERPOSTUN, RPMSENSE_TRIGGERPREIN, RPMSENSE_TRIGGERUN, validateDependency, validateDependencyName } from '../../packager/rpm/dependency.js';
import { dependencySatisfied, evrOverlap, provideMatches, type ProvidingPackage } from '../helpers/dependency-eval.js';
import { prereleaseMarker, semverRangeToRpm } from '../../packager/assemble/semver-range.js';
import { rpmVersionFromSemver } from '../../packager/assemble/semver-version.js';

const GE = RPMSENSE_GREATER | RPMSENSE_EQUAL;
const LE = RPMSENSE_LESS | RPMSENSE_EQUAL;

describe('sense flags', () => {
  it('have the numbers of rpm 4.18 include/rpm/rpmds.h', () => {
    expect({
      RPMSENSE_LESS,
      RPMSENSE_GREATER,
      RPMSENSE_EQUAL,
      RPMSENSE_POSTTRANS,
      RPMSENSE_PREREQ,
      RPMSENSE_PRETRANS,
      RPMSENSE_INTERP,
      RPMSENSE_SCRIPT_PRE,
      RPMSENSE_SCRIPT_POST,
      RPMSENSE_SCRIPT_PREUN,
      RPMSENSE_SCRIPT_POSTUN,
      RPMSENSE_SCRIPT_VERIFY,
      RPMSENSE_FIND_REQUIRES,
      RPMSENSE_FIND_PROVIDES,
      RPMSENSE_TRIGGERIN,
      RPMSENSE_TRIGGERUN,
      RPMSENSE_TRIGGERPOSTUN,
      RPMSENSE_MISSINGOK,
      RPMSENSE_RPMLIB,
      RPMSENSE_TRIGGERPREIN,
      RPMSENSE_KEYRING,
      RPMSENSE_CONFIG,
      RPMSENSE_META,
      RPMSENSE_SENSEMASK,
    }).toEqual({
      RPMSENSE_LESS: 0x02,
      RPMSENSE_GREATER: 0x04,
      RPMSENSE_EQUAL: 0x08,
      RPMSENSE_POSTTRANS: 0x20,
      RPMSENSE_PREREQ: 0x40,
      RPMSENSE_PRETRANS: 0x80,
      RPMSENSE_INTERP: 0x100,
      RPMSENSE_SCRIPT_PRE: 0x200,
      RPMSENSE_SCRIPT_POST: 0x400,
      RPMSENSE_SCRIPT_PREUN: 0x800,
      RPMSENSE_SCRIPT_POSTUN: 0x1000,
      RPMSENSE_SCRIPT_VERIFY: 0x2000,
      RPMSENSE_FIND_REQUIRES: 0x4000,
      RPMSENSE_FIND_PROVIDES: 0x8000,
      RPMSENSE_TRIGGERIN: 0x10000,
      RPMSENSE_TRIGGERUN: 0x20000,
      RPMSENSE_TRIGGERPOSTUN: 0x40000,
      RPMSENSE_MISSINGOK: 0x80000,
      RPMSENSE_RPMLIB: 0x1000000,
      RPMSENSE_TRIGGERPREIN: 0x2000000,
      RPMSENSE_KEYRING: 0x4000000,
      RPMSENSE_CONFIG: 0x10000000,
      RPMSENSE_META: 0x20000000,
      RPMSENSE_SENSEMASK: 15,
    });
  });
});

describe('textual dependencies', () => {
  it.each<[string, Dependency, string]>([
    ['nodejs', { name: 'nodejs', flags: 0, version: '' }, 'nodejs'],
    ['nodejs >= 20', { name: 'nodejs', flags: GE, version: '20' }, 'nodejs >= 20'],
    ['nodejs => 20', { name: 'nodejs', flags: GE, version: '20' }, 'nodejs >= 20'],
    ['shop = 1:1.4.0~rc.1-1', { name: 'shop', flags: RPMSENSE_EQUAL, version: '1:1.4.0~rc.1-1' }, 'shop = 1:1.4.0~rc.1-1'],
    ['shop == 1.4.0', { name: 'shop', flags: RPMSENSE_EQUAL, version: '1.4.0' }, 'shop = 1.4.0'],
    ['perl(Foo::Bar) < 2', { name: 'perl(Foo::Bar)', flags: RPMSENSE_LESS, version: '2' }, 'perl(Foo::Bar) < 2'],
    ['  a  =<  1  ', { name: 'a', flags: LE, version: '1' }, 'a <= 1'],
    ['/usr/bin/node', { name: '/usr/bin/node', flags: 0, version: '' }, '/usr/bin/node'],
    ['_x > 0', { name: '_x', flags: RPMSENSE_GREATER, version: '0' }, '_x > 0'],
  ])('parses %j', (text, dep, formatted) => {
    expect(parseDependency(text)).toEqual(dep);
    expect(formatDependency(dep)).toBe(formatted);
    expect(parseDependency(formatted)).toEqual(dep);
  });

  it('formats what rpm -qR shows, whatever the context bits', () => {
    expect(formatDependency({ name: 'rpmlib(RichDependencies)', flags: RPMSENSE_RPMLIB | LE, version: '4.12.0-1' })).toBe(
      'rpmlib(RichDependencies) <= 4.12.0-1',
    );
    expect(formatDependency({ name: '/bin/sh', flags: RPMSENSE_INTERP | RPMSENSE_SCRIPT_POST, version: '' })).toBe('/bin/sh');
    expect(formatDependency({ name: 'x' })).toBe('x');
    expect(formatDependency({ name: '(a or b)', flags: 0, version: '' })).toBe('(a or b)');
  });

  it.each([
    ['', /not "name"/],
    ['a >= ', /not "name"/],
    ['a ~> 1', /not "name"/],
    ['a >= 1 2', /not "name"/],
    ['-a', /must begin with a letter, a digit, "_" or "\/"/],
    ['.a', /must begin/],
    ['a>=1', /contains a comparison/],
    ['perl(Foo', /unbalanced parentheses/],
    ['a) >= 1', /unbalanced parentheses/],
    ['/usr/bin/node >= 1', /file name cannot be versioned/],
    ['a >= 1-2-3', /not an RPM \[epoch:\]version\[-release\]/],
    ['a >= x:1', /not an RPM/],
    ['a >= 1..2', /not an RPM/],
    ['a >= %{v}', /not an RPM/],
    ['a >= 1,2', /not an RPM/],
  ])('refuses %j', (text, msg) => {
    expect(() => parseDependency(text)).toThrow(KpkgError);
    expect(() => parseDependency(text)).toThrow(msg);
  });

  it.each([
    ['a\tb', /contains "\\t"/],
    ['a,b', /contains ","/],
    ['a\u0001', /contains/],
    ['', /empty/],
  ])('refuses the name %j', (name, msg) => {
    expect(() => validateDependencyName(name)).toThrow(msg);
  });

  it('accepts names rpm accepts', () => {
    for (const n of ['nodejs', 'python3dist(requests)', 'rpmlib(CompressedFileNames)', 'config(shop)', '/etc/shop.conf', 'libc.so.6()(64bit)', 'é']) {
      expect(() => validateDependencyName(n)).not.toThrow();
    }
  });

  it('checks that flags and version agree', () => {
    expect(() => validateDependency({ name: 'a', flags: GE, version: '' })).toThrow(/needs a version/);
    expect(() => validateDependency({ name: 'a', flags: 0, version: '1' })).toThrow(/no comparison/);
    expect(() => validateDependency({ name: 'a', flags: RPMSENSE_LESS | RPMSENSE_GREATER, version: '1' })).toThrow(/not one of/);
    expect(() => validateDependency({ name: 'a', flags: RPMSENSE_SCRIPT_PRE | GE, version: '1' })).not.toThrow();
    expect(() => validateDependency({ name: '(a or b)', flags: GE, version: '1' })).toThrow(/takes no comparison/);
  });
});

describe('rich dependencies', () => {
  it.each([
    ['(a >= 1 with a < 2)', '(a >= 1 with a < 2)'],
    ['(a>= 1 with  a <2)', null], // "a>=" is a name to rpm; we refuse it
    ['( a  =>  1   with a < 2 )', '(a >= 1 with a < 2)'],
    ['(a or b or c)', '(a or b or c)'],
    ['(a if b else c)', '(a if b else c)'],
    ['(a unless b)', null], // Requires refuses a top-level unless
    ['((a >= 1 with a < 2) without b)', '((a >= 1 with a < 2) without b)'],
    ['((a with b) or (c with d))', '((a with b) or (c with d))'],
    ['(a >= 1)', '(a >= 1)'],
    ['(perl(Foo) >= 1.0 and python3dist(x))', '(perl(Foo) >= 1.0 and python3dist(x))'],
    ['(a, b)', null],
  ])('parses %j', (text, normal) => {
    if (normal === null) {
      expect(() => parseRichDependency(text)).toThrow(KpkgError);
    } else {
      expect(formatDependencyExpr(parseRichDependency(text))).toBe(normal);
      expect(parseDependency(text)).toEqual({ name: normal, flags: 0, version: '' });
    }
  });

  it.each([
    ['(a and b or c)', /cannot chain different ops/],
    ['(a if b if c)', /can only chain and\/or\/with ops/],
    ['(a without b without c)', /can only chain/],
    ['(a foo b)', /unknown rich dependency op "foo"/],
    ['(a and b', /unterminated/],
    ['()', /empty rich dependency/],
    ['(a and )', /missing argument/],
    ['(a >= )', /version required/],
    ['((a and b) with c)', /illegal ops in with\/without/],
    ['(a or b) c', /text after/],
    ['(-a or b)', /must begin/],
    ['(/usr/bin/x >= 1 or b)', /file name cannot be versioned/],
  ])('refuses %j', (text, msg) => {
    expect(() => parseRichDependency(text)).toThrow(msg);
  });

  it('applies the context check of the tag: unless in Requires, if in Conflicts', () => {
    expect(() => parseRichDependency('(a unless b)', 'conflicts')).not.toThrow();
    expect(() => parseRichDependency('(a unless b)', 'requires')).toThrow(/illegal context for 'unless'/);
    expect(() => parseRichDependency('(a if b)', 'conflicts')).toThrow(/illegal context for 'if'/);
    expect(() => parseRichDependency('(a if b)', 'requires')).not.toThrow();
    expect(() => parseRichDependency('((a unless b) or c)', 'requires')).not.toThrow();
  });
});

/** A package that provides `name = evr`, plus the prerelease marker when `marker`. */
function pkg(name: string, evr: string, extra: Dependency[] = []): ProvidingPackage {
  return { provides: [{ name, flags: RPMSENSE_EQUAL, version: evr }, ...extra] };
}

describe('evaluation', () => {
  it('matches versions as rpm does (rpmverOverlap)', () => {
    const p = (evr: string) => ({ name: 'a', flags: RPMSENSE_EQUAL, version: evr });
    const r = (flags: number, evr: string) => ({ name: 'a', flags, version: evr });
    expect(provideMatches(p('1.0-1'), r(GE, '1.0'))).toBe(true); // release ignored when the dependency has none
    expect(provideMatches(p('1.0-1'), r(RPMSENSE_LESS, '1.0'))).toBe(false);
    expect(provideMatches(p('1.0-1'), r(LE, '1.0-0'))).toBe(false);
    expect(provideMatches(p('1.0-1'), r(RPMSENSE_EQUAL, '1.0-1'))).toBe(true);
    expect(provideMatches(p('1:1.0-1'), r(RPMSENSE_LESS, '2.0'))).toBe(false); // an epoch wins over a missing one
    expect(provideMatches(p('1:1.0-1'), r(RPMSENSE_LESS, '1:2.0'))).toBe(true);
    expect(provideMatches(p('0:1.0-1'), r(RPMSENSE_LESS, '2.0'))).toBe(true);
    expect(provideMatches(p('1.0~rc.1-1'), r(RPMSENSE_LESS, '1.0~~'))).toBe(false);
    expect(provideMatches(p('1.0~rc.1-1'), r(RPMSENSE_LESS, '1.0'))).toBe(true);
    expect(provideMatches(p('1.0-1'), { name: 'a', flags: 0, version: '' })).toBe(true);
    expect(provideMatches({ name: 'a', flags: 0, version: '' }, r(GE, '9'))).toBe(true); // unversioned provide
    expect(provideMatches(p('1.0-1'), { name: 'b', flags: 0, version: '' })).toBe(false);
    expect(evrOverlap({ version: '1' }, GE, { version: '2' }, LE)).toBe(true);
    expect(evrOverlap({ version: '3' }, GE, { version: '2' }, LE)).toBe(false);
  });

  it('evaluates rich operators over a set of packages', () => {
    const a1 = pkg('a', '1.5-1');
    const a3 = pkg('a', '3.0-1');
    const b = pkg('b', '1-1');
    const range = parseDependency('(a >= 1 with a < 2)');
    expect(dependencySatisfied(range, [a1])).toBe(true);
    expect(dependencySatisfied(range, [a3])).toBe(false);
    // `with` wants one package; `and` is happy with two
    const twoProviders = [pkg('a', '0.5-1'), a3];
    expect(dependencySatisfied(range, twoProviders)).toBe(false);
    expect(dependencySatisfied(parseDependency('(a >= 1 and a < 2)'), twoProviders)).toBe(true);
    expect(dependencySatisfied(parseDependency('(a or b)'), [b])).toBe(true);
    expect(dependencySatisfied(parseDependency('(a if b)'), [])).toBe(true);
    expect(dependencySatisfied(parseDependency('(a if b)'), [b])).toBe(false);
    expect(dependencySatisfied(parseDependency('(a if b else c)'), [pkg('c', '1')])).toBe(true);
    expect(dependencySatisfied(parseRichDependency('(a unless b)', 'conflicts'), [a1, b])).toBe(true);
    expect(dependencySatisfied(parseRichDependency('(a unless b else c)', 'conflicts'), [a1, b])).toBe(false);
    const marked = pkg('a', '1.5~rc.1-1', [{ name: 'semver-prerelease(a)', flags: 0, version: '' }]);
    expect(dependencySatisfied(parseDependency('(a without semver-prerelease(a))'), [marked])).toBe(false);
    expect(dependencySatisfied(parseDependency('(a without semver-prerelease(a))'), [marked, a1])).toBe(true);
    expect(dependencySatisfied(parseDependency('a >= 1'), [a1])).toBe(true);
    expect(formatDependencyExpr(dependencyExpr(parseDependency('a >= 1')))).toBe('a >= 1');
  });
});

describe('semverRangeToRpm', () => {
  const fmt = (range: string, options = {}) => semverRangeToRpm('lib', range, options).map(formatDependency).join(' ; ');

  it.each([
    ['*', 'lib'],
    ['', 'lib'],
    ['x', 'lib'],
    ['>=1.2.0', 'lib >= 1.2.0'],
    ['>1.2.3', 'lib > 1.2.3'],
    ['<1.0.0', 'lib < 1.0.0~~'],
    ['<=2.0.0', 'lib <= 2.0.0'],
    ['1.2.3', 'lib = 1.2.3'],
    ['=1.2.3', 'lib = 1.2.3'],
    ['v1.2.3', 'lib = 1.2.3'],
    ['1.2.3+build.7', 'lib = 1.2.3'],
    ['1.2.3-rc.1', 'lib = 1.2.3~rc.1'],
    ['^1.2.3', '(lib >= 1.2.3 with lib < 2.0.0~~)'],
    ['^0.2.3', '(lib >= 0.2.3 with lib < 0.3.0~~)'],
    ['^0.0.3', '(lib >= 0.0.3 with lib < 0.0.4~~)'],
    ['~1.2.3', '(lib >= 1.2.3 with lib < 1.3.0~~)'],
    ['~1.2', '(lib >= 1.2.0 with lib < 1.3.0~~)'],
    ['1.x', '(lib >= 1.0.0 with lib < 2.0.0~~)'],
    ['1.2.x', '(lib >= 1.2.0 with lib < 1.3.0~~)'],
    ['1', '(lib >= 1.0.0 with lib < 2.0.0~~)'],
    ['1.2.3 - 2.3.4', '(lib >= 1.2.3 with lib <= 2.3.4)'],
    ['1.2 - 2.3', '(lib >= 1.2.0 with lib < 2.4.0~~)'],
    ['>=1.2.0 <1.5.0', '(lib >= 1.2.0 with lib < 1.5.0~~)'],
    ['>=1.0.0 >=1.2.0 <3.0.0 <2.0.0', '(lib >= 1.2.0 with lib < 2.0.0~~)'],
    ['>=2.0.0-rc.1 <2.0.0', '(lib >= 2.0.0~rc.1 with lib < 2.0.0)'],
    ['^1.2.3-beta.2', '(lib >= 1.2.3~beta.2 with lib < 2.0.0~~)'],
    ['>=1.0.0-0', 'lib >= 1.0.0~~'],
    ['^1.2.3 || ^2.0.0', '((lib >= 1.2.3 with lib < 2.0.0~~) or (lib >= 2.0.0 with lib < 3.0.0~~))'],
    ['<1.0.0 || >=2.0.0', '(lib < 1.0.0~~ or lib >= 2.0.0)'],
    ['1.x || 1.x', '(lib >= 1.0.0 with lib < 2.0.0~~)'],
    ['>1.2.3 <1.2.4 || 2.0.0', 'lib = 2.0.0'], // the first set holds no version npm accepts
    ['* || 1.2.3', 'lib'],
  ])('%j -> %s', (range, expected) => {
    expect(fmt(range)).toBe(expected);
  });

  it.each([
    ['^1.2.3', '((lib >= 1.2.3 with lib < 2.0.0~~) without semver-prerelease(lib))'],
    ['*', '(lib without semver-prerelease(lib))'],
    ['1.2.3', 'lib = 1.2.3'],
    ['>=1.2.3 <1.2.4', '(lib >= 1.2.3 with lib < 1.2.4~~)'], // no prerelease inside: no marker
    ['>=2.0.0-rc.1 <2.0.0', '(lib >= 2.0.0~rc.1 with lib < 2.0.0)'],
    [
      '^1.2.3-beta.2',
      '(((lib >= 1.2.3~beta.2 with lib < 2.0.0~~) without semver-prerelease(lib)) or (lib >= 1.2.3~beta.2 with lib < 1.2.3))',
    ],
    ['<=2.0.0', '(lib <= 2.0.0 without semver-prerelease(lib))'],
  ])('exactPrereleases: %j -> %s', (range, expected) => {
    expect(fmt(range, { exactPrereleases: true })).toBe(expected);
  });

  it('writes an epoch on every bound when asked', () => {
    expect(fmt('^18.0.0', { epoch: 1 })).toBe('(lib >= 1:18.0.0 with lib < 1:19.0.0~~)');
    expect(fmt('1.2.3', { epoch: 0 })).toBe('lib = 0:1.2.3');
    const deps = semverRangeToRpm('lib', '^18.0.0', { epoch: 1 });
    expect(dependencySatisfied(deps[0]!, [pkg('lib', '1:18.19.1-1.el9')])).toBe(true);
    expect(dependencySatisfied(semverRangeToRpm('lib', '^18.0.0')[0]!, [pkg('lib', '1:18.19.1-1.el9')])).toBe(false);
    expect(() => fmt('1.2.3', { epoch: -1 })).toThrow(/epoch -1/);
  });

  it('writes only a single comparison where rich dependencies are not allowed', () => {
    expect(fmt('>=1.2.0', { rich: false })).toBe('lib >= 1.2.0');
    expect(fmt('<2.0.0', { rich: false, exactPrereleases: true })).toBe('lib < 2.0.0~~');
    expect(() => fmt('^1.2.0', { rich: false })).toThrow(/lib "\^1\.2\.0": needs the rich dependency \(lib >= 1\.2\.0 with lib < 2\.0\.0~~\)/);
  });

  it.each([
    ['lib', 'not-a-range', /lib "not-a-range": not a valid semver range/],
    ['lib', '>=1.2.3 <1.0.0', /lib ">=1\.2\.3 <1\.0\.0": the range matches no version/],
    ['lib', '<0.0.0', /matches no version/],
    ['lib', '1.0.0-9007199254740993', /lib "1\.0\.0-9007199254740993": .*above 2\^53-1/],
    ['bad name', '^1.0.0', /bad name "\^1\.0\.0": dependency name "bad name" contains " "/],
    ['/usr/bin/node', '>=1', /a file name cannot be versioned/],
  ])('refuses %s %j', (cap, range, msg) => {
    let err: unknown;
    try {
      semverRangeToRpm(cap, range);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KpkgError);
    expect((err as KpkgError).code).toBe('INVALID_INPUT');
    expect((err as Error).message).toMatch(msg);
  });

  it('keeps every dependency it writes valid for rpm, in Requires and in Conflicts', () => {
    fc.assert(
      fc.property(arbRange, fc.boolean(), (range, exact) => {
        let deps: Dependency[];
        try {
          deps = semverRangeToRpm('shop-lib', range, { exactPrereleases: exact });
        } catch (err) {
          expect((err as Error).message).toMatch(/matches no version/);
          return;
        }
        expect(deps).toHaveLength(1);
        for (const d of deps) {
          expect(() => validateDependency(d)).not.toThrow();
          if (d.name.startsWith('(')) {
            expect(() => parseRichDependency(d.name, 'conflicts')).not.toThrow();
            expect(formatDependencyExpr(parseRichDependency(d.name))).toBe(d.name); // normalised as rpmbuild stores it
          }
          expect(parseDependency(formatDependency(d))).toEqual(d);
        }
      }),
      { numRuns: 3000, seed: 5 },
    );
  });

  // The candidate: the package of `lib` at version v, as kpkg would build it (release 1), with the
  // prerelease marker when v is a prerelease and `marker` is set.
  const candidate = (v: string, marker: boolean): ProvidingPackage =>
    pkg(
      'lib',
      `${rpmVersionFromSemver(v)}-1`,
      marker && semver.prerelease(v) ? [{ name: prereleaseMarker('lib'), flags: 0, version: '' }] : [],
    );

  const rpmAccepts = (range: string, v: string, exact: boolean, marker = exact): boolean | 'none' => {
    let deps: Dependency[];
    try {
      deps = semverRangeToRpm('lib', range, { exactPrereleases: exact });
    } catch (err) {
      if (/matches no version/.test((err as Error).message)) return 'none';
      throw err;
    }
    return deps.every((d) => dependencySatisfied(d, [candidate(v, marker)]));
  };

  it('exactPrereleases: accepts exactly what npm accepts (property)', () => {
    fc.assert(
      fc.property(arbRange, arbCandidate, (range, v) => {
        const npm = semver.satisfies(v, range);
        const rpm = rpmAccepts(range, v, true);
        if (rpm === 'none') expect(npm).toBe(false);
        else expect(rpm).toBe(npm);
      }),
      { numRuns: 10000, seed: 1234 },
    );
  });

  it('exactPrereleases: accepts exactly what npm accepts, candidates near the bounds (property)', () => {
    // Candidates on the [major, minor, patch] of a comparator, where npm's prerelease rule bites.
    const arbPair = arbRange.chain((range) => {
      const tuples = new semver.Range(range).set.flat().filter((c) => c.value !== '').map((c) => `${c.semver.major}.${c.semver.minor}.${c.semver.patch}`);
      const base = tuples.length ? fc.constantFrom(...tuples) : arbVersion;
      const v = fc.tuple(base, arbPre).map(([t, pre]) => semver.parse(`${t}${pre ? `-${pre}` : ''}`)!.version);
      return fc.tuple(fc.constant(range), v);
    });
    let npmTookPrerelease = 0;
    fc.assert(
      fc.property(arbPair, ([range, v]) => {
        const npm = semver.satisfies(v, range);
        if (npm && semver.prerelease(v)) npmTookPrerelease++;
        const rpm = rpmAccepts(range, v, true);
        if (rpm === 'none') expect(npm).toBe(false);
        else expect(rpm).toBe(npm);
      }),
      { numRuns: 10000, seed: 555 },
    );
    expect(npmTookPrerelease).toBeGreaterThan(500); // the generator does reach the interesting cases
  });

  it('by default: releases exactly as npm, prereleases at least where npm takes them, only inside the bounds (property)', () => {
    fc.assert(
      fc.property(arbRange, arbCandidate, (range, v) => {
        const npm = semver.satisfies(v, range);
        const rpm = rpmAccepts(range, v, false);
        if (rpm === 'none') {
          expect(npm).toBe(false);
        } else if (!semver.prerelease(v)) {
          expect(rpm).toBe(npm);
        } else if (npm) {
          expect(rpm).toBe(true);
        } else if (rpm) {
          // what rpm adds is a prerelease that the same range would take with includePrerelease
          expect(semver.satisfies(v, range, { includePrerelease: true })).toBe(true);
        }
      }),
      { numRuns: 10000, seed: 4321 },
    );
  });

  it('exactPrereleases without the marker on packages: degrades to the default reading (property)', () => {
    fc.assert(
      fc.property(arbRange, arbCandidate, (range, v) => {
        expect(rpmAccepts(range, v, true, false)).toBe(rpmAccepts(range, v, false));
      }),
      { numRuns: 5000, seed: 99 },
    );
  });

  it('the examples of the brief', () => {
    // ^1.2.3 refuses 2.0.0-rc.1 and 1.3.0-beta in npm; rpm refuses the first, takes the second unless exact
    expect(semver.satisfies('2.0.0-rc.1', '^1.2.3')).toBe(false);
    expect(rpmAccepts('^1.2.3', '2.0.0-rc.1', false)).toBe(false);
    expect(semver.satisfies('1.3.0-beta', '^1.2.3')).toBe(false);
    expect(rpmAccepts('^1.2.3', '1.3.0-beta', false)).toBe(true);
    expect(rpmAccepts('^1.2.3', '1.3.0-beta', true)).toBe(false);
    expect(rpmAccepts('<2.0.0', '2.0.0-rc.1', false)).toBe(false);
    expect(rpmAccepts('>=1.2.3-rc.1 <2.0.0', '1.2.3-rc.2', false)).toBe(true);
    expect(rpmAccepts('>=1.2.3-rc.1 <2.0.0', '1.2.4-rc.1', true)).toBe(false);
  });
});

// Ranges as people write them, on a small grid of versions so that bounds and candidates meet.
const arbTuple = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }));
const arbPre = fc.option(fc.constantFrom('0', 'alpha', 'alpha.1', 'alpha.beta', 'beta.2', 'rc.1', 'rc.2', 'rc.10', 'rc1', 'x-y.1'), {
  nil: undefined,
});
const arbVersion = fc.tuple(arbTuple, arbPre).map(([[M, m, p], pre]) => `${M}.${m}.${p}${pre ? `-${pre}` : ''}`);
const arbCandidate = fc.oneof(arbVersion, fc.tuple(arbTuple, arbPre).map(([[M, m, p], pre]) => `${M}.${m}.${p + 1}${pre ? `-${pre}` : ''}`));
const arbPartial = fc.oneof(
  { weight: 4, arbitrary: arbVersion },
  { weight: 1, arbitrary: arbTuple.map(([M]) => `${M}`) },
  { weight: 1, arbitrary: arbTuple.map(([M, m]) => `${M}.${m}`) },
  { weight: 1, arbitrary: arbTuple.map(([M, m]) => `${M}.${m}.x`) },
  { weight: 1, arbitrary: arbTuple.map(([M]) => `${M}.x`) },
  { weight: 1, arbitrary: fc.constantFrom('*', 'x') },
);
const arbComparator = fc.tuple(fc.constantFrom('', '=', '>', '>=', '<', '<=', '^', '~'), arbPartial).map(([op, v]) => `${op}${v}`);
const arbSet = fc.oneof(
  { weight: 6, arbitrary: fc.array(arbComparator, { minLength: 1, maxLength: 3 }).map((cs) => cs.join(' ')) },
  { weight: 1, arbitrary: fc.tuple(arbPartial, arbPartial).map(([a, b]) => `${a} - ${b}`) }, // a hyphen range is a whole set
);
const arbRange = fc.array(arbSet, { minLength: 1, maxLength: 3 }).map((ss) => ss.join(' || '));

describe('semverRangeToRpm at the limits of node-semver', () => {
  it('reports a bound it cannot step past as bad input, not a crash', () => {
    const max = Number.MAX_SAFE_INTEGER;
    // `>M.m.p` needs the release after it, which node-semver cannot represent
    expect(() => semverRangeToRpm('lib', `>${max}.${max}.${max}`)).toThrow(KpkgError);
    expect(() => semverRangeToRpm('lib', `>${max}.${max}.${max}`)).toThrow(/^lib ">9007199254740991\.9007199254740991\.9007199254740991": /);
    expect(formatDependency(semverRangeToRpm('lib', `>=${max}.${max}.${max}`)[0]!)).toBe(`lib >= ${max}.${max}.${max}`);
  });
});
