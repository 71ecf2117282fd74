// kpkg build and kpkg sign with every writing call failing in turn (inject.ts): the output
// directory (or the packages signed) left byte for byte as they were, and the next run succeeds.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readCandidate } from '../../../packager/repo/read.js';
import { readRpm } from '../../../packager/rpm/reader.js';
import { packageSignatures } from '../../../packager/sign/signatures.js';
import { listFiles, memoryTmpDir, scratch, sha256File } from '../../helpers/files.js';
import { everyFault, kpkg, report, signingKey, type CliResult } from './inject.js';

vi.mock('node:fs/promises', async (real) => (await import('../../helpers/faults.js')).faultyPromises(await real()));
vi.mock('node:fs', async (real) => (await import('../../helpers/faults.js')).faultyFs(await real()));

const { fresh } = scratch('faults-build', memoryTmpDir());
const component = join(fresh('component'), 'shop');
cpSync(join(import.meta.dirname, '..', '..', 'fixtures', 'components', 'shop'), component, { recursive: true });
const keyFile = signingKey(fresh('key'));
const epoch = process.env.SOURCE_DATE_EPOCH;
beforeAll(() => void (process.env.SOURCE_DATE_EPOCH = '1700000000'));
afterAll(() => {
  if (epoch === undefined) delete process.env.SOURCE_DATE_EPOCH;
  else process.env.SOURCE_DATE_EPOCH = epoch;
});

/** The package is whole (its digests match: readCandidate throws otherwise) and has our two signatures. */
async function expectSigned(rpm: string): Promise<void> {
  await readCandidate(rpm);
  expect(packageSignatures((await readRpm(rpm)).signature)).toHaveLength(2);
}

interface Artifact {
  role: string;
  file: string;
  sha256: string;
}

/** What a successful build printed is what is in the output directory, and nothing else is new there. */
function builtInto(output: string, r: CliResult, others: string[]): Artifact[] {
  expect(r.code, r.stderr).toBe(0);
  const artifacts = (JSON.parse(r.stdout) as { artifacts: Artifact[] }).artifacts;
  expect(artifacts.map((a) => a.role)).toEqual(['application', 'deployment', 'sources']);
  for (const a of artifacts) expect(sha256File(a.file), a.file).toBe(a.sha256);
  expect(listFiles(output)).toEqual([...new Set([...others, ...artifacts.map((a) => a.file.slice(output.length + 1))])].sort());
  return artifacts;
}

describe('a build that cannot write leaves the output directory as it was', () => {
  it('kpkg build --sign-key (gzip) over an earlier build of the same version', async () => {
    // the names a build writes, to put other bytes under them first: replacing some but not all shows
    const probe = join(fresh('probe'), 'target');
    const names = builtInto(probe, await kpkg(['build', component, '--skip-build', '--output', probe, '--json']), []).map((a) => a.file.split('/').pop()!);
    const earlier = [...names, 'notes.txt'];
    const r = await everyFault({
      setup: () => {
        const output = fresh('output');
        for (const name of earlier) writeFileSync(join(output, name), `an earlier ${name}\n`);
        return { dir: output, args: ['build', component, '--skip-build', '--output', output, '--sign-key', keyFile, '--json'] };
      },
      check: async (output, r) => {
        const [app, deploy] = builtInto(output, r, earlier);
        for (const a of [app!, deploy!]) await expectSigned(a.file);
      },
    });
    report('build --sign-key', r);
  });

  it('kpkg build --compress zstd into a directory it creates', async () => {
    const r = await everyFault({
      setup: () => {
        const parent = fresh('parent');
        return { dir: parent, args: ['build', component, '--skip-build', '--compress', 'zstd', '--output', join(parent, 'new', 'target'), '--json'] };
      },
      check: async (parent, r) => {
        for (const a of builtInto(join(parent, 'new', 'target'), r, [])) if (a.role !== 'sources') await readCandidate(a.file);
      },
    });
    report('build --compress zstd', r);
  });
});

describe('kpkg sign that cannot write leaves every package as it was', () => {
  it('two packages signed in place', async () => {
    const built = join(fresh('built'), 'target');
    const rpms = builtInto(built, await kpkg(['build', component, '--skip-build', '--output', built, '--json']), [])
      .filter((a) => a.role !== 'sources')
      .map((a) => a.file.split('/').pop()!);
    const r = await everyFault({
      setup: () => {
        const dir = fresh('sign');
        for (const f of rpms) cpSync(join(built, f), join(dir, f));
        mkdirSync(join(dir, 'unrelated'));
        return { dir, args: ['sign', '--key', keyFile, ...rpms.map((f) => join(dir, f))] };
      },
      check: async (dir, r) => {
        expect(r.code, r.stderr).toBe(0);
        expect(listFiles(dir)).toEqual([...rpms].sort());
        for (const f of rpms) await expectSigned(join(dir, f));
      },
    });
    report('sign', r);
  });
});
