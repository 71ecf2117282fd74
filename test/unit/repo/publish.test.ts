import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { exitCodeFor, KpkgError } from '../../../packager/errors.js';
import { CHUNKERS, METADATA_TYPES, metadataFooter, metadataHeader, renderRepomd } from '../../../packager/repo/metadata.js';
import { checkRepository } from '../../../packager/repo/check.js';
import { indexRepository } from '../../../packager/repo/reindex.js';
import { packagesToPrune, pruneRepository } from '../../../packager/repo/prune.js';
import { publish } from '../../../packager/repo/publish.js';
import { readCandidate } from '../../../packager/repo/read.js';
import { loadState } from '../../../packager/repo/state.js';
import { writeRpm } from '../../../packager/rpm/writer.js';
import { type PackageSpec } from '../../../packager/rpm/spec.js';
import { kpkg } from '../../helpers/cli.js';
import { scratch, sha256File as sha256 } from '../../helpers/files.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'rpmbuild');
const FIXTURES = readdirSync(fixtures).filter((f) => f.endsWith('.rpm')).map((f) => join(fixtures, f));
const { work, fresh } = scratch('publish');
const quiet = { graceMs: 60_000 };

/** A small package of ours; `body` changes its bytes without changing its NEVRA. */
async function pkg(dir: string, name: string, version: string, release = '1', body = 'hello\n', epoch?: number): Promise<string> {
  const spec: PackageSpec = {
    name,
    version,
    release,
    ...(epoch !== undefined ? { epoch } : {}),
    arch: 'noarch',
    summary: `${name} for the publish tests`,
    description: 'A package of the publish tests.',
    license: 'Apache-2.0',
    files: [
      { path: `/opt/${name}`, kind: 'dir' },
      { path: `/opt/${name}/README`, kind: 'file', content: body },
    ],
  };
  const path = join(dir, `${name}-${version}-${release}.noarch.rpm`);
  await writeRpm(spec, path, { sourceDateEpoch: 1_700_000_000 });
  return path;
}

async function openPrimary(repo: string): Promise<string> {
  const repomd = readFileSync(join(repo, 'repodata', 'repomd.xml'), 'utf8');
  const href = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(repomd)![1]!;
  return gunzipSync(readFileSync(join(repo, href))).toString('utf8');
}

