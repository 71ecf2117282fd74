// This repository packaged with its own `kpkg build` (component.json at the root): the geppetto
// RPM (kpkg, geppetto and punch on PATH, their production dependencies, Geppetto's unit,
// /etc/punch/) and geppetto-deploy, published with createrepo_c, installed by dnf into an empty
// root; the installed commands then run from that root with the host's node.
//
// A worktree's node_modules may be a symbolic link to another checkout's, which kpkg rightly refuses
// to package (it resolves outside the component). The build then runs on a staged copy: the
// packaged sources copied, node_modules hard-linked (same file system) or copied.
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { kpkgBuild, REPO_ROOT, type Built } from './helpers/components.js';
import { describeAsRoot, InstallRoot, writeBasePackage, writeStubPackage, YumRepo } from './helpers/dnf.js';
import { run, runOk, systemTestsRequired, tmpDir } from './tools.js';

const TOOLS = ['rpm', 'dnf', 'createrepo_c'];
const PACKAGED = ['component.json', 'package.json', 'package-lock.json', 'dist', 'templates', 'schema', 'packaging'];

/** The directory kpkg builds: the repository itself, or a staged copy when node_modules is a link. */
function buildDir(): string {
  const modules = join(REPO_ROOT, 'node_modules');
  if (!lstatSync(modules).isSymbolicLink()) return REPO_ROOT;
  const stage = join(tmpDir('selfpkg-stage'), 'generator-kelkoo');
  mkdirSync(stage);
  for (const p of PACKAGED) cpSync(join(REPO_ROOT, p), join(stage, p), { recursive: true, verbatimSymlinks: true });
  const real = realpathSync(modules);
  const linked = run('cp', ['-al', real, join(stage, 'node_modules')]);
  if (linked.status !== 0) runOk('cp', ['-a', real, join(stage, 'node_modules')]);
  return stage;
}

