// The order of a publish's writes, observed through the fs spy (test/helpers/faults.ts): every
// package file is made durable before the directories it is renamed into are fsynced, and all of
// it before what names the packages (.kpkg/state.json, repodata/repomd.xml) is renamed into place;
// the metadata files repomd.xml names are written meanwhile (nothing names them yet: session.ts
// commit), each fsynced and renamed, and repodata/ fsynced, before repomd.xml; and durability is
// paid once per run: below SYNCFS_MIN_FILES packages one fsync per package and per directory, from
// it one syncfs of the file system (a `sync -f` process, which the spy does not see) and no fsync
// per package. The packages are written and renamed with synchronous calls, which the spy counts
// as the others.
import { basename, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { memoryTmpDir, scratch } from '../../helpers/files.js';
import { countCalls } from '../../helpers/faults.js';
import { SYNCFS_MIN_FILES, syncfsReportsErrors } from '../../../packager/util/fs.js';
import { consistent, kpkg, smallPackage } from './inject.js';

vi.mock('node:fs/promises', async (real) => (await import('../../helpers/faults.js')).faultyPromises(await real()));
vi.mock('node:fs', async (real) => (await import('../../helpers/faults.js')).faultyFs(await real()));

const { fresh } = scratch('faults-publish-order', memoryTmpDir());
const LETTERS = ['a', 'b', 'c', 'd', 'e', 'f'];

/** Where the first rename of what names the packages is: the state's or repomd.xml's. */
function namingRename(repo: string, calls: string[]): number {
  return calls.findIndex((c) => c.startsWith(`rename ${join(repo, '.kpkg', '.state.json')}`) || c.startsWith(`rename ${join(repo, 'repodata', '.repomd.xml')}`));
}

/** Every metadata file fsynced, then renamed, then repodata/ fsynced, all before repomd.xml is renamed. */
function metadataBeforeRepomd(repo: string, calls: string[]): void {
  const repomd = calls.findIndex((c) => c.startsWith(`rename ${join(repo, 'repodata', '.repomd.xml')}`));
  expect(repomd).toBeGreaterThan(0);
  const renames = calls.flatMap((c, i) => (/\/repodata\/\.[0-9a-f]{64}-(primary|filelists|other)\.xml\.gz\./.test(c) && c.startsWith('rename ') ? [i] : []));
  expect(renames).toHaveLength(3);
  for (const i of renames) {
    const tmp = calls[i]!.slice('rename '.length);
    const fsync = calls.indexOf(`fsync ${tmp}`);
    expect(fsync, tmp).toBeGreaterThanOrEqual(0);
    expect(fsync, tmp).toBeLessThan(i);
    expect(i, tmp).toBeLessThan(repomd);
  }
  const dirSync = calls.lastIndexOf(`fsync ${join(repo, 'repodata')}`, repomd);
  expect(dirSync).toBeGreaterThan(Math.max(...renames));
}

async function publishMany(perLetter: number): Promise<{ repo: string; files: string[]; calls: string[] }> {
  const pkgs = fresh('packages');
  const files: string[] = [];
  for (const letter of LETTERS) for (let i = 0; i < perLetter; i++) files.push(await smallPackage(pkgs, `${letter}pkg${i}`, '1.0'));
  const repo = join(fresh('parent'), 'repo');
  const { result, calls } = await countCalls(() => kpkg(['publish', ...files, '--repo', repo, '-q']));
  await consistent(repo, result, files.length);
  return { repo, files, calls };
}

describe('kpkg publish of many packages', () => {
  it('below SYNCFS_MIN_FILES: fsyncs each package, then the directories they went into, all before the state and repomd.xml', async () => {
    const perLetter = Math.floor((SYNCFS_MIN_FILES - 1) / LETTERS.length);
    const { repo, files, calls } = await publishMany(perLetter);
    const index = (pred: (c: string) => boolean) => calls.findIndex(pred);
    const staged = (c: string, name: string) => c.startsWith(`fsync ${join(repo, '.kpkg', 'incoming', `.${name}.`)}`) && c.endsWith('.tmp');
    // what names the packages: the state, repomd.xml
    const metadataRename = namingRename(repo, calls);
    expect(metadataRename).toBeGreaterThan(0);
    metadataBeforeRepomd(repo, calls);
    const firstDirSync = index((c) => c.startsWith(`fsync ${join(repo, 'Packages')}`));
    expect(firstDirSync).toBeGreaterThan(0);
    for (const file of files) {
      const fsync = index((c) => staged(c, basename(file)));
      expect(fsync, `${basename(file)} fsynced`).toBeGreaterThanOrEqual(0);
      expect(fsync, `${basename(file)} fsynced before the directories`).toBeLessThan(firstDirSync);
      const rename = index((c) => c.startsWith(`rename ${join(repo, '.kpkg', 'incoming', `.${basename(file)}.`)}`));
      expect(rename, `${basename(file)} renamed into Packages/ after its fsync`).toBeGreaterThan(fsync);
      expect(rename, `${basename(file)} renamed before the directories are fsynced`).toBeLessThan(firstDirSync);
    }
    for (const letter of LETTERS) {
      const dirSync = index((c) => c === `fsync ${join(repo, 'Packages', letter)}`);
      expect(dirSync, `Packages/${letter} fsynced`).toBeGreaterThan(0);
      expect(dirSync).toBeLessThan(metadataRename);
    }
    // and Packages/, made by this run, so that its entry in the repository survives too
    expect(index((c) => c === `fsync ${join(repo, 'Packages')}`)).toBeLessThan(metadataRename);
    expect(calls.filter((c) => c.startsWith('fsync ') && c.includes('.rpm.')).length).toBe(files.length);
  });

  // where syncfs does not report write-back errors (Linux before 5.8), each package is fsynced
  it.skipIf(!syncfsReportsErrors())('from SYNCFS_MIN_FILES: no fsync per package, the directories fsynced before the state and repomd.xml', async () => {
    const { repo, files, calls } = await publishMany(Math.ceil(SYNCFS_MIN_FILES / LETTERS.length) + 2);
    expect(files.length).toBeGreaterThanOrEqual(SYNCFS_MIN_FILES);
    const index = (pred: (c: string) => boolean) => calls.findIndex(pred);
    const metadataRename = namingRename(repo, calls);
    expect(metadataRename).toBeGreaterThan(0);
    metadataBeforeRepomd(repo, calls);
    for (const letter of LETTERS) expect(index((c) => c === `fsync ${join(repo, 'Packages', letter)}`)).toBeLessThan(metadataRename);
    expect(calls.filter((c) => c.startsWith('fsync ') && c.includes('.rpm.'))).toEqual([]);
    // once per run: the directories and the metadata's few
    expect(calls.filter((c) => c.startsWith('fsync ')).length).toBeLessThan(40);
  });
});
