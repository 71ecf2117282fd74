/**
 * Payload compressors: an RPM payload is one cpio archive compressed as a whole. Streams only, so
 * memory stays bounded whatever the size of the package.
 *
 * Backends, chosen at run time:
 *   gzip  node:zlib.
 *   zstd  node:zlib where it has zstd (Node >= 22.15 / 23.8); otherwise @bokuweb/zstd-wasm (WASM,
 *         compression, as independent frames of FRAME_SIZE bytes) and fzstd (pure JS,
 *         decompression). Both are plain npm dependencies with no install script.
 *   xz    lzma-native (N-API; prebuilt for the common platforms inside its npm tarball), an
 *         OPTIONAL dependency loaded on first use: gzip, the default, never depends on it.
 *
 * What rpm writes and reads (rpm 4.18, checked against its source and rpmbuild on this machine):
 *   - build/pack.c maps `%_binary_payload` w<flags>.<io> to RPMTAG_PAYLOADCOMPRESSOR gzdio->gzip,
 *     zstdio->zstd, xzdio->xz, lzdio->lzma, bzdio->bzip2, and writes NO compressor tag for ufdio
 *     (uncompressed). RPMTAG_PAYLOADFLAGS is the <flags> text: w9.gzdio -> "9", w19.zstdio -> "19",
 *     w2.xzdio -> "2", w.ufdio -> "".
 *   - lib/rpmte.c (and rpm2cpio, rpm2archive) read an absent compressor tag as "gzip"; zlib's
 *     transparent mode then reads an uncompressed payload as is. An unknown name such as
 *     "identity" only works by accident in 4.18 (Fdopen returns the raw fd) and fails in rpm 6
 *     (Fdopen returns NULL), so 'none' must omit the tag.
 */
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { FormatError, KpkgError } from '../errors.js';

/** The compressions kpkg writes. */
export type Compression = 'gzip' | 'zstd' | 'xz' | 'none';
/** What a payload may be compressed with: kpkg's own, plus what older rpmbuilds wrote. */
export type PayloadCompression = Compression | 'lzma' | 'bzip2';

export const COMPRESSIONS: readonly Compression[] = ['gzip', 'zstd', 'xz', 'none'];

/**
 * Default levels. gzip 5: on a 19,877-file node_modules (139 MB of cpio), the package writer.ts
 * writes at level 5 is 35.2 MB, 7.3% more than `tar czf` (32.8 MB; the RPM header adds ~138 bytes
 * per file), where level 4 gives +10.8% and level 6 +6.1%; level 5 takes 0.72x the CPU time of
 * level 6 (1.7 s against 2.4 s; tar czf: 3.5 s). zstd 3 and xz 6 are the defaults of rpm
 * (rpmio.c: zstd level 3, LZMA_PRESET_DEFAULT) and of the zstd and xz tools.
 */
export const DEFAULT_LEVEL: Readonly<Record<Exclude<Compression, 'none'>, number>> = { gzip: 5, zstd: 3, xz: 6 };

/**
 * Accepted levels. zstd stops at 19: 20-22 ("ultra") need 32-128 MiB windows, beyond what fzstd
 * reads (2^25) and what zstd's tool accepts without --ultra.
 */
export const LEVEL_RANGE: Readonly<Record<Exclude<Compression, 'none'>, readonly [number, number]>> = {
  gzip: [0, 9],
  zstd: [1, 19],
  xz: [0, 9],
};

/** Bytes detectCompression needs to tell every format apart. */
export const DETECT_BYTES = 6;

/** zstd frames written by the WASM fallback: independent, concatenated (a valid zstd stream). */
export const FRAME_SIZE = 8 << 20;

// Output chunks of zlib streams: 256 KiB measured 5-10% faster than zlib's 16 KiB default at
// level 5 (fewer round trips to the thread pool). memLevel 9 and Z_FILTERED were no faster and
// produced larger output, so zlib's defaults (memLevel 8, Z_DEFAULT_STRATEGY) stay.
const ZLIB_CHUNK = 256 * 1024;
// zstd limits a decoder enforces (RFC 8878): Block_Maximum_Size, and the largest window zstd's
// own decoder accepts by default (ZSTD_WINDOWLOG_LIMIT_DEFAULT, 2^27; rpm does not raise it). A
// corrupt frame header may claim up to 3.75 TiB: fzstd would try to allocate it.
const MAX_ZSTD_BLOCK = 128 << 10;
const MAX_ZSTD_WINDOW = 2 ** 27;
// rpm's default xz/lzma decoder memory limit (rpmio.c: `%_xz_memlimit`, else 100 MiB): what rpm
// reads, we read; xz -9 needs 65 MiB.
const XZ_MEMLIMIT = 100 << 20;
// Compressed bytes handed to lzma-native at once when decoding: LZMA reaches ~7000:1 on zeros,
// so one slice is at most ~30 MiB of output before backpressure applies.
const XZ_SLICE = 4 << 10;

