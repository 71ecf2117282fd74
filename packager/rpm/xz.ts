/** xz and lzma streams, over lzma-native (an optional dependency, loaded on first use). */
import { Transform, type TransformCallback } from 'node:stream';
import { KpkgError } from '../errors.js';
import { corrupt, failure, resume } from './compress-common.js';

// rpm's default xz/lzma decoder memory limit (rpmio.c: `%_xz_memlimit`, else 100 MiB): what rpm
// reads, we read; xz -9 needs 65 MiB.
export const XZ_MEMLIMIT = 100 << 20;
// Compressed bytes handed to lzma-native at once when decoding: LZMA reaches ~7000:1 on zeros,
// so one slice is at most ~30 MiB of output before backpressure applies.
const XZ_SLICE = 4 << 10;

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
export async function loadLzma(direction: 'compression' | 'decompression', algo: 'xz' | 'lzma' = 'xz'): Promise<LzmaNative> {
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
export class LzmaTransform extends Transform {
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
