// The order of a publish's writes, observed through the fs spy (test/helpers/faults.ts): every
// package file is fsynced before it is renamed into place, and all of them (and the directories
// they went into) before the metadata naming them is renamed into place; and durability is paid
// once per run: one fsync per package and per directory, not two per package.
import { basename, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { memoryTmpDir, scratch } from '../../helpers/files.js';
import { countCalls } from '../../helpers/faults.js';
import { consistent, kpkg, smallPackage } from './inject.js';

vi.mock('node:fs/promises', async (real) => (await import('../../helpers/faults.js')).faultyPromises(await real()));
vi.mock('node:fs', async (real) => (await import('../../helpers/faults.js')).faultyFs(await real()));

const { fresh } = scratch('faults-publish-order', memoryTmpDir());

describe('kpkg publish of many packages', () => {
  it('fsyncs each package before any is renamed into place, and all before the metadata', async () => {
    const pkgs = fresh('packages');
    // 60 packages over 6 first letters: several Packages/<letter>/ directories
    const files: string[] = [];
    for (const letter of ['a', 'b', 'c', 'd', 'e', 'f']) for (let i = 0; i < 10; i++) files.push(await smallPackage(pkgs, `${letter}pkg${i}`, '1.0'));
    const repo = join(fresh('parent'), 'repo');
    const { result, calls } = await countCalls(() => kpkg(['publish', ...files, '--repo', repo, '-q']));
    await consistent(repo, result, files.length);

    const index = (pred: (c: string) => boolean) => calls.findIndex(pred);
    const lastIndex = (pred: (c: string) => boolean) => calls.findLastIndex(pred);
    const kpkgTmp = (c: string, op: string, name: string) => c.startsWith(`${op} ${join(repo, '.kpkg', `.${name}.`)}`) && c.endsWith('.tmp');
    // the metadata that names the packages: the metadata files, the state, repomd.xml
    const metadataRename = index((c) => c.startsWith(`rename ${join(repo, 'repodata')}/`) || c.startsWith(`rename ${join(repo, '.kpkg', '.state.json')}`));
    expect(metadataRename).toBeGreaterThan(0);
    const firstPackageRename = index((c) => c.startsWith(`rename ${join(repo, '.kpkg')}/.`) && c.includes('.rpm.'));
    expect(firstPackageRename).toBeGreaterThan(0);
    for (const file of files) {
      const name = basename(file);
      const fsync = index((c) => kpkgTmp(c, 'fsync', name));
      const rename = index((c) => kpkgTmp(c, 'rename', name));
      expect(fsync, `${name} fsynced`).toBeGreaterThanOrEqual(0);
      expect(fsync, `${name} fsynced before any package is renamed into place`).toBeLessThan(firstPackageRename);
      expect(rename, `${name} renamed into place before the metadata`).toBeLessThan(metadataRename);
    }
    // each directory a package went into is fsynced after the last rename into it, before the metadata
    const lastPackageRename = lastIndex((c) => c.startsWith(`rename ${join(repo, '.kpkg')}/.`) && c.includes('.rpm.'));
    for (const letter of ['a', 'b', 'c', 'd', 'e', 'f']) {
      const dirSync = index((c) => c === `fsync ${join(repo, 'Packages', letter)}`);
      expect(dirSync, `Packages/${letter} fsynced`).toBeGreaterThan(lastPackageRename);
      expect(dirSync).toBeLessThan(metadataRename);
    }
    // and Packages/, made by this run, so that its entry in the repository survives too
    expect(index((c) => c === `fsync ${join(repo, 'Packages')}`)).toBeGreaterThan(lastPackageRename);

    // once per run: one fsync per package and per directory, plus the metadata's few
    const fsyncs = calls.filter((c) => c.startsWith('fsync ')).length;
    const packageFsyncs = calls.filter((c) => c.startsWith('fsync ') && c.includes('.rpm.')).length;
    expect(packageFsyncs).toBe(files.length);
    expect(fsyncs).toBeLessThan(files.length + 40);
  });
});
