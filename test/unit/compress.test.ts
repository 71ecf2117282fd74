// Payload compressors: round trips in odd-sized chunks, magic numbers, rpm's tag values, corrupt
// input, bounded memory. The real gzip/zstd/xz tools check our output in test/system/compress.test.ts.
import { randomFillSync } from 'node:crypto';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import zlib from 'node:zlib';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { slices, through } from '../helpers/streams.js';
import { FormatError, KpkgError } from '../../packager/errors.js';
import {
  type Compression,
  COMPRESSIONS,
  createCompressor,
  createDecompressor,
  createJsZstdDecompressor,
  createWasmZstdCompressor,
  DETECT_BYTES,
  detectCompression,
  FRAME_SIZE,
  payloadCompressorName,
  payloadFlags,
  resolveLevel,
  ZstdFrameScanner,
} from '../../packager/rpm/compress.js';

const nodeHasZstd = typeof (zlib as unknown as { createZstdCompress?: unknown }).createZstdCompress === 'function';

/** Deterministic bytes: runs of xorshift noise and of repeated text, like a tree of files. */
function sampleData(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  const text = Buffer.from('export function add(a: number, b: number): number { return a + b; }\n');
  let off = 0;
  while (off < size) {
    const run = Math.min(size - off, 512 + ((x >>> 0) % 4096));
    if ((x & 3) === 0) {
      for (let i = 0; i < run; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        out[off + i] = x & 0xff;
      }
    } else {
      for (let i = 0; i < run; i++) out[off + i] = text[(off + i) % text.length]!;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
    }
    off += run;
  }
  return out;
}


/** Settles with the error the stream ends with (or undefined), failing the test on a hang. */
async function outcome(stream: Transform, data: Buffer, chunkSize?: number): Promise<unknown> {
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('decompressor hung')), 20_000).unref());
  return Promise.race([through(stream, data, chunkSize).then(() => undefined, (e: unknown) => e), timeout]);
}

const ALL: Compression[] = ['gzip', 'zstd', 'xz', 'none'];

describe('streaming in bounded memory', () => {
  const CHUNK = 256 * 1024;
  // global.gc without --expose-gc on the command line
  setFlagsFromString('--expose-gc');
  const collectGarbage = runInNewContext('gc') as () => void;
  // 256 MiB of noise and text, generated as it is consumed
  function* generate(total: number, sample: () => void): Generator<Buffer> {
    const patterns = [sampleData(CHUNK, 11), sampleData(CHUNK, 12), sampleData(CHUNK, 13), Buffer.alloc(CHUNK, 'a')];
    for (let i = 0; i < total / CHUNK; i++) {
      if (i % 32 === 0) sample();
      const chunk = Buffer.from(patterns[i % patterns.length]!);
      randomFillSync(chunk, 0, CHUNK / 8); // fresh noise: no two chunks alike
      yield chunk;
    }
  }

  async function rssGrowth(algo: Compression, total: number, level?: number): Promise<number> {
    // warm up: load the backends, grow the WASM heap to its working size (one frame and more)
    await through(createDecompressor(algo), await through(createCompressor(algo, level), sampleData(FRAME_SIZE + (1 << 20))));
    // RSS after a full collection: what the streams hold, not garbage V8 has yet to collect
    collectGarbage();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = () => {
      collectGarbage();
      peak = Math.max(peak, process.memoryUsage().rss);
    };
    let size = 0;
    await pipeline(
      Readable.from(generate(total, sample)),
      createCompressor(algo, level),
      createDecompressor(algo),
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          size += chunk.length;
          cb();
        },
      }),
    );
    sample();
    expect(size).toBe(total);
    if (process.env.KPKG_TEST_FIGURES) console.log(`${algo}: rss growth ${((peak - before) / (1 << 20)).toFixed(1)} MiB`);
    return (peak - before) / (1 << 20);
  }

  // first in the file, so that the process has not grown yet: RSS does not shrink back
  for (const algo of ['zstd', 'gzip', 'none'] as const) {
    it(`${algo}: 256 MiB through compressor and decompressor in bounded memory`, async () => {
      const growth = await rssGrowth(algo, 256 << 20);
      expect(growth).toBeLessThan(100);
    }, 240_000);
  }

  it('xz: 32 MiB in bounded memory (the level 6 encoder itself needs ~94 MiB)', async () => {
    expect(await rssGrowth('xz', 32 << 20)).toBeLessThan(100 + 94);
  }, 240_000);

  for (const algo of ['gzip', 'zstd', 'xz'] as const) {
    it(`${algo}: a slow reader holds the decompressor back`, async () => {
      const plain = sampleData(24 << 20, 5);
      const packed = await through(createCompressor(algo, 1), plain);
      const d = createDecompressor(algo);
      let maxBuffered = 0;
      let got = 0;
      await pipeline(
        Readable.from(slices(packed, 64 * 1024)),
        d,
        new Writable({
          highWaterMark: 16 * 1024,
          write(chunk: Buffer, _enc, cb) {
            got += chunk.length;
            maxBuffered = Math.max(maxBuffered, d.readableLength);
            setImmediate(cb);
          },
        }),
      );
      expect(got).toBe(plain.length);
      if (process.env.KPKG_TEST_FIGURES) console.log(`${algo}: at most ${maxBuffered} bytes waiting in the decompressor`);
      expect(maxBuffered).toBeLessThan(4 << 20);
    }, 120_000);
  }
});

