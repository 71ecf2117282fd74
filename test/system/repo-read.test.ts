// The repository metadata reader on repositories made by createrepo_c (the real tool) from packages
// built by rpmbuild (test/fixtures/rpmbuild, see its make-fixtures.sh) and by kpkg's writer, read
// through file:// and http:// on 127.0.0.1. Oracles for every package: `rpm -qp` (NEVRA and
// provides, from the package file itself), sha256sum of the file (primary's checksum), and
// `dnf repoquery` (NEVRA, location, provides and requires as dnf parses the same primary).
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KpkgError } from '../../packager/errors.js';
import { publish } from '../../packager/repo/publish.js';
import { openRepositoryPackage, packagesProviding, readRepositoryMetadata, type RepoDependency, type RepoMetadata, type RepoPackageEntry } from '../../packager/repo/read-metadata.js';
import type { PackageSpec } from '../../packager/rpm/spec.js';
import { writeRpm } from '../../packager/rpm/writer.js';
import { serveDirectory, type TestServer } from '../unit/repo/http-server.js';
import { describeWithTools, run, runBufferOk, runOk, tmpDir } from './tools.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'rpmbuild');
const SDE = 1_700_000_000;

/** Packages of kpkg's writer: a deployment package, epochs, weak and rich dependencies, hostile text. */
function ownSpecs(): PackageSpec[] {
  const hostile = 'a < b && c > d ]]> "double" \'single\' é 日本 😀';
  const files = (name: string) => [
    { path: `/opt/kelkoo/${name}`, kind: 'dir' as const },
    { path: `/opt/kelkoo/${name}/bin/${name}`, kind: 'file' as const, mode: 0o755, content: `#!/bin/sh\necho ${name}\n` },
    { path: `/etc/kelkoo/${name}.conf`, kind: 'file' as const, config: true, content: 'x=1\n' },
  ];
  return [
    {
      name: 'shop',
      version: '1.4.0',
      release: '1',
      arch: 'noarch',
      summary: `shop ${hostile}`,
      description: `The shop.\n${hostile}\n`,
      license: 'Apache-2.0',
      url: 'https://example.com/?a=1&b=2',
      provides: [{ name: 'shop-api', flags: 0x08, version: '2:1.4-7' }],
      requires: [{ name: 'nodejs', flags: 0x0c, version: '1:20.17.0' }, { name: '(pg >= 15 with pg < 16)' }],
      recommends: [{ name: 'logrotate' }],
      files: files('shop'),
    },
    {
      name: 'shop-deploy',
      version: '1.4.0',
      release: '1',
      arch: 'noarch',
      summary: 'the Puppet module of shop',
      description: 'Deployment package.',
      license: 'Apache-2.0',
      provides: [{ name: 'kelkoo-deployment' }],
      requires: [{ name: 'shop', flags: 0x08, version: '1.4.0-1' }],
      files: files('shop-deploy'),
    },
    {
      name: 'shop-deploy',
      version: '1.5.0~rc.1',
      release: '2.el9',
      epoch: 3,
      arch: 'noarch',
      summary: 'the Puppet module of shop, next',
      description: 'Deployment package.',
      license: 'Apache-2.0',
      provides: [{ name: 'kelkoo-deployment' }],
      obsoletes: [{ name: 'shop-legacy', flags: 0x02, version: '1.0' }],
      conflicts: [{ name: 'shop-old' }],
      files: files('shop-deploy'),
    },
  ];
}

/** A provide or require as rpm and dnf print it: `name`, or `name OP [E:]V[-R]` (epoch 0 left out). */
function formatDep(d: RepoDependency): string {
  if (d.flags === undefined) return d.name;
  const op = { EQ: '=', LT: '<', LE: '<=', GT: '>', GE: '>=' }[d.flags];
  const epoch = d.epoch !== undefined && d.epoch !== '' && d.epoch !== '0' ? `${d.epoch}:` : '';
  return `${d.name} ${op} ${epoch}${d.version ?? ''}${d.release !== undefined ? `-${d.release}` : ''}`;
}

const dropZeroEpoch = (s: string) => s.replace(/ ([<>=]+) 0:/, ' $1 ');

function nevra(p: Pick<RepoPackageEntry, 'name' | 'epoch' | 'version' | 'release' | 'arch'>): string {
  return `${p.name}|${p.epoch}|${p.version}|${p.release}|${p.arch}`;
}

interface Oracle {
  nevra: string;
  sha256: string;
  provides: string[];
}

