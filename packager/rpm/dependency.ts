/**
 * RPM dependencies: the sense flags, the textual forms (`name >= 1.2`, rich `(a >= 1 with a < 2)`),
 * their validation, a small evaluator (which packages satisfy a dependency, as rpm decides), and
 * the translation of npm semver ranges into dependencies that accept what npm accepts.
 *
 * How rpm stores them (rpm 4.18 build/parseReqs.c, build/reqprov.c): a plain dependency is three
 * parallel header entries, name, flags and EVR (`""` when unversioned). A rich dependency is stored
 * whole, normalised, as the name, with an empty EVR and no sense bits in its flags (only the
 * context bits, e.g. none for a plain Requires); rpmbuild then adds
 * `rpmlib(RichDependencies) <= 4.12.0-1` (build/pack.c). Rich dependencies are allowed in
 * Requires, Recommends, Suggests, Supplements, Enhances and Conflicts, not in Provides or
 * Obsoletes.
 */
import semver from 'semver';
import { KpkgError } from '../errors.js';
import { type EVR, parseEVR, rpmVersionFromSemver, rpmvercmp } from './version.js';

// the sense flags live in sense.ts (no semver there: the repository code reads them)
export * from './sense.js';
import { RPMSENSE_LESS, RPMSENSE_GREATER, RPMSENSE_EQUAL, RPMSENSE_SENSEMASK } from './sense.js';

/** One entry of a dependency tag: `version` is `[epoch:]version[-release]`, `""` when unversioned. */
export interface Dependency {
  name: string;
  flags: number;
  version: string;
}

/** What formatDependency accepts: a Dependency, or the same with optional flags and version. */
export interface DependencyLike {
  name: string;
  flags?: number;
  version?: string;
}

/** `<`, `>`, `=`, `<=`, `>=` for the sense bits of `flags` (rpm's order: <, >, =), `""` for none. */
export function senseOperator(flags: number): string {
  return `${flags & RPMSENSE_LESS ? '<' : ''}${flags & RPMSENSE_GREATER ? '>' : ''}${flags & RPMSENSE_EQUAL ? '=' : ''}`;
}

/**
 * The text rpm shows for a dependency (`rpm -qR`, lib/rpmds.c rpmdsNewDNEVR): `name`,
 * `name >= 1.2`, a rich dependency as its name. Never throws: it also shows what others wrote.
 */
export function formatDependency(dep: DependencyLike): string {
  const op = senseOperator(dep.flags ?? 0);
  const evr = dep.version ?? '';
  let out = dep.name;
  if (op !== '') out += ` ${op}`;
  if (evr !== '') out += ` ${evr}`;
  return out;
}

/** rpm's comparison words (lib/rpmds.c ReqComparisons). */
const SENSE_OF: Record<string, number> = {
  '<=': RPMSENSE_LESS | RPMSENSE_EQUAL,
  '=<': RPMSENSE_LESS | RPMSENSE_EQUAL,
  '<': RPMSENSE_LESS,
  '==': RPMSENSE_EQUAL,
  '=': RPMSENSE_EQUAL,
  '>=': RPMSENSE_GREATER | RPMSENSE_EQUAL,
  '=>': RPMSENSE_GREATER | RPMSENSE_EQUAL,
  '>': RPMSENSE_GREATER,
};

const VALID_SENSES = new Set([
  0,
  RPMSENSE_LESS,
  RPMSENSE_GREATER,
  RPMSENSE_EQUAL,
  RPMSENSE_LESS | RPMSENSE_EQUAL,
  RPMSENSE_GREATER | RPMSENSE_EQUAL,
]);

function invalid(message: string): KpkgError {
  return new KpkgError('INVALID_INPUT', message);
}

