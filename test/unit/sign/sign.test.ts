import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KpkgError } from '../../../packager/errors.js';
import { readRpm, verifyDigests } from '../../../packager/rpm/reader.js';
import { writeRpm } from '../../../packager/rpm/writer.js';
import { loadSigningKey, loadSigningKeyFrom, signDetached, signDetachedBinary } from '../../../packager/sign/openpgp.js';
import { parseSignaturePacket } from '../../../packager/sign/packet.js';
import { signRpm } from '../../../packager/sign/rpm.js';
import { SigTag } from '../../../packager/rpm/tags.js';
import { packageSignatures } from '../../../packager/sign/signatures.js';
import { sha256File as sha256 } from '../../helpers/files.js';

const work = mkdtempSync(join(tmpdir(), 'kpkg-sign-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface TestKey {
  armored: string;
  publicKey: openpgp.PublicKey;
}
const keys: Record<'rsa' | 'ed25519' | 'protected', TestKey> = {} as never;

async function makeKey(options: { type: 'rsa' | 'ecc'; passphrase?: string }): Promise<TestKey> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: options.type,
    ...(options.type === 'rsa' ? { rsaBits: 2048 } : { curve: 'ed25519Legacy' as const }),
    userIDs: [{ name: 'Test', email: 't@example.invalid' }],
    ...(options.passphrase ? { passphrase: options.passphrase } : {}),
    format: 'armored',
  });
  return { armored: privateKey, publicKey: await openpgp.readKey({ armoredKey: publicKey }) };
}

let pkgPath = '';
beforeAll(async () => {
  keys.rsa = await makeKey({ type: 'rsa' });
  keys.ed25519 = await makeKey({ type: 'ecc' });
  keys.protected = await makeKey({ type: 'ecc', passphrase: 'correct horse' });
  const src = join(work, 'src');
  mkdirSync(src);
  const blob = Buffer.alloc(2 * 1024 * 1024 + 5);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 2654435761) >>> 24;
  writeFileSync(join(src, 'blob.bin'), blob);
  pkgPath = join(work, 'shop-1.0.0-1.noarch.rpm');
  await writeRpm(
    {
      name: 'shop',
      version: '1.0.0',
      release: '1',
      summary: 'A shop',
      description: 'It sells things.',
      license: 'Apache-2.0',
      files: [
        { path: '/opt/shop', kind: 'dir' },
        { path: '/opt/shop/blob.bin', kind: 'file', source: join(src, 'blob.bin') },
      ],
    },
    pkgPath,
    { sourceDateEpoch: 1700000000 },
  );
}, 120_000);

function copy(name: string): string {
  const p = join(work, name);
  copyFileSync(pkgPath, p);
  return p;
}


async function verifyWith(publicKey: openpgp.PublicKey, data: Uint8Array, signature: Buffer): Promise<boolean> {
  try {
    // with expectSigned, a bad signature throws
    const result = await openpgp.verify({
      message: await openpgp.createMessage({ binary: data }),
      signature: await openpgp.readSignature({ binarySignature: signature }),
      verificationKeys: publicKey,
      expectSigned: true,
    });
    return (await result.signatures[0]?.verified) === true;
  } catch {
    return false;
  }
}

