// kpkg publish with every writing call failing in turn (inject.ts): the repository is left byte
// for byte as it was, lock included, and the next run succeeds.
import { cpSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { publish } from '../../../packager/repo/publish.js';
import { signatureCurrent } from '../../../packager/repo/signing.js';
import { loadSigningKey } from '../../../packager/sign/openpgp.js';
import { memoryTmpDir, scratch } from '../../helpers/files.js';
import { consistent, everyFault, report, signingKey, smallPackage } from './inject.js';

vi.mock('node:fs/promises', async (real) => (await import('../../helpers/faults.js')).faultyPromises(await real()));
vi.mock('node:fs', async (real) => (await import('../../helpers/faults.js')).faultyFs(await real()));

const { fresh } = scratch('faults-publish', memoryTmpDir());
const pkgs = fresh('packages');
const keyFile = signingKey(fresh('key'));
const quiet = { graceMs: 60_000 };

/** A repository made by `make`, copied afresh for every run. */
async function template(make: (repo: string) => Promise<unknown>): Promise<() => string> {
  const repo = fresh('template');
  await make(repo);
  return () => {
    const copy = fresh('repo');
    cpSync(repo, copy, { recursive: true });
    return copy;
  };
}

describe('kpkg publish that cannot write leaves the repository as it was', () => {
  it('a new package, another already there, two segments merged', async () => {
    const [a, b] = [await smallPackage(pkgs, 'apple', '1.0'), await smallPackage(pkgs, 'banana', '1.0')];
    const copy = await template((repo) => publish([a], repo, quiet));
    const r = await everyFault({
      setup: () => {
        const repo = copy();
        return { dir: repo, args: ['publish', b, a, '--repo', repo, '-q'] };
      },
      check: (repo, r) => consistent(repo, r, 2),
    });
    report('publish', r);
  });

  it('--sign-key into a signed repository: an unsigned package signed on the way, repomd.xml.asc', async () => {
    const [a, b] = [await smallPackage(pkgs, 'apple', '1.0'), await smallPackage(pkgs, 'banana', '1.0')];
    const copy = await template(async (repo) => publish([a], repo, { ...quiet, signKey: await loadSigningKey(keyFile) }));
    const r = await everyFault({
      setup: () => {
        const repo = copy();
        return { dir: repo, args: ['publish', b, '--repo', repo, '--sign-key', keyFile, '-q'] };
      },
      check: async (repo, r) => {
        await consistent(repo, r, 2);
        expect(await signatureCurrent(repo, await loadSigningKey(keyFile))).toBe(true);
      },
      // what signing adds: the signed copy of the package, repomd.xml.key, .asc and repomd.xml
      // (the rest is the publish above, and each run here signs, which is slow)
      only: (call) => !call.includes('/.kpkg/') && !/repodata\/\.(primary|filelists|other)\./.test(call),
    });
    report('publish --sign-key', r);
  });
});
