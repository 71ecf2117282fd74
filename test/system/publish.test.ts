// `kpkg publish` (the compiled CLI) read by the real dnf 4:
//   - our packages and rpmbuild's (test/fixtures/rpmbuild) published in several runs, so the
//     metadata is made of concatenated gzip members: `dnf repoquery` lists them and `dnf install`
//     installs into an empty --installroot, over file:// and over http:// from a static server on
//     127.0.0.1 (a child process: dnf runs synchronously here);
//   - a changed package under a published NEVRA is refused (exit 2), the original kept;
//   - four publishers at once all succeed and lose nothing;
//   - publishers killed with SIGKILL at random moments of a large publish, half of them while they
//     hold the lock (copying, writing metadata, state, repomd.xml): after each kill the
//     repository is consistent (repomd.xml checksums and sizes match its files, every package that
//     primary lists is present with its checksum) and dnf reads it; the next publisher recovers
//     the dead one's lock.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RPMSENSE_EQUAL, RPMSENSE_GREATER } from '../../packager/rpm/dependency.js';
import { KPKG, kpkg, REPO_ROOT } from './helpers/components.js';
import { BASE_PACKAGE, canRunDnf, InstallRoot, writeBasePackage, writeStubPackage, YumRepo } from './helpers/dnf.js';
import { describeWithTools, runOk, tmpDir } from './tools.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'rpmbuild');
const FIXTURE_RPMS = readdirSync(FIXTURES).filter((f) => f.endsWith('.rpm')).map((f) => join(FIXTURES, f));

/** A repository served from a URL other than file://. */
class UrlRepo extends YumRepo {
  constructor(dir: string, private readonly base: string) {
    super(dir);
  }
  override get url(): string {
    return this.base;
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * What a reader needs, checked independently of kpkg: every file repomd.xml lists is there with
 * its checksum and size; every package primary lists is there with its checksum. Returns the
 * package locations.
 */
function consistency(repo: string): string[] {
  const repomd = readFileSync(join(repo, 'repodata', 'repomd.xml'), 'utf8');
  let primary = '';
  for (const m of repomd.matchAll(/<data type="(\w+)">([\s\S]*?)<\/data>/g)) {
    const href = /<location href="([^"]+)"/.exec(m[2]!)![1]!;
    const data = readFileSync(join(repo, href));
    expect(sha256(data), href).toBe(/<checksum type="sha256">(\w+)</.exec(m[2]!)![1]);
    expect(data.length, href).toBe(Number(/<size>(\d+)</.exec(m[2]!)![1]));
    const open = gunzipSync(data);
    expect(sha256(open), `${href} open`).toBe(/<open-checksum type="sha256">(\w+)</.exec(m[2]!)![1]);
    if (m[1] === 'primary') primary = open.toString('utf8');
  }
  const hrefs: string[] = [];
  for (const m of primary.matchAll(/<package type="rpm">([\s\S]*?)<\/package>/g)) {
    const href = /<location href="([^"]+)"/.exec(m[1]!)![1]!;
    expect(existsSync(join(repo, href)), `${href} listed, missing`).toBe(true);
    expect(sha256(readFileSync(join(repo, href))), href).toBe(/<checksum type="sha256" pkgid="YES">(\w+)</.exec(m[1]!)![1]);
    hrefs.push(href);
  }
  expect(Number(/packages="(\d+)"/.exec(primary)![1])).toBe(hrefs.length);
  return hrefs;
}