describe('parseSignaturePacket', () => {
  it('reads version, algorithms, time and issuer of a v4 signature, new and old packet formats', async () => {
    const key = await loadSigningKeyFrom(Buffer.from(keys.rsa.armored), 'rsa.asc');
    const sig = await signDetachedBinary(Buffer.from('hello'), key);
    const info = parseSignaturePacket(sig);
    expect(info.version).toBe(4);
    expect(info.type).toBe(0);
    expect(info.pubkeyAlgorithm).toBe(1);
    expect(info.hashAlgorithm).toBeGreaterThanOrEqual(8);
    expect(info.issuerKeyId).toBe(key.keyId);
    expect(info.issuerFingerprint).toBe(key.fingerprint);
    expect(Math.abs((info.created ?? 0) - Date.now() / 1000)).toBeLessThan(600);
    // only the creation time may be critical: rpm < 4.17 refuses a critical issuer
    expect(info.criticalSubpackets.filter((t) => t !== 2)).toEqual([]);
    // the same body in an old-format packet (tag 2, two-octet length)
    const first = sig[0] as number;
    expect(first & 0x40).toBe(0x40);
    const bodyStart = (sig[1] as number) < 192 ? 2 : (sig[1] as number) < 224 ? 3 : 6;
    const body = sig.subarray(bodyStart);
    const old = Buffer.concat([Buffer.from([0x89, body.length >> 8, body.length & 0xff]), body]);
    expect(parseSignaturePacket(old)).toEqual(info);
  });

  it('reads a v3 signature', () => {
    const body = Buffer.from([3, 5, 0, 0x65, 0x53, 0xf1, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 17, 2, 0xab, 0xcd]);
    const info = parseSignaturePacket(Buffer.concat([Buffer.from([0x88, body.length]), body]));
    expect(info).toMatchObject({ version: 3, type: 0, created: 0x6553f100, issuerKeyId: '0102030405060708', pubkeyAlgorithm: 17, hashAlgorithm: 2 });
  });

  it('names the offset of what is wrong', () => {
    expect(() => parseSignaturePacket(Buffer.from([0x02, 0x00]))).toThrow(/at byte 0: expected an OpenPGP packet tag/);
    expect(() => parseSignaturePacket(Buffer.from([0xc6, 0x01, 0x04]))).toThrow(/expected a signature packet \(tag 2\), found tag 6/);
    expect(() => parseSignaturePacket(Buffer.from([0xc2, 0x10, 0x04]))).toThrow(/runs past/);
    expect(() => parseSignaturePacket(Buffer.from([0xc2, 0x06, 0x04, 0x00, 0x01, 0x08, 0x00, 0x09]))).toThrow(/hashed subpackets: needs 9 bytes/);
    expect(() => parseSignaturePacket(Buffer.from([0xc2, 0x01, 0x07]))).toThrow(/unknown signature version 7/);
  });
});

describe('signing keys', () => {
  it('refuses a protected key without a passphrase, or with a wrong one, without printing the key', async () => {
    const bytes = Buffer.from(keys.protected.armored);
    const noPass = await loadSigningKeyFrom(bytes, 'p.asc', '').catch((e: unknown) => e);
    expect(noPass).toBeInstanceOf(KpkgError);
    expect((noPass as KpkgError).code).toBe('SIGN');
    expect((noPass as KpkgError).message).toMatch(/protected by a passphrase; set KPKG_SIGN_PASSPHRASE/);
    const wrong = await loadSigningKeyFrom(bytes, 'p.asc', 'wrong').catch((e: unknown) => e);
    expect((wrong as KpkgError).code).toBe('SIGN');
    expect((wrong as KpkgError).message).toMatch(/^p\.asc: wrong passphrase for key [0-9a-f]{16}/);
    expect((wrong as KpkgError).message).not.toMatch(/BEGIN PGP|wrong\b.*wrong/);
    const ok = await loadSigningKeyFrom(bytes, 'p.asc', 'correct horse');
    expect(ok.algorithm).toBe('EdDSA');
  });

  it('reads binary keys and refuses public keys', async () => {
    const key = await openpgp.readPrivateKey({ armoredKey: keys.ed25519.armored });
    const loaded = await loadSigningKeyFrom(key.write(), 'k.gpg');
    expect(loaded.keyId).toBe(key.getKeyID().toHex());
    const pub = await loadSigningKeyFrom(Buffer.from(keys.ed25519.publicKey.armor()), 'pub.asc').catch((e: unknown) => e);
    expect((pub as KpkgError).message).toMatch(/is a public key/);
    const notAKey = await loadSigningKeyFrom(Buffer.from('hello'), 'x.txt').catch((e: unknown) => e);
    expect((notAKey as KpkgError).code).toBe('SIGN');
    const missing = await loadSigningKey(join(work, 'nope.asc')).catch((e: unknown) => e);
    expect((missing as KpkgError).code).toBe('IO');
  });

  it('signs with the primary key when it can sign, and refuses RFC 9580 Ed25519 keys', async () => {
    const key = await loadSigningKeyFrom(Buffer.from(keys.rsa.armored), 'rsa.asc');
    expect(key.keyId).toBe(keys.rsa.publicKey.getKeyID().toHex());
    const { privateKey } = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ email: 'x@example.invalid' }], format: 'armored' });
    const refused = await loadSigningKeyFrom(Buffer.from(privateKey), 'new.asc').catch((e: unknown) => e);
    expect((refused as KpkgError).message).toMatch(/rpm 4\.18 verifies RSA and EdDSA/);
  });

  it('signDetached gives an armored signature that verifies', async () => {
    const key = await loadSigningKeyFrom(Buffer.from(keys.ed25519.armored), 'e.asc');
    const data = Buffer.from('<repomd/>\n');
    const armored = await signDetached(data, key);
    expect(armored).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
    const sig = await openpgp.readSignature({ armoredSignature: armored });
    expect(await verifyWith(keys.ed25519.publicKey, data, Buffer.from(sig.write() as Uint8Array))).toBe(true);
    expect(await verifyWith(keys.ed25519.publicKey, Buffer.from('<repomd/>'), Buffer.from(sig.write() as Uint8Array))).toBe(false);
  });
});

