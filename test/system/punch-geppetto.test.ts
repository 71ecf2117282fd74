// End to end: `punch restore` against a running `geppetto serve`. Geppetto is set up with its own
// commands (import of a state file whose repository holds a component built by kpkg, a server
// token), Punch fetches the server's file over HTTP with that token, applies it into an empty
// --root, and its report is visible in Geppetto afterwards; a second restore gets a 304 and
// changes nothing; a wrong token is refused and changes nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { REPO_ROOT } from './helpers/components.js';
import { describeAsRoot, writeBasePackage, YumRepo } from './helpers/dnf.js';
import { buildComponent, exited, PunchRoot, TOOLS } from './helpers/punch.js';
import { freePort, run, runOk, tmpDir } from './tools.js';

const GEPPETTO = join(REPO_ROOT, 'dist', 'bin', 'geppetto.js');
const NODE = 'web03.example.com';

describeAsRoot(TOOLS, 'punch restore against geppetto serve', () => {
  let data: string;
  let url: string;
  let token: string;
  let server: ChildProcess;
  const geppetto = (args: string[]) => runOk(process.execPath, [GEPPETTO, '--data', data, ...args], { timeout: 120_000 });

  beforeAll(async () => {
    const out = join(tmpDir('punch-builds'), 'target');
    const built = buildComponent('alpha', '1.0.0', out);
    const repo = new YumRepo();
    repo.add([built.app, built.deploy, await writeBasePackage(tmpDir('base'))]);
    data = tmpDir('geppetto-data');
    const files = tmpDir('geppetto-state');
    const repositories = [{ id: 'test', baseurl: repo.url }];
    const empty = { settings: {}, unset: [] };
    // the catalog first (the repository's components), then the whole state
    writeFileSync(join(files, 'repos.yaml'), stringify({ repositories, global: empty, environments: { production: empty }, roles: {}, servers: {} }));
    geppetto(['import', join(files, 'repos.yaml')]);
    run(process.execPath, [GEPPETTO, '--data', data, 'repo', 'refresh']);
    const state = {
      repositories,
      global: empty,
      environments: { production: empty },
      roles: { front: { parents: [], components: { alpha: '1.0.0-1' }, settings: { 'alpha.greeting': 'from Geppetto' }, unset: [] } },
      servers: { [NODE]: { environment: 'production', roles: ['front'], settings: {}, unset: [] } },
    };
    writeFileSync(join(files, 'state.yaml'), stringify(state));
    geppetto(['import', join(files, 'state.yaml')]);
    token = geppetto(['server', 'token', NODE]).stdout.trim();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [GEPPETTO, '--data', data, 'serve', '--listen', `127.0.0.1:${port}`], { stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const up = await fetch(`${url}/api/openapi.json`).then((r) => r.ok).catch(() => false);
      if (up) break;
      if (Date.now() > deadline) throw new Error('geppetto serve did not answer within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  afterAll(() => {
    server?.kill('SIGTERM');
  });

  const configure = (root: PunchRoot, t: string): void => root.configure({ url, token: t, node: NODE });

  it('restores the server from Geppetto, reports, then gets a 304 and changes nothing', async () => {
    const root = new PunchRoot('geppetto');
    configure(root, token);
    const first = await exited(root.spawnPunch(['restore', '--json']));
    expect(first.code, first.stderr).toBe(0);
    expect(root.installed()).toContain('alpha-deploy-1.0.0-1');
    expect(root.config('alpha')).toMatchObject({ greeting: 'from Geppetto' });
    const second = await exited(root.spawnPunch(['restore']));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/304/);
    expect(second.stdout).toMatch(/nothing to change/);
    // the reports, as a viewer sees them in Geppetto
    const viewer = geppetto(['token', 'add', 'test-viewer', '--role', 'viewer']).stdout.trim();
    const res = await fetch(`${url}/api/v1/servers/${NODE}`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { reports: { status: string; revision: number }[] };
    expect(body.reports.map((r) => r.status)).toEqual(['unchanged', 'changed']);
  });

  it('with a wrong token: exit 1, nothing changed', async () => {
    const root = new PunchRoot('geppetto-wrong');
    configure(root, 'not-a-token');
    const res = await exited(root.spawnPunch(['restore']));
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/refused the token \(401\)/);
    expect(root.installed()).toEqual([]);
  });
});
