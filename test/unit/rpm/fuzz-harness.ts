/**
 * Fuzzing harness for the RPM reader: a corpus of packages, a map of the structure fields that
 * matter in each, the damage fast-check draws from that map, and the outcome every damaged input
 * must have: read, or a BAD_PACKAGE error naming the structure and the byte offset, within a
 * time and memory bound. Used by reader-fuzz.test.ts and reader-bomb.test.ts.
 *
 * CI runs a few thousand cases (`npm test`); `npm run fuzz` runs KPKG_FUZZ_RUNS cases (default
 * 200000) of the fuzz files only. A failure prints fast-check's seed and path and the command
 * that replays it (KPKG_FUZZ_SEED, KPKG_FUZZ_PATH).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FormatError, KpkgError } from '../../../packager/errors.js';
import { createCompressor, createDecompressor, detectCompression, type Compression } from '../../../packager/rpm/compress.js';
import { bufferSource, packageInfo, readRpmFrom, verifyDigests } from '../../../packager/rpm/reader.js';
import { walkPayload } from '../../../packager/rpm/payload-reader.js';
import { writeRpm } from '../../../packager/rpm/writer.js';
import { type PackageSpec } from '../../../packager/rpm/spec.js';

// ---------------------------------------------------------------------------------------------
// bounds

/**
 * Every input ends within this much CPU time of this process (its threads and the thread pool
 * included): work, not wall-clock time, so that a loaded machine (other processes taking the
 * cores) does not turn the suite red. A case over it is rerun once.
 */
export const CASE_MS = 1000;
/**
 * A case with no outcome after this much wall-clock time is a hang (it waits rather than works):
 * the test fails instead of waiting forever. Generous, as a loaded machine stretches wall time.
 */
export const HANG_MS = 30_000;

/** CPU milliseconds this process has used so far (user and system, every thread). */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
/** Growth of RSS and of ArrayBuffer memory over a whole run, from its start. */
export const MEMORY_BOUND = 256 << 20;

// ---------------------------------------------------------------------------------------------
// how many cases

const TOTAL_DEFAULT = Number(process.env.KPKG_FUZZ_RUNS ?? 0);

/**
 * fast-check parameters for a property that runs `ciRuns` cases in `npm test`. KPKG_FUZZ_RUNS
 * multiplies every property's share by the same factor (the CI shares add up to CI_TOTAL),
 * KPKG_FUZZ_SEED and KPKG_FUZZ_PATH replay a failure.
 */
export const CI_TOTAL = 3000;
export function fuzzParams(ciRuns: number): { numRuns: number; seed?: number; path?: string } {
  const numRuns = TOTAL_DEFAULT > 0 ? Math.max(1, Math.round((ciRuns * TOTAL_DEFAULT) / CI_TOTAL)) : ciRuns;
  const seed = process.env.KPKG_FUZZ_SEED;
  const path = process.env.KPKG_FUZZ_PATH;
  return { numRuns, ...(seed ? { seed: Number(seed) } : {}), ...(path ? { path } : {}) };
}

/** A vitest timeout (wall-clock) for a property of `runs` cases, with room for a loaded machine. */
export function timeoutFor(runs: number): number {
  return Math.max(120_000, runs * 100);
}

/** Runs the property; on failure throws fast-check's report and the command that replays it. */
export async function assertFuzz<T>(name: string, arb: fc.Arbitrary<T>, run: (value: T) => Promise<void>, ciRuns: number): Promise<void> {
  const params = fuzzParams(ciRuns);
  const details = await fc.check(fc.asyncProperty(arb, run), params);
  if (details.failed) {
    const replay = `KPKG_FUZZ_SEED=${details.seed} KPKG_FUZZ_PATH=${details.counterexamplePath ?? ''} npx vitest run --config vitest.config.ts test/unit/rpm -t '${name}'`;
    throw new Error(`${fc.defaultReportMessage(details) ?? 'property failed'}\n${String(details.errorInstance)}\nreplay with: ${replay}`);
  }
}

