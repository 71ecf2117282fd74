import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import semver from 'semver';
import { KpkgError, oneLine } from '../errors.js';
import { schemaDir } from '../util/paths.js';
import { cronScheduleError } from './cron.js';
import type { ComponentDescriptor } from './types.js';

/**
 * component.json against schema/component.schema.json (JSON Schema draft-07: what ajv's default
 * build and VS Code's JSON support both read fully). The schema carries the messages users see,
 * in VS Code's annotations `patternErrorMessage` and `errorMessage`, so an editor and
 * `kpkg validate` say the same thing.
 */

/** The schema as the package ships it: `schema/component.schema.json` at the package root. */
export function schemaPath(): string {
  return schemaDir('component.schema.json');
}

let cachedSchema: Record<string, unknown> | undefined;

export function componentSchema(): Record<string, unknown> {
  cachedSchema ??= JSON.parse(readFileSync(schemaPath(), 'utf8')) as Record<string, unknown>;
  return cachedSchema;
}

/** Annotations editors read that ajv must not reject in strict mode. */
const EDITOR_KEYWORDS = ['patternErrorMessage', 'errorMessage', 'markdownDescription', 'enumDescriptions', 'defaultSnippets', 'deprecationMessage'];

/** A version exactly as semver writes it (no `v`, no `=`, no spaces), with its build metadata. */
export function isSemver(v: string): boolean {
  const parsed = semver.parse(v);
  return parsed !== null && `${parsed.version}${parsed.build.length ? `+${parsed.build.join('.')}` : ''}` === v;
}

export function isSemverRange(r: string): boolean {
  return semver.validRange(r) !== null;
}

const FORMATS: Record<string, { validate: (s: string) => boolean; message: (s: string) => string }> = {
  semver: { validate: isSemver, message: () => 'must be a semantic version like 1.4.0 or 1.4.0-rc.1' },
  'semver-range': { validate: isSemverRange, message: () => 'must be a semver range like "^2.1.0", ">=1.4.0 <3", "1.x" or "*"' },
  'cron-schedule': {
    validate: (s) => cronScheduleError(s) === undefined,
    message: (s) => `is not a cron schedule: ${cronScheduleError(s) ?? ''}`,
  },
};

let validator: ValidateFunction | undefined;

function compiled(): ValidateFunction {
  if (validator) return validator;
  const ajv = new Ajv({ allErrors: false, verbose: true, strict: true });
  for (const keyword of EDITOR_KEYWORDS) ajv.addKeyword({ keyword });
  for (const [name, format] of Object.entries(FORMATS)) ajv.addFormat(name, { type: 'string', validate: format.validate });
  validator = ajv.compile(componentSchema());
  return validator;
}

/** Throws KpkgError INVALID_DESCRIPTOR naming the JSON pointer of the first problem. */
export function validateDescriptor(data: unknown, file = 'component.json'): asserts data is ComponentDescriptor {
  const validate = compiled();
  if (validate(data)) return;
  const { pointer, message } = explain(validate.errors ?? []);
  throw new KpkgError('INVALID_DESCRIPTOR', `${file}: ${pointer ? `${oneLine(pointer)}: ` : ''}${message}`);
}

/**
 * JSON pointer escaping (RFC 6901), for messages: a control character in the name is shown as a
 * JSON escape (`\n`), so that the message stays on one line.
 */
