/**
 * One escaping function per language a user's value lands in when kpkg writes a Puppet module:
 * Puppet code, Hiera YAML data, EPP template text, Puppet comments, Ruby, JSON and Markdown.
 * Each is pure, and returns text that reads back as exactly the value given (comments and
 * Markdown prose excepted: there a line break may become a space).
 *
 * NUL is refused everywhere: Puppet and Ruby strings do not carry it through every layer, and a
 * configuration value holding one is a mistake, not data. So are lone UTF-16 surrogates, which
 * no UTF-8 file can hold.
 */
import type { ConfigKeyType, ConfigValue } from '../descriptor/types.js';
import { KpkgError } from '../errors.js';

/** Refuses what no target language can carry; the caller adds which field it came from. */
export function checkText(s: string): void {
  const nul = s.indexOf('\0');
  if (nul >= 0) throw new KpkgError('INVALID_INPUT', `contains a NUL character (at index ${nul})`);
  // With the u flag a surrogate pair is one code point, so \p{Cs} only matches lone halves.
  const lone = /\p{Cs}/u.exec(s);
  if (lone !== null) throw new KpkgError('INVALID_INPUT', `contains a lone UTF-16 surrogate (at index ${lone.index})`);
}

function hex4(cp: number): string {
  return cp.toString(16).toUpperCase().padStart(4, '0');
}

// ---------------------------------------------------------------------------------------------
// Values: type checks shared by the Puppet and Hiera renderings

/** Whether `value` is a value of the Puppet type `type`. */
export function valueHasType(value: ConfigValue, type: ConfigKeyType): boolean {
  switch (type) {
    case 'String':
      return typeof value === 'string';
    case 'Integer':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'Float':
      return typeof value === 'number' && Number.isFinite(value);
    case 'Boolean':
      return typeof value === 'boolean';
    case 'Array[String]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'Hash[String, String]':
      return isStringHash(value);
  }
}

function isStringHash(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}

/** The Puppet type a value has when no type is declared: an exact integral number is an Integer. */
function inferType(value: ConfigValue): ConfigKeyType {
  if (typeof value === 'string') return 'String';
  if (typeof value === 'boolean') return 'Boolean';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'Integer' : 'Float';
  if (Array.isArray(value)) return 'Array[String]';
  return 'Hash[String, String]';
}

function checkedType(value: ConfigValue, type: ConfigKeyType | undefined): ConfigKeyType {
  const t = type ?? inferType(value);
  if (!valueHasType(value, t)) {
    const shown = typeof value === 'number' ? String(value) : JSON.stringify(value);
    throw new KpkgError('INVALID_INPUT', `${shown} is not a value of type ${t}`);
  }
  return t;
}

/**
 * A float as `<mantissa with a dot>[e<exponent>]`, whatever JavaScript prints: `5` -> `5.0`,
 * `1e21` -> `1.0e+21`. Without the dot YAML and Puppet would read an Integer, which a Float
 * parameter refuses.
 */
function floatParts(n: number): { mantissa: string; exponent: string | undefined } {
  const [m = '', e] = String(n).split('e');
  return { mantissa: m.includes('.') ? m : `${m}.0`, exponent: e };
}

// ---------------------------------------------------------------------------------------------
// Puppet

/**
 * A Puppet single-quoted string literal. Inside one only `\\` and `\'` are escapes, and
 * `${...}`, `%{...}` and `$(...)` are plain text, so escaping every backslash and quote is enough.
 */
