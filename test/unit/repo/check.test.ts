// `kpkg repo check` through the shared reader: every problem a reader would meet is listed, with
// the file and both values.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkRepository } from '../../../packager/repo/check.js';
import { publish } from '../../../packager/repo/publish.js';
import { writeRpm } from '../../../packager/rpm/writer.js';
import { scratch } from '../../helpers/files.js';

const { fresh } = scratch('repo-check');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function repoOf(names: string[]): Promise<string> {
  const input = fresh('input');
  const paths: string[] = [];
  for (const name of names) {
    const path = join(input, `${name}-1-1.noarch.rpm`);
    await writeRpm({ name, version: '1', release: '1', arch: 'noarch', summary: 's', description: 'd', license: 'MIT', files: [{ path: `/opt/${name}`, kind: 'file', content: `${name}\n` }] }, path, { sourceDateEpoch: 1_700_000_000 });
    paths.push(path);
  }
  const repo = fresh('repo');
  await publish(paths, repo, {});
  return repo;
}

const hrefOf = (repo: string, type: string) => new RegExp(`<data type="${type}">[\\s\\S]*?<location href="([^"]+)"`).exec(readFileSync(join(repo, 'repodata', 'repomd.xml'), 'utf8'))![1]!;

describe('checkRepository', () => {
  it('lists every problem: a changed package, a missing one, a missing metadata file', async () => {
    const repo = await repoOf(['a', 'b', 'c']);
    expect(await checkRepository(repo)).toEqual({ ok: true, packages: 3, problems: [] });
    const a = join(repo, 'Packages/a/a-1-1.noarch.rpm');
    const before = sha256(readFileSync(a));
    writeFileSync(a, Buffer.concat([readFileSync(a), Buffer.from('x')]));
    rmSync(join(repo, 'Packages/b/b-1-1.noarch.rpm'));
    const other = hrefOf(repo, 'other');
    rmSync(join(repo, other));
    const report = await checkRepository(repo);
    expect(report).toEqual({
      ok: false,
      packages: 3,
      problems: [
        `${other}: listed by repomd.xml, missing`,
        `Packages/a/a-1-1.noarch.rpm: sha256 ${sha256(readFileSync(a))}, primary says ${before}`,
        'Packages/b/b-1-1.noarch.rpm: listed by primary, missing',
      ],
    });
  });

  it('names a metadata file whose checksums or XML are wrong', async () => {
    const repo = await repoOf(['a']);
    const primary = hrefOf(repo, 'primary');
    const good = readFileSync(join(repo, primary));
    const broken = gzipSync(Buffer.from('<?xml version="1.0"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" packages="1"><package type="rpm">'));
    writeFileSync(join(repo, primary), broken);
    const report = await checkRepository(repo);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toBe(`${primary}: sha256 ${sha256(broken)}, repomd.xml says ${sha256(good)}`);
    expect(report.problems[1]).toBe(`${primary}: ${broken.length} bytes, repomd.xml says ${good.length}`);
    expect(report.problems[2]).toMatch(new RegExp(`^${primary}: open sha256 [0-9a-f]{64}, repomd\\.xml says [0-9a-f]{64}$`));
    expect(report.problems[3]).toMatch(new RegExp(`^${primary} at byte \\d+: line 2, column \\d+: the document ends inside <package> \\(truncated\\)$`));
  });

  it('reports a repomd.xml that is missing or not XML, and a location outside the repository', async () => {
    const repo = await repoOf(['a']);
    const repomd = join(repo, 'repodata', 'repomd.xml');
    const text = readFileSync(repomd, 'utf8');
    writeFileSync(repomd, text.replace(/<location href="[^"]+"/, '<location href="../../../etc/passwd"'));
    expect((await checkRepository(repo)).problems[0]).toMatch(/^\.\.\/\.\.\/\.\.\/etc\/passwd: repomd\.xml: location "\.\.\/\.\.\/\.\.\/etc\/passwd" points outside the repository/);
    writeFileSync(repomd, '<repomd');
    expect((await checkRepository(repo)).problems[0]).toMatch(/^repomd\.xml: line 1, column \d+: /);
    rmSync(repomd);
    expect((await checkRepository(repo)).problems[0]).toMatch(/^repodata\/repomd\.xml: ENOENT/);
  });
});
