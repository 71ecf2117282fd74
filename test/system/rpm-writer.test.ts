// Our RPM writer, judged by the real rpm 4.18: for every payload compression, `rpm -K` accepts the
// digests, `rpm -qp --queryformat` reads back every field we set (with the types rpm expects),
// rpm2cpio + cpio give back the very tree we packaged, rpm installs, verifies and erases the
// package in a private root, and rpmlint finds nothing malformed. Then: two builds are the same
// bytes, and the same package built by the real rpmbuild agrees with ours field by field, every
// difference listed below with its reason.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageInfo, readRpm, type RpmInfo } from '../../packager/rpm/reader.js';
import {
  RPMSENSE_EQUAL,
  RPMSENSE_INTERP,
  RPMSENSE_LESS,
  RPMSENSE_RPMLIB,
  RPMSENSE_SCRIPT_POST,
  RPMSENSE_SCRIPT_POSTUN,
  RPMSENSE_SCRIPT_PRE,
  RPMSENSE_SCRIPT_PREUN,
  senseOperator,
} from '../../packager/rpm/dependency.js';
import { SIG_TAG_NAMES, Tag, TAG_NAMES, TagType } from '../../packager/rpm/tags.js';
import { writeRpm } from '../../packager/rpm/writer.js';
import { packageFileName, type DependencySpec, type PackageSpec, type WriteOptions } from '../../packager/rpm/spec.js';
import { listNewc } from './helpers/newc.js';
import { rpmbuild } from './helpers/rpmbuild.js';
import {
  CHANGELOG_TAGS,
  DEPENDENCY_KINDS,
  DEPENDENCY_TAGS,
  dependencies,
  FILE_TAGS,
  rpmQuery,
  SCALAR_TAGS,
  type QueryResult,
} from './helpers/rpmq.js';
import { compareWithDisk, fullMode, makeTestTree, permsString, SOURCE_DATE_EPOCH, touchTree, type TestTree } from './helpers/trees.js';
import { describeWithTools, run, runBufferOk, runOk, tmpDir } from './tools.js';

type Compression = NonNullable<WriteOptions['compression']>;

/**
 * The payloads we write; for each, what PAYLOADCOMPRESSOR says (rpm prints `(none)` for an absent
 * tag: rpmbuild writes none for an uncompressed payload), the rpmlib() feature it needs, and the
 * `%_binary_payload` that makes rpmbuild write the same. Levels are explicit so that PAYLOADFLAGS
 * can be compared; xz at 2 (as the xz fixture) because the 5 MiB random file is slow at 6.
 */
const COMPRESSIONS: { compression: Compression; level?: number; compressor: string; rpmlib?: [string, string]; rpmbuildPayload: string }[] = [
  { compression: 'gzip', level: 9, compressor: 'gzip', rpmbuildPayload: 'w9.gzdio' },
  { compression: 'zstd', level: 3, compressor: 'zstd', rpmlib: ['rpmlib(PayloadIsZstd)', '5.4.18-1'], rpmbuildPayload: 'w3.zstdio' },
  { compression: 'xz', level: 2, compressor: 'xz', rpmlib: ['rpmlib(PayloadIsXz)', '5.2-1'], rpmbuildPayload: 'w2.xzdio' },
  // rpm 4.18 reads it: rpm -K, rpm2cpio and rpm -i take an absent compressor for gzip, and zlib
  // passes an uncompressed stream through
  { compression: 'none', compressor: '(none)', rpmbuildPayload: 'w.ufdio' },
];

const SDE = SOURCE_DATE_EPOCH;
const RPMLIB_FLAGS = RPMSENSE_RPMLIB | RPMSENSE_LESS | RPMSENSE_EQUAL;

/**
 * Debian's rpm warns on stderr that packages should be installed with alien, not rpm, unless given
 * --force-debian (an option other rpms do not know): any other message on stderr is a finding.
 */
const FORCE_DEBIAN = run('rpm', ['--help']).stdout.includes('--force-debian') ? ['--force-debian'] : [];

