// Our repository metadata against createrepo_c's for the same package files (the rpmbuild fixtures
// and packages of our own writer made to hit createrepo_c's filtering rules), compared field by
// field after parsing both: every package element, attribute and text of primary, filelists and
// other, and the repomd entries that do not depend on compression. Then dnf reads a repository
// whose repodata is ours: repoquery lists every package, install works into an empty root.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, expect, it } from 'vitest';
import { packageRecord } from '../../packager/repo/record.js';
import { compareHref, type MetadataCompression } from '../../packager/repo/metadata.js';
import { indexRepository } from '../../packager/repo/reindex.js';
import { loadState } from '../../packager/repo/state.js';
import type { RepoPackage } from '../../packager/repo/types.js';
import {
  RPMSENSE_EQUAL,
  RPMSENSE_GREATER,
  RPMSENSE_LESS,
  RPMSENSE_MISSINGOK,
  RPMSENSE_PREREQ,
  RPMSENSE_SCRIPT_POST,
  RPMSENSE_SCRIPT_PRE,
  RPMSENSE_SCRIPT_PREUN,
  RPMSENSE_POSTTRANS,
} from '../../packager/rpm/dependency.js';
import { readRpm } from '../../packager/rpm/reader.js';
import { writeRpm } from '../../packager/rpm/writer.js';
import { packageFileName, type PackageSpec } from '../../packager/rpm/spec.js';
import { diffXml, parseXml, type XmlElement } from '../unit/repo/xml-parse.js';
import { KPKG } from './helpers/components.js';
import { InstallRoot, YumRepo } from './helpers/dnf.js';
import { describeWithTools, runBufferOk, runOk, tmpDir } from './tools.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'rpmbuild');
const SDE = 1_700_000_000;

