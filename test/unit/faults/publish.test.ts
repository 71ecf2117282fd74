// kpkg publish with every writing call failing in turn (inject.ts): the repository is left byte
// for byte as it was, lock included, and the next run succeeds.
import { cpSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { publish } from '../../../packager/repo/publish.js';
import { signatureCurrent } from '../../../packager/repo/signing.js';
import { loadSigningKey } from '../../../packager/sign/openpgp.js';
import { SYNCFS_MIN_FILES } from '../../../packager/util/fs.js';
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

  it('many packages (one syncfs): the packages placed while the metadata is written, each of their writes failing in turn', async () => {
    // with SYNCFS_MIN_FILES new packages, they are synced by a `sync -f` process and renamed while the
    // segment and the metadata files are written (publish.ts): a failure on either side must wait
    // for the other before the run is undone
    const many = fresh('many');
    const files: string[] = [];
    for (let i = 0; i <= SYNCFS_MIN_FILES; i++) files.push(await smallPackage(many, `p${String(i).padStart(2, '0')}`, '1.0'));
    const copy = await template((repo) => publish([files[0]!], repo, quiet));
    const r = await everyFault({
      setup: () => {
        const repo = copy();
        return { dir: repo, args: ['publish', ...files, '--repo', repo, '-q'] };
      },
      check: (repo, r) => consistent(repo, r, files.length),
      // (bounded work: a loaded machine runs this too; the test above fails every call with two
      // packages) the renames of a first, a middle and the last package, and the creation, fsync
      // and rename of each segment and metadata file
      only: (call) =>
        (call.startsWith('rename ') && /\/\.kpkg\/incoming\/\.p(01|16|32)-/.test(call)) ||
        (/^(open|fsync|rename) /.test(call) && (call.includes('/.kpkg/segments/') || call.includes('/repodata/'))),
    });
    expect(r.points.length).toBeGreaterThan(20);
    report('publish, many packages', r);
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
