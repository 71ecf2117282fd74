// `geppetto repo refresh` says what it leaves to publish: the pinned component versions changed or
// gone since the last publish, the roles pinning them and the servers reaching them. A real
// repository (kpkg publish of packages kpkg build made), made again from scratch as a rebuilt
// repository would be, read over file://. Run on SQLite by `npm test` (refresh.test.ts) and on a
// real PostgreSQL by `npm run test:system` (test/system/geppetto-postgres.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { publish } from '../../../packager/repo/publish.js';
import { ProblemsError, type RefreshResult } from '../../../geppetto/service/index.js';
import { buildServer } from '../../../geppetto/web/server.js';
import { buildDeployment, standardPackages, type BuiltDeployment } from './catalog-fixture.js';
import { REPO, STATE } from './service-suite.js';
import { admin, type Harness } from './store-suite.js';

/** The packages the refresh tests publish: the standard ones, and cache 2.0.0-1 built again with another default. */
export interface RefreshPackages {
  shop140: BuiltDeployment;
  shop150: BuiltDeployment;
  cache: BuiltDeployment;
  cacheRebuilt: BuiltDeployment;
}

export async function refreshPackages(work: string): Promise<RefreshPackages> {
  const [shop140, shop150, cache] = (await standardPackages(join(work, 'pkgs'))) as [BuiltDeployment, BuiltDeployment, BuiltDeployment];
  const cacheRebuilt = await buildDeployment(join(work, 'rebuilt'), 'cache', '2.0.0', { size_mb: { type: 'Integer', default: 128 } });
  return { shop140, shop150, cache, cacheRebuilt };
}

/** Makes the repository at `dir` anew with exactly these packages. */
export async function remakeRepository(dir: string, packages: BuiltDeployment[]): Promise<string> {
  rmSync(dir, { recursive: true, force: true });
  await publish(
    packages.map((p) => p.file),
    dir,
  );
  return pathToFileURL(dir).href;
}

/** STATE with its repository at `baseurl`. */
export const stateAt = (baseurl: string): string => STATE.replace(`"${REPO.baseurl}"`, `"${baseurl}"`);

export function refreshSuite(h: Harness): void {
  let work = '';
  let p: RefreshPackages;
  let n = 0;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'geppetto-refresh-'));
    p = await refreshPackages(work);
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('names the pinned versions changed or gone since the last publish, with their roles and servers; a gone one blocks publishing until a role pins another', async () => {
    const g = await h.open();
    const repo = join(work, `repo${n++}`);
    const baseurl = await remakeRepository(repo, [p.shop140, p.shop150, p.cache]);
    await g.importState(admin, `repositories: [{ id: kelkoo, baseurl: "${baseurl}" }]\n`);
    // nothing published from a catalog yet: nothing to name
    expect(await g.refreshCatalog(admin)).toMatchObject({ repositories: [{ id: 'kelkoo', packages: 3, read: 3, errors: [] }], unpublished: [], servers: [], publishBlocked: false });
    await g.importState(admin, stateAt(baseurl));
    expect(await g.refreshCatalog(admin)).toMatchObject({ repositories: [{ read: 0 }], unpublished: [], servers: [], publishBlocked: false });

    // the repository made again: cache 2.0.0-1 rebuilt with another default, shop 1.4.0-1 gone, shop 1.5.0-1 (pinned by nobody) as it was
    await remakeRepository(repo, [p.shop150, p.cacheRebuilt]);
    const r = await g.refreshCatalog(admin);
    expect(r.repositories).toEqual([{ id: 'kelkoo', packages: 2, read: 1, errors: [] }]);
    // cache is pinned by base, which shop-front inherits: web01 and web02 reach it too
    expect(r.unpublished).toEqual([
      { component: 'cache', evr: '2.0.0-1', change: 'changed', roles: ['base'], servers: ['cache01.example.com', 'web01.example.com', 'web02.example.com'] },
      { component: 'shop', evr: '1.4.0-1', change: 'removed', roles: ['shop-front'], servers: ['web01.example.com', 'web02.example.com'] },
    ]);
    expect(r.servers).toEqual(['cache01.example.com', 'web01.example.com', 'web02.example.com']);
    expect(r.publishBlocked).toBe(true);
    const entry = (await g.audit({ target: 'catalog' }))[0];
    expect(entry).toMatchObject({ action: 'catalog-refresh', after: { unpublished: ['cache 2.0.0-1 changed', 'shop 1.4.0-1 removed'], servers: 3 } });

    // what it said is what the next preview finds, and publishing is refused
    const cs = await g.createChangeset(admin, 'after the refresh');
    const preview = await g.preview(cs.id);
    expect(preview.catalog).toEqual(r.unpublished.map(({ component, evr, change }) => ({ component, evr, change })));
    expect(preview.problems.filter((x) => x.kind === 'unknown-component').map((x) => x.server)).toEqual(['web01.example.com', 'web02.example.com']);
    await expect(g.publish(cs.id, admin)).rejects.toBeInstanceOf(ProblemsError);
    // refreshed again with nothing new to read, it still says so: it compares with the last publish, not the last refresh
    expect(await g.refreshCatalog(admin)).toMatchObject({ repositories: [{ read: 0 }], unpublished: r.unpublished, publishBlocked: true });

    // shop-front moves to a version the repository has; once that is published nothing is left
    const role = await g.entity({ kind: 'role', name: 'shop-front' });
    await g.stage(cs.id, admin, { kind: 'role', name: 'shop-front' }, { ...(role.body as object), components: { shop: p.shop150.evr } });
    await g.publish(cs.id, admin);
    expect(await g.refreshCatalog(admin)).toMatchObject({ unpublished: [], servers: [], publishBlocked: false });
    await g.close();
  });

  it('the API answers the same, under the names its OpenAPI document gives', async () => {
    const g = await h.open();
    const repo = join(work, `repo${n++}`);
    const baseurl = await remakeRepository(repo, [p.shop140, p.cache]);
    await g.importState(admin, `repositories: [{ id: kelkoo, baseurl: "${baseurl}" }]\n`);
    await g.refreshCatalog(admin);
    await g.importState(admin, stateAt(baseurl).replace(/\n {2}cache01\.example\.com:.*\n/, '\n'));
    await remakeRepository(repo, [p.shop140, p.cacheRebuilt]);
    const { token } = await g.createApiToken(admin, 'ci', 'editor');
    const app = await buildServer(g, { logger: false });
    try {
      const res = await app.inject({ method: 'POST', url: '/api/v1/catalog/refresh', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json<RefreshResult>()).toEqual({
        repositories: [{ id: 'kelkoo', packages: 2, read: 1, errors: [] }],
        unpublished: [{ component: 'cache', evr: '2.0.0-1', change: 'changed', roles: ['base'], servers: ['web01.example.com', 'web02.example.com'] }],
        servers: ['web01.example.com', 'web02.example.com'],
        publishBlocked: false,
      });
    } finally {
      await app.close();
    }
    await g.close();
  });
}
