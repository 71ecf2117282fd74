/**
 * npm semver ranges as RPM dependencies: the descriptor's `{ capability: range }` becomes
 * dependencies that accept exactly the versions npm accepts (rpm/version.ts maps the versions).
 */
import semver from 'semver';
import { KpkgError } from '../errors.js';
import { dependencyFromExpr, formatDependencyExpr, invalid, richGroup, simpleDep, validateDependencyName, type Dependency, type DependencyExpr } from '../rpm/dependency.js';
import { RPMSENSE_EQUAL, RPMSENSE_GREATER, RPMSENSE_LESS } from '../rpm/sense.js';
import { rpmVersionFromSemver } from './semver-version.js';

/**
 * The capability by which a package says "my version of `capability` is a semver prerelease".
 * semverRangeToRpm's exact translation relies on it: a package that provides `capability` at a
 * prerelease version should also provide this (unversioned). Packages without it are taken for
 * releases, so without the marker the translation degrades to the in-range reading (see
 * semverRangeToRpm).
 */
export function prereleaseMarker(capability: string): string {
  return `semver-prerelease(${capability})`;
}

export interface RangeOptions {
  /**
   * false (default): releases exactly as npm; every prerelease inside the bounds is accepted too
   * (see semverRangeToRpm). true: exactly what npm accepts, relying on prereleaseMarker:
   * prereleases are excluded with `without <marker>` and readmitted only on the
   * [major, minor, patch] of a comparator that names a prerelease.
   */
  exactPrereleases?: boolean;
  /** false for Provides and Obsoletes, which take no rich dependency: only a single comparison can be written there. Default true. */
  rich?: boolean;
  /** Written before every bound (`2:1.2.3`), for a capability whose providers carry that epoch. Default: none. */
  epoch?: number;
}

type Bound = { v: semver.SemVer; inclusive: boolean };
/** Absent or undefined, a bound is open: no lower (upper) limit. */
type Interval = { lo?: Bound | undefined; hi?: Bound | undefined };

function tupleKey(v: semver.SemVer): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

function sv(text: string): semver.SemVer {
  return new semver.SemVer(text);
}

/** The higher of two lower bounds (at equal versions, the exclusive one). */
function maxLo(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (!a) return b;
  if (!b) return a;
  const c = semver.compare(a.v, b.v);
  if (c !== 0) return c > 0 ? a : b;
  return a.inclusive ? b : a;
}

/** The lower of two upper bounds (at equal versions, the exclusive one). */
function minHi(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (!a) return b;
  if (!b) return a;
  const c = semver.compare(a.v, b.v);
  if (c !== 0) return c < 0 ? a : b;
  return a.inclusive ? b : a;
}

/** Whether some version lies between the bounds, as far as the order goes (semver is not dense: `(1.0.0-a, 1.0.0-a.0)` is empty but passes). */
function nonEmpty({ lo, hi }: Interval): boolean {
  if (!lo || !hi) return true;
  const c = semver.compare(lo.v, hi.v);
  return c < 0 || (c === 0 && lo.inclusive && hi.inclusive);
}

function below(v: semver.SemVer, hi: Bound | undefined): boolean {
  if (!hi) return true;
  const c = semver.compare(v, hi.v);
  return c < 0 || (c === 0 && hi.inclusive);
}

/** Whether a release version lies in the interval. */
function holdsRelease({ lo, hi }: Interval): boolean {
  let first: semver.SemVer;
  if (!lo) first = sv('0.0.0');
  else if (lo.v.prerelease.length > 0) first = sv(tupleKey(lo.v));
  else first = lo.inclusive ? lo.v : sv(`${lo.v.major}.${lo.v.minor}.${lo.v.patch + 1}`);
  return below(first, hi);
}

/**
 * Whether the interval may hold a prerelease whose [major, minor, patch] is not in `allowed`
 * (conservative: true when unsure). The tuples are visited in order from the lowest whose
 * prereleases can lie above the lower bound; all allowed ones are skipped, so this ends.
 */
function holdsUnallowedPrerelease({ lo, hi }: Interval, allowed: ReadonlySet<string>): boolean {
  const [M, m, p0] = !lo ? [0, 0, 0] : [lo.v.major, lo.v.minor, lo.v.patch + (lo.v.prerelease.length > 0 ? 0 : 1)];
  let p = p0;
  for (;;) {
    const key = `${M}.${m}.${p}`;
    const lowest = lo && lo.v.prerelease.length > 0 && tupleKey(lo.v) === key ? lo.v : sv(`${key}-0`);
    if (!below(lowest, hi)) return false;
    if (!allowed.has(key)) return true;
    p++;
  }
}

