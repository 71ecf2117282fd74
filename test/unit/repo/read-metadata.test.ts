// The repository metadata reader on repositories written by kpkg's own publisher (in process):
// every field primary gives must come back as the writer's record has it, through a plain path,
// file:// and http:// on 127.0.0.1, gzip and zstd.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KpkgError } from '../../../packager/errors.js';
import { publish } from '../../../packager/repo/publish.js';
import { readCandidate } from '../../../packager/repo/read.js';
import {
  entryEVR,
  evrSatisfies,
  openRepositoryPackage,
  openRepositoryPackageStream,
  packagesProviding,
  provideSatisfies,
  readRepositoryMetadata,
  RepoPackageIndex,
  type RepoDependency,
  type RepoPackageEntry,
} from '../../../packager/repo/read-metadata.js';
import type { RepoDependency as WrittenDependency, RepoPackage } from '../../../packager/repo/types.js';
import type { PackageSpec } from '../../../packager/rpm/spec.js';
import { writeRpm } from '../../../packager/rpm/writer.js';
import { scratch } from '../../helpers/files.js';
import { serveDirectory, type TestServer } from './http-server.js';

const { fresh } = scratch('read-metadata');

async function pkg(dir: string, name: string, version: string, release: string, extra: Partial<PackageSpec> = {}): Promise<string> {
  const spec: PackageSpec = {
    name,
    version,
    release,
    arch: 'noarch',
    summary: `${name} <summary> & "quotes"`,
    description: `The ${name} package.\nSecond line: ünïcödé, 1 < 2 && 3 > 2.`,
    license: 'Apache-2.0',
    url: 'https://example.com/kelkoo',
    files: [
      { path: `/opt/kelkoo/${name}`, kind: 'dir' },
      { path: `/opt/kelkoo/${name}/bin/${name}`, kind: 'file', content: `#!/bin/sh\necho ${name}\n`, mode: 0o755 },
    ],
    ...extra,
  };
  const path = join(dir, `${name}-${version}-${release}.noarch.rpm`);
  await writeRpm(spec, path, { sourceDateEpoch: 1_700_000_000 });
  return path;
}

/** What primary says of a written dependency, in the reader's field names. */
function expectedDep(d: WrittenDependency): RepoDependency {
  const out: RepoDependency = { name: d.name };
  if (d.flags) {
    out.flags = d.flags;
    if (d.epoch !== undefined) out.epoch = d.epoch;
    if (d.ver !== undefined) out.version = d.ver;
    if (d.rel !== undefined) out.release = d.rel;
  }
  if (d.pre) out.pre = true;
  return out;
}

/** The entry the reader must give for a record the writer wrote. */
function expectedEntry(r: RepoPackage): RepoPackageEntry {
  const e: RepoPackageEntry = {
    name: r.name,
    arch: r.arch,
    epoch: Number(r.epoch),
    version: r.version,
    release: r.release,
    href: r.href,
    checksum: { type: 'sha256', value: r.pkgid },
    size: { package: r.sizePackage, installed: r.sizeInstalled, archive: r.sizeArchive },
    provides: r.provides.map(expectedDep),
    requires: r.requires.map(expectedDep),
    conflicts: r.conflicts.map(expectedDep),
    obsoletes: r.obsoletes.map(expectedDep),
    summary: r.summary,
    description: r.description,
    url: r.url,
    license: r.license,
    buildTime: r.timeBuild,
    fileTime: r.timeFile,
  };
  if (r.sourcerpm !== '') e.sourcerpm = r.sourcerpm;
  return e;
}

let input: string;
let written: RepoPackage[];

beforeAll(async () => {
  input = fresh('input');
  const paths = [
    await pkg(input, 'shop', '1.4.0', '1', {
      requires: [{ name: 'nodejs', flags: 0x0c, version: '20' }],
      provides: [{ name: 'shop-api', flags: 0x08, version: '2:1.4-7' }],
    }),
    await pkg(input, 'shop-deploy', '1.4.0', '1', {
      provides: [{ name: 'kelkoo-deployment', flags: 0, version: '' }],
      requires: [{ name: 'shop', flags: 0x08, version: '1.4.0-1' }, { name: 'puppet', flags: 0x0c, version: '7' }],
    }),
    await pkg(input, 'shop-deploy', '1.5.0~rc.1', '2', { epoch: 3, provides: [{ name: 'kelkoo-deployment', flags: 0, version: '' }], conflicts: [{ name: 'old-shop', flags: 0x02, version: '1' }], obsoletes: [{ name: 'shop-legacy', flags: 0 , version: '' }] }),
  ];
  written = [];
  for (const p of paths) written.push((await readCandidate(p)).record);
});

