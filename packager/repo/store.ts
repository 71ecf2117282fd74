/**
 * The segments: what kpkg keeps beside a repository so that adding a package costs little however
 * many are published, and the metadata files made from them. In `<repo>/.kpkg/`:
 *
 *   .kpkg/lock                      the publishers' lock (lock.ts)
 *   .kpkg/state.json                the published packages and the segments in order (state.ts)
 *   .kpkg/segments/<id>.json        per package of the segment: pkgid and the byte range of its
 *                                   chunk in each of the three uncompressed XML texts
 *   .kpkg/segments/<id>.<type>.xml            the segment's chunks, uncompressed (for the
 *                                             open-checksum and for pruning)
 *   .kpkg/segments/<id>.<type>.xml.gz|.zst    the same, compressed as one gzip member / zstd frame
 *
 * A metadata file is then: a compressed member holding the XML header (with the package count),
 * every segment's compressed member as stored, a member holding the footer. Concatenated gzip
 * members are one valid gzip file (RFC 1952 2.2; zlib's gzread, hence libsolv and librepo, read
 * on past the end of a member), and concatenated zstd frames one valid zstd stream. So adding one
 * package compresses that package's chunks only and copies the rest. Segments merge as a binary
 * counter (a new one joins the previous while it is at least as large), by concatenation again:
 * a repository of N packages has at most log2(N) + 1 segments and is never recompressed whole.
 * `kpkg repo index` writes one segment for everything (the best compression).
 */
