// Lists that grow with the fleet: the servers page and the JSON list a page at a time (the filter
// kept across pages), and a published changeset's page listing the revisions it made, each with
// its file and its diff. The real server over a real service on SQLite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, Client, IMPORTED_SECRET, uiFixtures, type Fixture } from './ui-harness.js';

const fixture = uiFixtures('geppetto-ui-paging-');
let f: Fixture;
const name = (i: number): string => `web${String(i).padStart(3, '0')}.example.com`;

beforeAll(async () => {
  f = await fixture('data');
  // 250 servers, the even ones in staging; web01 and web02 of the fixture are deleted
  const servers = Array.from({ length: 250 }, (_, k) => `  ${name(k + 1)}: { environment: ${(k + 1) % 2 === 0 ? 'staging' : 'production'}, roles: [base] }`).join('\n');
  await f.g.importState(
    admin,
    `repositories: [{ id: kelkoo, baseurl: "file:///srv/yum/kelkoo" }]
environments: { production: {}, staging: {} }
roles:
  base: { components: { shop: "1.4.0-1" }, settings: { "shop.catalog_url": "http://catalog", "shop.db_password": "${IMPORTED_SECRET}" } }
servers:
${servers}
`,
    { title: 'the fleet' },
  );
}, 180_000);
afterAll(() => f.close());

const rows = (html: string): string[] => [...html.matchAll(/<tr[^>]*>\s*<td><a href="\/servers\/([^"?/]+)">/g)].map((m) => m[1] ?? '');
/** The page's next or previous link, as a browser reads the attribute (Handlebars escapes `=` and `&`). */
const href = (html: string, rel: 'next' | 'prev'): string | undefined =>
  [...html.matchAll(/<a rel="(next|prev)" href="([^"]+)"/g)].find((m) => m[1] === rel)?.[2]?.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');

