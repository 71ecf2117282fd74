// The OPENPGP signature tag (278) that rpm 4.20+ and rpm 6 write, one base64 signature packet per
// key. rpm 4.18 cannot write it, so the packages here are made from an rpmbuild fixture by kpkg's
// own header code: an Ed25519 v4 signature made with openpgp.js over the header, and a synthetic
// v6 packet with an ML-DSA algorithm id and one with an unassigned id (shown, not dropped).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeSignatureHeader } from '../../../packager/rpm/header.js';
import { readRpm } from '../../../packager/rpm/reader.js';
import { SigTag, TagType } from '../../../packager/rpm/tags.js';
import { loadSigningKeyFrom, signDetachedBinary } from '../../../packager/sign/openpgp.js';
import { kpkg } from '../../helpers/cli.js';

const fixture = join(import.meta.dirname, '..', '..', 'fixtures', 'rpmbuild', 'hello-1.2.3-1.noarch.rpm');
const work = mkdtempSync(join(tmpdir(), 'kpkg-openpgp-tag-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A v6 signature packet (RFC 9580 5.2.3) with a creation time and a v6 issuer fingerprint. */
function v6Packet(pubkeyAlgorithm: number, created: number, fingerprint: Buffer): Buffer {
  const time = Buffer.alloc(4);
  time.writeUInt32BE(created);
  const hashed = Buffer.concat([Buffer.from([5, 2]), time, Buffer.from([34, 33, 6]), fingerprint]);
  const count = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const salt = Buffer.alloc(32, 7);
  const body = Buffer.concat([Buffer.from([6, 0, pubkeyAlgorithm, 10]), count(hashed.length), hashed, count(0), Buffer.from([0xab, 0xcd, salt.length]), salt, Buffer.alloc(64, 1)]);
  if (body.length >= 192) throw new Error('test packet too long for a one-octet length');
  return Buffer.concat([Buffer.from([0xc2, body.length]), body]);
}

/** `fixture` with `entries` as its OPENPGP tag (other signature tags kept). */
async function withOpenPgp(name: string, entries: string[]): Promise<string> {
  const pkg = await readRpm(fixture);
  const file = readFileSync(fixture);
  pkg.signature.set(SigTag.OPENPGP, TagType.STRING_ARRAY, entries);
  const out = join(work, name);
  writeFileSync(out, Buffer.concat([file.subarray(0, pkg.signatureOffset), encodeSignatureHeader(pkg.signature), file.subarray(pkg.headerOffset)]));
  return out;
}

interface Sig {
  tagName: string;
  version: number;
  algorithm: string;
  issuerKeyId?: string;
  issuerFingerprint?: string;
  summary: string;
}

describe('kpkg inspect and the OPENPGP signature tag (278)', () => {
  it('shows every signature of the tag: an Ed25519 v4 one that verifies, a v6 ML-DSA one and an unknown algorithm named', async () => {
    const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ email: 'ed@example.invalid' }], format: 'armored' });
    const key = await loadSigningKeyFrom(Buffer.from(privateKey), 'test key', undefined);
    const headerBytes = (await readRpm(fixture)).headerBytes;
    const ed = await signDetachedBinary(headerBytes, key);
    const fpr = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) fpr[i] = i * 7 + 1;
    const mldsa = v6Packet(30, 1767225600, fpr);
    const unknown = v6Packet(99, 1767225600, fpr);
    // rpm writes base64; an armored entry is accepted too
    const armoredUnknown = openpgp.armor(openpgp.enums.armor.signature, unknown);
    const path = await withOpenPgp('openpgp.rpm', [ed.toString('base64'), mldsa.toString('base64'), armoredUnknown]);

    const r = await kpkg('inspect', '--json', path);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const sigs = (JSON.parse(r.stdout) as { signatures: Sig[] }).signatures;
    expect(sigs.map((s) => [s.tagName, s.version, s.algorithm])).toEqual([
      ['OPENPGP', 4, 'EdDSA/SHA256'],
      ['OPENPGP', 6, 'ML-DSA-65+Ed25519/SHA512'],
      ['OPENPGP', 6, 'algo99/SHA512'],
    ]);
    expect(sigs[0]?.issuerKeyId).toBe(key.keyId);
    // a v6 key ID is the first 8 bytes of its fingerprint
    expect(sigs[1]?.issuerKeyId).toBe(fpr.subarray(0, 8).toString('hex'));
    expect(sigs[1]?.issuerFingerprint).toBe(fpr.toString('hex').toUpperCase());
    expect(sigs[1]?.summary).toBe(`ML-DSA-65+Ed25519/SHA512, Thu Jan  1 00:00:00 2026, Key ID ${fpr.subarray(0, 8).toString('hex')}`);

    // the decoded packet is the signature openpgp.js made: it verifies over the header
    const verified = await openpgp.verify({
      message: await openpgp.createMessage({ binary: headerBytes }),
      signature: await openpgp.readSignature({ binarySignature: ed }),
      verificationKeys: key.key.toPublic(),
    });
    await expect(verified.signatures[0]?.verified).resolves.toBe(true);

    const text = await kpkg('inspect', path);
    expect(text.stdout).toMatch(new RegExp(`^Signature   : EdDSA/SHA256, .*, Key ID ${key.keyId}\\n {14}ML-DSA-65\\+Ed25519/SHA512, .*\\n {14}algo99/SHA512, `, 'm'));
  });

  it('exits 2 naming the entry for an OPENPGP entry that is not a signature', async () => {
    const good = v6Packet(27, 1767225600, Buffer.alloc(32, 1)).toString('base64');
    const notBase64 = await withOpenPgp('bad64.rpm', [good, 'this is not base64!']);
    const r = await kpkg('inspect', notBase64);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^kpkg: signature tag OPENPGP \(278\) entry 1 at byte 0: not a base64 or armored OpenPGP signature\n$/);

    // valid base64 of a truncated packet: the length runs past the bytes
    const truncated = await withOpenPgp('short.rpm', [Buffer.from(good, 'base64').subarray(0, 40).toString('base64')]);
    const t = await kpkg('inspect', truncated);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/^kpkg: signature tag OPENPGP \(278\) entry 0 at byte \d+: packet body of \d+ bytes runs past/);
  });
});
