// kpkg inspect judged by rpm 4.18 and createrepo_c on the packages of
// test/fixtures/rpmbuild/triggers/make-srpm-fixtures.sh (triggers.spec, built by rpmbuild; the "older" source
// RPM is the same SRPM without SOURCEPACKAGE): triggers, file triggers, %verify and
// OrderWithRequires as rpm prints them; source packages recognised as rpm and createrepo_c do.
import { copyFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import { renderFileTriggers, renderText, renderTriggers } from '../../packager/cli/commands/inspect.js';
import { formatDependency } from '../../packager/rpm/dependency.js';
import { packageInfo, readRpm, verifyDigests } from '../../packager/rpm/reader.js';
import { packageRecord } from '../../packager/repo/record.js';
import { describeWithTools, runOk, tmpDir } from './tools.js';

// in their own directory: the tests that publish every rpmbuild fixture would see one NEVRA twice
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'rpmbuild', 'triggers');
const ALL = ['triggers-2.0-1.noarch.rpm', 'triggers-2.0-1.src.rpm', 'oldsrc-triggers-2.0-1.src.rpm', '../hello-1.2.3-1.noarch.rpm', '../world-0.4.0-3.noarch.rpm'];
const rpmq = (file: string, ...args: string[]) => runOk('rpm', ['-qp', '--nosignature', '--nodigest', ...args, join(fixtures, file)]).stdout;

describeWithTools(['rpm'], 'kpkg inspect against rpm -qp', () => {
  it.each(ALL)('%s: triggers and file triggers print as rpm --triggers and --filetriggers', async (file) => {
    const info = packageInfo(await readRpm(join(fixtures, file)));
    expect(renderTriggers(info)).toBe(rpmq(file, '--triggers'));
    expect(renderFileTriggers(info)).toBe(rpmq(file, '--filetriggers'));
  });

  it.each(ALL)('%s: the %%verify script and OrderWithRequires are those rpm reads', async (file) => {
    const info = packageInfo(await readRpm(join(fixtures, file)));
    const verify = rpmq(file, '--qf', '%|VERIFYSCRIPT?{%{VERIFYSCRIPT}}:{(none)}|\n[%{VERIFYSCRIPTPROG} ]');
    expect(verify).toBe(`${info.scripts.verify?.body ?? '(none)'}\n${info.scripts.verify?.interpreter.map((p) => `${p} `).join('') ?? ''}`);
    const order = rpmq(file, '--qf', '[%{ORDERNAME} %{ORDERFLAGS:depflags} %{ORDERVERSION}\n]');
    const ours = info.orderWithRequires.map((d) => `${d.name} ${formatDependency({ ...d, name: '' }).trim()}`.trim());
    expect(order.split('\n').filter(Boolean).map((l) => l.replace(/\s+/g, ' ').trim())).toEqual(ours);
  });

  it.each(ALL)('%s: a source package for kpkg exactly when rpm retrofits or reads SOURCEPACKAGE', async (file) => {
    const info = packageInfo(await readRpm(join(fixtures, file)));
    // rpm applies its heuristic while reading: %{SOURCEPACKAGE} is 1 for the older SRPM too
    expect(info.source).toBe(rpmq(file, '--qf', '%{SOURCEPACKAGE}') === '1');
    expect(info.source).toBe(file.endsWith('.src.rpm'));
  });

  it('the older source RPM is a valid package rpm -K accepts, and inspect says so', async () => {
    const path = join(fixtures, 'oldsrc-triggers-2.0-1.src.rpm');
    expect(runOk('rpm', ['-K', '--nosignature', path]).stdout).toMatch(/digests OK/);
    const pkg = await readRpm(path);
    const info = packageInfo(pkg);
    const text = renderText({ file: path, ...info, digests: await verifyDigests(pkg), signatures: [] });
    expect(text).toMatch(/^Package {5}: source$/m);
    expect(text).toMatch(/^Digests {5}: OK$/m);
  });
});

describeWithTools(['createrepo_c'], 'source packages in a repository, as createrepo_c lists them', () => {
  it('createrepo_c lists both source RPMs with arch src, as kpkg records them', async () => {
    const dir = tmpDir('srpm-repo');
    for (const f of ['triggers-2.0-1.src.rpm', 'oldsrc-triggers-2.0-1.src.rpm', 'triggers-2.0-1.noarch.rpm']) copyFileSync(join(fixtures, f), join(dir, f));
    runOk('createrepo_c', ['--no-database', '--simple-md-filenames', dir]);
    const primary = gunzipSync(readFileSync(join(dir, 'repodata', 'primary.xml.gz'))).toString('utf8');
    const theirs = [...primary.matchAll(/<arch>([^<]*)<\/arch>[\s\S]*?<location href="([^"]+)"/g)].map((m) => [m[2], m[1]]).sort();
    const ours = await Promise.all(
      ['oldsrc-triggers-2.0-1.src.rpm', 'triggers-2.0-1.noarch.rpm', 'triggers-2.0-1.src.rpm'].map(async (f) => {
        const rec = packageRecord(await readRpm(join(dir, f)), { href: f, sha256: '', size: 0, mtime: 0 });
        return [f, rec.arch];
      }),
    );
    expect(theirs).toEqual(ours);
    expect(theirs.filter(([, arch]) => arch === 'src')).toHaveLength(2);
  });
});
