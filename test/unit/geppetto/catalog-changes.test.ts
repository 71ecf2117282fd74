// A catalog refresh changes what the published files were built from: the next preview and
// publish cover the servers whose pinned versions changed or went away, whatever the changeset
// edits; the changeset's page says why. Real deployment packages (kpkg build), stored as a refresh
// stores them, on SQLite.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { pinning, serversPinning } from '../../../geppetto/service/catalog.js';
import { openGeppetto, ProblemsError, type Geppetto } from '../../../geppetto/service/index.js';
import { buildServer } from '../../../geppetto/web/server.js';
import { buildDeployment, putInCatalog, standardPackages, type BuiltDeployment, type KeySpec } from './catalog-fixture.js';
import { role, server, state } from './helpers.js';
import { REPO, STATE } from './service-suite.js';
import { admin } from './store-suite.js';
import { Client, PASSWORD } from './ui-harness.js';

const root = mkdtempSync(join(tmpdir(), 'geppetto-catalog-changes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
let shop140: BuiltDeployment;
let shop150: BuiltDeployment;
let cache: BuiltDeployment;
/** shop 1.4.0-1 built again: `banner` is a secret now, listen_port's default is 9000, catalog_url is gone. */
let shop140Rebuilt: BuiltDeployment;

beforeAll(async () => {
  [shop140, shop150, cache] = (await standardPackages(join(root, 'pkgs'))) as [BuiltDeployment, BuiltDeployment, BuiltDeployment];
  const keys: Record<string, KeySpec> = {
    listen_port: { type: 'Integer', default: 9000 },
    banner: { type: 'String', default: 'Welcome', secret: true },
    catalog_url: { type: 'String', description: 'where the catalog API is' },
    db_password: { type: 'String', secret: true },
  };
  shop140Rebuilt = await buildDeployment(join(root, 'rebuilt'), 'shop', '1.4.0', keys);
}, 120_000);

async function ready(packages: BuiltDeployment[]): Promise<Geppetto> {
  const g = await openGeppetto({ dataDir: join(root, `d${n++}`), scryptCost: { N: 1024, r: 8, p: 1 } });
  await putInCatalog(g, REPO, packages);
  await g.importState(admin, STATE);
  return g;
}

const revisionOf = async (g: Geppetto, fqdn: string): Promise<number> => (await g.nodeFile(admin, fqdn)).revision;

describe('catalog changes reach the preview and the publish', () => {
  it('a version rebuilt with other keys: the servers pinning it are in the next preview, even of an empty changeset, and get a revision', async () => {
    const g = await ready([shop140, shop150, cache]);
    expect(shop140Rebuilt.evr).toBe(shop140.evr);
    await putInCatalog(g, REPO, [shop140Rebuilt, shop150, cache]);
    const cs = await g.createChangeset(admin, 'take the rebuilt shop');
    const preview = await g.preview(cs.id);
    expect(preview.problems).toEqual([]);
    expect(preview.catalog).toEqual([{ component: 'shop', evr: shop140.evr, change: 'changed' }]);
    // cache01 pins only cache, which did not change
    expect(preview.servers.map((s) => [s.fqdn, s.change, s.from, s.to])).toEqual([
      ['web01.example.com', 'changed', 1, 2],
      ['web02.example.com', 'changed', 1, 2],
    ]);
    // banner is secret now: the file hands it to Puppet as Sensitive
    expect(preview.servers[0]?.diff).toMatch(/^\+\s+- banner$/m);
    // an editor publishes the empty changeset from its page, which says why servers are in it
    await g.addUser(admin, 'ed', PASSWORD, 'editor');
    const app = await buildServer(g, { logger: false });
    try {
      const ed = new Client(app);
      await ed.login('ed', PASSWORD);
      const page = await ed.get(`/changesets/${cs.id}`);
      expect(page.body).toContain('id="catalog-changes"');
      expect(page.body).toMatch(/<a href="\/components\/shop">shop<\/a> 1\.4\.0-1: rebuilt/);
      expect(page.body).toMatch(/<button type="submit">Publish<\/button>/);
      // the JSON preview says it too
      const { token } = await g.createApiToken(admin, 'ci', 'viewer');
      const api = await app.inject({ method: 'GET', url: `/api/v1/changesets/${cs.id}/preview`, headers: { authorization: `Bearer ${token}` } });
      expect(api.json<{ catalog: unknown }>().catalog).toEqual([{ component: 'shop', evr: shop140.evr, change: 'changed' }]);
      const published = await ed.post(`/changesets/${cs.id}/publish`, {});
      expect(published.statusCode).toBe(303);
    } finally {
      await app.close();
    }
    expect((await g.changesetRevisions(cs.id, { limit: 10, offset: 0 })).revisions.map((r) => [r.fqdn, r.revision])).toEqual([
      ['web01.example.com', 2],
      ['web02.example.com', 2],
    ]);
    const file = YAML.parse((await g.nodeFile(admin, 'web01.example.com')).body) as { kelkoo: { sensitive: Record<string, string[]> } };
    expect(file.kelkoo.sensitive.shop).toEqual(['banner', 'db_password']);
    // the audit says why those servers got a revision
    const entry = (await g.audit({ target: `changeset:${cs.id}` })).find((e) => e.action === 'publish');
    expect(entry?.after).toEqual({ revisions: 2, catalog: ['shop 1.4.0-1 changed'] });
    expect(await revisionOf(g, 'cache01.example.com')).toBe(1);
    // published: the next changeset starts from this catalog
    const next = await g.createChangeset(admin, 'nothing');
    expect(await g.preview(next.id)).toMatchObject({ servers: [], catalog: [] });
    await g.close();
  });

  it('a new default alone changes no file (defaults are the module\'s data); the preview names the version', async () => {
    const keys: Record<string, KeySpec> = { size_mb: { type: 'Integer', default: 128 } };
    const cacheRebuilt = await buildDeployment(join(root, 'cache-default'), 'cache', '2.0.0', keys);
    const g = await ready([shop140, cache]);
    await putInCatalog(g, REPO, [shop140, cacheRebuilt]);
    const cs = await g.createChangeset(admin, 'new cache default');
    const preview = await g.preview(cs.id);
    expect(preview).toMatchObject({ problems: [], servers: [] });
    // the preview still names the version whose description changed
    expect(preview.catalog).toEqual([{ component: 'cache', evr: cache.evr, change: 'changed' }]);
    // the server's resolution shows the new default where it applies
    const { resolved } = await g.explain('cache01.example.com');
    expect(resolved.settings['cache.size_mb']).toMatchObject({ origin: 'default' });
    expect(resolved.components.cache?.version.parameters.find((p) => p.name === 'size_mb')?.default).toBe(128);
    await g.close();
  });

  it('a pinned version gone from the repository is a problem in the preview of any changeset; publishing is refused until a role pins another', async () => {
    const g = await ready([shop140, shop150, cache]);
    await putInCatalog(g, REPO, [shop150, cache]);
    const cs = await g.createChangeset(admin, 'unrelated: a bigger cache for staging');
    await g.setSetting(cs.id, admin, { kind: 'environment', name: 'staging' }, 'cache.size_mb', 256);
    const preview = await g.preview(cs.id);
    const missing = preview.problems.filter((p) => p.kind === 'unknown-component');
    expect(missing.map((p) => [p.server, p.key])).toEqual([
      ['web01.example.com', 'shop'],
      ['web02.example.com', 'shop'],
    ]);
    expect(missing[0]?.message).toContain('1.4.0-1');
    expect(preview.catalog).toEqual([{ component: 'shop', evr: shop140.evr, change: 'removed' }]);
    expect(preview.servers.map((s) => s.fqdn)).toEqual(['cache01.example.com']);
    const refused = await g.publish(cs.id, admin).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ProblemsError);
    expect((refused as ProblemsError).message).toContain('web01.example.com');
    expect(await revisionOf(g, 'cache01.example.com')).toBe(1);
    // the role moves to a version the repository has: the same changeset publishes
    const r = await g.entity({ kind: 'role', name: 'shop-front' });
    await g.stage(cs.id, admin, { kind: 'role', name: 'shop-front' }, { ...(r.body as object), components: { shop: shop150.evr } });
    expect((await g.preview(cs.id)).problems).toEqual([]);
    const published = await g.publish(cs.id, admin);
    expect(published.revisions.map((x) => x.fqdn)).toEqual(['cache01.example.com', 'web01.example.com', 'web02.example.com']);
    const file = YAML.parse((await g.nodeFile(admin, 'web01.example.com')).body) as { kelkoo: { packages: { name: string; evr: string }[] } };
    expect(file.kelkoo.packages).toContainEqual({ name: 'shop-deploy', evr: shop150.evr });
    await g.close();
  });

  it('a version that appears, pinned by nobody, touches no server; a database that never recorded its catalog finds no file changed', async () => {
    const g = await ready([shop140, cache]);
    await putInCatalog(g, REPO, [shop140, shop150, cache]);
    const cs = await g.createChangeset(admin, 'nothing');
    expect(await g.preview(cs.id)).toMatchObject({ problems: [], servers: [], catalog: [] });
    // as after the migration that added the record: every pinned server is resolved again, none changes
    await g.db.deleteFrom('catalog_published').execute();
    expect(await g.preview(cs.id)).toMatchObject({ problems: [], servers: [], catalog: [] });
    expect((await g.publish(cs.id, admin)).revisions).toEqual([]);
    expect(await g.db.selectFrom('catalog_published').select('component').execute()).toHaveLength(3);
    await g.close();
  });
});

describe('serversPinning', () => {
  it('finds the servers whose roles, or the roles they inherit, pin a changed version, and no other', () => {
    const s = state({
      roles: {
        base: role({ components: { cache: '2.0.0-1' } }),
        front: role({ parents: ['base'], components: { shop: '1.4.0-1' } }),
        back: role({ components: { shop: '1.5.0-1' } }),
        leaf: role({ parents: ['front'] }),
      },
      servers: { 'a.example.com': server({ roles: ['leaf'] }), 'b.example.com': server({ roles: ['back'] }), 'c.example.com': server({ roles: ['base'] }), 'd.example.com': server() },
    });
    expect(serversPinning(s, new Set(['shop@1.4.0-1']))).toEqual(['a.example.com']);
    expect(serversPinning(s, new Set(['cache@2.0.0-1']))).toEqual(['a.example.com', 'c.example.com']);
    expect(serversPinning(s, new Set(['shop@1.5.0-1', 'shop@9-1']))).toEqual(['b.example.com']);
    expect(serversPinning(s, new Set())).toEqual([]);
  });

  it('pinning: per version, the roles pinning it themselves and the servers reaching it, each once, even by two paths', () => {
    const s = state({
      roles: {
        base: role({ components: { cache: '2.0.0-1' } }),
        edge: role({ components: { cache: '2.0.0-1' } }),
        front: role({ parents: ['base', 'edge'], components: { shop: '1.4.0-1' } }),
        other: role({ components: { shop: '1.5.0-1' } }),
      },
      servers: { 'b.example.com': server({ roles: ['front', 'edge'] }), 'a.example.com': server({ roles: ['base'] }), 'c.example.com': server({ roles: ['other'] }) },
    });
    expect(pinning(s, new Set(['cache@2.0.0-1', 'shop@1.4.0-1', 'shop@9-1']))).toEqual(
      new Map([
        ['cache@2.0.0-1', { roles: ['base', 'edge'], servers: ['a.example.com', 'b.example.com'] }],
        ['shop@1.4.0-1', { roles: ['front'], servers: ['b.example.com'] }],
      ]),
    );
  });
});
