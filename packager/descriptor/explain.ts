/**
 * One message out of ajv's errors, naming the field (a JSON pointer): shared by the component
 * descriptor's validator and by validators compiled ahead of time (Punch's per-server file),
 * which is why it imports nothing of ajv at run time (its compiler takes a while to load).
 */
import type { ErrorObject } from 'ajv';
import { oneLine } from '../errors.js';

/** The message of a failed `format` keyword, when the validator knows one. */
export type FormatMessage = (format: string, value: string) => string | undefined;

/**
 * JSON pointer escaping (RFC 6901), for messages: a control character in the name is shown as a
 * JSON escape (`\n`), so that the message stays on one line.
 */
export function pointerSegment(key: string | number): string {
  return oneLine(String(key).replace(/~/g, '~0').replace(/\//g, '~1'));
}

export interface Explained {
  pointer: string;
  message: string;
}

/**
 * One message out of ajv's errors. Without allErrors ajv stops at the first failing keyword, but
 * an `anyOf` reports every branch first: keep the branch of the value's own type.
 */
export function explain(errors: ErrorObject[], formatMessage?: FormatMessage): Explained {
  const last = errors[errors.length - 1];
  if (!last) return { pointer: '', message: 'is not valid' };
  if (last.keyword === 'anyOf' || last.keyword === 'oneOf') {
    const branches = errors.filter((e) => e !== last && e.schemaPath.startsWith(`${last.schemaPath}/`));
    const relevant = branches.filter((e) => e.keyword !== 'type');
    if (relevant.length > 0) return explainOne(relevant[0]!, formatMessage);
    const types = branches.map((e) => typeName(String(e.params.type)));
    return { pointer: last.instancePath, message: `must be ${[...new Set(types)].join(' or ')}${got(last.data)}` };
  }
  return explainOne(errors[0]!, formatMessage);
}

function explainOne(e: ErrorObject, formatMessage?: FormatMessage): Explained {
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
      const value = String(e.data);
      return { pointer, message: `${formatMessage?.(String(params.format), value) ?? `must be a ${String(params.format)}`}${got(e.data)}` };
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
