/**
 * The RPM header structure, format only: an index of 16-byte entries (tag, type, offset, count)
 * followed by a data store, with a region tag that marks the entries as immutable. Knows nothing of
 * which tags a package gets (that is package-header.ts).
 *
 *   magic(8) il(4) dl(4) | il x { tag(4) type(4) offset(4) count(4) } | data(dl)
 *
 * One file of ~470 lines on purpose: the Header class and the entry codec below it (alignment,
 * value checks, encoding, bounds-checked decoding) share the index layout and the lazy slots;
 * split, the codec would have to expose them.
 */
import { FormatError } from '../errors.js';
import { HEADER_MAGIC, Tag, TagType } from './tags.js';

export type TagValue = string | string[] | number[] | bigint[] | Buffer;

export interface HeaderEntry {
  tag: number;
  type: TagType;
  value: TagValue;
}

const ENTRY_SIZE = 16;
const INTRO_SIZE = 16; // magic + il + dl
// rpm's own sanity limits (lib/header_internal.h hdrchkTags/hdrchkData)
export const MAX_INDEX_ENTRIES = 0xffff;
export const MAX_DATA_LENGTH = 0x0fffffff;

const ALIGN: Partial<Record<TagType, number>> = {
  [TagType.INT16]: 2,
  [TagType.INT32]: 4,
  [TagType.INT64]: 8,
};

const NO_SLOTS = new Uint32Array(0);
const NO_STORE: Buffer = Buffer.alloc(0);

/** An ordered set of entries; the encoder sorts by tag, as rpm expects. */
export class Header {
  /** Entries given by set() (or taken from the store and changed). */
  private entries: Map<number, HeaderEntry> | undefined;
  /**
   * The entries of a decoded header, checked by decode and decoded on first use: per index entry
   * tag, type (0: none, or gone), data position in `store`, count. No object per entry: most
   * readers want a few tags of many.
   */
  private slots = NO_SLOTS;
  private decoded: (HeaderEntry | undefined)[] = [];
  private sorted = true;
  private store = NO_STORE;