function publishOk(repo: string, rpms: readonly string[], extra: readonly string[] = []): void {
  runOk(process.execPath, [KPKG, 'publish', '-q', '--repo', repo, ...extra, ...rpms]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid recorded in the repository's lock file, if any. */
function lockHolder(repo: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(repo, '.kpkg', 'lock'), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

function startPublisher(repo: string, rpms: readonly string[]): ChildProcess {
  return spawn(process.execPath, [KPKG, 'publish', '-q', '--grace', '0', '--repo', repo, ...rpms], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

/** A static file server on 127.0.0.1 in a child process (this process blocks while dnf runs). */
async function serve(dir: string): Promise<{ url: string; stop: () => void }> {
  const code = `
    const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
    const root = ${JSON.stringify(dir)};
    const server = http.createServer((req, res) => {
      const file = path.join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname));
      if (!file.startsWith(root)) { res.writeHead(403); res.end(); return; }
      fs.stat(file, (err, st) => {
        if (err || !st.isFile()) { res.writeHead(404); res.end(); return; }
        res.writeHead(200, { 'content-length': st.size });
        fs.createReadStream(file).pipe(res);
      });
    });
    server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', () => reject(new Error('the HTTP server exited')));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

const describeAsRoot = canRunDnf ? describeWithTools : (_t: readonly string[], name: string, fn: () => void) => describeWithTools(['dnf-as-root'], name, fn);

describeAsRoot(['dnf', 'rpm'], 'kpkg publish, read by dnf', () => {
  const repo = join(tmpDir('publish'), 'repo');
  let ours: string[] = [];
  let server: { url: string; stop: () => void } | undefined;

  beforeAll(async () => {
    if (!existsSync(KPKG)) runOk('npm', ['run', 'build'], { cwd: REPO_ROOT });
    const dir = tmpDir('publish-in');
    // what the rpmbuild fixtures require, and a package of ours requiring them
    ours = [
      await writeBasePackage(dir),
      await writeStubPackage(dir, { name: 'bash', version: '5.2', files: [{ path: '/usr/bin/bash', kind: 'file', content: '#!/bin/sh\n' }] }),
      await writeStubPackage(dir, { name: 'foo', version: '1.5' }),
      await writeStubPackage(dir, { name: 'kpkg-demo', version: '1.0', requires: [{ name: 'world-api', flags: RPMSENSE_EQUAL | RPMSENSE_GREATER, version: '0.4' }] }),
    ];
  });
  afterAll(() => server?.stop());

  it('publishes ours and rpmbuild packages in several runs; dnf lists and installs them over file://', () => {
    publishOk(repo, FIXTURE_RPMS);
    for (const p of ours) publishOk(repo, [p]);
    expect(consistency(repo)).toHaveLength(7);
    const root = new InstallRoot(new YumRepo(repo), 'file');
    const q = root.dnfOk(['repoquery', '-q', '--qf', '%{name}-%{version}-%{release}', '-a']);
    expect(q.stdout.split('\n').filter(Boolean).sort()).toEqual(['bash-5.2-1', 'foo-1.5-1', 'hello-1.2.3-1', `${BASE_PACKAGE}-1.0-1`, 'kpkg-demo-1.0-1', 'unicode-names-0.9.0~rc.1-1', 'world-0.4.0-3'].sort());
    root.install('kpkg-demo');
    expect(root.installed().map((n) => n.replace(/-[^-]+-[^-]+$/, ''))).toEqual(['bash', 'foo', 'hello', BASE_PACKAGE, 'kpkg-demo', 'world'].sort());
    expect(existsSync(root.path('/opt/world/lib/a/original.txt'))).toBe(true);
  });

  it('dnf installs from it over http:// on loopback', async () => {
    server = await serve(repo);
    const root = new InstallRoot(new UrlRepo(repo, server.url), 'http');
    root.install('kpkg-demo', 'unicode-names');
    expect(root.installed()).toContain('unicode-names-0.9.0~rc.1-1.noarch');
    expect(root.installed()).toContain('world-2:0.4.0-3.noarch');
  });

  it('refuses other bytes under a published NEVRA (exit 2) and keeps the original', async () => {
    const other = await writeStubPackage(tmpDir('other'), { name: 'foo', version: '1.5', provides: [{ name: 'something-else' }] });
    const published = join(repo, 'Packages', 'f', 'foo-1.5-1.noarch.rpm');
    const before = sha256(readFileSync(published));
    expect(sha256(readFileSync(other))).not.toBe(before);
    const r = kpkg(['publish', '--repo', repo, other]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('foo-1.5-1.noarch');
    expect(sha256(readFileSync(published))).toBe(before);
    const again = kpkg(['publish', '--repo', repo, ours[2]!]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('unchanged');
    consistency(repo);
  });

  it('four publishers at once all succeed and lose nothing', async () => {
    const shared = join(tmpDir('four'), 'repo');
    const dir = tmpDir('four-in');
    const sets: string[][] = [];
    for (let p = 0; p < 4; p++) {
      const set: string[] = [];
      for (let i = 0; i < 10; i++) set.push(await writeStubPackage(dir, { name: `four-${p}-${i}`, version: '1.0' }));
      sets.push(set);
    }
    const results = await Promise.all(sets.map((set) => exited(startPublisher(shared, set))));
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });
    expect(consistency(shared)).toHaveLength(40);
    const root = new InstallRoot(new YumRepo(shared), 'four');
    expect(root.dnfOk(['repoquery', '-q', '-a']).stdout.split('\n').filter(Boolean)).toHaveLength(40);
  });

  it('a publisher killed with SIGKILL at any moment leaves a repository dnf reads, complete and consistent', async () => {
    const killed = join(tmpDir('kill'), 'repo');
    const dir = tmpDir('kill-in');
    const all: string[] = [];
    for (let i = 0; i < 200; i++) all.push(await writeStubPackage(dir, { name: `many-${String(i).padStart(3, '0')}`, version: '1.0', files: [{ path: `/opt/many/${i}`, kind: 'file', content: `${i}\n`.repeat(50) }] }));
    const root = new InstallRoot(new YumRepo(killed), 'kill');
    let kills = 0;
    let insideKills = 0;
    for (let round = 0; round < 10; round++) {
      // 20 new packages a round, and what earlier rounds may have lost; the kill sweeps the run
      // from node's start-up to the end of the commit (about 0.7 s for 200 packages here)
      const batch = all.slice(0, (round + 1) * 20);
      const child = startPublisher(killed, batch);
      const done = exited(child);
      if (round % 2 === 0) {
        // inside the critical section: once this publisher holds the lock (copies, segments,
        // metadata files, state, repomd.xml follow), plus 0 to 40 ms (the section is short: a
        // wait of up to 150 ms can miss it in all five rounds)
        const deadline = Date.now() + 20_000;
        while (child.exitCode === null && lockHolder(killed) !== child.pid && Date.now() < deadline) await sleep(1);
        await sleep(Math.floor(Math.random() * 40));
        if (lockHolder(killed) === child.pid && child.kill('SIGKILL')) insideKills++;
      } else {
        await sleep(100 + round * 70 + Math.floor(Math.random() * 40));
        if (child.kill('SIGKILL')) kills++;
      }
      const r = await done;
      if (r.signal === null) expect(r, r.stderr).toMatchObject({ code: 0 });
      if (!existsSync(join(killed, 'repodata', 'repomd.xml'))) continue; // killed before the first repomd.xml
      const listed = consistency(killed);
      const q = root.dnfOk(['repoquery', '-q', '-a', '--qf', '%{name}']);
      expect(q.stdout.split('\n').filter(Boolean)).toHaveLength(listed.length);
    }
    expect(kills + insideKills).toBeGreaterThan(0);
    expect(insideKills).toBeGreaterThan(0);
    publishOk(killed, all);
    expect(consistency(killed)).toHaveLength(200);
    expect(root.dnfOk(['repoquery', '-q', '-a']).stdout.split('\n').filter(Boolean)).toHaveLength(200);
  });
});