let work: string;
let tree: TestTree;
const packages = new Map<Compression, string>();

function spec(): PackageSpec {
  return tree.spec;
}

function depStrings(list: readonly DependencySpec[]): string[] {
  return list.map((d) => `${d.name} ${d.flags ?? 0} ${d.version ?? ''}`).sort();
}

/** The dependencies our package must have: the spec's, the scriptlets' interpreters, rpmlib(). */
function expectedDependencies(compression: (typeof COMPRESSIONS)[number]): Record<(typeof DEPENDENCY_KINDS)[number], string[]> {
  const s = spec();
  const evr = `${s.epoch}:${s.version}-${s.release}`;
  const requires: DependencySpec[] = [
    ...(s.requires ?? []),
    { name: '/bin/sh', flags: RPMSENSE_INTERP | RPMSENSE_SCRIPT_PRE },
    { name: '/bin/sh', flags: RPMSENSE_INTERP | RPMSENSE_SCRIPT_POST },
    { name: '/bin/sh', flags: RPMSENSE_INTERP | RPMSENSE_SCRIPT_PREUN },
    { name: '/bin/bash', flags: RPMSENSE_INTERP | RPMSENSE_SCRIPT_POSTUN },
    { name: 'rpmlib(CompressedFileNames)', flags: RPMLIB_FLAGS, version: '3.0.4-1' },
    { name: 'rpmlib(FileDigests)', flags: RPMLIB_FLAGS, version: '4.6.0-1' },
    { name: 'rpmlib(PayloadFilesHavePrefix)', flags: RPMLIB_FLAGS, version: '4.0-1' },
    { name: 'rpmlib(RichDependencies)', flags: RPMLIB_FLAGS, version: '4.12.0-1' },
  ];
  if (compression.rpmlib) requires.push({ name: compression.rpmlib[0], flags: RPMLIB_FLAGS, version: compression.rpmlib[1] });
  return {
    PROVIDE: depStrings([...(s.provides ?? []), { name: s.name, flags: RPMSENSE_EQUAL, version: evr }]),
    REQUIRE: depStrings(requires),
    CONFLICT: depStrings(s.conflicts ?? []),
    OBSOLETE: depStrings(s.obsoletes ?? []),
    RECOMMEND: depStrings(s.recommends ?? []),
    SUGGEST: depStrings(s.suggests ?? []),
    SUPPLEMENT: depStrings(s.supplements ?? []),
    ENHANCE: depStrings(s.enhances ?? []),
  };
}

function queryAll(pkg: string): QueryResult {
  return rpmQuery(pkg, SCALAR_TAGS, [...FILE_TAGS, ...DEPENDENCY_TAGS, ...CHANGELOG_TAGS]);
}

/** rpm's `:fflags` letters (lib/formats.c fflagsFormat), in its order. */
function fflags(e: TestTree['entries'][number]): string {
  return `${e.doc ? 'd' : ''}${e.config || e.noreplace ? 'c' : ''}${e.noreplace ? 'n' : ''}${e.ghost ? 'g' : ''}`;
}

beforeAll(async () => {
  work = tmpDir('rpm-writer');
  tree = makeTestTree(join(work, 'tree'));
  for (const c of COMPRESSIONS) {
    const out = join(work, c.compression, packageFileName(tree.spec));
    const written = await writeRpm(tree.spec, out, { compression: c.compression, ...(c.level !== undefined ? { level: c.level } : {}), sourceDateEpoch: SDE });
    packages.set(c.compression, written.path);
  }
});

