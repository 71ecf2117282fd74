// Geppetto's web UI in a real browser (Debian's Chromium driven by playwright-core, never a
// downloaded browser) against a real `geppetto serve` process: a catalog read from a yum repository
// made by `kpkg build` + `kpkg publish`, an admin made by `geppetto user add --admin`. The browser
// logs in, makes a role with parents, assigns it to a server, sets values that conflict between
// two parents, sees the conflict in the preview with publishing refused, settles it on the server,
// publishes; the server's file, read with its token, has the value. Screenshots of the servers page
// and of the preview go to $GEPPETTO_SCREENSHOTS (else a temporary directory).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { kpkg, kpkgBuild, REPO_ROOT, writeTree } from './helpers/components.js';
import { describeWithTools, freePort, run, tmpDir, type RunResult } from './tools.js';

const CHROMIUM = '/usr/bin/chromium';
const GEPPETTO = join(REPO_ROOT, 'dist', 'bin', 'geppetto.js');
const PASSWORD = 'correct horse battery staple';
const FQDN = 'web01.example.com';

/** What a locator's elements show, joined (waits for nothing: use with expect.poll). */
const text = async (l: Locator): Promise<string> => (await l.allInnerTexts()).join('\n');

function geppetto(data: string, args: string[], input?: string): RunResult {
  const res = run(process.execPath, [GEPPETTO, '--data', data, ...args], { timeout: 120_000, ...(input !== undefined ? { input } : {}) });
  if (res.status !== 0) throw new Error(`geppetto ${args.join(' ')} exited with ${res.status}\n${res.stderr}${res.stdout}`);
  return res;
}

