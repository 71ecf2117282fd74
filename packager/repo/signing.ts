/**
 * What `kpkg publish --sign-key` adds to publishing (publish.ts): packages that arrive unsigned
 * are signed, and `repodata/repomd.xml` gets a detached armored signature `repomd.xml.asc` and the
 * public key `repomd.xml.key` (what dnf's `repo_gpgcheck` and `gpgkey` read).
 *
 * Unsigned packages: the caller's file is never touched. A copy is made in a private temporary
 * directory, signed there (signRpm: only the signature header changes, the main header and the
 * payload are kept byte for byte), and that signed copy is what is read, checksummed and copied
 * into the repository. The signing happens before the lock is taken; the reading, with it held
 * (publish.ts).
 *
 * Immutability with signing: an OpenPGP signature carries its creation time, so signing the same
 * file twice gives two different files. The same unsigned package published twice with the same
 * key must still be a no-op, so for a package that we signed the published twin is recognised by
 * its content digest: the sha256 of every byte from the main header to the end (main header and
 * payload, which signing never changes), instead of the sha256 of the whole file. We chose this
 * over recording the original file's sha256 in .kpkg/state.json because it needs no change to the
 * state's format, survives `kpkg repo index` (which rebuilds the state from the files), and also
 * recognises an unsigned package whose signed copy was published by `kpkg sign` + publish. Only
 * the unsigned-candidate case is relaxed: a package that arrives signed is compared byte for byte,
 * as without --sign-key (a package re-signed with another key is other bytes, refused).
 *
 * repomd.xml.asc: the signature is made over the exact bytes of the new repomd.xml before
 * repomd.xml is replaced; both are written and fsynced under temporary names beside their
 * places; then repomd.xml is renamed into place and the signature renamed IMMEDIATELY after (two
 * rename calls in a row, the directory fsynced after both). No order of two renames
 * of two files is atomic for a reader who fetches the files separately, as dnf does (repomd.xml,
 * then repomd.xml.asc): during the microseconds between the renames a reader can pair the new
 * repomd.xml with the previous signature (or, in the other order, the old repomd.xml with the new
 * signature). dnf then reports a signature error for that refresh and the next refresh succeeds;
 * nothing it has cached is wrong. A publisher killed between the two renames leaves a stale .asc:
 * the next publish with the key notices (the signature does not verify) and signs again, even when
 * it has no package to add.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as openpgp from 'openpgp';
import { KpkgError, ioError } from '../errors.js';
import { readRpm } from '../rpm/reader.js';
import type { SigningKey } from '../sign/openpgp.js';
import type { Progress } from '../util/progress.js';
import { signDetached } from '../sign/openpgp.js';
import { signRpm } from '../sign/rpm.js';
import { packageSignatures } from '../sign/signatures.js';
import { copyTimes, fsyncDir, writeDurable, writeTemp } from '../util/fs.js';

export const REPOMD_ASC = 'repomd.xml.asc';
export const REPOMD_KEY = 'repomd.xml.key';

/** sha256 of the package from its main header to its end: what signing never changes. */
export async function contentDigest(path: string, headerOffset?: number): Promise<string> {
  const from = headerOffset ?? (await readRpm(path)).headerOffset;
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { start: from })) hash.update(chunk as Buffer);
  } catch (e) {
    throw ioError('read', path, e);
  }
  return hash.digest('hex');
}

export interface StagedPackage {
  /** what the caller gave */
  original: string;
  /** the file to read and publish: the original, or a signed copy of it */
  path: string;
  /** set when `path` is a copy we signed: the content digest (contentDigest) of the original */
  content?: string;
}

export interface Staged {
  packages: StagedPackage[];
  /** removes the signed copies */
  cleanup(): Promise<void>;
}

/**
 * Signs a copy of every package of `rpms` that has no signature; the others are published as
 * they are. A package that cannot be read is left for the reader to report (exit 2).
 */