describe('the test tree', () => {
  it('has what it claims: a path over 300 characters of components under 255 bytes, every kind of entry', () => {
    const longest = tree.entries.reduce((a, e) => (e.path.length > a.length ? e.path : a), '');
    expect(longest.length).toBeGreaterThan(300);
    for (const e of tree.entries) for (const part of e.path.split('/')) expect(Buffer.byteLength(part), e.path).toBeLessThan(255);
    const has = (pred: (e: TestTree['entries'][number]) => boolean) => tree.entries.some(pred);
    expect(has((e) => e.kind === 'file' && e.size === 0 && !e.ghost)).toBe(true);
    expect(has((e) => e.kind === 'file' && (e.size as number) >= 5 * 1024 * 1024)).toBe(true);
    expect(has((e) => e.kind === 'symlink' && (e.target as string).startsWith('/'))).toBe(true);
    expect(has((e) => e.kind === 'file' && e.mode === 0o755)).toBe(true);
    expect(has((e) => e.kind === 'file' && e.mode === 0o600)).toBe(true);
    expect(has((e) => e.noreplace === true) && has((e) => e.doc === true) && has((e) => e.ghost === true)).toBe(true);
    // every directory holding an entry of ours is an entry too, up to the system ones
    const paths = new Set(tree.entries.map((e) => e.path));
    const system = new Set(['/opt', '/etc', '/usr', '/usr/share', '/usr/share/doc', '/var', '/var/log']);
    for (const e of tree.entries) {
      const parent = e.path.slice(0, e.path.lastIndexOf('/'));
      expect(paths.has(parent) || system.has(parent), e.path).toBe(true);
    }
  });
});