/** Packages of our own writer that exercise createrepo_c's rules (see record.ts). */
function ownSpecs(): PackageSpec[] {
  const hostile = 'a < b && c > d ]]> "double" \'single\'\ttab\r\nCRLF é 日本 😀';
  const changelog = [];
  // 12 entries, newest first as rpm keeps them; three share a time; authors with trailing spaces
  for (let i = 0; i < 12; i++) {
    const time = SDE - (i < 3 ? 0 : i) * 86_400;
    changelog.push({ time, author: `Dév ${i} <dev${i}@example.com> - 1.${i}-1   `, text: `- change ${i} ${i === 0 ? hostile : ''}` });
  }
  return [
    {
      name: 'kpkg-rules',
      version: '2.0.1',
      release: '3.el9',
      epoch: 4,
      arch: 'x86_64',
      summary: `rules & <edge> cases ${hostile.replace(/[\t\r\n]/g, ' ')}`,
      description: `Line one.\n${hostile}\n\nLast line.`,
      license: 'Apache-2.0 & MIT',
      group: 'Applications/System',
      url: 'https://example.com/?a=1&b=2',
      vendor: 'Kelkoo <ops>',
      packager: 'Ops "Team" <ops@example.com>',
      buildHost: 'build.example.com',
      sourceRpm: 'kpkg-rules-2.0.1-3.el9.src.rpm',
      provides: [
        { name: 'kpkg-rules-api', flags: RPMSENSE_EQUAL, version: '4:2.0.1-3.el9' },
        { name: 'config(kpkg-rules)', flags: RPMSENSE_EQUAL, version: '4:2.0.1-3.el9' },
        { name: 'self-provided', flags: RPMSENSE_GREATER | RPMSENSE_EQUAL, version: '1.0' },
        { name: 'unversioned-cap' },
        { name: 'cap(café_日本_😀)', flags: RPMSENSE_EQUAL, version: '1' },
      ],
      requires: [
        { name: '/bin/sh', flags: RPMSENSE_SCRIPT_PRE },
        { name: '/usr/bin/kpkg-rules-tool' }, // own primary file: dropped
        { name: '/opt/kpkg-rules/lib/data.txt' }, // own non-primary file: kept
        { name: '/etc/kpkg-rules.conf' }, // own primary file: dropped
        { name: 'self-provided', flags: RPMSENSE_GREATER | RPMSENSE_EQUAL, version: '1.0' }, // provided: dropped
        { name: 'unversioned-cap' }, // provided: dropped
        { name: 'glibc', flags: RPMSENSE_GREATER | RPMSENSE_EQUAL, version: '2.28' },
        { name: 'shadow-utils', flags: RPMSENSE_SCRIPT_PRE },
        { name: 'coreutils', flags: RPMSENSE_SCRIPT_POST },
        { name: 'findutils', flags: RPMSENSE_SCRIPT_PREUN },
        { name: 'prereq-thing', flags: RPMSENSE_PREREQ },
        { name: 'trans-thing', flags: RPMSENSE_POSTTRANS },
        { name: 'libc.so.6()(64bit)' },
        { name: 'libc.so.6(GLIBC_2.17)(64bit)' },
        { name: 'libc.so.6(GLIBC_2.4)(64bit)' },
        { name: 'libm.so.6()(64bit)' },
        { name: 'versioned', flags: RPMSENSE_LESS, version: '3' },
        { name: 'versioned', flags: RPMSENSE_LESS | RPMSENSE_EQUAL, version: '1:2.0-1' },
        { name: 'missingok-hint', flags: RPMSENSE_MISSINGOK },
        { name: 'no-release', flags: RPMSENSE_EQUAL, version: '1.0' },
        { name: 'empty-epoch', flags: RPMSENSE_EQUAL, version: '0:1.0-1' },
      ],
      conflicts: [{ name: 'kpkg-old', flags: RPMSENSE_LESS, version: '1.0' }],
      obsoletes: [{ name: 'kpkg-older', flags: RPMSENSE_LESS | RPMSENSE_EQUAL, version: '1.9-1' }],
      recommends: [{ name: 'kpkg-docs' }],
      suggests: [{ name: 'kpkg-extras', flags: RPMSENSE_GREATER, version: '1' }],
      supplements: [{ name: 'kpkg-base' }],
      enhances: [{ name: 'kpkg-core', flags: RPMSENSE_EQUAL, version: '2:1-1' }],
      changelog,
      files: [
        { path: '/etc/kpkg-rules.conf', kind: 'file', content: 'a=1\n', config: true, noreplace: true },
        { path: '/etc/kpkg-rules.d', kind: 'dir' },
        { path: '/etc/kpkg-rules.d/ghost.log', kind: 'file', ghost: true },
        { path: '/opt/kpkg-rules', kind: 'dir' },
        { path: '/opt/kpkg-rules/bin', kind: 'dir' },
        { path: '/opt/kpkg-rules/bin/run', kind: 'file', mode: 0o755, content: '#!/bin/sh\n' },
        { path: '/opt/kpkg-rules/lib', kind: 'dir' },
        { path: '/opt/kpkg-rules/lib/data.txt', kind: 'file', content: 'data\n' },
        { path: '/opt/kpkg-rules/lib/a&b<c> "q".txt', kind: 'file', content: 'x\n' },
        { path: '/opt/kpkg-rules/lib/café 日本.txt', kind: 'file', content: 'y\n' },
        { path: '/usr/bin/kpkg-rules-tool', kind: 'symlink', target: '../../opt/kpkg-rules/bin/run' },
        { path: '/usr/lib/sendmail', kind: 'file', content: 'not really\n' },
        { path: '/usr/lib/sendmail.cf', kind: 'file', content: 'not primary\n' },
        { path: '/usr/sbinx', kind: 'file', content: 'not primary either\n' },
      ],
    },
    {
      name: 'kpkg-plain',
      version: '1.0',
      release: '1',
      arch: 'noarch',
      summary: 'nothing special',
      description: 'A package with no dependency, installed by dnf in the test.',
      license: 'Apache-2.0',
      files: [
        { path: '/opt/kpkg-plain', kind: 'dir' },
        { path: '/opt/kpkg-plain/hello.txt', kind: 'file', content: 'hello\n' },
      ],
    },
  ];
}

