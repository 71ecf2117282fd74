/**
 * Decompression bombs: small packages whose payload inflates to gigabytes. The reader must stop
 * as soon as the archive outgrows what the package declares (or what its files can fill), within
 * CASE_MS, and memory must stay bounded while it decodes: the decoders hand out their output in
 * bounded bursts (compress.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { encodeNewcHeader } from '../../../packager/rpm/cpio.js';
import { createCompressor, createDecompressor, createJsZstdDecompressor, type Compression } from '../../../packager/rpm/compress.js';
import { bufferSource, packageInfo, readRpmFrom } from '../../../packager/rpm/reader.js';
import { walkPayload } from '../../../packager/rpm/payload-reader.js';
import { writeRpm } from '../../../packager/rpm/writer.js';
import { CASE_MS, cpuMs, expectCleanOutcome, lzmaAvailable, mapLayout, MEMORY_BOUND, memoryPeaks, resetMemory, sampleMemory, transform, type Layout } from './fuzz-harness.js';

const work = mkdtempSync(join(tmpdir(), 'kpkg-bomb-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const GiB = 1 << 30;
const hasXz = await lzmaAvailable();
const ALGOS: Compression[] = hasXz ? ['gzip', 'zstd', 'xz'] : ['gzip', 'zstd'];

interface Small {
  algo: Compression;
  bytes: Buffer;
  layout: Layout;
  archive: Buffer;
  /** A compressed stream of many GiB of zeros: members, frames or streams of `unit` zeros, repeated. */
  zeros: (total: number) => Buffer;
}

const smalls = new Map<Compression, Small>();

/** The compressor's own output: gzip members, zstd frames and xz streams all concatenate. */
const compress = (algo: Compression, data: Buffer, level?: number) => transform(createCompressor(algo, level), data);

beforeAll(async () => {
  for (const algo of [...ALGOS, 'none'] as Compression[]) {
    const out = join(work, `bomb-${algo}.rpm`);
    await writeRpm(
      { name: 'bomb', version: '1', release: '1', summary: 's', description: 'd', license: 'MIT', files: [{ path: '/opt/bomb/hello', kind: 'file', content: 'hello\n' }] },
      out,
      { compression: algo, sourceDateEpoch: 1700000000 },
    );
    const bytes = readFileSync(out);
    const layout = mapLayout(bytes);
    const archive = await transform(createDecompressor(algo), bytes.subarray(layout.payloadOffset));
    // units: what compresses zeros fastest and smallest with each compressor
    const unitSize = algo === 'zstd' ? 8 << 20 : algo === 'xz' ? 16 << 20 : 64 << 20;
    const unit = algo === 'none' ? Buffer.alloc(0) : await compress(algo, Buffer.alloc(unitSize), algo === 'gzip' ? 9 : algo === 'zstd' ? 19 : 0);
    smalls.set(algo, { algo, bytes, layout, archive, zeros: (total) => Buffer.concat(new Array<Buffer>(Math.ceil(total / unitSize)).fill(unit)) });
  }
  resetMemory();
}, 60_000);

const small = (algo: Compression) => smalls.get(algo) as Small;

/** The package with its payload replaced: the header still declares the small archive. */
function withPayload(s: Small, payload: Buffer, headerEdit?: (bytes: Buffer) => void): Buffer {
  const bytes = Buffer.concat([s.bytes.subarray(0, s.layout.payloadOffset), payload]);
  headerEdit?.(bytes);
  return bytes;
}

/** Reads a bomb: it must end in a BAD_PACKAGE error within CASE_MS, in bounded memory. */
async function expectDefused(bytes: Buffer, label: string): Promise<string> {
  const start = performance.now();
  const error = await expectCleanOutcome(bytes, label);
  if (!error) throw new Error(`${label}: read without an error`);
  if (process.env.KPKG_TEST_FIGURES) console.log(`${label}: ${Math.round(performance.now() - start)} ms, ${error.message}`);
  return error.message;
}