describeWithTools(['rpm', 'rpm2cpio', 'cpio'], 'our packages, as rpm 4.18 sees them', () => {
  describe.each(COMPRESSIONS)('$compression payload', (c) => {
    const pkg = () => packages.get(c.compression) as string;

    it('rpm -K: digests OK', () => {
      const res = runOk('rpm', ['-K', pkg()]);
      expect(res.stdout).toBe(`${pkg()}: digests OK\n`);
      expect(res.stderr).toBe('');
    });

    it('rpm -qp --queryformat gives back every field we set', () => {
      const s = spec();
      const q = queryAll(pkg());
      expect(q.stderr).toBe('');
      const scalars = Object.fromEntries(SCALAR_TAGS.map((t) => [t, q.scalar(t)]));
      const scripts = s.scripts ?? {};
      const body = (name: keyof typeof scripts) => {
        const x = scripts[name];
        return x === undefined ? '(none)' : typeof x === 'string' ? x : x.body;
      };
      const prog = (name: keyof typeof scripts) => {
        const x = scripts[name];
        return x === undefined ? '(none)' : typeof x === 'string' ? '/bin/sh' : (x.interpreter ?? '/bin/sh');
      };
      expect(scalars).toEqual({
        NAME: s.name,
        EPOCH: String(s.epoch),
        VERSION: s.version,
        RELEASE: s.release,
        SUMMARY: s.summary,
        DESCRIPTION: s.description,
        LICENSE: s.license,
        URL: s.url,
        VENDOR: s.vendor,
        PACKAGER: s.packager,
        GROUP: s.group,
        BUILDTIME: String(SDE),
        BUILDHOST: s.buildHost,
        SOURCERPM: `${s.name}-${s.version}-${s.release}.src.rpm`,
        ARCH: 'noarch',
        OS: 'linux',
        PAYLOADFORMAT: 'cpio',
        PAYLOADCOMPRESSOR: c.compressor,
        PAYLOADFLAGS: c.level === undefined ? '' : String(c.level),
        SIZE: String(q.array('FILESIZES').reduce((sum, n) => sum + Number(n), 0)),
        PREIN: body('pre'),
        PREINPROG: prog('pre'),
        POSTIN: body('post'),
        POSTINPROG: prog('post'),
        PREUN: body('preun'),
        PREUNPROG: prog('preun'),
        POSTUN: body('postun'),
        POSTUNPROG: prog('postun'),
        PRETRANS: '(none)',
        PRETRANSPROG: '(none)',
        POSTTRANS: '(none)',
        POSTTRANSPROG: '(none)',
      });

      // the files, one array per attribute
      const entries = tree.entries;
      expect(q.array('FILENAMES')).toEqual(entries.map((e) => e.path));
      expect(q.array('FILEMODES')).toEqual(entries.map((e) => String(fullMode(e))));
      expect(q.array('FILEMODES:octal')).toEqual(entries.map((e) => fullMode(e).toString(8)));
      expect(q.array('FILEMODES:perms')).toEqual(entries.map((e) => permsString(e)));
      // directories: 0, as rpmbuild 4.18 records them
      expect(q.array('FILESIZES')).toEqual(
        entries.map((e) => String(e.kind === 'symlink' ? Buffer.byteLength(e.target as string) : e.kind === 'dir' ? 0 : (e.size as number))),
      );
      expect(q.array('FILEMTIMES')).toEqual(entries.map(() => String(SDE)));
      expect(q.array('FILEDIGESTS')).toEqual(entries.map((e) => (e.kind === 'file' && !e.ghost ? e.sha256 : '')));
      expect(q.array('FILELINKTOS')).toEqual(entries.map((e) => e.target ?? ''));
      expect(q.array('FILEFLAGS:fflags')).toEqual(entries.map((e) => fflags(e)));
      expect(q.array('FILEFLAGS')).toEqual(
        entries.map((e) => String((e.config || e.noreplace ? 1 : 0) | (e.doc ? 2 : 0) | (e.noreplace ? 16 : 0) | (e.ghost ? 64 : 0))),
      );
      expect(q.array('FILEUSERNAME')).toEqual(entries.map(() => 'root'));
      expect(q.array('FILEGROUPNAME')).toEqual(entries.map(() => 'root'));
      expect(q.array('FILELANGS')).toEqual(entries.map(() => ''));

      // dependencies, as sets, and their flags as rpm's `:depflags` shows them
      const expected = expectedDependencies(c);
      for (const kind of DEPENDENCY_KINDS) {
        expect(dependencies(q, kind).sort(), kind).toEqual(expected[kind]);
        const flags = q.array(`${kind}FLAGS`).map((f) => senseOperator(Number(f)));
        expect(q.array(`${kind}FLAGS:depflags`), `${kind}FLAGS:depflags`).toEqual(flags);
      }

      // changelog, newest first
      const log = [...(s.changelog ?? [])].sort((a, b) => b.time - a.time);
      expect(q.array('CHANGELOGTIME')).toEqual(log.map((l) => String(l.time)));
      expect(q.array('CHANGELOGNAME')).toEqual(log.map((l) => l.author));
      expect(q.array('CHANGELOGTEXT')).toEqual(log.map((l) => l.text));
    });

    it('every integer tag is an integer to rpm (numeric formats work on it)', () => {
      // rpm's `:octal` and `:date` formats refuse a non-numeric entry with "(not a number)"; a
      // string-typed EPOCH or FILEMODES would show up here. Exact types: see the rpmbuild test.
      const ints = ['EPOCH', 'BUILDTIME', 'SIZE', 'FILEDIGESTALGO', 'PAYLOADDIGESTALGO'];
      const intArrays = [
        'FILESIZES',
        'FILEMODES',
        'FILERDEVS',
        'FILEMTIMES',
        'FILEFLAGS',
        'FILEVERIFYFLAGS',
        'FILEDEVICES',
        'FILEINODES',
        'FILECOLORS',
        'DIRINDEXES',
        'CHANGELOGTIME',
        // the dependency kinds the test package has (it has no Supplements or Enhances)
        ...['PROVIDE', 'REQUIRE', 'CONFLICT', 'OBSOLETE', 'RECOMMEND', 'SUGGEST'].map((k) => `${k}FLAGS`),
      ];
      const q = rpmQuery(pkg(), [...ints, ...ints.map((t) => `${t}:octal`)], [...intArrays, ...intArrays.map((t) => `${t}:octal`)]);
      expect(q.stderr).toBe('');
      for (const t of ints) expect(q.scalar(`${t}:octal`), t).toBe(Number(q.scalar(t)).toString(8));
      for (const t of intArrays) {
        expect(q.array(t).length, t).toBeGreaterThan(0);
        expect(q.array(`${t}:octal`), t).toEqual(q.array(t).map((n) => Number(n).toString(8)));
      }
      expect(rpmQuery(pkg(), ['BUILDTIME:date']).scalar('BUILDTIME:date')).toMatch(/2023/);
    });

    it('rpm2cpio | cpio -idm gives back the tree: paths, bytes, modes, links, mtimes; no ghost', () => {
      const dir = tmpDir(`cpio-${c.compression}`);
      const archive = runBufferOk('rpm2cpio', [pkg()]).stdout;
      runOk('cpio', ['-idm', '--no-absolute-filenames', '--quiet'], { cwd: dir, input: archive });
      // GNU cpio sets a directory's mtime when it makes it, then changes it by creating its
      // children: directories' mtimes are checked in the archive itself, below
      expect(compareWithDisk(dir, tree.entries, { mtime: SDE, dirMtimes: false })).toEqual([]);
      const members = listNewc(archive);
      const carried = tree.entries.filter((e) => !e.ghost);
      expect(members.map((m) => m.name)).toEqual(carried.map((e) => `.${e.path}`));
      expect(members.map((m) => [m.mode, m.mtime, m.uid, m.gid])).toEqual(carried.map((e) => [fullMode(e), SDE, 0, 0]));
    });

    it('rpm installs it into a private root, rpm -V finds nothing, rpm -e removes it', () => {
      const root = tmpDir(`root-${c.compression}`);
      runOk('rpm', ['--root', root, '--initdb']);
      const install = run('rpm', ['--root', root, '-i', '--nodeps', '--noscripts', ...FORCE_DEBIAN, pkg()]);
      expect(install).toMatchObject({ status: 0, stdout: '', stderr: '' });
      const name = spec().name;
      expect(runOk('rpm', ['--root', root, '-q', name]).stdout).toBe(`${name}-${spec().version}-${spec().release}.noarch\n`);
      // rpm sets the mtime of files and symlinks (lutimes) from the header; a directory's is set,
      // then changed by creating its children, as with rpmbuild's packages (rpm -V ignores it)
      expect(compareWithDisk(root, tree.entries, { mtime: SDE, symlinkMtimes: true, dirMtimes: false })).toEqual([]);
      const verify = run('rpm', ['--root', root, '-V', '--nodeps', name]);
      expect(verify).toMatchObject({ status: 0, stdout: '', stderr: '' });
      const erase = run('rpm', ['--root', root, '-e', '--nodeps', '--noscripts', ...FORCE_DEBIAN, name]);
      expect(erase).toMatchObject({ status: 0, stdout: '', stderr: '' });
      expect(run('rpm', ['--root', root, '-q', name]).status).not.toBe(0);
      // nothing of ours is left (lstat: a dangling symlink counts), config files included: they
      // were not changed, so rpm -e leaves no .rpmsave either
      const left = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((p) => p.includes('kpkg-systest'));
      expect(left).toEqual([]);
    });
  });

  it('two builds with the same SOURCE_DATE_EPOCH are the same bytes, whatever the source mtimes', async () => {
    for (const c of COMPRESSIONS) {
      touchTree(tree, SDE + 86_400 * 365);
      const again = join(work, `again-${c.compression}`, packageFileName(tree.spec));
      await writeRpm(tree.spec, again, { compression: c.compression, ...(c.level !== undefined ? { level: c.level } : {}), sourceDateEpoch: SDE });
      expect(readFileSync(again).equals(readFileSync(packages.get(c.compression) as string)), c.compression).toBe(true);
    }
    touchTree(tree, Math.floor(Date.now() / 1000));
  });
});

