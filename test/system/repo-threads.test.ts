// The repository index read on worker threads (the default on 4 cores or more) gives the same
// metadata bytes as one thread: packages are read in blocks of a fixed size whatever the number
// of threads. Here because workers run only from the compiled module (dist/).
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeRpm } from '../../packager/rpm/writer.js';
import { REPO_ROOT } from './helpers/components.js';
import { tmpDir } from './tools.js';

type Publish = typeof import('../../packager/repo/index.js');

describe('repository index on worker threads', () => {
  it('writes the same metadata files with 1, 2 and 3 threads, and a repository that checks', async () => {
    const { checkRepository, indexRepository } = (await import(join(REPO_ROOT, 'dist', 'packager', 'repo', 'index.js'))) as Publish;
    const packages = tmpDir('threads-pkgs');
    // 700 packages: three blocks of 256 and a partial one
    for (let i = 0; i < 700; i++) {
      const name = `t${String(i).padStart(4, '0')}`;
      await writeRpm(
        {
          name,
          version: `1.${i % 5}`,
          release: '1',
          arch: 'noarch',
          summary: `package ${i} é`,
          description: `number ${i}`,
          license: 'MIT',
          requires: [{ name: `t${String((i * 7) % 700).padStart(4, '0')}` }],
          files: [{ path: `/opt/${name}/index.js`, kind: 'file', content: `module.exports = ${i};\n` }],
        },
        join(packages, `${name}.rpm`),
        { sourceDateEpoch: 1_700_000_000 },
      );
    }
    const results = new Map<number, Map<string, Buffer>>();
    for (const threads of [1, 2, 3]) {
      const repo = tmpDir(`threads-${threads}`);
      cpSync(packages, repo, { recursive: true, preserveTimestamps: true }); // the file time is in primary.xml
      const r = await indexRepository(repo, { threads });
      expect(r.packages).toBe(700);
      expect(await checkRepository(repo)).toMatchObject({ ok: true, packages: 700 });
      const data = join(repo, 'repodata');
      results.set(threads, new Map(readdirSync(data).filter((n) => n !== 'repomd.xml').map((n) => [n, readFileSync(join(data, n))])));
    }
    const one = results.get(1)!;
    expect(one.size).toBe(3);
    for (const threads of [2, 3]) {
      const other = results.get(threads)!;
      expect([...other.keys()].sort()).toEqual([...one.keys()].sort());
      for (const [name, bytes] of one) expect(other.get(name)!.equals(bytes)).toBe(true);
    }
  });
});