// ---------------------------------------------------------------------------------------------
// outcome of one input

/** Peak growth of RSS and ArrayBuffer memory seen by `sampleMemory` since `resetMemory`. */
const memory = { rss: 0, arrayBuffers: 0, peakRss: 0, peakArrayBuffers: 0 };
export function resetMemory(): void {
  const m = process.memoryUsage();
  Object.assign(memory, { rss: m.rss, arrayBuffers: m.arrayBuffers, peakRss: 0, peakArrayBuffers: 0 });
}
export function sampleMemory(label: string): void {
  const m = process.memoryUsage();
  memory.peakRss = Math.max(memory.peakRss, m.rss - memory.rss);
  memory.peakArrayBuffers = Math.max(memory.peakArrayBuffers, m.arrayBuffers - memory.arrayBuffers);
  if (m.rss - memory.rss > MEMORY_BOUND || m.arrayBuffers - memory.arrayBuffers > MEMORY_BOUND) {
    throw new Error(`${label}: memory grew past ${MEMORY_BOUND >> 20} MiB (rss +${(m.rss - memory.rss) >> 20} MiB, array buffers +${(m.arrayBuffers - memory.arrayBuffers) >> 20} MiB)`);
  }
}
export function memoryPeaks(): { rssMiB: number; arrayBuffersMiB: number } {
  return { rssMiB: Math.round(memory.peakRss / 2 ** 20), arrayBuffersMiB: Math.round(memory.peakArrayBuffers / 2 ** 20) };
}

/** What a reader user does with a package: headers, model, digests, the whole payload walk. */
export async function readAll(bytes: Buffer, label: string): Promise<{ entries: number; bodyBytes: number }> {
  const src = bufferSource(bytes);
  const pkg = await readRpmFrom(src);
  const info = packageInfo(pkg);
  await verifyDigests(pkg, src);
  let entries = 0;
  let bodyBytes = 0;
  let events = 0;
  for await (const ev of walkPayload(src, pkg, info.files)) {
    if (ev.type === 'entry') entries++;
    else if (ev.type === 'data') bodyBytes += ev.chunk.length;
    if (++events % 64 === 0) sampleMemory(label);
  }
  return { entries, bodyBytes };
}

/** A clean error: KpkgError BAD_PACKAGE that names the structure and the byte offset at fault. */
export function checkCleanError(e: unknown, label: string): FormatError {
  if (!(e instanceof KpkgError)) throw new Error(`${label}: not a clean error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, { cause: e });
  if (e.code !== 'BAD_PACKAGE' || !(e instanceof FormatError) || !/^.+ at byte \d+: /.test(e.message)) {
    throw new Error(`${label}: a ${e.code} error that does not name structure and offset: ${e.message}`, { cause: e });
  }
  return e;
}

function deadline<T>(work: Promise<T>, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no outcome after ${HANG_MS} ms (hang)`)), HANG_MS);
  });
  return Promise.race([work, hang]).finally(() => clearTimeout(timer));
}

/**
 * Reads `bytes` as a damaged package: it must be read, or end in a clean error, within CASE_MS of
 * CPU time and MEMORY_BOUND. Returns the error, if any.
 */
let cases = 0;
/** Inputs checked by expectCleanOutcome so far in this file. */
export const casesRun = (): number => cases;

export async function expectCleanOutcome(bytes: Buffer, label: string, read: (bytes: Buffer, label: string) => Promise<unknown> = readAll): Promise<FormatError | undefined> {
  cases++;
  for (let attempt = 1; ; attempt++) {
    const start = cpuMs();
    let error: FormatError | undefined;
    try {
      await deadline(read(bytes, label), label);
    } catch (e) {
      error = checkCleanError(e, label);
    }
    const ms = cpuMs() - start;
    sampleMemory(label);
    if (ms <= CASE_MS) return error;
    // a garbage collection of earlier cases may land in one case: only a second slow run is the input's fault
    if (attempt === 2) throw new Error(`${label}: took ${Math.round(ms)} ms of CPU, more than ${CASE_MS} ms (twice)`);
  }
}

