/**
 * The cpio "newc" archive that carries an RPM payload, one entry at a time, plus rpm's
 * "stripped" variant (magic 07070X, rpm >= 4.12) used when a file reaches 4 GiB: it carries
 * only the file's index into the header arrays, because newc sizes have 8 hex digits.
 *
 *   newc:     "070701" + 13 x 8 hex digits + name NUL, padded to 4; data padded to 4
 *   stripped: "07070X" + 8 hex digits (file index), padded to 4; data padded to 4
 */
import { FormatError } from '../errors.js';

export const NEWC_MAGIC = '070701';
export const STRIPPED_MAGIC = '07070X';
export const TRAILER_NAME = 'TRAILER!!!';
const NEWC_HEADER_SIZE = 110;
const STRIPPED_HEADER_SIZE = 14;
/** The largest size a newc header can state. */
export const NEWC_MAX_SIZE = 0xffffffff;

export interface CpioEntry {
  name: string;
  ino: number;
  mode: number; // type bits | permission bits
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  size: number;
  devMajor: number;
  devMinor: number;
  rdevMajor: number;
  rdevMinor: number;
}

export function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function hex8(n: number, field: string): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`cpio ${field} ${n} does not fit in 8 hex digits`);
  return n.toString(16).padStart(8, '0');
}

/** Header + name + padding of a newc entry (the data and its padding follow). */
export function encodeNewcHeader(e: CpioEntry): Buffer {
  const name = Buffer.from(`${e.name}\0`, 'utf8');
  const fields = [e.ino, e.mode, e.uid, e.gid, e.nlink, e.mtime, e.size, e.devMajor, e.devMinor, e.rdevMajor, e.rdevMinor, name.length, 0];
  const names = ['ino', 'mode', 'uid', 'gid', 'nlink', 'mtime', 'filesize', 'devmajor', 'devminor', 'rdevmajor', 'rdevminor', 'namesize', 'check'];
  const head = NEWC_MAGIC + fields.map((f, i) => hex8(f, names[i] as string)).join('');
  const total = NEWC_HEADER_SIZE + name.length;
  const buf = Buffer.alloc(total + pad4(total));
  buf.write(head, 0, 'latin1');
  name.copy(buf, NEWC_HEADER_SIZE);
  return buf;
}

/** The stripped header rpm uses for packages with large files: only the file's index. */
export function encodeStrippedHeader(fileIndex: number): Buffer {
  const buf = Buffer.alloc(STRIPPED_HEADER_SIZE + pad4(STRIPPED_HEADER_SIZE));
  buf.write(STRIPPED_MAGIC + hex8(fileIndex, 'file index'), 0, 'latin1');
  return buf;
}

export function encodeTrailer(): Buffer {
  return encodeNewcHeader({ name: TRAILER_NAME, ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, size: 0, devMajor: 0, devMinor: 0, rdevMajor: 0, rdevMinor: 0 });
}

export type ParsedCpioHeader =
  | { kind: 'newc'; entry: CpioEntry; headerSize: number }
  | { kind: 'stripped'; fileIndex: number; headerSize: number }
  | { kind: 'trailer'; headerSize: number };

/**
 * Parses the header at the start of `buf`. Returns undefined when `buf` is too short to hold the
 * whole header (the caller reads more); throws on malformed input. `offset` is the position of
 * `buf[0]` in the uncompressed archive, for messages.
 */
export function parseCpioHeader(buf: Buffer, offset: number): ParsedCpioHeader | undefined {
  if (buf.length < 6) return undefined;
  const magic = buf.toString('latin1', 0, 6);
  if (magic === STRIPPED_MAGIC) {
    const size = STRIPPED_HEADER_SIZE + pad4(STRIPPED_HEADER_SIZE);
    if (buf.length < size) return undefined;
    return { kind: 'stripped', fileIndex: parseHex(buf, 6, offset, 'file index'), headerSize: size };
  }
  if (magic !== NEWC_MAGIC && magic !== '070702') {
    throw new FormatError('cpio payload', offset, `expected cpio magic 070701, found ${JSON.stringify(magic)} (payload not cpio newc, or wrongly decompressed)`);
  }
  if (buf.length < NEWC_HEADER_SIZE) return undefined;
  const f = (i: number, name: string) => parseHex(buf, 6 + i * 8, offset, name);
  const namesize = f(11, 'namesize');
  if (namesize < 1 || namesize > 65536) {
    throw new FormatError('cpio payload', offset + 94, `name size ${namesize} outside 1..65536`);
  }
  const total = NEWC_HEADER_SIZE + namesize;
  const headerSize = total + pad4(total);
  if (buf.length < headerSize) return undefined;
  if (buf[NEWC_HEADER_SIZE + namesize - 1] !== 0) {
    throw new FormatError('cpio payload', offset + NEWC_HEADER_SIZE, 'entry name is not NUL-terminated');
  }
  const name = buf.toString('utf8', NEWC_HEADER_SIZE, NEWC_HEADER_SIZE + namesize - 1);
  const entry: CpioEntry = {
    name,
    ino: f(0, 'ino'),
    mode: f(1, 'mode'),
    uid: f(2, 'uid'),
    gid: f(3, 'gid'),
    nlink: f(4, 'nlink'),
    mtime: f(5, 'mtime'),
    size: f(6, 'filesize'),
    devMajor: f(7, 'devmajor'),
    devMinor: f(8, 'devminor'),
    rdevMajor: f(9, 'rdevmajor'),
    rdevMinor: f(10, 'rdevminor'),
  };
  if (name === TRAILER_NAME) return { kind: 'trailer', headerSize };
  return { kind: 'newc', entry, headerSize };
}

function parseHex(buf: Buffer, pos: number, offset: number, field: string): number {
  const s = buf.toString('latin1', pos, pos + 8);
  if (!/^[0-9a-fA-F]{8}$/.test(s)) {
    throw new FormatError('cpio payload', offset + pos, `field ${field}: expected 8 hex digits, found ${JSON.stringify(s)}`);
  }
  return parseInt(s, 16);
}