describeAsRoot(TOOLS, 'this repository, built by its own kpkg and installed by dnf', () => {
  let built: Built;
  let root: InstallRoot;
  const nodeDir = realpathSync(process.execPath).replace(/\/node$/, '');

  beforeAll(async () => {
    expect(existsSync(join(REPO_ROOT, 'dist', 'bin', 'punch.js')), 'npm run build first').toBe(true);
    built = kpkgBuild(buildDir(), { skipBuild: true });
    const repo = new YumRepo();
    const stubs = tmpDir('selfpkg-stubs');
    // what the host system gives a server and the test root lacks: dnf and rpm (Punch runs them)
    const tools = await writeStubPackage(stubs, { name: 'kpkg-test-tools', version: '1.0', provides: [{ name: 'dnf', flags: 0, version: '' }, { name: 'rpm', flags: 0, version: '' }] });
    repo.add([await writeBasePackage(stubs), tools, built.app, built.deploy]);
    root = new InstallRoot(repo, 'selfpkg');
    root.install('kpkg-test-base', 'kpkg-test-tools', 'geppetto-deploy');
  }, 600_000);

  it('is one arch-specific package (better-sqlite3 is native) with its production dependencies only', () => {
    const arch = runOk('rpm', ['-qp', '--qf', '%{ARCH}', built.app]).stdout;
    expect(arch).not.toBe('noarch');
    const files = root.rpm(['-ql', 'geppetto']).stdout.split('\n');
    expect(files).toContain('/opt/kelkoo/geppetto/node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    expect(files).toContain('/opt/kelkoo/geppetto/node_modules/fastify/package.json');
    for (const dev of ['vitest', 'typescript', 'playwright-core', 'eslint']) expect(files).not.toContain(`/opt/kelkoo/geppetto/node_modules/${dev}`);
    for (const f of ['/usr/bin/kpkg', '/usr/bin/geppetto', '/usr/bin/punch', '/usr/lib/systemd/system/geppetto.service', '/etc/punch', '/etc/punch/punch.conf']) expect(files).toContain(f);
    expect(root.rpm(['-q', '--whatprovides', 'kelkoo-deployment']).stdout).toMatch(/^geppetto-deploy-/);
  });

  it("ships the native addons' binaries for this platform only, without their build leftovers", () => {
    const listed = runOk('rpm', ['-qlp', built.app]).stdout.split('\n').filter((f) => f !== '');
    const modules = '/opt/kelkoo/geppetto/node_modules';
    const platform = `linux-${process.arch}`;
    // what a running install loads: the binary node-gyp built, the prebuild of this platform
    expect(listed).toContain(`${modules}/better-sqlite3/build/Release/better_sqlite3.node`);
    expect(listed.some((f) => f.startsWith(`${modules}/lzma-native/prebuilds/${platform}/`) && f.endsWith('.node'))).toBe(true);
    // no binary of another platform: every native binary is a build/Release one or this platform's prebuild
    const binaries = listed.filter((f) => /\.(node|bare|dll|dylib|exe|so)$/.test(f));
    expect(binaries.filter((f) => !/\/build\/Release\/[^/]+\.node$/.test(f) && !f.includes(`/prebuilds/${platform}/`))).toEqual([]);
    expect(listed.filter((f) => /\/prebuilds\/[^/]+$/.test(f) && !f.endsWith(`/prebuilds/${platform}`))).toEqual([]);
    // nor, for the addons node-gyp compiled or that ship prebuilds, what they were compiled from
    const addons = new RegExp(`^${modules}/(better-sqlite3|lzma-native)/`);
    const leftovers = listed.filter((f) => addons.test(f) && /\/build\/Release\/(obj|obj\.target|\.deps)(\/|$)|\.(o|a|c|cc|cpp|h|hpp|gypi|mk)$|\/build\/Makefile$/.test(f));
    expect(leftovers).toEqual([]);
    for (const addon of ['better-sqlite3', 'lzma-native']) expect(listed).not.toContain(`${modules}/${addon}/deps`);
  });

  it('runs punch --help, geppetto --help and kpkg --help from the root, through /usr/bin', () => {
    const env = { PATH: `${nodeDir}:/usr/bin:/bin` };
    // /usr/bin/<cmd> links to the launcher by its absolute path, as the root sees it
    const inRoot = (cmd: string) => {
      const target = readlinkSync(join(root.root, 'usr/bin', cmd));
      expect(target).toBe(`/opt/kelkoo/geppetto/bin/${cmd}`);
      return join(root.root, target);
    };
    const punch = runOk(inRoot('punch'), ['--help'], { env });
    expect(punch.stdout).toMatch(/Usage: punch/);
    expect(punch.stdout).toMatch(/restore/);
    const geppetto = runOk(inRoot('geppetto'), ['--help'], { env });
    expect(geppetto.stdout).toMatch(/Usage: geppetto/);
    expect(geppetto.stdout).toMatch(/serve/);
    const kpkg = runOk(inRoot('kpkg'), ['--help'], { env });
    expect(kpkg.stdout).toMatch(/build/);
  });

  it("has Geppetto's unit run geppetto-service, and the installed geppetto opens its SQLite database", () => {
    const unit = root.rpm(['-ql', 'geppetto']).stdout.includes('/usr/lib/systemd/system/geppetto.service');
    expect(unit).toBe(true);
    const text = readFileSync(join(root.root, 'usr/lib/systemd/system/geppetto.service'), 'utf8');
    expect(text).toMatch(/^ExecStart="?\/opt\/kelkoo\/geppetto\/bin\/geppetto-service"?$/m);
    const data = tmpDir('selfpkg-data');
    const env = { PATH: `${nodeDir}:/usr/bin:/bin` };
    // the installed geppetto opens (creates) its SQLite database with the packaged better-sqlite3
    const exported = runOk(join(root.root, 'opt/kelkoo/geppetto/bin/geppetto'), ['--data', data, 'export'], { env });
    expect(exported.stdout).toMatch(/^servers:/m);
    expect(existsSync(join(data, 'secrets.key'))).toBe(true);
  });

  it('has no rpmlint errors on what this repository itself puts in the packages', () => {
    const lint = run('rpmlint', [built.app, built.deploy], { timeout: 300_000 });
    if (lint.status === 127) return void expect(systemTestsRequired, 'rpmlint').toBe(false);
    // node_modules is third-party code as npm ships it (scripts without shebang, duplicates...):
    // rpmlint's view of it is npm's business; every other error must be a known packaging policy
    const errors = [...lint.stdout.matchAll(/^\S+: E: (\S+)(.*)$/gm)].filter((m) => {
      const at = m[2] ?? '';
      // the launcher template starts with #!/bin/sh: a template (data), not a script to run
      if (m[1] === 'non-executable-script' && /^ \/opt\/kelkoo\/geppetto\/templates\/\S+\.hbs /.test(at)) return false;
      return !at.includes('/node_modules/') && !ALLOWED.has(m[1] ?? '');
    });
    expect(lint.stdout).toMatch(/: E: dir-or-file-in-opt/); // it did check the files
    expect(errors.map((m) => m[0]), 'rpmlint errors').toEqual([]);
  });
});

/** rpmlint errors that are policy, not a malformed package (as in rpm-writer.test.ts). */
const ALLOWED = new Set([
  'dir-or-file-in-opt', // components live under /opt/kelkoo by design
  'no-signature', // kpkg publish --sign-key signs
  'no-changelogname-tag', // kpkg writes no %changelog
  'no-packager-tag', // package.json has no author
  'non-standard-dir-perm', // /etc/kelkoo/geppetto and /var/log/kelkoo/geppetto are 0750 on purpose
  'non-readable', // /etc/punch/punch.conf may hold a token: 0600
  'files-duplicated-waste', // duplicated files are all in node_modules (npm's layout)
]);