describe('signRpm', () => {
  for (const kind of ['rsa', 'ed25519'] as const) {
    it(`${kind}: adds header and header+payload signatures that verify, digests intact`, async () => {
      const path = copy(`${kind}.rpm`);
      const before = await readRpm(path);
      const key = await loadSigningKeyFrom(Buffer.from(keys[kind].armored), `${kind}.asc`);
      const result = await signRpm(path, key);
      const after = await readRpm(path);
      expect(after.headerBytes.equals(before.headerBytes)).toBe(true);
      const whole = readFileSync(path);
      const original = readFileSync(pkgPath);
      expect(whole.subarray(after.headerOffset).equals(original.subarray(before.headerOffset))).toBe(true);
      expect(result.size).toBe(whole.length);
      expect((await verifyDigests(after)).ok).toBe(true);
      const [headerTag, fullTag] = kind === 'rsa' ? [SigTag.RSA, SigTag.PGP] : [SigTag.DSA, SigTag.GPG];
      expect(result.tags).toEqual([headerTag, fullTag]);
      const headerSig = after.signature.binary(headerTag) as Buffer;
      const fullSig = after.signature.binary(fullTag) as Buffer;
      expect(await verifyWith(keys[kind].publicKey, after.headerBytes, headerSig)).toBe(true);
      expect(await verifyWith(keys[kind].publicKey, whole.subarray(after.headerOffset), fullSig)).toBe(true);
      const shown = packageSignatures(after.signature);
      expect(shown.map((s) => s.tag)).toEqual([headerTag, fullTag]);
      expect(shown[0]?.summary).toMatch(new RegExp(`^${kind === 'rsa' ? 'RSA' : 'EdDSA'}/SHA(256|384|512), \\w{3} \\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4}, Key ID ${key.keyId}$`));
      expect(readdirSync(work).filter((f) => f.includes('kpkg-sign'))).toEqual([]);
    });
  }

  it('replaces earlier signatures, whatever the key', async () => {
    const path = copy('twice.rpm');
    await signRpm(path, await loadSigningKeyFrom(Buffer.from(keys.rsa.armored), 'rsa.asc'));
    const ed = await loadSigningKeyFrom(Buffer.from(keys.ed25519.armored), 'e.asc');
    await signRpm(path, ed);
    const pkg = await readRpm(path);
    expect(packageSignatures(pkg.signature).map((s) => [s.tag, s.issuerKeyId])).toEqual([
      [SigTag.DSA, ed.keyId],
      [SigTag.GPG, ed.keyId],
    ]);
    expect((await verifyDigests(pkg)).ok).toBe(true);
  });

  it('a wrong passphrase leaves the package unchanged, byte for byte', async () => {
    const path = copy('protected.rpm');
    const before = sha256(path);
    await expect(
      (async () => {
        const key = await loadSigningKeyFrom(Buffer.from(keys.protected.armored), 'p.asc', 'wrong');
        await signRpm(path, key);
      })(),
    ).rejects.toMatchObject({ code: 'SIGN' });
    expect(sha256(path)).toBe(before);
    const key = await loadSigningKeyFrom(Buffer.from(keys.protected.armored), 'p.asc', 'correct horse');
    await signRpm(path, key);
    expect(sha256(path)).not.toBe(before);
    expect((await verifyDigests(await readRpm(path))).ok).toBe(true);
  });

  it('refuses what is not a package, and writes nothing', async () => {
    const path = join(work, 'junk.rpm');
    writeFileSync(path, 'not an rpm');
    const key = await loadSigningKeyFrom(Buffer.from(keys.ed25519.armored), 'e.asc');
    await expect(signRpm(path, key)).rejects.toMatchObject({ code: 'BAD_PACKAGE' });
    expect(readFileSync(path, 'utf8')).toBe('not an rpm');
  });
});
