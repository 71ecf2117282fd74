// Source packages decided as rpm decides (lib/package.c applyRetrofits), triggers, file triggers,
// the %verify script, OrderWithRequires and IMA file signatures, read from packages rpmbuild made
// (test/fixtures/rpmbuild/triggers/make-srpm-fixtures.sh, triggers.spec).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { renderFileTriggers, renderText, renderTriggers } from '../../../packager/cli/commands/inspect.js';
import { Header } from '../../../packager/rpm/header.js';
import { isSourcePackage, packageInfo, readRpm } from '../../../packager/rpm/reader.js';
import { Tag, TagType } from '../../../packager/rpm/tags.js';
import { packageRecord } from '../../../packager/repo/record.js';
import { packageHref } from '../../../packager/repo/read.js';
import { publish } from '../../../packager/repo/publish.js';
import { kpkg } from '../../helpers/cli.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'rpmbuild', 'triggers');
const rpmbuildFixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'rpmbuild');
const at = (name: string) => join(fixtures, name);

async function record(name: string) {
  const pkg = await readRpm(at(name));
  return packageRecord(pkg, { href: '', sha256: '0'.repeat(64), size: readFileSync(at(name)).length, mtime: 0 });
}

describe('source packages', () => {
  it('lists a source RPM with and without SOURCEPACKAGE as src, under its .src.rpm name, and the binary as noarch', async () => {
    const old = await readRpm(at('oldsrc-triggers-2.0-1.src.rpm'));
    // the fixture really is an "older" SRPM: no SOURCEPACKAGE, no SOURCERPM, its ARCH says noarch
    expect(old.header.has(Tag.SOURCEPACKAGE)).toBe(false);
    expect(old.header.has(Tag.SOURCERPM)).toBe(false);
    expect(old.header.string(Tag.ARCH)).toBe('noarch');
    expect(old.header.strings(Tag.DIRNAMES)).toEqual(['']);
    for (const name of ['oldsrc-triggers-2.0-1.src.rpm', 'triggers-2.0-1.src.rpm']) {
      const rec = await record(name);
      expect(rec.arch).toBe('src');
      expect(packageHref(rec)).toBe('Packages/t/triggers-2.0-1.src.rpm');
      expect(packageInfo(await readRpm(at(name))).source).toBe(true);
    }
    const bin = await record('triggers-2.0-1.noarch.rpm');
    expect(bin.arch).toBe('noarch');
    expect(packageHref(bin)).toBe('Packages/t/triggers-2.0-1.noarch.rpm');
    expect(packageInfo(await readRpm(at('triggers-2.0-1.noarch.rpm'))).source).toBe(false);
  });

  it('follows rpm heuristic exactly: SOURCERPM wins, one empty DIRNAMES entry only, old file lists compressed first', () => {
    const h = (entries: [number, TagType, string | string[] | number[]][]) => {
      const out = new Header();
      for (const [tag, type, value] of entries) out.set(tag, type, value);
      return out;
    };
    expect(isSourcePackage(h([[Tag.DIRNAMES, TagType.STRING_ARRAY, ['']]]))).toBe(true);
    expect(isSourcePackage(h([[Tag.DIRNAMES, TagType.STRING_ARRAY, ['/usr/bin/']]]))).toBe(false);
    expect(isSourcePackage(h([[Tag.DIRNAMES, TagType.STRING_ARRAY, ['', '/etc/']]]))).toBe(false);
    expect(isSourcePackage(h([]))).toBe(false); // no files at all: rpm retrofits SOURCERPM "(none)", a binary
    expect(isSourcePackage(h([[Tag.SOURCERPM, TagType.STRING, 'x-1-1.src.rpm'], [Tag.DIRNAMES, TagType.STRING_ARRAY, ['']]]))).toBe(false);
    expect(isSourcePackage(h([[Tag.SOURCEPACKAGE, TagType.INT32, [1]], [Tag.DIRNAMES, TagType.STRING_ARRAY, ['/x/']]]))).toBe(true);
    expect(isSourcePackage(h([[Tag.OLDFILENAMES, TagType.STRING_ARRAY, ['foo.spec', 'foo.tar.gz']]]))).toBe(true);
    expect(isSourcePackage(h([[Tag.OLDFILENAMES, TagType.STRING_ARRAY, ['/usr/bin/foo']]]))).toBe(false);
  });

  it('kpkg publish stores an old source RPM as Packages/t/<nevr>.src.rpm and lists it with arch src', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'kpkg-srpm-repo-'));
    try {
      const r = await publish([at('oldsrc-triggers-2.0-1.src.rpm'), at('triggers-2.0-1.noarch.rpm')], repo, { graceMs: 60_000 });
      expect([...r.added].sort()).toEqual(['Packages/t/triggers-2.0-1.noarch.rpm', 'Packages/t/triggers-2.0-1.src.rpm']);
      const repomd = readFileSync(join(repo, 'repodata', 'repomd.xml'), 'utf8');
      const href = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(repomd)?.[1] ?? '';
      const primary = gunzipSync(readFileSync(join(repo, href))).toString('utf8');
      expect(primary).toMatch(/<arch>src<\/arch>[\s\S]*?<location href="Packages\/t\/triggers-2\.0-1\.src\.rpm"\/>/);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it('kpkg inspect says an old source RPM is a source package', async () => {
    const r = await kpkg('inspect', at('oldsrc-triggers-2.0-1.src.rpm'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Package {5}: source$/m);
    const b = await kpkg('inspect', at('triggers-2.0-1.noarch.rpm'));
    expect(b.stdout).not.toMatch(/^Package {5}:/m);
  });
});

describe('triggers, file triggers, %verify and OrderWithRequires', () => {
  const path = at('triggers-2.0-1.noarch.rpm');

  it('reads each trigger with its type, interpreter, conditions and body', async () => {
    const info = packageInfo(await readRpm(path));
    expect(info.triggers).toEqual([
      { type: 'in', interpreter: ['/bin/sh'], body: 'echo "hello or world installed"', conditions: [expect.objectContaining({ name: 'hello', version: '1.2' }), expect.objectContaining({ name: 'world', version: '' })] },
      { type: 'un', interpreter: ['/bin/sh'], body: 'echo "hello removed"', conditions: [expect.objectContaining({ name: 'hello' })] },
      { type: 'postun', interpreter: ['/bin/bash'], body: 'echo "old world gone"', conditions: [expect.objectContaining({ name: 'world', version: '1.0' })] },
    ]);
    expect(info.fileTriggers.map((t) => [t.type, t.priority, t.conditions.map((c) => c.name)])).toEqual([
      ['in', 1000000, ['/usr/lib/kelkoo']],
      ['un', 500, ['/etc/kelkoo', '/usr/share/kelkoo']],
    ]);
    expect(info.transFileTriggers.map((t) => [t.type, t.conditions.map((c) => c.name), t.body])).toEqual([
      ['in', ['/usr/lib64/nagios'], 'echo "plugins changed"'],
      ['postun', ['/opt/kelkoo'], 'echo "opt cleaned"'],
    ]);
    expect(info.scripts.verify).toEqual({ body: 'test -f /usr/share/triggers/data.txt', interpreter: ['/bin/sh'] });
    expect(info.orderWithRequires.map((d) => [d.name, d.version])).toEqual([
      ['hello', '1.0'],
      ['world', ''],
    ]);
  });

  it('prints them as rpm -q --triggers and --filetriggers do', async () => {
    const info = packageInfo(await readRpm(path));
    // what rpm 4.18 printed for this fixture (the system test compares with a live rpm)
    expect(renderTriggers(info)).toBe(
      'triggerin scriptlet (using /bin/sh) -- hello >= 1.2, world\necho "hello or world installed"\n' +
        'triggerun scriptlet (using /bin/sh) -- hello\necho "hello removed"\n' +
        'triggerpostun scriptlet (using /bin/bash) -- world < 1.0\necho "old world gone"\n',
    );
    expect(renderFileTriggers(info)).toContain('filetriggerun scriptlet (using /bin/sh) -- /etc/kelkoo, /usr/share/kelkoo\ncat > /dev/null\n');
    const r = await kpkg('inspect', path);
    expect(r.stdout).toContain('verify scriptlet (using /bin/sh):\n  test -f /usr/share/triggers/data.txt\n');
    expect(r.stdout).toMatch(/^OrderWithRequires:\n {2}hello >= 1\.0\n {2}world\n/m);
    const json = JSON.parse((await kpkg('inspect', '--json', path)).stdout) as { triggers: unknown[]; fileTriggers: unknown[]; transFileTriggers: unknown[]; orderWithRequires: unknown[] };
    expect([json.triggers.length, json.fileTriggers.length, json.transFileTriggers.length, json.orderWithRequires.length]).toEqual([3, 2, 2, 2]);
  });

  it('refuses a header whose trigger arrays disagree (a corrupted package), naming them', async () => {
    const pkg = await readRpm(path);
    pkg.header.set(Tag.TRIGGERINDEX, TagType.INT32, [0, 0, 1, 7]);
    expect(() => packageInfo(pkg)).toThrow(/triggers: condition 3 points at script 7, there are 3/);
    pkg.header.set(Tag.TRIGGERINDEX, TagType.INT32, [0]);
    expect(() => packageInfo(pkg)).toThrow(/triggers: 4 names but 4 versions, 4 flags and 1 indexes/);
  });
});

describe('IMA file signatures (FILESIGNATURES, 5090)', () => {
  it('shows each file its signature in the model, the JSON and the file listing; none for a file without', async () => {
    const pkg = await readRpm(join(rpmbuildFixtures, 'hello-1.2.3-1.noarch.rpm'));
    const n = pkg.header.strings(Tag.BASENAMES).length;
    // what rpmsign --signfiles stores: hex of an IMA signature v2 (type 3), '' for files it skips
    const sig = `030204${'a1b2c3d4'}0100${'ab'.repeat(256)}`;
    const sigs = Array.from({ length: n }, (_, i) => (i === 0 ? sig : ''));
    pkg.header.set(Tag.FILESIGNATURES, TagType.STRING_ARRAY, sigs);
    pkg.header.set(Tag.FILESIGNATURELENGTH, TagType.INT32, [sig.length / 2]);
    const info = packageInfo(pkg);
    expect(info.files[0]?.imaSignature).toBe(sig);
    expect(info.files.slice(1).every((f) => f.imaSignature === undefined)).toBe(true);
    const text = renderText({ file: 'x', ...info, digests: { headerSha256: 'ok', headerSha1: 'ok', payloadDigest: 'ok', md5: 'ok', size: 'ok', ok: true }, signatures: [] });
    expect(text).toContain(`${info.files[0]?.path}\n    IMA signature: ${sig}\n`);
    expect(JSON.parse(JSON.stringify(info)).files[0].imaSignature).toBe(sig);
    pkg.header.set(Tag.FILESIGNATURES, TagType.STRING_ARRAY, [sig]);
    expect(() => packageInfo(pkg)).toThrow(`FILESIGNATURES has 1 entries for ${n} files`);
  });
});
