// Our RPM reader, judged by the real rpm 4.18 on the packages of test/fixtures/rpmbuild/ (made by
// rpmbuild itself): every field rpm -qp shows, ours shows the same; the digests check out; the
// payload walk gives every regular file the body FILEDIGESTS promises; and damaged packages (a
// flipped byte, a truncated file) are refused by us as by rpm, with a clean FormatError.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError } from '../../packager/errors.js';
import { packageInfo, readRpm, verifyDigests, type RpmDependency, type RpmInfo } from '../../packager/rpm/reader.js';
import { payloadManifest } from '../helpers/payload-manifest.js';
import { CHANGELOG_TAGS, DEPENDENCY_KINDS, DEPENDENCY_TAGS, FILE_TAGS, rpmQuery, SCALAR_TAGS, type QueryResult } from './helpers/rpmq.js';
import { describeWithTools, run, tmpDir } from './tools.js';

const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'rpmbuild');
const FIXTURES = ['hello-1.2.3-1.noarch.rpm', 'world-0.4.0-3.noarch.rpm', 'unicode-names-0.9.0~rc.1-1.noarch.rpm'];

const KIND_KEYS: Record<(typeof DEPENDENCY_KINDS)[number], keyof RpmInfo> = {
  PROVIDE: 'provides',
  REQUIRE: 'requires',
  CONFLICT: 'conflicts',
  OBSOLETE: 'obsoletes',
  RECOMMEND: 'recommends',
  SUGGEST: 'suggests',
  SUPPLEMENT: 'supplements',
  ENHANCE: 'enhances',
};

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/** Our reader's view of the scalar tags, printed as rpm prints them (`(none)` when absent). */
function ourScalars(info: RpmInfo): Record<string, string> {
  const opt = (v: string | number | undefined) => (v === undefined ? '(none)' : String(v));
  const script = (k: keyof RpmInfo['scripts']) => info.scripts[k];
  // rpm prints the first element of an array tag used as a scalar
  const prog = (k: keyof RpmInfo['scripts']) => opt(script(k)?.interpreter[0]);
  return {
    NAME: info.name,
    EPOCH: opt(info.epoch),
    VERSION: info.version,
    RELEASE: info.release,
    SUMMARY: info.summary,
    DESCRIPTION: info.description,
    LICENSE: info.license,
    URL: opt(info.url),
    VENDOR: opt(info.vendor),
    PACKAGER: opt(info.packager),
    GROUP: info.group,
    BUILDTIME: opt(info.buildTime),
    BUILDHOST: opt(info.buildHost),
    SOURCERPM: opt(info.sourceRpm),
    ARCH: info.arch,
    OS: info.os,
    PAYLOADFORMAT: info.payloadFormat,
    PAYLOADCOMPRESSOR: info.payloadCompressor,
    PAYLOADFLAGS: info.payloadFlags,
    SIZE: String(info.installSize),
    PREIN: opt(script('pre')?.body),
    PREINPROG: prog('pre'),
    POSTIN: opt(script('post')?.body),
    POSTINPROG: prog('post'),
    PREUN: opt(script('preun')?.body),
    PREUNPROG: prog('preun'),
    POSTUN: opt(script('postun')?.body),
    POSTUNPROG: prog('postun'),
    PRETRANS: opt(script('pretrans')?.body),
    PRETRANSPROG: prog('pretrans'),
    POSTTRANS: opt(script('posttrans')?.body),
    POSTTRANSPROG: prog('posttrans'),
  };
}

/** Our reader's view of the per-file arrays, as rpm prints them (numbers in decimal). */
function ourFileArrays(info: RpmInfo): Record<string, string[]> {
  const f = info.files;
  return {
    FILENAMES: f.map((x) => x.path),
    FILEMODES: f.map((x) => String(x.mode)),
    FILESIZES: f.map((x) => String(x.size)),
    FILEMTIMES: f.map((x) => String(x.mtime)),
    FILEDIGESTS: f.map((x) => x.digest),
    FILELINKTOS: f.map((x) => x.linkTo),
    FILEFLAGS: f.map((x) => String(x.flags)),
    FILEUSERNAME: f.map((x) => x.user),
    FILEGROUPNAME: f.map((x) => x.group),
    FILEVERIFYFLAGS: f.map((x) => String(x.verifyFlags >>> 0)), // unsigned, as rpm prints it
    FILELANGS: f.map((x) => x.lang),
    FILEINODES: f.map((x) => String(x.inode)),
    FILERDEVS: f.map((x) => String(x.rdev)),
  };
}