export function isCompression(value: string): value is Compression {
  return (COMPRESSIONS as readonly string[]).includes(value);
}

function checkAlgo(algo: string): asserts algo is Compression {
  if (!isCompression(algo)) {
    throw new KpkgError('INVALID_INPUT', `unknown payload compression ${JSON.stringify(algo)}: expected gzip, zstd, xz or none`);
  }
}

/** The level to use: `level` checked against LEVEL_RANGE, or the default. undefined for 'none'. */
export function resolveLevel(algo: Compression, level?: number): number | undefined {
  checkAlgo(algo);
  if (algo === 'none') return undefined;
  if (level === undefined) return DEFAULT_LEVEL[algo];
  const [min, max] = LEVEL_RANGE[algo];
  if (!Number.isInteger(level) || level < min || level > max) {
    throw new KpkgError('INVALID_INPUT', `${algo} compression level must be an integer from ${min} to ${max}, got ${level}`);
  }
  return level;
}

/**
 * RPMTAG_PAYLOADCOMPRESSOR (1125): the name rpm's Fdopen knows. undefined for 'none': rpmbuild
 * writes no tag for an uncompressed payload, and the writer must omit it too.
 */
export function payloadCompressorName(algo: Compression): string | undefined {
  checkAlgo(algo);
  return algo === 'none' ? undefined : algo;
}

/** Same as payloadCompressorName, under the tag's name. */
export const payloadCompressorTag = payloadCompressorName;

/** RPMTAG_PAYLOADFLAGS (1126): the level as rpmbuild writes it ("9" for w9.gzdio), "" for 'none'. */
export function payloadFlags(algo: Compression, level?: number): string {
  const resolved = resolveLevel(algo, level);
  return resolved === undefined ? '' : String(resolved);
}

/**
 * What the payload really is, from its first bytes (pass DETECT_BYTES or more): a reader trusts
 * this, not the header. Anything without a known magic number is 'none', as rpm itself reads it
 * (zlib's transparent mode); the cpio parser then says whether it is an archive at all.
 */
export function detectCompression(firstBytes: Uint8Array): PayloadCompression {
  const b = firstBytes;
  const starts = (...magic: number[]) => b.length >= magic.length && magic.every((v, i) => b[i] === v);
  if (starts(0x1f, 0x8b)) return 'gzip'; // RFC 1952
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd'; // RFC 8878, frame magic 0xFD2FB528 LE
  // a stream may also begin with a skippable frame, magic 0x184D2A5? LE
  if (b.length >= 4 && (b[0]! & 0xf0) === 0x50 && b[1] === 0x2a && b[2] === 0x4d && b[3] === 0x18) return 'zstd';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz'; // xz-file-format: FD '7zXZ' 00
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2'; // 'BZh'
  // .lzma ("LZMA alone") has no magic: properties byte 0x5D (lc=3 lp=0 pb=2, what every
  // encoder writes) then a little-endian dictionary size, a power of two >= 64 KiB.
  if (starts(0x5d, 0x00, 0x00)) return 'lzma';
  return 'none';
}

/**
 * A stream that compresses a payload. Throws KpkgError('INVALID_INPUT') at once for an unknown
 * algorithm or a bad level; an xz compressor without lzma-native fails with the same code as an
 * 'error' event before consuming anything (call assertCompressionAvailable to know earlier).
 */
