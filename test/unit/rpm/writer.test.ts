import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, utimesSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { packageInfo, readRpm, verifyDigests } from '../../../packager/rpm/reader.js';
import { payloadManifest } from '../../helpers/payload-manifest.js';
import { writeRpm } from '../../../packager/rpm/writer.js';
import { type PackageSpec } from '../../../packager/rpm/spec.js';
import { SigTag, Tag } from '../../../packager/rpm/tags.js';
import { KpkgError } from '../../../packager/errors.js';

const work = mkdtempSync(join(tmpdir(), 'kpkg-writer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const src = join(work, 'src');
import { mkdirSync } from 'node:fs';
mkdirSync(src);
writeFileSync(join(src, 'app.js'), 'console.log("hi")\n');
const big = Buffer.alloc(3 * 1024 * 1024 + 3);
for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
writeFileSync(join(src, 'blob.bin'), big);

function spec(overrides: Partial<PackageSpec> = {}): PackageSpec {
  return {
    name: 'shop',
    version: '1.4.0~rc.2',
    release: '1',
    summary: 'A shop',
    description: 'It sells things.\nLiterally: %{lua: os.exit(1)} $(id)',
    license: 'Apache-2.0',
    url: 'https://example.invalid/shop',
    requires: [{ name: 'nodejs', flags: 0x04 | 0x08, version: '20' }, { name: '(libfoo >= 1.2 with libfoo < 2~~)' }],
    scripts: { post: 'echo installed', preun: { body: 'print("x")', interpreter: '<lua>' } },
    changelog: [
      { time: 1700000000, author: 'Dev <dev@example.invalid> - 1.3.0-1', text: '- older' },
      { time: 1710000000, author: 'Dev <dev@example.invalid> - 1.4.0-1', text: '- newer' },
    ],
    files: [
      { path: '/opt/kelkoo/shop', kind: 'dir' },
      { path: '/opt/kelkoo/shop/app.js', kind: 'file', source: join(src, 'app.js') },
      { path: '/opt/kelkoo/shop/blob.bin', kind: 'file', source: join(src, 'blob.bin'), mode: 0o600 },
      { path: '/opt/kelkoo/shop/bin/shop', kind: 'file', content: '#!/bin/sh\nexec node "$0/../app.js"\n', mode: 0o755 },
      { path: '/opt/kelkoo/shop/current', kind: 'symlink', target: 'app.js' },
      { path: '/opt/kelkoo/shop/empty', kind: 'file', content: '' },
      { path: '/opt/kelkoo/shop/empty-dir', kind: 'dir' },
      { path: '/etc/kelkoo/shop/shop.conf', kind: 'file', content: 'port=8080\n', noreplace: true },
      { path: '/var/log/kelkoo/shop.log', kind: 'file', ghost: true },
      { path: '/opt/kelkoo/shop/Café au lait.txt', kind: 'file', content: 'olé\n', doc: true },
    ],
    ...overrides,
  };
}

describe('writeRpm + readRpm', () => {
  it('writes a package our reader reads back field by field, with valid digests', async () => {
    const out = join(work, 'shop.rpm');
    const written = await writeRpm(spec(), out, { sourceDateEpoch: 1700000000 });
    expect(written.nevra).toBe('shop-1.4.0~rc.2-1.noarch');
    const pkg = await readRpm(out);
    const info = packageInfo(pkg);
    expect(info).toMatchObject({ name: 'shop', version: '1.4.0~rc.2', release: '1', arch: 'noarch', os: 'linux', summary: 'A shop', license: 'Apache-2.0', buildTime: 1700000000, sourceRpm: 'shop-1.4.0~rc.2-1.src.rpm' });
    expect(info.description).toBe(spec().description);
    expect(info.files.map((f) => f.path)).toEqual(
      [
        '/etc/kelkoo/shop/shop.conf',
        '/opt/kelkoo/shop',
        '/opt/kelkoo/shop/Café au lait.txt',
        '/opt/kelkoo/shop/app.js',
        '/opt/kelkoo/shop/bin/shop',
        '/opt/kelkoo/shop/blob.bin',
        '/opt/kelkoo/shop/current',
        '/opt/kelkoo/shop/empty',
        '/opt/kelkoo/shop/empty-dir',
        '/var/log/kelkoo/shop.log',
      ],
    );
    const blob = info.files.find((f) => f.path.endsWith('blob.bin'));
    expect(blob).toMatchObject({ size: big.length, mode: 0o100600, mtime: 1700000000, digest: createHash('sha256').update(big).digest('hex') });
    expect(info.files.find((f) => f.path.endsWith('current'))).toMatchObject({ mode: 0o120777, linkTo: 'app.js' });
    expect(info.files.find((f) => f.path.endsWith('shop.conf'))?.flags).toBe(1 | 16);
    expect(info.requires.map((d) => d.name)).toEqual(
      expect.arrayContaining(['nodejs', '(libfoo >= 1.2 with libfoo < 2~~)', '/bin/sh', 'rpmlib(RichDependencies)', 'rpmlib(TildeInVersions)', 'rpmlib(PayloadFilesHavePrefix)']),
    );
    expect(info.provides).toContainEqual({ name: 'shop', flags: 8, version: '1.4.0~rc.2-1' });
    expect(info.scripts.post).toEqual({ body: 'echo installed', interpreter: ['/bin/sh'] });
    expect(info.changelog.map((c) => c.text)).toEqual(['- newer', '- older']);

    const digests = await verifyDigests(pkg);
    expect(digests).toMatchObject({ headerSha256: 'ok', headerSha1: 'ok', payloadDigest: 'ok', md5: 'ok', size: 'ok', ok: true });
    // the payload size rpm checks is the uncompressed archive size
    expect(pkg.signature.number(SigTag.PAYLOADSIZE)).toBe(written.archiveSize);
    expect(written.archiveSize).toBeGreaterThan(big.length);

    const manifest = await payloadManifest(pkg);
    expect(manifest.find((m) => m.path.endsWith('blob.bin'))?.sha256).toBe(blob?.digest);
    expect(manifest.some((m) => m.path.endsWith('shop.log'))).toBe(false); // ghost: header only
    expect(manifest.find((m) => m.path.endsWith('current'))?.size).toBe(6);
  });

  it('is reproducible under SOURCE_DATE_EPOCH whatever the mtimes', async () => {
    const a = join(work, 'a.rpm');
    const b = join(work, 'b.rpm');
    await writeRpm(spec(), a, { sourceDateEpoch: 1700000000 });
    utimesSync(join(src, 'app.js'), new Date(), new Date(2001, 1, 1));
    await writeRpm(spec(), b, { sourceDateEpoch: 1700000000 });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });

  it('detects one flipped payload byte and one flipped header byte', async () => {
    const out = join(work, 'flip.rpm');
    await writeRpm(spec(), out, { sourceDateEpoch: 1700000000 });
    const bytes = readFileSync(out);
    const pkg = await readRpm(out);
    const payloadFlip = Buffer.from(bytes);
    payloadFlip.writeUInt8(payloadFlip.readUInt8(pkg.payloadOffset + 100) ^ 1, pkg.payloadOffset + 100);
    writeFileSync(out, payloadFlip);
    expect((await verifyDigests(await readRpm(out))).ok).toBe(false);
    const headerFlip = Buffer.from(bytes);
    const nameAt = headerFlip.indexOf('A shop', pkg.headerOffset);
    headerFlip.writeUInt8(headerFlip.readUInt8(nameAt) ^ 2, nameAt);
    writeFileSync(out, headerFlip);
    expect((await verifyDigests(await readRpm(out))).headerSha256).toBe('bad');
    // the SHA-256 digests alone (what the repository checks) catch both
    writeFileSync(out, payloadFlip);
    expect(await verifyDigests(await readRpm(out), undefined, { strongest: true })).toMatchObject({ payloadDigest: 'bad', md5: 'unchecked', headerSha1: 'unchecked', ok: false });
    writeFileSync(out, headerFlip);
    expect(await verifyDigests(await readRpm(out), undefined, { strongest: true })).toMatchObject({ headerSha256: 'bad', ok: false });
    // a wrong MD5 in the signature header: reported by the full check, left alone by the strongest
    const md5Flip = Buffer.from(bytes);
    const md5 = pkg.signature.binary(SigTag.MD5)!;
    md5Flip[md5Flip.indexOf(md5, pkg.signatureOffset)]! ^= 1;
    writeFileSync(out, md5Flip);
    expect(await verifyDigests(await readRpm(out))).toMatchObject({ md5: 'bad', ok: false });
    expect(await verifyDigests(await readRpm(out), undefined, { strongest: true })).toMatchObject({ md5: 'unchecked', headerSha256: 'ok', payloadDigest: 'ok', ok: true });
  });

  it('refuses bad names, paths and duplicates with a clear error and leaves nothing behind', async () => {
    const dir = join(work, 'refused');
    mkdirSync(dir);
    const cases: [Partial<PackageSpec>, RegExp][] = [
      [{ name: 'bad name' }, /package name/],
      [{ version: '1.0-1' }, /package version/],
      [{ files: [{ path: 'relative', kind: 'dir' }] }, /absolute/],
      [{ files: [{ path: '/a/../b', kind: 'dir' }] }, /normalised/],
      [{ files: [{ path: '/a\nb', kind: 'dir' }] }, /control character/],
      [{ files: [{ path: '/a', kind: 'dir' }, { path: '/a', kind: 'dir' }] }, /listed twice/],
      [{ files: [{ path: '/a', kind: 'file', source: join(work, 'missing') }] }, /cannot read/],
      [{ requires: [{ name: 'a\nb' }] }, /requires/],
    ];
    for (const [overrides, message] of cases) {
      const err = await writeRpm(spec(overrides), join(dir, 'x.rpm')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KpkgError);
      expect((err as Error).message).toMatch(message);
    }
    expect(readdirSync(dir).length).toBe(0);
  });

  it('writes zstd and xz payloads that read back', async () => {
    for (const compression of ['zstd', 'xz', 'none'] as const) {
      const out = join(work, `c-${compression}.rpm`);
      await writeRpm(spec(), out, { compression, sourceDateEpoch: 1 });
      const pkg = await readRpm(out);
      expect((await verifyDigests(pkg)).ok).toBe(true);
      const manifest = await payloadManifest(pkg);
      expect(manifest).toHaveLength(9);
    }
  });
});

describe('the large-file format, with the threshold lowered (the real 4 GiB test: test/system/rpm-large.test.ts, KPKG_SLOW_TESTS=1)', () => {
  it('a file at the threshold switches the package to stripped cpio entries, LONGFILESIZES and rpmlib(LargeFiles)', async () => {
    const threshold = 1024 * 1024; // blob.bin (3 MiB) is over it, the other files under it
    const out = join(work, 'large.rpm');
    await writeRpm(spec(), out, { sourceDateEpoch: 1, largeFileThreshold: threshold });
    const pkg = await readRpm(out);
    expect(pkg.header.has(Tag.LONGFILESIZES)).toBe(true);
    expect(pkg.header.has(Tag.FILESIZES)).toBe(false);
    expect(pkg.header.strings(Tag.REQUIRENAME)).toContain('rpmlib(LargeFiles)');
    expect((await verifyDigests(pkg)).ok).toBe(true);
    // the payload is a stripped archive: "07070X" entries, no names or sizes of their own
    const payload = gunzipSync(readFileSync(out).subarray(pkg.payloadOffset));
    expect(payload.subarray(0, 6).toString('latin1')).toBe('07070X');
    // every file reads back with its size and digest, as from the ordinary format
    const ordinary = join(work, 'ordinary.rpm');
    await writeRpm(spec(), ordinary, { sourceDateEpoch: 1 });
    const plain = await readRpm(ordinary);
    expect(plain.header.has(Tag.LONGFILESIZES)).toBe(false);
    expect(plain.header.strings(Tag.REQUIRENAME)).not.toContain('rpmlib(LargeFiles)');
    expect(packageInfo(pkg).files).toEqual(packageInfo(plain).files);
    expect(await payloadManifest(pkg)).toEqual(await payloadManifest(plain));
    expect((await payloadManifest(pkg)).find((m) => m.path.endsWith('blob.bin'))?.sha256).toBe(createHash('sha256').update(big).digest('hex'));
  });
});