function depStrings(list: RpmDependency[]): string[] {
  return list.map((d) => `${d.name} ${d.flags} ${d.version}`);
}

/** A copy of fixture `name`, changed by `edit`, in a temp dir. */
function damaged(name: string, edit: (bytes: Buffer) => Buffer): string {
  const out = join(tmpDir('damaged'), name);
  writeFileSync(out, edit(readFileSync(join(fixturesDir, name))));
  return out;
}

describeWithTools(['rpm'], 'our reader on the rpmbuild fixtures, against rpm -qp', () => {
  describe.each(FIXTURES)('%s', (file) => {
    const path = join(fixturesDir, file);
    let q: QueryResult;
    let info: RpmInfo;
    beforeAll(async () => {
      q = rpmQuery(path, SCALAR_TAGS, [...FILE_TAGS, ...DEPENDENCY_TAGS, ...CHANGELOG_TAGS]);
      info = packageInfo(await readRpm(path));
    });

    it('the same scalar fields and scriptlets', () => {
      expect(q.stderr).toBe('');
      const ours = ourScalars(info);
      expect(ours).toEqual(Object.fromEntries(SCALAR_TAGS.map((t) => [t, q.scalar(t)])));
      // all interpreters, not only the first (world: `%post -p /bin/sh`, `%posttrans -p <lua>`)
      const progs = rpmQuery(path, [], ['PREINPROG', 'POSTINPROG', 'PREUNPROG', 'POSTUNPROG', 'PRETRANSPROG', 'POSTTRANSPROG']);
      for (const [tag, key] of [
        ['PREINPROG', 'pre'],
        ['POSTINPROG', 'post'],
        ['PREUNPROG', 'preun'],
        ['POSTUNPROG', 'postun'],
        ['PRETRANSPROG', 'pretrans'],
        ['POSTTRANSPROG', 'posttrans'],
      ] as const) {
        expect(info.scripts[key]?.interpreter ?? [], tag).toEqual(progs.array(tag));
      }
    });

    it('the same files, attribute by attribute', () => {
      const ours = ourFileArrays(info);
      for (const [tag, values] of Object.entries(ours)) expect(values, tag).toEqual(q.array(tag));
      expect(info.files.length).toBeGreaterThan(0);
    });

    it('the same dependencies of every kind, in the same order', () => {
      for (const kind of DEPENDENCY_KINDS) {
        const names = q.array(`${kind}NAME`);
        const flags = q.array(`${kind}FLAGS`);
        const versions = q.array(`${kind}VERSION`);
        expect(depStrings(info[KIND_KEYS[kind]] as RpmDependency[]), kind).toEqual(names.map((n, i) => `${n} ${flags[i]} ${versions[i]}`));
      }
    });

    it('the same changelog', () => {
      expect(info.changelog.map((c) => String(c.time))).toEqual(q.array('CHANGELOGTIME'));
      expect(info.changelog.map((c) => c.author)).toEqual(q.array('CHANGELOGNAME'));
      expect(info.changelog.map((c) => c.text)).toEqual(q.array('CHANGELOGTEXT'));
    });

    it('verifyDigests: every digest ok', async () => {
      const report = await verifyDigests(await readRpm(path));
      expect(report).toEqual({ headerSha256: 'ok', headerSha1: 'ok', payloadDigest: 'ok', md5: 'ok', size: 'ok', ok: true });
    });

    it('the payload walk: every regular file has the body FILEDIGESTS promises', async () => {
      const pkg = await readRpm(path);
      const manifest = await payloadManifest(pkg);
      const byPath = new Map(manifest.map((m) => [m.path, m]));
      // every file but %ghost ones is in the payload, once
      const carried = info.files.filter((f) => (f.flags & 64) === 0);
      expect(manifest.map((m) => m.path).sort()).toEqual(carried.map((f) => f.path).sort());
      expect(byPath.size).toBe(manifest.length);
      // Hard links (world): one inode, several paths; rpmbuild puts the body on the last link
      // in the archive only, the others are empty members.
      const links = new Map<number, string[]>();
      for (const f of carried) if ((f.mode & S_IFMT) === S_IFREG) links.set(f.inode, [...(links.get(f.inode) ?? []), f.path]);
      const order = new Map(manifest.map((m, i) => [m.path, i]));
      let checked = 0;
      for (const f of carried) {
        if ((f.mode & S_IFMT) !== S_IFREG) continue;
        const set = links.get(f.inode) as string[];
        const last = [...set].sort((a, b) => (order.get(a) as number) - (order.get(b) as number)).at(-1);
        const member = byPath.get(f.path);
        if (f.path === last) {
          expect(member?.size, f.path).toBe(f.size);
          expect(member?.sha256, f.path).toBe(f.digest);
          checked++;
        } else {
          expect(member?.size, `${f.path}: an earlier hard link carries no data`).toBe(0);
        }
      }
      expect(checked).toBeGreaterThan(0);
      if (file.startsWith('world')) expect([...links.values()].some((s) => s.length === 2)).toBe(true);
    });
  });
});

