/**
 * Reads back the YAML that yaml-emit.ts writes (the per-server file), for the file's JSON form
 * (scripts and the API ask for it; Punch takes the YAML as stored): the `yaml` package takes over
 * a millisecond to parse a 2 KB file, fifty times the cost of the rest of the request. yaml-emit.ts writes a small, fixed subset
 * (block mappings and sequences indented by two spaces, plain words, double-quoted strings with
 * JSON's escapes, numbers, booleans, `[]` and `{}`), read here line by line. Anything outside that
 * subset is not guessed at: `readYamlFile` hands the text to the `yaml` package instead.
 * test/unit/geppetto/yaml-read.test.ts checks both readers agree on every emitted document.
 */
import YAML from 'yaml';

/** Thrown inside: the text is not yaml-emit.ts's. */
class NotEmitted extends Error {}

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
// what a plain word could also be read as by YAML 1.1 or 1.2 (yaml-emit.ts quotes those)
const KEYWORD = /^(?:y|yes|n|no|true|false|on|off|null|e[-+]?[0-9]+)$/i;
const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
const FLOAT = /^-?(?:0|[1-9][0-9]*)\.[0-9]+(?:e[-+][0-9]+)?$/;

function set(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (Object.hasOwn(obj, key)) throw new NotEmitted(`duplicate key ${key}`);
  // `__proto__` as an own property, as the `yaml` package makes it (defining every key would
  // turn objects into slow dictionaries)
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** A double-quoted scalar at the start of `s`: its value and where it ends. */
function quoted(s: string): { value: string; end: number } {
  let j = 1;
  for (;;) {
    const q = s.indexOf('"', j);
    if (q === -1) throw new NotEmitted('unterminated string');
    let backslashes = 0;
    while (s[q - 1 - backslashes] === '\\') backslashes++;
    if (backslashes % 2 === 0) {
      const raw = s.slice(0, q + 1);
      // no escape: the text between the quotes (yaml-emit.ts quotes no control character raw)
      if (!raw.includes('\\')) {
        if (/[\u0000-\u001f]/.test(raw)) throw new NotEmitted('control character');
        return { value: raw.slice(1, -1), end: q + 1 };
      }
      // yaml-emit.ts escapes only with \" \\ \n \t \r \uXXXX: JSON's escapes, with YAML's meaning
      if (/\\[^"\\ntru]/.test(raw.replace(/\\\\/g, ''))) throw new NotEmitted('escape');
      const value: unknown = JSON.parse(raw);
      if (typeof value !== 'string') throw new NotEmitted('string');
      return { value, end: q + 1 };
    }
    j = q + 1;
  }
}

function scalar(s: string): unknown {
  if (s === '[]') return [];
  if (s === '{}') return {};
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (s.startsWith('"')) {
    const q = quoted(s);
    if (q.end !== s.length) throw new NotEmitted('after a string');
    return q.value;
  }
  if (INTEGER.test(s)) {
    const n = Number(s);
    if (!Number.isSafeInteger(n)) throw new NotEmitted('integer');
    return n;
  }
  if (FLOAT.test(s)) return Number(s);
  if (PLAIN.test(s) && !KEYWORD.test(s)) return s;
  throw new NotEmitted(`scalar ${s}`);
}

/** `key: rest` (key plain or quoted): the key and what follows the colon, or undefined when `s` is no mapping entry. */
function entry(s: string): { key: string; rest: string } | undefined {
  let key: string;
  let end: number;
  if (s.startsWith('"')) {
    const q = quoted(s);
    if (q.end === s.length) return undefined;
    key = q.value;
    end = q.end;
  } else {
    end = s.indexOf(':');
    if (end === -1) return undefined;
    key = s.slice(0, end);
    if (!PLAIN.test(key) || KEYWORD.test(key)) throw new NotEmitted(`key ${key}`);
  }
  if (s[end] !== ':') throw new NotEmitted('key without a colon');
  const rest = s.slice(end + 1);
  if (rest !== '' && !rest.startsWith(' ')) throw new NotEmitted('colon');
  return { key, rest: rest.slice(1) };
}

class Reader {
  private i = 1;
  constructor(private readonly lines: string[]) {}

  done(): boolean {
    return this.i >= this.lines.length;
  }

  /** The content of the current line if it is indented by exactly `indent`, else undefined. */
  private at(indent: number): string | undefined {
    const line = this.lines[this.i];
    if (line === undefined || line.length <= indent || line[indent] === ' ') return undefined;
    for (let k = 0; k < indent; k++) if (line[k] !== ' ') return undefined;
    return line.slice(indent);
  }

  /** The block (mapping or sequence) starting at the current line, indented by `indent`. */
  block(indent: number): unknown {
    const first = this.at(indent);
    if (first === undefined) throw new NotEmitted(`line ${this.i + 1}: indentation`);
    return first === '-' || first.startsWith('- ') ? this.sequence(indent) : this.mapping(indent, {}, undefined);
  }

  /** Mapping entries at `indent`; `head` is a first entry already cut from a `- key: value` line. */
  mapping(indent: number, obj: Record<string, unknown>, head: string | undefined): Record<string, unknown> {
    let content = head;
    if (content === undefined) content = this.at(indent);
    while (content !== undefined && content !== '-' && !content.startsWith('- ')) {
      const e = entry(content);
      if (!e) throw new NotEmitted(`line ${this.i + 1}: not a mapping entry`);
      this.i++;
      set(obj, e.key, e.rest === '' ? this.block(indent + 2) : scalar(e.rest));
      content = this.at(indent);
    }
    return obj;
  }

  sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (let content = this.at(indent); content === '-' || content?.startsWith('- '); content = this.at(indent)) {
      if (content === '-') {
        this.i++;
        out.push(this.block(indent + 2));
        continue;
      }
      const item = content.slice(2);
      const e = entry(item);
      if (e) out.push(this.mapping(indent + 2, {}, item));
      else {
        this.i++;
        out.push(scalar(item));
      }
    }
    return out;
  }
}

/** yaml-emit.ts's document read back; throws on any text it would not write. */
export function readEmittedYaml(text: string): unknown {
  if (text === '--- {}\n') return {};
  if (!text.startsWith('---\n') || !text.endsWith('\n')) throw new NotEmitted('document start or end');
  const lines = text.slice(0, -1).split('\n');
  const reader = new Reader(lines);
  const doc = reader.block(0);
  if (!reader.done()) throw new NotEmitted('trailing lines');
  return doc;
}

/** A per-server file's YAML as data: the fast reader for what Geppetto wrote, the `yaml` package for anything else. */
export function readYamlFile(text: string): unknown {
  try {
    return readEmittedYaml(text);
  } catch (err) {
    if (!(err instanceof NotEmitted) && !(err instanceof SyntaxError)) throw err;
    return YAML.parse(text);
  }
}