// What rpmlint 2.4.0 (Debian 12, default configuration) reports for our gzip package (zstd and xz:
// the same), 36 errors and 11 warnings:
//   E: dir-or-file-in-opt /opt/kpkg-systest/...            (32 times: every file under /opt)
//   E: zero-length /opt/kpkg-systest/share/empty.txt
//   E: non-standard-dir-perm /var/log/kpkg-systest 750
//   E: non-readable /etc/kpkg-systest/secret.key 600
//   E: no-signature
//   W: unexpanded-macro /opt/kpkg-systest/names/%{lua:os.exit(3)}.txt %{lua
//   W: unexpanded-macro %description -l C %{lua
//   W: unexpanded-macro %description -l C %{name}
//   W: symlink-should-be-relative /opt/kpkg-systest/share/config-link /etc/kpkg-systest/app.conf
//   W: postin-without-ghost-file-creation /var/log/kpkg-systest/app.log
//   W: percent-in-%post
//   W: obsolete-not-provided kpkg-systest-old
//   W: log-files-without-logrotate ['/var/log/kpkg-systest']
//   W: invalid-license Apache-2.0
//   W: dangling-relative-symlink /opt/kpkg-systest/share/dangling ../nowhere/missing.txt
//   W: conffile-without-noreplace-flag /etc/kpkg-systest/secret.key
// Every one is about the test tree's deliberate oddities or about packaging policy; none says that
// the package is malformed.
/** rpmlint ERRORS that are policy, not a malformed package: fine for what we package. */
const RPMLINT_ALLOWED_ERRORS = new Map<string, string>([
  ['dir-or-file-in-opt', 'our components live under /opt/kelkoo by design (FHS allows add-on packages there)'],
  ['no-signature', 'packages are signed by `kpkg sign` / `kpkg publish --sign-key`, not at build time'],
  ['zero-length', 'the test tree has an empty file on purpose'],
  ['non-standard-dir-perm', 'the log directory is 0750 on purpose'],
  ['non-readable', 'the secret key is 0600 on purpose'],
]);
/** rpmlint WARNINGS we expect, with why; any other warning fails too, so a new one gets a look. */
const RPMLINT_ALLOWED_WARNINGS = new Map<string, string>([
  ['unexpanded-macro', 'the description and a file name hold %{...} on purpose, to prove nothing expands them'],
  ['invalid-license', "rpmlint's default licence list predates SPDX identifiers such as Apache-2.0"],
  ['obsolete-not-provided', 'the test package obsoletes a name it does not provide'],
  ['dangling-relative-symlink', 'the tree has a dangling symlink on purpose'],
  ['log-files-without-logrotate', 'the test package has a log directory and no logrotate file'],
  ['postin-without-ghost-file-creation', 'the %ghost log file is created by the application, not %post'],
  ['symlink-should-be-relative', 'the tree has an absolute symlink on purpose'],
  ['percent-in-%post', 'the %post prints %{name} literally on purpose (rpm does not expand it)'],
  ['conffile-without-noreplace-flag', 'the tree has a plain %config file on purpose'],
  // not reported today, policy all the same: a component may ship a dot file, or no %doc
  ['hidden-file-or-dir', 'dot files are legitimate in a Node application tree (.npmrc, .env.example)'],
  ['no-documentation', 'components need not ship %doc files'],
]);