// ---------------------------------------------------------------------------------------------
// the corpus

export interface Sample {
  name: string;
  bytes: Buffer;
  layout: Layout;
  /** The uncompressed cpio archive and where its members start. */
  archive: Buffer;
  members: number[];
  compression: Compression;
}

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'rpmbuild');
export const FIXTURE_NAMES = ['hello-1.2.3-1.noarch.rpm', 'world-0.4.0-3.noarch.rpm', 'unicode-names-0.9.0~rc.1-1.noarch.rpm'];

/** A small package with the kinds of files the reader handles: file, empty file, directory, link. */
export function corpusSpec(): PackageSpec {
  return {
    name: 'fuzzed',
    version: '1.0',
    release: '1',
    summary: 'fuzzing corpus',
    description: 'A package for the reader fuzz tests',
    license: 'Apache-2.0',
    requires: [{ name: 'nodejs', flags: 0x08 | 0x04, version: '20' }],
    files: [
      { path: '/opt/fuzzed', kind: 'dir' },
      { path: '/opt/fuzzed/app.js', kind: 'file', content: 'console.log("fuzz");\n'.repeat(40) },
      { path: '/opt/fuzzed/empty', kind: 'file', content: '' },
      { path: '/opt/fuzzed/current', kind: 'symlink', target: 'app.js' },
      { path: '/opt/fuzzed/données.txt', kind: 'file', content: 'é'.repeat(301) },
    ],
  };
}

export async function lzmaAvailable(): Promise<boolean> {
  const specifier = 'lzma-native';
  return import(specifier).then(
    () => true,
    () => false,
  );
}

/** The three rpmbuild fixtures, and the corpus package written by writer.ts in each compression. */
export async function loadCorpus(work: string): Promise<Sample[]> {
  const raw: { name: string; bytes: Buffer }[] = FIXTURE_NAMES.map((f) => ({ name: f, bytes: readFileSync(join(FIXTURES, f)) }));
  const algos: Compression[] = ['gzip', 'zstd', 'none'];
  if (await lzmaAvailable()) algos.push('xz');
  for (const algo of algos) {
    const out = join(work, `fuzzed-${algo}.rpm`);
    await writeRpm(corpusSpec(), out, { compression: algo, sourceDateEpoch: 1700000000 });
    raw.push({ name: `writer ${algo}`, bytes: readFileSync(out) });
  }
  const samples: Sample[] = [];
  for (const r of raw) {
    const layout = mapLayout(r.bytes);
    const payload = r.bytes.subarray(layout.payloadOffset);
    const algo = detectCompression(payload);
    const archive = await transform(createDecompressor(algo), payload);
    samples.push({ ...r, layout, archive, members: cpioMembers(archive), compression: algo as Compression });
  }
  return samples;
}

export async function transform(stream: NodeJS.ReadWriteStream, input: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  stream.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  stream.end(input);
  await done;
  return Buffer.concat(out);
}

/** Recompresses an archive as the sample's payload was (fastest level: the bytes matter, not the ratio). */
export function recompress(s: Sample, archive: Buffer): Promise<Buffer> {
  const level = s.compression === 'none' ? undefined : s.compression === 'zstd' ? 1 : 0;
  return transform(createCompressor(s.compression, level), archive);
}

// ---------------------------------------------------------------------------------------------
// where the fields are

export interface Field {
  /** e.g. "header index entry 3 (tag 1000) count" */
  name: string;
  offset: number;
  size: 1 | 2 | 4 | 8;
}

export interface HeaderLayout {
  offset: number;
  il: number;
  dl: number;
  storeStart: number;
  entries: { tag: number; type: number; offset: number; count: number; at: number }[];
}

export interface Layout {
  fields: Field[];
  signature: HeaderLayout;
  header: HeaderLayout;
  payloadOffset: number;
  /** Where each section starts and ends, for duplications. */
  sections: { name: string; start: number; end: number }[];
}

