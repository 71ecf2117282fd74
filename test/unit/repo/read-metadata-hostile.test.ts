// The reader against broken and hostile repositories: every refusal is a KpkgError with a code and
// a one-line message naming the file (or URL) at fault; nothing is read past the declared sizes;
// nothing outside the repository is opened.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KpkgError } from '../../../packager/errors.js';
import { publish } from '../../../packager/repo/publish.js';
import { openRepositoryPackage, readRepositoryMetadata, type RepoPackageEntry } from '../../../packager/repo/read-metadata.js';
import { writeRpm } from '../../../packager/rpm/writer.js';
import { scratch } from '../../helpers/files.js';
import { serveDirectory, type TestServer } from './http-server.js';

const { fresh } = scratch('read-hostile');
const TLS = join(import.meta.dirname, '..', '..', 'fixtures', 'tls');
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

let primaryXml: string; // a valid primary.xml of one package, written by kpkg
let template: string; // a repository holding that package

beforeAll(async () => {
  const input = fresh('input');
  const rpm = join(input, 'shop-deploy-1.0-1.noarch.rpm');
  await writeRpm(
    { name: 'shop-deploy', version: '1.0', release: '1', arch: 'noarch', summary: 's', description: 'd', license: 'MIT', provides: [{ name: 'kelkoo-deployment' }], files: [{ path: '/opt/x', kind: 'file', content: 'x\n' }] },
    rpm,
    { sourceDateEpoch: 1_700_000_000 },
  );
  template = fresh('template');
  await publish([rpm], template, {});
  const md = await readRepositoryMetadata({ baseurl: template });
  expect(md.packages).toHaveLength(1);
  const { gunzipSync } = await import('node:zlib');
  primaryXml = gunzipSync(readFileSync(new URL(md.primaryUrl))).toString('utf8');
});

interface Made {
  dir: string;
  packed: Buffer;
}

/**
 * A copy of the template repository whose primary is `xml` (compressed with `compress`), listed
 * by a repomd.xml with consistent checksums and sizes unless `repomd` rewrites it.
 */
function makeRepo(name: string, xml: string | Buffer, options: { packed?: Buffer; repomd?: (text: string) => string } = {}): Made {
  const dir = fresh(name);
  mkdirSync(join(dir, 'repodata'), { recursive: true });
  mkdirSync(join(dir, 'Packages', 's'), { recursive: true });
  const rpm = 'Packages/s/shop-deploy-1.0-1.noarch.rpm';
  writeFileSync(join(dir, rpm), readFileSync(join(template, rpm)));
  const open = Buffer.from(xml);
  const packed = options.packed ?? gzipSync(open);
  const href = `repodata/${sha256(packed)}-primary.xml.gz`;
  writeFileSync(join(dir, href), packed);
  let repomd = `<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1700000000</revision>
  <data type="primary">
    <checksum type="sha256">${sha256(packed)}</checksum>
    <open-checksum type="sha256">${sha256(open)}</open-checksum>
    <location href="${href}"/>
    <timestamp>1700000000</timestamp>
    <size>${packed.length}</size>
    <open-size>${open.length}</open-size>
  </data>
</repomd>
`;
  if (options.repomd) repomd = options.repomd(repomd);
  writeFileSync(join(dir, 'repodata', 'repomd.xml'), repomd);
  return { dir, packed };
}

async function refusal(p: Promise<unknown>): Promise<KpkgError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(KpkgError);
  const k = e as KpkgError;
  expect(k.message).not.toContain('\n');
  return k;
}