group('decompression bombs end in BAD_PACKAGE, quickly and in bounded memory', () => {
  for (const algo of ALGOS) {
    it(`${algo}: 4 GiB of zeros after the archive's trailer`, async () => {
      const s = small(algo);
      const payload = Buffer.concat([await compress(algo, s.archive), s.zeros(4 * GiB)]);
      expect(payload.length).toBeLessThan(5 << 20);
      const message = await expectDefused(withPayload(s, payload), `${algo} zeros after the trailer`);
      const limit = s.archive.length + (64 << 10);
      expect(message).toBe(`cpio payload at byte ${limit}: the archive goes on past byte ${limit}, yet the package declares a ${s.archive.length}-byte archive (decompression bomb, or corrupt payload)`);
    });

    it(`${algo}: a member whose header declares a 4 GiB body, and 4 GiB of zeros`, async () => {
      const s = small(algo);
      const member = encodeNewcHeader({ name: './opt/bomb/hello', ino: 1, mode: 0o100644, uid: 0, gid: 0, nlink: 1, mtime: 0, size: 0xffffffff, devMajor: 0, devMinor: 0, rdevMajor: 0, rdevMinor: 0 });
      const payload = Buffer.concat([await compress(algo, member), s.zeros(4 * GiB)]);
      const message = await expectDefused(withPayload(s, payload), `${algo} huge member`);
      expect(message).toBe(`cpio payload at byte 0: member "/opt/bomb/hello" declares 4294967295 bytes, which runs past byte ${s.archive.length + (64 << 10)}, yet the package declares a ${s.archive.length}-byte archive`);
    });

    it(`${algo}: no archive size declared: bounded by the sizes of the files the header lists`, async () => {
      const s = small(algo);
      const payload = Buffer.concat([await compress(algo, s.archive), s.zeros(4 * GiB)]);
      // PAYLOADSIZE renamed to a tag nobody reads
      const sizeEntry = s.layout.signature.entries.find((e) => e.tag === 1007)!;
      const bytes = withPayload(s, payload, (b) => b.writeUInt32BE(0x7fff, sizeEntry.at));
      expect(packageInfo(await readRpmFrom(bufferSource(bytes))).files).toHaveLength(1);
      const message = await expectDefused(bytes, `${algo} without PAYLOADSIZE`);
      expect(message).toMatch(/^cpio payload at byte \d+: the archive goes on past byte \d+, yet the 1 file\(s\) the header lists fill at most 263 bytes \(decompression bomb, or corrupt payload\)$/);
    });
  }

  it('none: a member declaring a 4 GiB body in an uncompressed payload', async () => {
    const s = small('none');
    const member = encodeNewcHeader({ name: './opt/bomb/hello', ino: 1, mode: 0o100644, uid: 0, gid: 0, nlink: 1, mtime: 0, size: 0xffffffff, devMajor: 0, devMinor: 0, rdevMajor: 0, rdevMinor: 0 });
    const message = await expectDefused(withPayload(s, Buffer.concat([member, Buffer.alloc(1 << 20)])), 'none huge member');
    expect(message).toBe(`cpio payload at byte 0: member "/opt/bomb/hello" declares 4294967295 bytes, which runs past byte ${s.archive.length + (64 << 10)}, yet the package declares a ${s.archive.length}-byte archive`);
  });

  for (const algo of ALGOS) {
    it(`${algo}: a package that declares a 3.75 GiB file is walked in bounded memory, and a reader may stop early`, async () => {
      const s = small(algo);
      const huge = 0xf0000000;
      const member = encodeNewcHeader({ name: './opt/bomb/hello', ino: 1, mode: 0o100644, uid: 0, gid: 0, nlink: 1, mtime: 0, size: huge, devMajor: 0, devMinor: 0, rdevMajor: 0, rdevMinor: 0 });
      const payload = Buffer.concat([await compress(algo, member), s.zeros(huge)]);
      // the header agrees: FILESIZES and PAYLOADSIZE say 3.75 GiB
      const bytes = withPayload(s, payload, (b) => {
        for (const f of s.layout.fields) {
          if (f.name === 'header FILESIZES[0] value') b.writeUInt32BE(huge, f.offset);
          if (f.name === 'signature PAYLOADSIZE value') b.writeUInt32BE(huge + 512, f.offset);
        }
      });
      const src = bufferSource(bytes);
      const pkg = await readRpmFrom(src);
      const info = packageInfo(pkg);
      expect(info.files[0]?.size).toBe(huge);
      const want = algo === 'zstd' ? 96 << 20 : 256 << 20; // fzstd moves its whole window for every block: slower
      let seen = 0;
      let stopping = 0;
      for await (const ev of walkPayload(src, pkg, info.files)) {
        if (ev.type !== 'data') continue;
        seen += ev.chunk.length;
        sampleMemory(`${algo} honest huge file`);
        if (seen >= want) {
          stopping = cpuMs();
          break;
        }
      }
      expect(seen).toBeGreaterThanOrEqual(want);
      // leaving the loop ends the decoding and the reads at once: no more work (a wait for a
      // 'drain' that never comes would hang, and the test's timeout would say so)
      expect(cpuMs() - stopping).toBeLessThan(CASE_MS);
    }, 60_000);
  }
});