function mapHeader(bytes: Buffer, offset: number, name: string, fields: Field[]): HeaderLayout {
  const il = bytes.readUInt32BE(offset + 8);
  const dl = bytes.readUInt32BE(offset + 12);
  const storeStart = offset + 16 + il * 16;
  fields.push({ name: `${name} magic`, offset, size: 4 }, { name: `${name} index count`, offset: offset + 8, size: 4 }, { name: `${name} data length`, offset: offset + 12, size: 4 });
  const entries: HeaderLayout['entries'] = [];
  for (let i = 0; i < il; i++) {
    const at = offset + 16 + i * 16;
    const e = { tag: bytes.readUInt32BE(at), type: bytes.readUInt32BE(at + 4), offset: bytes.readInt32BE(at + 8), count: bytes.readUInt32BE(at + 12), at };
    entries.push(e);
    for (const [k, f] of ['tag', 'type', 'offset', 'count'].entries()) fields.push({ name: `${name} index entry ${i} (tag ${e.tag}) ${f}`, offset: at + 4 * k, size: 4 });
  }
  const region = entries[0];
  if (region && region.tag >= 61 && region.tag <= 63) {
    const t = storeStart + region.offset;
    for (const [k, f] of ['tag', 'type', 'offset', 'count'].entries()) fields.push({ name: `${name} region trailer ${f}`, offset: t + 4 * k, size: 4 });
  }
  // the values of the tags that size things: archive and payload sizes, file sizes
  const valued = new Map<number, { size: 4 | 8; what: string }>(
    name === 'signature'
      ? [
          [1000, { size: 4, what: 'SIZE' }],
          [1007, { size: 4, what: 'PAYLOADSIZE' }],
          [270, { size: 8, what: 'LONGSIZE' }],
          [271, { size: 8, what: 'LONGARCHIVESIZE' }],
        ]
      : [
          [1046, { size: 4, what: 'ARCHIVESIZE' }],
          [1028, { size: 4, what: 'FILESIZES[0]' }],
          [5008, { size: 8, what: 'LONGFILESIZES[0]' }],
          [1116, { size: 4, what: 'DIRINDEXES[0]' }],
        ],
  );
  for (const e of entries) {
    const v = valued.get(e.tag);
    if (v && e.offset >= 0 && storeStart + e.offset + v.size <= bytes.length) fields.push({ name: `${name} ${v.what} value`, offset: storeStart + e.offset, size: v.size });
  }
  return { offset, il, dl, storeStart, entries };
}

export function mapLayout(bytes: Buffer): Layout {
  const fields: Field[] = [
    { name: 'lead magic', offset: 0, size: 4 },
    { name: 'lead major', offset: 4, size: 1 },
    { name: 'lead signature type', offset: 78, size: 2 },
  ];
  const signature = mapHeader(bytes, 96, 'signature', fields);
  const sigEnd = signature.storeStart + signature.dl;
  const headerOffset = sigEnd + ((8 - (sigEnd % 8)) % 8);
  const header = mapHeader(bytes, headerOffset, 'header', fields);
  const payloadOffset = header.storeStart + header.dl;
  fields.push({ name: 'payload magic', offset: payloadOffset, size: 4 });
  const sections = [
    { name: 'lead', start: 0, end: 96 },
    { name: 'signature header', start: 96, end: sigEnd },
    { name: 'signature index', start: 112, end: signature.storeStart },
    { name: 'header', start: headerOffset, end: payloadOffset },
    { name: 'header index', start: headerOffset + 16, end: header.storeStart },
    { name: 'header data store', start: header.storeStart, end: payloadOffset },
    { name: 'payload', start: payloadOffset, end: bytes.length },
  ];
  return { fields, signature, header, payloadOffset, sections };
}