/**
 * Checks a dependency name (not a rich one) as rpm would accept it, and so that it survives inside
 * a rich dependency:
 *   - not empty, no whitespace, `,` or control character: rpm splits dependency lists on
 *     whitespace and `,` (build/parseReqs.c SKIPNONWHITE);
 *   - begins with an ASCII letter, digit, `_` or `/` (build/parseReqs.c checkDep; a non-ASCII
 *     first character passes there too, rpm does not know the encoding);
 *   - no `<`, `>` or `=`: rpm would take `foo>=1.2` for a name, which is never what was meant;
 *   - balanced parentheses, as in `perl(Foo::Bar)` or `rpmlib(RichDependencies)`: inside a rich
 *     dependency an unbalanced `)` ends the name (lib/rpmds.c SKIPNONWHITEX).
 * File names (`/usr/bin/node`) are capabilities too, but only unversioned ones.
 */
export function validateDependencyName(name: string): void {
  if (typeof name !== 'string' || name === '') throw invalid('dependency name is empty');
  const bad = /[\s,\p{Cc}]/u.exec(name);
  if (bad) {
    throw invalid(
      `dependency name ${JSON.stringify(name)} contains ${JSON.stringify(bad[0])}: rpm separates dependencies with whitespace and ",", and control characters are not allowed`,
    );
  }
  if (/[<>=]/.test(name)) {
    throw invalid(`dependency name ${JSON.stringify(name)} contains a comparison: write it with spaces, as in "foo >= 1.2"`);
  }
  const first = name.charCodeAt(0);
  if (first < 0x80 && !/^[A-Za-z0-9_/]/.test(name)) {
    throw invalid(`dependency name ${JSON.stringify(name)} must begin with a letter, a digit, "_" or "/" (as rpm requires)`);
  }
  let depth = 0;
  for (const c of name) {
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) break;
  }
  if (depth !== 0) throw invalid(`dependency name ${JSON.stringify(name)} has unbalanced parentheses`);
}

const DEP_EVR_RE = /^(?:[0-9]+:)?[A-Za-z0-9._+~^]+(?:-[A-Za-z0-9._+~^]+)?$/;

/**
 * Checks the `[epoch:]version[-release]` of a dependency (build/parseReqs.c checkDep): ASCII
 * letters, digits and `. _ + ~ ^`, at most one `:` after a numeric epoch, at most one `-` before the
 * release, no `..`. rpm also tolerates `% { }` (unexpanded macros); we do not.
 */
export function validateDependencyVersion(evr: string, name = 'dependency'): void {
  if (!DEP_EVR_RE.test(evr) || evr.includes('..')) {
    throw invalid(
      `version ${JSON.stringify(evr)} of ${name} is not an RPM [epoch:]version[-release] (ASCII letters, digits and . _ + ~ ^; a numeric epoch before ":"; one "-" before the release)`,
    );
  }
}

/**
 * Checks one entry of a dependency tag: a plain dependency (name, sense bits and version agree; a
 * file name is unversioned) or a rich one (the whole expression parses, as rpm would parse it, and
 * no sense bits or version accompany it).
 */
export function validateDependency(dep: Dependency, tag: RichContext = 'requires'): void {
  if (typeof dep.name === 'string' && dep.name.startsWith('(')) {
    parseRichDependency(dep.name, tag);
    if ((dep.flags & RPMSENSE_SENSEMASK) !== 0 || dep.version !== '') {
      throw invalid(`rich dependency ${dep.name} takes no comparison or version of its own`);
    }
    return;
  }
  validateDependencyName(dep.name);
  const sense = dep.flags & RPMSENSE_SENSEMASK;
  if (!VALID_SENSES.has(sense)) throw invalid(`dependency ${dep.name}: flags 0x${dep.flags.toString(16)} are not one of <, >, =, <=, >=`);
  if (sense === 0) {
    if (dep.version !== '') throw invalid(`dependency ${dep.name} has version ${JSON.stringify(dep.version)} but no comparison`);
    return;
  }
  if (dep.version === '') throw invalid(`dependency ${dep.name} ${senseOperator(sense)} needs a version`);
  if (dep.name.startsWith('/')) throw invalid(`dependency ${dep.name}: a file name cannot be versioned (rpm refuses it)`);
  validateDependencyVersion(dep.version, dep.name);
}