export function createCompressor(algo: Compression, level?: number): Transform {
  const resolved = resolveLevel(algo, level);
  switch (algo) {
    case 'gzip':
      // header: no name, mtime 0, OS 3 (Unix): the same bytes for the same input
      return zlib.createGzip({ level: resolved as number, chunkSize: ZLIB_CHUNK });
    case 'zstd': {
      const native = nativeZstd();
      if (native) {
        return native.createZstdCompress({
          chunkSize: ZLIB_CHUNK,
          params: { [native.constants.ZSTD_c_compressionLevel]: resolved as number },
        });
      }
      return createWasmZstdCompressor(resolved as number);
    }
    case 'xz':
      return new LzmaTransform('xz', false, async () => {
        const lzma = await loadLzma('compression');
        const stream = new lzma.Stream();
        // easyEncoder_ directly: lzma-native's easyEncoder() turns preset 0 into its default.
        // CRC64 is xz's own default check (rpm writes SHA-256); every xz reader knows both.
        stream.easyEncoder_(resolved as number, lzma.CHECK_CRC64);
        return stream.getStream({});
      });
    case 'none':
      return new PassThrough();
  }
}

/**
 * A stream that decompresses a payload. Corrupt or truncated input ends in an 'error' event with a
 * FormatError naming the algorithm and the count of compressed bytes handed to the decoder before
 * the failure (an offset into the payload, exact to one input chunk).
 */
export function createDecompressor(algo: PayloadCompression): Transform {
  switch (algo) {
    case 'gzip':
      return reportCorruption(zlib.createGunzip({ chunkSize: ZLIB_CHUNK }), 'gzip');
    case 'zstd': {
      const native = nativeZstd();
      return native ? createNativeZstdDecompressor(native) : createJsZstdDecompressor();
    }
    case 'xz':
    case 'lzma':
      // the auto decoder reads .xz and .lzma alike, and concatenated .xz streams
      return new LzmaTransform(algo, true, async () => {
        const lzma = await loadLzma('decompression', algo);
        return lzma.createStream('autoDecoder', { memlimit: XZ_MEMLIMIT });
      });
    case 'bzip2':
      throw new KpkgError('INVALID_INPUT', 'bzip2 payloads are not supported (rpmbuild has not written them by default since rpm 4.4)');
    case 'none':
      return new PassThrough();
    default:
      throw new KpkgError('INVALID_INPUT', `unknown payload compression ${JSON.stringify(algo)}`);
  }
}

/**
 * Resolves when `algo` can be used in that direction here, else rejects with the KpkgError the
 * stream would emit: lets a command fail before it writes anything.
 */
export async function assertCompressionAvailable(algo: PayloadCompression, direction: 'compression' | 'decompression' = 'compression'): Promise<void> {
  switch (algo) {
    case 'zstd':
      if (nativeZstd()) return;
      if (direction === 'compression') await loadZstdWasm();
      else await loadFzstd();
      return;
    case 'xz':
    case 'lzma':
      await loadLzma(direction, algo);
      return;
    case 'bzip2':
      createDecompressor('bzip2'); // throws
      return;
    default:
      if (direction === 'compression') checkAlgo(algo);
  }
}

// --- errors ---------------------------------------------------------------------------------

function corrupt(algo: string, offset: number, cause: unknown): FormatError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new FormatError(`${algo} payload`, offset, `corrupt or truncated compressed data (${reason})`, { cause });
}

