// The HTTP API's tests: fastify's inject against a real service, run on SQLite by `npm test`
// (api.test.ts) and on a real PostgreSQL by `npm run test:system` (geppetto-api-postgres.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import YAML from 'yaml';
import type { Geppetto } from '../../../geppetto/service/index.js';
import { buildServer, type ServerOptions } from '../../../geppetto/web/server.js';
import { putInCatalog, standardPackages, type BuiltDeployment } from './catalog-fixture.js';
import { HOSTILE, REPO, SECRET, STATE } from './service-suite.js';
import { admin, type Harness } from './store-suite.js';

const PASSWORD = 'a long enough password';

interface Call {
  token?: string;
  cookie?: string;
  csrf?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A running test server: the service with STATE published, tokens for each kind of caller, captured logs. */
interface Fixture {
  g: Geppetto;
  app: FastifyInstance;
  logs: string[];
  tokens: { admin: string; editor: string; editor2: string; viewer: string; web01: string; web02: string };
  call(method: string, url: string, c?: Call): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

const json = <T = Record<string, unknown>>(r: LightMyRequestResponse): T => JSON.parse(r.body) as T;

export function apiSuite(h: Harness): void {
  let work = '';
  let packages: BuiltDeployment[] = [];
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'geppetto-api-'));
    packages = await standardPackages(work);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  async function fixture(options: ServerOptions = {}, clock?: { now: Date }): Promise<Fixture> {
    const g = await h.open(clock);
    await putInCatalog(g, REPO, packages);
    await g.importState(admin, STATE);
    await g.addUser(admin, 'alice', PASSWORD, 'editor');
    await g.addUser(admin, 'victor', PASSWORD, 'viewer');
    const tokens = {
      admin: (await g.createApiToken(admin, 'ops', 'admin')).token,
      editor: (await g.createApiToken(admin, 'ci', 'editor')).token,
      editor2: (await g.createApiToken(admin, 'ci2', 'editor')).token,
      viewer: (await g.createApiToken(admin, 'dash', 'viewer')).token,
      web01: await g.serverToken(admin, 'web01.example.com'),
      web02: await g.serverToken(admin, 'web02.example.com'),
    };
    const logs: string[] = [];
    const app = await buildServer(g, { logger: { level: 'debug', stream: { write: (line) => void logs.push(line) } }, ...options });
    return {
      g,
      app,
      logs,
      tokens,
      call(method, url, c = {}) {
        const headers: Record<string, string> = { ...(c.headers ?? {}) };
        if (c.token !== undefined) headers.authorization = `Bearer ${c.token}`;
        if (c.csrf !== undefined) headers['x-csrf-token'] = c.csrf;
        return app.inject({
          method: method as 'GET',
          url,
          headers,
          ...(c.cookie !== undefined ? { cookies: { geppetto_session: c.cookie } } : {}),
          ...(c.body !== undefined ? { payload: c.body as object } : {}),
        });
      },
      async close() {
        await app.close();
        await g.close();
      },
    };
  }

  async function login(f: Fixture, name = 'alice'): Promise<{ cookie: string; csrf: string; response: LightMyRequestResponse }> {
    const response = await f.call('POST', '/api/v1/login', { body: { name, password: PASSWORD } });
    expect(response.statusCode, response.body).toBe(200);
    const cookie = response.cookies.find((c) => c.name === 'geppetto_session')?.value ?? '';
    return { cookie, csrf: json<{ csrfToken: string }>(response).csrfToken, response };
  }

  const FILE = '/api/v1/nodes/web01.example.com/file';

