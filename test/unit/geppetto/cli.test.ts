// The geppetto command, in-process through its main(), on a data directory of its own.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import YAML from 'yaml';
import { main } from '../../../geppetto/cli/index.js';
import { openGeppetto } from '../../../geppetto/service/index.js';
import { putInCatalog, standardPackages } from './catalog-fixture.js';
import { refreshPackages, remakeRepository, stateAt } from './refresh-suite.js';
import { REPO, SECRET, STATE } from './service-suite.js';

const root = mkdtempSync(join(tmpdir(), 'geppetto-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const data = join(root, 'data');

async function geppetto(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    return { code: await main(['node', 'geppetto', ...args], { stdin: () => Promise.resolve(stdin) }), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

beforeAll(async () => {
  const g = await openGeppetto({ dataDir: data });
  await putInCatalog(g, REPO, await standardPackages(join(root, 'pkgs')));
  await g.close();
  writeFileSync(join(root, 'state.yaml'), STATE);
});

describe('geppetto CLI', () => {
  it('user add: password on stdin, --data before or after the subcommand, exit 2 for a refused input', async () => {
    expect(await geppetto(['user', 'add', 'alice', '--admin', '--data', data], 'a long enough password\n')).toEqual({ code: 0, stdout: 'user alice added (admin)\n', stderr: '' });
    const again = await geppetto(['--data', data, 'user', 'add', 'alice'], 'a long enough password\n');
    expect(again).toMatchObject({ code: 2, stdout: '' });
    expect(again.stderr).toBe('geppetto: user alice already exists\n');
    expect((await geppetto(['--data', data, 'user', 'add', 'bob'], '')).stderr).toMatch(/no password on stdin/);
    expect((await geppetto(['--data', data, 'user', 'add', 'bob', '--role', 'root'], 'a long enough password')).code).toBe(2);
  });

  it('import, export, file, explain, server add, server token, revert', async () => {
    const imported = await geppetto(['import', join(root, 'state.yaml'), '--data', data]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^changeset 1 published: 3 server file\(s\) changed\n {2}cache01\.example\.com: revision 1\n/);
    const exported = await geppetto(['export', '--data', data]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).not.toContain(SECRET);
    expect((await geppetto(['export', '--with-secrets', '--data', data])).stdout).toContain(SECRET);
    const file = await geppetto(['file', 'web01.example.com', '--data', data]);
    expect(file.code).toBe(0);
    expect(YAML.parse(file.stdout)).toMatchObject({ environment: 'production', classes: { shop: { listen_port: 9090, db_password: SECRET } }, kelkoo: { node: 'web01.example.com', revision: 1, packages: [{ name: 'cache-deploy', evr: '2.0.0-1' }, { name: 'shop-deploy', evr: '1.4.0-1' }] } });
    const json = await geppetto(['file', 'web01.example.com', '--json', '--data', data]);
    expect(JSON.parse(json.stdout)).toEqual(YAML.parse(file.stdout));
    const explained = await geppetto(['explain', 'web01.example.com', 'shop.listen_port', '--data', data]);
    expect(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toContain('9090');
    expect(explained.stdout).toContain('shop-front');

    const added = await geppetto(['server', 'add', 'web05.example.com', '--environment', 'production', '--roles', 'shop-front', '--data', data]);
    expect(added.stdout).toBe('changeset 2 published: 1 server file(s) changed\n  web05.example.com: revision 1\n');
    const t1 = await geppetto(['server', 'token', 'web05.example.com', '--data', data]);
    expect(t1.stdout).toMatch(/^gpt_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43}\n$/);
    const t2 = await geppetto(['server', 'token', 'web05.example.com', '--data', data]);
    const g = await openGeppetto({ dataDir: data });
    expect(await g.authenticateToken(t1.stdout.trim())).toBeUndefined();
    expect(await g.authenticateToken(t2.stdout.trim())).toMatchObject({ kind: 'server', fqdn: 'web05.example.com' });
    await g.close();
    const reverted = await geppetto(['revert', '2', '--data', data]);
    expect(reverted.stdout).toBe('changeset 3 published: 1 server file(s) changed\n  web05.example.com: removed\n');
    expect(await geppetto(['file', 'web05.example.com', '--data', data])).toMatchObject({ code: 2, stderr: 'geppetto: web05.example.com has no published file\n' });
  });

  it('a refused change exits 2 with one line naming the server and the key; nothing changes', async () => {
    const before = (await geppetto(['export', '--data', data])).stdout;
    writeFileSync(join(root, 'bad.yaml'), STATE.replace('"shop.listen_port": 9090', '"shop.listen_port": "ninety"'));
    const r = await geppetto(['import', join(root, 'bad.yaml'), '--data', data]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^geppetto: cannot publish: web0\d\.example\.com shop\.listen_port: .*\n$/);
    expect((await geppetto(['export', '--data', data])).stdout).toBe(before);
    expect((await geppetto(['server', 'add', 'x..y', '--environment', 'production', '--data', data])).code).toBe(2);
    expect(await geppetto(['import', join(root, 'missing.yaml'), '--data', data])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^geppetto: cannot read .*missing\.yaml: no such file or directory \(ENOENT\)\n$/) });
    expect((await geppetto(['frobnicate', '--data', data])).code).toBe(2);
  });

  it('repo refresh says which pinned versions changed or went away since the last publish, and which servers pin them', async () => {
    const p = await refreshPackages(join(root, 'refresh'));
    const repo = join(root, 'refresh', 'repo');
    const own = join(root, 'refresh', 'data');
    const baseurl = await remakeRepository(repo, [p.shop140, p.shop150, p.cache]);
    writeFileSync(join(root, 'refresh', 'repos.yaml'), `repositories: [{ id: kelkoo, baseurl: "${baseurl}" }]\n`);
    writeFileSync(join(root, 'refresh', 'state.yaml'), stateAt(baseurl));
    expect((await geppetto(['import', join(root, 'refresh', 'repos.yaml'), '--data', own])).code).toBe(0);
    expect(await geppetto(['repo', 'refresh', '--data', own])).toEqual({ code: 0, stdout: 'kelkoo: 3 deployment package(s), 3 read now\nno pinned version changed since the last publish\n', stderr: '' });
    expect((await geppetto(['import', join(root, 'refresh', 'state.yaml'), '--data', own])).code).toBe(0);
    await remakeRepository(repo, [p.shop150, p.cacheRebuilt]);
    const r = await geppetto(['repo', 'refresh', '--data', own]);
    // a gone pin blocks publishing, but the refresh itself succeeded
    expect(r).toEqual({
      code: 0,
      stdout: [
        'kelkoo: 2 deployment package(s), 1 read now',
        'pinned versions changed since the last publish:',
        '  cache 2.0.0-1: changed; pinned by base; 3 server(s): cache01.example.com, web01.example.com, web02.example.com',
        '  shop 1.4.0-1: gone from the repositories; pinned by shop-front; 2 server(s): web01.example.com, web02.example.com',
        '3 server(s) pin them: the next publish (an empty changeset will do) builds their files again: cache01.example.com, web01.example.com, web02.example.com',
        'publishing is refused until the roles pinning a version gone from the repositories pin one they have',
        '',
      ].join('\n'),
      stderr: '',
    });
    const asJson = await geppetto(['repo', 'refresh', '--json', '--data', own]);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ servers: ['cache01.example.com', 'web01.example.com', 'web02.example.com'], publishBlocked: true, unpublished: [{ component: 'cache' }, { component: 'shop', change: 'removed' }] });
  }, 120_000);
});
