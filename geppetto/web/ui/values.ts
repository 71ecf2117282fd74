/**
 * Values between forms and pages: a setting's value typed into a form becomes a Value by its key's
 * Puppet type; a stored value is shown as one line of JSON, a secret only as "(secret)".
 */
import YAML from 'yaml';
import { KpkgError } from '../../../packager/errors.js';
import type { Catalog, Definition, ParameterDefinition, ScopeDefinitions, Source, Value } from '../../model.js';
import { SECRET_MASK } from '../../service/index.js';
import { compareStrings } from '../../resolve/keys.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export const isSecret = (v: unknown): boolean => isObject(v) && typeof v.secret === 'string' && Object.keys(v).length === 1;
const isUnsetMark = (v: unknown): boolean => isObject(v) && v.unset === true && Object.keys(v).length === 1;

/** A stored or resolved value for people: JSON on one line; a secret reference is "(secret)". */
export function showValue(v: unknown): string {
  if (v === undefined) return '';
  if (isSecret(v)) return SECRET_MASK;
  if (isUnsetMark(v)) return 'unset';
  return JSON.stringify(v);
}

/** `role shop-front (web03 > shop-front)`: where a definition was made and the path it came by. */
export function showSource(s: Source): string {
  const scope = s.scope === 'global' ? 'global' : `${s.scope} ${s.name}`;
  return s.path.length > 0 ? `${scope} (${s.path.join(' > ')})` : scope;
}

export function showDefinition(d: Definition): { value: string; source: string; unset: boolean } {
  return { value: showValue(d.value), source: showSource(d.source), unset: isUnsetMark(d.value) };
}

/** Every `<component>.<key>` the catalog knows, with the parameter of the newest version that has it. */
export function catalogKeys(catalog: Catalog): Map<string, ParameterDefinition & { component: string }> {
  const out = new Map<string, ParameterDefinition & { component: string }>();
  for (const [component, versions] of Object.entries(catalog.components)) {
    const newestFirst = Object.values(versions).sort((a, b) => (a.evr < b.evr ? 1 : a.evr > b.evr ? -1 : 0));
    for (const v of newestFirst) {
      for (const p of v.parameters) {
        const key = `${component}.${p.name}`;
        if (!out.has(key)) out.set(key, { ...p, component });
      }
    }
  }
  return out;
}

/** The outer type of a Puppet type, Optional and Sensitive unwrapped: `Optional[Integer[0]]` -> `Integer`. */
function baseType(type: string): string {
  let t = type.trim();
  for (;;) {
    const m = /^(Optional|Sensitive)\[(.*)\]$/s.exec(t);
    if (!m || m[2] === undefined) break;
    t = m[2].trim();
  }
  return /^[A-Za-z]+/.exec(t)?.[0] ?? t;
}

/**
 * Text typed into a form, as a value of `type` (the key's Puppet type, when the catalog knows it).
 * Strings stay literally what was typed; numbers, booleans, arrays and hashes are parsed (arrays
 * and hashes as JSON or YAML). Without a type: JSON when it parses as a non-string, else the text.
 */
export function parseFormValue(key: string, text: string, type: string | undefined): Value {
  const fail = (what: string): never => {
    throw new KpkgError('INVALID_INPUT', `${key}: ${what}`);
  };
  const base = type === undefined ? undefined : baseType(type);
  switch (base) {
    case undefined: {
      try {
        const v = JSON.parse(text) as unknown;
        if (v !== null && typeof v !== 'string') return v as Value;
      } catch {
        // not JSON: the text itself
      }
      return text;
    }
    case 'String':
    case 'Enum':
    case 'Pattern':
    case 'Stdlib':
      return text;
    case 'Integer':
      return /^\s*-?\d+\s*$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : fail(`${JSON.stringify(text)} is not an Integer`);
    case 'Float':
    case 'Numeric': {
      const n = Number(text);
      return text.trim() !== '' && Number.isFinite(n) ? n : fail(`${JSON.stringify(text)} is not a number`);
    }
    case 'Boolean': {
      const t = text.trim().toLowerCase();
      return t === 'true' ? true : t === 'false' ? false : fail(`${JSON.stringify(text)}: expected true or false`);
    }
    case 'Array':
    case 'Tuple':
    case 'Hash':
    case 'Struct': {
      let v: unknown;
      try {
        v = YAML.parse(text, { maxAliasCount: 10 }) as unknown;
      } catch (err) {
        fail(`not JSON or YAML: ${err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)}`);
      }
      const wantArray = base === 'Array' || base === 'Tuple';
      if (wantArray ? !Array.isArray(v) : !isObject(v)) fail(`expected ${wantArray ? 'a list, e.g. ["a", "b"]' : 'a mapping, e.g. {"a": "b"}'}`);
      return v as Value;
    }
    default:
      return text;
  }
}

/** A scope's own definitions for people: settings (secrets masked) and unsets, sorted. */
export function scopeView(scope: ScopeDefinitions) {
  return {
    settings: Object.entries(scope.settings)
      .sort(([a], [b]) => compareStrings(a, b))
      .map(([key, value]) => ({ key, value: showValue(value) })),
    unset: [...scope.unset].sort(),
  };
}

/** One line per diff line, classed for colour: additions, removals, hunk headers, context. */
export function diffLines(diff: string): { cls: string; text: string }[] {
  return diff
    .replace(/\n$/, '')
    .split('\n')
    .filter((l) => !l.startsWith('===') && l !== '\\ No newline at end of file')
    .map((text) => ({ text, cls: text.startsWith('+++') || text.startsWith('---') ? 'file' : text.startsWith('+') ? 'add' : text.startsWith('-') ? 'del' : text.startsWith('@@') ? 'hunk' : 'ctx' }));
}