describeWithTools(['rpmlint'], 'rpmlint on our packages', () => {
  it.each(COMPRESSIONS)('$compression: no message outside the allow-lists', (c) => {
    const res = run('rpmlint', [packages.get(c.compression) as string], { timeout: 60_000 });
    const messages = [...res.stdout.matchAll(/^\S+: ([EW]): (\S+)(.*)$/gm)].map((m) => ({ level: m[1], check: m[2] as string, line: m[0] }));
    expect(messages.length, res.stdout).toBeGreaterThan(0); // it did check something
    const unexpected = messages.filter((m) => !(m.level === 'E' ? RPMLINT_ALLOWED_ERRORS : RPMLINT_ALLOWED_WARNINGS).has(m.check));
    expect(unexpected.map((m) => m.line)).toEqual([]);
    // rpmlint's exit status is 64 when it reports errors, 66 for "badness" over a threshold
    expect([0, 64, 66], res.stderr).toContain(res.status);
  });
});

const SCRIPT_BODY_TAGS = new Set<string>(['PREIN', 'POSTIN', 'PREUN', 'POSTUN', 'PRETRANS', 'POSTTRANS']);

/**
 * A scriptlet's interpreter: rpmbuild 4.18 stores a lone interpreter as a STRING
 * (build/parseScript.c calls headerPutString when there is no argument), we as a one-element
 * STRING_ARRAY, the type of rpm's tag table (rpmtag.h: `s[]`). rpm reads both the same: it permits a
 * STRING where its table says STRING_ARRAY, and the queryformat test above reads the interpreters
 * back from our packages.
 */