describe('malformed metadata', () => {
  it('reads the untouched copy (the helper makes valid repositories)', async () => {
    const { dir } = makeRepo('valid', primaryXml);
    expect((await readRepositoryMetadata({ baseurl: dir })).packages.map((p) => p.name)).toEqual(['shop-deploy']);
  });

  it('refuses a truncated primary, naming the file and where it ends', async () => {
    for (const cut of [primaryXml.length - 1, primaryXml.indexOf('<format>') + 3, primaryXml.indexOf('</package>'), 200]) {
      const { dir } = makeRepo(`truncated-${cut}`, primaryXml.slice(0, cut));
      const e = await refusal(readRepositoryMetadata({ baseurl: dir }));
      expect(e.code).toBe('BAD_PACKAGE');
      expect(e.message).toMatch(/-primary\.xml\.gz at byte \d+: line \d+, column \d+: .*truncated/);
    }
  });

  it('refuses a truncated compressed file', async () => {
    const packed = gzipSync(primaryXml);
    const { dir } = makeRepo('truncated-gz', primaryXml, { packed: packed.subarray(0, packed.length - 20) });
    const e = await refusal(readRepositoryMetadata({ baseurl: dir }));
    expect(e.code).toBe('BAD_PACKAGE');
    expect(e.message).toMatch(/-primary\.xml\.gz: cannot decompress \(gzip\)/);
  });

  it('refuses wrong checksums and sizes, naming the file and both values', async () => {
    const wrongPacked = makeRepo('wrong-checksum', primaryXml, { repomd: (t) => t.replace(/<checksum type="sha256">[0-9a-f]+/, `<checksum type="sha256">${'0'.repeat(64)}`) });
    let e = await refusal(readRepositoryMetadata({ baseurl: wrongPacked.dir }));
    expect(e.code).toBe('BAD_PACKAGE');
    expect(e.message).toMatch(new RegExp(`-primary\\.xml\\.gz: checksum sha256 ${sha256(wrongPacked.packed)}, repomd\\.xml says 0{64}$`));

    const wrongOpen = makeRepo('wrong-open', primaryXml, { repomd: (t) => t.replace(/<open-checksum type="sha256">[0-9a-f]+/, `<open-checksum type="sha256">${'1'.repeat(64)}`) });
    e = await refusal(readRepositoryMetadata({ baseurl: wrongOpen.dir }));
    expect(e.message).toMatch(/open checksum sha256 [0-9a-f]{64}, repomd\.xml says 1{64}$/);

    const wrongSize = makeRepo('wrong-size', primaryXml, { repomd: (t) => t.replace(/<size>\d+/, '<size>10') });
    e = await refusal(readRepositoryMetadata({ baseurl: wrongSize.dir }));
    expect(e).toMatchObject({ code: 'BAD_PACKAGE', message: expect.stringMatching(/bytes, more than the 10 expected$/) });

    const wrongOpenSize = makeRepo('wrong-open-size', primaryXml, { repomd: (t) => t.replace(/<open-size>\d+/, '<open-size>100') });
    e = await refusal(readRepositoryMetadata({ baseurl: wrongOpenSize.dir }));
    expect(e.message).toMatch(/more than the 100 bytes expected once uncompressed$/);

    const sha1 = makeRepo('unknown-type', primaryXml, { repomd: (t) => t.replace('<checksum type="sha256">', '<checksum type="crc32">') });
    e = await refusal(readRepositoryMetadata({ baseurl: sha1.dir }));
    expect(e.message).toMatch(/checksum type "crc32" is not one of/);
  });

  it('refuses huge declared sizes before reading anything', async () => {
    const big = makeRepo('huge', primaryXml, { repomd: (t) => t.replace(/<open-size>\d+/, '<open-size>99999999999999') });
    let e = await refusal(readRepositoryMetadata({ baseurl: big.dir }));
    expect(e.message).toMatch(/repomd\.xml declares 99999999999999 bytes uncompressed, more than the \d+ kpkg reads/);
    const packed = makeRepo('huge-packed', primaryXml, { repomd: (t) => t.replace(/<size>\d+/, '<size>99999999999999') });
    e = await refusal(readRepositoryMetadata({ baseurl: packed.dir }));
    expect(e.message).toMatch(/declares 99999999999999 bytes, more than/);
  });

  it('stops a decompression bomb at the declared open size', async () => {
    // 64 MiB of zeros in 64 KiB of gzip, declared as the real primary's size
    const bomb = gzipSync(Buffer.alloc(64 << 20));
    const { dir } = makeRepo('bomb', primaryXml, { packed: bomb, repomd: (t) => t.replace(/<checksum type="sha256">[0-9a-f]+/, `<checksum type="sha256">${sha256(bomb)}`).replace(/<size>\d+/, `<size>${bomb.length}`) });
    const before = process.memoryUsage().arrayBuffers;
    const e = await refusal(readRepositoryMetadata({ baseurl: dir }));
    expect(e.message).toMatch(/more than the \d+ bytes expected once uncompressed/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 << 20);
  });

  it('refuses bzip2 with a clear message, and reads plain XML', async () => {
    // 'BZh9' then the rest: the magic is what is looked at
    const bz = Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(100)]);
    const { dir } = makeRepo('bz2', primaryXml, { packed: bz, repomd: (t) => t.replace(/<checksum type="sha256">[0-9a-f]+/, `<checksum type="sha256">${sha256(bz)}`).replace(/<size>\d+/, `<size>${bz.length}`) });
    const e = await refusal(readRepositoryMetadata({ baseurl: dir }));
    expect(e.message).toMatch(/compressed with bzip2, which kpkg does not read/);
    const plain = Buffer.from(primaryXml);
    const p = makeRepo('plain', primaryXml, { packed: plain, repomd: (t) => t.replace(/<checksum type="sha256">[0-9a-f]+/, `<checksum type="sha256">${sha256(plain)}`).replace(/<size>\d+/, `<size>${plain.length}`) });
    expect((await readRepositoryMetadata({ baseurl: p.dir })).packages).toHaveLength(1);
  });

  it('refuses DOCTYPEs and entities in repomd.xml and primary', async () => {
    const lol = '<!DOCTYPE metadata [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>';
    const primary = makeRepo('doctype-primary', primaryXml.replace('?>\n', `?>\n${lol}\n`).replace('<summary>s</summary>', '<summary>&c;</summary>'));
    let e = await refusal(readRepositoryMetadata({ baseurl: primary.dir }));
    expect(e.message).toMatch(/-primary\.xml\.gz at byte \d+: line 2, column 1: a DOCTYPE is not accepted/);
    const undefinedEntity = makeRepo('entity-primary', primaryXml.replace('<summary>s</summary>', '<summary>&xxe;</summary>'));
    e = await refusal(readRepositoryMetadata({ baseurl: undefinedEntity.dir }));
    expect(e.message).toMatch(/undefined entity &xxe;/);
    const repomd = makeRepo('doctype-repomd', primaryXml, { repomd: (t) => t.replace('?>\n', '?>\n<!DOCTYPE repomd [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n').replace('<revision>1700000000', '<revision>&xxe;') });
    e = await refusal(readRepositoryMetadata({ baseurl: repomd.dir }));
    expect(e.code).toBe('BAD_PACKAGE');
    expect(e.message).toMatch(/repodata\/repomd\.xml: line \d+, column \d+: a DOCTYPE is not accepted/);
  });

  it('refuses malformed repomd.xml, naming it', async () => {
    for (const [name, edit, message] of [
      ['not-xml', () => 'not xml at all', /repomd\.xml: line 1, column \d+: /],
      ['truncated', (t: string) => t.slice(0, t.length / 2), /repomd\.xml: line \d+, column \d+: /],
      ['no-primary', (t: string) => t.replace('type="primary"', 'type="other"'), /repomd\.xml lists no primary$/],
      ['other-root', (t: string) => t.replace(/repomd/g, 'metadata'), /the root element is <metadata>/],
      ['no-location', (t: string) => t.replace(/<location href="[^"]+"\/>/, ''), /<data type="primary"> has no <location href>/],
      ['bad-size', (t: string) => t.replace(/<size>\d+/, '<size>-1'), /<size> "-1" is not a whole number/],
    ] as const) {
      const { dir } = makeRepo(`repomd-${name}`, primaryXml, { repomd: edit });
      const e = await refusal(readRepositoryMetadata({ baseurl: dir }));
      expect(e.code).toBe('BAD_PACKAGE');
      expect(e.message).toMatch(message);
    }
  });

  it('refuses a primary with a wrong package count, a package without checksum, invalid UTF-8', async () => {
    let e = await refusal(readRepositoryMetadata({ baseurl: makeRepo('count', primaryXml.replace('packages="1"', 'packages="2"')).dir }));
    expect(e.message).toMatch(/-primary\.xml\.gz: says packages="2", lists 1$/);
    e = await refusal(readRepositoryMetadata({ baseurl: makeRepo('no-checksum', primaryXml.replace(/<checksum[^>]*>[0-9a-f]+<\/checksum>/, '')).dir }));
    expect(e.message).toMatch(/-primary\.xml\.gz: package 1 \(shop-deploy\): no <checksum type> with a value$/);
    e = await refusal(readRepositoryMetadata({ baseurl: makeRepo('bad-epoch', primaryXml.replace('epoch="0"', 'epoch="x"')).dir }));
    expect(e.message).toMatch(/version epoch="x" is not a whole number/);
    const latin1 = Buffer.concat([Buffer.from(primaryXml.slice(0, primaryXml.indexOf('<summary>') + 9)), Buffer.from([0xe9]), Buffer.from(primaryXml.slice(primaryXml.indexOf('<summary>') + 9))]);
    e = await refusal(readRepositoryMetadata({ baseurl: makeRepo('latin1', latin1).dir }));
    expect(e.message).toMatch(/-primary\.xml\.gz: not valid UTF-8$/);
  });
});

