import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../../packager/assemble/build.js';
import { readRpm, verifyDigests } from '../../../packager/rpm/reader.js';
import { packageSignatures } from '../../../packager/sign/signatures.js';

const fixture = join(import.meta.dirname, '..', '..', 'fixtures', 'components', 'catalog-api');
const work = mkdtempSync(join(tmpdir(), 'kpkg-sign-build-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const keyFile = join(work, 'release.asc');
let keyId = '';

beforeAll(async () => {
  const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ email: 'r@example.invalid' }], passphrase: 'pw', format: 'armored' });
  writeFileSync(keyFile, privateKey);
  keyId = (await openpgp.readKey({ armoredKey: publicKey })).getKeyID().toHex();
});

describe('kpkg build --sign-key', () => {
  it('signs both RPMs it writes', async () => {
    const dir = join(work, 'ok');
    cpSync(fixture, dir, { recursive: true });
    process.env.KPKG_SIGN_PASSPHRASE = 'pw';
    try {
      const result = await build({ dir, skipBuild: true, signKey: keyFile });
      const rpms = result.artifacts.filter((a) => a.role !== 'sources');
      expect(rpms).toHaveLength(2);
      for (const a of rpms) {
        const pkg = await readRpm(a.file);
        expect(packageSignatures(pkg.signature).map((s) => [s.tagName, s.issuerKeyId])).toEqual([
          ['DSAHEADER', keyId],
          ['SIGGPG', keyId],
        ]);
        expect((await verifyDigests(pkg)).ok).toBe(true);
        expect(a.size).toBe(pkg.fileSize);
      }
    } finally {
      delete process.env.KPKG_SIGN_PASSPHRASE;
    }
  });

  it('a wrong passphrase fails before anything is written', async () => {
    const dir = join(work, 'wrong');
    cpSync(fixture, dir, { recursive: true });
    process.env.KPKG_SIGN_PASSPHRASE = 'not it';
    try {
      await expect(build({ dir, skipBuild: true, signKey: keyFile })).rejects.toMatchObject({ code: 'SIGN', message: expect.stringMatching(/wrong passphrase/) });
      expect(existsSync(join(dir, 'target')) ? readdirSync(join(dir, 'target')) : []).toEqual([]);
    } finally {
      delete process.env.KPKG_SIGN_PASSPHRASE;
    }
  });
});