describeWithTools([CHROMIUM], 'Geppetto web UI in Chromium', () => {
  let work: string;
  let data: string;
  let shots: string;
  let base: string;
  let token: string;
  let server: ChildProcess | undefined;
  let serverLog = '';
  let browser: Browser | undefined;

  beforeAll(async () => {
    work = tmpDir('geppetto-browser');
    shots = process.env.GEPPETTO_SCREENSHOTS ?? join(work, 'screenshots');
    mkdirSync(shots, { recursive: true });
    // a small component, built and published as CI and release do
    const component = join(work, 'shop');
    writeTree(component, {
      'component.json': {
        name: 'shop',
        version: '1.4.0',
        type: 'webapp',
        summary: 'the shop front',
        license: 'Apache-2.0',
        files: [{ src: 'dist', dest: 'lib' }],
        config: {
          keys: {
            listen_port: { type: 'Integer', default: 8080, description: 'HTTP port' },
            banner: { type: 'String', default: 'Welcome' },
            db_password: { type: 'String', secret: true, default: 'changeme' },
          },
        },
      },
      'dist/index.js': 'console.log("shop");\n',
    });
    const built = kpkgBuild(component, { skipBuild: true });
    const repo = join(work, 'repo');
    const published = kpkg(['publish', built.app, built.deploy, '--repo', repo]);
    if (published.status !== 0) throw new Error(`kpkg publish: ${published.stderr}`);

    data = join(work, 'data');
    // the repository first (the catalog is read from it), then roles and servers that use it
    const repositories = `repositories: [{ id: kelkoo, baseurl: "file://${repo}", gpgcheck: false }]\n`;
    writeFileSync(join(work, 'repos.yaml'), `${repositories}environments: { production: { settings: {} } }\n`);
    geppetto(data, ['import', join(work, 'repos.yaml')]);
    geppetto(data, ['repo', 'refresh']);
    writeFileSync(
      join(work, 'state.yaml'),
      `${repositories}environments: { production: { settings: {} } }\n` +
        `roles:\n  base: { parents: [], components: { shop: "1.4.0-1" }, settings: { "shop.banner": "Hello" } }\n` +
        `servers:\n  ${FQDN}: { environment: production, roles: [base], settings: {} }\n  web02.example.com: { environment: production, roles: [base], settings: {} }\n`,
    );
    geppetto(data, ['import', join(work, 'state.yaml')]);
    geppetto(data, ['user', 'add', 'ada', '--admin'], PASSWORD);
    token = geppetto(data, ['server', 'token', FQDN]).stdout.trim();

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [GEPPETTO, '--data', data, 'serve', '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout?.on('data', (b: Buffer) => (serverLog += b.toString()));
    server.stderr?.on('data', (b: Buffer) => (serverLog += b.toString()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`geppetto serve exited with ${server.exitCode}\n${serverLog}`);
      const up = await fetch(`${base}/login`).then((r) => r.ok, () => false);
      if (up) break;
      if (Date.now() > deadline) throw new Error(`geppetto serve did not answer within 60 s\n${serverLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server?.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
  });

  /** Stages one edit with the form labelled `form` on the changeset page, and waits for the page to come back. */
  /** A new browser context and page, with the console errors and page errors it shows collected. */
  async function openPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    if (!browser) throw new Error('no browser');
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    return { context, page, problems };
  }

  /** Logs in as the admin on the login page the browser is at, and waits for the home page. */
  async function logIn(page: Page): Promise<void> {
    await page.getByLabel('Name').fill('ada');
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([page.waitForURL(`${base}/`), page.getByRole('button', { name: 'Log in' }).click()]);
  }

  async function stage(page: Page, form: string, fields: Record<string, string>, selects: Record<string, string> = {}): Promise<void> {
    const f = page.getByRole('form', { name: form, exact: true });
    // a select's accessible name includes its chosen option ("Environment production"): not exact
    for (const [label, value] of Object.entries(selects)) await f.getByLabel(label).selectOption(value);
    for (const [label, value] of Object.entries(fields)) await f.getByLabel(label, { exact: true }).fill(value);
    await Promise.all([page.waitForURL(/\/changesets\/\d+/), f.getByRole('button').click()]);
    await expect.poll(() => page.locator('.error').count()).toBe(0);
  }

  it('logs in, stages a role, sees a conflict block publishing, settles it on the server, publishes; the file has the value', async () => {
    const { context, page, problems } = await openPage();

    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await logIn(page);
    await page.getByRole('link', { name: FQDN }).first().waitFor({ state: 'visible' });
    await expect.poll(() => text(page.locator('#servers'))).toContain('web02.example.com');
    await page.screenshot({ path: join(shots, 'servers.png'), fullPage: true });

    // htmx filters in place: the list changes, the page is not reloaded
    await page.evaluate(() => {
      (globalThis as { marker?: number }).marker = 1;
    });
    await page.getByLabel('Name').fill('web02');
    await expect.poll(() => text(page.locator('#servers'))).not.toContain(FQDN);
    await expect.poll(() => text(page.locator('#servers'))).toContain('web02.example.com');
    expect(await page.evaluate(() => (globalThis as { marker?: number }).marker)).toBe(1);
    expect(new URL(page.url()).searchParams.get('name')).toBe('web02');

    // Punch applied revision 1 on web01 and said so
    const report = await fetch(`${base}/api/v1/nodes/${FQDN}/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ revision: 1, status: 'changed', changes: 3, summary: 'shop-deploy installed' }),
    });
    expect(report.status).toBeLessThan(300);

    await page.getByRole('link', { name: 'Changesets' }).click();
    await page.getByLabel('Title').fill('front role for web01');
    await Promise.all([page.waitForURL(/\/changesets\/\d+$/), page.getByRole('button', { name: 'New changeset' }).click()]);
    const changeset = page.url();

    await stage(page, 'Role', { Role: 'left', Parents: 'base' });
    await stage(page, 'Role', { Role: 'right', Parents: 'base' });
    await stage(page, 'Role', { Role: 'front', Parents: 'left, right' });
    await stage(page, 'Server', { Server: FQDN, Roles: 'base, front' }, { Environment: 'production' });
    await stage(page, 'Set a value', { Key: 'shop.listen_port', Value: '8081' }, { Scope: 'role:left' });
    await stage(page, 'Set a value', { Key: 'shop.listen_port', Value: '8082' }, { Scope: 'role:right' });

    const conflict = page.locator('#preview .problem.conflict');
    await expect.poll(() => text(conflict)).toContain('shop.listen_port');
    await expect.poll(() => text(conflict)).toContain('role left');
    await expect.poll(() => text(conflict)).toContain('role right');
    const publish = page.getByRole('button', { name: 'Publish' });
    await expect.poll(() => publish.isDisabled()).toBe(true);
    await expect.poll(() => text(page.locator('#blockers'))).toContain('problem');
    await page.locator('#preview').screenshot({ path: join(shots, 'preview-conflict.png') });
    // the server refuses it too, whatever the button says
    const csrf = await page.locator('form[action$="/publish"] input[name="_csrf"]').inputValue();
    const forced = await page.request.post(`${changeset}/publish`, { form: { _csrf: csrf }, maxRedirects: 0 });
    expect(forced.status()).toBe(422);
    expect(await forced.text()).toContain('cannot publish');

    // where both parents' paths meet: on the server, from the server's page
    await page.goto(`${base}/servers/${FQDN}`);
    await Promise.all([page.waitForURL(/\/changesets\/\d+\?scope=/), page.getByRole('button', { name: 'Edit' }).click()]);
    expect(page.url().split('?')[0]).toBe(changeset);
    expect(await page.getByRole('form', { name: 'Set a value', exact: true }).getByLabel('Scope').inputValue()).toBe(`server:${FQDN}`);
    await stage(page, 'Set a value', { Key: 'shop.listen_port', Value: '9090' });
    await expect.poll(() => page.locator('#preview .problem.conflict').count()).toBe(0);
    await expect.poll(() => publish.isEnabled()).toBe(true);
    await page.locator('#preview pre.diff .add', { hasText: 'listen_port: 9090' }).first().waitFor({ state: 'visible' });
    await page.locator('#preview').screenshot({ path: join(shots, 'preview-ready.png') });
    await Promise.all([page.waitForURL(changeset), publish.click()]);
    await page.locator('.status.published').first().waitFor({ state: 'visible' });

    // the server page: the value, where it comes from, the new revision's file
    await page.goto(`${base}/servers/${FQDN}`);
    await expect.poll(() => text(page.locator('table.settings tr', { hasText: 'shop.listen_port' }))).toContain('9090');
    await expect.poll(() => text(page.locator('table.settings tr', { hasText: 'shop.listen_port' }))).toContain(`server ${FQDN}`);
    await expect.poll(() => text(page.locator('#file pre.file'))).toContain('listen_port: 9090');
    // htmx swaps an older revision's file in place
    await page.locator('nav.revisions').getByRole('link', { name: '1', exact: true }).click();
    await expect.poll(() => text(page.locator('#file'))).toContain('Revision 1');
    expect(await page.locator('nav.revisions a[aria-current]').innerText()).toBe('1');
    await expect.poll(() => text(page.locator('#file pre.file'))).not.toContain('9090');
    await page.screenshot({ path: join(shots, 'server.png'), fullPage: true });

    // the list: web01 applied revision 1, 2 is published: behind
    await page.goto(`${base}/`);
    await expect.poll(() => text(page.locator('#servers tr', { hasText: FQDN }))).toContain('behind');
    await page.screenshot({ path: join(shots, 'servers-behind.png'), fullPage: true });

    // Punch's view: the file, with the server's own token
    const file = await fetch(`${base}/api/v1/nodes/${FQDN}/file`, { headers: { authorization: `Bearer ${token}` } });
    expect(file.status).toBe(200);
    const body = await file.text();
    expect(body).toContain('listen_port: 9090');
    expect(body).toMatch(/revision: 2/);

    expect(problems, 'browser console errors (a CSP violation would show here)').toEqual([]);
    await context.close();
  });

  it('an admin makes an API token, sees it once, uses it against the API, revokes it: it stops working', async () => {
    const { context, page, problems } = await openPage();
    await page.goto(`${base}/login`);
    await logIn(page);

    await Promise.all([page.waitForURL(`${base}/tokens`), page.getByRole('navigation').getByRole('link', { name: 'Tokens' }).click()]);
    const form = page.getByRole('form', { name: 'New API token' });
    await form.getByLabel('Name').fill('ci-browser');
    await form.getByLabel('Role').selectOption('viewer');
    await Promise.all([page.waitForURL(`${base}/tokens`), form.getByRole('button', { name: 'Create token' }).click()]);
    const shown = (await page.locator('#new-token').innerText()).trim();
    expect(shown).toMatch(/^gpt_[A-Za-z0-9_-]+$/);
    await expect.poll(() => text(page.locator('.notice'))).toContain('never again');
    await page.screenshot({ path: join(shots, 'token-created.png'), fullPage: true });

    const servers = (t: string) => fetch(`${base}/api/v1/servers`, { headers: { authorization: `Bearer ${t}` } });
    const ok = await servers(shown);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { servers: { fqdn: string }[] }).servers.map((s) => s.fqdn)).toContain(FQDN);

    // the list shows the token, never its value again
    await page.goto(`${base}/tokens`);
    expect(await page.locator('#new-token').count()).toBe(0);
    expect(await page.content()).not.toContain(shown);
    const row = page.locator('tr', { hasText: 'ci-browser' });
    await expect.poll(() => text(row)).toContain('live');
    await Promise.all([page.waitForURL(`${base}/tokens`), row.getByRole('button', { name: 'Revoke ci-browser' }).click()]);
    await expect.poll(() => text(page.locator('tr', { hasText: 'ci-browser' }))).toContain('revoked');
    expect((await servers(shown)).status).toBe(401);

    expect(problems, 'browser console errors (a CSP violation would show here)').toEqual([]);
    await context.close();
  });
});