function sortByHref(list: readonly RepoPackageEntry[]): RepoPackageEntry[] {
  return [...list].sort((a, b) => (a.href < b.href ? -1 : a.href > b.href ? 1 : 0));
}

describe('readRepositoryMetadata on kpkg repositories', () => {
  for (const compress of ['gzip', 'zstd'] as const) {
    it(`gives every package as the writer recorded it (${compress}, plain path and file://)`, async () => {
      const repo = fresh(`repo-${compress}`);
      await publish([join(input, 'shop-1.4.0-1.noarch.rpm'), join(input, 'shop-deploy-1.4.0-1.noarch.rpm'), join(input, 'shop-deploy-1.5.0~rc.1-2.noarch.rpm')], repo, { compress });
      const fromPath = await readRepositoryMetadata({ baseurl: repo });
      const fromUrl = await readRepositoryMetadata({ baseurl: pathToFileURL(repo).href });
      expect(fromUrl.packages).toEqual(fromPath.packages);
      expect(fromPath.baseurl).toBe(`${pathToFileURL(repo).href}/`);
      expect(fromPath.revision).toMatch(/^\d+$/);
      expect(fromPath.primaryUrl).toMatch(compress === 'gzip' ? /-primary\.xml\.gz$/ : /-primary\.xml\.zst$/);
      const expected = written.map((r) => expectedEntry({ ...r, href: `Packages/s/${r.name}-${r.version}-${r.release}.${r.arch}.rpm` }));
      // timeFile is the published copy's mtime
      const got = sortByHref(fromPath.packages).map((p) => ({ ...p, fileTime: 0 }));
      expect(got).toEqual(sortByHref(expected).map((p) => ({ ...p, fileTime: 0 })));
      expect(fromPath.packages.every((p) => p.fileTime > 0)).toBe(true);
    });
  }

  it('finds the deployment packages, their versions, and exact EVRs', async () => {
    const repo = fresh('repo-find');
    await publish([join(input, 'shop-1.4.0-1.noarch.rpm'), join(input, 'shop-deploy-1.4.0-1.noarch.rpm'), join(input, 'shop-deploy-1.5.0~rc.1-2.noarch.rpm')], repo, {});
    const md = await readRepositoryMetadata({ baseurl: repo });
    const deploy = packagesProviding(md.packages, 'kelkoo-deployment');
    expect(deploy.map(entryEVR).sort()).toEqual(['1.4.0-1', '3:1.5.0~rc.1-2']);
    const index = new RepoPackageIndex(md.packages);
    expect(index.find('shop-deploy', '1.4.0-1').map((p) => p.href)).toEqual(['Packages/s/shop-deploy-1.4.0-1.noarch.rpm']);
    expect(index.find('shop-deploy', '0:1.4.0-1')).toHaveLength(1);
    expect(index.find('shop-deploy', '1.5.0~rc.1-2')).toEqual([]); // epoch 3, not 0
    expect(index.find('shop-deploy', '3:1.5.0~rc.1-2')).toHaveLength(1);
    expect(index.find('shop-deploy', '1.4.0-1', 'x86_64')).toEqual([]);
    expect(index.find('nothing', '1-1')).toEqual([]);
    expect(() => index.find('shop', '1.4.0')).toThrow(/not \[epoch:\]version-release/);
  });

  it('gives each package bytes checked against primary, whole or streamed', async () => {
    const repo = fresh('repo-open');
    await publish([join(input, 'shop-deploy-1.4.0-1.noarch.rpm')], repo, {});
    const md = await readRepositoryMetadata({ baseurl: repo });
    const entry = md.packages[0]!;
    const bytes = await openRepositoryPackage({ baseurl: repo }, entry);
    expect(bytes.equals(readFileSync(join(input, 'shop-deploy-1.4.0-1.noarch.rpm')))).toBe(true);
    const chunks: Buffer[] = [];
    for await (const c of await openRepositoryPackageStream({ baseurl: repo }, entry)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);

    // the file replaced by other bytes of the same size: refused, naming the file
    const path = join(repo, entry.href);
    const other = Buffer.from(bytes);
    other.writeUInt8(other.readUInt8(other.length - 1) ^ 0xff, other.length - 1);
    writeFileSync(path, other);
    await expect(openRepositoryPackage({ baseurl: repo }, entry)).rejects.toMatchObject({ code: 'BAD_PACKAGE', message: expect.stringMatching(/shop-deploy-1\.4\.0-1\.noarch\.rpm: sha256 [0-9a-f]{64}, primary says [0-9a-f]{64}/) });
    const stream = await openRepositoryPackageStream({ baseurl: repo }, entry);
    await expect((async () => { for await (const _ of stream) void _; })()).rejects.toMatchObject({ code: 'BAD_PACKAGE' });
    // shorter
    writeFileSync(path, bytes.subarray(0, 100));
    await expect(openRepositoryPackage({ baseurl: repo }, entry)).rejects.toMatchObject({ code: 'BAD_PACKAGE', message: expect.stringContaining('100 bytes, primary says') });
    // longer: never read past the declared size
    writeFileSync(path, Buffer.concat([bytes, Buffer.alloc(10)]));
    await expect(openRepositoryPackage({ baseurl: repo }, entry)).rejects.toMatchObject({ code: 'BAD_PACKAGE', message: expect.stringContaining('more than the') });
  });
});

