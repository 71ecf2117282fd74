// `kpkg publish --sign-key` judged by gpg, dnf 4 and rpm 4.18, with keys made by gpg:
//   - `gpg --verify repomd.xml.asc repomd.xml` succeeds with the published repomd.xml.key imported
//     into an empty GNUPGHOME;
//   - dnf installs from the repository into an empty --installroot with gpgcheck=1,
//     repo_gpgcheck=1 and gpgkey=file://.../repodata/repomd.xml.key (a .repo file in a private
//     reposdir; -y lets dnf import the key into its repository keyring and into the root's rpm
//     database), the packages having arrived unsigned and been signed by the publisher;
//   - a repomd.xml.asc that does not match is refused by dnf (repo_gpgcheck);
//   - dnf refuses an unsigned package with gpgcheck=1 (a second repository published without
//     --sign-key);
//   - a passphrase-protected key with a wrong passphrase exits 1 and leaves the repository
//     unchanged, every file (sha256 before and after).
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readRpm } from '../../packager/rpm/reader.js';
import { packageSignatures } from '../../packager/sign/signatures.js';
import { KPKG, kpkg, REPO_ROOT } from './helpers/components.js';
import { BASE_PACKAGE, canRunDnf, writeBasePackage, writeStubPackage } from './helpers/dnf.js';
import { commandLine, describeWithTools, run, runOk, tmpDir, type RunResult } from './tools.js';
import { sha256File as sha256, treeDigests as tree } from '../helpers/files.js';

const work = tmpDir('signed-repo');
const homes: string[] = [];

interface GpgKey {
  home: string;
  keyId: string;
  secret: string;
  publicKey: string;
}

/** A key made by gpg (as test/system/sign.test.ts makes them), exported armored. */
function gpgKey(name: string, algo: string, passphrase = ''): GpgKey {
  const home = join(work, `gnupg-${name}`);
  mkdirSync(home);
  chmodSync(home, 0o700);
  homes.push(home);
  const gpg = (...args: string[]) => runOk('gpg', ['--batch', '--homedir', home, '--pinentry-mode', 'loopback', ...args], { env: { HOME: work }, timeout: 120_000 });
  gpg('--passphrase', passphrase, '--quick-gen-key', `${name} <${name}@example.invalid>`, algo, 'sign', 'never');
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(gpg('--with-colons', '--list-secret-keys').stdout)?.[1];
  if (!fpr) throw new Error(`no fingerprint for ${name}`);
  const secret = join(work, `${name}.sec.asc`);
  writeFileSync(secret, gpg('--passphrase', passphrase, '--armor', '--export-secret-keys', fpr).stdout);
  const publicKey = join(work, `${name}.pub.asc`);
  writeFileSync(publicKey, gpg('--armor', '--export', fpr).stdout);
  return { home, keyId: fpr.slice(-16).toLowerCase(), secret, publicKey };
}



/**
 * An empty root that dnf installs into from one repository described by a .repo file (so that
 * gpgcheck, repo_gpgcheck and gpgkey are the repository's own settings), GPG checks on. HOME is
 * private: its .rpmmacros puts the root's rpm database at /var/lib/rpm (see helpers/dnf.ts), and
 * nothing of the machine's gpg or rpm configuration is read.
 */
class SignedRoot {
  readonly root: string;
  private readonly conf: string;
  private readonly home: string;

  constructor(name: string, repo: { baseurl: string; gpgkey: string; repoGpgcheck: boolean }) {
    const dir = tmpDir(`signed-dnf-${name}`);
    this.root = join(dir, 'root');
    this.home = join(dir, 'home');
    const reposdir = join(dir, 'repos.d');
    for (const d of [this.root, this.home, reposdir]) mkdirSync(d);
    writeFileSync(join(this.home, '.rpmmacros'), '%_dbpath /var/lib/rpm\n');
    writeFileSync(
      join(reposdir, 'kpkg.repo'),
      ['[kpkg]', 'name=kpkg signed test repository', `baseurl=${repo.baseurl}`, 'enabled=1', 'gpgcheck=1', `repo_gpgcheck=${repo.repoGpgcheck ? 1 : 0}`, `gpgkey=${repo.gpgkey}`, 'metadata_expire=0', ''].join('\n'),
    );
    this.conf = join(dir, 'dnf.conf');
    writeFileSync(
      this.conf,
      ['[main]', `reposdir=${reposdir}`, 'cachedir=/var/cache/dnf', 'gpgcheck=1', 'install_weak_deps=False', 'tsflags=noscripts', 'keepcache=False', 'skip_if_unavailable=False', 'protected_packages=', ''].join('\n'),
    );
  }