describe('rpm tag values', () => {
  it('names the compressor as rpmbuild does, and omits it for an uncompressed payload', () => {
    expect(payloadCompressorName('gzip')).toBe('gzip');
    expect(payloadCompressorName('zstd')).toBe('zstd');
    expect(payloadCompressorName('xz')).toBe('xz');
    expect(payloadCompressorName('none')).toBeUndefined();
  });

  it('writes the level as PAYLOADFLAGS, the default when none is given', () => {
    expect(payloadFlags('gzip', 9)).toBe('9');
    expect(payloadFlags('zstd', 19)).toBe('19');
    expect(payloadFlags('xz', 2)).toBe('2');
    expect(payloadFlags('gzip')).toBe('5');
    expect(payloadFlags('zstd')).toBe('3');
    expect(payloadFlags('xz')).toBe('6');
    expect(payloadFlags('none')).toBe('');
    expect(payloadFlags('none', 9)).toBe('');
  });

  it('refuses levels out of range and unknown algorithms', () => {
    for (const [algo, level] of [['gzip', 10], ['gzip', -1], ['gzip', 1.5], ['zstd', 0], ['zstd', 20], ['xz', 10]] as const) {
      expect(() => resolveLevel(algo, level)).toThrow(KpkgError);
      expect(() => createCompressor(algo, level)).toThrow(/level must be an integer/);
    }
    const err = (() => {
      try {
        createCompressor('brotli' as Compression);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(KpkgError);
    expect((err as KpkgError).code).toBe('INVALID_INPUT');
    expect(() => createDecompressor('bzip2')).toThrow(/bzip2/);
  });
});

describe('detectCompression', () => {
  it('recognises what each compressor writes', async () => {
    for (const algo of ALL) {
      const out = await through(createCompressor(algo), Buffer.from('07070100000001 cpio-ish'));
      expect(detectCompression(out.subarray(0, DETECT_BYTES))).toBe(algo);
    }
    const wasm = await through(createWasmZstdCompressor(), Buffer.from('x'));
    expect(detectCompression(wasm)).toBe('zstd');
  });

  it('recognises the other magic numbers', () => {
    expect(detectCompression(Buffer.from('BZh91AY&SY'))).toBe('bzip2');
    expect(detectCompression(Buffer.from([0x5d, 0x00, 0x00, 0x80, 0x00, 0xff]))).toBe('lzma');
    expect(detectCompression(Buffer.from([0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0]))).toBe('zstd'); // skippable frame
    expect(detectCompression(Buffer.from('070701'))).toBe('none');
    expect(detectCompression(Buffer.from([0x1f]))).toBe('none'); // too short to say
    expect(detectCompression(Buffer.alloc(0))).toBe('none');
  });
});

describe('round trips', () => {
  let data: Buffer;
  let small: Buffer;
  beforeAll(() => {
    data = sampleData(3 * 1024 * 1024 + 5);
    small = data.subarray(0, 20_011);
  });

  for (const algo of ALL) {
    it(`${algo}: empty input`, async () => {
      const packed = await through(createCompressor(algo), Buffer.alloc(0));
      expect(await through(createDecompressor(algo), packed)).toEqual(Buffer.alloc(0));
    });

    it(`${algo}: 1-byte and 7-byte writes, both ways`, async () => {
      for (const size of [1, 7]) {
        const packed = await through(createCompressor(algo), small, size);
        expect((await through(createDecompressor(algo), packed, size)).equals(small)).toBe(true);
      }
    });

    it(`${algo}: 1 MiB writes, and writes of a prime size`, async () => {
      const packed = await through(createCompressor(algo), data, 1 << 20);
      if (algo !== 'none') expect(packed.length).toBeLessThan(data.length * 0.5);
      for (const size of [1 << 20, 65_521]) {
        expect((await through(createDecompressor(algo), packed, size)).equals(data)).toBe(true);
      }
    });
  }

  it('every level of every algorithm reads back', async () => {
    const input = data.subarray(0, 300_000);
    const levels: [Compression, number[]][] = [
      ['gzip', [0, 1, 9]],
      ['zstd', [1, 19]],
      ['xz', [0, 1, 9]],
    ];
    for (const [algo, list] of levels) {
      for (const level of list) {
        const packed = await through(createCompressor(algo, level), input);
        expect((await through(createDecompressor(algo), packed)).equals(input)).toBe(true);
      }
    }
  });

  it('xz and lzma payloads share a decoder (.lzma alone format included)', async () => {
    const packed = await through(createCompressor('xz', 1), small);
    expect((await through(createDecompressor('lzma'), packed)).equals(small)).toBe(true);
  });

  it('gzip: reads concatenated members, as gzip -dc does', async () => {
    const a = await through(createCompressor('gzip'), Buffer.from('hello '));
    const b = await through(createCompressor('gzip'), Buffer.from('world'));
    expect((await through(createDecompressor('gzip'), Buffer.concat([a, b]))).toString()).toBe('hello world');
  });

  it('gzip: the same input gives the same bytes (no name, no time in the header)', async () => {
    const a = await through(createCompressor('gzip'), small);
    const b = await through(createCompressor('gzip'), small, 7);
    expect(a.equals(b)).toBe(true);
    expect(a.readUInt32LE(4)).toBe(0); // MTIME
  });
});

describe('zstd without node:zlib (Node 20) and with it (Node >= 22.15)', () => {
  let big: Buffer;
  let multiFrame: Buffer;
  beforeAll(() => {
    big = sampleData(2 * FRAME_SIZE + 12_345, 7);
  });

  it('the WASM compressor writes independent frames that both decoders read', async () => {
    multiFrame = await through(createWasmZstdCompressor(3), big, 1_000_003);
    const scanner = new ZstdFrameScanner();
    expect(scanner.scan(multiFrame)).toHaveLength(3);
    expect(scanner.atFrameBoundary).toBe(true);
    expect((await through(createJsZstdDecompressor(), multiFrame)).equals(big)).toBe(true);
    // node:zlib's decoder where there is one (it drops frames after the first without our cuts)
    expect((await through(createDecompressor('zstd'), multiFrame)).equals(big)).toBe(true);
  }, 60_000);

  it('frames cut in every way still decode: writes of 7 bytes, of 1 MiB + 1, one write', async () => {
    for (const size of [1_048_577, multiFrame.length]) {
      expect((await through(createDecompressor('zstd'), multiFrame, size)).equals(big)).toBe(true);
    }
    const head = multiFrame.subarray(0, 200_000);
    const scanner = new ZstdFrameScanner();
    scanner.scan(head);
    // 7-byte writes on a prefix: the decoder must not fail before the end of input
    const partial = createDecompressor('zstd');
    const out: Buffer[] = [];
    partial.on('data', (c: Buffer) => out.push(c));
    for (const piece of slices(head, 7)) partial.write(piece);
    await new Promise((r) => setTimeout(r, 50));
    expect(Buffer.concat(out).equals(big.subarray(0, Buffer.concat(out).length))).toBe(true);
    partial.destroy();
  }, 60_000);

  it('the compressor of this Node reads back with the JS decoder', async () => {
    const packed = await through(createCompressor('zstd', 9), big.subarray(0, 1 << 20));
    expect((await through(createJsZstdDecompressor(), packed, 4099)).equals(big.subarray(0, 1 << 20))).toBe(true);
  });

  it(`uses ${nodeHasZstd ? "node:zlib's zstd" : 'the WASM fallback'} here`, async () => {
    const packed = await through(createCompressor('zstd'), big.subarray(0, 100));
    // the fallback writes the content size in the frame header (one-shot ZSTD_compress)
    const descriptor = packed[4]!;
    expect(descriptor >> 6 !== 0 || ((descriptor >> 5) & 1) === 1).toBe(!nodeHasZstd);
  });
});

describe('ZstdFrameScanner', () => {
  const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
  const block = (last: boolean, type: number, size: number) => {
    const h = (size << 3) | (type << 1) | (last ? 1 : 0);
    return [h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff];
  };
  // single segment, 1-byte content size, checksum: a raw block of 3 bytes and an RLE block of 5
  const frameA = [...MAGIC, 0x24, 8, ...block(false, 0, 3), 1, 2, 3, ...block(true, 1, 5), 9, 0xaa, 0xbb, 0xcc, 0xdd];
  // window descriptor, 2-byte dictionary id, 2-byte content size, one empty last raw block
  const frameB = [...MAGIC, 0x42, 0x00, 0x01, 0x02, 0x03, 0x04, ...block(true, 0, 0)];
  const skippable = [0x5e, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 7, 7, 7];
  const emptySkippable = [0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0];
  const stream = Buffer.from([...frameA, ...skippable, ...frameB, ...emptySkippable, ...frameA]);
  // the same without the made-up checksum and dictionary, which real decoders check
  const frameC = [...MAGIC, 0x20, 8, ...block(false, 0, 3), 1, 2, 3, ...block(true, 1, 5), 9];
  const frameD = [...MAGIC, 0x00, 0x00, ...block(true, 0, 0)];
  const checkable = Buffer.from([...frameC, ...skippable, ...frameD, ...emptySkippable, ...frameC]);
  const ends = [frameA.length];
  ends.push(ends[0]! + skippable.length, ends[0]! + skippable.length + frameB.length);
  ends.push(ends[2]! + emptySkippable.length, stream.length);

  it('finds every frame end, whatever the write sizes', () => {
    for (const size of [1, 2, 3, 5, 7, stream.length]) {
      const scanner = new ZstdFrameScanner();
      const found: number[] = [];
      let base = 0;
      for (const piece of slices(stream, size)) {
        for (const end of scanner.scan(piece)) found.push(base + end);
        base += piece.length;
      }
      expect(found).toEqual(ends);
      expect(scanner.atFrameBoundary).toBe(true);
    }
  });

  it('finds block ends too, for a decoder fed one block at a time', () => {
    // frameA: header 6, raw block 3+3, RLE block 3+1 and checksum 4; skippable 11; frameB: header
    // 10, empty last block 3
    const blockEnds = [12, frameA.length, ends[1]!, ends[2]!, ends[3]!, ends[3]! + 12, stream.length];
    for (const size of [1, 4, stream.length]) {
      const scanner = new ZstdFrameScanner();
      const found: number[] = [];
      let base = 0;
      for (const piece of slices(stream, size)) {
        for (const end of scanner.scan(piece, 'block')) found.push(base + end);
        base += piece.length;
      }
      expect(found).toEqual(blockEnds);
    }
  });

  it('refuses blocks over 128 KiB and windows over 2^27 bytes, which decoders must not allocate', () => {
    const bigBlock = new ZstdFrameScanner();
    bigBlock.scan(Buffer.from([...MAGIC, 0x00, 7 << 3, ...block(true, 1, (128 << 10) + 1), 0]));
    expect(bigBlock.invalid).toBe(true);
    expect(bigBlock.problem).toBe("a block of 131073 bytes, more than the format's 131072");
    const maxBlock = new ZstdFrameScanner();
    maxBlock.scan(Buffer.from([...MAGIC, 0x00, 7 << 3, ...block(true, 1, 128 << 10), 0]));
    expect(maxBlock.invalid).toBe(false);
    // window descriptor: exponent 17 (2^27) is the largest accepted, with no mantissa
    const window = (descriptor: number) => {
      const scanner = new ZstdFrameScanner();
      scanner.scan(Buffer.from([...MAGIC, 0x00, descriptor]));
      return scanner.problem;
    };
    expect(window(17 << 3)).toBeUndefined();
    expect(window((17 << 3) | 1)).toBe('the frame needs a 150994944-byte window, more than the 134217728 zstd decoders accept by default');
    // single segment: the window is the content size (8 bytes here: 2^32)
    const single = new ZstdFrameScanner();
    single.scan(Buffer.from([...MAGIC, 0xe0, 0, 0, 0, 0, 1, 0, 0, 0]));
    expect(single.problem).toMatch(/^the frame needs a 4294967296-byte window/);
  });

  it('knows when input stops mid-frame or is not zstd', () => {
    const cut = new ZstdFrameScanner();
    cut.scan(stream.subarray(0, 10));
    expect(cut.atFrameBoundary).toBe(false);
    const bad = new ZstdFrameScanner();
    expect(bad.scan(Buffer.from('not zstd at all'))).toEqual([]);
    expect(bad.invalid).toBe(true);
    const reserved = new ZstdFrameScanner();
    reserved.scan(Buffer.from([...MAGIC, 0x08, 0, 0, 0]));
    expect(reserved.invalid).toBe(true);
  });

  it('agrees with the decoders on hand-made frames', async () => {
    const out = await through(createJsZstdDecompressor(), checkable, 3);
    expect([...out]).toEqual([1, 2, 3, 9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 9, 9, 9]);
    expect([...(await through(createDecompressor('zstd'), checkable, 5))]).toEqual([...out]);
  });
});

describe('corrupt input ends in an error event, never a crash or a hang', () => {
  let input: Buffer;
  beforeAll(() => {
    input = sampleData(400_000, 3);
  });

  for (const algo of ['gzip', 'zstd', 'xz'] as const) {
    it(`${algo}: garbage, truncation, a damaged middle`, async () => {
      const packed = await through(createCompressor(algo), input);
      const garbage = await outcome(createDecompressor(algo), Buffer.from('this is not compressed at all, just text'));
      expect(garbage).toBeInstanceOf(FormatError);
      expect((garbage as FormatError).code).toBe('BAD_PACKAGE');
      expect((garbage as FormatError).message).toMatch(new RegExp(`^${algo} payload at byte \\d+: corrupt or truncated`));

      for (const cut of [packed.length - 1, packed.length >> 1, 3]) {
        expect(await outcome(createDecompressor(algo), packed.subarray(0, cut), 4096)).toBeInstanceOf(FormatError);
      }

      const damaged = Buffer.from(packed);
      for (let i = damaged.length >> 2; i < damaged.length >> 1; i += 97) damaged[i]! ^= 0x5a;
      const result = await outcome(createDecompressor(algo), damaged, 4096);
      // gzip and xz carry checks; zstd without a checksum may decode to other bytes, but must end
      if (algo !== 'zstd') expect(result).toBeInstanceOf(FormatError);
      else if (result !== undefined) expect(result).toBeInstanceOf(FormatError);
    });
  }

  it('zstd, JS decoder: garbage and truncation', async () => {
    const packed = await through(createWasmZstdCompressor(), input);
    expect(await outcome(createJsZstdDecompressor(), Buffer.from('garbage garbage garbage'))).toBeInstanceOf(FormatError);
    expect(await outcome(createJsZstdDecompressor(), packed.subarray(0, packed.length - 5))).toBeInstanceOf(FormatError);
  });

  it('errors from elsewhere in a pipeline are passed on untouched', async () => {
    const boom = new Error('disk on fire');
    const err = await pipeline(
      new Readable({
        read() {
          this.destroy(boom);
        },
      }),
      createDecompressor('gzip'),
      new Writable({ write: (_c, _e, cb) => cb() }),
    ).catch((e: unknown) => e);
    expect(err).toBe(boom);
  });
});

describe('without the optional lzma-native', () => {
  it('xz fails with a clear KpkgError, before writing anything; gzip and zstd do not care', async () => {
    vi.resetModules();
    vi.doMock('lzma-native', () => {
      throw new Error("Cannot find package 'lzma-native'");
    });
    try {
      const m = await import('../../packager/rpm/compress.js');
      await expect(m.assertCompressionAvailable('xz')).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringMatching(/^xz compression needs the optional package lzma-native.*use gzip or zstd/),
      });
      await expect(m.assertCompressionAvailable('lzma', 'decompression')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      expect(await outcome(m.createCompressor('xz'), Buffer.from('payload'))).toMatchObject({ code: 'INVALID_INPUT' });
      expect(await outcome(m.createDecompressor('xz'), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))).toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringMatching(/^xz decompression needs the optional package lzma-native/),
      });
      for (const algo of ['gzip', 'zstd'] as const) {
        await m.assertCompressionAvailable(algo);
        const packed = await through(m.createCompressor(algo), Buffer.from('still fine'));
        expect((await through(m.createDecompressor(algo), packed)).toString()).toBe('still fine');
      }
    } finally {
      vi.doUnmock('lzma-native');
      vi.resetModules();
    }
  });
});

it('COMPRESSIONS lists what createCompressor accepts', () => {
  expect(COMPRESSIONS).toEqual(ALL);
});
