// kpkg publish, repo index and repo prune with every writing call failing in turn (inject.ts): the
// repository is left byte for byte as it was, lock included, and the next run succeeds.
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { checkRepository, publish } from '../../../packager/repo/publish.js';
import { writeRpm } from '../../../packager/rpm/writer.js';
import { scratch } from '../../helpers/files.js';
import { everyFault, type CliResult } from './inject.js';

vi.mock('node:fs/promises', async (real) => (await import('../../helpers/faults.js')).faultyPromises(await real()));
vi.mock('node:fs', async (real) => (await import('../../helpers/faults.js')).faultyFs(await real()));

const { fresh } = scratch('faults-repo');
const pkgs = fresh('packages');

async function pkg(name: string, version: string): Promise<string> {
  const path = join(pkgs, `${name}-${version}-1.noarch.rpm`);
  await writeRpm(
    {
      name,
      version,
      release: '1',
      arch: 'noarch',
      summary: `${name} of the fault tests`,
      description: 'A package of the fault-injection tests.',
      license: 'Apache-2.0',
      files: [
        { path: `/opt/${name}`, kind: 'dir' },
        { path: `/opt/${name}/README`, kind: 'file', content: `${name} ${version}\n` },
      ],
    },
    path,
    { sourceDateEpoch: 1_700_000_000 },
  );
  return path;
}

/** A repository made by `make`, copied afresh for every run. */
async function template(make: (repo: string) => Promise<void>): Promise<() => string> {
  const repo = fresh('template');
  await make(repo);
  return () => {
    const copy = fresh('repo');
    cpSync(repo, copy, { recursive: true });
    return copy;
  };
}

async function consistent(repo: string, r: CliResult, packages: number): Promise<void> {
  expect(r.code, r.stderr).toBe(0);
  expect(await checkRepository(repo)).toEqual({ ok: true, packages, problems: [] });
}

const quiet = { graceMs: 60_000 };

describe('a repository command that cannot write leaves the repository as it was', () => {
  it('kpkg publish: a new package, another already there, two segments merged', async () => {
    const [a, b] = [await pkg('apple', '1.0'), await pkg('banana', '1.0')];
    const copy = await template(async (repo) => void (await publish([a], repo, quiet)));
    const report = await everyFault({
      setup: () => {
        const repo = copy();
        return { dir: repo, args: ['publish', b, a, '--repo', repo, '-q'] };
      },
      check: (repo, r) => consistent(repo, r, 2),
    });
    console.log(report.points.join("\n")); console.log(`publish: ${report.points.length} failure points, tolerated: ${report.tolerated.join(', ') || 'none'}`);
  });

  it('kpkg publish into a new directory leaves no directory behind', async () => {
    const a = await pkg('apple', '1.0');
    const report = await everyFault({
      setup: () => {
        const parent = fresh('parent');
        return { dir: parent, args: ['publish', a, '--repo', join(parent, 'new', 'repo'), '-q'] };
      },
      check: (parent, r) => consistent(join(parent, 'new', 'repo'), r, 1),
    });
    console.log(`publish (new repository): ${report.points.length} failure points`);
  });

  it('kpkg repo index: a package dropped into Packages/', async () => {
    const [a, b, c] = [await pkg('apple', '1.0'), await pkg('banana', '1.0'), await pkg('cherry', '1.0')];
    const copy = await template(async (repo) => {
      await publish([a, b], repo, quiet);
      mkdirSync(join(repo, 'Packages', 'c'));
      cpSync(c, join(repo, 'Packages', 'c', 'cherry-1.0-1.noarch.rpm'));
    });
    const report = await everyFault({
      setup: () => {
        const repo = copy();
        return { dir: repo, args: ['repo', 'index', repo, '-q'] };
      },
      check: (repo, r) => consistent(repo, r, 3),
    });
    console.log(`repo index: ${report.points.length} failure points, tolerated: ${report.tolerated.join(', ') || 'none'}`);
  });

  it('kpkg repo prune: two of three versions leave the metadata', async () => {
    const versions = [await pkg('apple', '1.0'), await pkg('apple', '1.1'), await pkg('apple', '1.2')];
    const copy = await template(async (repo) => {
      for (const v of versions) await publish([v], repo, quiet);
    });
    const report = await everyFault({
      setup: () => {
        const repo = copy();
        return { dir: repo, args: ['repo', 'prune', repo, '--keep', '1', '-q'] };
      },
      check: (repo, r) => consistent(repo, r, 1),
    });
    console.log(`repo prune: ${report.points.length} failure points, tolerated: ${report.tolerated.join(', ') || 'none'}`);
  });
});
