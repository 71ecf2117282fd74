/**
 * The RPM reader on damaged packages: every input is read, or ends in a BAD_PACKAGE error that
 * names the structure and the byte offset, within CASE_MS and MEMORY_BOUND (fuzz-harness.ts).
 * `npm test` runs CI_TOTAL cases; `npm run fuzz` many more (KPKG_FUZZ_RUNS).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe as group, expect, it, vi } from 'vitest';
import { KpkgError } from '../../../packager/errors.js';
import { main } from '../../../packager/cli/index.js';
import { readCandidate } from '../../../packager/repo/read.js';
import { readRpm, verifyDigests } from '../../../packager/rpm/reader.js';
import { payloadManifest } from '../../helpers/payload-manifest.js';
import {
  afterValidLead,
  assertFuzz,
  bitFlips,
  casesRun,
  compressorDamage,
  cpioDamage,
  expectCleanOutcome,
  fieldDamage,
  fuzzParams,
  indexFlood,
  loadCorpus,
  memoryPeaks,
  MEMORY_BOUND,
  randomBytes,
  readAll,
  resetMemory,
  splices,
  timeoutFor,
  truncation,
  type Damaged,
  type Sample,
} from './fuzz-harness.js';

const work = mkdtempSync(join(tmpdir(), 'kpkg-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let corpus: Sample[] = [];
beforeAll(async () => {
  corpus = await loadCorpus(work);
  for (const s of corpus) await readAll(s.bytes, s.name); // loads every decoder before measuring
  resetMemory();
}, 60_000);

/** A property over every sample of the corpus with the damage `kind` draws for it. */
function property(name: string, ciRuns: number, kind: (s: Sample) => fc.Arbitrary<Damaged>): void {
  it(name, async () => {
    const arb = fc.constantFrom(...corpus).chain(kind);
    await assertFuzz(name, arb, async (d) => void (await expectCleanOutcome(await d.make(), d.label)), ciRuns);
  }, timeoutFor(fuzzParams(ciRuns).numRuns));
}

