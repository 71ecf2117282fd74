// The incremental store of the publisher (packager/repo/store.ts): segments of compressed
// members that concatenate into valid metadata files.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { metadataFooter, metadataHeader, METADATA_TYPES } from '../../../packager/repo/metadata.js';
import { BlockBuilder, compact, compressMember, filterSegment, mergeSegments, readSegmentEntries, writeMetadataFromSegments, writeSegment } from '../../../packager/repo/store.js';
import { segmentsDir, type SegmentRef } from '../../../packager/repo/state.js';
import type { MetadataType, RepoPackage } from '../../../packager/repo/types.js';
import { createDecompressor } from '../../../packager/rpm/compress.js';

const work = mkdtempSync(join(tmpdir(), 'kpkg-store-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
function repo(): string {
  const r = join(work, `repo-${n++}`);
  mkdirSync(segmentsDir(r), { recursive: true });
  return r;
}

/** Packages known only by pkgid, their chunks given already rendered. */
function fake(ids: string[]): { records: RepoPackage[]; chunks: Record<MetadataType, string>[] } {
  return {
    records: ids.map((id) => ({ pkgid: id }) as RepoPackage),
    chunks: ids.map((id) => ({ primary: `<package>${id}</package>\n`, filelists: `<package pkgid="${id}"/>\n`, other: `<package pkgid="${id}">é</package>\n` })),
  };
}

async function seg(r: string, ids: string[], compress: 'gzip' | 'zstd' = 'gzip'): Promise<SegmentRef> {
  const f = fake(ids);
  const block = new BlockBuilder();
  f.records.forEach((rec, i) => block.add(rec.pkgid, f.chunks[i]!));
  return writeSegment(r, compress, [await block.finish(compress)]);
}

async function unzstd(data: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of Readable.from([data]).pipe(createDecompressor('zstd'))) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const expectedOpen = (type: MetadataType, ids: string[]) => metadataHeader(type, ids.length) + fake(ids).chunks.map((c) => c[type]).join('') + metadataFooter(type);

describe('publisher store', () => {
  it('concatenated gzip members and zstd frames decompress to the concatenation', async () => {
    const a = await compressMember('gzip', Buffer.from('first '));
    const b = await compressMember('gzip', Buffer.from('second'));
    expect(gunzipSync(Buffer.concat([a, b])).toString()).toBe('first second');
    const c = await compressMember('zstd', Buffer.from('first '));
    const d = await compressMember('zstd', Buffer.from('second'));
    expect((await unzstd(Buffer.concat([c, d]))).toString()).toBe('first second');
  });

  for (const compress of ['gzip', 'zstd'] as const) {
    it(`metadata files from several segments (${compress}): header, every chunk in order, footer; checksums as repomd.xml needs`, async () => {
      const r = repo();
      const segments = [await seg(r, ['a', 'b', 'c'], compress), await seg(r, ['d'], compress), await seg(r, ['e', 'f'], compress)];
      for (const type of METADATA_TYPES) {
        const info = await writeMetadataFromSegments(r, compress, segments, type);
        const data = readFileSync(join(r, info.href));
        const open = compress === 'gzip' ? gunzipSync(data) : await unzstd(data);
        expect(open.toString('utf8')).toBe(expectedOpen(type, ['a', 'b', 'c', 'd', 'e', 'f']));
        expect(info.checksum).toBe(createHash('sha256').update(data).digest('hex'));
        expect(info.openChecksum).toBe(createHash('sha256').update(open).digest('hex'));
        expect([info.size, info.openSize]).toEqual([data.length, open.length]);
        expect(info.href).toBe(`repodata/${info.checksum}-${type}.xml.${compress === 'gzip' ? 'gz' : 'zst'}`);
      }
    });
  }

  it('merging concatenates and shifts the byte ranges; filtering keeps the rest exactly', async () => {
    const r = repo();
    const merged = await mergeSegments(r, 'gzip', [await seg(r, ['a', 'b']), await seg(r, ['c'])]);
    expect(merged.count).toBe(3);
    const entries = await readSegmentEntries(r, merged.id);
    const text = readFileSync(join(segmentsDir(r), `${merged.id}.other.xml`));
    expect(entries.map((e) => text.subarray(...e.ranges.other).toString('utf8'))).toEqual(fake(['a', 'b', 'c']).chunks.map((c) => c.other));
    const kept = (await filterSegment(r, merged, 'gzip', (id) => id !== 'b'))!;
    const info = await writeMetadataFromSegments(r, 'gzip', [kept], 'primary');
    expect(gunzipSync(readFileSync(join(r, info.href))).toString('utf8')).toBe(expectedOpen('primary', ['a', 'c']));
    expect(await filterSegment(r, kept, 'gzip', () => false)).toBeUndefined();
  });

  it('compacts as a binary counter: one package at a time, at most log2(N) + 1 segments', async () => {
    const r = repo();
    let segments: SegmentRef[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 13; i++) {
      ids.push(`p${i}`);
      segments = await compact(r, 'gzip', [...segments, await seg(r, [`p${i}`])]);
    }
    expect(segments.map((s) => s.count)).toEqual([8, 4, 1]);
    const info = await writeMetadataFromSegments(r, 'gzip', segments, 'filelists');
    expect(gunzipSync(readFileSync(join(r, info.href))).toString('utf8')).toBe(expectedOpen('filelists', ids));
  });

  it('a change of compression rewrites the segments once', async () => {
    const r = repo();
    const segments = await compact(r, 'zstd', [await seg(r, ['a', 'b']), await seg(r, ['c'])]);
    expect(segments.every((s) => s.compress === 'zstd')).toBe(true);
    const info = await writeMetadataFromSegments(r, 'zstd', segments, 'other');
    expect((await unzstd(readFileSync(join(r, info.href)))).toString('utf8')).toBe(expectedOpen('other', ['a', 'b', 'c']));
  });
});