  /** The slot holding `tag`, or -1. */
  private find(tag: number): number {
    const s = this.slots;
    let lo = 0;
    let hi = (s.length >>> 2) - 1;
    if (!this.sorted) {
      for (let i = 0; i <= hi; i++) if (s[i * 4] === tag && s[i * 4 + 1] !== 0) return i;
      return -1;
    }
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const t = s[mid * 4] as number;
      if (t === tag) return s[mid * 4 + 1] !== 0 ? mid : -1;
      if (t < tag) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private decodeSlot(i: number): HeaderEntry {
    const s = this.slots;
    const type = s[i * 4 + 1] as TagType;
    return (this.decoded[i] ??= { tag: s[i * 4] as number, type, value: decodeValue(this.store, s[i * 4 + 2] as number, type, s[i * 4 + 3] as number) });
  }

  set(tag: number, type: TagType, value: TagValue): this {
    checkValue(tag, type, value);
    this.delete(tag);
    (this.entries ??= new Map()).set(tag, { tag, type, value });
    return this;
  }

  get(tag: number): HeaderEntry | undefined {
    const entry = this.entries?.get(tag);
    if (entry !== undefined) return entry;
    const i = this.find(tag);
    return i < 0 ? undefined : this.decodeSlot(i);
  }

  has(tag: number): boolean {
    return this.entries?.has(tag) === true || this.find(tag) >= 0;
  }

  delete(tag: number): void {
    this.entries?.delete(tag);
    const i = this.find(tag);
    if (i >= 0) this.slots[i * 4 + 1] = 0;
  }

  list(): HeaderEntry[] {
    const out = [...(this.entries?.values() ?? [])];
    for (let i = 0; i < this.slots.length >>> 2; i++) if (this.slots[i * 4 + 1] !== 0) out.push(this.decodeSlot(i));
    return out.sort((a, b) => a.tag - b.tag);
  }

  string(tag: number): string | undefined {
    const v = this.get(tag)?.value;
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
    return undefined;
  }

  strings(tag: number): string[] {
    const v = this.get(tag)?.value;
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    return [];
  }

  /**
   * The bytes of each string of a STRING, STRING_ARRAY or I18NSTRING entry, as stored (copies);
   * undefined for an absent or non-string entry. string() and strings() decode UTF-8 and replace
   * invalid bytes with U+FFFD; a reader that must treat such bytes otherwise (createrepo_c reads
   * them as Latin-1) takes them from here.
   */
  stringBytes(tag: number): Buffer[] | undefined {
    const v = this.entries?.get(tag)?.value;
    if (v !== undefined) {
      if (typeof v === 'string') return [Buffer.from(v, 'utf8')];
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.map((x) => Buffer.from(x, 'utf8')) : undefined;
    }
    const i = this.find(tag);
    if (i < 0) return undefined;
    const type = this.slots[i * 4 + 1];
    if (type !== TagType.STRING && type !== TagType.STRING_ARRAY && type !== TagType.I18NSTRING) return undefined;
    const count = type === TagType.STRING ? 1 : (this.slots[i * 4 + 3] ?? 0);
    const out: Buffer[] = [];
    // decode() checked that every string ends inside the data store
    let p = this.slots[i * 4 + 2] ?? 0;
    for (let k = 0; k < count; k++) {
      const nul = this.store.indexOf(0, p);
      out.push(Buffer.from(this.store.subarray(p, nul)));
      p = nul + 1;
    }
    return out;
  }

  /**
   * Integer array of any integer type (the header's own array: do not modify it); INT64 values
   * are converted when safe; [] for strings.
   */
  numbers(tag: number): number[] {
    const e = this.get(tag);
    switch (e?.type) {
      case TagType.CHAR:
      case TagType.INT8:
      case TagType.INT16:
      case TagType.INT32:
        return e.value as number[];
      case TagType.INT64:
        return (e.value as bigint[]).map(Number);
      case TagType.BIN:
        return [...(e.value as Buffer)];
      default:
        return [];
    }
  }

  /** The first value of numbers(tag). */
  number(tag: number): number | undefined {
    return this.numbers(tag)[0];
  }

  /** How many values the entry holds (without decoding them), 0 when absent. */
  count(tag: number): number {
    const v = this.entries?.get(tag)?.value;
    if (v !== undefined) return typeof v === 'string' ? 1 : v.length;
    const i = this.find(tag);
    return i < 0 ? 0 : (this.slots[i * 4 + 3] as number);
  }

  binary(tag: number): Buffer | undefined {
    const v = this.get(tag)?.value;
    return Buffer.isBuffer(v) ? v : undefined;
  }

  /**
   * Serialises with a region entry first (HEADERIMMUTABLE for a main header, HEADERSIGNATURES
   * for a signature header) and its 16-byte trailer at the end of the data store.
   */
  encode(regionTag: number): Buffer {
    const list = this.list();
    const il = list.length + 1;
    const index = Buffer.alloc(il * ENTRY_SIZE);
    const chunks: Buffer[] = [];
    let dl = 0;
    list.forEach((entry, i) => {
      const align = ALIGN[entry.type] ?? 1;
      const pad = (align - (dl % align)) % align;
      if (pad > 0) {
        chunks.push(Buffer.alloc(pad));
        dl += pad;
      }
      const data = encodeValue(entry);
      writeEntry(index, (i + 1) * ENTRY_SIZE, entry.tag, entry.type, dl, countOf(entry));
      chunks.push(data);
      dl += data.length;
    });
    // The region trailer: an entry whose offset is minus the size of the whole index.
    const trailer = Buffer.alloc(ENTRY_SIZE);
    writeEntry(trailer, 0, regionTag, TagType.BIN, -il * ENTRY_SIZE, ENTRY_SIZE);
    writeEntry(index, 0, regionTag, TagType.BIN, dl, ENTRY_SIZE);
    chunks.push(trailer);
    dl += ENTRY_SIZE;
    const intro = Buffer.alloc(INTRO_SIZE);
    HEADER_MAGIC.copy(intro, 0);
    intro.writeUInt32BE(il, 8);
    intro.writeUInt32BE(dl, 12);
    return Buffer.concat([intro, index, ...chunks], INTRO_SIZE + index.length + dl);
  }

  /**
   * Parses a header from `buf` at `start` (`base` is the absolute file offset of `buf[0]`, so that
   * errors name positions in the file). Every offset and count is checked before it is used.
   */
  static decode(buf: Buffer, start: number, structure: string, base = 0): { header: Header; size: number; regionTag?: number } {
    const at = (rel: number) => base + start + rel;
    const { il, dl } = readIntro(buf, start, structure, base);
    const storeStart = start + INTRO_SIZE + il * ENTRY_SIZE;
    const end = storeStart + dl;
    if (end > buf.length) {
      throw new FormatError(structure, at(0), `needs ${INTRO_SIZE + il * ENTRY_SIZE + dl} bytes, only ${buf.length - start} available (truncated file?)`);
    }
    const header = new Header();
    header.slots = new Uint32Array(il * 4);
    header.store = buf;
    let regionTag: number | undefined;
    let usedBytes = 0; // data store bytes the entries so far take (the region trailer aside)
    for (let i = 0; i < il; i++) {
      const pos = start + INTRO_SIZE + i * ENTRY_SIZE;
      const tag = buf.readUInt32BE(pos);
      const type = buf.readUInt32BE(pos + 4) as TagType;
      const offset = buf.readInt32BE(pos + 8);
      const count = buf.readUInt32BE(pos + 12);
      if (type < TagType.CHAR || type > TagType.I18NSTRING) {
        throw new FormatError(structure, at(INTRO_SIZE + i * ENTRY_SIZE + 4), `${entryName(i, tag)}: unknown data type ${type}, expected 1..9`);
      }
      if (offset < 0 || offset >= dl) {
        throw new FormatError(structure, at(INTRO_SIZE + i * ENTRY_SIZE + 8), `${entryName(i, tag)}: data offset ${offset} outside the data store of ${dl} bytes`);
      }
      if (count === 0 || count > dl) {
        throw new FormatError(structure, at(INTRO_SIZE + i * ENTRY_SIZE + 12), `${entryName(i, tag)}: count ${count} impossible for a data store of ${dl} bytes`);
      }
      if (i === 0 && (tag === Tag.HEADERIMAGE || tag === Tag.HEADERSIGNATURES || tag === Tag.HEADERIMMUTABLE) && type === TagType.BIN && count === ENTRY_SIZE) {
        checkRegionTrailer(buf, storeStart, offset, dl, il, tag, structure, base + storeStart);
        regionTag = tag;
        continue;
      }
      // Entries do not share data (rpm lays each one out after the other), so their spans add up
      // to dl at most. Without that bound, entries that all point at one stretch of the store
      // cost il x dl: 65535 strings of 1 MiB of NULs to look through, or 65535 one-byte values
      // per byte of store once decoded, from a 2 MB file.
      const budget = dl - usedBytes;
      const span = storeSpan(buf, storeStart + offset, Math.min(end, storeStart + offset + budget), type, count);
      if (span === undefined) {
        const why = storeStart + offset + budget < end ? `overlap other entries (${usedBytes} of the ${dl} bytes of the data store are taken)` : 'run past the end of the data store';
        throw new FormatError(structure, base + storeStart + offset, `${entryName(i, tag)}: ${count} value(s) of type ${type} ${why}`);
      }
      usedBytes += span;
      // checked now, decoded when first read: most readers want a few tags of many
      header.slots[i * 4] = tag;
      header.slots[i * 4 + 1] = type;
      header.slots[i * 4 + 2] = storeStart + offset;
      header.slots[i * 4 + 3] = count;
      if (i > 0 && tag <= (header.slots[(i - 1) * 4] as number)) header.sorted = false;
    }
    return { header, size: INTRO_SIZE + il * ENTRY_SIZE + dl, ...(regionTag !== undefined ? { regionTag } : {}) };
  }
}

const entryName = (i: number, tag: number): string => `index entry ${i} (tag ${tag})`;

/** Reads the 16-byte intro of a header and checks its magic and sizes; returns counts. */
export function readIntro(buf: Buffer, start: number, structure: string, base = 0): { il: number; dl: number; size: number } {
  if (buf.length - start < INTRO_SIZE) {
    throw new FormatError(structure, base + start, `expected a ${INTRO_SIZE}-byte header intro, found ${Math.max(0, buf.length - start)} bytes (truncated file?)`);
  }
  if (!buf.subarray(start, start + 8).equals(HEADER_MAGIC)) {
    throw new FormatError(structure, base + start, `expected header magic 8eade801, found ${buf.subarray(start, start + 4).toString('hex')}`);
  }
  const il = buf.readUInt32BE(start + 8);
  const dl = buf.readUInt32BE(start + 12);
  if (il < 1 || il > MAX_INDEX_ENTRIES) {
    throw new FormatError(structure, base + start + 8, `index entry count ${il} outside 1..${MAX_INDEX_ENTRIES}`);
  }
  if (dl > MAX_DATA_LENGTH) {
    throw new FormatError(structure, base + start + 12, `data store length ${dl} larger than rpm's limit of ${MAX_DATA_LENGTH}`);
  }
  return { il, dl, size: INTRO_SIZE + il * ENTRY_SIZE + dl };
}

export const HEADER_INTRO_SIZE = INTRO_SIZE;

function checkRegionTrailer(buf: Buffer, storeStart: number, offset: number, dl: number, il: number, tag: number, structure: string, base: number): void {
  if (offset + ENTRY_SIZE > dl) {
    throw new FormatError(structure, base + offset, `region trailer of tag ${tag} runs past the data store`);
  }
  const p = storeStart + offset;
  const ttag = buf.readUInt32BE(p);
  const trailerOffset = buf.readInt32BE(p + 8);
  if (ttag !== tag || -trailerOffset !== il * ENTRY_SIZE) {
    // rpm accepts regions that cover fewer entries (legacy dribbles); we only require sanity.
    if (ttag !== tag || -trailerOffset > il * ENTRY_SIZE || trailerOffset % ENTRY_SIZE !== 0) {
      throw new FormatError(structure, base + offset, `region trailer says tag ${ttag} offset ${trailerOffset}, expected tag ${tag} offset ${-il * ENTRY_SIZE}`);
    }
  }
}

function writeEntry(buf: Buffer, pos: number, tag: number, type: TagType, offset: number, count: number): void {
  buf.writeUInt32BE(tag, pos);
  buf.writeUInt32BE(type, pos + 4);
  buf.writeInt32BE(offset, pos + 8);
  buf.writeUInt32BE(count, pos + 12);
}

function countOf(entry: HeaderEntry): number {
  const v = entry.value;
  if (typeof v === 'string') return 1;
  if (Buffer.isBuffer(v)) return v.length;
  return v.length;
}

function checkValue(tag: number, type: TagType, value: TagValue): void {
  const fail = (what: string) => {
    throw new TypeError(`tag ${tag}: ${what}`);
  };
  switch (type) {
    case TagType.STRING:
      if (typeof value !== 'string') fail('STRING needs a string');
      if ((value as string).includes('\0')) fail('a string may not contain NUL');
      break;
    case TagType.I18NSTRING:
    case TagType.STRING_ARRAY:
      if (typeof value === 'string' && type === TagType.I18NSTRING) {
        if (value.includes('\0')) fail('a string may not contain NUL');
        break;
      }
      if (!Array.isArray(value) || value.length === 0 || !value.every((s) => typeof s === 'string' && !s.includes('\0'))) fail('needs a non-empty array of NUL-free strings');
      break;
    case TagType.BIN:
      if (!Buffer.isBuffer(value) || value.length === 0) fail('BIN needs a non-empty Buffer');
      break;
    case TagType.INT64:
      if (!Array.isArray(value) || value.length === 0 || !value.every((n) => typeof n === 'bigint' && n >= 0n && n < 1n << 64n)) fail('INT64 needs non-empty unsigned bigints');
      break;
    case TagType.CHAR:
    case TagType.INT8:
    case TagType.INT16:
    case TagType.INT32: {
      const max = type === TagType.INT16 ? 0xffff : type === TagType.INT32 ? 0xffffffff : 0xff;
      if (!Array.isArray(value) || value.length === 0 || !value.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max)) fail(`needs non-empty integers in 0..${max}`);
      break;
    }
    default:
      fail(`unsupported type ${type}`);
  }
}

