import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../packager/cli/index.js';
import { readRpm, verifyDigests } from '../../../packager/rpm/reader.js';
import { SigTag } from '../../../packager/rpm/tags.js';
import { sha256File as sha256 } from '../../helpers/files.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'rpmbuild');
const work = mkdtempSync(join(tmpdir(), 'kpkg-sign-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function kpkg(env: Record<string, string | undefined>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    const code = await main(['node', 'kpkg', ...args]);
    return { code, stdout, stderr };
  } finally {
    process.env = saved;
    out.mockRestore();
    err.mockRestore();
  }
}

const keyFile = join(work, 'key.asc');
const protectedFile = join(work, 'protected.asc');
let keyId = '';

beforeAll(async () => {
  const plain = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ email: 'k@example.invalid' }], format: 'armored' });
  writeFileSync(keyFile, plain.privateKey);
  keyId = (await openpgp.readKey({ armoredKey: plain.publicKey })).getKeyID().toHex();
  const locked = await openpgp.generateKey({ type: 'rsa', rsaBits: 2048, userIDs: [{ email: 'p@example.invalid' }], passphrase: 's3cret', format: 'armored' });
  writeFileSync(protectedFile, locked.privateKey);
}, 60_000);

describe('kpkg sign', () => {
  it('signs rpmbuild packages in place, keeping their size (RESERVEDSPACE) and digests; inspect shows the signature', async () => {
    const a = join(work, 'hello.rpm');
    const b = join(work, 'world.rpm');
    copyFileSync(join(fixtures, 'hello-1.2.3-1.noarch.rpm'), a);
    copyFileSync(join(fixtures, 'world-0.4.0-3.noarch.rpm'), b);
    const size = statSync(a).size;
    const hadReserve = (await readRpm(a)).signature.has(SigTag.RESERVEDSPACE);
    const before = await kpkg({}, 'inspect', a);
    expect(before.stdout).toMatch(/^Signature {3}: \(none\)$/m);
    const r = await kpkg({ KPKG_SIGN_PASSPHRASE: undefined }, 'sign', '--key', keyFile, a, b);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`signed ${a} (EdDSA key ${keyId})\nsigned ${b} (EdDSA key ${keyId})\n`);
    if (hadReserve) expect(statSync(a).size).toBe(size);
    for (const p of [a, b]) expect((await verifyDigests(await readRpm(p))).ok).toBe(true);
    const shown = await kpkg({}, 'inspect', a);
    expect(shown.stdout).toMatch(new RegExp(`^Signature {3}: EdDSA/SHA(256|512), \\w{3} \\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4}, Key ID ${keyId}$`, 'm'));
    const json = JSON.parse((await kpkg({}, 'inspect', '--json', a)).stdout) as { signatures: { tagName: string; version: number; issuerKeyId: string; range: string }[] };
    expect(json.signatures.map((s) => [s.tagName, s.range, s.version, s.issuerKeyId])).toEqual([
      ['DSAHEADER', 'header', 4, keyId],
      ['SIGGPG', 'header+payload', 4, keyId],
    ]);
  });

  it('a wrong passphrase exits 1 with a clear message and changes nothing; the right one signs', async () => {
    const a = join(work, 'locked.rpm');
    copyFileSync(join(fixtures, 'hello-1.2.3-1.noarch.rpm'), a);
    const before = sha256(a);
    const wrong = await kpkg({ KPKG_SIGN_PASSPHRASE: 'nope' }, 'sign', '--key', protectedFile, a);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^kpkg: .*protected\.asc: wrong passphrase for key [0-9a-f]{16} \(from KPKG_SIGN_PASSPHRASE\)\n$/);
    expect(wrong.stderr).not.toContain('nope');
    expect(sha256(a)).toBe(before);
    const none = await kpkg({ KPKG_SIGN_PASSPHRASE: undefined }, 'sign', '--key', protectedFile, a);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/set KPKG_SIGN_PASSPHRASE/);
    const ok = await kpkg({ KPKG_SIGN_PASSPHRASE: 's3cret' }, 'sign', '--key', protectedFile, a);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/\(RSA key [0-9a-f]{16}\)/);
    expect((await kpkg({}, 'inspect', a)).stdout).toMatch(/^Signature {3}: RSA\/SHA/m);
  });

  it('an unreadable package exits 2 and nothing is signed', async () => {
    const good = join(work, 'good.rpm');
    copyFileSync(join(fixtures, 'hello-1.2.3-1.noarch.rpm'), good);
    const before = sha256(good);
    const junk = join(work, 'junk.rpm');
    writeFileSync(junk, 'junk');
    const r = await kpkg({}, 'sign', '--key', keyFile, good, junk);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/junk\.rpm: lead at byte 0/);
    expect(sha256(good)).toBe(before);
    expect((await kpkg({}, 'sign', '--key', keyFile, join(work, 'missing.rpm'))).code).toBe(2);
    expect((await kpkg({}, 'sign', good)).code).toBe(2);
  });
});