export function pointerSegment(key: string | number): string {
  return oneLine(String(key).replace(/~/g, '~0').replace(/\//g, '~1'));
}

interface Explained {
  pointer: string;
  message: string;
}

/**
 * One message out of ajv's errors. Without allErrors ajv stops at the first failing keyword, but
 * an `anyOf` reports every branch first: keep the branch of the value's own type.
 */
export function explain(errors: ErrorObject[]): Explained {
  const last = errors[errors.length - 1];
  if (!last) return { pointer: '', message: 'is not valid' };
  if (last.keyword === 'anyOf' || last.keyword === 'oneOf') {
    const branches = errors.filter((e) => e !== last && e.schemaPath.startsWith(`${last.schemaPath}/`));
    const relevant = branches.filter((e) => e.keyword !== 'type');
    if (relevant.length > 0) return explainOne(relevant[0]!);
    const types = branches.map((e) => typeName(String(e.params.type)));
    return { pointer: last.instancePath, message: `must be ${[...new Set(types)].join(' or ')}${got(last.data)}` };
  }
  return explainOne(errors[0]!);
}

function explainOne(e: ErrorObject): Explained {
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  const custom = typeof parent.errorMessage === 'string' ? parent.errorMessage : undefined;
  // inside propertyNames, ajv's instancePath is the object and the name is in propertyName
  const pointer = e.propertyName !== undefined ? `${e.instancePath}/${pointerSegment(e.propertyName)}` : e.instancePath;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      // `"dst": ...` is more likely a typo of the missing field than a missing field
      const known = Object.keys((parent.properties ?? {}));
      const data = (e.data ?? {}) as Record<string, unknown>;
      const typo = Object.keys(data).find((k) => !known.includes(k) && closest(k, known) === missing);
      if (typo !== undefined) return { pointer: `${e.instancePath}/${pointerSegment(typo)}`, message: `unknown field; did you mean "${missing}"?` };
      return { pointer: `${e.instancePath}/${pointerSegment(missing)}`, message: 'is required' };
    }
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const known = Object.keys((parent.properties ?? {}));
      const close = closest(name, known);
      const suggestion = close ? `; did you mean "${close}"?` : known.length ? ` (known fields: ${known.join(', ')})` : '';
      return { pointer: `${e.instancePath}/${pointerSegment(name)}`, message: `unknown field${suggestion}` };
    }
    case 'type':
      return { pointer, message: `must be ${typeName(String(params.type))}${got(e.data)}` };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => String(v));
      return { pointer, message: `must be one of ${allowed.join(', ')}${got(e.data)}` };
    }
    case 'pattern': {
      const text = typeof parent.patternErrorMessage === 'string' ? parent.patternErrorMessage : custom ?? `must match the pattern ${String(params.pattern)}`;
      return { pointer, message: `${text}${got(e.data)}` };
    }
    case 'format': {
      const format = FORMATS[String(params.format)];
      const value = String(e.data);
      return { pointer, message: `${format ? format.message(value) : `must be a ${String(params.format)}`}${got(e.data)}` };
    }
    case 'minLength':
      return { pointer, message: custom ?? (params.limit === 1 ? 'must not be empty' : `must have at least ${String(params.limit)} characters`) };
    case 'maxLength':
      return { pointer, message: custom ?? `must have at most ${String(params.limit)} characters${got(e.data)}` };
    case 'minimum':
    case 'maximum':
      return { pointer, message: `${custom ?? `must be ${String(params.comparison)} ${String(params.limit)}`}${got(e.data)}` };
    case 'not':
      return { pointer, message: custom ?? 'is not allowed' };
    default:
      return { pointer, message: custom ?? e.message ?? 'is not valid' };
  }
}

function typeName(type: string): string {
  switch (type) {
    case 'object':
      return 'a JSON object';
    case 'array':
      return 'an array';
    case 'integer':
      return 'an integer';
    default:
      return `a ${type}`;
  }
}

/** ` (got "…")` for a short scalar, so the message shows what was found. */
export function got(value: unknown): string {
  if (value === null) return ' (got null)';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return ` (got ${JSON.stringify(shown)})`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return ` (got ${String(value)})`;
  if (Array.isArray(value)) return ' (got an array)';
  if (typeof value === 'object') return ' (got an object)';
  return '';
}

/** The known name a misspelt one is closest to, when close enough to be a typo. */
function closest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = levenshtein(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