function failure(algo: string, cause: unknown): KpkgError {
  if (cause instanceof KpkgError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new KpkgError('INTERNAL', `${algo} compression failed (${reason})`, { cause });
}

/**
 * node:zlib reports bad data by destroying the stream with a Z_* or ZSTD_* coded error: turn
 * those into FormatErrors. Errors passed in from outside (pipeline() destroying every stream with
 * the first failure) go through untouched.
 */
function reportCorruption<T extends Transform & { bytesWritten: number }>(stream: T, algo: string): T {
  const destroy = stream.destroy.bind(stream);
  stream.destroy = (error?: Error) => {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const ours = typeof code === 'string' && /^(Z_|ZSTD_)/.test(code);
    return destroy(ours ? corrupt(algo, stream.bytesWritten, error) : error);
  };
  return stream;
}

// --- zstd -----------------------------------------------------------------------------------

/** node:zlib's zstd, which @types/node 20 does not declare. */
interface NativeZstd {
  createZstdCompress(options: { chunkSize?: number; params?: Record<number, number> }): Transform & { bytesWritten: number };
  createZstdDecompress(options: { chunkSize?: number }): Transform & { bytesWritten: number };
  constants: { ZSTD_c_compressionLevel: number };
}

function nativeZstd(): NativeZstd | undefined {
  const z = zlib as unknown as Partial<NativeZstd>;
  return typeof z.createZstdCompress === 'function' && typeof z.createZstdDecompress === 'function' ? (z as NativeZstd) : undefined;
}

/** @bokuweb/zstd-wasm: zstd 1.5 built for WASM, one-shot ZSTD_compress (CommonJS, loaded with import()). */
interface ZstdWasm {
  compress(data: Uint8Array, level: number): Uint8Array;
}
let zstdWasm: Promise<ZstdWasm> | undefined;
function loadZstdWasm(): Promise<ZstdWasm> {
  zstdWasm ??= import('@bokuweb/zstd-wasm').then(async ({ default: mod }) => {
    await mod.init();
    return { compress: (data, level) => mod.compress(data, level) };
  });
  return zstdWasm;
}

type Fzstd = typeof import('fzstd');
let fzstd: Promise<Fzstd> | undefined;
function loadFzstd(): Promise<Fzstd> {
  fzstd ??= import('fzstd');
  return fzstd;
}

/**
 * zstd compression without node:zlib's: the input is cut into FRAME_SIZE pieces, each compressed
 * on its own by ZSTD_compress (one-shot: the WASM module is one instance for the whole process,
 * so no compression context may outlive a call). Memory: one frame of input plus the module's
 * heap (about twice a frame). Each frame is compressed synchronously: 10-50 ms at level 3, a few
 * seconds at 19. 8 MiB frames cost ~0% in size against one frame, 4 MiB frames 1.1% (measured
 * on a node_modules tree). Exported for tests, so that Node >= 22 still exercises the Node 20 path.
 */
export function createWasmZstdCompressor(level: number = DEFAULT_LEVEL.zstd): Transform {
  return new WasmZstdCompressor(resolveLevel('zstd', level) as number);
}

class WasmZstdCompressor extends Transform {
  private codec: ZstdWasm | undefined;
  private frame: Buffer | undefined;
  private filled = 0;
  private frames = 0;

  constructor(private readonly level: number) {
    super();
  }

  override _construct(callback: (error?: Error | null) => void): void {
    loadZstdWasm().then(
      (codec) => {
        this.codec = codec;
        callback();
      },
      (e: unknown) => callback(failure('zstd', e)),
    );
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let off = 0;
      while (off < chunk.length) {
        this.frame ??= Buffer.allocUnsafe(FRAME_SIZE);
        const n = Math.min(FRAME_SIZE - this.filled, chunk.length - off);
        chunk.copy(this.frame, this.filled, off, off + n);
        this.filled += n;
        off += n;
        if (this.filled === FRAME_SIZE) this.emitFrame();
      }
      callback();
    } catch (e) {
      callback(failure('zstd', e));
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      // empty input still gives one (empty) frame: an empty file is not a zstd stream
      if (this.filled > 0 || this.frames === 0) this.emitFrame();
      this.frame = undefined;
      callback();
    } catch (e) {
      callback(failure('zstd', e));
    }
  }

  private emitFrame(): void {
    const input = (this.frame ?? Buffer.alloc(0)).subarray(0, this.filled);
    const out = (this.codec as ZstdWasm).compress(input, this.level);
    this.filled = 0;
    this.frames++;
    this.push(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  }
}

/**
 * Where zstd frames end, in a stream fed in arbitrary pieces (RFC 8878 §3.1: a zstd stream is
 * frames and skippable frames, one after the other). Needed because node:zlib's zstd decoder
 * ends its output at the first frame that finishes inside a write, dropping the rest without an
 * error (nodejs/node#64741, open; seen on Node 24.21): writes are cut at frame ends. Also where
 * blocks end, so that the JS decoder can be fed one block at a time, and the format's limits a
 * decoder must enforce before it allocates: block sizes (Block_Maximum_Size, 128 KiB) and window
 * sizes (MAX_ZSTD_WINDOW).
 */
export class ZstdFrameScanner {
  private state: 'magic' | 'descriptor' | 'frame-header' | 'block' | 'skippable-size' | 'invalid' = 'magic';
  private readonly head = new Uint8Array(14);
  private headLength = 0;
  private headNeed = 4;
  private skip = 0;
  /** What ends once `skip` bytes have gone by. */
  private endAfterSkip: 'frame' | 'block' | undefined;
  private checksum = false;
  private singleSegment = false;
  private fcsBytes = 0;
  private dictionaryBytes = 0;
  /** Why the input is not zstd, when `invalid`. */
  problem: string | undefined;

  /**
   * The offsets in `chunk` where a frame ends (0 < offset <= chunk.length), in order; with
   * `unit` 'block', where a block ends too (after the checksum for a frame's last block).
   */
  scan(chunk: Uint8Array, unit: 'frame' | 'block' = 'frame'): number[] {
    const ends: number[] = [];
    const record = (what: 'frame' | 'block', at: number) => {
      if (what === 'frame' || unit === 'block') ends.push(at);
    };
    let i = 0;
    while (i < chunk.length && this.state !== 'invalid') {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        if (this.skip > 0) break;
        if (this.endAfterSkip) record(this.endAfterSkip, i);
        this.endAfterSkip = undefined;
        continue;
      }
      const n = Math.min(this.headNeed - this.headLength, chunk.length - i);
      this.head.set(chunk.subarray(i, i + n), this.headLength);
      this.headLength += n;
      i += n;
      if (this.headLength < this.headNeed) break;
      this.headLength = 0;
      const ended = this.advance();
      if (ended) record(ended, i);
    }
    return ends;
  }

  /** True when the input seen so far ends exactly between two frames (or is empty). */
  get atFrameBoundary(): boolean {
    return this.state === 'magic' && this.headLength === 0 && this.skip === 0;
  }

  /** True when the input stopped looking like zstd: `problem` says why. */
  get invalid(): boolean {
    return this.state === 'invalid';
  }

  private fail(problem: string): undefined {
    this.state = 'invalid';
    this.problem = problem;
    return undefined;
  }

  private expect(state: ZstdFrameScanner['state'], bytes: number): void {
    this.state = state;
    this.headNeed = bytes;
  }

  /** Interprets a complete header in `head`; says what ends right here, if anything. */
  private advance(): 'frame' | 'block' | undefined {
    const h = this.head;
    const le = (from: number, bytes: number) => {
      let v = 0;
      for (let k = bytes - 1; k >= 0; k--) v = v * 256 + h[from + k]!;
      return v;
    };
    switch (this.state) {
      case 'magic': {
        const magic = le(0, 4);
        if (magic === 0xfd2fb528) this.expect('descriptor', 1);
        else if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) this.expect('skippable-size', 4);
        else return this.fail(`no zstd frame magic number (found ${magic.toString(16).padStart(8, '0')})`);
        return undefined;
      }
      case 'descriptor': {
        // Frame_Header_Descriptor: FCS flag (2 bits), single segment, unused, reserved (must be
        // 0), checksum flag, dictionary ID flag (2 bits)
        const fhd = h[0]!;
        if (fhd & 0x08) return this.fail('reserved bit set in a frame header');
        const fcsFlag = fhd >> 6;
        this.singleSegment = ((fhd >> 5) & 1) === 1;
        this.checksum = ((fhd >> 2) & 1) === 1;
        this.dictionaryBytes = [0, 1, 2, 4][fhd & 3]!;
        this.fcsBytes = fcsFlag === 0 ? (this.singleSegment ? 1 : 0) : 1 << fcsFlag;
        // window descriptor, dictionary id, content size: at least one byte, at most 13
        this.expect('frame-header', (this.singleSegment ? 0 : 1) + this.dictionaryBytes + this.fcsBytes);
        return undefined;
      }
      case 'frame-header': {
        // RFC 8878 §3.1.1.1.2: without a window descriptor the window is the content size
        let window: number;
        if (this.singleSegment) {
          window = le(this.dictionaryBytes, this.fcsBytes) + (this.fcsBytes === 2 ? 256 : 0);
        } else {
          const base = 2 ** (10 + (h[0]! >> 3));
          window = base + (base / 8) * (h[0]! & 7);
        }
        if (window > MAX_ZSTD_WINDOW) return this.fail(`the frame needs a ${window}-byte window, more than the ${MAX_ZSTD_WINDOW} zstd decoders accept by default`);
        this.expect('block', 3);
        return undefined;
      }
      case 'block': {
        // Block_Header, 3 bytes LE: last block (1 bit), type (2 bits), size (21 bits)
        const header = le(0, 3);
        const last = (header & 1) === 1;
        const type = (header >> 1) & 3;
        const size = header >>> 3;
        if (type === 3) return this.fail('reserved block type');
        if (size > MAX_ZSTD_BLOCK) return this.fail(`a block of ${size} bytes, more than the format's ${MAX_ZSTD_BLOCK}`);
        this.skip = type === 1 ? 1 : size; // RLE blocks hold one byte
        if (!last) return this.after('block');
        if (this.checksum) this.skip += 4;
        this.expect('magic', 4);
        return this.after('frame');
      }
      case 'skippable-size':
        this.skip = le(0, 4);
        this.expect('magic', 4);
        return this.after('frame');
      default:
        return undefined;
    }
  }

  /** `what` ends once the bytes to skip have gone by: now, if there are none. */
  private after(what: 'frame' | 'block'): 'frame' | 'block' | undefined {
    if (this.skip === 0) return what;
    this.endAfterSkip = what;
    return undefined;
  }
}