export async function stageSigned(rpms: readonly string[], key: SigningKey, progress?: Progress): Promise<Staged> {
  let dir: string | undefined;
  const cleanup = async () => {
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  };
  const packages: StagedPackage[] = [];
  try {
    for (const [i, original] of rpms.entries()) {
      let pkg;
      try {
        pkg = await readRpm(original);
      } catch {
        packages.push({ original, path: original }); // readCandidate reports it
        continue;
      }
      if (packageSignatures(pkg.signature).length > 0) {
        packages.push({ original, path: original });
        continue;
      }
      dir ??= await mkdtemp(join(tmpdir(), 'kpkg-publish-sign-'));
      const copy = join(dir, `${i}-${basename(original)}`);
      try {
        await copyFile(original, copy);
      } catch (e) {
        throw ioError('copy', original, e);
      }
      const content = await contentDigest(copy, pkg.headerOffset);
      await signRpm(copy, key);
      try {
        // after signing, which rewrites the copy: the record's file time is the original's
        await copyTimes(await stat(original), copy);
      } catch (e) {
        throw ioError('copy', original, e);
      }
      progress?.status(`signing ${original} with key ${key.keyId}`);
      packages.push({ original, path: copy, content });
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  return { packages, cleanup };
}

/** Whether repodata/ holds our public key and a signature of the current repomd.xml by it. */
export async function signatureCurrent(repo: string, key: SigningKey): Promise<boolean> {
  try {
    const repodata = join(repo, 'repodata');
    const [repomd, asc, pub] = await Promise.all([readFile(join(repodata, 'repomd.xml')), readFile(join(repodata, REPOMD_ASC), 'utf8'), readFile(join(repodata, REPOMD_KEY), 'utf8')]);
    if (pub !== key.publicKeyArmored) return false;
    const { signatures } = await openpgp.verify({
      message: await openpgp.createMessage({ binary: repomd }),
      signature: await openpgp.readSignature({ armoredSignature: asc }),
      verificationKeys: key.key.toPublic(),
    });
    if (signatures.length === 0) return false;
    await signatures[0]!.verified;
    return true;
  } catch {
    return false;
  }
}


/**
 * Prepares `repomd` (the exact bytes about to become repodata/repomd.xml) and its signature:
 * writes repomd.xml.key if it changed, then, fsynced under temporary names, the signature and
 * (with `writeRepomd`) repomd.xml itself. `install()` renames repomd.xml into place, then at once
 * the signature, then fsyncs the directory: the two renames follow each other with nothing between.
 */
export async function prepareRepomdSignature(repo: string, repomd: string | Uint8Array, key: SigningKey, writeRepomd = false): Promise<{ install(): Promise<void>; abandon(): Promise<void> }> {
  const repodata = join(repo, 'repodata');
  const keyPath = join(repodata, REPOMD_KEY);
  const current = await readFile(keyPath, 'utf8').catch(() => undefined);
  if (current !== key.publicKeyArmored) await writeDurable(keyPath, key.publicKeyArmored);
  const bytes = typeof repomd === 'string' ? Buffer.from(repomd, 'utf8') : repomd;
  const asc = await signDetached(bytes, key);
  const ascPath = join(repodata, REPOMD_ASC);
  const repomdPath = join(repodata, 'repomd.xml');
  const ascTmp = await writeTemp(ascPath, asc);
  let repomdTmp: string | undefined;
  try {
    if (writeRepomd) repomdTmp = await writeTemp(repomdPath, bytes);
  } catch (e) {
    await rm(ascTmp, { force: true });
    throw e;
  }
  const abandon = async () => {
    await rm(ascTmp, { force: true });
    if (repomdTmp) await rm(repomdTmp, { force: true });
  };
  return {
    async install() {
      let step = repomdPath;
      try {
        if (repomdTmp) await rename(repomdTmp, repomdPath);
        step = ascPath;
        await rename(ascTmp, ascPath);
      } catch (e) {
        await abandon();
        throw ioError('write', step, e);
      }
      await fsyncDir(repodata);
    },
    abandon,
  };
}

/** Signs the repomd.xml that is there (a run that changed no metadata, the signature stale or missing). */
export async function signCurrentRepomd(repo: string, key: SigningKey): Promise<void> {
  let repomd: Buffer;
  try {
    repomd = await readFile(join(repo, 'repodata', 'repomd.xml'));
  } catch (e) {
    throw ioError('read', join(repo, 'repodata', 'repomd.xml'), e);
  }
  const sig = await prepareRepomdSignature(repo, repomd, key);
  await sig.install();
}

/** Refuses to publish into a signed repository without the key: its signature would go stale. */
export async function refuseUnsignedIntoSigned(repo: string): Promise<void> {
  const asc = join(repo, 'repodata', REPOMD_ASC);
  const exists = await stat(asc).then(
    () => true,
    () => false,
  );
  if (exists) {
    throw new KpkgError('USAGE', `${repo} is signed (repodata/${REPOMD_ASC}): publish with --sign-key, or its repomd.xml would no longer match the signature`);
  }
}