const TYPE_DIFFERENCES = new Map<number, string>(
  [Tag.PREINPROG, Tag.POSTINPROG, Tag.PREUNPROG, Tag.POSTUNPROG, Tag.PRETRANSPROG, Tag.POSTTRANSPROG].map((t) => [
    t,
    'a lone interpreter: STRING_ARRAY[1] for us, STRING for rpmbuild',
  ]),
);

describeWithTools(['rpm', 'rpmbuild'], 'the same package built by rpmbuild 4.18', () => {
  describe.each(COMPRESSIONS)('$rpmbuildPayload', (c) => {
    let ours: string;
    let theirs: string;
    beforeAll(() => {
      ours = packages.get(c.compression) as string;
      // The command (helpers/rpmbuild.ts; <payload> is w9.gzdio, w3.zstdio, w2.xzdio or w.ufdio):
      //   SOURCE_DATE_EPOCH=1700000000 TZ=UTC HOME=<work>/topdir rpmbuild -bb --quiet --target noarch \
      //     --define '_topdir <work>/topdir' --define '_buildhost systest.kelkoo' \
      //     --define 'use_source_date_epoch_as_buildtime 1' --define 'clamp_mtime_to_source_date_epoch 1' \
      //     --define '_binary_payload <payload>' --define '__os_install_post %{nil}' \
      //     --define '_build_id_links none' <work>/kpkg-systest.spec
      theirs = rpmbuild(tree.spec, tree.root, join(work, `rpmbuild-${c.compression}`), c.rpmbuildPayload, SDE).path;
    });

    it('rpm -K accepts both', () => {
      expect(runOk('rpm', ['-K', theirs]).stdout).toBe(`${theirs}: digests OK\n`);
      expect(runOk('rpm', ['-K', ours]).stdout).toBe(`${ours}: digests OK\n`);
    });

    it('the same values for every tag we set, but the differences listed here', () => {
      const a = queryAll(ours);
      const b = queryAll(theirs);
      expect(b.stderr).toBe('');
      for (const t of SCALAR_TAGS) {
        // Scriptlets: rpmbuild strips the trailing newline (whitespace) of a scriptlet body
        // (build/parseScript.c); we store the body as given. The shell runs both the same.
        if (SCRIPT_BODY_TAGS.has(t)) {
          expect(a.scalar(t).trimEnd(), t).toBe(b.scalar(t));
          continue;
        }
        expect(a.scalar(t), t).toBe(b.scalar(t));
      }
      const isGhost = tree.entries.map((e) => e.ghost === true);
      for (const t of FILE_TAGS) {
        const x = a.array(t);
        const y = b.array(t);
        expect(x.length, t).toBe(tree.entries.length);
        expect(y.length, t).toBe(tree.entries.length);
        for (let i = 0; i < x.length; i++) {
          const what = `${t} of ${tree.entries[i]?.path}`;
          // %ghost: rpmbuild leaves out of FILEVERIFYFLAGS what cannot be verified for a file the
          // package does not carry (digest, size, link, mtime: 0xffffffd8); we ask to verify all,
          // and rpm -V skips a %ghost file's contents anyway (checked by the install test).
          if (t === 'FILEVERIFYFLAGS' && isGhost[i]) continue;
          expect(x[i], what).toBe(y[i]);
        }
      }
      // the differences skipped above, as they are: this list must shrink when one goes away
      const ghost = isGhost.indexOf(true);
      expect([a.array('FILEVERIFYFLAGS')[ghost], b.array('FILEVERIFYFLAGS')[ghost]]).toEqual([String(0xffffffff), String(0xffffffd8)]);
      for (const t of SCRIPT_BODY_TAGS) if (a.scalar(t) !== '(none)') expect(a.scalar(t), t).toBe(`${b.scalar(t)}\n`);

      // with AutoReqProv: no, rpmbuild adds no dependency of its own (not even `config(NAME)`):
      // the sets are the same, rpmlib() features included
      for (const kind of DEPENDENCY_KINDS) {
        expect(dependencies(a, kind).sort(), kind).toEqual(dependencies(b, kind).sort());
      }
      for (const t of CHANGELOG_TAGS) expect(a.array(t), t).toEqual(b.array(t));
    });

    it('our reader sees the same package in both, but the differences above', async () => {
      const norm = (info: RpmInfo) => ({
        ...info,
        // %ghost files' verify flags, scriptlets' trailing newlines: see above
        files: info.files.map((f) => ({ ...f, verifyFlags: f.flags & 64 ? 0 : f.verifyFlags })),
        scripts: Object.fromEntries(Object.entries(info.scripts).map(([k, v]) => [k, { ...v, body: v.body.trimEnd() }])),
      });
      const x = packageInfo(await readRpm(ours));
      const y = packageInfo(await readRpm(theirs));
      expect(norm(x)).toEqual(norm(y));
    });

    it('tags: the same types as rpmbuild gives them; the tags only one of us writes are listed', async () => {
      const x = await readRpm(ours);
      const y = await readRpm(theirs);
      const types = (h: typeof x.header) => new Map(h.list().map((e) => [e.tag, e.type]));
      for (const [h, k, names] of [
        [x.header, y.header, TAG_NAMES],
        [x.signature, y.signature, SIG_TAG_NAMES],
      ] as const) {
        const tx = types(h);
        const ty = types(k);
        for (const [tag, type] of tx) {
          if (!ty.has(tag)) continue;
          const why = TYPE_DIFFERENCES.get(tag);
          if (why !== undefined) {
            expect([type, ty.get(tag)], `types of ${names.get(tag)}: ${why}`).toEqual([TagType.STRING_ARRAY, TagType.STRING]);
            continue;
          }
          expect(type, `type of ${names.get(tag) ?? tag}`).toBe(ty.get(tag));
        }
      }
      // Tags rpmbuild writes and we do not, with why that is fine (numbers from rpmtag.h):
      const RPMBUILD_ONLY = new Map<number, string>([
        [1064, 'RPMVERSION: the version of the rpm that built the package; informational'],
        [1122, 'OPTFLAGS: the compiler flags of the build; meaningless for what we package'],
        [1132, 'PLATFORM: the build platform (noarch-debian-linux); informational'],
        [1141, 'FILECLASS: file(1) output per file, input of the dependency generators'],
        [1142, 'CLASSDICT: the dictionary FILECLASS indexes'],
      ]);
      const RPMBUILD_ONLY_SIG = new Map<number, string>([
        [1008, 'RESERVEDSPACE: room for rpmsign to add a signature in place; kpkg sign rewrites the file'],
      ]);
      const only = (h: typeof x.header, other: typeof x.header) => h.list().map((e) => e.tag).filter((t) => !other.has(t));
      expect(only(y.header, x.header)).toEqual([...RPMBUILD_ONLY.keys()]);
      expect(only(y.signature, x.signature)).toEqual([...RPMBUILD_ONLY_SIG.keys()]);
      expect(only(x.header, y.header).map((t) => TAG_NAMES.get(t))).toEqual([]);
      expect(only(x.signature, y.signature).map((t) => SIG_TAG_NAMES.get(t))).toEqual([]);
    });
  });
});
