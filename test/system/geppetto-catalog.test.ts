// Geppetto's catalog from real repositories: packages built by `kpkg build`, published by
// `kpkg publish`, and the same packages indexed by createrepo_c, read over file:// and http://.
import { copyFileSync, createReadStream, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliPrincipal, openGeppetto } from '../../geppetto/service/index.js';
import type { Catalog } from '../../geppetto/model.js';
import { describeWithTools, runOk, tmpDir } from './tools.js';

const ROOT = join(import.meta.dirname, '..', '..');
const KPKG = join(ROOT, 'dist', 'bin', 'kpkg.js');
const admin = cliPrincipal();

function component(dir: string, name: string, version: string, keys: Record<string, unknown>): void {
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'index.js'), 'console.log("hi");\n');
  writeFileSync(join(dir, 'component.json'), JSON.stringify({ name, version, type: 'webapp', summary: name, license: 'MIT', files: [{ src: 'dist', dest: 'lib' }], config: { keys } }));
}

/** Serves a directory on 127.0.0.1 (files only, no listing). */
function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = join(dir, path);
    if (!file.startsWith(dir) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })));
}

const summary = (c: Catalog) =>
  Object.fromEntries(Object.entries(c.components).map(([name, versions]) => [name, Object.fromEntries(Object.entries(versions).map(([evr, v]) => [evr, { package: v.package, class: v.class, parameters: v.parameters }]))]));

describeWithTools(['createrepo_c'], 'Geppetto catalog from kpkg publish and createrepo_c repositories', () => {
  let work = '';
  let http: { server: Server; url: string } | undefined;
  beforeAll(async () => {
    work = tmpDir('geppetto-catalog');
    const rpms = join(work, 'rpms');
    const keys = { listen_port: { type: 'Integer', default: 8080 }, db_password: { type: 'String', secret: true }, motto: { type: 'String', default: 'Welcome', description: 'said at the door' } };
    component(join(work, 'shop'), 'shop', '1.4.0', keys);
    component(join(work, 'shop2'), 'shop', '1.5.0-rc.1', keys);
    component(join(work, 'cache'), 'cache', '2.0.0', { size_mb: { type: 'Integer', default: 64 } });
    for (const c of ['shop', 'shop2', 'cache']) runOk(process.execPath, [KPKG, 'build', join(work, c), '--skip-build', '--output', rpms], { timeout: 120_000 });
    const files = readdirSync(rpms).filter((f) => f.endsWith('.rpm')).map((f) => join(rpms, f));
    runOk(process.execPath, [KPKG, 'publish', ...files, '--repo', join(work, 'kpkg-repo')], { timeout: 120_000 });
    mkdirSync(join(work, 'createrepo'));
    for (const f of files) copyFileSync(f, join(work, 'createrepo', f.split('/').pop() ?? ''));
    runOk('createrepo_c', ['--no-database', join(work, 'createrepo')], { timeout: 120_000 });
    http = await serve(join(work, 'createrepo'));
  });
  afterAll(() => http?.server.close());

  it('the same catalog from both repositories, over file:// and http://', async () => {
    const catalogs: ReturnType<typeof summary>[] = [];
    for (const [i, baseurl] of [pathToFileURL(join(work, 'kpkg-repo')).href, pathToFileURL(join(work, 'createrepo')).href, http?.url ?? ''].entries()) {
      const g = await openGeppetto({ dataDir: join(work, `data${i}`) });
      await g.importState(admin, `repositories: [{ id: r, baseurl: "${baseurl}" }]\n`);
      const r = await g.refreshCatalog(admin);
      expect(r.repositories).toEqual([{ id: 'r', packages: 3, read: 3, errors: [] }]);
      catalogs.push(summary(await g.catalog()));
      await g.close();
    }
    expect(Object.keys(catalogs[0] ?? {}).sort()).toEqual(['cache', 'shop']);
    // a prerelease keeps rpm's ordering form: 1.5.0~rc.1
    expect(Object.keys(catalogs[0]?.shop ?? {}).sort()).toEqual(['1.4.0-1', '1.5.0~rc.1-1']);
    expect(catalogs[1]).toEqual(catalogs[0]);
    expect(catalogs[2]).toEqual(catalogs[0]);
  });
});
