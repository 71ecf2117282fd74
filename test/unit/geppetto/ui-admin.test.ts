// Accounts and tokens in the web UI: only admins see and use the pages (viewers and editors get
// 403, forms without the session's CSRF token too); a token's value is shown once, on the page
// that made it; every change is audited; a revoked or disabled credential stops working at once.
import { describe, expect, it } from 'vitest';
import { admin, Client, PASSWORD, uiFixtures } from './ui-harness.js';

const open = uiFixtures('geppetto-ui-admin-');

const tokenIn = (html: string): string | undefined => /<output id="new-token" class="token">(gpt_[A-Za-z0-9_-]+)<\/output>/.exec(html)?.[1];

describe('admin pages', () => {
  it('viewers and editors get 403 on the pages and the forms, nothing is made; a form without its CSRF token is refused too', async () => {
    const f = await open();
    try {
      for (const who of ['vic', 'eddie']) {
        const c = new Client(f.app);
        await c.login(who);
        const home = await c.get('/');
        expect(home.body).not.toContain('href="/users"');
        expect((await c.get('/users')).statusCode).toBe(403);
        expect((await c.get('/tokens')).statusCode).toBe(403);
        expect((await c.post('/users', { name: `made-by-${who}`, password: PASSWORD, role: 'admin' })).statusCode).toBe(403);
        expect((await c.post('/users/vic', { change: 'role', role: 'admin' })).statusCode).toBe(403);
        expect((await c.post('/tokens', { name: `by-${who}`, role: 'admin' })).statusCode).toBe(403);
        expect((await c.post('/tokens/server', { fqdn: 'web01.example.com' })).statusCode).toBe(403);
      }
      const ada = new Client(f.app);
      await ada.login('ada');
      expect((await ada.post('/users', { name: 'sneaky', password: PASSWORD, role: 'admin' }, { csrf: false })).statusCode).toBe(403);
      expect((await ada.post('/tokens', { name: 'sneaky', role: 'admin' }, { csrf: false })).statusCode).toBe(403);
      expect((await f.g.users()).map((u) => u.name)).toEqual(['ada', 'eddie', 'vic']);
      expect((await f.g.users()).find((u) => u.name === 'vic')?.role).toBe('viewer');
      expect(await f.g.tokens()).toEqual([]);
    } finally {
      await f.close();
    }
  });

  it('an admin adds a user, changes a role, disables and enables an account; each is audited; disabling ends the sessions', async () => {
    const f = await open();
    try {
      const ada = new Client(f.app);
      await ada.login('ada');
      const list = await ada.get('/users');
      expect(list.statusCode).toBe(200);
      expect(list.body).toMatch(/<td>eddie<\/td>[\s\S]*<option selected>editor<\/option>/);
      const short = await ada.post('/users', { name: 'zoe', password: 'short', role: 'editor' });
      expect(short.statusCode).toBe(400);
      expect(short.body).toContain('at least 12 characters');
      const added = await ada.post('/users', { name: 'zoe', password: PASSWORD, role: 'editor' });
      expect(added.statusCode).toBe(201);
      expect(added.body).toContain('zoe can log in now, as editor.');
      expect(added.body).not.toContain(PASSWORD);
      const zoe = new Client(f.app);
      expect((await zoe.login('zoe')).statusCode).toBe(303);

      expect((await ada.post('/users/vic', { change: 'role', role: 'editor' })).headers.location).toBe('/users');
      expect((await f.g.users()).find((u) => u.name === 'vic')?.role).toBe('editor');

      const eddie = new Client(f.app);
      await eddie.login('eddie');
      expect((await eddie.get('/roles')).statusCode).toBe(200);
      await ada.get('/users');
      expect((await ada.post('/users/eddie', { change: 'disable' })).statusCode).toBe(303);
      expect((await eddie.get('/roles')).statusCode).toBe(303);
      expect((await new Client(f.app).login('eddie')).statusCode).toBe(401);
      expect((await ada.get('/users')).body).toContain('Enable eddie');
      await ada.post('/users/eddie', { change: 'enable' });
      expect((await new Client(f.app).login('eddie')).statusCode).toBe(303);
      // no locking oneself out from here
      const self = await ada.post('/users/ada', { change: 'disable' });
      expect(self.statusCode).toBe(400);
      expect((await f.g.users()).find((u) => u.name === 'ada')?.disabled).toBe(false);

      const audit = await f.g.audit();
      const of = (action: string, target: string) => audit.filter((e) => e.action === action && e.target === target && e.actor === 'ada');
      expect(of('user-add', 'user:zoe')).toHaveLength(1);
      expect(of('user-update', 'user:vic')[0]?.after).toEqual({ role: 'editor' });
      expect(of('user-update', 'user:eddie').map((e) => e.after)).toEqual([{ disabled: false }, { disabled: true }]);
      expect(JSON.stringify(audit)).not.toContain(PASSWORD);
    } finally {
      await f.close();
    }
  });

  it('an API token is shown once, works against the API, is listed without its value, and stops working when revoked', async () => {
    const f = await open();
    try {
      const ada = new Client(f.app);
      await ada.login('ada');
      await ada.get('/tokens');
      const refused = await ada.post('/tokens', { name: '<script>', role: 'viewer' });
      expect(refused.statusCode).toBe(400);
      expect(refused.body).not.toContain('<script>');
      const made = await ada.post('/tokens', { name: 'ci-bot', role: 'viewer' });
      expect(made.statusCode).toBe(201);
      expect(made.headers['cache-control']).toBe('no-store');
      const token = tokenIn(made.body);
      expect(token).toBeDefined();
      const api = (t: string | undefined) => f.app.inject({ method: 'GET', url: '/api/v1/servers', headers: { authorization: `Bearer ${t}` } });
      expect((await api(token)).statusCode).toBe(200);
      const list = await ada.get('/tokens');
      expect(list.body).toContain('ci-bot');
      expect(list.body).not.toContain(token);
      expect(tokenIn(list.body)).toBeUndefined();
      const id = (await f.g.tokens()).find((t) => t.name === 'ci-bot')?.id;
      expect(list.body).toContain(`action="/tokens/${id}/revoke"`);
      expect((await ada.post(`/tokens/${id}/revoke`, {})).headers.location).toBe('/tokens');
      expect((await api(token)).statusCode).toBe(401);
      expect((await ada.get('/tokens')).body).toMatch(/ci-bot[\s\S]*revoked /);

      // a server's token: shown once, reads that server's file only, revoked the same way
      const unknown = await ada.post('/tokens/server', { fqdn: 'nope.example.com' });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.body).toContain('server nope.example.com does not exist');
      const issued = await ada.post('/tokens/server', { fqdn: 'web01.example.com' });
      expect(issued.statusCode).toBe(201);
      const serverToken = tokenIn(issued.body);
      const file = (fqdn: string) => f.app.inject({ method: 'GET', url: `/api/v1/nodes/${fqdn}/file`, headers: { authorization: `Bearer ${serverToken}` } });
      expect((await file('web01.example.com')).statusCode).toBe(200);
      expect((await file('web02.example.com')).statusCode).toBe(403);
      const sid = (await f.g.tokens()).find((t) => t.kind === 'server' && t.fqdn === 'web01.example.com')?.id;
      await ada.get('/tokens');
      await ada.post(`/tokens/${sid}/revoke`, {});
      expect((await file('web01.example.com')).statusCode).toBe(401);

      const audit = await f.g.audit();
      expect(audit.filter((e) => e.action === 'token-issue' && e.actor === 'ada').map((e) => e.target)).toEqual(['server:web01.example.com', 'token:ci-bot']);
      expect(audit.filter((e) => e.action === 'token-revoke' && e.actor === 'ada').map((e) => e.target)).toEqual([`token:${sid}`, `token:${id}`]);
      const text = JSON.stringify(audit);
      expect(text).not.toContain(token);
      expect(text).not.toContain(serverToken);
    } finally {
      await f.close();
    }
  });

  it('server tokens are listed 100 a page and filtered by server, the filter kept across pages', async () => {
    const f = await open();
    try {
      // each new token revokes the one before: 105 tokens for web01, 1 for web02
      for (let i = 0; i < 105; i++) await f.g.serverToken(admin, 'web01.example.com');
      await f.g.serverToken(admin, 'web02.example.com');
      const ada = new Client(f.app);
      await ada.login('ada');
      const serverRows = (html: string) => [...html.matchAll(/<td>(web0\d\.example\.com)<\/td><td><code>/g)].map((m) => m[1]);
      const first = await ada.get('/tokens');
      expect(serverRows(first.body)).toHaveLength(100);
      expect(first.body).toContain('1–100 of 106 server token(s)');
      const filtered = await ada.get('/tokens?server=web01');
      expect(filtered.body).toContain('1–100 of 105 server token(s)');
      const next = /<a rel="next" href="([^"]+)"/.exec(filtered.body)?.[1]?.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
      expect(next).toBe('/tokens?server=web01&offset=100#server-tokens');
      const second = await ada.get(next ?? '');
      expect(serverRows(second.body)).toEqual(Array.from({ length: 5 }, () => 'web01.example.com'));
      expect(serverRows((await ada.get('/tokens?server=WEB02')).body)).toEqual(['web02.example.com']);
      expect((await ada.get('/tokens?server=nope')).body).toContain('No server token matches.');
    } finally {
      await f.close();
    }
  });
});