// ---------------------------------------------------------------------------------------------
// Rich (boolean) dependencies, rpm >= 4.13 (with/without from 4.14).

/** Which check rpm applies to a rich dependency's top: `requires` for Requires, Recommends, Suggests; `conflicts` for Conflicts, Supplements, Enhances. */
export type RichContext = 'requires' | 'conflicts';

export type RichOp = 'and' | 'or' | 'if' | 'unless' | 'else' | 'with' | 'without';
const RICH_OPS: ReadonlySet<string> = new Set(['and', 'or', 'if', 'unless', 'else', 'with', 'without']);

/**
 * A dependency expression. A group is a parenthesised expression: `single` holds one operand
 * (`(foo >= 1)`); `and`, `or`, `with` hold two or more (a chain); `without` two; `if` and `unless`
 * two or three (`(A if B else C)`: operands A, B, C).
 */
export type DependencyExpr =
  | { kind: 'simple'; name: string; flags: number; version: string }
  | { kind: 'group'; op: Exclude<RichOp, 'else'> | 'single'; operands: DependencyExpr[] };

export function simpleDep(name: string, flags = 0, version = ''): DependencyExpr {
  return { kind: 'simple', name, flags, version };
}

export function richGroup(op: Exclude<RichOp, 'else'> | 'single', operands: DependencyExpr[]): DependencyExpr {
  return { kind: 'group', op, operands };
}

/** The text of an expression, normalised as rpmbuild stores it (build/parseReqs.c parseRCPOTRichCB). */
export function formatDependencyExpr(expr: DependencyExpr): string {
  if (expr.kind === 'simple') return formatDependency(expr);
  const ops = expr.operands.map(formatDependencyExpr);
  if ((expr.op === 'if' || expr.op === 'unless') && ops.length === 3) return `(${ops[0]} ${expr.op} ${ops[1]} else ${ops[2]})`;
  return `(${ops.join(` ${expr.op} `)})`;
}

/** An expression as one entry of a dependency tag: a plain dependency, or a rich one (the whole text as name). */
export function dependencyFromExpr(expr: DependencyExpr): Dependency {
  if (expr.kind === 'simple') return { name: expr.name, flags: expr.flags, version: expr.version };
  return { name: formatDependencyExpr(expr), flags: 0, version: '' };
}

// The checks rpm makes on the structure (lib/rpmds.c rpmrichParseInternal and rpmrichParseCheck).
const CHECK = 1 << 0;
const NO_WITH = 1 << 1;
const NO_AND = 1 << 2;
const NO_OR = 1 << 3;

