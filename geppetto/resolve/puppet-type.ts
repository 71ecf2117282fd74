/**
 * The Puppet data types a class parameter may declare, enough of them to check a setting before
 * Puppet sees it: String, Integer, Float, Numeric, Boolean, Array, Hash, Optional, Variant, Enum,
 * NotUndef, Scalar, Data, Any, with their parameters (`Integer[1, 65535]`, `String[1]`,
 * `Array[String, 1]`, `Hash[String, String]`). kpkg's modules use the first six with Optional and
 * the builtin parameters' types; a type outside this list is reported, never guessed.
 */
import type { Value } from '../model.js';

export type PuppetType =
  | { kind: 'String'; min: number; max: number }
  | { kind: 'Integer'; min: number; max: number }
  | { kind: 'Float'; min: number; max: number }
  | { kind: 'Numeric' | 'Boolean' | 'Scalar' | 'Data' | 'Any' }
  | { kind: 'Array'; of: PuppetType; min: number; max: number }
  | { kind: 'Hash'; key: PuppetType; value: PuppetType; min: number; max: number }
  | { kind: 'Optional' | 'NotUndef'; of: PuppetType }
  | { kind: 'Variant'; of: PuppetType[] }
  | { kind: 'Enum'; values: string[] };

const ANY: PuppetType = { kind: 'Any' };
const DATA: PuppetType = { kind: 'Data' };

class TypeSyntaxError extends Error {}

/** A recursive-descent reader of one type expression. */
class Reader {
  private pos = 0;
  constructor(private readonly text: string) {}

  parse(): PuppetType {
    const t = this.type();
    this.space();
    if (this.pos !== this.text.length) throw new TypeSyntaxError(`unexpected ${JSON.stringify(this.text.slice(this.pos))}`);
    return t;
  }