  it("a server's token gets its file: YAML or JSON, with an ETag; If-None-Match gives 304 until a publish changes it", async () => {
    const f = await fixture();
    const yaml = await f.call('GET', FILE, { token: f.tokens.web01 });
    expect(yaml.statusCode).toBe(200);
    expect(yaml.headers['content-type']).toBe('application/yaml; charset=utf-8');
    expect(yaml.headers['cache-control']).toBe('private, no-cache');
    const file = YAML.parse(yaml.body) as { classes: { shop: Record<string, unknown> }; kelkoo: { node: string; revision: number } };
    expect(file.kelkoo).toMatchObject({ node: 'web01.example.com', revision: 1 });
    expect(file.classes.shop.db_password).toBe(SECRET);
    const etag = String(yaml.headers.etag);
    expect(etag).toMatch(/^"[^"]+"$/);

    const asJson = await f.call('GET', FILE, { token: f.tokens.web01, headers: { accept: 'application/json' } });
    expect(asJson.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json(asJson)).toEqual(file);
    expect(asJson.headers.etag).not.toBe(etag);

    const again = await f.call('GET', FILE, { token: f.tokens.web01, headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);
    expect((await f.call('GET', FILE, { token: f.tokens.web01, headers: { 'if-none-match': `"other", W/${etag}` } })).statusCode).toBe(304);
    expect((await f.call('GET', FILE, { token: f.tokens.web01, headers: { 'if-none-match': '"other"' } })).statusCode).toBe(200);

    // an edit through the API: a new revision, a new ETag, the old one gets the new file
    const cs = json<{ id: number }>(await f.call('POST', '/api/v1/changesets', { token: f.tokens.editor, body: { title: 'port' } }));
    expect((await f.call('POST', `/api/v1/changesets/${cs.id}/settings`, { token: f.tokens.editor, body: { scope: { kind: 'server', name: 'web01.example.com' }, key: 'shop.listen_port', value: 9191 } })).statusCode).toBe(200);
    expect((await f.call('POST', `/api/v1/changesets/${cs.id}/publish`, { token: f.tokens.editor })).statusCode).toBe(200);
    const changed = await f.call('GET', FILE, { token: f.tokens.web01, headers: { 'if-none-match': etag } });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect((YAML.parse(changed.body) as typeof file).classes.shop.listen_port).toBe(9191);
    expect((YAML.parse(changed.body) as typeof file).kelkoo.revision).toBe(2);
    await f.close();
  });

  it('no credentials: 401; a wrong or revoked token: 401; server A reading B: 403; a server token cannot post B\'s report nor use the API', async () => {
    const f = await fixture();
    const none = await f.call('GET', FILE);
    expect(none.statusCode).toBe(401);
    expect(json(none)).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await f.call('GET', FILE, { token: 'gpt_nonsense' })).statusCode).toBe(401);
    expect((await f.call('GET', FILE, { token: `${f.tokens.web01}x` })).statusCode).toBe(401);
    expect((await f.call('GET', FILE, { headers: { authorization: `Basic ${Buffer.from('alice:x').toString('base64')}` } })).statusCode).toBe(401);
    const other = await f.call('GET', '/api/v1/nodes/web02.example.com/file', { token: f.tokens.web01 });
    expect(other.statusCode).toBe(403);
    expect(other.body).not.toContain(SECRET);
    expect((await f.call('GET', '/api/v1/nodes/web02.example.com/file', { token: f.tokens.web01, headers: { 'if-none-match': '*' } })).statusCode).toBe(403);
    expect((await f.call('POST', '/api/v1/nodes/web02.example.com/reports', { token: f.tokens.web01, body: { revision: 1, status: 'unchanged' } })).statusCode).toBe(403);
    for (const [method, url] of [
      ['GET', '/api/v1/servers'],
      ['GET', '/api/v1/servers/web01.example.com'],
      ['GET', '/api/v1/roles'],
      ['GET', '/api/v1/audit'],
      ['POST', '/api/v1/changesets'],
      ['POST', '/api/v1/servers/web01.example.com/token'],
    ] as const) {
      const r = await f.call(method, url, { token: f.tokens.web01, ...(method === 'POST' ? { body: { title: 'x' } } : {}) });
      expect(r.statusCode, `${method} ${url}`).toBe(403);
    }
    // an older revision is for people
    expect((await f.call('GET', `${FILE}?revision=1`, { token: f.tokens.web01 })).statusCode).toBe(403);
    // a new token for web01 revokes the old one
    const fresh = json<{ token: string }>(await f.call('POST', '/api/v1/servers/web01.example.com/token', { token: f.tokens.admin }));
    expect((await f.call('GET', FILE, { token: f.tokens.web01 })).statusCode).toBe(401);
    expect((await f.call('GET', FILE, { token: fresh.token })).statusCode).toBe(200);
    await f.close();
  });

  it("reports: the server's token posts its own; the server list shows current, behind, failed", async () => {
    const f = await fixture();
    const post = (fqdn: string, token: string, body: unknown) => f.call('POST', `/api/v1/nodes/${fqdn}/reports`, { token, body });
    expect((await post('web01.example.com', f.tokens.web01, { revision: 1, status: 'changed', changes: 3, summary: 'installed shop-deploy' })).statusCode).toBe(204);
    expect((await post('web02.example.com', f.tokens.web02, { revision: 1, status: 'failed', summary: 'dnf failed' })).statusCode).toBe(204);
    expect((await post('web01.example.com', f.tokens.web01, { revision: 'one', status: 'changed' })).statusCode).toBe(400);
    expect((await post('web01.example.com', f.tokens.web01, { revision: 1, status: 'exploded' })).statusCode).toBe(400);
    // people do not post reports
    expect((await post('web01.example.com', f.tokens.admin, { revision: 1, status: 'changed' })).statusCode).toBe(403);
    const servers = json<{ servers: { fqdn: string; health: string; applied?: number }[] }>(await f.call('GET', '/api/v1/servers', { token: f.tokens.viewer })).servers;
    expect(servers.map((s) => [s.fqdn, s.health])).toEqual([
      ['cache01.example.com', 'never-reported'],
      ['web01.example.com', 'current'],
      ['web02.example.com', 'failed'],
    ]);
    // a publish puts web01 behind
    const cs = json<{ id: number }>(await f.call('POST', '/api/v1/changesets', { token: f.tokens.editor, body: { title: 'banner' } }));
    await f.call('POST', `/api/v1/changesets/${cs.id}/settings`, { token: f.tokens.editor, body: { scope: { kind: 'role', name: 'shop-front' }, key: 'shop.banner', value: 'New' } });
    expect((await f.call('POST', `/api/v1/changesets/${cs.id}/publish`, { token: f.tokens.editor })).statusCode).toBe(200);
    const behind = json<{ servers: { fqdn: string }[] }>(await f.call('GET', '/api/v1/servers?health=behind', { token: f.tokens.viewer })).servers;
    expect(behind.map((s) => s.fqdn)).toEqual(['web01.example.com']);
    expect((await f.call('GET', '/api/v1/servers?health=sideways', { token: f.tokens.viewer })).statusCode).toBe(400);
    await f.close();
  });

  it('a session: cookie HttpOnly, SameSite=Strict, Path=/ (Secure over HTTPS); state changes need its CSRF token; logout ends it', async () => {
    const f = await fixture({ trustProxy: true });
    const { cookie, csrf, response } = await login(f);
    const set = String(response.headers['set-cookie']);
    expect(set).toMatch(/^geppetto_session=[A-Za-z0-9_-]{43}; /);
    expect(set).toMatch(/; HttpOnly/);
    expect(set).toMatch(/; SameSite=Strict/);
    expect(set).toMatch(/; Path=\//);
    expect(set).not.toMatch(/; Secure/);
    // behind a TLS proxy (X-Forwarded-Proto: https, trusted): Secure, and HSTS
    const https = await f.call('POST', '/api/v1/login', { body: { name: 'alice', password: PASSWORD }, headers: { 'x-forwarded-proto': 'https' } });
    expect(String(https.headers['set-cookie'])).toMatch(/; Secure/);
    expect(https.headers['strict-transport-security']).toMatch(/max-age=/);

    const me = await f.call('GET', '/api/v1/session', { cookie });
    expect(json(me)).toMatchObject({ user: { name: 'alice', role: 'editor' } });
    // GET needs no token; POST without one, or with another session's, or a forged one: 403, nothing done
    expect((await f.call('GET', '/api/v1/changesets', { cookie })).statusCode).toBe(200);
    const before = json<{ changesets: unknown[] }>(await f.call('GET', '/api/v1/changesets', { cookie })).changesets.length;
    const noToken = await f.call('POST', '/api/v1/changesets', { cookie, body: { title: 'forged' } });
    expect(noToken.statusCode).toBe(403);
    expect(json(noToken)).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const otherSession = await login(f);
    expect((await f.call('POST', '/api/v1/changesets', { cookie, csrf: otherSession.csrf, body: { title: 'forged' } })).statusCode).toBe(403);
    expect((await f.call('POST', '/api/v1/changesets', { cookie, csrf: 'x', body: { title: 'forged' } })).statusCode).toBe(403);
    // a form post carries it as _csrf
    const form = await f.app.inject({ method: 'POST', url: '/api/v1/changesets', cookies: { geppetto_session: cookie }, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'title=forged' });
    expect(form.statusCode).toBe(403);
    expect(json<{ changesets: unknown[] }>(await f.call('GET', '/api/v1/changesets', { cookie })).changesets.length).toBe(before);
    const ok = await f.call('POST', '/api/v1/changesets', { cookie, csrf, body: { title: 'real' } });
    expect(ok.statusCode).toBe(201);
    expect(json(ok)).toMatchObject({ title: 'real', author: 'alice' });
    // a token request needs no CSRF token (no cookie involved)
    expect((await f.call('POST', '/api/v1/changesets', { token: f.tokens.editor, body: { title: 'ci' } })).statusCode).toBe(201);
    // logout: needs the token too, then the cookie is cleared and dead
    expect((await f.call('POST', '/api/v1/logout', { cookie })).statusCode).toBe(403);
    const out = await f.call('POST', '/api/v1/logout', { cookie, csrf });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^geppetto_session=; Max-Age=0/);
    expect((await f.call('GET', '/api/v1/session', { cookie })).statusCode).toBe(401);
    expect((await f.call('POST', '/api/v1/changesets', { cookie, csrf, body: { title: 'late' } })).statusCode).toBe(401);
    // login from another site's page is refused (no session yet, so no CSRF token: the origin is checked)
    expect((await f.call('POST', '/api/v1/login', { body: { name: 'alice', password: PASSWORD }, headers: { origin: 'https://evil.example.com' } })).statusCode).toBe(403);
    expect((await f.call('POST', '/api/v1/login', { body: { name: 'alice', password: PASSWORD }, headers: { 'sec-fetch-site': 'cross-site' } })).statusCode).toBe(403);
    expect((await f.call('POST', '/api/v1/login', { body: { name: 'alice', password: PASSWORD }, headers: { origin: 'http://localhost:80' } })).statusCode).toBe(200);
    await f.close();
  });

  it('logins are rate-limited per client (429), and per account by the service across clients', async () => {
    const f = await fixture({ loginRateLimit: { max: 3, timeWindow: 60_000 } });
    const attempt = (password: string, ip = '10.0.0.1') => f.app.inject({ method: 'POST', url: '/api/v1/login', payload: { name: 'alice', password }, remoteAddress: ip });
    expect((await attempt('wrong password 1')).statusCode).toBe(401);
    expect((await attempt('wrong password 2')).statusCode).toBe(401);
    expect((await attempt(PASSWORD)).statusCode).toBe(200);
    const limited = await attempt(PASSWORD);
    expect(limited.statusCode).toBe(429);
    expect(json(limited)).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect(limited.headers['retry-after']).toBeDefined();
    // the account: 10 failures in 15 minutes lock it, whatever the address
    for (let i = 0; i < 10; i++) await attempt(`wrong ${i}`, `10.0.1.${i}`);
    const locked = await attempt(PASSWORD, '10.0.2.1');
    expect(locked.statusCode).toBe(429);
    expect(json(locked)).toMatchObject({ error: { code: 'RATE_LIMITED', message: expect.stringMatching(/15 minutes/) } });
    // servers fetching their file are not throttled by the global limit
    const g2 = await fixture({ rateLimit: { max: 5, timeWindow: 60_000 } });
    for (let i = 0; i < 20; i++) expect((await g2.call('GET', FILE, { token: g2.tokens.web01 })).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) await g2.call('GET', '/api/v1/servers', { token: g2.tokens.viewer });
    expect((await g2.call('GET', '/api/v1/servers', { token: g2.tokens.viewer })).statusCode).toBe(429);
    await g2.close();
    await f.close();
  });

  it('roles: a viewer reads but cannot edit (403); an editor cannot manage users or tokens (403)', async () => {
    const f = await fixture();
    const v = f.tokens.viewer;
    expect((await f.call('GET', '/api/v1/roles', { token: v })).statusCode).toBe(200);
    const session = await login(f, 'victor');
    for (const c of [{ token: v }, { cookie: session.cookie, csrf: session.csrf }]) {
      expect((await f.call('POST', '/api/v1/changesets', { ...c, body: { title: 'no' } })).statusCode).toBe(403);
      expect((await f.call('POST', '/api/v1/catalog/refresh', c)).statusCode).toBe(403);
      expect((await f.call('GET', '/api/v1/users', c)).statusCode).toBe(403);
    }
    const e = f.tokens.editor;
    expect((await f.call('GET', '/api/v1/users', { token: e })).statusCode).toBe(403);
    expect((await f.call('GET', '/api/v1/tokens', { token: e })).statusCode).toBe(403);
    expect((await f.call('POST', '/api/v1/tokens', { token: e, body: { name: 'x', role: 'admin' } })).statusCode).toBe(403);
    expect((await f.call('POST', '/api/v1/servers/web01.example.com/token', { token: e })).statusCode).toBe(403);
    expect((await f.call('PATCH', '/api/v1/users/victor', { token: e, body: { role: 'admin' } })).statusCode).toBe(403);
    // a viewer's changeset edits are refused even on an editor's open changeset
    const cs = json<{ id: number }>(await f.call('POST', '/api/v1/changesets', { token: e, body: { title: 'mine' } }));
    expect((await f.call('POST', `/api/v1/changesets/${cs.id}/settings`, { token: v, body: { scope: { kind: 'global' }, key: 'shop.banner', value: 'x' } })).statusCode).toBe(403);
    expect((await f.call('POST', `/api/v1/changesets/${cs.id}/publish`, { token: v })).statusCode).toBe(403);
    await f.close();
  });

  it('changesets: stage entities, set and unset settings, preview per-server diffs, publish, 422 with problems, discard, revert', async () => {
    const f = await fixture();
    const t = f.tokens.editor;
    const role = json<{ version: number; definition: { parents: string[]; components: Record<string, string>; settings: Record<string, unknown> } }>(await f.call('GET', '/api/v1/roles/shop-front', { token: t }));
    expect(role.definition.parents).toEqual(['base']);
    expect(role.definition.settings['shop.db_password']).toEqual({ secret: expect.stringMatching(/^s_/) });
    const cs = json<{ id: number; status: string }>(await f.call('POST', '/api/v1/changesets', { token: t, body: { title: 'new role and server' } }));
    expect(cs.status).toBe('open');
    const staged = await f.call('PUT', `/api/v1/changesets/${cs.id}/entities/role/api-front`, {
      token: t,
      body: { definition: { parents: ['shop-front'], components: {}, settings: { 'shop.listen_port': 7070 } }, expectedVersion: 0 },
    });
    expect(staged.statusCode, staged.body).toBe(200);
    expect(json(staged)).toMatchObject({ entities: [{ kind: 'role', name: 'api-front', baseVersion: 0, deleted: false, definition: { parents: ['shop-front'] } }] });
    await f.call('PUT', `/api/v1/changesets/${cs.id}/entities/server/api01.example.com`, { token: t, body: { definition: { environment: 'production', roles: ['api-front'] }, expectedVersion: 0 } });
    await f.call('POST', `/api/v1/changesets/${cs.id}/settings`, { token: t, body: { scope: { kind: 'environment', name: 'staging' }, key: 'cache.size_mb', value: 128 } });
    await f.call('POST', `/api/v1/changesets/${cs.id}/unset`, { token: t, body: { scope: { kind: 'global' }, key: 'shop.banner' } });
    const preview = json<{ problems: unknown[]; conflicts: unknown[]; servers: { fqdn: string; change: string; from: number; to: number; diff: string }[] }>(
      await f.call('GET', `/api/v1/changesets/${cs.id}/preview`, { token: f.tokens.viewer }),
    );
    expect(preview.problems).toEqual([]);
    expect(preview.conflicts).toEqual([]);
    expect(preview.servers.map((s) => [s.fqdn, s.change, s.from, s.to])).toEqual([
      ['api01.example.com', 'added', 0, 1],
      ['cache01.example.com', 'changed', 1, 2],
      ['web01.example.com', 'changed', 1, 2],
      ['web02.example.com', 'changed', 1, 2],
    ]);
    expect(preview.servers.find((s) => s.fqdn === 'cache01.example.com')?.diff).toMatch(/^\+\s+size_mb: 128$/m);
    const published = await f.call('POST', `/api/v1/changesets/${cs.id}/publish`, { token: t });
    expect(published.statusCode, published.body).toBe(200);
    expect(json<{ revisions: unknown[] }>(published).revisions).toContainEqual({ fqdn: 'api01.example.com', revision: 1 });
    expect(json(await f.call('GET', `/api/v1/changesets/${cs.id}`, { token: t }))).toMatchObject({ status: 'published' });
    // publishing again: the changeset is no longer open
    expect((await f.call('POST', `/api/v1/changesets/${cs.id}/publish`, { token: t })).statusCode).toBe(409);

    // a type error: 422 naming server and key, nothing published
    const bad = json<{ id: number }>(await f.call('POST', '/api/v1/changesets', { token: t, body: { title: 'bad port' } }));
    await f.call('POST', `/api/v1/changesets/${bad.id}/settings`, { token: t, body: { scope: { kind: 'role', name: 'shop-front' }, key: 'shop.listen_port', value: 'eighty' } });
    const blockedPreview = json<{ problems: { kind: string; server?: string; key?: string }[] }>(await f.call('GET', `/api/v1/changesets/${bad.id}/preview`, { token: t }));
    expect(blockedPreview.problems).toContainEqual(expect.objectContaining({ kind: 'type', key: 'shop.listen_port' }));
    const refused = await f.call('POST', `/api/v1/changesets/${bad.id}/publish`, { token: t });
    expect(refused.statusCode).toBe(422);
    const err = json<{ error: { code: string; message: string; problems: { kind: string; server: string; key: string }[] } }>(refused).error;
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.problems).toContainEqual(expect.objectContaining({ kind: 'type', key: 'shop.listen_port', server: expect.stringMatching(/example\.com$/) }));
    expect(err.message).toMatch(/shop\.listen_port/);
    expect((await f.call('POST', `/api/v1/changesets/${bad.id}/discard`, { token: t })).statusCode).toBe(204);
    expect(json(await f.call('GET', `/api/v1/changesets/${bad.id}`, { token: t }))).toMatchObject({ status: 'discarded' });

    // revert the first: api01 loses its file, cache01 gets its old size back
    const reverted = await f.call('POST', `/api/v1/changesets/${cs.id}/revert`, { token: t });
    expect(reverted.statusCode, reverted.body).toBe(200);
    expect(json<{ revisions: unknown[] }>(reverted).revisions).toContainEqual({ fqdn: 'api01.example.com', revision: 0 });
    expect((await f.call('GET', '/api/v1/roles/api-front', { token: t })).statusCode).toBe(404);
    const list = json<{ changesets: { id: number; status: string; reverts?: number }[] }>(await f.call('GET', '/api/v1/changesets?status=published', { token: t })).changesets;
    expect(list[0]).toMatchObject({ status: 'published', reverts: cs.id });
    // staging a deletion, and dropping an entity from a changeset
    const del = json<{ id: number }>(await f.call('POST', '/api/v1/changesets', { token: t, body: { title: 'drop cache01' } }));
    const server = json<{ version: number }>(await f.call('GET', '/api/v1/servers/cache01.example.com', { token: t }));
    const deleting = await f.call('DELETE', `/api/v1/changesets/${del.id}/entities/server/cache01.example.com?expectedVersion=${server.version}`, { token: t });
    expect(json(deleting)).toMatchObject({ entities: [{ kind: 'server', name: 'cache01.example.com', deleted: true, definition: null }] });
    const unstaged = await f.call('DELETE', `/api/v1/changesets/${del.id}/entities/server/cache01.example.com?unstage=true`, { token: t });
    expect(json(unstaged)).toMatchObject({ entities: [] });
    // malformed input: 400 with the field named
    const malformed = await f.call('POST', `/api/v1/changesets/${del.id}/settings`, { token: t, body: { scope: { kind: 'role', name: 'shop-front' }, key: 'no-dot', value: 1 } });
    expect(malformed.statusCode).toBe(400);
    expect(json(malformed)).toMatchObject({ error: { code: 'INVALID_INPUT', message: expect.stringMatching(/key/) } });
    expect((await f.call('GET', '/api/v1/changesets/999', { token: t })).statusCode).toBe(404);
    expect((await f.call('GET', '/api/v1/changesets/abc', { token: t })).statusCode).toBe(400);
    await f.close();
  });

  it('two editors change the same role: the second gets 409, nothing is lost', async () => {
    const f = await fixture();
    const read = async () => json<{ version: number; definition: { settings: Record<string, unknown> } }>(await f.call('GET', '/api/v1/roles/shop-front', { token: f.tokens.editor }));
    const seen = await read();
    const a = json<{ id: number }>(await f.call('POST', '/api/v1/changesets', { token: f.tokens.editor, body: { title: 'A' } }));
    const b = json<{ id: number }>(await f.call('POST', '/api/v1/changesets', { token: f.tokens.editor2, body: { title: 'B' } }));
    const edit = (cs: number, token: string, value: number, expectedVersion: number) =>
      f.call('POST', `/api/v1/changesets/${cs}/settings`, { token, body: { scope: { kind: 'role', name: 'shop-front' }, key: 'shop.listen_port', value, expectedVersion } });
    expect((await edit(a.id, f.tokens.editor, 1111, seen.version)).statusCode).toBe(200);
    expect((await edit(b.id, f.tokens.editor2, 2222, seen.version)).statusCode).toBe(200);
    expect((await f.call('POST', `/api/v1/changesets/${a.id}/publish`, { token: f.tokens.editor })).statusCode).toBe(200);
    const second = await f.call('POST', `/api/v1/changesets/${b.id}/publish`, { token: f.tokens.editor2 });
    expect(second.statusCode).toBe(409);
    expect(json(second)).toMatchObject({ error: { code: 'CONFLICT', message: expect.stringMatching(/role shop-front/) } });
    // A's value stands; B's changeset is still open with its edit, its preview names the conflict
    const now = await read();
    expect(now.definition.settings['shop.listen_port']).toBe(1111);
    expect(json(await f.call('GET', `/api/v1/changesets/${b.id}`, { token: f.tokens.editor2 }))).toMatchObject({ status: 'open', entities: [{ name: 'shop-front', definition: { settings: { 'shop.listen_port': 2222 } } }] });
    expect(json<{ conflicts: unknown[] }>(await f.call('GET', `/api/v1/changesets/${b.id}/preview`, { token: f.tokens.editor2 })).conflicts).toEqual([
      { kind: 'role', name: 'shop-front', baseVersion: seen.version, currentVersion: now.version },
    ]);
    // an edit made from the stale read is refused at once
    const c = json<{ id: number }>(await f.call('POST', '/api/v1/changesets', { token: f.tokens.editor2, body: { title: 'C' } }));
    expect((await edit(c.id, f.tokens.editor2, 3333, seen.version)).statusCode).toBe(409);
    expect((await f.call('PUT', `/api/v1/changesets/${c.id}/entities/role/shop-front`, { token: f.tokens.editor2, body: { definition: { parents: [] }, expectedVersion: seen.version } })).statusCode).toBe(409);
    // re-read, edit again: published
    expect((await edit(c.id, f.tokens.editor2, 3333, now.version)).statusCode).toBe(200);
    expect((await f.call('POST', `/api/v1/changesets/${c.id}/publish`, { token: f.tokens.editor2 })).statusCode).toBe(200);
    expect((await read()).definition.settings['shop.listen_port']).toBe(3333);
    await f.close();
  });

  it("a secret's value is in no API answer, audit entry or log line; only in the file served to its own server", async () => {
    const f = await fixture();
    const NEW_SECRET = 'n3w-S3cret-value-42';
    const s = await login(f);
    // set a secret through a session (form-like) and through a token
    const cs = json<{ id: number }>(await f.call('POST', '/api/v1/changesets', { cookie: s.cookie, csrf: s.csrf, body: { title: 'rotate' } }));
    const set = await f.call('POST', `/api/v1/changesets/${cs.id}/settings`, { cookie: s.cookie, csrf: s.csrf, body: { scope: { kind: 'server', name: 'web02.example.com' }, key: 'shop.db_password', value: NEW_SECRET } });
    expect(set.statusCode, set.body).toBe(200);
    const answers: LightMyRequestResponse[] = [set];
    answers.push(await f.call('GET', `/api/v1/changesets/${cs.id}`, { token: f.tokens.admin }));
    answers.push(await f.call('GET', `/api/v1/changesets/${cs.id}/preview`, { token: f.tokens.admin }));
    answers.push(await f.call('POST', `/api/v1/changesets/${cs.id}/publish`, { cookie: s.cookie, csrf: s.csrf }));
    for (const url of [
      '/api/v1/servers',
      '/api/v1/servers/web01.example.com',
      '/api/v1/servers/web02.example.com',
      '/api/v1/servers/web02.example.com/explain',
      '/api/v1/servers/web02.example.com/explain?key=shop.db_password',
      '/api/v1/roles',
      '/api/v1/roles/shop-front',
      '/api/v1/environments',
      '/api/v1/global',
      '/api/v1/components',
      '/api/v1/changesets',
      '/api/v1/audit?limit=1000',
      '/api/v1/tokens',
      '/api/v1/users',
      '/api/openapi.json',
      '/api/v1/nodes/web01.example.com/file',
      '/api/v1/nodes/web02.example.com/file',
      '/api/v1/nodes/web02.example.com/file?revision=1',
    ]) {
      const r = await f.call('GET', url, { token: f.tokens.admin });
      expect(r.statusCode, url).toBe(200);
      answers.push(r);
      const withJson = await f.call('GET', url, { token: f.tokens.admin, headers: { accept: 'application/json' } });
      answers.push(withJson);
    }
    for (const r of answers) {
      expect(r.body).not.toContain(SECRET);
      expect(r.body).not.toContain(NEW_SECRET);
    }
    // people see the file masked, Sensitive parameters as "(secret)"
    const masked = YAML.parse((await f.call('GET', '/api/v1/nodes/web02.example.com/file', { token: f.tokens.viewer })).body) as { classes: { shop: Record<string, unknown> } };
    expect(masked.classes.shop.db_password).toBe('(secret)');
    const detail = json<{ resolved: { settings: { key: string; value: unknown; secret: boolean }[] } }>(await f.call('GET', '/api/v1/servers/web02.example.com', { token: f.tokens.viewer }));
    expect(detail.resolved.settings.find((x) => x.key === 'shop.db_password')).toMatchObject({ value: '(secret)', secret: true });
    // the audit says it changed
    expect(JSON.stringify((await f.g.audit()).filter((e) => e.target === 'server web02.example.com'))).toMatch(/changed/);
    // the servers themselves get their own values
    expect(YAML.parse((await f.call('GET', '/api/v1/nodes/web02.example.com/file', { token: f.tokens.web02 })).body)).toMatchObject({ classes: { shop: { db_password: NEW_SECRET } } });
    expect(YAML.parse((await f.call('GET', '/api/v1/nodes/web01.example.com/file', { token: f.tokens.web01 })).body)).toMatchObject({ classes: { shop: { db_password: SECRET } } });
    // a failed login and a malformed JSON body with a password in it are logged without it
    await f.call('POST', '/api/v1/login', { body: { name: 'alice', password: `${NEW_SECRET}-typo` } });
    await f.call('POST', '/api/v1/login', { body: `{"name":"alice","password":"${NEW_SECRET}`, headers: { 'content-type': 'application/json' } });
    const broken = await f.call('POST', `/api/v1/changesets/${cs.id}/settings`, { token: f.tokens.editor, body: `{"key":"shop.db_password","value":"${NEW_SECRET}`, headers: { 'content-type': 'application/json' } });
    expect(broken.statusCode).toBe(400);
    expect(broken.body).not.toContain(NEW_SECRET);
    const logs = f.logs.join('');
    expect(f.logs.length).toBeGreaterThan(50);
    for (const secret of [SECRET, NEW_SECRET, PASSWORD, s.cookie, s.csrf, ...Object.values(f.tokens)]) expect(logs).not.toContain(secret);
    expect(logs).not.toMatch(/authorization|cookie/i);
    await f.close();
  });

  it('SQL and HTML injection strings round-trip literally; hostile names are refused', async () => {
    const f = await fixture();
    const t = f.tokens.editor;
    const cs = json<{ id: number }>(await f.call('POST', '/api/v1/changesets', { token: t, body: { title: HOSTILE } }));
    expect(json(await f.call('GET', `/api/v1/changesets/${cs.id}`, { token: t }))).toMatchObject({ title: HOSTILE });
    await f.call('POST', `/api/v1/changesets/${cs.id}/settings`, { token: t, body: { scope: { kind: 'role', name: 'shop-front' }, key: 'shop.banner', value: HOSTILE } });
    expect((await f.call('POST', `/api/v1/changesets/${cs.id}/publish`, { token: t })).statusCode).toBe(200);
    const role = await f.call('GET', '/api/v1/roles/shop-front', { token: t });
    expect(role.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json<{ definition: { settings: Record<string, unknown> } }>(role).definition.settings['shop.banner']).toBe(HOSTILE);
    const file = await f.call('GET', FILE, { token: f.tokens.web01, headers: { accept: 'application/json' } });
    expect(json<{ classes: { shop: { banner: string } } }>(file).classes.shop.banner).toBe(HOSTILE);
    expect((YAML.parse((await f.call('GET', FILE, { token: f.tokens.web01 })).body) as { classes: { shop: { banner: string } } }).classes.shop.banner).toBe(HOSTILE);
    // a hostile report summary comes back literally too
    await f.call('POST', '/api/v1/nodes/web01.example.com/reports', { token: f.tokens.web01, body: { revision: 2, status: 'changed', summary: HOSTILE } });
    expect(json<{ reports: { summary: string }[] }>(await f.call('GET', '/api/v1/servers/web01.example.com', { token: t })).reports[0]?.summary).toBe(HOSTILE);
    // names: refused before they reach SQL or HTML
    const c2 = json<{ id: number }>(await f.call('POST', '/api/v1/changesets', { token: t, body: { title: 'names' } }));
    for (const name of ["x'; DROP TABLE entities; --", '<script>', '..%2F..']) {
      const r = await f.call('PUT', `/api/v1/changesets/${c2.id}/entities/role/${encodeURIComponent(name)}`, { token: t, body: { definition: {} } });
      expect(r.statusCode, name).toBe(400);
    }
    expect((await f.call('GET', `/api/v1/roles/${encodeURIComponent("x' OR '1'='1")}`, { token: t })).statusCode).toBe(404);
    expect((await f.call('POST', '/api/v1/users', { token: f.tokens.admin, body: { name: "x'; DROP TABLE users; --", password: PASSWORD, role: 'viewer' } })).statusCode).toBe(400);
    expect(json<{ roles: unknown[] }>(await f.call('GET', '/api/v1/roles', { token: t })).roles).toHaveLength(2);
    await f.close();
  });

  it('reading: servers with resolved settings and chains, explain, roles, environments, global, repositories, components, audit', async () => {
    const f = await fixture();
    const t = f.tokens.viewer;
    const web01 = json<{
      version: number;
      definition: { environment: string; roles: string[] };
      status: { health: string; revision: number };
      resolved: { components: Record<string, { evr: string }>; settings: { key: string; value?: unknown; origin: string; chain: { source: { scope: string; name: string } }[] }[]; problems: unknown[] };
      revisions: { revision: number }[];
    }>(await f.call('GET', '/api/v1/servers/web01.example.com', { token: t }));
    expect(web01.definition).toMatchObject({ environment: 'production', roles: ['shop-front'] });
    expect(web01.version).toBeGreaterThan(0);
    expect(web01.status).toMatchObject({ health: 'never-reported', revision: 1 });
    expect(web01.resolved.components).toMatchObject({ shop: { evr: '1.4.0-1' }, cache: { evr: '2.0.0-1' } });
    const port = web01.resolved.settings.find((s) => s.key === 'shop.listen_port');
    expect(port).toMatchObject({ value: 9090, origin: 'definition' });
    expect(port?.chain[0]?.source).toMatchObject({ scope: 'role', name: 'shop-front' });
    expect(web01.revisions.map((r) => r.revision)).toEqual([1]);
    expect((await f.call('GET', '/api/v1/servers/nowhere.example.com', { token: t })).statusCode).toBe(404);
    const explain = json<{ text: string }>(await f.call('GET', '/api/v1/servers/web01.example.com/explain?key=shop.listen_port', { token: t }));
    expect(explain.text).toMatch(/shop-front/);
    expect(explain.text).toMatch(/9090/);
    expect(json<{ roles: { name: string }[] }>(await f.call('GET', '/api/v1/roles', { token: t })).roles.map((r) => r.name)).toEqual(['base', 'shop-front']);
    expect(json<{ environments: { name: string }[] }>(await f.call('GET', '/api/v1/environments', { token: t })).environments.map((r) => r.name)).toEqual(['production', 'staging']);
    expect((await f.call('GET', '/api/v1/environments/staging', { token: t })).statusCode).toBe(200);
    expect(json(await f.call('GET', '/api/v1/global', { token: t }))).toMatchObject({ definition: { settings: { 'shop.banner': 'Hello' } } });
    expect(json(await f.call('GET', '/api/v1/repositories', { token: t }))).toMatchObject({ repositories: [REPO] });
    const components = json<{ components: { name: string; versions: { evr: string; keys: { name: string; secret: boolean }[] }[] }[] }>(await f.call('GET', '/api/v1/components', { token: t })).components;
    expect(components.map((c) => [c.name, c.versions.map((v) => v.evr)])).toEqual([
      ['cache', ['2.0.0-1']],
      ['shop', ['1.4.0-1', '1.5.0-1']],
    ]);
    expect(components[1]?.versions[0]?.keys).toContainEqual(expect.objectContaining({ name: 'db_password', secret: true }));
    const audit = json<{ entries: { action: string; actor: string }[] }>(await f.call('GET', '/api/v1/audit?limit=5', { token: t })).entries;
    expect(audit).toHaveLength(5);
    expect(audit.map((e) => e.action)).toContain('token-issue');
    await f.close();
  });

  it('admin: users and API tokens; a revoked token stops working; catalog refresh is an editor\'s', async () => {
    const f = await fixture();
    const a = f.tokens.admin;
    const created = await f.call('POST', '/api/v1/users', { token: a, body: { name: 'bob', password: PASSWORD, role: 'viewer' } });
    expect(created.statusCode).toBe(201);
    expect(json(created)).toMatchObject({ name: 'bob', role: 'viewer', disabled: false });
    expect(created.body).not.toContain(PASSWORD);
    expect((await f.call('POST', '/api/v1/users', { token: a, body: { name: 'bob', password: PASSWORD, role: 'viewer' } })).statusCode).toBe(409);
    expect((await f.call('POST', '/api/v1/users', { token: a, body: { name: 'carol', password: 'short', role: 'viewer' } })).statusCode).toBe(400);
    expect(json<{ users: { name: string }[] }>(await f.call('GET', '/api/v1/users', { token: a })).users.map((u) => u.name)).toEqual(['alice', 'bob', 'victor']);
    expect(json(await f.call('PATCH', '/api/v1/users/bob', { token: a, body: { role: 'editor' } }))).toMatchObject({ role: 'editor' });
    // bob changes his own password through his session; disabling him ends it
    const bob = await login(f, 'bob');
    expect((await f.call('PATCH', '/api/v1/users/bob', { cookie: bob.cookie, csrf: bob.csrf, body: { password: 'another long password' } })).statusCode).toBe(200);
    expect((await f.call('GET', '/api/v1/session', { cookie: bob.cookie })).statusCode).toBe(401);
    expect((await f.call('POST', '/api/v1/login', { body: { name: 'bob', password: 'another long password' } })).statusCode).toBe(200);
    expect((await f.call('PATCH', '/api/v1/users/bob', { token: a, body: { disabled: true } })).statusCode).toBe(200);
    expect((await f.call('POST', '/api/v1/login', { body: { name: 'bob', password: 'another long password' } })).statusCode).toBe(401);

    const token = json<{ id: string; token: string }>(await f.call('POST', '/api/v1/tokens', { token: a, body: { name: 'deploy-bot', role: 'editor' } }));
    expect((await f.call('POST', '/api/v1/changesets', { token: token.token, body: { title: 'bot' } })).statusCode).toBe(201);
    const list = await f.call('GET', '/api/v1/tokens', { token: a });
    expect(json<{ tokens: { id: string; name: string; kind: string }[] }>(list).tokens).toContainEqual(expect.objectContaining({ id: token.id, name: 'deploy-bot', kind: 'api' }));
    expect(list.body).not.toContain(token.token);
    expect((await f.call('DELETE', `/api/v1/tokens/${token.id}`, { token: a })).statusCode).toBe(204);
    expect((await f.call('POST', '/api/v1/changesets', { token: token.token, body: { title: 'bot' } })).statusCode).toBe(401);
    expect((await f.call('DELETE', `/api/v1/tokens/${token.id}`, { token: a })).statusCode).toBe(404);

    // the repository of STATE is not there: the refresh answers with a result or an error object, never a stack
    const refresh = await f.call('POST', '/api/v1/catalog/refresh', { token: f.tokens.editor });
    expect([401, 403]).not.toContain(refresh.statusCode);
    const answer = json<{ repositories?: unknown[]; error?: { code: string; message: string } }>(refresh);
    expect(answer.repositories ?? answer.error?.code).toBeDefined();
    expect(refresh.body).not.toMatch(/\bat .*\.(ts|js):\d+/);
    await f.close();
  });

  it('OpenAPI 3 document: every API route with its parameters, bodies and answers; security headers everywhere', async () => {
    const f = await fixture();
    const r = await f.call('GET', '/api/openapi.json');
    expect(r.statusCode).toBe(200);
    const doc = json<{ openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; parameters?: { name: string; in: string }[]; requestBody?: unknown }>> }>(r);
    expect(doc.openapi).toMatch(/^3\./);
    const routes = f.app
      .printRoutes({ commonPrefix: false })
      .split('\n')
      .filter((l) => l.includes('api/v1'));
    expect(routes.length).toBeGreaterThan(10);
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    for (const op of [
      'GET /api/v1/nodes/{fqdn}/file',
      'POST /api/v1/nodes/{fqdn}/reports',
      'GET /api/v1/servers',
      'GET /api/v1/servers/{fqdn}',
      'GET /api/v1/servers/{fqdn}/explain',
      'POST /api/v1/servers/{fqdn}/token',
      'GET /api/v1/roles',
      'GET /api/v1/roles/{name}',
      'GET /api/v1/environments',
      'GET /api/v1/components',
      'POST /api/v1/catalog/refresh',
      'POST /api/v1/changesets',
      'PUT /api/v1/changesets/{id}/entities/{kind}/{name}',
      'POST /api/v1/changesets/{id}/settings',
      'POST /api/v1/changesets/{id}/unset',
      'GET /api/v1/changesets/{id}/preview',
      'POST /api/v1/changesets/{id}/publish',
      'POST /api/v1/changesets/{id}/revert',
      'GET /api/v1/audit',
      'GET /api/v1/users',
      'PATCH /api/v1/users/{name}',
      'POST /api/v1/tokens',
      'DELETE /api/v1/tokens/{id}',
      'POST /api/v1/login',
    ]) {
      expect(ops, op).toContain(op);
    }
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(methods)) {
        expect(Object.keys(op.responses).length, `${m} ${path}`).toBeGreaterThan(0);
        for (const name of [...path.matchAll(/\{(\w+)\}/g)].map((x) => x[1])) expect(op.parameters?.some((p) => p.in === 'path' && p.name === name), `${m} ${path} ${name}`).toBe(true);
      }
    }
    expect(doc.paths['/api/v1/changesets']?.post?.requestBody).toBeDefined();
    expect(doc.paths['/api/v1/changesets/{id}/publish']?.post?.responses).toHaveProperty('422');

    for (const res of [r, await f.call('GET', '/static/htmx.min.js'), await f.call('GET', FILE), await f.call('GET', '/nowhere')]) {
      expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
      expect(res.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
      expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
    }
    const htmx = await f.call('GET', '/static/htmx.min.js');
    expect(htmx.statusCode).toBe(200);
    expect(htmx.headers['content-type']).toMatch(/javascript/);
    // nothing else of node_modules
    expect((await f.call('GET', '/static/htmx.js')).statusCode).toBe(404);
    expect((await f.call('GET', '/static/../package.json')).statusCode).toBe(404);
    expect(json(await f.call('GET', '/api/v1/nowhere', { token: f.tokens.viewer }))).toMatchObject({ error: { code: 'NOT_FOUND' } });
    await f.close();
  });
}