class RichParser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(why: string, at = this.pos): never {
    throw invalid(`rich dependency ${this.text}: ${why} (at offset ${at})`);
  }

  skipWhite(): void {
    while (this.pos < this.text.length && /[\s,]/.test(this.text[this.pos]!)) this.pos++;
  }

  /** A word: up to whitespace, `,` or a `)` that closes nothing opened inside it (SKIPNONWHITEX). */
  word(): string {
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (/[\s,]/.test(c)) break;
      if (c === ')' && depth-- <= 0) break;
      if (c === '(') depth++;
      this.pos++;
    }
    return this.text.slice(start, this.pos);
  }

  simple(): DependencyExpr {
    const at = this.pos;
    const name = this.word();
    if (name === '') this.fail('name required');
    this.skipWhite();
    const save = this.pos;
    const op = this.word();
    const sense = SENSE_OF[op];
    let dep: Dependency;
    if (sense === undefined) {
      this.pos = save;
      dep = { name, flags: 0, version: '' };
    } else {
      this.skipWhite();
      const evr = this.word();
      if (evr === '') this.fail(`version required after ${name} ${op}`);
      dep = { name, flags: sense, version: evr };
    }
    try {
      validateDependency(dep);
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err), at);
    }
    return { kind: 'simple', ...dep };
  }

  /** One parenthesised group; `check` carries rpm's context flags in and out. */
  group(check: { flags: number }): DependencyExpr {
    const start = this.pos;
    if (this.text[this.pos] !== '(') this.fail('a rich dependency starts with "("');
    this.pos++;
    let localCheck = check.flags;
    const operands: DependencyExpr[] = [];
    const opsSeen: RichOp[] = [];
    let op: RichOp | 'single' = 'single';
    let firstOp: RichOp | 'single' = 'single';
    let chainOp: RichOp | undefined;
    for (;;) {
      this.skipWhite();
      if (this.pos >= this.text.length) this.fail('unterminated rich dependency', start);
      if (this.text[this.pos] === ')') this.fail(chainOp ? 'missing argument to rich dependency op' : 'empty rich dependency');
      if (this.text[this.pos] === '(') {
        const sub = { flags: localCheck & CHECK };
        operands.push(this.group(sub));
        if (op === 'if' || op === 'unless') sub.flags &= ~(NO_AND | NO_OR);
        localCheck |= sub.flags;
      } else {
        operands.push(this.simple());
      }
      this.skipWhite();
      if (this.pos >= this.text.length) this.fail('unterminated rich dependency', start);
      if (this.text[this.pos] === ')') break;
      const opAt = this.pos;
      const word = this.word();
      if (!RICH_OPS.has(word)) this.fail(`unknown rich dependency op ${JSON.stringify(word)}`, opAt);
      op = word as RichOp;
      if (firstOp === 'single') firstOp = op;
      if (op === 'else' && (chainOp === 'if' || chainOp === 'unless')) chainOp = undefined;
      if (chainOp && op !== chainOp) this.fail('cannot chain different ops', opAt);
      if (chainOp && op !== 'and' && op !== 'or' && op !== 'with') this.fail('can only chain and/or/with ops', opAt);
      chainOp = op;
      opsSeen.push(op);
    }
    this.pos++;

    checkContext(firstOp, localCheck, (why) => this.fail(why, start));
    if (firstOp === 'if') localCheck |= NO_OR;
    if (firstOp === 'unless') localCheck |= NO_AND;
    if (op === 'and' || op === 'or') localCheck &= ~(NO_AND | NO_OR);
    if (op !== 'single' && op !== 'with' && op !== 'without' && op !== 'or') localCheck |= NO_WITH;
    check.flags |= localCheck;

    if (firstOp === 'single') return { kind: 'group', op: 'single', operands };
    if (firstOp === 'without' && operands.length !== 2) this.fail('"without" takes exactly two operands', start);
    if ((firstOp === 'if' || firstOp === 'unless') && !(operands.length === 2 || (operands.length === 3 && opsSeen[1] === 'else'))) {
      this.fail(`"${firstOp}" takes two operands, or three with "else"`, start);
    }
    if (firstOp === 'else') this.fail('"else" must follow "if" or "unless"', start);
    return { kind: 'group', op: firstOp, operands };
  }
}

function checkContext(op: RichOp | 'single', check: number, fail: (why: string) => never): void {
  if ((op === 'with' || op === 'without') && check & NO_WITH) fail('illegal ops in with/without');
  if (!(check & CHECK)) return;
  if ((op === 'and' || op === 'if') && check & NO_AND) fail(`illegal context for 'unless', please use 'or' instead`);
  if ((op === 'or' || op === 'unless') && check & NO_OR) fail(`illegal context for 'if', please use 'and' instead`);
}

/**
 * Parses a rich dependency as rpm does (lib/rpmds.c rpmrichParseForTag), with its checks; `tag`
 * selects the context check: Conflicts, Supplements and Enhances refuse `if` where Requires,
 * Recommends and Suggests refuse `unless`. Throws a KpkgError naming the offset at fault.
 */
export function parseRichDependency(text: string, tag: RichContext = 'requires'): DependencyExpr {
  const p = new RichParser(text);
  const check = { flags: CHECK };
  const expr = p.group(check);
  p.skipWhite();
  if (p.pos !== text.length) p.fail('text after the closing ")"');
  checkContext(tag === 'conflicts' ? 'or' : 'and', check.flags, (why) => p.fail(why, 0));
  return expr;
}