/** What rpm and sha256sum say of a package file. */
function oracle(path: string): Oracle {
  const q = runOk('rpm', ['-qp', '--nosignature', '--nodigest', '--qf', '%{NAME}|%{EPOCHNUM}|%{VERSION}|%{RELEASE}|%{ARCH}', path]).stdout;
  const provides = runOk('rpm', ['-qp', '--nosignature', '--nodigest', '--provides', path]).stdout.split('\n').filter((l) => l !== '').map(dropZeroEpoch);
  const sha256 = runOk('sha256sum', [path]).stdout.split(' ')[0]!;
  return { nevra: q, sha256, provides: provides.sort() };
}

interface DnfPackage {
  nevra: string;
  location: string;
  provides: string[];
  requires: string[];
}

/** `dnf repoquery` on the repository at `url`, isolated from the machine's configuration. */
function dnfRepoquery(url: string): DnfPackage[] {
  const cache = tmpDir('dnf-cache');
  const conf = join(cache, 'dnf.conf');
  writeFileSync(conf, '[main]\ngpgcheck=0\nplugins=0\nreposdir=/nonexistent\n');
  const out = runOk('dnf', [
    '-q',
    '-c',
    conf,
    '--releasever=1',
    `--repofrompath=t,${url}`,
    '--repo=t',
    `--setopt=cachedir=${cache}`,
    'repoquery',
    '--qf',
    '@@%{name}|%{epoch}|%{version}|%{release}|%{arch}|%{location}\n%{provides}\n--\n%{requires}',
  ]).stdout;
  return out
    .split('@@')
    .slice(1)
    .map((chunk) => {
      const [head, ...rest] = chunk.split('\n');
      const fields = head!.split('|');
      const sep = rest.indexOf('--');
      const lines = (a: string[]) => a.filter((l) => l !== '').map(dropZeroEpoch).sort();
      return { nevra: fields.slice(0, 5).join('|'), location: fields[5]!, provides: lines(rest.slice(0, sep)), requires: lines(rest.slice(sep + 1)) };
    });
}

/** Every package of `md` against rpm, sha256sum and dnf. */
function compareWithOracles(md: RepoMetadata, dir: string, dnf: DnfPackage[]): void {
  const files = readdirSync(dir).filter((f) => f.endsWith('.rpm'));
  expect(md.packages.map((p) => p.href).sort()).toEqual(files.sort());
  for (const p of md.packages) {
    const o = oracle(join(dir, p.href));
    expect(nevra(p)).toBe(o.nevra);
    expect(p.checksum).toEqual({ type: 'sha256', value: o.sha256 });
    expect(p.size.package).toBe(readFileSync(join(dir, p.href)).length);
    expect(p.provides.map(formatDep).map(dropZeroEpoch).sort()).toEqual(o.provides);
    const d = dnf.find((x) => x.nevra === o.nevra);
    expect(d, `dnf lists ${o.nevra}`).toBeDefined();
    expect(p.href).toBe(d!.location);
    expect(p.provides.map(formatDep).map(dropZeroEpoch).sort()).toEqual(d!.provides);
    expect([...new Set(p.requires.map(formatDep).map(dropZeroEpoch))].sort()).toEqual(d!.requires);
  }
  expect(dnf).toHaveLength(md.packages.length);
}

