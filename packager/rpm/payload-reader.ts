/**
 * Reads a package's payload: decompresses it as a stream and walks the cpio archive, checking
 * every member against the file list of the header, with a bound on how much the archive may
 * expand to (a decompression bomb stops there).
 */
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FormatError } from '../errors.js';
import { createDecompressor, detectCompression } from './compress.js';
import { parseCpioHeader, pad4, type CpioEntry } from './cpio.js';
import { fileSource, packageInfo, type ByteSource, type RpmFileInfo, type RpmPackage } from './reader.js';
import { SigTag, Tag } from './tags.js';

export type PayloadEvent =
  | { type: 'entry'; path: string; mode: number; size: number; mtime: number; fileIndex?: number }
  | { type: 'data'; chunk: Buffer }
  | { type: 'end' };

/**
 * Decompresses the payload and walks its cpio archive: an `entry` event per member, its body as
 * `data` events, and `end` after the trailer. Memory stays bounded whatever the member sizes, and
 * decompression stops with an error as soon as the archive outgrows what the package declares
 * (archiveLimit): a payload of a few hundred KB that inflates to gigabytes is never inflated.
 */
export async function* readPayload(pkg: RpmPackage, files?: RpmFileInfo[]): AsyncGenerator<PayloadEvent> {
  const fileList = files ?? packageInfo(pkg).files;
  const src = await fileSource(pkg.path);
  try {
    yield* walkPayload(src, pkg, fileList);
  } finally {
    await src.close();
  }
}

/** The size of the uncompressed cpio archive the package declares, where rpm looks for it. */
export function declaredArchiveSize(pkg: Pick<RpmPackage, 'header' | 'signature'>): number | undefined {
  // rpm merges the signature's sizes into the header on reading (headerMergeLegacySigs), and
  // headerGet(LONGARCHIVESIZE) falls back to the 32-bit ARCHIVESIZE
  const h = pkg.header;
  return h.number(SigTag.LONGARCHIVESIZE) ?? pkg.signature.number(SigTag.LONGARCHIVESIZE) ?? h.number(Tag.ARCHIVESIZE) ?? pkg.signature.number(SigTag.PAYLOADSIZE);
}

// newc member overhead beyond its name and body: the 110-byte header, "." before the path, the
// name's NUL, padding of the header and of the body to 4 bytes
const CPIO_MEMBER_OVERHEAD = 110 + 2 + 3 + 3;
const CPIO_TRAILER_SIZE = 124;
// Tolerance for writers that pad the archive (GNU cpio pads to 512 bytes) or count its size
// otherwise than rpm (which counts every byte, trailer and padding included).
const ARCHIVE_SLACK = 64 << 10;

/**
 * The most the uncompressed archive may hold: the size the package declares, never more than its
 * files (as the header lists them) can fill, plus ARCHIVE_SLACK. Decompressing past it is an error.
 */
export function archiveLimit(pkg: Pick<RpmPackage, 'header' | 'signature'>, files: RpmFileInfo[]): { bytes: number; why: string } {
  let fill = CPIO_TRAILER_SIZE;
  for (const f of files) fill += CPIO_MEMBER_OVERHEAD + Buffer.byteLength(f.path) + f.size;
  const declared = declaredArchiveSize(pkg);
  return declared !== undefined && declared <= fill
    ? { bytes: declared + ARCHIVE_SLACK, why: `the package declares a ${declared}-byte archive` }
    : { bytes: fill + ARCHIVE_SLACK, why: `the ${files.length} file(s) the header lists fill at most ${fill} bytes` };
}

async function* compressedChunks(src: ByteSource, start: number): AsyncGenerator<Buffer> {
  const CHUNK = 1 << 20;
  for (let pos = start; pos < src.size; pos += CHUNK) {
    yield await src.read(pos, Math.min(CHUNK, src.size - pos), 'payload');
  }
}

