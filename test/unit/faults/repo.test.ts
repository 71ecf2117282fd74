// kpkg publish into a new directory, repo index and repo prune with every writing call failing in turn (inject.ts): the
// repository is left byte for byte as it was, lock included, and the next run succeeds.
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, vi } from 'vitest';
import { publish } from '../../../packager/repo/publish.js';
import { memoryTmpDir, scratch } from '../../helpers/files.js';
import { consistent, everyFault, report, smallPackage } from './inject.js';

vi.mock('node:fs/promises', async (real) => (await import('../../helpers/faults.js')).faultyPromises(await real()));
vi.mock('node:fs', async (real) => (await import('../../helpers/faults.js')).faultyFs(await real()));

const { fresh } = scratch('faults-repo', memoryTmpDir());
const pkgs = fresh('packages');
const quiet = { graceMs: 60_000 };

describe('a repository command that cannot write leaves the repository as it was', () => {
  it('kpkg publish into a new directory: no directory left behind', async () => {
    const a = await smallPackage(pkgs, 'apple', '1.0');
    const r = await everyFault({
      setup: () => {
        const parent = fresh('parent');
        return { dir: parent, args: ['publish', a, '--repo', join(parent, 'new', 'repo'), '-q'] };
      },
      check: (parent, r) => consistent(join(parent, 'new', 'repo'), r, 1),
    });
    report('publish into a new directory', r);
  });

  it('kpkg repo index: a package dropped into Packages/', async () => {
    const [a, b, c] = [await smallPackage(pkgs, 'apple', '1.0'), await smallPackage(pkgs, 'banana', '1.0'), await smallPackage(pkgs, 'cherry', '1.0')];
    const template = fresh('template');
    await publish([a, b], template, quiet);
    mkdirSync(join(template, 'Packages', 'c'));
    cpSync(c, join(template, 'Packages', 'c', 'cherry-1.0-1.noarch.rpm'));
    const r = await everyFault({
      setup: () => {
        const repo = fresh('repo');
        cpSync(template, repo, { recursive: true });
        return { dir: repo, args: ['repo', 'index', repo, '-q'] };
      },
      check: (repo, r) => consistent(repo, r, 3),
    });
    report('repo index', r);
  });

  it('kpkg repo prune: two of three versions leave the metadata', async () => {
    const template = fresh('template');
    for (const v of ['1.0', '1.1', '1.2']) await publish([await smallPackage(pkgs, 'apple', v)], template, quiet);
    const r = await everyFault({
      setup: () => {
        const repo = fresh('repo');
        cpSync(template, repo, { recursive: true });
        return { dir: repo, args: ['repo', 'prune', repo, '--keep', '1', '-q'] };
      },
      check: (repo, r) => consistent(repo, r, 1),
    });
    report('repo prune', r);
  });
});
