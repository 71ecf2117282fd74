// `kpkg sign` and `kpkg build --sign-key` judged by rpm 4.18, with keys made by gpg:
//   - RSA 2048, RSA 4096 and Ed25519 (EdDSA, v4) keys: with the public key imported,
//     `rpmkeys -Kv` checks the header signature and the header+payload signature and says
//     `digests signatures OK`, for our packages and for rpmbuild's;
//   - one flipped byte (header or payload) is caught;
//   - without the key imported rpm says NOKEY, never OK;
//   - a passphrase-protected key signs with the right passphrase; a wrong one exits 1 with a clear
//     message and leaves the file unchanged.
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readRpm } from '../../packager/rpm/reader.js';
import { copyComponent, FIXTURE_COMPONENTS, kpkg, SOURCE_DATE_EPOCH } from './helpers/components.js';
import { describeWithTools, run, runOk, tmpDir } from './tools.js';
import { sha256File as sha256 } from '../helpers/files.js';

const RPMBUILD_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'rpmbuild');

interface GpgKey {
  name: string;
  home: string;
  keyId: string;
  secret: string;
  publicKey: string;
  passphrase?: string;
}

const work = tmpDir('sign');
const homes: string[] = [];

function gpgKey(name: string, algo: string, passphrase?: string, signingSubkey?: string): GpgKey {
  const home = join(work, `gnupg-${name}`);
  mkdirSync(home);
  chmodSync(home, 0o700);
  homes.push(home);
  const pass = passphrase === undefined ? ['--passphrase', ''] : ['--passphrase', passphrase];
  const gpg = (...args: string[]) => runOk('gpg', ['--batch', '--homedir', home, '--pinentry-mode', 'loopback', ...args], { env: { HOME: work }, timeout: 120_000 });
  gpg(...pass, '--quick-gen-key', `${name} <${name}@example.invalid>`, algo, signingSubkey ? 'cert' : 'sign', 'never');
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(gpg('--with-colons', '--list-secret-keys').stdout)?.[1];
  if (!fpr) throw new Error(`no fingerprint for ${name}`);
  if (signingSubkey) gpg(...pass, '--quick-add-key', fpr, signingSubkey, 'sign', 'never');
  // the key ID that signs: the last one listed (the subkey when there is one)
  const fprs = [...gpg('--with-colons', '--list-secret-keys').stdout.matchAll(/^fpr:+([0-9A-F]{40}):/gm)].map((m) => m[1] as string);
  const signer = fprs[fprs.length - 1] as string;
  const secret = join(work, `${name}.sec.asc`);
  writeFileSync(secret, gpg(...pass, '--armor', '--export-secret-keys', fpr).stdout);
  const publicKey = join(work, `${name}.pub.asc`);
  writeFileSync(publicKey, gpg('--armor', '--export', fpr).stdout);
  return { name, home, keyId: signer.slice(-16).toLowerCase(), secret, publicKey, ...(passphrase !== undefined ? { passphrase } : {}) };
}

/** An rpm database holding the given public keys; HOME is private, so nothing reads ~/.rpmdb. */
function rpmdb(name: string, keys: GpgKey[]): string {
  const db = join(work, `rpmdb-${name}`);
  mkdirSync(db);
  for (const k of keys) runOk('rpmkeys', ['--dbpath', db, '--import', k.publicKey], { env: { HOME: work } });
  return db;
}

function checkSig(db: string, rpm: string) {
  return run('rpmkeys', ['--dbpath', db, '-Kv', rpm], { env: { HOME: work } });
}

function checkSigShort(db: string, rpm: string) {
  return run('rpmkeys', ['--dbpath', db, '-K', rpm], { env: { HOME: work } });
}