  args(args: readonly string[]): string[] {
    return ['-y', `--config=${this.conf}`, `--installroot=${this.root}`, '--releasever=1', '--noplugins', '--setopt=tsflags=noscripts', '--refresh', '--repo=kpkg', ...args];
  }

  dnf(args: readonly string[]): RunResult {
    return run('dnf', this.args(args), { env: { HOME: this.home, GNUPGHOME: undefined }, timeout: 120_000 });
  }

  explain(r: RunResult, args: readonly string[]): string {
    return `${commandLine('dnf', this.args(args))} -> ${r.status}\n--- stderr\n${r.stderr}\n--- stdout\n${r.stdout}`;
  }

  rpm(args: readonly string[]): RunResult {
    return run('rpm', ['--root', this.root, ...args], { env: { HOME: this.home } });
  }

  installed(): string[] {
    return this.rpm(['-qa', '--qf', '%{NAME}\\n']).stdout.split('\n').filter(Boolean).sort();
  }
}

const describeAsRoot = canRunDnf ? describeWithTools : (_t: readonly string[], name: string, fn: () => void) => describeWithTools(['dnf-as-root'], name, fn);

describeAsRoot(['gpg', 'gpgconf', 'dnf', 'rpm'], 'kpkg publish --sign-key, checked by gpg and dnf', () => {
  let key: GpgKey;
  let locked: GpgKey;
  const signedRepo = join(tmpDir('signed'), 'repo');
  const unsignedRepo = join(tmpDir('unsigned'), 'repo');
  let inputs: string[] = [];

  beforeAll(async () => {
    if (!existsSync(KPKG)) runOk('npm', ['run', 'build'], { cwd: REPO_ROOT });
    key = gpgKey('repo', 'rsa3072');
    locked = gpgKey('locked', 'ed25519', 'pass phrase');
    const dir = tmpDir('signed-in');
    inputs = [await writeBasePackage(dir), await writeStubPackage(dir, { name: 'signed-app', version: '2.0', requires: [{ name: BASE_PACKAGE }], files: [{ path: '/opt/signed-app/README', kind: 'file', content: 'signed\n' }] })];
  }, 300_000);

  afterAll(() => {
    for (const home of homes) run('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { env: { HOME: work } });
  });

  it('publishes unsigned packages signed; gpg verifies repomd.xml.asc with repomd.xml.key', async () => {
    const before = inputs.map(sha256);
    const r = kpkg(['publish', '--repo', signedRepo, '--sign-key', key.secret, ...inputs], { env: { KPKG_SIGN_PASSPHRASE: undefined } });
    expect(r.status, r.stderr).toBe(0);
    expect(inputs.map(sha256)).toEqual(before); // the caller's files are not signed in place
    for (const f of ['kpkg-test-base-1.0-1.noarch.rpm', 'signed-app-2.0-1.noarch.rpm']) {
      const pkg = await readRpm(join(signedRepo, 'Packages', f.charAt(0), f));
      expect(packageSignatures(pkg.signature).map((s) => s.issuerKeyId)).toEqual([key.keyId, key.keyId]);
    }
    const repodata = join(signedRepo, 'repodata');
    const home = join(work, 'gnupg-verify');
    mkdirSync(home);
    chmodSync(home, 0o700);
    homes.push(home);
    const gpg = (...args: string[]) => run('gpg', ['--batch', '--homedir', home, ...args], { env: { HOME: work } });
    expect(gpg('--import', join(repodata, 'repomd.xml.key')).status).toBe(0);
    const v = gpg('--verify', join(repodata, 'repomd.xml.asc'), join(repodata, 'repomd.xml'));
    expect(v.status, v.stderr).toBe(0);
    expect(v.stderr).toMatch(/Good signature from "repo <repo@example.invalid>"/);
    // a second publish of the same unsigned files changes nothing
    const snapshot = tree(signedRepo);
    const again = kpkg(['publish', '--repo', signedRepo, '--sign-key', key.secret, ...inputs]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/unchanged +Packages\/s\/signed-app-2.0-1.noarch.rpm/);
    const after = tree(signedRepo);
    delete after['.kpkg/lock'];
    delete snapshot['.kpkg/lock'];
    expect(after).toEqual(snapshot);
  }, 120_000);

  it('dnf installs from it with gpgcheck=1, repo_gpgcheck=1 and gpgkey=repomd.xml.key', () => {
    const root = new SignedRoot('ok', { baseurl: `file://${signedRepo}`, gpgkey: `file://${join(signedRepo, 'repodata', 'repomd.xml.key')}`, repoGpgcheck: true });
    const r = root.dnf(['install', 'signed-app']);
    expect(r.status, root.explain(r, ['install', 'signed-app'])).toBe(0);
    // imported twice: into the repository's keyring (repo_gpgcheck) and the root's rpm database (gpgcheck)
    expect(r.stderr.match(new RegExp(`Importing GPG key 0x${key.keyId.slice(-8).toUpperCase()}:`, 'g'))).toHaveLength(2);
    expect(root.installed()).toEqual(['gpg-pubkey', BASE_PACKAGE, 'signed-app'].sort());
    // the key dnf imported into the root's rpm database is the publisher's
    expect(root.rpm(['-q', 'gpg-pubkey', '--qf', '%{VERSION}\\n']).stdout.trim()).toBe(key.keyId.slice(-8));
  }, 180_000);

  it('dnf refuses the repository when repomd.xml.asc does not match repomd.xml', () => {
    const copy = join(tmpDir('tampered'), 'repo');
    runOk('cp', ['-a', signedRepo, copy]);
    // a valid signature by the same key, over other bytes
    const other = join(work, 'other.txt');
    writeFileSync(other, 'not the repomd.xml\n');
    runOk('gpg', ['--batch', '--homedir', key.home, '--pinentry-mode', 'loopback', '--passphrase', '', '--yes', '--armor', '--detach-sign', '--output', join(copy, 'repodata', 'repomd.xml.asc'), other], { env: { HOME: work } });
    const root = new SignedRoot('tampered', { baseurl: `file://${copy}`, gpgkey: `file://${join(copy, 'repodata', 'repomd.xml.key')}`, repoGpgcheck: true });
    const r = root.dnf(['install', 'signed-app']);
    expect(r.status, root.explain(r, ['install', 'signed-app'])).not.toBe(0);
    expect(r.stderr).toMatch(/repomd\.xml GPG signature verification error/);
    expect(root.installed()).not.toContain('signed-app');
  }, 180_000);

  it('dnf refuses an unsigned package with gpgcheck=1', () => {
    const r = kpkg(['publish', '--repo', unsignedRepo, ...inputs]);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(unsignedRepo, 'repodata', 'repomd.xml.asc'))).toBe(false);
    const root = new SignedRoot('unsigned', { baseurl: `file://${unsignedRepo}`, gpgkey: `file://${join(signedRepo, 'repodata', 'repomd.xml.key')}`, repoGpgcheck: false });
    const d = root.dnf(['install', 'signed-app']);
    expect(d.status, root.explain(d, ['install', 'signed-app'])).not.toBe(0);
    expect(`${d.stdout}${d.stderr}`).toMatch(/is not signed|GPG check FAILED/);
    expect(root.installed()).not.toContain('signed-app');
  }, 180_000);

  it('a passphrase-protected key: a wrong passphrase exits 1 and leaves the repository unchanged', async () => {
    const repo = join(tmpDir('locked'), 'repo');
    const first = kpkg(['publish', '--repo', repo, '--sign-key', locked.secret, inputs[0]!], { env: { KPKG_SIGN_PASSPHRASE: 'pass phrase' } });
    expect(first.status, first.stderr).toBe(0);
    const snapshot = tree(repo);
    const wrong = kpkg(['publish', '--repo', repo, '--sign-key', locked.secret, inputs[1]!], { env: { KPKG_SIGN_PASSPHRASE: 'wrong phrase' } });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toBe(`kpkg: ${locked.secret}: wrong passphrase for key ${locked.keyId} (from KPKG_SIGN_PASSPHRASE)\n`);
    expect(tree(repo)).toEqual(snapshot);
    const none = kpkg(['publish', '--repo', repo, '--sign-key', locked.secret, inputs[1]!], { env: { KPKG_SIGN_PASSPHRASE: undefined } });
    expect(none.status).toBe(1);
    expect(tree(repo)).toEqual(snapshot);
  }, 120_000);
});
