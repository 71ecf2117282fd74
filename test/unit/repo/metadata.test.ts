import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { KpkgError } from '../../../packager/errors.js';
import { CHUNKERS, compareHref, compareUtf8, metadataFooter, metadataHeader, renderRepomd, writeMetadata, writeMetadataFile } from '../../../packager/repo/metadata.js';
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

describe('writeMetadataFile', () => {
  it('streams header, chunks and footer; names the file by the checksum of its compressed bytes', async () => {
    const dir = tmp();
    const info = await writeMetadataFile(dir, 'primary', records.map(CHUNKERS.primary), 2, { timestamp: 1_700_000_000 });
    expect(info.href).toMatch(/^repodata\/[0-9a-f]{64}-primary\.xml\.gz$/);
    const file = join(dir, info.href.slice('repodata/'.length));
    const gz = readFileSync(file);
    expect(sha(gz)).toBe(info.checksum);
    expect(info.href).toContain(info.checksum);
    expect(gz.length).toBe(info.size);
    const xml = gunzipSync(gz);
    expect(sha(xml)).toBe(info.openChecksum);
    expect(xml.length).toBe(info.openSize);
    expect(xml.toString()).toBe(metadataHeader('primary', 2) + records.map(CHUNKERS.primary).join('') + metadataFooter('primary'));
    expect(info.timestamp).toBe(1_700_000_000);
    expect(Math.floor(statSync(file).mtimeMs / 1000)).toBe(1_700_000_000);
    const root = parseXml(xml.toString());
    expect(root.attrs).toEqual({ xmlns: 'http://linux.duke.edu/metadata/common', 'xmlns:rpm': 'http://linux.duke.edu/metadata/rpm', packages: '2' });
    expect(root.children.length).toBe(2);
    expect(readdirSync(dir)).toEqual([info.href.slice('repodata/'.length)]); // no temporary file left
  });

  it('accepts an async iterable; the same content gives the same name and bytes', async () => {
    const dir = tmp();
    async function* chunks() {
      for (const r of records) yield CHUNKERS.other(r);
    }
    const a = await writeMetadataFile(dir, 'other', chunks(), 2);
    const b = await writeMetadataFile(dir, 'other', records.map(CHUNKERS.other), 2);
    expect(b.href).toBe(a.href);
    expect(b.checksum).toBe(a.checksum);
    expect(readdirSync(dir).length).toBe(1);
  });

  it('zstd: .zst, same open content', async () => {
    const dir = tmp();
    const gz = await writeMetadataFile(dir, 'filelists', records.map(CHUNKERS.filelists), 2, { compress: 'gzip' });
    const zst = await writeMetadataFile(dir, 'filelists', records.map(CHUNKERS.filelists), 2, { compress: 'zstd' });
    expect(zst.href).toMatch(/-filelists\.xml\.zst$/);
    expect(zst.openChecksum).toBe(gz.openChecksum);
    const raw = readFileSync(join(dir, zst.href.slice('repodata/'.length)));
    expect(sha(raw)).toBe(zst.checksum);
    expect(sha(await unzstd(raw))).toBe(zst.openChecksum);
  });

  it('an empty repository is valid XML with packages="0"', async () => {
    const dir = tmp();
    const info = await writeMetadataFile(dir, 'filelists', [], 0);
    const xml = gunzipSync(readFileSync(join(dir, info.href.slice(9)))).toString();
    expect(parseXml(xml)).toEqual({ name: 'filelists', attrs: { xmlns: 'http://linux.duke.edu/metadata/filelists', packages: '0' }, children: [], text: '\n' });
  });

  it('refuses a package count that does not match the chunks, and leaves nothing behind', async () => {
    const dir = tmp();
    await expect(writeMetadataFile(dir, 'primary', records.map(CHUNKERS.primary), 3)).rejects.toThrow(KpkgError);
    await expect(writeMetadataFile(dir, 'primary', records.map(CHUNKERS.primary), 1)).rejects.toThrow(/says 1 packages, 2 chunks/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a chunk source that fails leaves nothing behind and passes its error on', async () => {
    const dir = tmp();
    function* bad() {
      yield CHUNKERS.primary(records[0]!);
      throw new KpkgError('BAD_PACKAGE', 'boom');
    }
    await expect(writeMetadataFile(dir, 'primary', bad(), 2)).rejects.toThrow(/boom/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('writeMetadata and renderRepomd', () => {
  it('writes the three files and repomd.xml listing them, as createrepo_c', async () => {
    const repo = tmp();
    const { repomd, files } = await writeMetadata(repo, records, { revision: 42, timestamp: 1_700_000_000 });
    expect(readFileSync(join(repo, 'repodata', 'repomd.xml'), 'utf8')).toBe(repomd);
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
        ['timestamp', '1700000000'],
        ['size', String(f.size)],
        ['open-size', String(f.openSize)],
      ]);
      expect(data.children[0]!.text).toBe(f.checksum);
      expect(data.children[1]!.text).toBe(f.openChecksum);
      expect(sha(readFileSync(join(repo, f.href)))).toBe(f.checksum);
    }
    expect(readdirSync(join(repo, 'repodata')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('cached chunks concatenated later give the same files as writing from records', async () => {
    const cache = records.map((r) => ({ primary: CHUNKERS.primary(r), filelists: CHUNKERS.filelists(r), other: CHUNKERS.other(r) }));
    const a = await writeMetadata(tmp(), records, { writeRepomd: false });
    const dir = tmp();
    for (const [i, type] of (['primary', 'filelists', 'other'] as const).entries()) {
      const info = await writeMetadataFile(dir, type, cache.map((c) => c[type]), cache.length);
      expect(info.checksum).toBe(a.files[i]!.checksum);
    }
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
