/**
 * The repository's read path on worker threads (read.ts readMany, read-worker.ts), in the unit
 * suite: workers load compiled JavaScript only, so the packager is transpiled here (TypeScript's
 * transpileModule, no type check: tsc checks the sources) into a temporary tree, and that tree's
 * `kpkg repo index` runs with 1 and 2 threads. The metadata must be the same bytes, and the same
 * as the TypeScript sources give in this thread. (test/system/repo-threads.test.ts does the same
 * from dist/, with 3 threads and 700 packages.)
 */
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish } from '../../../packager/repo/publish.js';
import { indexRepository } from '../../../packager/repo/reindex.js';
import { writeRpm } from '../../../packager/rpm/writer.js';

type RepoModule = typeof import('../../../packager/repo/index.js');

const ROOT = join(import.meta.dirname, '..', '..', '..');
const work = mkdtempSync(join(tmpdir(), 'kpkg-read-threads-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every .ts file under `dir`, recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** packager/ transpiled to JavaScript under `out`, beside a package.json that makes it ESM. */
function transpilePackager(out: string): void {
  for (const file of sources(join(ROOT, 'packager'))) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
      fileName: file,
    });
    const target = join(out, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'));
  // paths.ts finds schema/ and templates/ from the package root
  symlinkSync(join(ROOT, 'schema'), join(out, 'schema'));
}

/** The metadata files of repodata/ (repomd.xml aside: it carries the time of the run), by name. */
function metadataFiles(repo: string): Map<string, Buffer> {
  const data = join(repo, 'repodata');
  return new Map(readdirSync(data).filter((n) => n !== 'repomd.xml').map((n) => [n, readFileSync(join(data, n))]));
}

describe('reading a repository on worker threads', () => {
  const packages = join(work, 'packages');
  let compiled: RepoModule;

  beforeAll(async () => {
    const out = join(work, 'js');
    transpilePackager(out);
    compiled = (await import(join(out, 'packager', 'repo', 'index.js'))) as RepoModule;
    // 300 packages: one block of 256 and a partial one, so that two workers share them
    mkdirSync(packages);
    for (let i = 0; i < 300; i++) {
      const name = `w${String(i).padStart(3, '0')}`;
      await writeRpm(
        {
          name,
          version: `1.${i % 3}`,
          release: '1',
          summary: `package ${i} é`,
          description: `number ${i}`,
          license: 'MIT',
          requires: [{ name: `w${String((i * 7) % 300).padStart(3, '0')}` }],
          files: [{ path: `/opt/${name}/index.js`, kind: 'file', content: `export default ${i};\n` }],
        },
        join(packages, `${name}.rpm`),
        { sourceDateEpoch: 1_700_000_000 },
      );
    }
  }, 120_000);

  it('1 and 2 threads of the compiled reader write the same metadata as the sources in this thread', async () => {
    const results: Map<string, Buffer>[] = [];
    for (const threads of [1, 2]) {
      const repo = join(work, `repo-${threads}`);
      cpSync(packages, repo, { recursive: true, preserveTimestamps: true }); // the file time is in primary.xml
      const r = await compiled.indexRepository(repo, { threads });
      expect(r.packages).toBe(300);
      expect(await compiled.checkRepository(repo)).toMatchObject({ ok: true, packages: 300 });
      results.push(metadataFiles(repo));
    }
    const here = join(work, 'repo-sources');
    cpSync(packages, here, { recursive: true, preserveTimestamps: true });
    await indexRepository(here, {});
    results.push(metadataFiles(here));
    const [one, ...others] = results;
    expect(one?.size).toBe(3);
    for (const other of others) {
      expect([...other.keys()].sort()).toEqual([...(one?.keys() ?? [])].sort());
      for (const [name, bytes] of one ?? []) expect(other.get(name)?.equals(bytes)).toBe(true);
    }
  }, 120_000);

  it('kpkg publish on 2 threads of the compiled reader and in this thread: the same metadata; each package copied as read, readable, with its times; nothing left in .kpkg/incoming', async () => {
    const files = readdirSync(packages).sort().map((n) => join(packages, n));
    // a source only its owner may read is still published readable by the web server
    chmodSync(files[0] as string, 0o600);
    const results: Map<string, Buffer>[] = [];
    for (const [label, run] of [
      ['compiled, 2 threads', (repo: string) => compiled.publish(files, repo, { threads: 2 })],
      ['sources, this thread', (repo: string) => publish(files, repo, {})],
    ] as const) {
      const repo = join(work, `publish-${results.length}`);
      const r = await run(repo);
      expect(r.added, label).toHaveLength(300);
      expect(await compiled.checkRepository(repo)).toMatchObject({ ok: true, packages: 300 });
      expect(existsSync(join(repo, '.kpkg', 'incoming')), label).toBe(false);
      expect(readdirSync(join(repo, '.kpkg')).filter((n) => n.endsWith('.tmp')), label).toEqual([]);
      for (const href of r.added) {
        const source = join(packages, `${href.split('/').pop()?.split('-')[0] ?? ''}.rpm`);
        const published = join(repo, href);
        expect(readFileSync(published).equals(readFileSync(source)), href).toBe(true);
        // the times as Node sets them: to the microsecond at best (a double of seconds)
        expect(Math.abs(statSync(published).mtimeMs - statSync(source).mtimeMs), href).toBeLessThan(0.01);
        expect(statSync(published).mode & 0o777, href).toBe(0o644);
      }
      results.push(metadataFiles(repo));
    }
    chmodSync(files[0] as string, 0o644);
    const [threads, here] = results;
    expect(threads?.size).toBe(3);
    expect([...(here?.keys() ?? [])].sort()).toEqual([...(threads?.keys() ?? [])].sort());
    for (const [name, bytes] of threads ?? []) expect(here?.get(name)?.equals(bytes), name).toBe(true);
  }, 120_000);
});
