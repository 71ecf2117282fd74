/**
 * A deterministic YAML writer for the per-server file: block style, keys sorted, and every string
 * that a YAML 1.1 reader (Puppet's Psych, reading it as an ENC answer) or a YAML 1.2 reader (the
 * `yaml` package, Punch) could take for anything else written double-quoted. Plain only when it is
 * a word of letters, digits, `_`, `.`, `/` and `-` not starting with a digit, `.`, or `-`, and not
 * one of YAML 1.1's booleans or null. Hand-written because it runs for every server on every
 * publish (10,000 files: about 1 s of CPU on the 2-core development machine, `yaml`'s stringify
 * takes fifty times that); file.test.ts reads every output back with `yaml` and compares.
 */
import { KpkgError } from '../packager/errors.js';
import { yamlString } from '../packager/puppet/escape.js';

export type YamlData = string | number | boolean | readonly YamlData[] | { readonly [key: string]: YamlData };

// YAML 1.1 booleans and nulls (any case), which a plain scalar would become, and what the `yaml`
// package's YAML 1.1 reads as a float for want of a mantissa (`e0`, `E+5`).
const KEYWORD = /^(?:y|yes|n|no|true|false|on|off|null|e[-+]?[0-9]+)$/i;

/**
 * Whether `s` is a plain word: `^[A-Za-z_/][A-Za-z0-9_./-]*$`, by char codes (this runs for every
 * key and string of every file, and a scan is cheaper than a regex there).
 */
function isWord(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  const c0 = s.charCodeAt(0);
  if (!((c0 >= 97 && c0 <= 122) || (c0 >= 65 && c0 <= 90) || c0 === 95 || c0 === 47)) return false;
  for (let i = 1; i < n; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 45 && c <= 57) || c === 95) continue; // 45-57: - . / 0-9
    return false;
  }
  return true;
}

/**
 * Whether `s` holds what needs an escape in a double-quoted scalar, or must go through the careful
 * path (surrogates: pairs are fine, lone halves are refused by yamlString): C0 and C1 controls,
 * DEL, U+2028/9, U+FEFF, U+FFFE/F, `"`, `\\` and any surrogate.
 */
function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 34 || c === 92) return true;
    if (c < 0x7f) continue;
    if (c <= 0x9f || c === 0x2028 || c === 0x2029 || (c >= 0xd800 && c <= 0xdfff) || c === 0xfeff || c >= 0xfffe) return true;
  }
  return false;
}

export function yamlScalarString(s: string): string {
  // KEYWORD's words are at most 5 long, or start with `e`
  if (isWord(s) && ((s.length > 5 && (s.charCodeAt(0) | 32) !== 101) || !KEYWORD.test(s))) return s;
  if (!needsEscape(s)) return `"${s}"`;
  return yamlString(s);
}

/**
 * Mapping keys as written, for the keys of the file's first three levels (sections, classes,
 * parameter names): the same few thousand recur in every server's file. Deeper keys (inside a
 * parameter's value, maybe a secret's) are not kept. Bounded: cleared when full.
 */
const KEYS = new Map<string, string>();
const KEYS_MAX = 8192;

function cachedKey(key: string): string {
  let k = KEYS.get(key);
  if (k === undefined) {
    k = yamlScalarString(key);
    if (KEYS.size >= KEYS_MAX) KEYS.clear();
    KEYS.set(key, k);
  }
  return k;
}

/**
 * A number as both YAML 1.1 and 1.2 read it back: a safe integer as is (unless `float`), anything
 * else with a dot and, when it has one, a signed exponent (YAML 1.1 reads `1e21` as a string).
 */
export function yamlNumber(n: number, float: boolean): string {
  if (!Number.isFinite(n)) throw new KpkgError('INVALID_INPUT', `${n} is not a number a file can hold`);
  if (Number.isSafeInteger(n) && !float) return Object.is(n, -0) ? '0' : String(n);
  const text = String(n);
  const at = text.indexOf('e');
  if (at < 0) return text.includes('.') ? text : `${text}.0`;
  const m = text.slice(0, at);
  const e = text.slice(at + 1);
  const mantissa = m.includes('.') ? m : `${m}.0`;
  return `${mantissa}e${/^[+-]/.test(e) ? e : `+${e}`}`;
}

