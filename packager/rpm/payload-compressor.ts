/**
 * Compressors that take the archive in blocks and write it to the spool file, counting and hashing
 * what they write: any stream of compress.ts, and gzip on all cores.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, crc32, deflateRaw, type ZlibOptions } from 'node:zlib';
import { ioError } from '../errors.js';
import { writeAll } from '../util/fs.js';

/** The archive goes to the compressor in blocks of this size... */
export const PAYLOAD_BLOCK = 1 << 20;
/** ...of which a compressor stream may hold this much, so that it never waits for input. */
const IN_FLIGHT = 2 * PAYLOAD_BLOCK;
/** Compressed output goes to the spool file in writes of this size. */
const SPOOL_CHUNK = 1 << 20;

/** Takes the archive in blocks and compresses it into the spool file, counting and hashing that. */
export interface BlockCompressor {
  /** Resolves when the next block may come; the compressor keeps `block`, which must not change. */
  write(block: Buffer): Promise<void>;
  end(): Promise<{ size: number; digest: string }>;
  /** Stops, and resolves once the spool file is closed (it can then be removed). */
  destroy(): Promise<void>;
}

/**
 * Counts and hashes what flows through, on its way to the spool file, in writes of SPOOL_CHUNK:
 * each file write is a thread-pool round trip.
 */
class HashingSink extends Writable {
  readonly hash = createHash('sha256');
  size = 0;
  private pending: Buffer[] = [];
  private pendingSize = 0;
  constructor(private readonly out: NodeJS.WritableStream & { write(chunk: Buffer, cb: (err?: Error | null) => void): boolean }) {
    super({ highWaterMark: SPOOL_CHUNK });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.pending.push(chunk);
    this.pendingSize += chunk.length;
    if (this.pendingSize >= SPOOL_CHUNK) this.flush(cb);
    else cb();
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.flush((err) => (err ? cb(err) : this.out.end(cb)));
  }
  private flush(cb: (err?: Error | null) => void): void {
    if (this.pendingSize === 0) return cb();
    const data = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingSize);
    this.pending = [];
    this.pendingSize = 0;
    this.out.write(data, cb);
  }
}

/**
 * A compressor stream of compress.ts, kept IN_FLIGHT bytes ahead: waiting for 'drain' (an empty
 * buffer) would leave it idle while the next block is read.
 */
export function streamCompressor(compressor: Transform, spoolPath: string): BlockCompressor {
  const spool = createWriteStream(spoolPath, { highWaterMark: SPOOL_CHUNK });
  const sink = new HashingSink(spool);
  // the spool is written by the sink, outside the pipeline: its errors, closing included, fail the payload
  let spoolError: unknown;
  spool.on('error', (e) => {
    spoolError ??= e;
    sink.destroy(e);
  });
  const spoolClosed = new Promise<void>((resolve) => spool.once('close', () => resolve()));
  let failed: Error | undefined;
  let inFlight = 0;
  let waiter: (() => void) | undefined;
  const wake = () => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  const done = pipeline(compressor, sink).catch((e: unknown) => {
    failed ??= ioError('write', spoolPath, e);
    wake();
    throw failed;
  });
  done.catch(() => undefined); // rethrown by end(), or by write() through `failed`
  // a function, not an inline test: `failed` changes in callbacks, behind the compiler's back
  const rethrow = (): void => {
    if (failed) throw failed;
  };
  return {
    async write(block) {
      rethrow();
      inFlight += block.length;
      compressor.write(block, (err) => {
        inFlight -= block.length;
        if (err) failed ??= err;
        if (err || inFlight <= IN_FLIGHT) wake();
      });
      if (inFlight > IN_FLIGHT) await new Promise<void>((resolve) => (waiter = resolve));
      rethrow();
    },
    async end() {
      compressor.end();
      await done;
      await spoolClosed;
      if (spoolError !== undefined) throw ioError('write', spoolPath, spoolError);
      return { size: sink.size, digest: sink.hash.digest('hex') };
    },
    async destroy() {
      compressor.destroy();
      spool.destroy();
      await spoolClosed;
    },
  };
}