function encodeValue(entry: HeaderEntry): Buffer {
  const v = entry.value;
  switch (entry.type) {
    case TagType.STRING:
      return Buffer.from(`${v as string}\0`, 'utf8');
    case TagType.I18NSTRING:
    case TagType.STRING_ARRAY: {
      const arr = typeof v === 'string' ? [v] : (v as string[]);
      return Buffer.from(arr.map((s) => `${s}\0`).join(''), 'utf8');
    }
    case TagType.BIN:
      return v as Buffer;
    case TagType.CHAR:
    case TagType.INT8:
      return Buffer.from(v as number[]);
    case TagType.INT16: {
      const arr = v as number[];
      const b = Buffer.alloc(arr.length * 2);
      arr.forEach((n, i) => b.writeUInt16BE(n, i * 2));
      return b;
    }
    case TagType.INT32: {
      const arr = v as number[];
      const b = Buffer.alloc(arr.length * 4);
      arr.forEach((n, i) => b.writeUInt32BE(n, i * 4));
      return b;
    }
    case TagType.INT64: {
      const arr = v as bigint[];
      const b = Buffer.alloc(arr.length * 8);
      arr.forEach((n, i) => b.writeBigUInt64BE(n, i * 8));
      return b;
    }
    default:
      throw new TypeError(`cannot encode type ${entry.type as number}`);
  }
}

