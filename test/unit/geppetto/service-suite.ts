// The service tests (state, changesets, publish, revisions, revert, audit, secrets, tokens,
// reports), run on SQLite by `npm test` (service.test.ts) and on a real PostgreSQL by
// `npm run test:system` (test/system/geppetto-postgres.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import YAML from 'yaml';
import { KpkgError } from '../../../packager/errors.js';
import { ProblemsError, type Geppetto, type Principal } from '../../../geppetto/service/index.js';
import { putInCatalog, standardPackages, type BuiltDeployment } from './catalog-fixture.js';
import { admin, type Harness } from './store-suite.js';

export const REPO = { id: 'kelkoo', baseurl: 'file:///srv/yum/kelkoo' };
export const SECRET = 's3cret-Pa55word!';
export const HOSTILE = `'); DROP TABLE entities; -- <script>alert("x")</script> \${a} %{b} $(c) \`d\``;

export const STATE = `
repositories: [{ id: kelkoo, baseurl: "file:///srv/yum/kelkoo" }]
global: { settings: { "shop.banner": "Hello" } }
environments:
  production: {}
  staging: {}
roles:
  base: { components: { cache: "2.0.0-1" } }
  shop-front:
    parents: [base]
    components: { shop: "1.4.0-1" }
    settings: { "shop.listen_port": 9090, "shop.catalog_url": "http://catalog.example.com", "shop.db_password": "${SECRET}" }
servers:
  web01.example.com: { environment: production, roles: [shop-front] }
  web02.example.com: { environment: production, roles: [shop-front] }
  cache01.example.com: { environment: staging, roles: [base] }
`;

async function refused(p: Promise<unknown>, code: string): Promise<KpkgError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(KpkgError);
  expect((err as KpkgError).code).toBe(code);
  return err as KpkgError;
}

const file = async (g: Geppetto, fqdn: string) => YAML.parse((await g.nodeFile(admin, fqdn)).body) as { classes: Record<string, Record<string, unknown>>; kelkoo: { revision: number } };