/** Parses `name`, `name >= 1.2` (rpm's comparison words) or a rich `(...)` dependency, validated. */
export function parseDependency(text: string, tag: RichContext = 'requires'): Dependency {
  const t = text.trim();
  if (t.startsWith('(')) return dependencyFromExpr(parseRichDependency(t, tag));
  const words = t.split(/\s+/);
  let dep: Dependency;
  if (words.length === 1 && words[0] !== '') {
    dep = { name: words[0]!, flags: 0, version: '' };
  } else if (words.length === 3 && SENSE_OF[words[1]!] !== undefined) {
    dep = { name: words[0]!, flags: SENSE_OF[words[1]!]!, version: words[2]! };
  } else {
    throw invalid(`dependency ${JSON.stringify(text)} is not "name", "name <op> version" (op one of < <= = >= >) or a rich "(...)" dependency`);
  }
  validateDependency(dep);
  return dep;
}

/** The expression of a dependency-tag entry: a plain one as a simple expression, a rich one parsed. */
export function dependencyExpr(dep: Dependency): DependencyExpr {
  return dep.name.startsWith('(') ? parseRichDependency(dep.name) : { kind: 'simple', ...dep };
}

// ---------------------------------------------------------------------------------------------
// Evaluation: which packages satisfy a dependency.

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
        sense = rpmvercmp(a.release!, b.release!);
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

/** Whether a Provides entry satisfies a plain dependency (lib/rpmds.c rpmdsCompareIndex). */
export function provideMatches(provide: Dependency, dep: Dependency): boolean {
  if (provide.name !== dep.name) return false;
  if (!(provide.flags & RPMSENSE_SENSEMASK) || !(dep.flags & RPMSENSE_SENSEMASK)) return true;
  if (provide.version === '' || dep.version === '') return true;
  return evrOverlap(parseEVR(provide.version), provide.flags, parseEVR(dep.version), dep.flags);
}

/** A package as the evaluator sees it: what it provides (its own `name = E:V-R` included). */
export interface ProvidingPackage {
  provides: readonly Dependency[];
}

function evaluate(expr: DependencyExpr, pkgs: readonly ProvidingPackage[]): boolean {
  if (expr.kind === 'simple') return pkgs.some((p) => p.provides.some((pr) => provideMatches(pr, expr)));
  const [a, b, c] = expr.operands;
  switch (expr.op) {
    case 'single':
      return evaluate(a!, pkgs);
    case 'and':
      return expr.operands.every((o) => evaluate(o, pkgs));
    case 'or':
      return expr.operands.some((o) => evaluate(o, pkgs));
    case 'if':
      return evaluate(b!, pkgs) ? evaluate(a!, pkgs) : c === undefined || evaluate(c, pkgs);
    case 'unless':
      return evaluate(b!, pkgs) ? c === undefined || evaluate(c, pkgs) : evaluate(a!, pkgs);
    case 'with':
      // One package must satisfy every operand.
      return pkgs.some((p) => expr.operands.every((o) => evaluate(o, [p])));
    case 'without':
      return pkgs.some((p) => evaluate(a!, [p]) && !evaluate(b!, [p]));
  }
}

/**
 * Whether the given packages (think: what is installed) satisfy a dependency, plain or rich, as
 * rpm and libsolv read it. `with` and `without` are about one package; the other operators about
 * the set.
 */
export function dependencySatisfied(dep: Dependency | DependencyExpr, pkgs: readonly ProvidingPackage[]): boolean {
  const expr = 'kind' in dep ? dep : dependencyExpr(dep);
  return evaluate(expr, pkgs);
}

// ---------------------------------------------------------------------------------------------
// npm semver ranges as RPM dependencies.

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
type Interval = { lo?: Bound; hi?: Bound };

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
  let [M, m, p] = !lo ? [0, 0, 0] : [lo.v.major, lo.v.minor, lo.v.patch + (lo.v.prerelease.length > 0 ? 0 : 1)];
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