/** A bound's RPM version; `X.Y.Z-0`, the lowest prerelease, reads better as `X.Y.Z~~` (equivalent: no image lies between). */
function rpmBound(b: Bound, lower: boolean, epoch: string): string {
  const pre = b.v.prerelease;
  if (pre.length === 1 && String(pre[0]) === '0' && b.inclusive === lower) return `${epoch}${tupleKey(b.v)}~~`;
  return `${epoch}${rpmVersionFromSemver(b.v.version)}`;
}

interface Translation {
  cap: string;
  exact: boolean;
  /** `E:` or `""`. */
  epoch: string;
}

function intervalExpr(t: Translation, { lo, hi }: Interval): DependencyExpr {
  if (lo && hi && lo.inclusive && hi.inclusive && semver.eq(lo.v, hi.v)) return simpleDep(t.cap, RPMSENSE_EQUAL, `${t.epoch}${rpmVersionFromSemver(lo.v.version)}`);
  const lower = lo && simpleDep(t.cap, RPMSENSE_GREATER | (lo.inclusive ? RPMSENSE_EQUAL : 0), rpmBound(lo, true, t.epoch));
  const upper = hi && simpleDep(t.cap, RPMSENSE_LESS | (hi.inclusive ? RPMSENSE_EQUAL : 0), rpmBound(hi, false, t.epoch));
  if (lower && upper) return richGroup('with', [lower, upper]);
  return lower ?? upper ?? simpleDep(t.cap);
}

/** One comparator set of node-semver (an AND of comparators) as an expression, undefined when npm accepts nothing in it. */
function comparatorSetExpr(t: Translation, set: readonly semver.Comparator[]): DependencyExpr | undefined {
  let iv: Interval = {};
  // node-semver (includePrerelease: false) accepts a prerelease only on the [major, minor, patch]
  // of a comparator of the set that names a prerelease (classes/range.js testSet).
  const allowed = new Map<string, semver.SemVer>();
  for (const c of set) {
    if (c.value === '') continue; // ANY
    const v = c.semver;
    if (v.prerelease.length > 0) allowed.set(tupleKey(v), v);
    const op = c.operator;
    if (op === '' || op === '=' || op === '>=' || op === '>') iv.lo = maxLo(iv.lo, { v, inclusive: op !== '>' });
    if (op === '' || op === '=' || op === '<=' || op === '<') iv.hi = minHi(iv.hi, { v, inclusive: op !== '<' });
  }
  // `< X.Y.Z`: npm refuses X.Y.Z's prereleases (unless allowed), which rpm would sort below X.Y.Z.
  if (iv.hi && !iv.hi.inclusive && iv.hi.v.prerelease.length === 0 && !allowed.has(tupleKey(iv.hi.v))) {
    iv = { ...iv, hi: { v: sv(`${tupleKey(iv.hi.v)}-0`), inclusive: false } };
  }
  const allowedSorted = [...allowed.values()].sort(semver.compare);
  const bands = allowedSorted
    .map((t): Interval => ({
      lo: maxLo(iv.lo, { v: sv(`${tupleKey(t)}-0`), inclusive: true }),
      hi: minHi(iv.hi, { v: sv(tupleKey(t)), inclusive: false }),
    }))
    .filter(nonEmpty);
  const releases = nonEmpty(iv) && holdsRelease(iv);
  if (!releases && bands.length === 0) return undefined;

  if (!t.exact || !holdsUnallowedPrerelease(iv, new Set(allowed.keys()))) return intervalExpr(t, iv);
  const parts: DependencyExpr[] = [];
  if (releases) parts.push(richGroup('without', [intervalExpr(t, iv), simpleDep(prereleaseMarker(t.cap))]));
  for (const band of bands) parts.push(intervalExpr(t, band));
  return parts.length === 1 ? parts[0] : richGroup('or', parts);
}

