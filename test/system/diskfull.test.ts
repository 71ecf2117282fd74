// kpkg build, publish and sign (the compiled CLI) on a real file system that fills up, on
// directories the user may not write, and on a read-only mount:
//   - a tmpfs of a few MiB, filled with a filler file so that only so much is free, stepped up
//     until the command fits: every run that did not fit exits 1 with one line naming a path and
//     "no space left on device", leaves the output directory or repository byte for byte as it was
//     and the free blocks and inodes as they were (nothing left, not even an unlinked file still
//     open); with the filler removed the same command succeeds (rpm -K, the repository check);
//   - as the unprivileged kpkgtest (root ignores permission bits): a read-only output directory, a
//     repository it may not write, one where only the segments directory is refused (the package
//     already copied in must go again), packages in a directory it may not write;
//   - the tmpfs remounted read-only, which root cannot write either.
// Needs root and mount (CI); elsewhere the suite is skipped with a message, and with
// KPKG_SYSTEM_TESTS=required it fails instead.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepository } from '../../packager/repo/check.js';
import { listDirs, treeDigests } from '../helpers/files.js';
import { FIXTURE_COMPONENTS, kpkg, SOURCE_DATE_EPOCH } from './helpers/components.js';
import { describeWithTools, run, runOk, systemTestsRequired, tmpDir, type RunOptions, type RunResult } from './tools.js';

const PAGE = 4096;
const ENV = { SOURCE_DATE_EPOCH: String(SOURCE_DATE_EPOCH), KPKG_SIGN_PASSPHRASE: undefined };

/** Why this machine cannot run the suite (not root, mount refused), or undefined. */
function cannotMount(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  const dir = tmpDir('mount-probe');
  const r = run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
  if (r.status !== 0) return `mount -t tmpfs is not permitted here (${r.stderr.trim()})`;
  run('umount', [dir]);
  return undefined;
}

function kpkgtest(): { uid: number; gid: number } | undefined {
  const uid = run('id', ['-u', 'kpkgtest']);
  const gid = run('id', ['-g', 'kpkgtest']);
  return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) } : undefined;
}

/** A tmpfs mounted on a new directory, unmounted after the file. */
class SmallFs {
  static mounted: SmallFs[] = [];
  readonly dir = tmpDir('smallfs');
  private filler = join(this.dir, 'filler');
  constructor(size: string) {
    runOk('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', this.dir]);
    SmallFs.mounted.push(this);
  }
  /** Free blocks and inodes: equal before and after a failed run means it left nothing, not even an open unlinked file. */
  usage(): { blocks: number; inodes: number } {
    const s = statfsSync(this.dir);
    return { blocks: s.bfree, inodes: s.ffree };
  }
  /** Fills the file system so that `bytes` (rounded down to pages) stay free. */
  leave(bytes: number): void {
    this.unfill();
    const s = statfsSync(this.dir);
    const fill = s.bavail * s.bsize - Math.floor(bytes / PAGE) * PAGE;
    if (fill > 0) writeFileSync(this.filler, Buffer.alloc(fill, 1));
  }
  unfill(): void {
    rmSync(this.filler, { force: true });
  }
  remount(options: string): void {
    runOk('mount', ['-o', `remount,${options}`, this.dir]);
  }
  static unmountAll(): void {
    for (const fs of SmallFs.mounted.splice(0)) run('umount', ['-l', fs.dir]);
  }
}
process.once('exit', () => SmallFs.unmountAll());

function tree(dir: string): { files: Record<string, string>; dirs: string[] } {
  return { files: treeDigests(dir), dirs: listDirs(dir) };
}

/** Exit 1 and one line `kpkg: cannot <what> /<path>: <cause> (<code>)`. */
function expectFailure(r: RunResult, cause: string, where: string): void {
  expect(r.status, `${where}: ${r.stderr}`).toBe(1);
  expect(r.stderr, where).toMatch(new RegExp(`^kpkg: cannot [^\\n]* /[^\\n]*: ${cause}\\n$`));
}

/** A copy of the shop component, readable by everyone, with `blob` random bytes in what it packages. */
function component(blob: number): string {
  const dir = join(tmpDir('diskfull-component'), 'shop');
  cpSync(join(FIXTURE_COMPONENTS, 'shop'), dir, { recursive: true });
  if (blob > 0) writeFileSync(join(dir, 'dist', 'blob.bin'), randomBytes(blob));
  chmodSync(join(dir, '..'), 0o755);
  return dir;
}

function readableTmp(prefix: string): string {
  const dir = tmpDir(prefix);
  chmodSync(dir, 0o755);
  return dir;
}

