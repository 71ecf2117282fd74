/**
 * Geppetto's state file (docs/geppetto.md): the whole configuration as YAML (JSON
 * is YAML too), checked by schema/geppetto-state.schema.json, and written back deterministically
 * (keys sorted, lists in their order) so that an export diffs well in git. Secrets stay references,
 * `{ secret: <id> }`. Cross references (unknown roles, cycles) are checkState's, not the parser's:
 * a file can be well formed and still refused by import.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseDocument, stringify } from 'yaml';
import { KpkgError, oneLine } from '../packager/errors.js';
import { schemaDir } from '../packager/util/paths.js';
import type { RepositoryDefinition, RoleDefinition, ScopeDefinitions, SecretRef, ServerDefinition, State, Value } from './model.js';

const FILE = 'state file';

function invalid(message: string): KpkgError {
  return new KpkgError('INVALID_INPUT', oneLine(`${FILE}: ${message}`));
}

let validator: ValidateFunction | undefined;

function compiled(): ValidateFunction {
  if (validator !== undefined) return validator;
  const schema = JSON.parse(readFileSync(schemaDir('geppetto-state.schema.json'), 'utf8')) as Record<string, unknown>;
  validator = new Ajv({ allErrors: false, strict: true, verbose: true }).compile(schema);
  return validator;
}

/** A JSON pointer as the dotted field name people read: `roles.shop-front.parents[0]`, `settings["shop.port"]`. */
export function fieldName(pointer: string, extra?: string): string {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const p of parts) {
    if (/^\d+$/.test(p)) out += `[${p}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out === '' ? '(top level)' : out;
}

/**
 * The error a person should read: a bad name where one is (ajv reports the pattern the name failed
 * first), else the deepest `anyOf` (a value none of the alternatives takes), else the first.
 */
function chooseError(errors: ErrorObject[]): ErrorObject | undefined {
  const named = errors.find((e) => e.propertyName !== undefined);
  if (named !== undefined) return named;
  const anyOf = errors.filter((e) => e.keyword === 'anyOf').sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
  return anyOf ?? errors[0];
}

function describeError(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  // With `verbose`, a pattern error carries its schema: its description says what is expected.
  const expected = (e.parentSchema as { description?: unknown } | undefined)?.description;
  const why = typeof expected === 'string' && e.keyword === 'pattern' ? `expected ${expected.charAt(0).toLowerCase()}${expected.slice(1).replace(/\.$/, '')}` : (e.message ?? 'invalid');
  if (e.propertyName !== undefined) return `${fieldName(e.instancePath, e.propertyName)}: not a valid name here (${why})`;
  if (e.keyword === 'additionalProperties') return `${fieldName(e.instancePath, String(params.additionalProperty))}: unknown field`;
  if (e.keyword === 'required') return `${fieldName(e.instancePath, String(params.missingProperty))}: required`;
  if (e.keyword === 'propertyNames') return `${fieldName(e.instancePath, String(params.propertyName))}: not a valid name here (${e.message ?? ''})`;
  if (e.keyword === 'uniqueItems') return `${fieldName(e.instancePath)}: holds the same item twice`;
  if (e.keyword === 'anyOf') return `${fieldName(e.instancePath)}: not a value (string, number, boolean, list or map; null is written with unset) nor a { secret: <id> } reference`;
  return `${fieldName(e.instancePath)}: ${why}`;
}

/** Refuses numbers no file can carry (.inf, .nan), naming where. */
function checkNumbers(v: unknown, pointer: string): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw invalid(`${fieldName(pointer)}: ${v} is not a finite number`);
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => checkNumbers(x, `${pointer}/${i}`));
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) checkNumbers(x, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
  }
}

interface RawScope {
  settings?: Record<string, Value | SecretRef>;
  unset?: string[];
}
interface RawRole extends RawScope {
  parents?: string[];
  components?: Record<string, string>;
}
interface RawServer extends RawScope {
  environment: string;
  roles?: string[];
}
interface RawState {
  repositories?: RepositoryDefinition[];
  global?: RawScope;
  environments?: Record<string, RawScope>;
  roles?: Record<string, RawRole>;
  servers?: Record<string, RawServer>;
}

function scope(raw: RawScope | undefined): ScopeDefinitions {
  return { settings: { ...(raw?.settings ?? {}) }, unset: [...(raw?.unset ?? [])] };
}

function mapValues<T, U>(obj: Record<string, T> | undefined, f: (v: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(obj ?? {}).map(([k, v]) => [k, f(v)]));
}

/**
 * The state in `text` (YAML or JSON). Throws KpkgError INVALID_INPUT naming the line or the field
 * at fault: a YAML error, a field the schema refuses, a repository id given twice.
 */
export function parseState(text: string): State {
  const doc = parseDocument(text, { uniqueKeys: true, merge: false, prettyErrors: true, version: '1.2' });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) {
    const at = problem.linePos?.[0];
    // prettyErrors appends " at line L, column C:" and a code frame to the message: said first instead.
    const message = (problem.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw invalid(`${at !== undefined ? `line ${at.line}, column ${at.col}: ` : ''}${message}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    throw new KpkgError('INVALID_INPUT', `${FILE}: ${oneLine(err instanceof Error ? err.message : String(err))}`, { cause: err });
  }
  if (data === null || data === undefined) data = {};
  checkNumbers(data, '');
  const validate = compiled();
  if (!validate(data)) {
    const e = chooseError(validate.errors ?? []);
    throw invalid(e === undefined ? 'invalid' : describeError(e));
  }
  const raw = data as RawState;

  const repositories = (raw.repositories ?? []).map((r) => ({ ...r }));
  const ids = new Set<string>();
  repositories.forEach((r, i) => {
    if (ids.has(r.id)) throw invalid(`repositories[${i}].id: ${JSON.stringify(r.id)} is given twice`);
    ids.add(r.id);
  });
  return {
    repositories,
    global: scope(raw.global),
    environments: mapValues(raw.environments, scope),
    roles: mapValues(raw.roles, (r): RoleDefinition => ({ parents: [...(r.parents ?? [])], components: { ...(r.components ?? {}) }, ...scope(r) })),
    servers: mapValues(raw.servers, (s): ServerDefinition => ({ environment: s.environment, roles: [...(s.roles ?? [])], ...scope(s) })),
  };
}

/**
 * The state as YAML: maps sorted by key, lists (parents, roles, repositories, unset) in their
 * order, every scope with all its fields, secrets as `{ secret: <id> }`. The same state gives the
 * same text, and parseState reads it back equal.
 */
export function stringifyState(state: State): string {
  const doc = {
    repositories: state.repositories.map((r) => ({ ...r })),
    global: { settings: state.global.settings, unset: state.global.unset },
    environments: mapValues(state.environments, (e) => ({ settings: e.settings, unset: e.unset })),
    roles: mapValues(state.roles, (r) => ({ parents: r.parents, components: r.components, settings: r.settings, unset: r.unset })),
    servers: mapValues(state.servers, (s) => ({ environment: s.environment, roles: s.roles, settings: s.settings, unset: s.unset })),
  };
  // No anchors for values shared in memory, no folding of long lines: plain, reviewable text.
  return stringify(doc, { sortMapEntries: true, lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false, version: '1.2' });
}
