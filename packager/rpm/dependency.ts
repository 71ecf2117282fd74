/**
 * RPM dependencies: the sense flags, the textual forms (`name >= 1.2`, rich `(a >= 1 with a < 2)`),
 * their validation. The translation of npm semver ranges lives on the build side
 * (assemble/semver-range.ts), so that this format module needs no semver.
 *
 * How rpm stores them (rpm 4.18 build/parseReqs.c, build/reqprov.c): a plain dependency is three
 * parallel header entries, name, flags and EVR (`""` when unversioned). A rich dependency is stored
 * whole, normalised, as the name, with an empty EVR and no sense bits in its flags (only the
 * context bits, e.g. none for a plain Requires); rpmbuild then adds
 * `rpmlib(RichDependencies) <= 4.12.0-1` (build/pack.c). Rich dependencies are allowed in
 * Requires, Recommends, Suggests, Supplements, Enhances and Conflicts, not in Provides or
 * Obsoletes.
 */
import { KpkgError } from '../errors.js';

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

export function invalid(message: string): KpkgError {
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