import { createHash, hash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { ioError } from '../errors.js';
import { createCompressor, resolveLevel } from '../rpm/compress.js';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { METADATA_SUFFIX, METADATA_TYPES, metadataFooter, metadataHeader, type MetadataCompression, type MetadataFileInfo } from './metadata.js';
import { segmentsDir, type SegmentRef } from './state.js';
import type { MetadataType } from './types.js';
import { fsyncDir, settled, tempName, writeAll, writeDurable } from '../util/fs.js';

export interface SegmentEntry {
  pkgid: string;
  /** [start, end) in the uncompressed text of each type. */
  ranges: Record<MetadataType, [number, number]>;
}

const gzipAsync = promisify(gzip);

// ---------------------------------------------------------------------------------------------
// compression

/** `data` compressed as one gzip member or one zstd frame (our payload compressors, default levels). */
export async function compressMember(algo: MetadataCompression, data: Uint8Array): Promise<Buffer> {
  // gzip in one call on the thread pool (the same deflate stream as createCompressor's)
  if (algo === 'gzip') return gzipAsync(data, { level: resolveLevel('gzip') as number });
  const out: Buffer[] = [];
  await pipeline(
    Readable.from([data]),
    createCompressor(algo),
    new Writable({
      write(chunk: Buffer, _enc, done) {
        out.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(out);
}

// ---------------------------------------------------------------------------------------------
// segments

function segmentFile(repo: string, id: string, type: MetadataType | 'json', compress?: MetadataCompression): string {
  if (type === 'json') return join(segmentsDir(repo), `${id}.json`);
  return join(segmentsDir(repo), `${id}.${type}.xml${compress ? METADATA_SUFFIX[compress] : ''}`);
}

function newSegmentId(): string {
  return `${Date.now().toString(36)}-${randomBytes(5).toString('hex')}`;
}

/**
 * Some packages' chunks, ready to become (part of) a segment: per type the uncompressed XML and
 * the same compressed as one member. Made as the packages are read (on worker threads when there
 * are several, publish.ts), compressed on the thread pool; a segment is blocks concatenated.
 */
export interface Block {
  compress: MetadataCompression;
  pkgids: string[];
  /** The packages' chunks in order. */
  texts: Record<MetadataType, Buffer>;
  /** Where each package's chunk ends in `texts[type]`. */
  ends: Record<MetadataType, number[]>;
  /** `texts[type]` compressed as one gzip member / zstd frame. */
  packed: Record<MetadataType, Buffer>;
}

/** A block of the packages whose uncompressed chunks are `texts` (ending at `ends`). */
async function blockOf(compress: MetadataCompression, pkgids: string[], texts: Record<MetadataType, Buffer>, ends: Record<MetadataType, number[]>): Promise<Block> {
  const packed = {} as Record<MetadataType, Buffer>;
  await Promise.all(METADATA_TYPES.map(async (type) => void (packed[type] = await compressMember(compress, texts[type]))));
  return { compress, pkgids, texts, ends, packed };
}

/**
 * Makes a block package by package: each package's chunks are encoded into the block's buffers
 * as soon as they are added, so that no string outlives its package (long-lived strings made
 * the garbage collector copy them again and again).
 */
export class BlockBuilder {
  private readonly pkgids: string[] = [];
  private readonly bufs: Record<MetadataType, Buffer> = { primary: Buffer.allocUnsafe(1 << 16), filelists: Buffer.allocUnsafe(1 << 14), other: Buffer.allocUnsafe(1 << 14) };
  private readonly ends: Record<MetadataType, number[]> = { primary: [], filelists: [], other: [] };
  private readonly lengths: Record<MetadataType, number> = { primary: 0, filelists: 0, other: 0 };

  get size(): number {
    return this.pkgids.length;
  }

  add(pkgid: string, chunks: Readonly<Record<MetadataType, string>>): void {
    this.pkgids.push(pkgid);
    for (const type of METADATA_TYPES) {
      const chunk = chunks[type];
      let buf = this.bufs[type];
      const at = this.lengths[type];
      // UTF-8 takes at most 3 bytes per UTF-16 unit
      if (at + chunk.length * 3 > buf.length) {
        const grown = Buffer.allocUnsafe(Math.max(buf.length * 2, at + chunk.length * 3));
        buf.copy(grown, 0, 0, at);
        buf = this.bufs[type] = grown;
      }
      this.lengths[type] = at + buf.write(chunk, at, 'utf8');
      this.ends[type].push(this.lengths[type]);
    }
  }

  /** The block, compressed in `compress` (on the thread pool). */
  finish(compress: MetadataCompression): Promise<Block> {
    const texts = {} as Record<MetadataType, Buffer>;
    for (const type of METADATA_TYPES) texts[type] = this.bufs[type].subarray(0, this.lengths[type]);
    return blockOf(compress, this.pkgids, texts, this.ends);
  }
}

/** The packages of `block` at `indices` (ascending), in a new block (recompressed). */
export async function blockSubset(block: Block, indices: readonly number[]): Promise<Block> {
  if (indices.length === block.pkgids.length) return block;
  const texts = {} as Record<MetadataType, Buffer>;
  const ends = {} as Record<MetadataType, number[]>;
  for (const type of METADATA_TYPES) {
    const all = block.ends[type];
    const parts = indices.map((i) => block.texts[type].subarray(i === 0 ? 0 : all[i - 1], all[i]));
    let pos = 0;
    ends[type] = parts.map((b) => (pos += b.length));
    texts[type] = Buffer.concat(parts);
  }
  return blockOf(block.compress, indices.map((i) => block.pkgids[i] as string), texts, ends);
}

/** A new segment made of `blocks`, in order (their compressed members reused when in `compress`). */
export async function writeSegment(repo: string, compress: MetadataCompression, blocks: readonly Block[], cache?: SegmentCache): Promise<SegmentRef> {
  const write = (path: string, data: Buffer) => (cache ? cache.write(path, data) : writeDurable(path, data, { syncDir: false }));
  const id = newSegmentId();
  const entries: SegmentEntry[] = [];
  const shift: Record<MetadataType, number> = { primary: 0, filelists: 0, other: 0 };
  for (const b of blocks) {
    b.pkgids.forEach((pkgid, i) => {
      const ranges = {} as SegmentEntry['ranges'];
      for (const type of METADATA_TYPES) ranges[type] = [shift[type] + (i === 0 ? 0 : b.ends[type][i - 1]!), shift[type] + b.ends[type][i]!];
      entries.push({ pkgid, ranges });
    });
    for (const type of METADATA_TYPES) shift[type] += b.texts[type].length;
  }
  // the seven files at once: none is used before the state names the segment
  await settled([
    ...METADATA_TYPES.map(async (type) => {
      const text = Buffer.concat(blocks.map((b) => b.texts[type]));
      // no block (an empty repository) or another compression: compressed here
      const packed = blocks.length > 0 && blocks.every((b) => b.compress === compress) ? Buffer.concat(blocks.map((b) => b.packed[type])) : await compressMember(compress, text);
      await settled([write(segmentFile(repo, id, type), text), write(segmentFile(repo, id, type, compress), packed)]);
    }),
    writeDurable(segmentFile(repo, id, 'json'), `${JSON.stringify(entries)}\n`, { syncDir: false }),
  ]);
  await fsyncDir(segmentsDir(repo));
  return { id, count: entries.length, compress };
}

/**
 * The segment files a repository command wrote, by path: the metadata files written right after
 * them (commit) take their bytes from here instead of reading them back. One per command (the
 * session holds it); without one, every read goes to the disk.
 */
export class SegmentCache {
  private readonly written = new Map<string, Buffer>();

  async write(path: string, data: Buffer): Promise<void> {
    await writeDurable(path, data, { syncDir: false });
    this.written.set(path, data);
  }

  /** A segment file's bytes. */
  async read(path: string): Promise<Buffer> {
    return this.written.get(path) ?? readSegmentFile(path);
  }
}

async function readSegmentFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw ioError('read', path, e);
  }
}

export async function readSegmentEntries(repo: string, id: string): Promise<SegmentEntry[]> {
  const path = segmentFile(repo, id, 'json');
  try {
    return JSON.parse(await readFile(path, 'utf8')) as SegmentEntry[];
  } catch (e) {
    throw ioError('read', path, e);
  }
}

function readSegmentText(repo: string, id: string, type: MetadataType, cache: SegmentCache | undefined): Promise<Buffer> {
  const path = segmentFile(repo, id, type);
  return cache ? cache.read(path) : readSegmentFile(path);
}

/**
 * One segment holding `segments` in order: their compressed members concatenated as they are
 * (no recompression) when they share the compression, else recompressed.
 */
export async function mergeSegments(repo: string, compress: MetadataCompression, segments: readonly SegmentRef[]): Promise<SegmentRef> {
  const id = newSegmentId();
  const entries: SegmentEntry[] = [];
  const shift: Record<MetadataType, number> = { primary: 0, filelists: 0, other: 0 };
  for (const seg of segments) {
    for (const e of await readSegmentEntries(repo, seg.id)) {
      const ranges = {} as SegmentEntry['ranges'];
      for (const type of METADATA_TYPES) ranges[type] = [e.ranges[type][0] + shift[type], e.ranges[type][1] + shift[type]];
      entries.push({ pkgid: e.pkgid, ranges });
    }
    for (const type of METADATA_TYPES) shift[type] += (await stat(segmentFile(repo, seg.id, type))).size;
  }
  await settled(
    METADATA_TYPES.map(async (type) => {
      await concatFiles(
        segmentFile(repo, id, type),
        segments.map((s) => segmentFile(repo, s.id, type)),
      );
      if (segments.every((s) => s.compress === compress)) {
        await concatFiles(
          segmentFile(repo, id, type, compress),
          segments.map((s) => segmentFile(repo, s.id, type, s.compress)),
        );
      } else {
        await writeDurable(segmentFile(repo, id, type, compress), await compressMember(compress, await readFile(segmentFile(repo, id, type))), { syncDir: false });
      }
    }),
  );
  await writeDurable(segmentFile(repo, id, 'json'), `${JSON.stringify(entries)}\n`, { syncDir: false });
  await fsyncDir(segmentsDir(repo));
  return { id, count: entries.length, compress };
}

/** A new segment holding the packages of `seg` whose pkgid `keep` accepts (recompressed). */
export async function filterSegment(repo: string, seg: SegmentRef, compress: MetadataCompression, keep: (pkgid: string) => boolean, cache?: SegmentCache): Promise<SegmentRef | undefined> {
  const entries = await readSegmentEntries(repo, seg.id);
  const kept = entries.flatMap((e, i) => (keep(e.pkgid) ? [i] : []));
  if (kept.length === 0) return undefined;
  if (kept.length === entries.length) return seg;
  const texts = {} as Record<MetadataType, Buffer>;
  const ends = {} as Record<MetadataType, number[]>;
  for (const type of METADATA_TYPES) {
    texts[type] = await readSegmentText(repo, seg.id, type, cache);
    ends[type] = entries.map((e) => e.ranges[type][1]);
  }
  // the segment as one block (its ranges are contiguous from 0), then the subset
  const whole: Block = { compress, pkgids: entries.map((e) => e.pkgid), texts, ends, packed: {} as Block['packed'] };
  return writeSegment(repo, compress, [await blockSubset(whole, kept)], cache);
}

async function concatFiles(to: string, from: readonly string[]): Promise<void> {
  const tmp = tempName(to);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      for (const f of from) {
        for await (const chunk of createReadStream(f, { highWaterMark: 1 << 20 })) await writeAll(fh, chunk as Buffer);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, to);
  } catch (e) {
    await rm(tmp, { force: true });
    throw ioError('write', to, e);
  }
}

/**
 * Binary-counter compaction: while the last segment is at least as large as the one before it,
 * the two become one (by concatenation). Returns the new list; replaced segments are left on disk
 * for the caller to remove once the state no longer names them.
 */
export async function compact(repo: string, compress: MetadataCompression, segments: readonly SegmentRef[]): Promise<SegmentRef[]> {
  const out = [...segments];
  // a segment of another compression is rewritten once, on its own
  for (let i = 0; i < out.length; i++) {
    if (out[i]!.compress !== compress) out[i] = await mergeSegments(repo, compress, [out[i]!]);
  }
  while (out.length >= 2 && out[out.length - 1]!.count >= out[out.length - 2]!.count) {
    const b = out.pop()!;
    const a = out.pop()!;
    out.push(await mergeSegments(repo, compress, [a, b]));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// metadata files from segments

/**
 * Writes `repodata/<sha256>-<type>.xml.gz|.zst` for the segments: a header member, the segments'
 * members, a footer member, with the checksums and sizes repomd.xml needs.
 */
export async function writeMetadataFromSegments(repo: string, compress: MetadataCompression, segments: readonly SegmentRef[], type: MetadataType, cache?: SegmentCache): Promise<MetadataFileInfo> {
  const repodata = join(repo, 'repodata');
  await mkdir(repodata, { recursive: true });
  const count = segments.reduce((n, s) => n + s.count, 0);
  const header = Buffer.from(metadataHeader(type, count), 'utf8');
  const footer = Buffer.from(metadataFooter(type), 'utf8');
  // the file is small (compressed); the open text is hashed segment by segment as it is read
  const openHash = createHash('sha256').update(header);
  let openSize = header.length;
  const parts: Buffer[] = [await compressMember(compress, header)];
  for (const seg of segments) {
    const text = await readSegmentText(repo, seg.id, type, cache);
    openHash.update(text);
    openSize += text.length;
    const packed = segmentFile(repo, seg.id, type, compress);
    parts.push(await (cache ? cache.read(packed) : readSegmentFile(packed)));
  }
  openHash.update(footer);
  openSize += footer.length;
  parts.push(await compressMember(compress, footer));
  const data = Buffer.concat(parts);
  const checksum = hash('sha256', data, 'hex');
  const name = `${checksum}-${type}.xml${METADATA_SUFFIX[compress]}`;
  const final = join(repodata, name);
  // the caller syncs repodata/ once for the three files
  await writeDurable(final, data, { syncDir: false });
  const timestamp = Math.floor((await stat(final)).mtimeMs / 1000);
  return { type, href: `repodata/${name}`, checksum, openChecksum: openHash.digest('hex'), size: data.length, openSize, timestamp };
}

// ---------------------------------------------------------------------------------------------
// clean-up

/** Removes the segment files that `keep` does not name (call after the state naming them is saved). */
export async function removeUnusedSegments(repo: string, keep: readonly SegmentRef[]): Promise<void> {
  const ids = new Set(keep.map((s) => s.id));
  let names: string[];
  try {
    names = await readdir(segmentsDir(repo));
  } catch {
    return;
  }
  await Promise.all(
    names
      .filter((n) => !n.startsWith('.') && !ids.has(n.slice(0, n.indexOf('.'))))
      .map((n) => unlink(join(segmentsDir(repo), n)).catch(() => undefined)),
  );
}