export function puppetString(s: string): string {
  checkText(s);
  return `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** A Puppet literal of a config value: `'text'`, `8080`, `0.5`, `true`, `['a']`, `{ 'k' => 'v' }`. */
export function puppetValue(value: ConfigValue, type?: ConfigKeyType): string {
  switch (checkedType(value, type)) {
    case 'String':
      return puppetString(value as string);
    case 'Integer':
      return (value as number).toString();
    case 'Float': {
      // Puppet's lexer reads `1.0e21` and `1.0e-7` but not `1.0e+21`.
      const { mantissa, exponent } = floatParts(value as number);
      return exponent === undefined ? mantissa : `${mantissa}e${exponent.replace(/^\+/, '')}`;
    }
    case 'Boolean':
      return (value as boolean).toString();
    case 'Array[String]':
      return `[${(value as string[]).map(puppetString).join(', ')}]`;
    case 'Hash[String, String]': {
      const entries = Object.entries(value as Record<string, string>);
      if (entries.length === 0) return '{}';
      return `{ ${entries.map(([k, v]) => `${puppetString(k)} => ${puppetString(v)}`).join(', ')} }`;
    }
  }
}

/**
 * Text as Puppet comment lines: each line starts with `prefix` (e.g. `# ` or `#   `), long lines
 * are wrapped at spaces so puppet-lint's 140 characters hold, control characters become spaces
 * (a carriage return must not end the comment), trailing spaces go. A comment cannot end early,
 * so nothing else needs escaping.
 */
export function puppetComment(s: string, prefix = '# ', width = 100): string {
  checkText(s);
  const lines = s
    .replace(/\r\n?|[\u0085\u2028\u2029]/g, '\n')
    .replace(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/g, ' ')
    .split('\n');
  const out: string[] = [];
  const room = Math.max(20, width - [...prefix].length);
  for (const line of lines) {
    let rest = line.trimEnd();
    if (rest === '') {
      out.push(prefix.trimEnd());
      continue;
    }
    while ([...rest].length > room) {
      const chars = [...rest];
      const head = chars.slice(0, room + 1).join('');
      const cut = head.lastIndexOf(' ');
      // A word longer than a line is cut where the line is full.
      const at = cut > 0 ? cut : chars.slice(0, room).join('').length;
      out.push(`${prefix}${rest.slice(0, at).trimEnd()}`);
      rest = rest.slice(at).trimStart();
    }
    if (rest !== '') out.push(`${prefix}${rest}`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Hiera (YAML data files read by Hiera 5)

/**
 * A YAML double-quoted scalar holding `s` exactly. Escapes `"`, `\` and everything YAML 1.1
 * (Psych, libyaml) does not accept raw in a quoted scalar or would fold: C0 and C1 controls, DEL,
 * the Unicode line and paragraph separators (line breaks in YAML 1.1), BOM and the noncharacters.
 */
export function yamlString(s: string): string {
  checkText(s);
  // runs of characters kept as they are go in as slices: Geppetto writes every string with a quote
  // or a control character through here, in every server's file
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let escaped: string;
    if (c === 34) escaped = '\\"';
    else if (c === 92) escaped = '\\\\';
    else if (c === 10) escaped = '\\n';
    else if (c === 9) escaped = '\\t';
    else if (c === 13) escaped = '\\r';
    // every character escaped is one UTF-16 unit: the halves of a pair (0xD800-0xDFFF) are kept
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || c === 0xfeff || c === 0xfffe || c === 0xffff) escaped = `\\u${hex4(c)}`;
    else continue;
    out += `${s.slice(from, i)}${escaped}`;
    from = i + 1;
  }
  return `${out}${s.slice(from)}"`;
}

/**
 * Hiera interpolates `%{...}` in every string of its data, hash keys included. Each `%{` becomes
 * `%{literal('%')}{`: the `literal` interpolation yields a `%` and the `{` after it starts nothing.
 * (Hiera's pattern is `%\{[^}]*\}`, so a `%` not followed by `{` is already literal.)
 */
export function hieraText(s: string): string {
  checkText(s);
  return s.replace(/%\{/g, "%{literal('%')}{");
}

/** The inverse of hieraText, as Hiera's interpolation computes it for our escapes. */
export function unHieraText(s: string): string {
  return s.replace(/%\{literal\('%'\)\}/g, '%');
}

/**
 * A config value as YAML for Hiera data (one line, flow style): strings double-quoted with `%{`
 * escaped for Hiera, floats always with a dot and a signed exponent (YAML 1.1 reads `1e21` as a
 * string and `5` as an Integer).
 */
export function hieraValue(value: ConfigValue, type?: ConfigKeyType): string {
  const str = (s: string) => yamlString(hieraText(s));
  switch (checkedType(value, type)) {
    case 'String':
      return str(value as string);
    case 'Integer':
      return (value as number).toString();
    case 'Float': {
      const { mantissa, exponent } = floatParts(value as number);
      if (exponent === undefined) return mantissa;
      return `${mantissa}e${/^[+-]/.test(exponent) ? exponent : `+${exponent}`}`;
    }
    case 'Boolean':
      return (value as boolean).toString();
    case 'Array[String]':
      return `[${(value as string[]).map(str).join(', ')}]`;
    case 'Hash[String, String]':
      return `{${Object.entries(value as Record<string, string>)
        .map(([k, v]) => `${str(k)}: ${str(v)}`)
        .join(', ')}}`;
  }
}

// ---------------------------------------------------------------------------------------------
// EPP

/**
 * Literal text in an EPP template: every tag starts with `<%`, and `<%%` is EPP's escape for a
 * literal `<%`; outside a tag `%>` is plain text.
 */
export function eppText(s: string): string {
  checkText(s);
  return s.replace(/<%/g, '<%%');
}

// ---------------------------------------------------------------------------------------------
// JSON, Ruby

/** A JSON string literal (what JSON.parse reads back as `s`). */
export function jsonString(s: string): string {
  checkText(s);
  return JSON.stringify(s);
}

/** A Ruby single-quoted string literal: only `\\` and `\'` are escapes there. */
export function rubyString(s: string): string {
  checkText(s);
  return `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

// ---------------------------------------------------------------------------------------------
// Markdown (the module's README)

/**
 * Prose in a Markdown paragraph or list item, on one line: line breaks become spaces, inline
 * syntax characters are backslash-escaped (CommonMark allows that for any ASCII punctuation), and
 * a leading character that would start a block (heading, list, quote) is escaped too.
 */
export function markdownText(s: string): string {
  checkText(s);
  const line = s.replace(/\s+/g, ' ').trim();
  const inline = line.replace(/[\\`*_[\]<>|~&!]/g, (c) => `\\${c}`);
  return inline.replace(/^([#+\-=>])/, '\\$1').replace(/^(\d+)([.)])/, '$1\\$2');
}

/** An inline code span showing `s` (line breaks as spaces): the fence outgrows any backtick run in it. */
export function markdownCode(s: string): string {
  checkText(s);
  const line = s.replace(/[\r\n]+/g, ' ');
  if (line === '') return '` `';
  const longest = Math.max(0, ...[...line.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  // CommonMark strips one space at each end when both ends have one (unless all are spaces):
  // pad so that strips ours.
  const spaced = line.startsWith(' ') && line.endsWith(' ') && line.trim() !== '';
  const pad = line.startsWith('`') || line.endsWith('`') || spaced ? ' ' : '';
  return `${fence}${pad}${line}${pad}${fence}`;
}