/** Offsets of the newc headers in a cpio archive, trailer included. */
export function cpioMembers(archive: Buffer): number[] {
  const out: number[] = [];
  let pos = 0;
  while (pos + 110 <= archive.length && archive.toString('latin1', pos, pos + 6) === '070701') {
    out.push(pos);
    const hex = (i: number) => parseInt(archive.toString('latin1', pos + 6 + i * 8, pos + 14 + i * 8), 16);
    const namesize = hex(11);
    const size = hex(6);
    const name = archive.toString('latin1', pos + 110, pos + 110 + namesize - 1);
    const afterName = pos + 110 + namesize;
    pos = afterName + ((4 - (afterName % 4)) % 4);
    pos += size + ((4 - (size % 4)) % 4);
    if (name === 'TRAILER!!!') break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// damage

/** A damaged input: what was done (printed by fast-check) and the bytes, made when run. */
export interface Damaged {
  label: string;
  make: () => Buffer | Promise<Buffer>;
}

function damaged(label: string, make: () => Buffer | Promise<Buffer>): Damaged {
  return { label, make, [fc.toStringMethod]: () => JSON.stringify(label) } as Damaged;
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

/** Values a damaged field takes: the edges a reader must check against. */
function fieldValues(s: Sample, f: Field): fc.Arbitrary<{ value: bigint; why: string }> {
  const max = (1n << BigInt(f.size * 8)) - 1n;
  const original = readField(s.bytes, f);
  const size = BigInt(s.bytes.length);
  const rel = BigInt(Math.max(0, s.bytes.length - f.offset));
  const h = f.name.startsWith('header') ? s.layout.header : s.layout.signature;
  const choices: { value: bigint; why: string }[] = [
    { value: 0n, why: '0' },
    { value: 1n, why: '1' },
    { value: max, why: 'all ones (huge, or -1 as signed)' },
    { value: max >> 1n, why: 'largest positive' },
    { value: (max >> 1n) + 1n, why: 'smallest negative as unsigned' },
    { value: size, why: 'the file size' },
    { value: rel, why: 'just past the end of the file' },
    { value: BigInt(h.dl), why: 'the data length (just past the store)' },
    { value: BigInt(h.dl + 1), why: 'the data length + 1' },
    { value: BigInt(h.il * 16), why: 'the index size' },
    { value: original + 1n, why: 'original + 1' },
    { value: original - 1n, why: 'original - 1' },
    { value: original * 2n, why: 'original * 2' },
  ];
  // another entry's offset: overlapping data
  for (const e of h.entries.slice(0, 8)) choices.push({ value: BigInt(e.offset >>> 0), why: `the offset of tag ${e.tag} (overlap)` });
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...choices.map((c) => ({ value: c.value & max, why: c.why }))) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max }).map((value) => ({ value, why: 'random' })) },
  );
}

function readField(bytes: Buffer, f: Field): bigint {
  if (f.offset + f.size > bytes.length) return 0n;
  return f.size === 8 ? bytes.readBigUInt64BE(f.offset) : BigInt(bytes.readUIntBE(f.offset, f.size));
}

function writeField(bytes: Buffer, f: Field, value: bigint): void {
  if (f.offset + f.size > bytes.length) return;
  if (f.size === 8) bytes.writeBigUInt64BE(value, f.offset);
  else bytes.writeUIntBE(Number(value), f.offset, f.size);
}

export function truncation(s: Sample): fc.Arbitrary<Damaged> {
  // anywhere, and more often at the edges of a section, where off-by-one checks live
  const edges = s.layout.sections.flatMap((x) => [x.start, x.end]).concat(s.layout.fields.map((f) => f.offset));
  return fc
    .oneof(fc.nat(s.bytes.length - 1), fc.tuple(fc.constantFrom(...edges), fc.integer({ min: -2, max: 2 })).map(([e, d]) => Math.min(Math.max(0, e + d), s.bytes.length - 1)))
    .map((at) => damaged(`${s.name}: truncated to ${at} bytes`, () => s.bytes.subarray(0, at)));
}

