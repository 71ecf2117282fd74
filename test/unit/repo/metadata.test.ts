import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CHUNKERS, compareHref, compareUtf8, METADATA_TYPES, metadataFooter, metadataHeader, renderRepomd, type MetadataCompression, type MetadataFileInfo } from '../../../packager/repo/metadata.js';
import { BlockBuilder, writeMetadataFromSegments, writeSegment } from '../../../packager/repo/store.js';
import { segmentsDir } from '../../../packager/repo/state.js';
import type { MetadataType, RepoPackage } from '../../../packager/repo/types.js';
import { createDecompressor } from '../../../packager/rpm/compress.js';
import { parseXml } from './xml-parse.js';
import { sampleRecord } from './sample.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'kpkg-repo-md-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function unzstd(buf: Buffer): Promise<Buffer> {
  const d = createDecompressor('zstd');
  const out: Buffer[] = [];
  d.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((res, rej) => {
    d.on('end', res);
    d.on('error', rej);
  });
  d.end(buf);
  await done;
  return Buffer.concat(out);
}

const records = [sampleRecord(), sampleRecord({ name: 'cart', pkgid: 'b'.repeat(64), href: 'Packages/cart-1.0-1.noarch.rpm' })];

/**
 * The metadata files of `recs` as kpkg publish and kpkg repo index write them: the packages' chunks
 * in one segment (store.ts), then one file per type from the segments.
 */
async function writeMetadataOf(repo: string, recs: readonly RepoPackage[], compress: MetadataCompression = 'gzip'): Promise<MetadataFileInfo[]> {
  mkdirSync(segmentsDir(repo), { recursive: true });
  const builder = new BlockBuilder();
  for (const r of recs) builder.add(r.pkgid, { primary: CHUNKERS.primary(r), filelists: CHUNKERS.filelists(r), other: CHUNKERS.other(r) });
  const segments = recs.length > 0 ? [await writeSegment(repo, compress, [await builder.finish(compress)])] : [];
  const out: MetadataFileInfo[] = [];
  for (const type of METADATA_TYPES) out.push(await writeMetadataFromSegments(repo, compress, segments, type));
  return out;
}

const fileOf = (files: readonly MetadataFileInfo[], type: MetadataType): MetadataFileInfo => {
  const f = files.find((x) => x.type === type);
  if (f === undefined) throw new Error(`no ${type} file`);
  return f;
};

describe('metadata files, as publish writes them', () => {
  it('streams header, chunks and footer; names the file by the checksum of its compressed bytes', async () => {
    const repo = tmp();
    const files = await writeMetadataOf(repo, records);
    const info = fileOf(files, 'primary');
    expect(info.href).toMatch(/^repodata\/[0-9a-f]{64}-primary\.xml\.gz$/);
    const file = join(repo, info.href);
    const gz = readFileSync(file);
    expect(sha(gz)).toBe(info.checksum);
    expect(info.href).toContain(info.checksum);
    expect(gz.length).toBe(info.size);
    const xml = gunzipSync(gz);
    expect(sha(xml)).toBe(info.openChecksum);
    expect(xml.length).toBe(info.openSize);
    expect(xml.toString()).toBe(metadataHeader('primary', 2) + records.map(CHUNKERS.primary).join('') + metadataFooter('primary'));
    expect(Math.floor(statSync(file).mtimeMs / 1000)).toBe(info.timestamp);
    const root = parseXml(xml.toString());
    expect(root.attrs).toEqual({ xmlns: 'http://linux.duke.edu/metadata/common', 'xmlns:rpm': 'http://linux.duke.edu/metadata/rpm', packages: '2' });
    expect(root.children.length).toBe(2);
    expect(readdirSync(join(repo, 'repodata')).sort()).toEqual(files.map((f) => f.href.slice('repodata/'.length)).sort()); // no temporary file left
  });

  it('the same content gives the same name and bytes', async () => {
    const repo = tmp();
    const a = fileOf(await writeMetadataOf(repo, records), 'other');
    const b = fileOf(await writeMetadataOf(repo, records), 'other');
    expect(b.href).toBe(a.href);
    expect(b.checksum).toBe(a.checksum);
    expect(readdirSync(join(repo, 'repodata')).length).toBe(3);
  });

  it('zstd: .zst, same open content', async () => {
    const gz = fileOf(await writeMetadataOf(tmp(), records, 'gzip'), 'filelists');
    const repo = tmp();
    const zst = fileOf(await writeMetadataOf(repo, records, 'zstd'), 'filelists');
    expect(zst.href).toMatch(/-filelists\.xml\.zst$/);
    expect(zst.openChecksum).toBe(gz.openChecksum);
    const raw = readFileSync(join(repo, zst.href));
    expect(sha(raw)).toBe(zst.checksum);
    expect(sha(await unzstd(raw))).toBe(zst.openChecksum);
  });

  it('an empty repository is valid XML with packages="0"', async () => {
    const repo = tmp();
    const info = fileOf(await writeMetadataOf(repo, []), 'filelists');
    const xml = gunzipSync(readFileSync(join(repo, info.href))).toString();
    expect(parseXml(xml)).toEqual({ name: 'filelists', attrs: { xmlns: 'http://linux.duke.edu/metadata/filelists', packages: '0' }, children: [], text: '\n' });
  });
});

