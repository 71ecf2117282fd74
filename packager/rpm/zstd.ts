/**
 * zstd streams: node:zlib's where it has zstd (Node >= 22.15 / 23.8), else @bokuweb/zstd-wasm to
 * compress and fzstd to decompress, with the limits a decoder must enforce.
 */
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { corrupt, failure, reportCorruption, resume, ZLIB_CHUNK } from './compress-common.js';
import { DEFAULT_LEVEL, FRAME_SIZE, resolveLevel } from './payload-compression.js';

// zstd limits a decoder enforces (RFC 8878): Block_Maximum_Size, and the largest window zstd's
// own decoder accepts by default (ZSTD_WINDOWLOG_LIMIT_DEFAULT, 2^27; rpm does not raise it). A
// corrupt frame header may claim up to 3.75 TiB: fzstd would try to allocate it.
const MAX_ZSTD_BLOCK = 128 << 10;
const MAX_ZSTD_WINDOW = 2 ** 27;

/** node:zlib's zstd, which @types/node 20 does not declare. */
interface NativeZstd {
  createZstdCompress(options: { chunkSize?: number; params?: Record<number, number> }): Transform & { bytesWritten: number };
  createZstdDecompress(options: { chunkSize?: number }): Transform & { bytesWritten: number };
  constants: { ZSTD_c_compressionLevel: number };
}

export function nativeZstd(): NativeZstd | undefined {
  const z = zlib as unknown as Partial<NativeZstd>;
  return typeof z.createZstdCompress === 'function' && typeof z.createZstdDecompress === 'function' ? (z as NativeZstd) : undefined;
}

/** @bokuweb/zstd-wasm: zstd 1.5 built for WASM, one-shot ZSTD_compress (CommonJS, loaded with import()). */
interface ZstdWasm {
  compress(data: Uint8Array, level: number): Uint8Array;
}
let zstdWasm: Promise<ZstdWasm> | undefined;
export function loadZstdWasm(): Promise<ZstdWasm> {
  zstdWasm ??= import('@bokuweb/zstd-wasm').then(async ({ default: mod }) => {
    await mod.init();
    return { compress: (data, level) => mod.compress(data, level) };
  });
  return zstdWasm;
}

type Fzstd = typeof import('fzstd');
let fzstd: Promise<Fzstd> | undefined;
export function loadFzstd(): Promise<Fzstd> {
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
export function createNativeZstdDecompressor(native: NativeZstd): Transform {
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