/** node:zlib's zstd decoder, written to in pieces that end where frames end (see ZstdFrameScanner). */
function createNativeZstdDecompressor(native: NativeZstd): Transform {
  const stream = reportCorruption(native.createZstdDecompress({ chunkSize: ZLIB_CHUNK }), 'zstd');
  const scanner = new ZstdFrameScanner();
  const write = stream._transform.bind(stream);
  stream._transform = (chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback) => {
    const ends = scanner.scan(chunk).filter((end) => end < chunk.length);
    if (ends.length === 0) {
      write(chunk, encoding, callback);
      return;
    }
    const pieces: Buffer[] = [];
    let start = 0;
    for (const end of [...ends, chunk.length]) {
      pieces.push(chunk.subarray(start, end));
      start = end;
    }
    const next = (error?: Error | null) => {
      const piece = pieces.shift();
      if (error || piece === undefined) callback(error);
      else write(piece, encoding, next);
    };
    next();
  };
  return stream;
}

/**
 * _read of a decoder whose _transform stops between pieces of a write while its output is full
 * (`pendingStep`): resume it, and once the write is done let Transform release the next one. The
 * release matters when the resumed step pushed nothing: Readable calls _read again only after a
 * push, and Transform holds back a write's callback while the output is full.
 */
function resume(stream: Transform & { pendingStep: (() => void) | undefined }, size: number): void {
  const step = stream.pendingStep;
  stream.pendingStep = undefined;
  step?.();
  if (!stream.pendingStep) Transform.prototype._read.call(stream, size);
}