/**
 * Translates an npm semver range for `capability` into RPM dependencies that accept the versions
 * npm accepts (`semver.satisfies`, includePrerelease false), compared on the RPM versions made by
 * rpmVersionFromSemver. The range is read by node-semver itself (`new semver.Range`): each
 * comparator set (an AND) becomes an interval, `||` an `or`. The result holds one dependency:
 *
 *   `*`, `x`, `""`                 capability                         (unversioned)
 *   `>=1.2.0`, `=1.2.0`, `<1.0.0`   capability >= 1.2.0, = 1.2.0, < 1.0.0~~
 *   `^1.2.3` (>=1.2.3 <2.0.0-0)    (capability >= 1.2.3 with capability < 2.0.0~~)
 *   `^1.2.3 || >=3`                ((capability >= 1.2.3 with capability < 2.0.0~~) or capability >= 3.0.0)
 *
 * `with` makes one package satisfy both ends (two separate Requires could be met by two
 * packages). A comparator set that npm satisfies with no version is dropped; a range that
 * satisfies none is refused.
 *
 * Upper bounds: npm's `<2.0.0` and the `<2.0.0-0` of `^1.2.3` refuse 2.0.0's prereleases, which
 * rpm sorts below 2.0.0 (`2.0.0~rc.1`); the bound `< 2.0.0~~` refuses them too (`~~` sorts below
 * every `~` suffix our images have, above every lower version). A set that names a prerelease of
 * its upper bound (`>=2.0.0-rc.1 <2.0.0`) keeps `< 2.0.0`. Bounds on `X.Y.Z-0` are written
 * `X.Y.Z~~` (equivalent: no image lies between).
 *
 * Prereleases inside the bounds, what comparisons cannot say: npm accepts a prerelease only if a
 * comparator of the same set names a prerelease on the same [major, minor, patch]: `^1.2.3` refuses
 * `1.3.0-beta`; `>=1.2.3-rc.1 <2.0.0` accepts `1.2.3-rc.2` but not `1.2.4-rc.1`; `*` refuses every
 * prerelease. rpm comparisons only cut the version line into intervals, and such a range has
 * infinitely many holes (one per [major, minor, patch] inside it), so:
 *   - by default the dependency accepts every prerelease inside the bounds, besides the releases
 *     (which are exact): `1.3.0~beta` for `^1.2.3`, `2.0.0~rc.1` for `<=2.0.0` or `1.0.0 - 2.0.0`
 *     (an inclusive upper release), any prerelease for `*` or `>=1.0.0`. dnf takes the highest
 *     version that satisfies, so a repository that holds prereleases above the newest release
 *     would serve them: keep prereleases in their own repository, or use exactPrereleases;
 *   - with exactPrereleases, prereleases are excluded by a capability that prerelease packages
 *     provide (prereleaseMarker) and the allowed ones readmitted, which is exactly npm's set for
 *     packages that follow that convention (a package without the marker counts as a release):
 *       `^1.2.3` -> ((capability >= 1.2.3 with capability < 2.0.0~~) without semver-prerelease(capability))
 *     It needs rich dependencies, so `rich: false` (Provides, Obsoletes) reads ranges the default way.
 *
 * Epochs: a bound without epoch is older than any provider with an epoch above 0 (rpm and libsolv
 * alike), so `< 2.0.0~~` is never met by `1:1.5.0`; pass `epoch` for such a capability.
 *
 * Throws a KpkgError (INVALID_INPUT) naming the capability and the range when the range does not
 * parse, matches no version, names a version rpmVersionFromSemver refuses, or (rich false) needs
 * a rich dependency.
 */
export function semverRangeToRpm(capability: string, range: string, options: RangeOptions = {}): Dependency[] {
  const rich = options.rich ?? true;
  const exact = rich && (options.exactPrereleases ?? false);
  const where = `${capability} ${JSON.stringify(range)}`;
  try {
    validateDependencyName(capability);
  } catch (err) {
    throw new KpkgError('INVALID_INPUT', `${where}: ${(err as Error).message}`, { cause: err });
  }
  if (capability.startsWith('/')) throw invalid(`${where}: a file name cannot be versioned`);
  const e = options.epoch;
  if (e !== undefined && (!Number.isInteger(e) || e < 0 || e > 0xffffffff)) throw invalid(`${where}: epoch ${e} is not an integer from 0 to 4294967295`);
  const epoch = e === undefined ? '' : `${e}:`;
  if (typeof range !== 'string') throw invalid(`${capability}: the semver range must be a string, not ${JSON.stringify(range)}`);

  let parsed: semver.Range;
  try {
    parsed = new semver.Range(range);
  } catch (err) {
    throw new KpkgError('INVALID_INPUT', `${where}: not a valid semver range (${(err as Error).message})`, { cause: err });
  }

  const parts: DependencyExpr[] = [];
  const seen = new Set<string>();
  try {
    for (const set of parsed.set) {
      const expr = comparatorSetExpr({ cap: capability, exact, epoch }, set);
      if (!expr) continue;
      for (const e of expr.kind === 'group' && expr.op === 'or' ? expr.operands : [expr]) {
        const text = formatDependencyExpr(e);
        if (!seen.has(text)) {
          seen.add(text);
          parts.push(e);
        }
      }
    }
  } catch (err) {
    // node-semver refuses to build a version past 2^53-1 (a bound next to such a version).
    throw new KpkgError('INVALID_INPUT', `${where}: ${(err as Error).message}`, { cause: err });
  }
  if (parts.length === 0) throw invalid(`${where}: the range matches no version`);
  const expr = parts.length === 1 ? parts[0]! : richGroup('or', parts);
  if (!rich && expr.kind !== 'simple') {
    throw invalid(`${where}: needs the rich dependency ${formatDependencyExpr(expr)}, and this tag takes only a single comparison`);
  }
  return [dependencyFromExpr(expr)];
}