const STRING_TYPES: ReadonlySet<TagType> = new Set([TagType.STRING, TagType.STRING_ARRAY, TagType.I18NSTRING]);

/** Bytes the `count` values at `pos` take (strings with their NULs), or undefined past `end`. */
function storeSpan(buf: Buffer, pos: number, end: number, type: TagType, count: number): number | undefined {
  if (!STRING_TYPES.has(type)) {
    const span = count * (ALIGN[type] ?? 1);
    return pos + span <= end ? span : undefined;
  }
  let p = pos;
  for (let i = 0; i < count; i++) {
    const nul = buf.indexOf(0, p);
    if (nul < 0 || nul >= end) return undefined;
    p = nul + 1;
  }
  return p - pos;
}

/** The value of a stored entry; decode checked that it lies in the data store (storeSpan). */
function decodeValue(buf: Buffer, pos: number, type: TagType, count: number): TagValue {
  switch (type) {
    case TagType.CHAR:
    case TagType.INT8:
      return [...buf.subarray(pos, pos + count)];
    case TagType.BIN:
      return Buffer.from(buf.subarray(pos, pos + count));
    case TagType.INT16: {
      const out = new Array<number>(count);
      for (let i = 0; i < count; i++) out[i] = buf.readUInt16BE(pos + i * 2);
      return out;
    }
    case TagType.INT32: {
      const out = new Array<number>(count);
      for (let i = 0; i < count; i++) out[i] = buf.readUInt32BE(pos + i * 4);
      return out;
    }
    case TagType.INT64: {
      const out = new Array<bigint>(count);
      for (let i = 0; i < count; i++) out[i] = buf.readBigUInt64BE(pos + i * 8);
      return out;
    }
    case TagType.STRING:
      return buf.toString('utf8', pos, buf.indexOf(0, pos));
    default: {
      // STRING_ARRAY, I18NSTRING (decode accepts types 1-9 only)
      const out: string[] = [];
      let p = pos;
      for (let i = 0; i < count; i++) {
        const nul = buf.indexOf(0, p);
        out.push(buf.toString('utf8', p, nul));
        p = nul + 1;
      }
      return out;
    }
  }
}

/**
 * A signature header as it sits in a package file: encoded with its region tag and padded with
 * zeros to a multiple of 8 bytes, so that the main header after it starts aligned (lib/signature.c).
 */
export function encodeSignatureHeader(sig: Header): Buffer {
  return padSignatureHeader(sig.encode(Tag.HEADERSIGNATURES));
}

/** `bytes` (an encoded signature header) padded with zeros to a multiple of 8 bytes. */
export function padSignatureHeader(bytes: Buffer): Buffer {
  const pad = (8 - (bytes.length % 8)) % 8;
  return pad ? Buffer.concat([bytes, Buffer.alloc(pad)]) : bytes;
}
