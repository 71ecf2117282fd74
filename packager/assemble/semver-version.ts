/**
 * The mapping from a semver version to an RPM version that sorts, under rpmvercmp (rpm/version.ts),
 * exactly as semver sorts, and back.
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
 * keeping the common shapes as they are (docs/architecture.md, the descriptor: `1.3.0-rc.2` -> `1.3.0~rc.2`):
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

/** Marks a later alphanumeric identifier: a number above every numeric identifier node-semver compares exactly (2^53-1). */
const LATER_ALPHANUMERIC_MARK = '9999999999999999';
/** Marks a numeric first identifier: an alpha token below every letter code. */
const FIRST_NUMERIC_MARK = 'A';

const ESCAPE_OF: Record<string, string> = { '-': 'AA', A: 'AL' };
for (let d = 0; d <= 9; d++) ESCAPE_OF[String(d)] = `A${String.fromCharCode(0x42 + d)}`; // 0 -> AB ... 9 -> AK
const UNESCAPE_OF: Record<string, string> = Object.fromEntries(Object.entries(ESCAPE_OF).map(([k, v]): [string, string] => [v.charAt(1), k]));

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