describeWithTools(['gpg', 'gpgconf', 'rpmkeys', 'rpm'], 'kpkg sign, checked by rpm 4.18', () => {
  const keys: Record<'rsa2048' | 'rsa4096' | 'ed25519' | 'locked' | 'subkey', GpgKey> = {} as never;
  let db = '';
  let emptyDb = '';

  beforeAll(() => {
    keys.rsa2048 = gpgKey('rsa2048', 'rsa2048');
    keys.rsa4096 = gpgKey('rsa4096', 'rsa4096');
    keys.ed25519 = gpgKey('ed25519', 'ed25519');
    keys.locked = gpgKey('locked', 'rsa2048', 'pass phrase');
    // a certification-only primary with an Ed25519 signing subkey
    keys.subkey = gpgKey('subkey', 'rsa2048', undefined, 'ed25519');
    db = rpmdb('all', Object.values(keys));
    emptyDb = rpmdb('empty', []);
  }, 300_000);

  afterAll(() => {
    for (const home of homes) run('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { env: { HOME: work } });
  });

  function rpmbuildCopy(name: string, fixture = 'hello-1.2.3-1.noarch.rpm'): string {
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    const p = join(dir, fixture);
    copyFileSync(join(RPMBUILD_FIXTURES, fixture), p);
    return p;
  }

  const ALGO = { rsa2048: 'RSA', rsa4096: 'RSA', ed25519: 'EdDSA', locked: 'RSA', subkey: 'EdDSA' } as const;

  for (const name of ['rsa2048', 'rsa4096', 'ed25519'] as const) {
    it(`${name}: packages kpkg build writes and signs pass rpmkeys -K (header and header+payload signatures)`, () => {
      const key = keys[name];
      const dir = copyComponent(join(FIXTURE_COMPONENTS, 'catalog-api'), `catalog-${name}`);
      const out = join(dir, 'out');
      const built = kpkg(['build', dir, '--skip-build', '--output', out, '--sign-key', key.secret], { env: { SOURCE_DATE_EPOCH: String(SOURCE_DATE_EPOCH), KPKG_SIGN_PASSPHRASE: undefined } });
      expect(built.stderr).toBe('');
      expect(built.status).toBe(0);
      const rpms = readdirSync(out).filter((f) => f.endsWith('.rpm'));
      expect(rpms).toHaveLength(2);
      for (const f of rpms) {
        const p = join(out, f);
        const v = checkSig(db, p);
        expect(v.stdout).toContain(`Header V4 ${ALGO[name]}/SHA`);
        expect(v.stdout).toMatch(new RegExp(`Header V4 ${ALGO[name]}/SHA(256|384|512) Signature, key ID ${key.keyId.slice(-8)}: OK`));
        expect(v.stdout).toMatch(new RegExp(`\\n\\s+V4 ${ALGO[name]}/SHA(256|384|512) Signature, key ID ${key.keyId.slice(-8)}: OK`));
        expect(v.status).toBe(0);
        expect(checkSigShort(db, p).stdout).toBe(`${p}: digests signatures OK\n`);
        // what rpm -qpi shows, kpkg inspect shows
        const rpmSig = /^Signature\s*: (.*)$/m.exec(runOk('rpm', ['-qpi', p], { env: { HOME: work, TZ: 'UTC' } }).stdout)?.[1];
        const inspected = kpkg(['inspect', p]);
        const ours = /^Signature\s*: (.*)$/m.exec(inspected.stdout)?.[1];
        expect(ours, `kpkg inspect: status ${inspected.status} ${inspected.stderr}`).toBe(rpmSig);
        expect(ours).toMatch(new RegExp(`Key ID ${key.keyId}$`));
      }
    }, 120_000);

    it(`${name}: rpmbuild's packages signed by kpkg sign pass rpmkeys -K, and keep their size`, () => {
      const key = keys[name];
      const paths = ['hello-1.2.3-1.noarch.rpm', 'world-0.4.0-3.noarch.rpm', 'unicode-names-0.9.0~rc.1-1.noarch.rpm'].map((f) => rpmbuildCopy(`rpmbuild-${name}`, f));
      const sizes = paths.map((p) => readFileSync(p).length);
      const r = kpkg(['sign', '--key', key.secret, ...paths]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      paths.forEach((p, i) => {
        expect(checkSigShort(db, p).stdout).toBe(`${p}: digests signatures OK\n`);
        expect(readFileSync(p).length).toBe(sizes[i]);
      });
    }, 120_000);
  }

  it('a key whose primary cannot sign signs with its signing subkey, which rpm 4.18 checks', () => {
    const p = rpmbuildCopy('subkey');
    const r = kpkg(['sign', '--key', keys.subkey.secret, p]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`signed ${p} (EdDSA subkey ${keys.subkey.keyId})\n`);
    const v = checkSig(db, p);
    expect(v.stdout).toMatch(new RegExp(`Header V4 EdDSA/SHA256 Signature, key ID ${keys.subkey.keyId.slice(-8)}: OK`));
    expect(v.status).toBe(0);
  });

  it('a package signed again with another key carries only the new signatures', () => {
    const p = rpmbuildCopy('resign');
    expect(kpkg(['sign', '--key', keys.rsa2048.secret, p]).status).toBe(0);
    expect(kpkg(['sign', '--key', keys.ed25519.secret, p]).status).toBe(0);
    const v = checkSig(db, p);
    expect(v.status).toBe(0);
    expect(v.stdout).not.toContain('RSA');
    expect(v.stdout.match(/EdDSA/g)).toHaveLength(2);
  });

  it('one flipped byte, in the header or in the payload, is caught', async () => {
    for (const where of ['header', 'payload'] as const) {
      const p = rpmbuildCopy(`flip-${where}`);
      expect(kpkg(['sign', '--key', keys.rsa2048.secret, p]).status).toBe(0);
      expect(checkSigShort(db, p).stdout).toBe(`${p}: digests signatures OK\n`);
      const pkg = await readRpm(p);
      const bytes = readFileSync(p);
      // a byte of the header's data store (the summary text), or the middle of the payload
      const at = where === 'header' ? pkg.payloadOffset - 40 : Math.floor((pkg.payloadOffset + bytes.length) / 2);
      bytes[at] = (bytes[at] as number) ^ 0x01;
      writeFileSync(p, bytes);
      const r = checkSigShort(db, p);
      expect(r.status, `${where}: ${r.stdout}${r.stderr}`).not.toBe(0);
      expect(r.stdout).not.toMatch(/digests signatures OK/);
      expect(r.stdout).toMatch(/NOT OK/);
    }
  });

  it('without the public key imported rpm reports NOKEY, not OK', () => {
    for (const name of ['rsa2048', 'ed25519'] as const) {
      const p = rpmbuildCopy(`nokey-${name}`);
      expect(kpkg(['sign', '--key', keys[name].secret, p]).status).toBe(0);
      const r = checkSig(emptyDb, p);
      expect(r.status).not.toBe(0);
      expect(r.stdout).toMatch(/Signature, key ID [0-9a-f]{8}: NOKEY/);
      expect(checkSigShort(emptyDb, p).stdout).not.toMatch(/digests signatures OK/);
    }
  });

  it('a passphrase-protected key signs with the right passphrase; a wrong one exits 1 and changes nothing', () => {
    const p = rpmbuildCopy('locked');
    const before = sha256(p);
    const wrong = kpkg(['sign', '--key', keys.locked.secret, p], { env: { KPKG_SIGN_PASSPHRASE: 'wrong phrase' } });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toBe(`kpkg: ${keys.locked.secret}: wrong passphrase for key ${keys.locked.keyId} (from KPKG_SIGN_PASSPHRASE)\n`);
    expect(sha256(p)).toBe(before);
    expect(readdirSync(join(work, 'locked'))).toEqual(['hello-1.2.3-1.noarch.rpm']);
    const none = kpkg(['sign', '--key', keys.locked.secret, p], { env: { KPKG_SIGN_PASSPHRASE: undefined } });
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/protected by a passphrase; set KPKG_SIGN_PASSPHRASE/);
    expect(sha256(p)).toBe(before);
    const right = kpkg(['sign', '--key', keys.locked.secret, p], { env: { KPKG_SIGN_PASSPHRASE: 'pass phrase' } });
    expect(right.stderr).toBe('');
    expect(right.status).toBe(0);
    expect(checkSigShort(db, p).stdout).toBe(`${p}: digests signatures OK\n`);
  });

  it('a public key or a missing package is refused with a message and the right exit code', () => {
    const p = rpmbuildCopy('refused');
    const before = sha256(p);
    const pub = kpkg(['sign', '--key', keys.rsa2048.publicKey, p]);
    expect(pub.status).toBe(1);
    expect(pub.stderr).toMatch(/is a public key; signing needs the secret key/);
    const missing = kpkg(['sign', '--key', keys.rsa2048.secret, join(work, 'nope.rpm')]);
    expect(missing.status).toBe(2);
    expect(sha256(p)).toBe(before);
  });
});