/** An empty final deflate block (fixed Huffman codes, end-of-block only): RFC 1951 3.2.3, 3.2.6. */
const DEFLATE_LAST_BLOCK = Buffer.from([0x03, 0x00]);
/** How far back deflate matches reach (RFC 1951: 32 KiB): each block is primed with that much. */
const DEFLATE_WINDOW = 32 * 1024;
/** Blocks compressed at once: at most libuv's default thread pool (4), at most the cores. */
const GZIP_WIDTH = Math.max(1, Math.min(4, availableParallelism()));

/**
 * gzip on all cores, as pigz does: each block is deflated on its own in the thread pool, primed
 * with the 32 KiB of archive before it (so matches reach back as in one serial stream; a reader
 * needs nothing of this) and ended with a sync flush (byte-aligned, not final). In order, with an
 * empty final block, the pieces make one ordinary deflate stream in one gzip member (RFC 1952),
 * a few bytes per block longer than zlib's serial one. The output depends on the input only,
 * never on timing. Memory: GZIP_WIDTH + 1 blocks, their output and a zlib state each.
 */
export async function parallelGzip(level: number, spoolPath: string): Promise<BlockCompressor> {
  let spool: FileHandle;
  try {
    spool = await open(spoolPath, 'w');
  } catch (e) {
    throw ioError('create', spoolPath, e);
  }
  const pieces: Promise<Buffer>[] = [];
  const hash = createHash('sha256');
  let size = 0;
  let crc = 0;
  let isize = 0;
  let previous: Buffer = Buffer.alloc(0);
  const emit = async (chunk: Buffer) => {
    hash.update(chunk);
    size += chunk.length;
    try {
      await writeAll(spool, chunk);
    } catch (e) {
      throw ioError('write', spoolPath, e);
    }
  };
  // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL OS=Unix, XFL as zlib sets it (2: level 9, 4: levels 0-1)
  await emit(Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, level === 9 ? 2 : level < 2 ? 4 : 0, 0x03])).catch(async (e: unknown) => {
    await spool.close().catch(() => undefined);
    throw e;
  });
  return {
    async write(block) {
      crc = crc32(block, crc);
      isize = (isize + block.length) % 0x100000000;
      const options: ZlibOptions = {
        level,
        finishFlush: zlibConstants.Z_SYNC_FLUSH,
        // room for the whole output (deflateBound: n + n/4096 + a little), so that zlib
        // finishes the block in one thread-pool task instead of calling back per 16 KiB
        chunkSize: block.length + (block.length >> 8) + 1024,
      };
      if (previous.length > 0) options.dictionary = previous;
      const piece = new Promise<Buffer>((resolve, reject) => deflateRaw(block, options, (err, out) => (err ? reject(err) : resolve(out))));
      piece.catch(() => undefined); // awaited in order below; this keeps it from being "unhandled" meanwhile
      pieces.push(piece);
      previous = block.length >= DEFLATE_WINDOW ? block.subarray(block.length - DEFLATE_WINDOW) : Buffer.concat([previous, block]).subarray(-DEFLATE_WINDOW);
      // GZIP_WIDTH blocks compress while the caller gathers the next one
      while (pieces.length > GZIP_WIDTH) await emit(await (pieces.shift() as Promise<Buffer>));
    },
    async end() {
      while (pieces.length > 0) await emit(await (pieces.shift() as Promise<Buffer>));
      const trailer = Buffer.alloc(10);
      DEFLATE_LAST_BLOCK.copy(trailer, 0);
      trailer.writeUInt32LE(crc >>> 0, 2); // CRC32 of the archive
      trailer.writeUInt32LE(isize, 6); // ISIZE: its length modulo 2^32
      await emit(trailer);
      try {
        await spool.close();
      } catch (e) {
        throw ioError('write', spoolPath, e);
      }
      return { size, digest: hash.digest('hex') };
    },
    async destroy() {
      await Promise.allSettled(pieces);
      await spool.close().catch(() => undefined);
    },
  };
}