describe('locations outside the repository', () => {
  it('refuses a repomd.xml pointing primary outside the repository', async () => {
    const secret = fresh('secret');
    writeFileSync(join(secret, 'primary.xml'), primaryXml);
    for (const href of ['../secret/primary.xml', '../../../../../../etc/passwd', 'repodata/../../x', '%2e%2e/%2e%2e/etc/passwd', '/etc/passwd', `file://${secret}/primary.xml`, 'http://127.0.0.1:1/primary.xml.gz', '\\\\host\\share']) {
      const { dir } = makeRepo('outside', primaryXml, { repomd: (t) => t.replace(/<location href="[^"]+"/, `<location href="${href}"`) });
      const e = await refusal(readRepositoryMetadata({ baseurl: dir }));
      expect(e.code).toBe('BAD_PACKAGE');
      expect(e.message).toMatch(/location .* (points outside the repository|is not a path inside the repository)/);
    }
  });

  it('refuses a package whose location leaves the repository', async () => {
    const { dir } = makeRepo('pkg-outside', primaryXml);
    const [entry] = (await readRepositoryMetadata({ baseurl: dir })).packages as [RepoPackageEntry];
    for (const href of ['../../../etc/passwd', '/etc/passwd', 'file:///etc/passwd']) {
      const e = await refusal(openRepositoryPackage({ baseurl: dir }, { ...entry, href }));
      expect(e.code).toBe('BAD_PACKAGE');
    }
    // a remote repository cannot send a reader to local files through xml:base
    const e = await refusal(openRepositoryPackage({ baseurl: 'http://127.0.0.1:9/repo' }, { ...entry, base: 'file:///etc/' }));
    expect(e.message).toMatch(/xml:base "file:\/\/\/etc\/" is refused/);
    // xml:base to another directory of the same file:// tree is what createrepo_c --baseurl writes
    const elsewhere = fresh('elsewhere');
    mkdirSync(join(elsewhere, 'Packages', 's'), { recursive: true });
    writeFileSync(join(elsewhere, entry.href), readFileSync(join(dir, entry.href)));
    rmSync(join(dir, entry.href));
    expect((await openRepositoryPackage({ baseurl: dir }, { ...entry, base: pathToFileURL(elsewhere).href })).length).toBe(entry.size.package);
  });

  it('refuses absurd package sizes before reading', async () => {
    const { dir } = makeRepo('pkg-size', primaryXml);
    const [entry] = (await readRepositoryMetadata({ baseurl: dir })).packages as [RepoPackageEntry];
    for (const size of [0, -1, 2 ** 60]) {
      const e = await refusal(openRepositoryPackage({ baseurl: dir }, { ...entry, size: { ...entry.size, package: size } }));
      expect(e.message).toMatch(/primary gives size/);
    }
  });
});

describe('sources', () => {
  it('refuses baseurls it cannot read, and names a missing repository', async () => {
    expect((await refusal(readRepositoryMetadata({ baseurl: 'ftp://example.com/repo' }))).code).toBe('INVALID_INPUT');
    expect((await refusal(readRepositoryMetadata({ baseurl: 'relative/dir' }))).code).toBe('INVALID_INPUT');
    expect((await refusal(readRepositoryMetadata({ baseurl: 'file://host/srv/repo' }))).code).toBe('INVALID_INPUT');
    const missing = fresh('missing');
    const e = await refusal(readRepositoryMetadata({ baseurl: missing }));
    expect(e).toMatchObject({ code: 'IO', message: `cannot read ${join(missing, 'repodata', 'repomd.xml')}: no such file or directory (ENOENT)` });
    const ca = await refusal(readRepositoryMetadata({ baseurl: missing, caFile: join(missing, 'ca.pem') }));
    expect(ca.message).toMatch(/cannot read the CA file/);
  });
});

describe('http', () => {
  let server: TestServer;
  let repo: string;
  let hang: http.ServerResponse[] = [];
  beforeAll(async () => {
    repo = makeRepo('http', primaryXml).dir;
    server = await serveDirectory(repo, (req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path.startsWith('/moved/')) {
        res.writeHead(301, { location: path.slice('/moved'.length) }).end();
        return true;
      }
      if (path.startsWith('/loop/')) {
        res.writeHead(302, { location: path }).end();
        return true;
      }
      if (path.startsWith('/hang/')) {
        hang.push(res);
        return true;
      }
      if (path === '/endless/repodata/repomd.xml') {
        // no Content-Length, and no end: the reader must stop at its cap
        res.writeHead(200);
        const chunk = Buffer.alloc(64 << 10, 0x20);
        const write = () => {
          while (res.write(chunk)) if (res.destroyed) return;
          res.once('drain', write);
        };
        write();
        return true;
      }
      if (path === '/error/repodata/repomd.xml') {
        res.writeHead(500, 'Internal Server Error').end();
        return true;
      }
      return false;
    });
  });
  afterAll(async () => {
    for (const r of hang) r.destroy();
    hang = [];
    await server.close();
  });

  it('follows redirects, a bounded number of times', async () => {
    expect((await readRepositoryMetadata({ baseurl: `${server.url}/moved/` })).packages).toHaveLength(1);
    const e = await refusal(readRepositoryMetadata({ baseurl: `${server.url}/loop/` }));
    expect(e).toMatchObject({ code: 'IO', message: `GET ${server.url}/loop/repodata/repomd.xml: more than 5 redirects` });
  });

  it('names the URL and status of an HTTP error, hiding passwords', async () => {
    const e = await refusal(readRepositoryMetadata({ baseurl: `http://user:s3cret@127.0.0.1:${new URL(server.url).port}/error` }));
    expect(e.message).toBe(`GET http://user:***@127.0.0.1:${new URL(server.url).port}/error/repodata/repomd.xml: HTTP 500 Internal Server Error`);
  });

  it('stops reading an endless body at the cap', async () => {
    const e = await refusal(readRepositoryMetadata({ baseurl: `${server.url}/endless` }));
    expect(e).toMatchObject({ code: 'IO', message: expect.stringMatching(/repomd\.xml: more than the \d+ bytes expected$/) });
  });

  it('gives up on a server that does not answer', async () => {
    const e = await refusal(readRepositoryMetadata({ baseurl: `${server.url}/hang`, timeoutMs: 300 }));
    expect(e).toMatchObject({ code: 'IO', message: `GET ${server.url}/hang/repodata/repomd.xml: no answer in 300 ms` });
  });

  it('names a refused connection', async () => {
    const closed = await serveDirectory(repo);
    await closed.close();
    const e = await refusal(readRepositoryMetadata({ baseurl: closed.url }));
    expect(e.message).toMatch(new RegExp(`^GET ${closed.url}/repodata/repomd\\.xml: .*ECONNREFUSED`));
  });
});

describe('https with a CA file', () => {
  let server: TestServer;
  let plain: TestServer;
  beforeAll(async () => {
    const repo = makeRepo('https', primaryXml).dir;
    plain = await serveDirectory(repo);
    server = await serveDirectory(
      repo,
      (req, res) => {
        if (req.url?.startsWith('/downgrade/')) {
          res.writeHead(302, { location: `${plain.url}/repodata/repomd.xml` }).end();
          return true;
        }
        return false;
      },
      { key: readFileSync(join(TLS, 'localhost.key'), 'utf8'), cert: readFileSync(join(TLS, 'localhost.crt'), 'utf8') },
    );
  });
  afterAll(async () => {
    await server.close();
    await plain.close();
  });

  it('trusts the CA file given, and only it', async () => {
    const md = await readRepositoryMetadata({ baseurl: server.url, caFile: join(TLS, 'localhost.crt') });
    expect(md.packages).toHaveLength(1);
    expect((await openRepositoryPackage({ baseurl: server.url, caFile: join(TLS, 'localhost.crt') }, md.packages[0]!)).length).toBe(md.packages[0]!.size.package);
    const untrusted = await refusal(readRepositoryMetadata({ baseurl: server.url }));
    expect(untrusted).toMatchObject({ code: 'IO', message: expect.stringMatching(/^GET https:\/\/127\.0\.0\.1:\d+\/repodata\/repomd\.xml: self[- ]signed certificate/) });
    const other = await refusal(readRepositoryMetadata({ baseurl: server.url, caFile: join(TLS, 'other.crt') }));
    expect(other.code).toBe('IO');
  });

  it('does not follow a redirect from https to http', async () => {
    const e = await refusal(readRepositoryMetadata({ baseurl: `${server.url}/downgrade/`, caFile: join(TLS, 'localhost.crt') }));
    expect(e.message).toMatch(/redirects to http:\/\/127\.0\.0\.1:\d+\/repodata\/repomd\.xml, refused \(a redirect may not leave https\)/);
  });
});