export function bitFlips(s: Sample): fc.Arbitrary<Damaged> {
  return fc.array(fc.tuple(fc.nat(s.bytes.length - 1), fc.nat(7)), { minLength: 1, maxLength: 4 }).map((flips) =>
    damaged(`${s.name}: bits flipped at ${flips.map(([a, b]) => `${a}.${b}`).join(', ')}`, () => {
      const bytes = Buffer.from(s.bytes);
      for (const [at, bit] of flips) bytes[at]! ^= 1 << bit;
      return bytes;
    }),
  );
}

/** One to three fields set to edge values: several at once get past checks that one alone trips. */
export function fieldDamage(s: Sample): fc.Arbitrary<Damaged> {
  const one = fc.constantFrom(...s.layout.fields).chain((f) => fc.tuple(fc.constant(f), fieldValues(s, f)));
  return fc.array(one, { minLength: 1, maxLength: 3 }).map((edits) =>
    damaged(`${s.name}: ${edits.map(([f, v]) => `${f.name} (at ${f.offset}) := ${hex(v.value)} (${v.why})`).join('; ')}`, () => {
      const bytes = Buffer.from(s.bytes);
      for (const [f, v] of edits) writeField(bytes, f, v.value);
      return bytes;
    }),
  );
}

const MAGICS: Record<string, number[]> = {
  gzip: [0x1f, 0x8b, 0x08, 0x00],
  zstd: [0x28, 0xb5, 0x2f, 0xfd],
  xz: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
  lzma: [0x5d, 0x00, 0x00, 0x80],
  bzip2: [0x42, 0x5a, 0x68, 0x39],
  cpio: [...Buffer.from('070701')],
};

/** The payload read with another decoder than it was written for, or the compressor tag changed. */
export function compressorDamage(s: Sample): fc.Arbitrary<Damaged> {
  const tag = s.layout.header.entries.find((e) => e.tag === 1125);
  return fc.constantFrom(...Object.keys(MAGICS)).chain((other) =>
    fc.boolean().map((inTag) =>
      inTag && tag
        ? damaged(`${s.name}: PAYLOADCOMPRESSOR := ${other}`, () => {
            const bytes = Buffer.from(s.bytes);
            bytes.write(`${other}\0`, s.layout.header.storeStart + tag.offset, 'latin1');
            return bytes;
          })
        : damaged(`${s.name}: payload starts with the ${other} magic`, () => {
            const bytes = Buffer.from(s.bytes);
            Buffer.from(MAGICS[other]!).copy(bytes, s.layout.payloadOffset);
            return bytes;
          }),
    ),
  );
}

const CPIO_FIELDS = ['magic', 'ino', 'mode', 'uid', 'gid', 'nlink', 'mtime', 'filesize', 'devmajor', 'devminor', 'rdevmajor', 'rdevminor', 'namesize', 'check'];

/** A cpio header field of the decompressed payload damaged, then recompressed as it was. */
export function cpioDamage(s: Sample): fc.Arbitrary<Damaged> {
  const values = ['00000000', 'ffffffff', '7fffffff', '80000000', 'zzzzzzzz', '0000000g', ' 1234567', '00000001', '00010001'];
  return fc.tuple(fc.nat(s.members.length - 1), fc.nat(CPIO_FIELDS.length - 1), fc.oneof(fc.constantFrom(...values), fc.nat().map((n) => (n % (s.archive.length + 8)).toString(16).padStart(8, '0')))).map(([m, field, value]) => {
    const at = s.members[m]!;
    const text = field === 0 ? (value.startsWith('000000') ? '070702' : value.slice(2)) : value;
    return damaged(`${s.name}: cpio member ${m} (archive offset ${at}) ${CPIO_FIELDS[field]} := ${JSON.stringify(text)}`, async () => {
      const archive = Buffer.from(s.archive);
      archive.write(text, field === 0 ? at : at + 6 + (field - 1) * 8, 'latin1');
      return Buffer.concat([s.bytes.subarray(0, s.layout.payloadOffset), await recompress(s, archive)]);
    });
  });
}