/**
 * zstd decompression in JavaScript (fzstd), fed one block at a time (ZstdFrameScanner) so that
 * backpressure is honoured between blocks: fzstd decodes whatever it is given at once, and 64 KiB
 * of 4-byte RLE blocks would decode to 2 GiB. Memory: the frame's window (at most
 * MAX_ZSTD_WINDOW, 8 MiB at level 19) plus a block or two of output. fzstd limits
 * back-references to 32 MiB, which only "ultra" levels (20-22) exceed. Exported for tests.
 */
export function createJsZstdDecompressor(): Transform {
  return new JsZstdDecompressor();
}

class JsZstdDecompressor extends Transform {
  private decoder: InstanceType<Fzstd['Decompress']> | undefined;
  private readonly scanner = new ZstdFrameScanner();
  private consumed = 0;
  private blocked = false;
  pendingStep: (() => void) | undefined;

  override _construct(callback: (error?: Error | null) => void): void {
    loadFzstd().then(
      (m) => {
        this.decoder = new m.Decompress((chunk) => {
          if (chunk.length > 0 && !this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) this.blocked = true;
        });
        callback();
      },
      (e: unknown) => callback(failure('zstd', e)),
    );
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // the scanner checks block and window sizes before fzstd allocates anything for them
    const ends = this.scanner.scan(chunk, 'block');
    if (this.scanner.invalid) {
      callback(corrupt('zstd', this.consumed, new Error(this.scanner.problem)));
      return;
    }
    if (ends.at(-1) !== chunk.length) ends.push(chunk.length);
    let start = 0;
    const step = () => {
      try {
        for (const end of ends) {
          if (end <= start) continue;
          (this.decoder as InstanceType<Fzstd['Decompress']>).push(chunk.subarray(start, end));
          this.consumed += end - start;
          start = end;
          if (this.blocked && start < chunk.length) {
            this.pendingStep = step; // continued by _read once the consumer has caught up
            return;
          }
        }
      } catch (e) {
        callback(corrupt('zstd', this.consumed, e));
        return;
      }
      callback();
    };
    step();
  }