describe('readRepositoryMetadata over http', () => {
  let server: TestServer;
  let repo: string;
  beforeAll(async () => {
    repo = fresh('repo-http');
    await publish([join(input, 'shop-1.4.0-1.noarch.rpm'), join(input, 'shop-deploy-1.4.0-1.noarch.rpm')], repo, { compress: 'zstd' });
    server = await serveDirectory(repo);
  });
  afterAll(() => server.close());

  it('reads the same packages as from the directory, and the package bytes', async () => {
    const local = await readRepositoryMetadata({ baseurl: repo });
    const remote = await readRepositoryMetadata({ baseurl: server.url });
    expect(remote.packages).toEqual(local.packages);
    expect(remote.baseurl).toBe(`${server.url}/`);
    const entry = remote.packages.find((p) => p.name === 'shop')!;
    const bytes = await openRepositoryPackage({ baseurl: server.url }, entry);
    expect(bytes.equals(readFileSync(join(repo, entry.href)))).toBe(true);
  });

  it('names the URL and the HTTP status of a failure', async () => {
    const err = await readRepositoryMetadata({ baseurl: `${server.url}/nothing-here` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KpkgError);
    expect(err).toMatchObject({ code: 'IO', message: `GET ${server.url}/nothing-here/repodata/repomd.xml: HTTP 404 Not Found` });
  });
});

describe('versions', () => {
  it('evrSatisfies reads a dependency as rpm does', () => {
    const evr = { epoch: 0, version: '1.4.0', release: '1' };
    expect(evrSatisfies(evr, {})).toBe(true);
    expect(evrSatisfies(evr, { flags: 'EQ', epoch: '0', version: '1.4.0', release: '1' })).toBe(true);
    expect(evrSatisfies(evr, { flags: 'EQ', version: '1.4.0' })).toBe(true); // no release: any release
    expect(evrSatisfies(evr, { flags: 'EQ', epoch: '0', version: '1.4.0', release: '2' })).toBe(false);
    expect(evrSatisfies(evr, { flags: 'GE', epoch: '0', version: '1.4' })).toBe(true);
    expect(evrSatisfies(evr, { flags: 'LT', epoch: '0', version: '1.4.0~rc1' })).toBe(false);
    expect(evrSatisfies(evr, { flags: 'GT', epoch: '0', version: '1.4.0~rc1' })).toBe(true);
    expect(evrSatisfies(evr, { flags: 'LT', epoch: '1', version: '0.1' })).toBe(true);
    expect(evrSatisfies({ epoch: 2, version: '0.1', release: '1' }, { flags: 'GE', epoch: '1', version: '9' })).toBe(true);
  });

  it('provideSatisfies matches a provide against a requirement', () => {
    expect(provideSatisfies({ name: 'a', flags: 'EQ', epoch: '0', version: '2', release: '1' }, { name: 'a', flags: 'GE', epoch: '0', version: '1' })).toBe(true);
    expect(provideSatisfies({ name: 'a', flags: 'EQ', epoch: '0', version: '2', release: '1' }, { name: 'a', flags: 'LT', epoch: '0', version: '2' })).toBe(false);
    expect(provideSatisfies({ name: 'a' }, { name: 'a', flags: 'LT', epoch: '0', version: '2' })).toBe(true);
    expect(provideSatisfies({ name: 'a' }, { name: 'b' })).toBe(false);
  });
});