export async function* walkPayload(src: ByteSource, pkg: Pick<RpmPackage, 'payloadOffset' | 'header' | 'signature'>, files: RpmFileInfo[]): AsyncGenerator<PayloadEvent> {
  const { payloadOffset } = pkg;
  if (payloadOffset >= src.size) throw new FormatError('payload', payloadOffset, 'the file ends where the payload should begin (truncated file?)');
  const limit = archiveLimit(pkg, files);
  const magic = await src.read(payloadOffset, Math.min(8, src.size - payloadOffset), 'payload');
  const algo = detectCompression(magic);
  let decompressor: Transform;
  try {
    decompressor = createDecompressor(algo);
  } catch (e) {
    // a payload in a format we do not read (bzip2): this package cannot be read
    throw new FormatError('payload', payloadOffset, (e as Error).message, { cause: e });
  }
  // feed the decompressor from the file while we consume its output; a read error destroys the
  // decompressor (and so ends the loop below), and leaving the loop early ends the feeding
  const feeding = pipeline(Readable.from(compressedChunks(src, payloadOffset)), decompressor).catch(() => undefined);

  let buf: Buffer = Buffer.alloc(0);
  let archivePos = 0; // offset in the uncompressed archive of buf[0]
  let produced = 0; // bytes out of the decompressor
  let remaining = 0; // body bytes of the current member still to pass on
  let skip = 0; // padding after the current body
  let sawTrailer = false;
  try {
    for await (const raw of decompressor as AsyncIterable<Buffer>) {
      produced += raw.length;
      // rpm pads payloads; anything after the trailer is ignored (but counted)
      if (!sawTrailer) buf = buf.length ? Buffer.concat([buf, raw]) : raw;
      while (!sawTrailer) {
        if (remaining > 0) {
          if (buf.length === 0) break;
          const n = Math.min(remaining, buf.length);
          yield { type: 'data', chunk: buf.subarray(0, n) };
          buf = buf.subarray(n);
          archivePos += n;
          remaining -= n;
          if (remaining > 0) break;
        }
        if (skip > 0) {
          const n = Math.min(skip, buf.length);
          buf = buf.subarray(n);
          archivePos += n;
          skip -= n;
          if (skip > 0) break;
        }
        const parsed = parseCpioHeader(buf, archivePos);
        if (!parsed) break;
        const at = archivePos;
        buf = buf.subarray(parsed.headerSize);
        archivePos += parsed.headerSize;
        if (parsed.kind === 'trailer') {
          sawTrailer = true;
          yield { type: 'end' };
          break;
        }
        let entry: { path: string; mode: number; size: number; mtime: number; fileIndex?: number };
        if (parsed.kind === 'stripped') {
          const f = files[parsed.fileIndex];
          if (!f) throw new FormatError('cpio payload', at, `stripped entry names file ${parsed.fileIndex}, the header lists ${files.length}`);
          const isReg = (f.mode & 0o170000) === 0o100000 || (f.mode & 0o170000) === 0o120000;
          entry = { path: f.path, mode: f.mode, size: isReg ? f.size : 0, mtime: f.mtime, fileIndex: parsed.fileIndex };
        } else {
          entry = fromNewc(parsed.entry);
        }
        if (archivePos + entry.size > limit.bytes) {
          throw new FormatError('cpio payload', at, `member ${JSON.stringify(entry.path)} declares ${entry.size} bytes, which runs past byte ${limit.bytes}, yet ${limit.why}`);
        }
        yield { type: 'entry', ...entry };
        remaining = entry.size;
        skip = pad4(entry.size);
      }
      // checked after the members in this chunk, whose own sizes say more than this
      if (produced > limit.bytes) {
        throw new FormatError('cpio payload', limit.bytes, `the archive goes on past byte ${limit.bytes}, yet ${limit.why} (decompression bomb, or corrupt payload)`);
      }
    }
  } finally {
    decompressor.destroy();
    await feeding;
  }
  if (!sawTrailer) {
    throw new FormatError('cpio payload', archivePos, remaining > 0 ? `archive ends inside a member, ${remaining} bytes short (truncated payload?)` : 'archive ends without its TRAILER!!! entry (truncated payload?)');
  }
}

function fromNewc(e: CpioEntry): { path: string; mode: number; size: number; mtime: number } {
  const path = e.name.startsWith('./') ? e.name.slice(1) : e.name.startsWith('/') ? e.name : `/${e.name}`;
  return { path, mode: e.mode, size: e.size, mtime: e.mtime };
}
