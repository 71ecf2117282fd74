import { describe, expect, it } from 'vitest';
import { Client, IMPORTED_SECRET, uiFixtures } from './ui-harness.js';

const open = uiFixtures('geppetto-ui-');

/** The id in the Location of a new changeset. */
function changesetOf(location: unknown): string {
  const m = /^\/changesets\/(\d+)$/.exec(String(location));
  if (!m?.[1]) throw new Error(`not a changeset: ${String(location)}`);
  return m[1];
}

describe('Geppetto web UI', () => {
  it('sends anonymous visitors to /login and back; wrong passwords are refused on the form', async () => {
    const f = await open();
    try {
      const c = new Client(f.app);
      const first = await c.get('/roles/base');
      expect(first.statusCode).toBe(303);
      expect(first.headers.location).toBe('/login?next=%2Froles%2Fbase');
      const form = await c.get('/login?next=/roles/base');
      expect(form.body).toContain('name="password"');
      expect(form.body).toContain('value="/roles/base"');
      const wrong = await c.post('/login', { name: 'eddie', password: 'not the password', next: '/roles/base' }, { csrf: false });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.body).toContain('wrong name or password');
      expect(c.cookies.has('geppetto_session')).toBe(false);
      // a login form posted from another site (no session yet, so no CSRF token: the origin decides)
      const forged = await f.app.inject({
        method: 'POST',
        url: '/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example.com', 'sec-fetch-site': 'cross-site' },
        payload: 'name=eddie&password=a+long+enough+password',
      });
      expect(forged.statusCode).toBe(403);
      expect(forged.body).toContain('cross-site request refused');
      expect(forged.cookies.map((k) => k.name)).not.toContain('geppetto_session');
      const ok = await c.post('/login', { name: 'eddie', password: 'a long enough password', next: '/roles/base' }, { csrf: false });
      expect(ok.statusCode).toBe(303);
      expect(ok.headers.location).toBe('/roles/base');
      const page = await c.get('/roles/base');
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('Role base');
      // logging out ends the session: its cookie no longer opens a page
      const session = c.cookies.get('geppetto_session');
      const out = await c.post('/logout', {});
      expect(out.statusCode).toBe(303);
      expect(out.headers.location).toBe('/login');
      expect(c.cookies.has('geppetto_session')).toBe(false);
      const replay = await f.app.inject({ method: 'GET', url: '/', headers: { cookie: `geppetto_session=${session ?? ''}` } });
      expect(replay.statusCode).toBe(303);
      // an open redirect is not offered
      const evil = await c.post('/login', { name: 'eddie', password: 'a long enough password', next: '//evil.example.com/' }, { csrf: false });
      expect(evil.headers.location).toBe('/');
    } finally {
      await f.close();
    }
  });

  it('too many failed logins: the form says so (429), even with the right password', async () => {
    const f = await open();
    try {
      const c = new Client(f.app);
      let last = await c.post('/login', { name: 'eddie', password: 'wrong one', next: '/' }, { csrf: false });
      for (let i = 0; i < 11 && last.statusCode !== 429; i++) last = await c.post('/login', { name: 'eddie', password: `wrong ${i}`, next: '/' }, { csrf: false });
      expect(last.statusCode).toBe(429);
      expect(last.headers['content-type']).toContain('text/html');
      expect(last.body).toContain('name="password"');
      expect(last.body).toMatch(/<p class="error" role="alert">too many [^<]*try again in [^<]+<\/p>/);
      const right = await c.post('/login', { name: 'eddie', password: 'a long enough password', next: '/' }, { csrf: false });
      expect(right.statusCode).toBe(429);
      expect(c.cookies.has('geppetto_session')).toBe(false);
    } finally {
      await f.close();
    }
  });

  it('the servers page lists servers with revisions and health, and filters them', async () => {
    const f = await open();
    try {
      const c = new Client(f.app);
      await c.login('vic');
      const all = await c.get('/');
      expect(all.statusCode).toBe(200);
      expect(all.headers['content-security-policy']).toContain("script-src 'self'");
      expect(all.body).toContain('web01.example.com');
      expect(all.body).toContain('web02.example.com');
      expect(all.body).toContain('never reported');
      expect(all.body).toContain('src="/static/htmx.min.js"');
      const one = await c.get('/?name=web02');
      expect(one.body).not.toContain('href="/servers/web01.example.com"');
      expect(one.body).toContain('href="/servers/web02.example.com"');
      const none = await c.get('/?environment=staging');
      expect(none.body).toContain('No server matches');
      const server = await c.get('/servers/web01.example.com');
      expect(server.statusCode).toBe(200);
      expect(server.body).toContain('shop.catalog_url');
      expect(server.body).toContain('&quot;http://catalog&quot;');
      expect(server.body).toContain('role base (web01.example.com &gt; base)');
      expect(server.body).toContain('kelkoo_revision: 1');
      const css = await c.get('/static/geppetto.css');
      expect(css.statusCode).toBe(200);
      expect(css.headers['content-type']).toContain('text/css');
    } finally {
      await f.close();
    }
  });

  it('an editor stages a role with parents, sees a conflict block publishing, resolves it on the server and publishes', async () => {
    const f = await open();
    try {
      const c = new Client(f.app);
      await c.login('eddie');
      await c.get('/changesets');
      const created = await c.post('/changesets', { title: 'front role' });
      expect(created.statusCode).toBe(303);
      const id = changesetOf(created.headers.location);
      const url = `/changesets/${id}`;
      await c.get(url);
      expect((await c.post(`${url}/role`, { name: 'left', parents: 'base' })).statusCode).toBe(303);
      expect((await c.post(`${url}/role`, { name: 'right', parents: 'base' })).statusCode).toBe(303);
      expect((await c.post(`${url}/role`, { name: 'front', parents: 'left, right' })).statusCode).toBe(303);
      expect((await c.post(`${url}/server`, { fqdn: 'web01.example.com', environment: 'production', roles: 'base, front' })).statusCode).toBe(303);
      expect((await c.post(`${url}/set`, { scope: 'role:left', key: 'shop.listen_port', value: '8081' })).statusCode).toBe(303);
      expect((await c.post(`${url}/set`, { scope: 'role:right', key: 'shop.listen_port', value: '8082' })).statusCode).toBe(303);
      const preview = await c.get(url);
      expect(preview.body).toMatch(/class="problem conflict"[\s\S]*shop\.listen_port/);
      expect(preview.body).toContain('role left (web01.example.com &gt; front &gt; left)');
      expect(preview.body).toContain('role right (web01.example.com &gt; front &gt; right)');
      expect(preview.body).toMatch(/<button type="submit" disabled[^>]*>Publish<\/button>/);
      const refused = await c.post(`${url}/publish`, {});
      expect(refused.statusCode).toBe(422);
      expect(refused.body).toContain('cannot publish');
      expect(await f.g.revisions('web01.example.com')).toHaveLength(1);
      // from the server's page to this changeset's forms, filled in for the server
      const serverPage = await c.get('/servers/web01.example.com');
      expect(serverPage.body).toContain(`<option value="${id}">#${id} front role</option>`);
      const jump = await c.get(`/changesets/edit?changeset=${id}&scope=server%3Aweb01.example.com`);
      expect(jump.statusCode).toBe(303);
      expect(jump.headers.location).toBe(`/changesets/${id}?scope=server%3Aweb01.example.com#stage`);
      const focused = await c.get(`/changesets/${id}?scope=server%3Aweb01.example.com`);
      expect(focused.body).toContain('name="fqdn" list="servers-list" required placeholder="web03.example.com" value="web01.example.com"');
      expect(focused.body).toContain('value="base, front"');
      expect(focused.body).toContain('<option value="server:web01.example.com" selected>server web01.example.com</option>');
      // a value given where both paths meet settles it
      expect((await c.post(`${url}/set`, { scope: 'server:web01.example.com', key: 'shop.listen_port', value: '9090' })).statusCode).toBe(303);
      const ready = await c.get(url);
      expect(ready.body).not.toContain('class="problem conflict"');
      expect(ready.body).toMatch(/<button type="submit">Publish<\/button>/);
      expect(ready.body).toContain('<span class="add">+    listen_port: 9090\n</span>');
      const published = await c.post(`${url}/publish`, {});
      expect(published.statusCode).toBe(303);
      const file = await f.g.nodeFile({ kind: 'cli', name: 't', role: 'admin' }, 'web01.example.com');
      expect(file.revision).toBe(2);
      expect(file.body).toContain('listen_port: 9090');
      const server = await c.get('/servers/web01.example.com');
      expect(server.body).toContain('listen_port: 9090');
      expect(server.body).toContain('server web01.example.com (web01.example.com)');
      const role = await c.get('/roles/front');
      expect(role.body).toMatch(/Parents<\/dt><dd><a href="\/roles\/left">left<\/a> <a href="\/roles\/right">right<\/a>/);
      const base = await c.get('/roles/base');
      expect(base.body).toContain('href="/roles/left"');
      // pins, unsets, environments and deletions through their forms, in a second changeset
      const id2 = changesetOf((await c.post('/changesets', { title: 'more' })).headers.location);
      const url2 = `/changesets/${id2}`;
      await c.get(url2);
      expect((await c.post(`${url2}/pin`, { role: 'front', component: 'shop', version: '1.4.0-1' })).statusCode).toBe(303);
      expect((await c.post(`${url2}/unset`, { scope: 'role:base', key: 'shop.catalog_url', mode: 'remove' })).statusCode).toBe(303);
      expect((await c.post(`${url2}/unset`, { scope: 'server:web01.example.com', key: 'shop.banner', mode: 'unset' })).statusCode).toBe(303);
      expect((await c.post(`${url2}/environment`, { name: 'staging' })).statusCode).toBe(303);
      expect((await c.post(`${url2}/delete`, { scope: 'server:web02.example.com' })).statusCode).toBe(303);
      const staged = await c.get(url2);
      expect(staged.body).toContain('<dt>Components</dt><dd>shop 1.4.0-1 </dd>');
      expect(staged.body).toContain('server web02.example.com</strong> <span class="tag del">deleted</span>');
      // shop.catalog_url has no default: dropping its only definition is a problem, named
      expect(staged.body).toMatch(/<strong>missing<\/strong> <a href="\/servers\/web01\.example\.com">web01\.example\.com<\/a> <code>shop\.catalog_url<\/code>/);
      expect((await c.post(`${url2}/unstage`, { kind: 'role', name: 'base' })).statusCode).toBe(303);
      await c.get(url2);
      expect((await c.post(`${url2}/publish`, {})).statusCode).toBe(303);
      const after = await f.g.state();
      expect(after.roles.front?.components).toEqual({ shop: '1.4.0-1' });
      expect(after.servers['web01.example.com']?.unset).toEqual(['shop.banner']);
      expect(Object.keys(after.environments).sort()).toEqual(['production', 'staging']);
      expect(after.servers['web02.example.com']).toBeUndefined();
      expect(after.roles.base?.settings['shop.catalog_url']).toBe('http://catalog');
      const envs = await c.get('/environments');
      expect(envs.body).toContain('<h2>staging <span class="muted">(0 server(s))</span></h2>');

      // the revert is a new published changeset that puts back what it changed
      await c.get(`/changesets/${id2}`);
      const reverted = await c.post(`/changesets/${id2}/revert`, {});
      expect(reverted.statusCode).toBe(303);
      const revert = await f.g.changeset(Number(changesetOf(reverted.headers.location)));
      expect(revert).toMatchObject({ status: 'published', reverts: Number(id2) });
      expect((await f.g.state()).servers['web02.example.com']).toBeDefined();
    } finally {
      await f.close();
    }
  });

  it('two changesets editing the same role: the second sees the other publish and cannot publish over it', async () => {
    const f = await open();
    try {
      const c = new Client(f.app);
      await c.login('eddie');
      const a = changesetOf((await c.post('/changesets', { title: 'a' })).headers.location);
      const b = changesetOf((await c.post('/changesets', { title: 'b' })).headers.location);
      await c.get(`/changesets/${a}`);
      expect((await c.post(`/changesets/${a}/set`, { scope: 'role:base', key: 'shop.banner', value: 'from a' })).statusCode).toBe(303);
      expect((await c.post(`/changesets/${b}/set`, { scope: 'role:base', key: 'shop.banner', value: 'from b' })).statusCode).toBe(303);
      expect((await c.post(`/changesets/${a}/publish`, {})).statusCode).toBe(303);
      const page = await c.get(`/changesets/${b}`);
      expect(page.body).toMatch(/Changed by another publish since this changeset edited them[\s\S]*role base: version \d+ when edited, now \d+/);
      expect(page.body).toMatch(/<button type="submit" disabled[^>]*>Publish<\/button>/);
      const refused = await c.post(`/changesets/${b}/publish`, {});
      expect(refused.statusCode).toBe(409);
      expect(refused.body).toContain('was changed by another publish');
      expect((await f.g.state()).roles.base?.settings['shop.banner']).toBe('from a');
    } finally {
      await f.close();
    }
  });

  it('typed values: a value the key type refuses is an error on the form, not a stored string', async () => {
    const f = await open();
    try {
      const c = new Client(f.app);
      await c.login('eddie');
      const id = changesetOf((await c.post('/changesets', { title: 'types' })).headers.location);
      await c.get(`/changesets/${id}`);
      const bad = await c.post(`/changesets/${id}/set`, { scope: 'global', key: 'shop.listen_port', value: 'eighty' });
      expect(bad.statusCode).toBe(400);
      expect(bad.body).toContain('shop.listen_port: &quot;eighty&quot; is not an Integer');
      expect((await c.post(`/changesets/${id}/set`, { scope: 'global', key: 'shop.banner', value: '42' })).statusCode).toBe(303);
      const state = await f.g.changesetState(Number(id));
      expect(state.global.settings['shop.banner']).toBe('42');
    } finally {
      await f.close();
    }
  });

  it('a viewer reads every page without edit controls, and every POST of theirs is refused', async () => {
    const f = await open();
    try {
      const editor = new Client(f.app);
      await editor.login('eddie');
      const id = changesetOf((await editor.post('/changesets', { title: 'pending' })).headers.location);
      const c = new Client(f.app);
      await c.login('vic');
      const pages = ['/', '/servers/web01.example.com', '/roles', '/roles/base', '/environments', '/components', '/components/shop', '/changesets', `/changesets/${id}`, '/audit'];
      for (const p of pages) {
        const res = await c.get(p);
        expect(res.statusCode, p).toBe(200);
        // the only form that changes anything is logging out
        const posts = [...res.body.matchAll(/<form[^>]*method="post"[^>]*action="([^"]+)"/g)].map((m) => m[1]);
        expect(posts, p).toEqual(['/logout']);
        expect(res.body, p).not.toContain('action="/changesets/edit"');
      }
      for (const [p, what] of [['/servers/nope.example.com', 'server nope.example.com does not exist'], ['/changesets/999', 'changeset 999 does not exist'], ['/roles/nope', 'role nope does not exist'], ['/components/nope', 'component nope is not in the catalog']]) {
        const res = await c.get(p ?? '');
        expect(res.statusCode, p).toBe(404);
        expect(res.headers['content-type']).toContain('text/html');
        expect(res.body).toContain(what);
      }
      const token = c.csrf;
      expect(token).not.toBe('');
      const attempts: [string, Record<string, string>][] = [
        ['/changesets', { title: 'sneaky' }],
        [`/changesets/${id}/role`, { name: 'sneaky', parents: '' }],
        [`/changesets/${id}/set`, { scope: 'global', key: 'shop.banner', value: 'x' }],
        [`/changesets/${id}/publish`, {}],
        [`/changesets/${id}/discard`, {}],
        ['/changesets/1/revert', {}],
      ];
      for (const [url, form] of attempts) {
        const res = await c.post(url, form);
        expect(res.statusCode, url).toBe(403);
      }
      expect((await f.g.changeset(Number(id))).entities).toEqual([]);
      expect((await f.g.changeset(Number(id))).status).toBe('open');
      expect((await f.g.changesets()).map((cs) => cs.title)).not.toContain('sneaky');
    } finally {
      await f.close();
    }
  });

  it('a POST without the session CSRF token is refused, even from an editor', async () => {
    const f = await open();
    try {
      const c = new Client(f.app);
      await c.login('eddie');
      const res = await c.post('/changesets', { title: 'forged' }, { csrf: false });
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('CSRF');
      const other = await c.post('/changesets', { title: 'forged', _csrf: 'abc-def' }, { csrf: false });
      expect(other.statusCode).toBe(403);
      expect((await f.g.changesets()).map((cs) => cs.title)).not.toContain('forged');
    } finally {
      await f.close();
    }
  });

  it('hostile text in titles, values and names is shown escaped, never as markup', async () => {
    const f = await open();
    try {
      const c = new Client(f.app);
      await c.login('eddie');
      const script = '<script>alert(1)</script>';
      const img = '"><img src=x onerror=alert(2)>';
      const id = changesetOf((await c.post('/changesets', { title: `${script}${img}` })).headers.location);
      const url = `/changesets/${id}`;
      await c.get(url);
      expect((await c.post(`${url}/set`, { scope: 'role:base', key: 'shop.banner', value: script })).statusCode).toBe(303);
      expect((await c.post(`${url}/set`, { scope: 'server:web02.example.com', key: 'shop.banner', value: img })).statusCode).toBe(303);
      const badName = await c.post(`${url}/role`, { name: img, parents: script });
      expect(badName.statusCode).toBe(400);
      expect(await c.post(`${url}/publish`, {}).then((r) => r.statusCode)).toBe(303);
      // what Punch reports is text from a server: shown, never interpreted
      await f.g.postReport({ kind: 'cli', name: 't', role: 'admin' }, 'web01.example.com', { revision: 1, status: 'failed', summary: `${script}\n${img}` });
      for (const p of ['/', '/changesets', url, '/roles/base', '/servers/web01.example.com', '/servers/web02.example.com', '/audit']) {
        const res = await c.get(p);
        expect(res.body, p).not.toContain('<script>alert');
        expect(res.body, p).not.toContain('<img src=x');
        expect(res.body, p).not.toMatch(/<img/);
      }
      const page = await c.get(url);
      expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      const list = await c.get('/');
      expect(list.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;\n&quot;&gt;&lt;img');
      const server = await c.get('/servers/web02.example.com');
      expect(server.body).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(2)&gt;');
      expect(badName.body).toContain('&lt;img');
      expect(badName.body).not.toContain('<img');
    } finally {
      await f.close();
    }
  });

  it('a secret set through the write-only field never appears on any page, only as "(secret)"', async () => {
    const f = await open();
    try {
      const c = new Client(f.app);
      await c.login('ada');
      const secret = 'hunter2-Sup3r-S3cret-value';
      const id = changesetOf((await c.post('/changesets', { title: 'db password' })).headers.location);
      const url = `/changesets/${id}`;
      const form = await c.get(url);
      expect(form.body).toMatch(/<input name="value" type="password" autocomplete="new-password" required>/);
      expect((await c.post(`${url}/set`, { scope: 'role:base', key: 'shop.db_password', value: secret, secret: '1' })).statusCode).toBe(303);
      const staged = await c.get(url);
      expect(staged.body).toContain('(secret)');
      expect(staged.body).not.toContain(secret);
      expect((await c.post(`${url}/publish`, {})).statusCode).toBe(303);
      // it did reach the server's file
      expect((await f.g.nodeFile({ kind: 'cli', name: 't', role: 'admin' }, 'web01.example.com')).body).toContain(secret);
      const pages = ['/', '/servers/web01.example.com', '/servers/web01.example.com/file', '/servers/web01.example.com?revision=2', '/roles', '/roles/base', '/environments', '/components', '/components/shop', '/changesets', url, '/audit'];
      for (const p of pages) {
        const res = await c.get(p);
        expect(res.statusCode, p).toBe(200);
        expect(res.body, p).not.toContain(secret);
        expect(res.body, p).not.toContain(IMPORTED_SECRET);
      }
      const server = await c.get('/servers/web01.example.com');
      expect(server.body).toMatch(/shop\.db_password<\/code> <span class="tag">secret<\/span><\/td>\s*<td><code>\(secret\)<\/code>/);
      // a second changeset editing the same role shows the staged secret masked too
      const id2 = changesetOf((await c.post('/changesets', { title: 'more' })).headers.location);
      await c.get(`/changesets/${id2}`);
      await c.post(`/changesets/${id2}/set`, { scope: 'role:base', key: 'shop.banner', value: 'Hi' });
      const second = await c.get(`/changesets/${id2}`);
      expect(second.body).not.toContain(secret);
      expect(second.body).toContain('(secret)');
    } finally {
      await f.close();
    }
  });

  it('the audit log pages back 50 entries at a time', async () => {
    const f = await open();
    try {
      const c = new Client(f.app);
      await c.login('eddie');
      for (let i = 0; i < 55; i++) await f.g.createChangeset({ kind: 'cli', name: 't', role: 'admin' }, `change ${i}`);
      const first = await c.get('/audit');
      const older = /href="\/audit\?before=(\d+)"/.exec(first.body);
      expect(older?.[1]).toBeDefined();
      expect([...first.body.matchAll(/<tr><td class="num">/g)]).toHaveLength(50);
      const second = await c.get(`/audit?before=${older?.[1] ?? ''}`);
      expect(second.body).toContain('user-add');
      expect(second.body).not.toContain('href="/audit?before=');
      const one = await c.get('/audit?target=changeset%3A3');
      expect([...one.body.matchAll(/<tr><td class="num">/g)]).toHaveLength(1);
      expect(one.body).toContain('<a href="/changesets/3">changeset:3</a>');
    } finally {
      await f.close();
    }
  });
});