describeWithTools(['createrepo_c', 'rpm', 'dnf', 'sha256sum'], 'the metadata reader on createrepo_c repositories', () => {
  let packages: string; // every package file, flat
  let server: TestServer;
  const root = tmpDir('repo-read');

  /** A directory holding every package, indexed by createrepo_c with `args`. */
  function createrepo(name: string, args: string[]): string {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(packages)) copyFileSync(join(packages, f), join(dir, f));
    runOk('createrepo_c', ['--quiet', '--no-database', ...args, dir]);
    return dir;
  }

  beforeAll(async () => {
    packages = join(root, 'packages');
    mkdirSync(packages);
    for (const f of readdirSync(FIXTURES).filter((f) => f.endsWith('.rpm'))) copyFileSync(join(FIXTURES, f), join(packages, f));
    for (const spec of ownSpecs()) await writeRpm(spec, join(packages, `${spec.name}-${spec.version}-${spec.release}.${spec.arch}.rpm`), { sourceDateEpoch: SDE });
    server = await serveDirectory(root);
  });
  afterAll(() => server?.close());

  it('reads a gzip repository through file:// and http:// as rpm, sha256sum and dnf see it', async () => {
    const dir = createrepo('gz', []);
    const viaFile = await readRepositoryMetadata({ baseurl: pathToFileURL(dir).href });
    expect(viaFile.packages).toHaveLength(6);
    compareWithOracles(viaFile, dir, dnfRepoquery(pathToFileURL(dir).href));
    const viaHttp = await readRepositoryMetadata({ baseurl: `${server.url}/gz` });
    expect(viaHttp.packages).toEqual(viaFile.packages);
    expect(viaHttp.revision).toBe(viaFile.revision);
    // the deployment packages and their versions, as Geppetto asks
    expect(packagesProviding(viaHttp.packages, 'kelkoo-deployment').map((p) => `${p.epoch}:${p.version}-${p.release}`).sort()).toEqual(['0:1.4.0-1', '3:1.5.0~rc.1-2.el9']);
    // and each one's bytes, checked against primary
    for (const p of viaHttp.packages) expect((await openRepositoryPackage({ baseurl: `${server.url}/gz` }, p)).equals(readFileSync(join(dir, p.href)))).toBe(true);
  });

  it('reads an xz repository (createrepo_c --general-compress-type xz)', async () => {
    const dir = createrepo('xz', ['--general-compress-type', 'xz']);
    const md = await readRepositoryMetadata({ baseurl: `${server.url}/xz` });
    expect(md.primaryUrl).toMatch(/-primary\.xml\.xz$/);
    compareWithOracles(md, dir, dnfRepoquery(pathToFileURL(dir).href));
  });

  it('reads a zstd repository', async () => {
    // createrepo_c 0.17 as Debian builds it has no zstd ("Unknown/Unsupported compression type");
    // where it has, use it; else recompress its primary with the zstd tool and list it again
    const dir = join(root, 'zstd');
    const made = run('createrepo_c', ['--quiet', '--no-database', '--general-compress-type', 'zstd', createrepo('zstd', [])]);
    if (made.status !== 0) {
      expect(made.stderr).toMatch(/zstd/);
      const repomdPath = join(dir, 'repodata', 'repomd.xml');
      const repomd = readFileSync(repomdPath, 'utf8');
      const href = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(repomd)![1]!;
      const open = gunzipSync(readFileSync(join(dir, href)));
      const packed = runBufferOk('zstd', ['-q', '-c', '-19'], { input: open }).stdout;
      const { createHash } = await import('node:crypto');
      const sha = createHash('sha256').update(packed).digest('hex');
      const newHref = `repodata/${sha}-primary.xml.zst`;
      writeFileSync(join(dir, newHref), packed);
      const block = /<data type="primary">[\s\S]*?<\/data>/.exec(repomd)![0];
      const rewritten = block
        .replace(/<checksum type="sha256">[0-9a-f]+/, `<checksum type="sha256">${sha}`)
        .replace(/<location href="[^"]+"/, `<location href="${newHref}"`)
        .replace(/<size>\d+/, `<size>${packed.length}`);
      writeFileSync(repomdPath, repomd.replace(block, rewritten));
    }
    const md = await readRepositoryMetadata({ baseurl: `${server.url}/zstd` });
    expect(md.primaryUrl).toMatch(/-primary\.xml\.(zst|zstd)$/);
    const gz = await readRepositoryMetadata({ baseurl: join(root, 'gz') });
    expect(md.packages.map((p) => ({ ...p, fileTime: 0 }))).toEqual(gz.packages.map((p) => ({ ...p, fileTime: 0 })));
  });

  it('reads a repository kpkg publish wrote, as dnf does', async () => {
    const dir = join(root, 'kpkg');
    await publish(
      readdirSync(packages).map((f) => join(packages, f)),
      dir,
      {},
    );
    const md = await readRepositoryMetadata({ baseurl: `${server.url}/kpkg` });
    const dnf = dnfRepoquery(pathToFileURL(dir).href);
    for (const p of md.packages) {
      const d = dnf.find((x) => x.location === p.href)!;
      expect(nevra(p)).toBe(d.nevra);
      expect(p.provides.map(formatDep).map(dropZeroEpoch).sort()).toEqual(d.provides);
      expect(p.checksum.value).toBe(runOk('sha256sum', [join(dir, p.href)]).stdout.split(' ')[0]);
    }
    expect(dnf).toHaveLength(6);
  });

  it('refuses createrepo_c bzip2 metadata with a clear message', async () => {
    createrepo('bz2', ['--general-compress-type', 'bz2']);
    const e = await readRepositoryMetadata({ baseurl: join(root, 'bz2') }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(KpkgError);
    expect((e as KpkgError).message).toMatch(/-primary\.xml\.bz2: compressed with bzip2, which kpkg does not read/);
  });
});