describe('kpkg publish', () => {
  it('publishes rpmbuild packages under Packages/<letter>/ with metadata a reader can check', async () => {
    const repo = fresh('repo');
    const r = await publish(FIXTURES, repo, quiet);
    expect(r.added).toEqual(['Packages/h/hello-1.2.3-1.noarch.rpm', 'Packages/u/unicode-names-0.9.0~rc.1-1.noarch.rpm', 'Packages/w/world-0.4.0-3.noarch.rpm']);
    for (const f of FIXTURES) expect(r.added.some((h) => sha256(join(repo, h)) === sha256(f))).toBe(true);
    const check = await checkRepository(repo);
    expect(check).toEqual({ ok: true, packages: 3, problems: [] });
    expect(await openPrimary(repo)).toContain('<location href="Packages/h/hello-1.2.3-1.noarch.rpm"/>');
  });

  it('the same package twice in a batch, or published already: one copy, nothing left in .kpkg/', async () => {
    const repo = fresh('repo');
    const a = await pkg(fresh('in'), 'twice', '1.0');
    const again = join(fresh('in'), 'copy.rpm');
    writeFileSync(again, readFileSync(a));
    expect((await publish([a, again], repo, quiet)).added).toEqual(['Packages/t/twice-1.0-1.noarch.rpm']);
    expect((await publish([again, await pkg(fresh('in'), 'other', '1.0')], repo, quiet)).unchanged).toEqual(['Packages/t/twice-1.0-1.noarch.rpm']);
    expect(readdirSync(join(repo, '.kpkg')).sort()).toEqual(['segments', 'state.json']);
    expect((await checkRepository(repo)).ok).toBe(true);
  });

  it('the same bytes again change nothing, not even repomd.xml', async () => {
    const repo = fresh('repo');
    await publish(FIXTURES, repo, quiet);
    const before = readFileSync(join(repo, 'repodata', 'repomd.xml'));
    const listing = readdirSync(join(repo, 'repodata')).sort();
    const r = await publish([FIXTURES[0]!], repo, quiet);
    expect(r.added).toEqual([]);
    expect(r.unchanged).toHaveLength(1);
    expect(r.metadataWritten).toBe(false);
    expect(readFileSync(join(repo, 'repodata', 'repomd.xml'))).toEqual(before);
    expect(readdirSync(join(repo, 'repodata')).sort()).toEqual(listing);
  });

  it('refuses other bytes under a published NEVRA (exit 2) and keeps the original', async () => {
    const dir = fresh('in');
    const repo = fresh('repo');
    const a = await pkg(dir, 'shop', '1.0', '1', 'first\n');
    await publish([a], repo, quiet);
    const published = join(repo, 'Packages', 's', 'shop-1.0-1.noarch.rpm');
    const original = sha256(published);
    const repomd = readFileSync(join(repo, 'repodata', 'repomd.xml'));
    const other = await pkg(fresh('in'), 'shop', '1.0', '1', 'second\n');
    expect(sha256(other)).not.toBe(original);
    const err = await publish([other], repo, quiet).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KpkgError);
    expect((err as KpkgError).code).toBe('PACKAGE_CONFLICT');
    expect(exitCodeFor(err)).toBe(2);
    expect((err as Error).message).toContain('shop-1.0-1.noarch');
    expect(sha256(published)).toBe(original);
    expect(readFileSync(join(repo, 'repodata', 'repomd.xml'))).toEqual(repomd);
    // through the CLI: exit 2, one line naming the file
    const cli = await kpkg('publish', '-q', other, '--repo', repo);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain(other);
    expect(sha256(published)).toBe(original);
  });

  it('refuses a batch that holds one conflict without publishing any of it', async () => {
    const repo = fresh('repo');
    await publish([await pkg(fresh('in'), 'shop', '1.0', '1', 'first\n')], repo, quiet);
    const dir = fresh('in');
    const ok = await pkg(dir, 'cart', '1.0');
    const bad = await pkg(dir, 'shop', '1.0', '1', 'second\n');
    await expect(publish([ok, bad], repo, quiet)).rejects.toMatchObject({ code: 'PACKAGE_CONFLICT' });
    expect(existsSync(join(repo, 'Packages', 'c', 'cart-1.0-1.noarch.rpm'))).toBe(false);
    // the copies made while reading are gone too
    expect(readdirSync(join(repo, '.kpkg')).sort()).toEqual(['segments', 'state.json']);
    expect((await loadState(repo))!.packages.map((p) => p.name)).toEqual(['shop']);
  });

  it('an unreadable package is exit 2 naming it, and nothing is written', async () => {
    const repo = fresh('repo');
    const junk = join(fresh('in'), 'junk-1.0-1.noarch.rpm');
    writeFileSync(junk, 'not an rpm at all, far too short to be one');
    const cli = await kpkg('publish', '-q', junk, '--repo', repo);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain(junk);
    const truncated = join(fresh('in'), 'hello.rpm');
    writeFileSync(truncated, readFileSync(FIXTURES[0]!).subarray(0, 3000));
    await expect(publish([truncated], repo, quiet)).rejects.toMatchObject({ code: 'BAD_PACKAGE' });
    const missing = await kpkg('publish', '-q', join(work, 'nowhere.rpm'), '--repo', repo);
    expect(missing.code).toBe(2);
    expect(existsSync(join(repo, 'repodata', 'repomd.xml'))).toBe(false);
  });

  it('adds packages one at a time by appending compressed members: the open XML is header + every chunk + footer', async () => {
    const dir = fresh('in');
    const repo = fresh('repo');
    const paths: string[] = [];
    for (let i = 0; i < 9; i++) {
      paths.push(await pkg(dir, `p${i}`, `1.${i}`));
      await publish([paths[i]!], repo, quiet);
      expect((await checkRepository(repo)).ok).toBe(true);
    }
    const state = (await loadState(repo))!;
    expect(state.packages).toHaveLength(9);
    // binary counter: 9 = 8 + 1
    expect(state.segments.map((s) => s.count)).toEqual([8, 1]);
    // the same records in the same order through metadata.ts's writer give the same open checksums
    const records = await Promise.all(paths.map((_p, i) => readCandidate(join(repo, 'Packages', 'p', `p${i}-1.${i}-1.noarch.rpm`), `Packages/p/p${i}-1.${i}-1.noarch.rpm`).then((c) => c.record)));
    for (const type of METADATA_TYPES) {
      const open = metadataHeader(type, records.length) + records.map(CHUNKERS[type]).join('') + metadataFooter(type);
      expect(state.metadata.find((x) => x.type === type)!.openChecksum).toBe(createHash('sha256').update(open, 'utf8').digest('hex'));
    }
    expect(readFileSync(join(repo, 'repodata', 'repomd.xml'), 'utf8')).toBe(renderRepomd(state.metadata, state.revision));
  });

  it('keeps the file time of a package whose mtime is a hair before a whole second (N.9996 s)', async () => {
    // Stats' Date fields round to the millisecond: a copy given them moved to the next second, so
    // the published record and a later `kpkg repo index` disagreed on the file time
    const dir = fresh('in');
    const repo = fresh('repo');
    const p = await pkg(dir, 'late', '1');
    utimesSync(p, 1_700_000_000.9996, 1_700_000_000.9996);
    await publish([p], repo, quiet);
    const copy = join(repo, 'Packages', 'l', 'late-1-1.noarch.rpm');
    expect(Math.floor(statSync(copy).mtimeMs / 1000)).toBe(1_700_000_000);
    const primary = async () => gunzipSync(readFileSync(join(repo, (await loadState(repo))!.metadata.find((m) => m.type === 'primary')!.href))).toString('utf8');
    const published = await primary();
    expect(published).toContain('<time file="1700000000"');
    await indexRepository(repo, quiet);
    expect(await primary()).toBe(published);
  });

  it('keeps unlisted metadata files for the grace period, then removes them', async () => {
    const dir = fresh('in');
    const repo = fresh('repo');
    await publish([await pkg(dir, 'a', '1')], repo, { graceMs: 60_000 });
    const first = readdirSync(join(repo, 'repodata')).filter((f) => f !== 'repomd.xml');
    await publish([await pkg(dir, 'b', '1')], repo, { graceMs: 60_000 });
    const second = readdirSync(join(repo, 'repodata'));
    for (const f of first) expect(second).toContain(f); // still there for readers of the old repomd.xml
    expect((await loadState(repo))!.pending.map((p) => p.path).sort()).toEqual(first.map((f) => `repodata/${f}`).sort());
    await publish([await pkg(dir, 'c', '1')], repo, { graceMs: 0 });
    const third = readdirSync(join(repo, 'repodata'));
    for (const f of first) expect(third).not.toContain(f);
    expect(third).toHaveLength(4);
    expect((await checkRepository(repo)).ok).toBe(true);
  });

  it('cleans up after a publisher killed half-way: temporary files go, stray metadata waits for the grace period', async () => {
    const dir = fresh('in');
    const repo = fresh('repo');
    await publish([await pkg(dir, 'a', '1')], repo, quiet);
    writeFileSync(join(repo, 'repodata', '.primary.999.abc.tmp'), 'half');
    writeFileSync(join(repo, 'repodata', '0000-primary.xml.gz'), 'written, never listed');
    writeFileSync(join(repo, '.kpkg', 'segments', '.x.json.999.abc.tmp'), 'half');
    // a package is copied to a temporary file in .kpkg/, then renamed into Packages/
    writeFileSync(join(repo, '.kpkg', '.a-2-1.noarch.rpm.999.abc.tmp'), 'half a package');
    // publish writes the packages it reads into .kpkg/incoming/ first
    mkdirSync(join(repo, '.kpkg', 'incoming'));
    writeFileSync(join(repo, '.kpkg', 'incoming', '.a-3-1.noarch.rpm.999.abc.1.tmp'), 'half another');
    await publish([await pkg(dir, 'b', '1')], repo, quiet);
    expect(existsSync(join(repo, '.kpkg', 'incoming'))).toBe(false);
    expect(readdirSync(join(repo, 'Packages', 'a'))).toEqual(['a-1-1.noarch.rpm']);
    expect(existsSync(join(repo, '.kpkg', '.a-2-1.noarch.rpm.999.abc.tmp'))).toBe(false);
    expect(existsSync(join(repo, 'repodata', '.primary.999.abc.tmp'))).toBe(false);
    expect(existsSync(join(repo, '.kpkg', 'segments', '.x.json.999.abc.tmp'))).toBe(false);
    expect((await loadState(repo))!.pending.map((p) => p.path)).toContain('repodata/0000-primary.xml.gz');
    expect((await checkRepository(repo)).ok).toBe(true);
  });

  it('completes the repomd.xml of a publisher killed between its state and its repomd.xml', async () => {
    const dir = fresh('in');
    const repo = fresh('repo');
    await publish([await pkg(dir, 'a', '1')], repo, quiet);
    const old = readFileSync(join(repo, 'repodata', 'repomd.xml'));
    await publish([await pkg(dir, 'b', '1')], repo, quiet);
    writeFileSync(join(repo, 'repodata', 'repomd.xml'), old); // as if the last rename never happened
    const r = await publish([join(dir, 'b-1-1.noarch.rpm')], repo, quiet);
    expect(r.added).toEqual([]);
    expect(r.metadataWritten).toBe(true);
    expect((await checkRepository(repo)).packages).toBe(2);
  });

  it('zstd on request, and back to gzip', async () => {
    const repo = fresh('repo');
    await publish(FIXTURES.slice(0, 2), repo, { ...quiet, compress: 'zstd' });
    expect(readFileSync(join(repo, 'repodata', 'repomd.xml'), 'utf8')).toMatch(/-primary\.xml\.zst"/);
    await publish(FIXTURES.slice(2), repo, quiet); // keeps zstd
    expect(readFileSync(join(repo, 'repodata', 'repomd.xml'), 'utf8')).toMatch(/-filelists\.xml\.zst"/);
    expect(await checkRepository(repo)).toMatchObject({ ok: true, packages: 3 });
    await publish(FIXTURES.slice(2), repo, { ...quiet, compress: 'gzip' });
    expect(readFileSync(join(repo, 'repodata', 'repomd.xml'), 'utf8')).toMatch(/-other\.xml\.gz"/);
    expect(await checkRepository(repo)).toMatchObject({ ok: true, packages: 3 });
  });
});

describe('kpkg repo index', () => {
  it('adopts a directory of packages, then refuses a file changed behind its back', async () => {
    const repo = fresh('repo');
    mkdirSync(join(repo, 'sub'));
    for (const f of FIXTURES) writeFileSync(join(repo, 'sub', f.slice(fixtures.length + 1)), readFileSync(f));
    const r = await indexRepository(repo, quiet);
    expect(r.packages).toBe(3);
    expect(await openPrimary(repo)).toContain('<location href="sub/hello-1.2.3-1.noarch.rpm"/>');
    expect((await checkRepository(repo)).ok).toBe(true);
    writeFileSync(join(repo, 'sub', 'hello-1.2.3-1.noarch.rpm'), readFileSync(join(fixtures, 'world-0.4.0-3.noarch.rpm')));
    await expect(indexRepository(repo, quiet)).rejects.toMatchObject({ code: 'PACKAGE_CONFLICT' });
  });

  it('publish into a createrepo-style directory indexes what is there first', async () => {
    const repo = fresh('repo');
    writeFileSync(join(repo, 'hello-1.2.3-1.noarch.rpm'), readFileSync(FIXTURES[0]!));
    const r = await publish(FIXTURES.slice(1), repo, quiet);
    expect(r.packages).toBe(3);
    expect((await checkRepository(repo)).packages).toBe(3);
  });
});

describe('kpkg repo prune', () => {
  it('orders versions as rpm does: epoch first, then rpmvercmp, ~ before release', () => {
    const p = (version: string, epoch = '0', release = '1', arch = 'noarch') => ({ name: 'x', arch, epoch, version, release });
    const all = [p('1.9'), p('1.10'), p('1.10~rc1'), p('0.1', '1'), p('1.10', '0', '2'), p('3.0', '0', '1', 'x86_64')];
    const gone = packagesToPrune(all, 2).map((x) => `${x.epoch}:${x.version}-${x.release}`);
    // kept: 1:0.1-1 and 1.10-2 (and the only x86_64)
    expect(gone.sort()).toEqual(['0:1.10-1', '0:1.10~rc1-1', '0:1.9-1']);
  });

  it('keeps the N newest of each name; pruned files stay for the grace period', async () => {
    const dir = fresh('in');
    const repo = fresh('repo');
    const versions = ['1.2', '1.10', '1.9', '2.0~beta'];
    for (const v of versions) await publish([await pkg(dir, 'shop', v)], repo, quiet);
    await publish([await pkg(dir, 'cart', '1.0')], repo, quiet);
    const r = await pruneRepository(repo, 2, { graceMs: 60_000 });
    expect(r.removed.sort()).toEqual(['Packages/s/shop-1.2-1.noarch.rpm', 'Packages/s/shop-1.9-1.noarch.rpm']);
    const primary = await openPrimary(repo);
    expect(primary).toContain('shop-2.0~beta-1');
    expect(primary).toContain('shop-1.10-1');
    expect(primary).not.toContain('shop-1.9-1');
    expect(primary).toContain('packages="3"');
    expect(existsSync(join(repo, 'Packages', 's', 'shop-1.9-1.noarch.rpm'))).toBe(true);
    expect((await checkRepository(repo)).ok).toBe(true);
    await pruneRepository(repo, 2, { graceMs: 0 });
    expect(existsSync(join(repo, 'Packages', 's', 'shop-1.9-1.noarch.rpm'))).toBe(false);
    expect((await checkRepository(repo)).packages).toBe(3);
    // the index ignores nothing that is listed, and does not bring back what was pruned
    expect((await indexRepository(repo, quiet)).packages).toBe(3);
  });
});
