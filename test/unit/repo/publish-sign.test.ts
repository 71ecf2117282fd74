// publish with a signing key (packager/repo/signing.ts): unsigned packages are published as signed
// copies (the caller's file untouched), signed ones as they are; the same unsigned package again is
// a no-op although two signings differ; repomd.xml.asc verifies over the exact bytes of repomd.xml
// and repomd.xml.key is the public key; a stale or missing signature is repaired by a run with
// nothing to add; publishing without the key into a signed repository is refused; `kpkg publish
// --sign-key` with a wrong passphrase exits 1 and writes nothing.
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { checkRepository } from '../../../packager/repo/check.js';
import { publish } from '../../../packager/repo/publish.js';
import { pruneRepository } from '../../../packager/repo/prune.js';
import { readRpm } from '../../../packager/rpm/reader.js';
import { writeRpm } from '../../../packager/rpm/writer.js';
import { type PackageSpec } from '../../../packager/rpm/spec.js';
import { loadSigningKeyFrom, type SigningKey } from '../../../packager/sign/openpgp.js';
import { signRpm } from '../../../packager/sign/rpm.js';
import { packageSignatures } from '../../../packager/sign/signatures.js';
import { kpkg, type CliResult } from '../../helpers/cli.js';
import { scratch, sha256File as sha256, treeDigests as tree } from '../../helpers/files.js';

const { work, fresh } = scratch('publish-sign');
const opts = { graceMs: 60_000 };

async function pkg(dir: string, name: string, version = '1.0', body = 'hello\n'): Promise<string> {
  const spec: PackageSpec = {
    name,
    version,
    release: '1',
    arch: 'noarch',
    summary: `${name} for the signed publish tests`,
    description: 'A package of the signed publish tests.',
    license: 'Apache-2.0',
    files: [
      { path: `/opt/${name}`, kind: 'dir' },
      { path: `/opt/${name}/README`, kind: 'file', content: body },
    ],
  };
  const path = join(dir, `${name}-${version}-1.noarch.rpm`);
  await writeRpm(spec, path, { sourceDateEpoch: 1_700_000_000 });
  return path;
}


async function verifyRepomd(repo: string, publicKey: openpgp.PublicKey): Promise<void> {
  const { signatures } = await openpgp.verify({
    message: await openpgp.createMessage({ binary: readFileSync(join(repo, 'repodata', 'repomd.xml')) }),
    signature: await openpgp.readSignature({ armoredSignature: readFileSync(join(repo, 'repodata', 'repomd.xml.asc'), 'utf8') }),
    verificationKeys: publicKey,
  });
  expect(signatures).toHaveLength(1);
  await signatures[0]!.verified;
}

/** kpkg in-process with some environment variables set (or removed, for undefined) while it runs. */
async function kpkgWith(env: Record<string, string | undefined>, ...args: string[]): Promise<CliResult> {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  try {
    return await kpkg(...args);
  } finally {
    vi.unstubAllEnvs();
  }
}