describe('renderRepomd and the order of packages', () => {
  it('repomd.xml lists the three files, as createrepo_c', async () => {
    const repo = tmp();
    const files = await writeMetadataOf(repo, records);
    const repomd = renderRepomd(files, 42);
    expect(files.map((f) => f.type)).toEqual(['primary', 'filelists', 'other']);
    const root = parseXml(repomd);
    expect(root.attrs).toEqual({ xmlns: 'http://linux.duke.edu/metadata/repo', 'xmlns:rpm': 'http://linux.duke.edu/metadata/rpm' });
    expect(root.children.map((c) => c.name)).toEqual(['revision', 'data', 'data', 'data']);
    expect(root.children[0]!.text).toBe('42');
    for (const [i, f] of files.entries()) {
      const data = root.children[i + 1]!;
      expect(data.attrs.type).toBe(f.type);
      expect(data.children.map((c) => [c.name, c.attrs.type ?? c.attrs.href ?? c.text])).toEqual([
        ['checksum', 'sha256'],
        ['open-checksum', 'sha256'],
        ['location', f.href],
        ['timestamp', String(f.timestamp)],
        ['size', String(f.size)],
        ['open-size', String(f.openSize)],
      ]);
      expect(data.children[0]!.text).toBe(f.checksum);
      expect(data.children[1]!.text).toBe(f.openChecksum);
      expect(sha(readFileSync(join(repo, f.href)))).toBe(f.checksum);
    }
    expect(readdirSync(join(repo, 'repodata')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('renderRepomd orders primary, filelists, other and escapes the revision', () => {
    const f = (type: 'primary' | 'filelists' | 'other') => ({ type, href: `repodata/x-${type}.xml.gz`, checksum: 'c', openChecksum: 'o', size: 1, openSize: 2, timestamp: 3 });
    const xml = renderRepomd([f('other'), f('primary'), f('filelists')], 'r<1>&');
    const root = parseXml(xml);
    expect(root.children[0]!.text).toBe('r<1>&');
    expect(root.children.slice(1).map((d) => d.attrs.type)).toEqual(['primary', 'filelists', 'other']);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<repomd ')).toBe(true);
  });

  it('compareHref sorts as createrepo_c: file name first, then location, as bytes', () => {
    const hrefs = ['b/a-1.rpm', 'a/b-1.rpm', 'a/a-1.rpm', 'z-\u{1F600}.rpm', 'z-\uFFFD.rpm', 'A-1.rpm'];
    expect([...hrefs].map((href) => ({ href })).sort(compareHref).map((r) => r.href)).toEqual(['A-1.rpm', 'a/a-1.rpm', 'b/a-1.rpm', 'a/b-1.rpm', 'z-\uFFFD.rpm', 'z-\u{1F600}.rpm']);
  });

  it('compareUtf8 orders strings as their UTF-8 bytes, surrogate pairs and U+E000-FFFF included', () => {
    // code points from every range where UTF-16 and UTF-8 orders could part
    const points = [0x41, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfb01, 0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff];
    let seed = 7;
    const pick = () => points[(seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % points.length] as number;
    const strings = Array.from({ length: 400 }, (_, i) => String.fromCodePoint(...Array.from({ length: 1 + (i % 4) }, pick)));
    const sign = (n: number) => Math.sign(n);
    for (let i = 0; i < strings.length; i++) {
      for (const other of strings.slice(i, i + 40)) {
        const a = strings[i] as string;
        expect(sign(compareUtf8(a, other)), `${JSON.stringify(a)} vs ${JSON.stringify(other)}`).toBe(sign(Buffer.compare(Buffer.from(a), Buffer.from(other))));
      }
    }
  });
});