describeWithTools(['rpm'], 'damaged packages: refused by us and by rpm', () => {
  const file = FIXTURES[0] as string;

  it('a flipped byte in the payload: our verifyDigests and rpm -K both fail', async () => {
    const pkg = await readRpm(join(fixturesDir, file));
    const at = pkg.payloadOffset + Math.floor((pkg.fileSize - pkg.payloadOffset) / 2);
    const bad = damaged(file, (b) => {
      b[at] = (b[at] as number) ^ 0x01;
      return b;
    });
    const report = await verifyDigests(await readRpm(bad));
    expect(report).toMatchObject({ headerSha256: 'ok', payloadDigest: 'bad', md5: 'bad', ok: false });
    expect(run('rpm', ['-K', bad])).toMatchObject({ status: 1, stdout: `${bad}: DIGESTS NOT OK\n` });
    const verbose = run('rpm', ['-Kv', bad]).stdout;
    expect(verbose).toMatch(/Header SHA256 digest: OK/);
    expect(verbose).toMatch(/Payload SHA256 digest: BAD/);
    expect(verbose).toMatch(/MD5 digest: BAD/);
  });

  it('a flipped byte in the main header: our verifyDigests and rpm -K both fail', async () => {
    const pkg = await readRpm(join(fixturesDir, file));
    // a byte of the data store's last string (not the index: that would be a format error)
    const at = pkg.payloadOffset - 20;
    const bad = damaged(file, (b) => {
      b[at] = (b[at] as number) ^ 0x01;
      return b;
    });
    const report = await verifyDigests(await readRpm(bad));
    expect(report).toMatchObject({ headerSha256: 'bad', headerSha1: 'bad', ok: false });
    expect(run('rpm', ['-K', bad])).toMatchObject({ status: 1, stdout: `${bad}: DIGESTS NOT OK\n` });
    expect(run('rpm', ['-Kv', bad]).stdout).toMatch(/Header SHA256 digest: BAD/);
  });

  it('a truncated file: a FormatError naming the structure and the offset, from every entry point', async () => {
    const full = readFileSync(join(fixturesDir, file));
    const pkg = await readRpm(join(fixturesDir, file));
    const cuts = [
      ['in the lead', 50],
      ['in the signature header', 96 + 40],
      ['in the main header', pkg.headerOffset + 100],
      ['at the payload', pkg.payloadOffset],
      ['in the payload', pkg.payloadOffset + Math.floor((full.length - pkg.payloadOffset) / 2)],
    ] as const;
    for (const [where, length] of cuts) {
      const bad = damaged(file, (b) => b.subarray(0, length));
      expect(run('rpm', ['-K', bad]).status, `rpm -K, cut ${where}`).not.toBe(0);
      let error: unknown;
      try {
        const p = await readRpm(bad);
        // the headers survive a cut in the payload: the digests and the payload walk must not
        const report = await verifyDigests(p);
        expect(report.ok, where).toBe(false);
        await payloadManifest(p);
      } catch (e) {
        error = e;
      }
      expect(error, where).toBeInstanceOf(FormatError);
      expect((error as FormatError).code).toBe('BAD_PACKAGE');
      expect((error as FormatError).message, where).toMatch(/at byte \d+/);
    }
  });
});