describe('publish --sign-key', () => {
  let key: SigningKey;
  let other: SigningKey;
  let publicKey: openpgp.PublicKey;
  let lockedFile = '';

  beforeAll(async () => {
    const made = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name: 'Repo', email: 'repo@example.invalid' }], format: 'armored' });
    key = await loadSigningKeyFrom(Buffer.from(made.privateKey), 'repo.asc', '');
    publicKey = await openpgp.readKey({ armoredKey: made.publicKey });
    const made2 = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name: 'Other', email: 'other@example.invalid' }], format: 'armored' });
    other = await loadSigningKeyFrom(Buffer.from(made2.privateKey), 'other.asc', '');
    const locked = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name: 'Locked', email: 'l@example.invalid' }], passphrase: 'right', format: 'armored' });
    lockedFile = join(work, 'locked.asc');
    writeFileSync(lockedFile, locked.privateKey);
  });

  it('publishes a signed copy of an unsigned package, leaves the caller file alone, signs repomd.xml', async () => {
    const dir = fresh('in');
    const repo = join(fresh('repo'), 'repo');
    const p = await pkg(dir, 'alpha');
    const before = sha256(p);
    // an old file time: a copy that did not keep it would show the time of signing
    utimesSync(p, 1_600_000_000, 1_600_000_000);
    const mtime = statSync(p).mtimeMs;
    const r = await publish([p], repo, { ...opts, signKey: key });
    expect(r.added).toEqual(['Packages/a/alpha-1.0-1.noarch.rpm']);
    expect(sha256(p)).toBe(before);
    expect(readdirSync(dir)).toEqual(['alpha-1.0-1.noarch.rpm']);
    const published = join(repo, 'Packages', 'a', 'alpha-1.0-1.noarch.rpm');
    const sigs = packageSignatures((await readRpm(published)).signature);
    expect(sigs.map((s) => s.issuerKeyId)).toEqual([key.keyId, key.keyId]);
    expect(Math.floor(statSync(published).mtimeMs / 1000)).toBe(Math.floor(mtime / 1000));
    // the metadata lists the signed copy (its checksum and size)
    expect((await checkRepository(repo)).ok).toBe(true);
    await verifyRepomd(repo, publicKey);
    expect(readFileSync(join(repo, 'repodata', 'repomd.xml.key'), 'utf8')).toBe(key.publicKeyArmored);
    expect(readdirSync(join(repo, 'repodata')).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('the same unsigned package again is a no-op, alone or with a new one; twice in a batch is listed once', async () => {
    const dir = fresh('in');
    const repo = join(fresh('repo'), 'repo');
    const p = await pkg(dir, 'beta');
    await publish([p], repo, { ...opts, signKey: key });
    const snapshot = tree(repo);
    const again = await publish([p], repo, { ...opts, signKey: key });
    expect(again).toMatchObject({ added: [], unchanged: ['Packages/b/beta-1.0-1.noarch.rpm'], metadataWritten: false });
    expect(tree(repo)).toEqual(snapshot);
    const q = await pkg(dir, 'gamma');
    const more = await publish([p, q, q], repo, { ...opts, signKey: key });
    expect(more.added).toEqual(['Packages/g/gamma-1.0-1.noarch.rpm']);
    expect(more.unchanged).toEqual(['Packages/b/beta-1.0-1.noarch.rpm']);
    expect(sha256(join(repo, 'Packages', 'b', 'beta-1.0-1.noarch.rpm'))).toBe(snapshot['Packages/b/beta-1.0-1.noarch.rpm']);
    expect((await checkRepository(repo)).packages).toBe(2);
    await verifyRepomd(repo, publicKey);
  });

  it('other content under the same NEVRA is still refused', async () => {
    const repo = join(fresh('repo'), 'repo');
    await publish([await pkg(fresh('in'), 'delta', '1.0', 'one\n')], repo, { ...opts, signKey: key });
    const err = await publish([await pkg(fresh('in'), 'delta', '1.0', 'two\n')], repo, { ...opts, signKey: key }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PACKAGE_CONFLICT' });
  });

  it('a package that arrives signed is published byte for byte', async () => {
    const dir = fresh('in');
    const repo = join(fresh('repo'), 'repo');
    const p = await pkg(dir, 'epsilon');
    await signRpm(p, other);
    const before = sha256(p);
    await publish([p], repo, { ...opts, signKey: key });
    expect(sha256(join(repo, 'Packages', 'e', 'epsilon-1.0-1.noarch.rpm'))).toBe(before);
    await verifyRepomd(repo, publicKey);
  });

  it('a run with nothing to add repairs a missing or stale signature', async () => {
    const dir = fresh('in');
    const repo = join(fresh('repo'), 'repo');
    const p = await pkg(dir, 'zeta');
    await publish([p], repo, opts); // unsigned repository
    expect(existsSync(join(repo, 'repodata', 'repomd.xml.asc'))).toBe(false);
    const repomd = readFileSync(join(repo, 'repodata', 'repomd.xml'));
    const r = await publish([p], repo, { ...opts, signKey: key });
    expect(r.metadataWritten).toBe(false);
    expect(readFileSync(join(repo, 'repodata', 'repomd.xml'))).toEqual(repomd);
    await verifyRepomd(repo, publicKey);
    writeFileSync(join(repo, 'repodata', 'repomd.xml.asc'), readFileSync(join(repo, 'repodata', 'repomd.xml.asc'), 'utf8').replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA'));
    await publish([p], repo, { ...opts, signKey: key });
    await verifyRepomd(repo, publicKey);
  });

  it('refuses to publish without the key into a signed repository, writing nothing', async () => {
    const repo = join(fresh('repo'), 'repo');
    await publish([await pkg(fresh('in'), 'eta')], repo, { ...opts, signKey: key });
    const snapshot = tree(repo);
    const err = await publish([await pkg(fresh('in'), 'theta')], repo, opts).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'USAGE' });
    expect((err as Error).message).toMatch(/is signed .*--sign-key/);
    const after = tree(repo);
    delete after['.kpkg/lock'];
    delete snapshot['.kpkg/lock'];
    expect(after).toEqual(snapshot);
  });

  it('a prune (no key) removes the signature it would make stale; the next publish with the key signs again', async () => {
    const dir = fresh('in');
    const repo = join(fresh('repo'), 'repo');
    const a1 = await pkg(dir, 'kappa', '1.0');
    const a2 = await pkg(dir, 'kappa', '2.0');
    await publish([a1, a2], repo, { ...opts, signKey: key });
    await pruneRepository(repo, 1, opts);
    expect(existsSync(join(repo, 'repodata', 'repomd.xml.asc'))).toBe(false);
    expect(existsSync(join(repo, 'repodata', 'repomd.xml.key'))).toBe(true);
    const r = await publish([a2], repo, { ...opts, signKey: key });
    expect(r.unchanged).toEqual(['Packages/k/kappa-2.0-1.noarch.rpm']);
    await verifyRepomd(repo, publicKey);
  });

  it('kpkg publish --sign-key: a wrong passphrase exits 1 and creates nothing; the right one signs', async () => {
    const p = await pkg(fresh('in'), 'iota');
    const repo = join(fresh('repo'), 'repo');
    const wrong = await kpkgWith({ KPKG_SIGN_PASSPHRASE: 'wrong' }, 'publish', '-q', '--repo', repo, '--sign-key', lockedFile, p);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/wrong passphrase/);
    expect(existsSync(repo)).toBe(false);
    const right = await kpkgWith({ KPKG_SIGN_PASSPHRASE: 'right' }, 'publish', '-q', '--repo', repo, '--sign-key', lockedFile, p);
    expect(right.stderr).toBe('');
    expect(right.code).toBe(0);
    expect(existsSync(join(repo, 'repodata', 'repomd.xml.asc'))).toBe(true);
  });
});