function scalar(v: string | number | boolean, float: boolean): string {
  if (typeof v === 'string') return yamlScalarString(v);
  if (typeof v === 'number') return yamlNumber(v, float);
  return v ? 'true' : 'false';
}

/** Whether a mapping has no keys, without making the array of them. */
function hasNoKeys(o: object): boolean {
  for (const k in o) if (Object.hasOwn(o, k)) return false;
  return true;
}

/** Which values are Floats: a tree of mapping keys whose leaves (`true`) mark a Float subtree. */
export type FloatTree = ReadonlyMap<string, FloatTree | true>;

/** A mapping's YAML as written at one indent with one Float subtree. */
interface Written {
  indent: string;
  float: boolean;
  floats: FloatTree | undefined;
  text: string;
}

/**
 * Mappings that many documents share (a class's parameters, the same for every server with the
 * same roles: file.ts) are written once per indent and Float subtree, then reused. Only those
 * given to `writeOnce`, which must never change afterwards (nor anything in them); the Float
 * subtree is told apart by identity, so a caller wanting hits passes the same one each time.
 */
const writtenOnce = new WeakMap<object, Written[]>();

/** Marks a mapping, never to be changed again, whose YAML is kept once written (see writtenOnce). */
export function writeOnce(mapping: { readonly [key: string]: YamlData }): void {
  if (!writtenOnce.has(mapping)) writtenOnce.set(mapping, []);
}

/** `emit` of a mapping, from writtenOnce when it is there. */
function emitMapping(v: YamlData & object, indent: string, float: boolean, floats: FloatTree | undefined, depth: number): string {
  const known = writtenOnce.get(v);
  if (known === undefined) return emit(v, indent, float, floats, depth);
  for (const w of known) if (w.indent === indent && w.float === float && w.floats === floats) return w.text;
  const text = emit(v, indent, float, floats, depth);
  known.push({ indent, float, floats, text });
  return text;
}

/**
 * `v` written at `indent`, as one string (appended pieces; V8 joins them once when it is read);
 * every number under a `true` of `floats` (or when `float`) is a Float. `depth` counts the mappings
 * above: the keys of the first three levels are the file's own names, and go through the cache.
 */
function emit(v: YamlData, indent: string, float: boolean, floats: FloatTree | undefined, depth: number): string {
  let out = '';
  if (Array.isArray(v)) {
    for (const item of v as readonly YamlData[]) {
      if (typeof item !== 'object') {
        out += `${indent}- ${scalar(item, float)}\n`;
      } else if (Array.isArray(item)) {
        if (item.length === 0) out += `${indent}- []\n`;
        else out += `${indent}-\n${emit(item, `${indent}  `, float, undefined, depth)}`;
      } else {
        // `- key: value`, the mapping's other keys aligned under the first.
        out += hasNoKeys(item) ? `${indent}- {}\n` : `${indent}- ${emit(item, `${indent}  `, float, undefined, depth).slice(indent.length + 2)}`;
      }
    }
    return out;
  }
  const obj = v as { readonly [key: string]: YamlData };
  // the default sort orders strings by UTF-16 code units, as `<` does
  const keys = Object.keys(obj).sort();
  for (const key of keys) {
    const item = obj[key];
    if (item === undefined) continue;
    const k = depth < 3 ? cachedKey(key) : yamlScalarString(key);
    const sub = floats?.get(key);
    const f = float || sub === true;
    if (typeof item !== 'object') {
      out += `${indent}${k}: ${scalar(item, f)}\n`;
    } else if (Array.isArray(item)) {
      // Sequences under a key are indented too: every reader accepts it and it reads better.
      out += item.length === 0 ? `${indent}${k}: []\n` : `${indent}${k}:\n${emit(item, `${indent}  `, f, sub === true ? undefined : sub, depth + 1)}`;
    } else {
      // written first: only an empty text needs the (slower, on dictionary-mode objects) test for no keys
      const text = emitMapping(item, `${indent}  `, f, sub === true ? undefined : sub, depth + 1);
      out += text === '' && hasNoKeys(item) ? `${indent}${k}: {}\n` : `${indent}${k}:\n${text}`;
    }
  }
  return out;
}

/** One YAML document (`---` first, a newline last) holding a mapping. */
export function yamlDocument(doc: { readonly [key: string]: YamlData }, floats?: FloatTree): string {
  return hasNoKeys(doc) ? '--- {}\n' : `---\n${emit(doc, '', false, floats, 0)}`;
}
