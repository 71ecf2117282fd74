/**
 * A deterministic YAML writer for the per-server file: block style, keys sorted, and every string
 * that a YAML 1.1 reader (Puppet's Psych, reading it as an ENC answer) or a YAML 1.2 reader (the
 * `yaml` package, Punch) could take for anything else written double-quoted. Plain only when it is
 * a word of letters, digits, `_`, `.`, `/` and `-` not starting with a digit, `.`, or `-`, and not
 * one of YAML 1.1's booleans or null. Hand-written because it runs for every server on every
 * publish (10,000 files in well under a second); test/unit/geppetto/file.test.ts reads every
 * output back with `yaml` and compares.
 */
import { KpkgError } from '../packager/errors.js';
import { yamlString } from '../packager/puppet/escape.js';

export type YamlData = string | number | boolean | readonly YamlData[] | { readonly [key: string]: YamlData };

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
// YAML 1.1 booleans and nulls (any case), which a plain scalar would become, and what the `yaml`
// package's YAML 1.1 reads as a float for want of a mantissa (`e0`, `E+5`).
const KEYWORD = /^(?:y|yes|n|no|true|false|on|off|null|e[-+]?[0-9]+)$/i;
// What needs an escape in a double-quoted scalar, and what must go through the careful path
// (surrogates: pairs are fine, lone halves are refused by yamlString).
const NEEDS_ESCAPE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff"\\\ud800-\udfff]/;

export function yamlScalarString(s: string): string {
  if (PLAIN.test(s) && !KEYWORD.test(s)) return s;
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  return yamlString(s);
}

/**
 * A number as both YAML 1.1 and 1.2 read it back: a safe integer as is (unless `float`), anything
 * else with a dot and, when it has one, a signed exponent (YAML 1.1 reads `1e21` as a string).
 */
export function yamlNumber(n: number, float: boolean): string {
  if (!Number.isFinite(n)) throw new KpkgError('INVALID_INPUT', `${n} is not a number a file can hold`);
  if (Number.isSafeInteger(n) && !float) return Object.is(n, -0) ? '0' : String(n);
  const [m = '', e] = String(n).split('e');
  const mantissa = m.includes('.') ? m : `${m}.0`;
  if (e === undefined) return mantissa;
  return `${mantissa}e${/^[+-]/.test(e) ? e : `+${e}`}`;
}

function scalar(v: string | number | boolean, float: boolean): string {
  if (typeof v === 'string') return yamlScalarString(v);
  if (typeof v === 'number') return yamlNumber(v, float);
  return v ? 'true' : 'false';
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Which values are Floats: a tree of mapping keys whose leaves (`true`) mark a Float subtree. */
export type FloatTree = ReadonlyMap<string, FloatTree | true>;

function isEmpty(v: object): boolean {
  return Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0;
}

/** Appends `v` at `indent`; every number under a `true` of `floats` (or when `float`) is a Float. */
function emit(out: string[], v: YamlData, indent: string, float: boolean, floats: FloatTree | undefined): void {
  if (Array.isArray(v)) {
    for (const item of v as readonly YamlData[]) {
      if (typeof item !== 'object') {
        out.push(`${indent}- ${scalar(item, float)}\n`);
      } else if (isEmpty(item)) {
        out.push(`${indent}- ${Array.isArray(item) ? '[]' : '{}'}\n`);
      } else if (Array.isArray(item)) {
        out.push(`${indent}-\n`);
        emit(out, item, `${indent}  `, float, undefined);
      } else {
        // `- key: value`, the mapping's other keys aligned under the first.
        const nested: string[] = [];
        emit(nested, item, `${indent}  `, float, undefined);
        const first = nested[0] ?? '';
        nested[0] = `${indent}- ${first.slice(indent.length + 2)}`;
        for (const line of nested) out.push(line);
      }
    }
    return;
  }
  const obj = v as { readonly [key: string]: YamlData };
  for (const key of Object.keys(obj).sort(compareKeys)) {
    const item = obj[key];
    if (item === undefined) continue;
    const k = yamlScalarString(key);
    const sub = floats?.get(key);
    const f = float || sub === true;
    if (typeof item !== 'object') {
      out.push(`${indent}${k}: ${scalar(item, f)}\n`);
    } else if (isEmpty(item)) {
      out.push(`${indent}${k}: ${Array.isArray(item) ? '[]' : '{}'}\n`);
    } else {
      out.push(`${indent}${k}:\n`);
      // Sequences under a key are indented too: every reader accepts it and it reads better.
      emit(out, item, `${indent}  `, f, sub === true ? undefined : sub);
    }
  }
}

/** One YAML document (`---` first, a newline last) holding a mapping. */
export function yamlDocument(doc: { readonly [key: string]: YamlData }, floats?: FloatTree): string {
  const out: string[] = ['---\n'];
  if (isEmpty(doc)) return '--- {}\n';
  emit(out, doc, '', false, floats);
  return out.join('');
}