  private space(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  private eat(ch: string): boolean {
    this.space();
    if (this.text[this.pos] === ch) {
      this.pos++;
      return true;
    }
    return false;
  }

  private expect(ch: string): void {
    if (!this.eat(ch)) throw new TypeSyntaxError(`expected ${ch} at ${this.pos}`);
  }

  private name(): string {
    this.space();
    const m = /^[A-Z][A-Za-z]*/.exec(this.text.slice(this.pos));
    if (m === null) throw new TypeSyntaxError(`expected a type name at ${this.pos}`);
    this.pos += m[0].length;
    return m[0];
  }

  private number(): number {
    this.space();
    const m = /^(?:default|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(this.text.slice(this.pos));
    if (m === null) throw new TypeSyntaxError(`expected a number at ${this.pos}`);
    this.pos += m[0].length;
    return m[0] === 'default' ? NaN : Number(m[0]);
  }

  private quoted(): string {
    this.space();
    const q = this.text[this.pos];
    if (q !== "'" && q !== '"') throw new TypeSyntaxError(`expected a quoted string at ${this.pos}`);
    let out = '';
    this.pos++;
    while (this.pos < this.text.length && this.text[this.pos] !== q) {
      if (this.text[this.pos] === '\\') this.pos++;
      out += this.text[this.pos] ?? '';
      this.pos++;
    }
    if (this.text[this.pos] !== q) throw new TypeSyntaxError('unterminated string');
    this.pos++;
    return out;
  }

  /** `a[, b]`: numeric bounds; one that is `default` or not given stays at `lo` / `hi`. */
  private range(lo: number, hi: number): [number, number] {
    const a = this.number();
    const b = this.eat(',') ? this.number() : NaN;
    return [Number.isNaN(a) ? lo : a, Number.isNaN(b) ? hi : b];
  }

  /** `[a, b]` numeric bounds after a type name (`Integer[1, 65535]`). */
  private bounds(lo: number, hi: number): [number, number] {
    if (!this.eat('[')) return [lo, hi];
    const r = this.range(lo, hi);
    this.expect(']');
    return r;
  }

  /** `, min[, max]` after a collection's element types (`Array[String, 1]`). */
  private sizes(): [number, number] {
    return this.eat(',') ? this.range(0, Infinity) : [0, Infinity];
  }

  private type(): PuppetType {
    const name = this.name();
    switch (name) {
      case 'String': {
        const [min, max] = this.bounds(0, Infinity);
        return { kind: 'String', min, max };
      }
      case 'Integer':
      case 'Float': {
        const [min, max] = this.bounds(-Infinity, Infinity);
        return { kind: name, min, max };
      }
      case 'Numeric':
      case 'Boolean':
      case 'Scalar':
      case 'Data':
      case 'Any':
        return { kind: name };
      case 'Array': {
        if (!this.eat('[')) return { kind: 'Array', of: DATA, min: 0, max: Infinity };
        const of = this.type();
        const [min, max] = this.sizes();
        this.expect(']');
        return { kind: 'Array', of, min, max };
      }
      case 'Hash': {
        if (!this.eat('[')) return { kind: 'Hash', key: ANY, value: DATA, min: 0, max: Infinity };
        const key = this.type();
        this.expect(',');
        const value = this.type();
        const [min, max] = this.sizes();
        this.expect(']');
        return { kind: 'Hash', key, value, min, max };
      }
      case 'Optional':
      case 'NotUndef': {
        this.expect('[');
        const of = this.type();
        this.expect(']');
        return { kind: name, of };
      }
      case 'Variant': {
        this.expect('[');
        const of = [this.type()];
        while (this.eat(',')) of.push(this.type());
        this.expect(']');
        return { kind: 'Variant', of };
      }
      case 'Enum': {
        this.expect('[');
        const values = [this.quoted()];
        while (this.eat(',')) values.push(this.quoted());
        this.expect(']');
        return { kind: 'Enum', values };
      }
      default:
        throw new TypeSyntaxError(`unsupported type ${name}`);
    }
  }
}

const parsed = new Map<string, PuppetType | undefined>();

/** The type a parameter declares; undefined for a type this module cannot check. Cached. */
export function parsePuppetType(text: string): PuppetType | undefined {
  if (parsed.has(text)) return parsed.get(text);
  let t: PuppetType | undefined;
  try {
    t = new Reader(text).parse();
  } catch (err) {
    if (!(err instanceof TypeSyntaxError)) throw err;
    t = undefined;
  }
  parsed.set(text, t);
  return t;
}

/** Whether the type accepts no value at all (undef): then a key without default is not missing. */
export function acceptsUndef(t: PuppetType): boolean {
  switch (t.kind) {
    case 'Optional':
    case 'Any':
    case 'Data':
      return true;
    case 'Variant':
      return t.of.some(acceptsUndef);
    default:
      return false;
  }
}

function isPlainObject(v: unknown): v is Record<string, Value> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Character count as Puppet's String[min, max] counts (code points). */
function length(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * Whether `v` is a value of the Puppet type `t`. A Float accepts an integral number: JSON cannot
 * tell 3 from 3.0, so the file writes the numbers of a Float parameter with a dot (see file.ts).
 */
export function valueMatches(v: Value, t: PuppetType): boolean {
  switch (t.kind) {
    case 'String':
      if (typeof v !== 'string') return false;
      if (t.min === 0 && t.max === Infinity) return true;
      {
        const n = length(v);
        return n >= t.min && n <= t.max;
      }
    case 'Integer':
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= t.min && v <= t.max;
    case 'Float':
      return typeof v === 'number' && Number.isFinite(v) && v >= t.min && v <= t.max;
    case 'Numeric':
      return typeof v === 'number' && Number.isFinite(v);
    case 'Boolean':
      return typeof v === 'boolean';
    case 'Scalar':
      return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    case 'Data':
    case 'Any':
      return true;
    case 'Array':
      return Array.isArray(v) && v.length >= t.min && v.length <= t.max && v.every((x) => valueMatches(x, t.of));
    case 'Hash': {
      if (!isPlainObject(v)) return false;
      const n = Object.keys(v).length;
      if (n < t.min || n > t.max) return false;
      return Object.entries(v).every(([k, x]) => valueMatches(k, t.key) && valueMatches(x, t.value));
    }
    case 'Optional':
    case 'NotUndef':
      return valueMatches(v, t.of);
    case 'Variant':
      return t.of.some((x) => valueMatches(v, x));
    case 'Enum':
      return typeof v === 'string' && t.values.includes(v);
  }
}

/**
 * Whether the numbers in a value of this type must be Floats (Float, Array[Float],
 * Hash[String, Float], Optional[Float]...): an integral one is then written `3.0`, since Puppet's
 * Float refuses the Integer `3`.
 */
export function wantsFloat(t: PuppetType): boolean {
  switch (t.kind) {
    case 'Float':
      return true;
    case 'Optional':
    case 'NotUndef':
    case 'Array':
      return wantsFloat(t.of);
    case 'Hash':
      return wantsFloat(t.value);
    case 'Variant':
      return t.of.some(wantsFloat) && !t.of.some((x) => x.kind === 'Integer' || x.kind === 'Numeric' || x.kind === 'Scalar');
    default:
      return false;
  }
}