const reason = cannotMount();
const user = kpkgtest();
if (reason !== undefined || user === undefined) {
  const why = reason ?? 'needs the unprivileged user kpkgtest (root ignores permission bits): .ci/run creates it';
  if (systemTestsRequired) {
    describe('disk full, permission refused, read-only file system', () => {
      it('can run', () => {
        throw new Error(`${why} (KPKG_SYSTEM_TESTS=required)`);
      });
    });
  } else {
    console.warn(`skipping the disk-full system tests: ${why} (set KPKG_SYSTEM_TESTS=required to fail instead)`);
    describe.skip(`disk full, permission refused, read-only file system [skipped: ${why}]`, () => {
      it('can run', () => {});
    });
  }
} else {
  describeWithTools(['mount', 'umount', 'rpm'], 'disk full, permission refused, read-only file system', () => {
    afterAll(() => SmallFs.unmountAll());
    const asUser: RunOptions = { uid: user.uid, gid: user.gid };
    // an application package of about 1 MiB that does not compress
    const blob = 1 << 20;
    let shop = '';
    // a signing key without passphrase, readable by kpkgtest
    const key = join(readableTmp('diskfull-key'), 'key.asc');
    beforeAll(async () => {
      shop = component(blob);
      const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ email: 'diskfull@example.invalid' }], format: 'armored' });
      writeFileSync(key, privateKey, { mode: 0o644 });
    });

    it('kpkg build on a file system that fills up: nothing left, then it builds once there is room', () => {
      const fs = new SmallFs('4m');
      const output = join(fs.dir, 'target');
      mkdirSync(output);
      writeFileSync(join(output, 'notes.txt'), 'not a build\n');
      const args = ['build', shop, '--skip-build', '--output', output, '--json'];
      const failures = new Set<string>();
      let built: RunResult | undefined;
      // the payload is spooled, then copied into the package: it needs about twice its size
      for (let free = 0; free <= 3 * blob; free += blob / 8) {
        fs.leave(free);
        const before = { tree: tree(output), usage: fs.usage() };
        const r = kpkg(args, { env: ENV });
        if (r.status === 0) {
          built = r;
          break;
        }
        const where = `build with ${free} bytes free`;
        expectFailure(r, 'no space left on device \\(ENOSPC\\)', where);
        expect(tree(output), where).toEqual(before.tree);
        expect(fs.usage(), where).toEqual(before.usage);
        failures.add(r.stderr.replace(/\.\d+\.[0-9a-z]+\.(payload|tmp)/, '.*.$1').replace(/kpkg-build-\w+/, 'kpkg-build-*'));
      }
      console.log(`build: failed at ${failures.size} different places:\n${[...failures].join('')}`);
      expect(failures.size).toBeGreaterThanOrEqual(2);
      expect(built, 'the build fits in 3 MiB').toBeDefined();
      fs.unfill();
      const again = kpkg(args, { env: ENV });
      expect(again.status, again.stderr).toBe(0);
      const artifacts = (JSON.parse(again.stdout) as { artifacts: { file: string }[] }).artifacts.map((a) => a.file);
      expect(readdirSync(output).sort()).toEqual(['notes.txt', ...artifacts.map((f) => f.slice(output.length + 1))].sort());
      for (const rpm of artifacts.filter((f) => f.endsWith('.rpm'))) runOk('rpm', ['-K', '--nosignature', rpm]);
    });

    it('kpkg publish on a file system that fills up: the repository unchanged, then published once there is room', () => {
      const packages = readableTmp('diskfull-packages');
      const first = kpkg(['build', component(0), '--skip-build', '--output', join(packages, 'small'), '--json'], { env: ENV });
      expect(first.status, first.stderr).toBe(0);
      const big = kpkg(['build', shop, '--skip-build', '--release', '2', '--output', join(packages, 'big'), '--json'], { env: ENV });
      expect(big.status, big.stderr).toBe(0);
      const rpmOf = (r: RunResult) => (JSON.parse(r.stdout) as { artifacts: { role: string; file: string }[] }).artifacts.find((a) => a.role === 'application')!.file;
      const fs = new SmallFs('3m');
      const repo = join(fs.dir, 'repo');
      expect(kpkg(['publish', rpmOf(first), '--repo', repo, '-q']).status).toBe(0);
      const template = join(tmpDir('diskfull-template'), 'repo');
      cpSync(repo, template, { recursive: true });
      const args = ['publish', rpmOf(big), '--repo', repo, '-q'];
      const failures = new Set<string>();
      let freed = false;
      let fitted = false;
      // the package itself, then a page at a time: segments, metadata, state, repomd.xml
      for (let pages = 0; pages < 96 && !fitted; pages += pages < 8 ? 1 : 2) {
        fs.leave(blob + pages * PAGE);
        const before = { tree: tree(repo), usage: fs.usage() };
        const r = kpkg(args);
        if (r.status === 0) {
          fitted = true;
          break;
        }
        const where = `publish with the package size + ${pages} pages free`;
        expectFailure(r, 'no space left on device \\(ENOSPC\\)', where);
        expect(tree(repo), where).toEqual(before.tree);
        expect(fs.usage(), where).toEqual(before.usage);
        failures.add(r.stderr.replace(/[0-9a-f]{10,}/g, '*').replace(/\.\d+\.\*\.tmp/, '.*.tmp'));
        if (!freed) {
          // space freed: the same publish succeeds and the repository is whole
          freed = true;
          fs.unfill();
          const again = kpkg(args);
          expect(again.status, again.stderr).toBe(0);
          rmSync(repo, { recursive: true });
          cpSync(template, repo, { recursive: true });
        }
      }
      console.log(`publish: failed at ${failures.size} different places:\n${[...failures].join('')}`);
      expect(failures.size).toBeGreaterThanOrEqual(3);
      expect(fitted, 'the publish fits at last').toBe(true);
      return checkRepository(repo).then((c) => expect(c).toEqual({ ok: true, packages: 2, problems: [] }));
    });

    it('as kpkgtest: a read-only output directory, a repository it may not write (whole or in part), packages it may not replace', async () => {
      const shopSmall = component(0);
      // build into a directory of root's
      const output = readableTmp('diskfull-ro-output');
      writeFileSync(join(output, 'notes.txt'), 'root only\n');
      let before = tree(output);
      let r = kpkg(['build', shopSmall, '--skip-build', '--output', output], { ...asUser, env: ENV });
      expectFailure(r, 'permission denied \\(EACCES\\)', 'build into a read-only directory');
      expect(tree(output)).toEqual(before);

      // a package to publish and sign, built by kpkgtest
      const mine = readableTmp('diskfull-user');
      chownSync(mine, user.uid, user.gid);
      r = kpkg(['build', shopSmall, '--skip-build', '--output', join(mine, 'target'), '--json'], { ...asUser, env: ENV });
      expect(r.status, r.stderr).toBe(0);
      const [app, deploy] = (JSON.parse(r.stdout) as { artifacts: { file: string }[] }).artifacts.map((a) => a.file);

      // a repository of root's
      const repo = join(readableTmp('diskfull-repo'), 'repo');
      expect(kpkg(['publish', deploy!, '--repo', repo, '-q']).status).toBe(0);
      before = tree(repo);
      r = kpkg(['publish', app!, '--repo', repo], asUser);
      expectFailure(r, 'permission denied \\(EACCES\\)', 'publish into a repository of root');
      expect(r.stderr).toContain(join(repo, '.kpkg'));
      expect(tree(repo)).toEqual(before);

      // kpkgtest's, but for the segments: refused after the package was copied in
      run('chown', ['-R', `${user.uid}:${user.gid}`, repo]);
      chownSync(join(repo, '.kpkg', 'segments'), 0, 0);
      before = tree(repo);
      r = kpkg(['publish', app!, '--repo', repo, '-q'], asUser);
      expectFailure(r, 'permission denied \\(EACCES\\)', 'publish with the segments refused');
      expect(r.stderr).toContain(join(repo, '.kpkg', 'segments'));
      expect(tree(repo)).toEqual(before);
      chownSync(join(repo, '.kpkg', 'segments'), user.uid, user.gid);
      r = kpkg(['publish', app!, '--repo', repo, '-q'], asUser);
      expect(r.status, r.stderr).toBe(0);
      expect(await checkRepository(repo)).toEqual({ ok: true, packages: 2, problems: [] });

      // signing packages in a directory of root's
      const signDir = readableTmp('diskfull-sign');
      for (const f of [app!, deploy!]) cpSync(f, join(signDir, f.split('/').pop()!));
      before = tree(signDir);
      r = kpkg(['sign', '--key', key, ...readdirSync(signDir).map((f) => join(signDir, f))], asUser);
      expectFailure(r, 'permission denied \\(EACCES\\)', 'sign in a directory of root');
      expect(tree(signDir)).toEqual(before);
    });

    it('a read-only mount, which root cannot write either: build, publish and sign refused, then published once it is writable', async () => {
      const fs = new SmallFs('8m');
      const shopSmall = component(0);
      const target = join(fs.dir, 'target');
      let r = kpkg(['build', shopSmall, '--skip-build', '--output', target, '--json'], { env: ENV });
      expect(r.status, r.stderr).toBe(0);
      const [app, deploy] = (JSON.parse(r.stdout) as { artifacts: { file: string }[] }).artifacts.map((a) => a.file);
      const repo = join(fs.dir, 'repo');
      expect(kpkg(['publish', deploy!, '--repo', repo, '-q']).status).toBe(0);

      fs.remount('ro');
      const before = tree(fs.dir);
      const rofs = 'read-only file system \\(EROFS\\)';
      expectFailure(kpkg(['build', shopSmall, '--skip-build', '--release', '2', '--output', target], { env: ENV }), rofs, 'build');
      expectFailure(kpkg(['publish', app!, '--repo', repo]), rofs, 'publish');
      expectFailure(kpkg(['sign', '--key', key, app!]), rofs, 'sign');
      expect(tree(fs.dir)).toEqual(before);

      fs.remount('rw');
      r = kpkg(['publish', app!, '--repo', repo, '-q']);
      expect(r.status, r.stderr).toBe(0);
      expect(await checkRepository(repo)).toEqual({ ok: true, packages: 2, problems: [] });
    });
  });
}