/**
 * A spec whose strings are Latin-1, not UTF-8 (rpm 4.18 builds it with a warning when told to):
 * createrepo_c converts such strings (dropping bytes 0x80-0xBF); built as binary and source RPM.
 */
const LATIN1_SPEC = Buffer.from(
  [
    'Name: latin',
    'Version: 1.0',
    'Release: 1',
    'Summary: caf\xe9 cr\xe8me',
    'License: MIT',
    'BuildArch: noarch',
    'Requires(pretrans): pre-thing',
    'Requires: libc.so.6(GLIBC_2.4), libc.so.6(GLIBC_2.28)',
    '%description',
    'Na\xefve text \xab quoted \xbb',
    '%install',
    'mkdir -p %{buildroot}/usr/share/latin',
    'echo x > %{buildroot}/usr/share/latin/f\xe9e.txt',
    '%files',
    '/usr/share/latin',
    '%changelog',
    '* Tue Nov 14 2023 J\xf6rg <j@example.com> - 1.0-1',
    '- \xe9t\xe9',
    '',
  ].join('\n'),
  'latin1',
);

function rpmbuildLatin1(into: string): void {
  const top = tmpDir('repo-md-rpmbuild');
  const spec = join(top, 'latin.spec');
  writeFileSync(spec, LATIN1_SPEC);
  const defs = ['--define', `_topdir ${top}`, '--define', '_invalid_encoding_terminates_build 0', '--define', '__os_install_post %{nil}', '--define', '_build_id_links none'];
  const env = { SOURCE_DATE_EPOCH: String(SDE), TZ: 'UTC', HOME: top };
  runOk('rpmbuild', ['-bb', '--quiet', ...defs, spec], { env });
  runOk('rpmbuild', ['-bs', '--quiet', ...defs, spec], { env });
  copyFileSync(join(top, 'RPMS', 'noarch', 'latin-1.0-1.noarch.rpm'), join(into, 'latin-1.0-1.noarch.rpm'));
  copyFileSync(join(top, 'SRPMS', 'latin-1.0-1.src.rpm'), join(into, 'latin-1.0-1.src.rpm'));
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

async function records(dir: string): Promise<RepoPackage[]> {
  const out: RepoPackage[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.rpm')).sort()) {
    const path = join(dir, f);
    const st = statSync(path);
    out.push(packageRecord(await readRpm(path), { href: f, sha256: sha256(path), size: st.size, mtime: Math.floor(st.mtimeMs / 1000) }));
  }
  // createrepo_c's order, so that the uncompressed files can be equal byte for byte
  return out.sort(compareHref);
}

function decompress(file: string): string {
  if (file.endsWith('.gz')) return gunzipSync(readFileSync(file)).toString('utf8');
  if (file.endsWith('.zst')) return runBufferOk('zstd', ['-dc', file]).stdout.toString('utf8');
  throw new Error(`unknown compression: ${file}`);
}

interface Repomd {
  root: XmlElement;
  data: Map<string, XmlElement>;
}

function readRepomd(repodata: string): Repomd {
  const root = parseXml(readFileSync(join(repodata, 'repomd.xml'), 'utf8'));
  return { root, data: new Map(root.children.filter((c) => c.name === 'data').map((d) => [d.attrs.type as string, d])) };
}

function child(el: XmlElement, name: string): XmlElement {
  const c = el.children.find((x) => x.name === name);
  if (!c) throw new Error(`no <${name}> in <${el.name}>`);
  return c;
}

/** The parsed metadata file of `type` listed in the repomd of `repoDir/<repodataName>`. */
function metadataTree(repoDir: string, repomd: Repomd, type: string, base = repoDir): XmlElement {
  const data = repomd.data.get(type);
  if (!data) throw new Error(`repomd lists no ${type}`);
  const href = child(data, 'location').attrs.href as string;
  return parseXml(decompress(join(base, href)));
}

/** Packages keyed by pkgid, so that the order of files in a directory listing does not matter. */
function byPkgid(root: XmlElement, type: string): Map<string, XmlElement> {
  const m = new Map<string, XmlElement>();
  for (const p of root.children) {
    const id = type === 'primary' ? child(p, 'checksum').text : (p.attrs.pkgid as string);
    m.set(id, p);
  }
  return m;
}

describeWithTools(['createrepo_c', 'dnf', 'rpmbuild', 'zstd'], 'repository metadata: ours against createrepo_c, read by dnf', () => {
  const repo = tmpDir('repo-md');
  const crOut = tmpDir('repo-md-createrepo');
  let ours: RepoPackage[] = [];

  beforeAll(async () => {
    for (const f of readdirSync(FIXTURES).filter((n) => n.endsWith('.rpm'))) copyFileSync(join(FIXTURES, f), join(repo, f));
    for (const spec of ownSpecs()) await writeRpm(spec, join(repo, packageFileName(spec)), { sourceDateEpoch: SDE });
    rpmbuildLatin1(repo);
    runOk('createrepo_c', ['--quiet', '--no-database', '--outputdir', crOut, repo]);
    ours = await records(repo);
    // the metadata as `kpkg repo index` writes it
    await indexRepository(repo, { compress: 'gzip' });
  });

  it('the same packages, pkgids and hrefs as createrepo_c', () => {
    const cr = readRepomd(join(crOut, 'repodata'));
    const primary = byPkgid(metadataTree(crOut, cr, 'primary'), 'primary');
    expect([...primary.keys()].sort()).toEqual(ours.map((r) => r.pkgid).sort());
    expect(ours.length).toBe(7);
    const latin = ours.filter((r) => r.name === 'latin');
    expect(latin.map((r) => r.arch).sort()).toEqual(['noarch', 'src']);
    expect(latin[0]!.summary).toBe('café crème');
    expect(latin[0]!.description).toBe('Naïve text  quoted '); // « and » (0xAB, 0xBB) dropped, as createrepo_c
  });

  for (const type of ['primary', 'filelists', 'other'] as const) {
    it(`${type}: every package, attribute and text equal to createrepo_c's`, () => {
      const cr = readRepomd(join(crOut, 'repodata'));
      const mine = readRepomd(join(repo, 'repodata'));
      const theirsRoot = metadataTree(crOut, cr, type);
      const oursRoot = metadataTree(repo, mine, type);
      // root element: name, namespaces, packages count
      const rootDiff = diffXml({ ...oursRoot, children: [] }, { ...theirsRoot, children: [] });
      expect(rootDiff).toEqual([]);
      const a = byPkgid(oursRoot, type);
      const b = byPkgid(theirsRoot, type);
      expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
      const diffs: string[] = [];
      for (const [id, p] of a) diffXml(p, b.get(id) as XmlElement, `${type}[${p.attrs.name ?? child(p, 'name').text}]`, diffs);
      expect(diffs).toEqual([]);
    });
  }

  it('kpkg repo index of the same packages in Packages/<letter>/ and at the top: the open XML of createrepo_c', () => {
    const tree = tmpDir('repo-md-index');
    const crTree = tmpDir('repo-md-index-createrepo');
    ours.forEach((r, i) => {
      // half in the Fedora layout, half at the top, so that the order by file name matters
      const rel = i % 2 === 0 ? join('Packages', r.href.charAt(0), r.href) : r.href;
      mkdirSync(join(tree, rel, '..'), { recursive: true });
      copyFileSync(join(repo, r.href), join(tree, rel));
    });
    runOk('createrepo_c', ['--quiet', '--no-database', '--outputdir', crTree, tree]);
    runOk(process.execPath, [KPKG, 'repo', 'index', '-q', tree]);
    const cr = readRepomd(join(crTree, 'repodata'));
    const mine = readRepomd(join(tree, 'repodata'));
    for (const type of ['primary', 'filelists', 'other']) {
      expect(child(mine.data.get(type)!, 'open-checksum').text, type).toBe(child(cr.data.get(type)!, 'open-checksum').text);
    }
  });

  it('repomd: the same data types, open checksums and open sizes as createrepo_c', () => {
    const cr = readRepomd(join(crOut, 'repodata'));
    const mine = readRepomd(join(repo, 'repodata'));
    expect([...mine.data.keys()]).toEqual(['primary', 'filelists', 'other']);
    for (const [type, ours] of mine.data) {
      const theirs = cr.data.get(type) as XmlElement;
      expect(child(ours, 'open-checksum').text, type).toBe(child(theirs, 'open-checksum').text);
      expect(child(ours, 'open-size').text, type).toBe(child(theirs, 'open-size').text);
      expect(child(ours, 'checksum').attrs.type).toBe('sha256');
      // the compressed bytes differ (another gzip), so do checksum, size and name; ours check out:
      const href = child(ours, 'location').attrs.href as string;
      expect(href).toMatch(new RegExp(`^repodata/[0-9a-f]{64}-${type}\\.xml\\.gz$`));
      const file = join(repo, href);
      expect(sha256(file)).toBe(child(ours, 'checksum').text);
      expect(String(statSync(file).size)).toBe(child(ours, 'size').text);
      expect(href).toContain(child(ours, 'checksum').text);
    }
    expect(mine.root.attrs).toEqual(cr.root.attrs);
  });

  it('zstd metadata has the same content, and dnf reads it', async () => {
    const zrepo = tmpDir('repo-md-zstd');
    // the copies keep their file times: primary lists them (<time file>), so the open text is the same
    for (const r of ours) {
      copyFileSync(join(repo, r.href), join(zrepo, r.href));
      const { atime, mtime } = statSync(join(repo, r.href));
      utimesSync(join(zrepo, r.href), atime, mtime);
    }
    await indexRepository(zrepo, { compress: 'zstd' });
    const files = (await loadState(zrepo))?.metadata ?? [];
    expect(files.length).toBe(3);
    const gz = readRepomd(join(repo, 'repodata'));
    for (const f of files) {
      expect(f.href).toMatch(/\.xml\.zst$/);
      const text = decompress(join(zrepo, f.href));
      expect(createHash('sha256').update(text).digest('hex')).toBe(f.openChecksum);
      expect(f.openChecksum).toBe(child(gz.data.get(f.type) as XmlElement, 'open-checksum').text);
    }
    const root = new InstallRoot(new YumRepo(zrepo), 'zstd');
    const listed = root.dnfOk(['repoquery', '-a', '--qf', 'NEVRA %{name}.%{arch}']).stdout.split('\n').filter((l) => l.startsWith('NEVRA '));
    expect(listed.length).toBe(ours.length);
  });

  it('dnf repoquery lists every package from our metadata, with their dependencies', () => {
    const root = new InstallRoot(new YumRepo(repo), 'repoquery');
    const res = root.dnfOk(['repoquery', '-a', '--qf', '%{name}-%{epoch}:%{version}-%{release}.%{arch}']);
    const listed = res.stdout.split('\n').filter((l) => /^[\w~.-]+-\d+:/.test(l)).sort();
    expect(listed).toEqual(
      ['hello-0:1.2.3-1.noarch', 'kpkg-plain-0:1.0-1.noarch', 'latin-0:1.0-1.noarch', 'latin-0:1.0-1.src', 'kpkg-rules-4:2.0.1-3.el9.x86_64', 'unicode-names-0:0.9.0~rc.1-1.noarch', 'world-2:0.4.0-3.noarch'].sort(),
    );
    const req = root.dnfOk(['repoquery', '--requires', 'kpkg-rules']).stdout;
    expect(req).toContain('glibc >= 2.28');
    expect(req).toContain('/opt/kpkg-rules/lib/data.txt');
    const files = root.dnfOk(['repoquery', '-l', 'unicode-names']).stdout;
    expect(files).toContain('日本語/ファイル.txt');
  });

  it('dnf installs a package from our metadata into an empty root', () => {
    const root = new InstallRoot(new YumRepo(repo), 'install');
    root.install('kpkg-plain');
    expect(readFileSync(join(root.root, 'opt/kpkg-plain/hello.txt'), 'utf8')).toBe('hello\n');
  });
});

export type { MetadataCompression };
