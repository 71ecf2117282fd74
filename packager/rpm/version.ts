/**
 * RPM versions: rpm's comparison (rpmvercmp), [epoch:]version[-release] values, and the mapping
 * from a semver version to an RPM version that sorts, under rpmvercmp, exactly as semver sorts.
 *
 * How rpmvercmp orders (rpm 4.18 rpmio/rpmvercmp.c, as ported below). It reads a version as a
 * sequence of tokens and compares the sequences lexicographically:
 *   - a maximal run of ASCII digits is a number token, a maximal run of ASCII letters an alpha
 *     token; every other character (`.`, `_`, `+`, non-ASCII...) only separates tokens;
 *   - `~` and `^` are tokens of their own;
 *   - order of tokens: `~` < end of string < `^` < alpha < number; alphas by strcmp (so `A` < `a`
 *     and a proper prefix sorts first), numbers by value (leading zeros ignored, any length).
 *
 * How semver orders (semver.org 11, node-semver 7): MAJOR.MINOR.PATCH numerically, then a version
 * with a prerelease before the same version without; prereleases compare identifier by identifier:
 * numeric identifiers by value, alphanumeric ones by ASCII order, numeric < alphanumeric, and a
 * list that is a prefix of another sorts first. Build metadata (`+build.5`) has no precedence.
 *
 * Why the prerelease cannot simply be copied after a `~`: `1.0.0-alpha.1` < `1.0.0-alpha.beta` in
 * semver, but rpm puts a number token after an alpha one (`1.0.0~alpha.1` > `1.0.0~alpha.beta`);
 * `rc10` < `rc9` in semver (ASCII), the reverse in rpm (numbers); `a-b` cannot be written at all
 * (`-` separates the release in an RPM EVR). So the prerelease is encoded identifier by identifier,
 * keeping the common shapes as they are (DESIGN.md: `1.3.0-rc.2` -> `1.3.0~rc.2`):
 *
 *   MAJOR.MINOR.PATCH                 unchanged
 *   -pre                              `~` then the identifiers joined with `.`:
 *   first identifier, alphanumeric    letter code of it (letters other than `A` stay as they are)
 *   first identifier, numeric N       `A` N                                (`0.0.0-0` -> `0.0.0~A0`)
 *   later identifier, numeric N       N                                    (`rc.2` -> `rc.2`)
 *   later identifier, alphanumeric    9999999999999999 then its letter code (`alpha.beta` ->
 *                                                               `alpha.9999999999999999beta`)
 *   +build                            dropped (it has no precedence in semver)
 *
 * The letter code of an alphanumeric identifier spells it in letters only, so rpm sees one alpha
 * token and compares it with strcmp, in the same order as semver's ASCII comparison: `B`-`Z` and
 * `a`-`z` stand for themselves; `A` is the escape: `-` -> `AA`, `0`-`9` -> `AB`-`AK`, `A` -> `AL`
 * (so `rc1` -> `rcAC`, `beta-2` -> `betaAAAD`). The codes are prefix-free and ordered like ASCII
 * (`-` < digits < `A` < `B`...), hence strcmp of codes = ASCII order of identifiers.
 *
 * Why this keeps semver's order for every pair of versions: the images of two versions are
 * compared token by token; identifiers line up (each is separated by `.`, and no identifier's
 * tokens are a proper prefix of another's at the same position), and at the first identifier that
 * differs:
 *   - first position: a numeric one is [alpha `A`, number N], an alphanumeric one a single alpha
 *     token that is never `A` itself, so strcmp puts `A` first (numeric < alphanumeric), numbers
 *     compare by value, codes in ASCII order;
 *   - later positions: a numeric one is the number N <= 2^53-1, an alphanumeric one starts with
 *     the number 9999999999999999 > 2^53-1, so numeric < alphanumeric again;
 *   - a list that ends first meets the end of string, which rpm puts before any alpha or number
 *     token: shorter prefix first, as in semver;
 *   - a prerelease `X.Y.Z~...` sorts before `X.Y.Z` (`~` < end) and after every lower X.Y.Z.
 * The property tests check this against node-semver, the system test against rpm itself.
 *
 * The one refusal: numeric prerelease identifiers above 2^53-1. node-semver compares them as
 * floating-point numbers (9007199254740993 equals 9007199254740992 to it), so its order is not an
 * order on distinct versions there, and no mapping can reproduce it.
 *
 * Size: rpm sets no limit on a version's length; the image is at most about 17 times as long as
 * the prerelease (node-semver accepts 256 characters in all), but a package file name
 * `name-version-release.arch.rpm` must still fit the 255 bytes of a file name.
 */