describe('paging', () => {
  it('the servers page shows 100 servers at a time; next and previous keep the filter', async () => {
    const c = new Client(f.app);
    await c.login('vic');
    const first = await c.get('/');
    expect(rows(first.body)).toEqual(Array.from({ length: 100 }, (_, k) => name(k + 1)));
    expect(first.body).toContain('250 of 250 server(s), 1–100 shown');
    expect(href(first.body, 'prev')).toBeUndefined();
    expect(href(first.body, 'next')).toBe('/?offset=100');

    const staging = await c.get('/?environment=staging');
    expect(staging.body).toContain('125 of 250 server(s), 1–100 shown');
    expect(rows(staging.body)).toHaveLength(100);
    const next = href(staging.body, 'next');
    expect(next).toBe('/?environment=staging&offset=100');
    const second = await c.get(next ?? '');
    const shown = rows(second.body);
    expect(shown).toEqual(Array.from({ length: 25 }, (_, k) => name(202 + 2 * k)));
    expect(second.body).toContain('125 of 250 server(s), 101–125 shown');
    expect(href(second.body, 'next')).toBeUndefined();
    expect(href(second.body, 'prev')).toBe('/?environment=staging&offset=0');
    // a hostile or absurd offset is a page, not an error
    expect((await c.get('/?offset=99999999')).statusCode).toBe(200);
    expect(rows((await c.get('/?offset=-5')).body)[0]).toBe(name(1));
  });

  it('the JSON list pages with limit and cursor, the filter kept, every server once, in order', async () => {
    const { token } = await f.g.createApiToken(admin, 'paging-ci', 'viewer');
    const get = async (url: string) => f.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    const seen: string[] = [];
    let url = '/api/v1/servers?limit=60';
    for (let pages = 0; pages < 10; pages++) {
      const res = await get(url);
      expect(res.statusCode).toBe(200);
      const body = res.json<{ servers: { fqdn: string }[]; nextCursor?: string }>();
      expect(body.servers.length).toBeLessThanOrEqual(60);
      seen.push(...body.servers.map((s) => s.fqdn));
      if (body.nextCursor === undefined) break;
      url = `/api/v1/servers?limit=60&cursor=${encodeURIComponent(body.nextCursor)}`;
    }
    expect(seen).toEqual(Array.from({ length: 250 }, (_, k) => name(k + 1)));
    const filtered = (await get('/api/v1/servers?health=never-reported&limit=200')).json<{ servers: unknown[]; nextCursor?: string }>();
    expect(filtered.servers).toHaveLength(200);
    expect(filtered.nextCursor).toBe(name(200));
    // the default page: 500, so all 250 here and no cursor
    const all = (await get('/api/v1/servers')).json<{ servers: unknown[]; nextCursor?: string }>();
    expect(all.servers).toHaveLength(250);
    expect(all.nextCursor).toBeUndefined();
    expect((await get('/api/v1/servers?limit=0')).statusCode).toBe(400);
    expect((await get('/api/v1/servers?limit=1001')).statusCode).toBe(400);
    // the OpenAPI document says so
    const doc = (await f.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, { get?: { parameters?: { name: string }[] } }> }>();
    expect(doc.paths['/api/v1/servers']?.get?.parameters?.map((p) => p.name)).toEqual(['health', 'limit', 'cursor']);
  });

  it("a published changeset's page lists the revisions it made, 100 at a time, each with its file and diff; the files it removed", async () => {
    const cs = (await f.g.changesets({ status: 'published' })).find((c) => c.title === 'the fleet');
    expect(cs).toBeDefined();
    const c = new Client(f.app);
    await c.login('vic');
    const page = await c.get(`/changesets/${cs?.id}`);
    expect(page.body).toContain('1–100 of 250 server file(s) with a new revision');
    expect(page.body).toContain(`<a href="/servers/${name(1)}?revision=1#file">revision 1</a>`);
    expect(page.body).toContain(`<a href="/servers/${name(1)}/diff?revision=1">what changed</a>`);
    expect(page.body).toMatch(/Files removed \(servers deleted\): <code>web01\.example\.com<\/code> <code>web02\.example\.com<\/code>/);
    const last = await c.get(`/changesets/${cs?.id}?offset=200`);
    expect(last.body).toContain('201–250 of 250');
    expect(href(last.body, 'next')).toBeUndefined();
    expect(href(last.body, 'prev')).toBe(`/changesets/${cs?.id}?offset=100#revisions`);
    // an open changeset lists no revisions
    const open = await f.g.createChangeset(admin, 'still open');
    expect((await c.get(`/changesets/${open.id}`)).body).not.toContain('Revisions it made');
  });

  it("a revision's diff page shows what it changed from the one before, secrets masked", async () => {
    const cs = await f.g.createChangeset(admin, 'a banner and a new password');
    const base = await f.g.entity({ kind: 'role', name: 'base' });
    await f.g.setSetting(cs.id, admin, { kind: 'role', name: 'base' }, 'shop.banner', 'Hello <b>there</b>', { expectedVersion: base.version });
    await f.g.setSetting(cs.id, admin, { kind: 'role', name: 'base' }, 'shop.db_password', 'another-Pa55word-value');
    await f.g.publish(cs.id, admin);
    const c = new Client(f.app);
    await c.login('vic');
    const diff = await c.get(`/servers/${name(7)}/diff?revision=2`);
    expect(diff.statusCode).toBe(200);
    expect(diff.body).toContain('What changed from revision 1');
    expect(diff.body).toMatch(/<span class="add">\+\s+banner: &quot;?Hello &lt;b&gt;there&lt;\/b&gt;/);
    expect(diff.body).toContain('(sensitive, changed)');
    expect(diff.body).not.toContain('another-Pa55word-value');
    expect(diff.body).not.toContain(IMPORTED_SECRET);
    expect((await c.get(`/servers/${name(7)}/diff?revision=1`)).body).toContain('The first revision');
    expect((await c.get(`/servers/${name(7)}/diff?revision=9`)).statusCode).toBe(404);
    expect((await c.get(`/servers/${name(7)}/diff?revision=x`)).statusCode).toBe(400);
    // the server's page links each revision's diff
    expect((await c.get(`/servers/${name(7)}`)).body).toContain(`/servers/${name(7)}/diff?revision=2`);
  });
});