group('the reader on damaged packages', () => {
  it('reads the intact corpus: rpmbuild fixtures, and writer.ts packages in every compression', async () => {
    expect(corpus.map((s) => s.name)).toEqual(expect.arrayContaining(['hello-1.2.3-1.noarch.rpm', 'writer gzip', 'writer zstd', 'writer none']));
    for (const s of corpus) {
      const { entries } = await readAll(s.bytes, s.name);
      expect(entries, s.name).toBe(s.members.length - 1); // every member but the trailer
    }
  });

  property('structure fields set to 0, huge, negative, past the end, overlapping', 800, fieldDamage);
  property('truncations anywhere, and around every section edge', 300, truncation);
  property('bit flips', 500, bitFlips);
  property('cpio header fields in the decompressed payload (magic, namesize, filesize...)', 300, cpioDamage);
  property('a payload compressed otherwise than its magic or its compressor tag says', 100, compressorDamage);
  property('sections duplicated, removed, swapped between packages, packages concatenated', 300, (s) => splices(s, corpus));
  property('index entries flooding one stretch of the data store', 100, indexFlood);
  property('random bytes after a valid lead', 200, afterValidLead);
  it('random bytes', async () => {
    await assertFuzz('random bytes', randomBytes(), async (d) => void (await expectCleanOutcome(await d.make(), d.label)), 200);
  }, timeoutFor(fuzzParams(200).numRuns));

  /** Any of the damage above, for the slower paths that work on files. */
  const anyDamage = (s: Sample) => fc.oneof(fieldDamage(s), truncation(s), bitFlips(s), splices(s, corpus), afterValidLead(s));

  it('from a file: kpkg publish (readCandidate), and readRpm + verifyDigests + payloadManifest', async () => {
    let n = 0;
    const arb = fc.constantFrom(...corpus).chain(anyDamage);
    await assertFuzz(
      'readCandidate',
      arb,
      async (d) => {
        const path = join(work, `candidate-${n++}.rpm`);
        writeFileSync(path, await d.make());
        try {
          await expectCleanOutcome(Buffer.alloc(0), `${d.label} (readCandidate)`, async () => {
            try {
              await readCandidate(path);
            } catch (e) {
              // the repository names the file; the reader's error (structure and offset) is its cause
              if (!(e instanceof KpkgError) || e.code !== 'BAD_PACKAGE' || !e.message.startsWith(`${path}: `)) throw e;
              if (/ at byte \d+: /.test(e.message) || /: the package is corrupted \(/.test(e.message)) return;
              throw new Error(`${d.label}: readCandidate error names no structure and offset: ${e.message}`, { cause: e });
            }
          });
          // readPayload reads the file through its own file handle
          await expectCleanOutcome(Buffer.alloc(0), `${d.label} (payloadManifest)`, async () => {
            const pkg = await readRpm(path);
            await verifyDigests(pkg);
            await payloadManifest(pkg);
          });
        } finally {
          rmSync(path, { force: true });
        }
      },
      100,
    );
  }, timeoutFor(fuzzParams(100).numRuns));

  it('kpkg inspect exits 2 with one line and no stack for damaged packages', async () => {
    let n = 0;
    const arb = fc.constantFrom(...corpus).chain(anyDamage);
    await assertFuzz(
      'kpkg inspect',
      arb,
      async (d) => {
        const path = join(work, `inspect-${n++}.rpm`);
        writeFileSync(path, await d.make());
        let stdout = '';
        let stderr = '';
        const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
        const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
        let code: number;
        try {
          code = await main(['node', 'kpkg', 'inspect', path]);
        } finally {
          out.mockRestore();
          err.mockRestore();
          rmSync(path, { force: true });
        }
        if (code === 0) {
          if (!/^Name {8}: /m.test(stdout)) throw new Error(`${d.label}: exit 0 without a description`);
          return;
        }
        // a structure error names its byte offset; bytes that parse but do not match their digests
        // are described (stdout), then named as a digest mismatch
        const digestMismatch = /^kpkg: .+: digest mismatch: [^\n]+\n$/.test(stderr) && /^Name {8}: /m.test(stdout);
        if (code !== 2 || !(/^kpkg: .+ at byte \d+: [^\n]+\n$/.test(stderr) || digestMismatch)) {
          throw new Error(`${d.label}: kpkg inspect exited ${code} with ${JSON.stringify(stderr)}`);
        }
      },
      100,
    );
  }, timeoutFor(fuzzParams(100).numRuns));

  it('refuses every index count of 0xffffffff, and the largest index and store, before allocating', async () => {
    let cases = 0;
    for (const s of corpus) {
      for (const h of [s.layout.signature, s.layout.header]) {
        const where = h === s.layout.signature ? 'signature header' : 'header';
        for (const [i, e] of h.entries.entries()) {
          const bytes = Buffer.from(s.bytes);
          bytes.writeUInt32BE(0xffffffff, e.at + 12);
          const error = await expectCleanOutcome(bytes, `${s.name}: ${where} index entry ${i} count := 0xffffffff`);
          expect(error?.message).toBe(`${where} at byte ${e.at + 12}: index entry ${i} (tag ${e.tag}): count 4294967295 impossible for a data store of ${h.dl} bytes`);
          cases++;
        }
        for (const [at, value] of [
          [h.offset + 8, 0xffff],
          [h.offset + 12, 0x0fffffff],
        ] as const) {
          const bytes = Buffer.from(s.bytes);
          bytes.writeUInt32BE(value, at);
          const error = await expectCleanOutcome(bytes, `${s.name}: ${where} intro at ${at} := ${value}`);
          expect(error?.message).toMatch(new RegExp(`^${where} at byte ${h.offset}: declares \\d+ bytes, the file has only \\d+ left \\(truncated file\\?\\)$`));
          cases++;
        }
      }
    }
    expect(cases).toBeGreaterThan(300);
  });

  group('regressions found by fuzzing', () => {
    const sample = (name: string) => corpus.find((s) => s.name === name) as Sample;

    it('a PAYLOADSIZE retyped as a string array is no size: the package is still read, bounded by its files', async () => {
      // Header.numbers() once returned the strings, which reached the archive-size check as sizes
      const s = sample('writer zstd');
      const entry = s.layout.signature.entries.find((e) => e.tag === 1007)!;
      const bytes = Buffer.from(s.bytes);
      bytes.writeUInt32BE(8, entry.at + 4); // STRING_ARRAY
      expect(await expectCleanOutcome(bytes, 'PAYLOADSIZE as STRING_ARRAY')).toBeUndefined();
      expect((await readAll(bytes, 'PAYLOADSIZE as STRING_ARRAY')).entries).toBe(s.members.length - 1);
    });

    it('65535 index entries over one stretch of the store are refused at the second, not looked through 65535 times', async () => {
      // was: 1000 string entries over 100,000 NULs took 1.2 s, 65535 over 1 MiB (a 2 MB file)
      // minutes; 65535 INT8 entries of 1 MiB would each decode to a million-element array
      const s = sample('hello-1.2.3-1.noarch.rpm');
      for (const type of [8, 2]) {
        const intro = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0x10, 0, 0]); // il 65535, dl 1 MiB
        const index = Buffer.alloc(0xffff * 16);
        for (let i = 0; i < 0xffff; i++) {
          index.writeUInt32BE(1000 + i, i * 16);
          index.writeUInt32BE(type, i * 16 + 4);
          index.writeUInt32BE(1 << 20, i * 16 + 12);
        }
        const bytes = Buffer.concat([s.bytes.subarray(0, s.layout.header.offset), intro, index, Buffer.alloc(1 << 20)]);
        const error = await expectCleanOutcome(bytes, `flood of type ${type}`);
        expect(error?.message).toBe(`header at byte ${s.layout.header.offset + 16 + 0xffff * 16}: index entry 1 (tag 1001): 1048576 value(s) of type ${type} overlap other entries (1048576 of the 1048576 bytes of the data store are taken)`);
      }
    });

    it('a payload with the bzip2 magic is a BAD_PACKAGE at the payload offset', async () => {
      // was: KpkgError INVALID_INPUT, no structure or offset
      const s = sample('hello-1.2.3-1.noarch.rpm');
      const bytes = Buffer.from(s.bytes);
      bytes.write('BZh9', s.layout.payloadOffset, 'latin1');
      const error = await expectCleanOutcome(bytes, 'bzip2 magic');
      expect(error?.message).toMatch(new RegExp(`^payload at byte ${s.layout.payloadOffset}: bzip2 payloads are not supported`));
    });
  });

  it(`stays under ${MEMORY_BOUND >> 20} MiB of memory growth over the whole run`, () => {
    const peaks = memoryPeaks();
    if (process.env.KPKG_TEST_FIGURES) console.log(`${casesRun()} inputs; memory growth: rss +${peaks.rssMiB} MiB, array buffers +${peaks.arrayBuffersMiB} MiB`);
    expect(peaks.rssMiB).toBeLessThan(MEMORY_BOUND >> 20);
    expect(peaks.arrayBuffersMiB).toBeLessThan(MEMORY_BOUND >> 20);
  });
});