import parseSemver from 'semver/functions/parse.js';
import { KpkgError } from '../errors.js';

/** rpm's answer: -1 when a is older than b, 0 when equal, 1 when newer. */
export type Ordering = -1 | 0 | 1;

const CH_TILDE = 0x7e;
const CH_CARET = 0x5e;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/**
 * rpm's rpmvercmp (rpm 4.18 rpmio/rpmvercmp.c), including `~` (sorts before everything, even the
 * end of the string) and `^` (after the end of the string, before anything else). Written from the
 * algorithm; only ASCII letters and digits count as such, as with rpm's risalnum.
 */
export function rpmvercmp(a: string, b: string): Ordering {
  // C strings: rpm never sees past a NUL.
  const nulA = a.indexOf('\0');
  const nulB = b.indexOf('\0');
  if (nulA >= 0) a = a.slice(0, nulA);
  if (nulB >= 0) b = b.slice(0, nulB);
  if (a === b) return 0;

  const at = (s: string, i: number): number => (i < s.length ? s.charCodeAt(i) : -1);
  const isSep = (c: number): boolean => c !== -1 && !isDigit(c) && !isAlpha(c) && c !== CH_TILDE && c !== CH_CARET;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (isSep(at(a, i))) i++;
    while (isSep(at(b, j))) j++;
    const ca = at(a, i);
    const cb = at(b, j);

    if (ca === CH_TILDE || cb === CH_TILDE) {
      if (ca !== CH_TILDE) return 1;
      if (cb !== CH_TILDE) return -1;
      i++;
      j++;
      continue;
    }
    if (ca === CH_CARET || cb === CH_CARET) {
      if (ca === -1) return -1;
      if (cb === -1) return 1;
      if (ca !== CH_CARET) return 1;
      if (cb !== CH_CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (ca === -1 || cb === -1) break;

    // The type of the segment is decided by a's character; b's segment of that type may be empty.
    const numeric = isDigit(ca);
    const inSegment = numeric ? isDigit : isAlpha;
    let ei = i;
    let ej = j;
    while (ei < a.length && inSegment(a.charCodeAt(ei))) ei++;
    while (ej < b.length && inSegment(b.charCodeAt(ej))) ej++;
    // Different types: a number is newer than letters.
    if (ej === j) return numeric ? 1 : -1;

    let sa = a.slice(i, ei);
    let sb = b.slice(j, ej);
    if (numeric) {
      sa = sa.replace(/^0+/, '');
      sb = sb.replace(/^0+/, '');
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    if (sa !== sb) return sa < sb ? -1 : 1;
    i = ei;
    j = ej;
  }
  // All segments equal: trailing separators do not count, anything else left over wins.
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** An RPM [epoch:]version[-release]. A missing epoch is 0 for ordering; a missing release is not compared in dependencies. */
export interface EVR {
  epoch?: number;
  version: string;
  release?: string;
}

/**
 * Splits `[epoch:]version[-release]` as rpm does (rpmio/rpmver.c parseEVR): leading digits then
 * `:` make the epoch (an empty one is 0); the release follows the last `-`.
 */
export function parseEVR(evr: string): EVR {
  let rest = evr;
  let epoch: number | undefined;
  const m = /^(\d*):/.exec(rest);
  if (m) {
    epoch = m[1] === '' ? 0 : Number(m[1]);
    rest = rest.slice(m[0].length);
  }
  const dash = rest.lastIndexOf('-');
  const out: EVR = { version: dash >= 0 ? rest.slice(0, dash) : rest };
  if (epoch !== undefined) out.epoch = epoch;
  if (dash >= 0) out.release = rest.slice(dash + 1);
  return out;
}

/** The textual `[epoch:]version[-release]`. */
export function formatEVR(evr: EVR): string {
  return `${evr.epoch !== undefined ? `${evr.epoch}:` : ''}${evr.version}${evr.release !== undefined ? `-${evr.release}` : ''}`;
}

/**
 * Orders two packages' EVRs as rpm does (rpmio/rpmver.c rpmverCmp): epoch (missing = 0), then
 * version, then release, each with rpmvercmp; a missing release sorts before any release.
 */
export function compareEVR(a: EVR, b: EVR): Ordering {
  const ea = a.epoch ?? 0;
  const eb = b.epoch ?? 0;
  if (ea !== eb) return ea < eb ? -1 : 1;
  const v = rpmvercmp(a.version, b.version);
  if (v !== 0) return v;
  if (a.release === undefined || b.release === undefined) {
    if (a.release === b.release) return 0;
    return a.release === undefined ? -1 : 1;
  }
  return rpmvercmp(a.release, b.release);
}

/** Characters rpmbuild accepts in Version and Release (build/rpmbuild_internal.h ALLOWED_CHARS_VERREL without the macro characters % { }). */
const VERREL_RE = /^[A-Za-z0-9._+~^]+$/;

/**
 * Checks a Version or Release value as rpmbuild does (build/parsePreamble.c rpmCharCheck): ASCII
 * letters, digits and `. _ + ~ ^` only (so no `-`, which separates the release), and no `..`.
 * The macro characters `% { }` that rpmbuild tolerates are refused: in a spec they would be
 * expanded, in a header they would only confuse.
 */
export function assertRpmVersion(value: string, what = 'version'): void {
  if (value === '') throw new KpkgError('INVALID_INPUT', `${what} is empty`);
  if (!VERREL_RE.test(value)) {
    const bad = [...value].find((c) => !/[A-Za-z0-9._+~^]/.test(c)) ?? '';
    throw new KpkgError(
      'INVALID_INPUT',
      `${what} ${JSON.stringify(value)} contains ${JSON.stringify(bad)}: an RPM version or release may only contain ASCII letters, digits and . _ + ~ ^`,
    );
  }
  if (value.includes('..')) throw new KpkgError('INVALID_INPUT', `${what} ${JSON.stringify(value)} contains "..", which rpm refuses`);
}

/** Marks a later alphanumeric identifier: a number above every numeric identifier node-semver compares exactly (2^53-1). */
const LATER_ALPHANUMERIC_MARK = '9999999999999999';
/** Marks a numeric first identifier: an alpha token below every letter code. */
const FIRST_NUMERIC_MARK = 'A';

const ESCAPE_OF: Record<string, string> = { '-': 'AA', A: 'AL' };
for (let d = 0; d <= 9; d++) ESCAPE_OF[String(d)] = `A${String.fromCharCode(0x42 + d)}`; // 0 -> AB ... 9 -> AK
const UNESCAPE_OF: Record<string, string> = Object.fromEntries(Object.entries(ESCAPE_OF).map(([k, v]) => [v[1], k]));

/** Spells an alphanumeric identifier in letters, in an order-preserving prefix-free code. */
function letterCode(id: string): string {
  let out = '';
  for (const c of id) out += ESCAPE_OF[c] ?? c;
  return out;
}

function decodeLetterCode(code: string, where: string): string {
  let out = '';
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (c !== 'A') {
      out += c;
      continue;
    }
    const orig = UNESCAPE_OF[code[i + 1] ?? ''];
    if (orig === undefined) throw notAnImage(where, `"A" must be followed by one of A-L in ${JSON.stringify(code)}`);
    out += orig;
    i++;
  }
  return out;
}

function notAnImage(rpmVersion: string, why: string): KpkgError {
  return new KpkgError('INVALID_INPUT', `RPM version ${JSON.stringify(rpmVersion)} is not the image of a semver version: ${why}`);
}

const NUMERIC_ID = /^(0|[1-9][0-9]*)$/;

/**
 * The RPM version for a semver version: `1.3.0` -> `1.3.0`, `1.3.0-rc.2` -> `1.3.0~rc.2`,
 * `1.0.0-alpha.beta` -> `1.0.0~alpha.9999999999999999beta`, `1.0.0+build.5` -> `1.0.0`. rpmvercmp
 * orders the results exactly as semver.compare orders the inputs (see the comment at the top of
 * this file). Accepts what `semver.parse` accepts (strict), e.g. a leading `v`.
 */
export function rpmVersionFromSemver(v: string): string {
  const parsed = typeof v === 'string' ? parseSemver(v) : null;
  if (parsed === null) {
    throw new KpkgError(
      'INVALID_INPUT',
      `${JSON.stringify(v)} is not a semver version (expected MAJOR.MINOR.PATCH[-prerelease][+build], e.g. 1.3.0 or 1.3.0-rc.2)`,
    );
  }
  const base = `${parsed.major}.${parsed.minor}.${parsed.patch}`;
  if (parsed.prerelease.length === 0) return base;
  const ids = parsed.prerelease.map((id, index) => {
    const s = String(id);
    if (NUMERIC_ID.test(s)) {
      if (!Number.isSafeInteger(Number(s))) {
        throw new KpkgError(
          'INVALID_INPUT',
          `version ${JSON.stringify(v)}: numeric prerelease identifier ${s} is above 2^53-1; node-semver compares such identifiers as imprecise floating-point numbers, so no RPM version can keep its order`,
        );
      }
      return index === 0 ? `${FIRST_NUMERIC_MARK}${s}` : s;
    }
    return index === 0 ? letterCode(s) : `${LATER_ALPHANUMERIC_MARK}${letterCode(s)}`;
  });
  return `${base}~${ids.join('.')}`;
}

/**
 * The semver version an RPM version made by rpmVersionFromSemver stands for (without build
 * metadata, which the mapping drops). Throws for an RPM version that is not such an image.
 */
export function semverFromRpmVersion(rpmVersion: string): string {
  const m = /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:~(.+))?$/.exec(rpmVersion);
  if (!m) throw notAnImage(rpmVersion, 'expected MAJOR.MINOR.PATCH[~prerelease]');
  const base = `${m[1]}.${m[2]}.${m[3]}`;
  if (m[4] === undefined) return base;
  const ids = m[4].split('.').map((part, index) => {
    if (index === 0) {
      const num = /^A(0|[1-9][0-9]*)$/.exec(part);
      if (num) return num[1]!;
      if (!/^[A-Za-z]+$/.test(part)) throw notAnImage(rpmVersion, `first prerelease part ${JSON.stringify(part)} is neither A<number> nor letters`);
      return decodeLetterCode(part, rpmVersion);
    }
    if (NUMERIC_ID.test(part)) return part;
    if (part.startsWith(LATER_ALPHANUMERIC_MARK) && /^[A-Za-z]+$/.test(part.slice(LATER_ALPHANUMERIC_MARK.length))) {
      return decodeLetterCode(part.slice(LATER_ALPHANUMERIC_MARK.length), rpmVersion);
    }
    throw notAnImage(rpmVersion, `prerelease part ${JSON.stringify(part)} is neither a number nor ${LATER_ALPHANUMERIC_MARK}<letters>`);
  });
  const out = `${base}-${ids.join('.')}`;
  const check = parseSemver(out);
  if (check === null || rpmVersionFromSemver(out) !== rpmVersion) throw notAnImage(rpmVersion, `it would stand for ${JSON.stringify(out)}, which maps back differently`);
  return out;
}