/** Sections duplicated, moved, or taken from another package. */
export function splices(s: Sample, all: Sample[]): fc.Arbitrary<Damaged> {
  const sec = fc.constantFrom(...s.layout.sections);
  return fc.oneof(
    fc.tuple(sec, fc.nat(s.bytes.length)).map(([x, at]) =>
      damaged(`${s.name}: ${x.name} (${x.start}..${x.end}) inserted again at ${at}`, () => Buffer.concat([s.bytes.subarray(0, at), s.bytes.subarray(x.start, x.end), s.bytes.subarray(at)])),
    ),
    sec.map((x) => damaged(`${s.name}: ${x.name} (${x.start}..${x.end}) removed`, () => Buffer.concat([s.bytes.subarray(0, x.start), s.bytes.subarray(x.end)]))),
    fc.constantFrom(...all).map((o) => damaged(`${s.name} followed by ${o.name}`, () => Buffer.concat([s.bytes, o.bytes]))),
    fc.tuple(fc.constantFrom(...all), fc.constantFrom('signature header', 'header', 'payload')).map(([o, name]) => {
      const mine = s.layout.sections.find((x) => x.name === name)!;
      const theirs = o.layout.sections.find((x) => x.name === name)!;
      return damaged(`${s.name} with the ${name} of ${o.name}`, () =>
        Buffer.concat([s.bytes.subarray(0, mine.start), o.bytes.subarray(theirs.start, theirs.end), s.bytes.subarray(mine.end)]),
      );
    }),
  );
}

/**
 * The main header rebuilt with `il` index entries that all point into one stretch of the store:
 * overlapping entries, each as large as the store allows (strings of NULs, or one long string).
 */
export function indexFlood(s: Sample): fc.Arbitrary<Damaged> {
  return fc
    .record({
      il: fc.oneof(fc.integer({ min: 2, max: 64 }), fc.constantFrom(1000, 4096, 0xffff)),
      dl: fc.oneof(fc.integer({ min: 1, max: 4096 }), fc.constantFrom(100_000, 1 << 20)),
      type: fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 9),
      nuls: fc.boolean(),
      huge: fc.boolean(),
    })
    .map(({ il, dl, type, nuls, huge }) =>
      damaged(`${s.name}: main header of ${il} entries of type ${type}, all at offset 0 with count ${huge ? 'dl' : 1}, in a store of ${dl} ${nuls ? 'NULs' : "'A's"}`, () => {
        const intro = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        intro.writeUInt32BE(il, 8);
        intro.writeUInt32BE(dl, 12);
        const index = Buffer.alloc(il * 16);
        for (let i = 0; i < il; i++) {
          index.writeUInt32BE(1000 + i, i * 16);
          index.writeUInt32BE(type, i * 16 + 4);
          index.writeUInt32BE(huge ? dl : 1, i * 16 + 12);
        }
        const store = Buffer.alloc(dl, nuls ? 0 : 0x41);
        store[dl - 1] = 0;
        return Buffer.concat([s.bytes.subarray(0, s.layout.header.offset), intro, index, store, s.bytes.subarray(s.layout.payloadOffset)]);
      }),
    );
}

/** Random bytes behind a valid lead (and sometimes a valid signature header). */
export function afterValidLead(s: Sample): fc.Arbitrary<Damaged> {
  const headerOffset = s.layout.header.offset;
  return fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 4096 })).map(([withSig, random]) =>
    damaged(`${s.name}: valid lead${withSig ? ' and signature' : ''} then ${random.length} random bytes ${Buffer.from(random).toString('base64')}`, () =>
      Buffer.concat([s.bytes.subarray(0, withSig ? headerOffset : 96), random]),
    ),
  );
}

export function randomBytes(): fc.Arbitrary<Damaged> {
  return fc.uint8Array({ maxLength: 4096 }).map((random) => damaged(`${random.length} random bytes ${Buffer.from(random).toString('base64')}`, () => Buffer.from(random)));
}