export function serviceSuite(h: Harness): void {
  let work = '';
  let packages: BuiltDeployment[] = [];
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'geppetto-service-'));
    packages = await standardPackages(work);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** A Geppetto with the catalog and STATE imported. */
  async function ready(clock?: { now: Date }): Promise<Geppetto> {
    const g = await h.open(clock);
    await putInCatalog(g, REPO, packages);
    await g.importState(admin, STATE);
    return g;
  }

  it('import publishes every server\'s file; export gives the state back, secrets as references; importing it again changes nothing', async () => {
    const g = await ready();
    const web01 = await file(g, 'web01.example.com');
    expect(web01.kelkoo.revision).toBe(1);
    expect(web01.classes.shop).toEqual({ banner: 'Hello', listen_port: 9090, catalog_url: 'http://catalog.example.com', db_password: SECRET });
    expect((await file(g, 'cache01.example.com')).classes).toEqual({ cache: {} });
    const exported = await g.exportState(admin);
    expect(exported).not.toContain(SECRET);
    const parsed = YAML.parse(exported) as { roles: Record<string, { settings: Record<string, unknown> }> };
    expect(parsed.roles['shop-front']?.settings['shop.db_password']).toEqual({ secret: expect.stringMatching(/^s_/) });
    const again = await g.importState(admin, exported);
    expect(again.revisions).toEqual([]);
    expect(await g.exportState(admin)).toBe(exported);
    await g.close();
  });

  it('export --with-secrets imports into another data directory with the same files', async () => {
    const g = await ready();
    const full = await g.exportState(admin, { withSecrets: true });
    expect(full).toContain(SECRET);
    const other = await h.open();
    await putInCatalog(other, REPO, packages);
    await other.importState(admin, full);
    expect((await other.nodeFile(admin, 'web01.example.com')).body).toBe((await g.nodeFile(admin, 'web01.example.com')).body);
    expect(await other.exportState(admin)).toBe(await g.exportState(admin));
    // an audit entry says that secrets were exported, without them
    expect((await g.audit()).find((e) => e.action === 'export-with-secrets')).toBeDefined();
    await other.close();
    await g.close();
  });

  it('a changeset previews the diff of each affected server, publishes new revisions of those only, keeps the old ones; revert restores', async () => {
    const g = await ready();
    const cs = await g.createChangeset(admin, 'bigger banner');
    await g.setSetting(cs.id, admin, { kind: 'role', name: 'shop-front' }, 'shop.banner', HOSTILE);
    const preview = await g.preview(cs.id);
    expect(preview.problems).toEqual([]);
    expect(preview.conflicts).toEqual([]);
    expect(preview.servers.map((s) => [s.fqdn, s.change, s.from, s.to])).toEqual([
      ['web01.example.com', 'changed', 1, 2],
      ['web02.example.com', 'changed', 1, 2],
    ]);
    const diff = preview.servers[0]?.diff ?? '';
    expect(diff).toMatch(/^--- a\/web01\.example\.com\.yaml$/m);
    expect(diff).toMatch(/^-\s+banner: "?Hello"?$/m);
    expect(diff).toMatch(/^\+\s+banner: .*DROP TABLE entities/m);
    expect(diff).not.toContain(SECRET);
    // a preview asked for one diff lists both servers; the other diff comes on request, the same
    const short = await g.preview(cs.id, { diffs: 1 });
    expect([short.servers.map((s) => s.diff !== undefined), short.diffsOmitted]).toEqual([[true, false], 1]);
    expect((await g.previewDiff(cs.id, 'web02.example.com'))?.diff).toBe(preview.servers[1]?.diff);
    expect(await g.previewDiff(cs.id, 'cache01.example.com')).toBeUndefined();
    const published = await g.publish(cs.id, admin);
    expect(published.revisions).toEqual([
      { fqdn: 'web01.example.com', revision: 2 },
      { fqdn: 'web02.example.com', revision: 2 },
    ]);
    expect((await file(g, 'web01.example.com')).classes.shop?.banner).toBe(HOSTILE);
    expect((await file(g, 'cache01.example.com')).kelkoo.revision).toBe(1);
    expect((await g.revisions('web01.example.com')).map((r) => r.revision)).toEqual([2, 1]);
    const old = YAML.parse((await g.nodeFile(admin, 'web01.example.com', { revision: 1 })).body) as { classes: { shop: { banner: string } } };
    expect(old.classes.shop.banner).toBe('Hello');
    // the state round-trips the hostile value literally
    expect(YAML.parse(await g.exportState(admin)).roles['shop-front'].settings['shop.banner']).toBe(HOSTILE);

    const reverted = await g.revert(cs.id, admin);
    expect(reverted.revisions.map((r) => r.revision)).toEqual([3, 3]);
    const back = await file(g, 'web01.example.com');
    expect(back.classes.shop?.banner).toBe('Hello');
    expect(back.kelkoo.revision).toBe(3);
    // a revert of a revert is allowed; a second revert of the same changeset conflicts with the first
    await refused(g.revert(cs.id, admin), 'CONFLICT');
    await g.close();
  });

  it('two editors change the same role: the second publish gets CONFLICT, its changeset stays open with its edits', async () => {
    const g = await ready();
    const g2 = await h.reopen(g);
    const a = await g.createChangeset(admin, 'port 9191');
    const b = await g2.createChangeset(admin, 'port 9292');
    const { version } = await g.entity({ kind: 'role', name: 'shop-front' });
    await g.setSetting(a.id, admin, { kind: 'role', name: 'shop-front' }, 'shop.listen_port', 9191, { expectedVersion: version });
    await g2.setSetting(b.id, admin, { kind: 'role', name: 'shop-front' }, 'shop.listen_port', 9292, { expectedVersion: version });
    await g.publish(a.id, admin);
    const err = await refused(g2.publish(b.id, admin), 'CONFLICT');
    expect(err.message).toMatch(/role shop-front was changed by another publish/);
    expect((await g2.changeset(b.id)).status).toBe('open');
    expect((await g2.changesetState(b.id)).roles['shop-front']?.settings['shop.listen_port']).toBe(9292);
    expect((await g2.preview(b.id)).conflicts).toEqual([{ kind: 'role', name: 'shop-front', baseVersion: version, currentVersion: expect.any(Number) }]);
    expect((await file(g, 'web01.example.com')).classes.shop?.listen_port).toBe(9191);
    // an edit from a form read before the publish is refused at once
    const c = await g2.createChangeset(admin, 'stale form');
    await refused(g2.setSetting(c.id, admin, { kind: 'role', name: 'shop-front' }, 'shop.listen_port', 1, { expectedVersion: version }), 'CONFLICT');
    await g2.close();
    await g.close();
  });

  it('problems block publishing, named by server and key; nothing is written', async () => {
    const g = await ready();
    const before = await g.exportState(admin);
    const cs = await g.createChangeset(admin, 'breaks things');
    await g.stage(cs.id, admin, { kind: 'server', name: 'web03.example.com' }, { environment: 'production', roles: ['shop-front'], settings: { 'shop.listen_port': 'not a port' } });
    await g.unsetSetting(cs.id, admin, { kind: 'role', name: 'shop-front' }, 'shop.catalog_url');
    const preview = await g.preview(cs.id);
    expect(preview.problems.map((p) => [p.kind, p.server, p.key])).toEqual(
      expect.arrayContaining([
        ['type', 'web03.example.com', 'shop.listen_port'],
        ['missing', 'web01.example.com', 'shop.catalog_url'],
      ]),
    );
    const err = await refused(g.publish(cs.id, admin), 'INVALID_INPUT');
    expect(err).toBeInstanceOf(ProblemsError);
    expect(err.message).toMatch(/^cannot publish: \S+\.example\.com shop\.\w+: /);
    expect(await g.exportState(admin)).toBe(before);
    expect((await g.changeset(cs.id)).status).toBe('open');
    await refused(g.nodeFile(admin, 'web03.example.com'), 'NOT_FOUND');
    // a cycle in an import: all or nothing
    await refused(g.importState(admin, STATE.replace('base: { components', 'base: { parents: [shop-front], components')), 'INVALID_INPUT');
    expect(await g.exportState(admin)).toBe(before);
    expect((await g.changesets({ status: 'open' })).map((c) => c.title)).toEqual(['breaks things']);
    await g.close();
  });

  it('secrets: encrypted, write-only; "changed" in the audit; in no preview, export, audit entry or error; only in the file', async () => {
    const g = await ready();
    const NEW = 'n3w-secret-Value';
    const cs = await g.createChangeset(admin, 'rotate');
    await g.setSetting(cs.id, admin, { kind: 'server', name: 'web02.example.com' }, 'shop.db_password', NEW);
    const staged = await g.changesetState(cs.id);
    expect(staged.servers['web02.example.com']?.settings['shop.db_password']).toEqual({ secret: expect.stringMatching(/^s_/) });
    const preview = await g.preview(cs.id);
    expect(preview.servers.map((s) => s.fqdn)).toEqual(['web02.example.com']);
    expect(preview.servers[0]?.diff).toMatch(/db_password: .*sensitive, changed/);
    expect(JSON.stringify(preview)).not.toContain(NEW);
    expect(JSON.stringify(preview)).not.toContain(SECRET);
    await g.publish(cs.id, admin);
    expect((await file(g, 'web02.example.com')).classes.shop?.db_password).toBe(NEW);
    expect((await file(g, 'web01.example.com')).classes.shop?.db_password).toBe(SECRET);
    const audit = await g.audit();
    const text = JSON.stringify(audit);
    expect(text).not.toContain(NEW);
    expect(text).not.toContain(SECRET);
    const entry = audit.find((e) => e.target === 'server web02.example.com');
    expect(entry?.after).toMatchObject({ settings: { 'shop.db_password': 'changed' } });
    expect(await g.exportState(admin)).not.toContain(NEW);
    const masked = await g.maskedFile({ kind: 'user', name: 'v', role: 'viewer', userId: 0 }, 'web02.example.com');
    expect(masked.body).not.toContain(NEW);
    expect(masked.body).toContain('db_password');
    // a secret Integer-typed key given a non-number: the error names server and key, not the value
    const bad = await g.createChangeset(admin, 'bad secret');
    await g.setSetting(bad.id, admin, { kind: 'server', name: 'web01.example.com' }, 'shop.listen_port', 'nope-secret-value', { secret: true });
    const err = await g.publish(bad.id, admin).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/web01\.example\.com/);
    expect(err?.message).not.toContain('nope-secret-value');
    await g.close();
  });

  it('tokens: a server token reads its own file and posts its reports, nothing else; a new one revokes the old', async () => {
    const g = await ready();
    const t1 = await g.serverToken(admin, 'web01.example.com');
    const p1 = await g.authenticateToken(t1);
    expect(p1).toEqual({ kind: 'server', fqdn: 'web01.example.com', tokenId: expect.any(String) });
    const server = p1 as Principal;
    expect((await g.nodeFile(server, 'web01.example.com')).body).toContain(SECRET);
    await refused(g.nodeFile(server, 'web02.example.com'), 'FORBIDDEN');
    await refused(g.nodeFileEtag(server, 'web02.example.com'), 'FORBIDDEN');
    await refused(g.postReport(server, 'web02.example.com', { revision: 1, status: 'unchanged' }), 'FORBIDDEN');
    await refused(g.createChangeset(server, 'sneaky'), 'FORBIDDEN');
    await refused(g.exportState(server), 'FORBIDDEN');
    await refused(g.maskedFile(server, 'web01.example.com'), 'FORBIDDEN');
    await g.postReport(server, 'web01.example.com', { revision: 1, status: 'changed', changes: 3 });
    const t2 = await g.serverToken(admin, 'web01.example.com');
    expect(await g.authenticateToken(t1)).toBeUndefined();
    expect(await g.authenticateToken(t2)).toMatchObject({ kind: 'server', fqdn: 'web01.example.com' });
    expect(await g.authenticateToken(`${t2.slice(0, -1)}${t2.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(await g.authenticateToken("gpt_' OR '1'='1")).toBeUndefined();
    await refused(g.serverToken(admin, 'nowhere.example.com'), 'NOT_FOUND');
    // tokens are stored hashed
    const rows = await g.db.selectFrom('tokens').select('hash').execute();
    expect(rows.map((r) => r.hash).join()).not.toContain(t2.slice(-43));
    // API tokens act with their role: a viewer reads the masked file, not the real one
    const api = await g.createApiToken(admin, 'ci', 'viewer');
    const viewer = (await g.authenticateToken(api.token)) as Principal;
    expect(viewer).toMatchObject({ kind: 'api', name: 'ci', role: 'viewer' });
    await refused(g.nodeFile(viewer, 'web01.example.com'), 'FORBIDDEN');
    expect((await g.maskedFile(viewer, 'web01.example.com')).body).not.toContain(SECRET);
    await refused(g.createChangeset(viewer, 'no'), 'FORBIDDEN');
    await g.revokeToken(admin, api.id);
    expect(await g.authenticateToken(api.token)).toBeUndefined();
    await g.close();
  });

  it("servers' prepared reads: another process refuses a revoked or replaced token at its next request, serves a new revision at once, never an uncommitted one", async () => {
    const g = await ready();
    const g2 = await h.reopen(g);
    const fqdn = 'web01.example.com';
    const t1 = await g.serverToken(admin, fqdn);
    const server = (await g2.authenticateToken(t1)) as Principal;
    expect(server).toMatchObject({ kind: 'server', fqdn });
    const first = await g2.nodeFile(server, fqdn);
    expect(first.body).toContain(SECRET);
    expect(await g2.nodeFileEtag(server, fqdn)).toBe(first.etag);
    expect(await g2.store.reads.head(fqdn)).toEqual({ revision: 1, etag: first.etag });
    expect(await g2.store.reads.headFile(fqdn)).toMatchObject({ revision: 1, etag: first.etag });
    for (const hostile of [HOSTILE, "' OR 1=1 --", 'nowhere.example.com']) {
      expect(await g2.store.reads.head(hostile)).toBeUndefined();
      expect(await g2.store.reads.headFile(hostile)).toBeUndefined();
      expect(await g2.store.reads.token(hostile)).toBeUndefined();
    }

    // a publish in one process: the other serves the new revision at its next request
    const cs = await g.createChangeset(admin, 'port');
    await g.setSetting(cs.id, admin, { kind: 'role', name: 'shop-front' }, 'shop.listen_port', 9999);
    await g.publish(cs.id, admin);
    const second = await g2.nodeFile(server, fqdn);
    expect(second.revision).toBe(2);
    expect(second.etag).not.toBe(first.etag);
    expect(await g2.nodeFileEtag(server, fqdn)).toBe(second.etag);

    // rows written by a transaction not yet committed are served by neither process
    await expect(
      g.db.transaction().execute(async (trx) => {
        await trx.updateTable('heads').set({ revision: 1, etag: '"uncommitted"' }).where('fqdn', '=', fqdn).execute();
        await trx.updateTable('tokens').set({ revoked_at: new Date().toISOString() }).where('fqdn', '=', fqdn).execute();
        for (const x of [g, g2]) {
          expect(await x.nodeFileEtag(server, fqdn)).toBe(second.etag);
          expect((await x.nodeFile(server, fqdn)).revision).toBe(2);
          expect(await x.authenticateToken(t1)).toMatchObject({ kind: 'server', fqdn });
        }
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');

    // a new token replaces the old one, a revocation ends one: both seen at once by the other process
    const t2 = await g.serverToken(admin, fqdn);
    expect(await g2.authenticateToken(t1)).toBeUndefined();
    const again = (await g2.authenticateToken(t2)) as Principal;
    expect(again).toMatchObject({ kind: 'server', fqdn });
    const [live] = (await g.tokens()).filter((t) => t.fqdn === fqdn && t.revokedAt === null);
    await g.revokeToken(admin, live?.id ?? '');
    expect(await g2.authenticateToken(t2)).toBeUndefined();
    const api = await g.createApiToken(admin, 'reads', 'admin');
    expect(await g2.authenticateToken(api.token)).toMatchObject({ kind: 'api', role: 'admin' });
    await g.revokeToken(admin, api.id);
    expect(await g2.authenticateToken(api.token)).toBeUndefined();
    await g2.close();
    await g.close();
  });

  it('server status: no report yet, current, behind the latest revision, failed, silent', async () => {
    const clock = { now: new Date('2026-03-01T10:00:00Z') };
    const g = await ready(clock);
    const health = async () => Object.fromEntries((await g.serverStatus()).map((s) => [s.fqdn, s.health]));
    expect(await health()).toEqual({ 'cache01.example.com': 'never-reported', 'web01.example.com': 'never-reported', 'web02.example.com': 'never-reported' });
    await g.postReport(admin, 'web01.example.com', { revision: 1, status: 'changed' });
    await g.postReport(admin, 'web02.example.com', { revision: 1, status: 'failed', summary: 'dnf: no package shop-deploy' });
    await g.postReport(admin, 'cache01.example.com', { revision: 1, status: 'unchanged' });
    expect(await health()).toEqual({ 'cache01.example.com': 'current', 'web01.example.com': 'current', 'web02.example.com': 'failed' });
    const cs = await g.createChangeset(admin, 'port');
    await g.setSetting(cs.id, admin, { kind: 'role', name: 'shop-front' }, 'shop.listen_port', 9999);
    await g.publish(cs.id, admin);
    expect((await health())['web01.example.com']).toBe('behind');
    clock.now = new Date(clock.now.getTime() + 3 * 3600_000);
    expect((await health())['cache01.example.com']).toBe('silent');
    await g.close();
  });

  it('a deleted server loses its file; made again, its revisions go on from the last', async () => {
    const g = await ready();
    const cs = await g.createChangeset(admin, 'retire web02');
    await g.stage(cs.id, admin, { kind: 'server', name: 'web02.example.com' }, null);
    expect((await g.preview(cs.id)).servers).toEqual([expect.objectContaining({ fqdn: 'web02.example.com', change: 'removed', from: 1, to: 0 })]);
    expect((await g.publish(cs.id, admin)).revisions).toEqual([{ fqdn: 'web02.example.com', revision: 0 }]);
    await refused(g.nodeFile(admin, 'web02.example.com'), 'NOT_FOUND');
    const again = await g.createChangeset(admin, 'web02 is back');
    await g.stage(again.id, admin, { kind: 'server', name: 'web02.example.com' }, { environment: 'production', roles: ['shop-front'] });
    expect((await g.publish(again.id, admin)).revisions).toEqual([{ fqdn: 'web02.example.com', revision: 2 }]);
    await g.close();
  });
}