group('the decoders hand out bounded bursts', () => {
  /** Writes `input` at once, reads nothing for a while, and says how much memory that cost. */
  async function burst(d: NodeJS.ReadWriteStream & { readableLength: number; destroy(): void }, input: Buffer): Promise<number> {
    global.gc?.();
    const before = process.memoryUsage();
    d.on('error', () => undefined);
    d.write(input);
    let peak = 0;
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const m = process.memoryUsage();
      peak = Math.max(peak, m.rss - before.rss, m.arrayBuffers - before.arrayBuffers);
    }
    expect(d.readableLength).toBeLessThan(64 << 20);
    d.destroy();
    return peak;
  }

  it('zstd (JS decoder): 4-byte RLE blocks, 1 GiB in 32 KiB, are decoded one block at a time', async () => {
    // a frame with a 128 KiB window and 8192 RLE blocks of 128 KiB: 1 GiB of zeros
    const blocks = 8192;
    const frame = Buffer.alloc(6 + blocks * 4);
    frame.writeUInt32LE(0xfd2fb528, 0);
    frame[4] = 0x00; // no content size, no checksum, no dictionary, not single segment
    frame[5] = 7 << 3; // window 2^(10+7) = 128 KiB
    for (let i = 0; i < blocks; i++) {
      const header = ((128 << 10) << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0);
      frame.writeUIntLE(header, 6 + i * 4, 3);
      frame[6 + i * 4 + 3] = 0;
    }
    const growth = await burst(createJsZstdDecompressor(), frame);
    expect(growth).toBeLessThan(64 << 20);
  });

  it('zstd (JS decoder): a frame header claiming a 2 GiB window is refused before anything is allocated', async () => {
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (20 << 3) | 7, 0x01, 0x00, 0x00]); // 2^30 + 7/8: 1.875 GiB
    const d = createJsZstdDecompressor();
    const error = new Promise<Error>((resolve) => d.on('error', resolve));
    d.end(frame);
    expect((await error).message).toMatch(/^zstd payload at byte 0: corrupt or truncated compressed data \(the frame needs a 2013265920-byte window, more than the 134217728 zstd decoders accept by default\)/);
    // and a block larger than the format allows
    const big = createJsZstdDecompressor();
    const bigError = new Promise<Error>((resolve) => big.on('error', resolve));
    big.end(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3, ...[0, 1, 2].map((k) => (((1 << 20) << 3) | (1 << 1) | 1) >> (8 * k) & 0xff), 0]));
    expect((await bigError).message).toMatch(/a block of 1048576 bytes, more than the format's 131072/);
  });

  it.runIf(hasXz)('xz: 1 GiB of zeros in 150 KB is decoded a slice at a time', async () => {
    const packed = small('xz').zeros(GiB);
    const growth = await burst(createDecompressor('xz'), packed);
    expect(growth).toBeLessThan(96 << 20);
  });

  it('gzip: 1 GiB of zeros in 1 MB stays within node:zlib chunks', async () => {
    const packed = small('gzip').zeros(GiB);
    const growth = await burst(createDecompressor('gzip'), packed);
    expect(growth).toBeLessThan(64 << 20);
  });

  it(`memory grew by less than ${MEMORY_BOUND >> 20} MiB over the bombs`, () => {
    const peaks = memoryPeaks();
    if (process.env.KPKG_TEST_FIGURES) console.log(`bomb memory growth: rss +${peaks.rssMiB} MiB, array buffers +${peaks.arrayBuffersMiB} MiB`);
    expect(peaks.rssMiB).toBeLessThan(MEMORY_BOUND >> 20);
  });
});
