/**
 * RPM versions: rpm's comparison (rpmvercmp) and [epoch:]version[-release] values. The mapping from
 * semver versions lives on the build side (assemble/semver-version.ts), so this module needs no
 * semver.
 *
 * How rpmvercmp orders (rpm 4.18 rpmio/rpmvercmp.c, as ported below). It reads a version as a
 * sequence of tokens and compares the sequences lexicographically:
 *   - a maximal run of ASCII digits is a number token, a maximal run of ASCII letters an alpha
 *     token; every other character (`.`, `_`, `+`, non-ASCII...) only separates tokens;
 *   - `~` and `^` are tokens of their own;
 *   - order of tokens: `~` < end of string < `^` < alpha < number; alphas by strcmp (so `A` < `a`
 *     and a proper prefix sorts first), numbers by value (leading zeros ignored, any length).
 */
import { KpkgError } from '../errors.js';
import { RPMSENSE_EQUAL, RPMSENSE_GREATER, RPMSENSE_LESS } from './sense.js';

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

/**
 * Whether two version ranges overlap, as rpm decides (rpmio/rpmver.c rpmverOverlap): a missing
 * epoch matches any epoch 0, a missing release on one side makes releases irrelevant.
 */
export function evrOverlap(a: EVR, aFlags: number, b: EVR, bFlags: number): boolean {
  let sense = 0;
  if (a.epoch !== undefined && b.epoch !== undefined) sense = Math.sign(a.epoch - b.epoch);
  else if (a.epoch !== undefined && a.epoch > 0) sense = 1;
  else if (b.epoch !== undefined && b.epoch > 0) sense = -1;

  if (sense === 0) {
    sense = rpmvercmp(a.version, b.version);
    if (sense === 0) {
      const ar = a.release !== undefined && a.release !== '';
      const br = b.release !== undefined && b.release !== '';
      if (ar && br) {
        sense = rpmvercmp(a.release ?? '', b.release ?? '');
      } else if ((ar && bFlags & RPMSENSE_EQUAL) || (br && aFlags & RPMSENSE_EQUAL)) {
        // The side with no release and EQUAL matches every release.
        return true;
      }
    }
  }
  if (sense < 0) return (aFlags & RPMSENSE_GREATER) !== 0 || (bFlags & RPMSENSE_LESS) !== 0;
  if (sense > 0) return (aFlags & RPMSENSE_LESS) !== 0 || (bFlags & RPMSENSE_GREATER) !== 0;
  return (
    (aFlags & bFlags & RPMSENSE_EQUAL) !== 0 || (aFlags & bFlags & RPMSENSE_LESS) !== 0 || (aFlags & bFlags & RPMSENSE_GREATER) !== 0
  );
}