  override _read(size: number): void {
    this.blocked = false;
    resume(this, size);
  }

  override _flush(callback: TransformCallback): void {
    try {
      (this.decoder as InstanceType<Fzstd['Decompress']>).push(new Uint8Array(0), true);
      callback();
    } catch (e) {
      callback(corrupt('zstd', this.consumed, e));
    }
  }
}

// --- xz / lzma ------------------------------------------------------------------------------

/** The part of lzma-native (no types published) used here. Its streams are readable-stream 3's. */
interface LzmaStream {
  write(chunk: Buffer, callback: (error?: Error | null) => void): boolean;
  end(): void;
  pause(): void;
  resume(): void;
  destroy(): void;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}
interface LzmaNative {
  Stream: new () => { easyEncoder_(preset: number, check: number): void; getStream(options: object): LzmaStream };
  createStream(coder: 'autoDecoder', options: { memlimit: number }): LzmaStream;
  CHECK_CRC64: number;
}

let lzmaNative: Promise<LzmaNative> | undefined;
async function loadLzma(direction: 'compression' | 'decompression', algo: 'xz' | 'lzma' = 'xz'): Promise<LzmaNative> {
  // a specifier in a variable: TypeScript must not require the optional package to be present
  const specifier = 'lzma-native';
  lzmaNative ??= import(specifier).then((m: { default?: LzmaNative }) => (m.default ?? m) as LzmaNative);
  try {
    return await lzmaNative;
  } catch (e) {
    const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new KpkgError(
      'INVALID_INPUT',
      `${algo} ${direction} needs the optional package lzma-native, which is not installed or does not load on this platform (${reason}); ` +
        (direction === 'compression' ? 'use gzip or zstd, or install lzma-native' : 'install lzma-native to read this package'),
      { cause: e },
    );
  }
}

/**
 * A node:stream Transform over one of lzma-native's streams: writes go to it, its output comes out
 * here. Backpressure: lzma-native decodes each write to its end whatever its reader does (a
 * 150 KB write of xz can be 1 GiB of zeros), so a decoder is written XZ_SLICE bytes at a time and
 * the next slice waits while our output is full; an encoder's output is paused while ours is
 * full, which holds back its write callbacks and so our _transform callbacks.
 */
class LzmaTransform extends Transform {
  private inner: LzmaStream | undefined;
  private consumed = 0;
  private onInnerEnd: (() => void) | undefined;
  pendingStep: (() => void) | undefined;

  constructor(
    private readonly algo: 'xz' | 'lzma',
    private readonly decoding: boolean,
    private readonly open: () => Promise<LzmaStream>,
  ) {
    super();
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.open().then(
      (inner) => {
        this.inner = inner;
        inner.on('data', (chunk: Buffer) => {
          if (!this.push(chunk) && !this.decoding) inner.pause();
        });
        inner.on('end', () => this.onInnerEnd?.());
        inner.on('error', (e: Error) => this.destroy(this.decoding ? corrupt(this.algo, this.consumed, e) : failure(this.algo, e)));
        callback();
      },
      (e: unknown) => callback(e as Error),
    );
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // errors arrive as the inner stream's 'error' event, which destroys this stream
    const slice = this.decoding ? XZ_SLICE : chunk.length;
    let off = 0;
    const step = () => {
      if (off >= chunk.length || !this.inner) {
        callback();
        return;
      }
      const piece = chunk.subarray(off, off + slice);
      off += piece.length;
      this.consumed += piece.length;
      this.inner.write(piece, () => {
        if (this.readableLength >= this.readableHighWaterMark && off < chunk.length) this.pendingStep = step;
        else step();
      });
    };
    step();
  }

  override _read(size: number): void {
    this.inner?.resume();
    resume(this, size);
  }

  override _flush(callback: TransformCallback): void {
    this.onInnerEnd = () => callback();
    (this.inner as LzmaStream).end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const inner = this.inner;
    this.inner = undefined;
    if (inner) {
      inner.on('error', () => {}); // late errors of a stream we gave up on
      inner.destroy();
    }
    callback(error);
  }
}
