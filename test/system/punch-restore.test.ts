// `punch restore` against an HTTP server keeping Geppetto's contract (DESIGN "Geppetto's HTTP
// surface"): GET /api/v1/nodes/{fqdn}/file with the server's Bearer token (the YAML as published
// on Accept: application/yaml, ETag, 304 on If-None-Match) and POST /api/v1/nodes/{fqdn}/reports.
// The server here is a minimal one of the test's own; punch-geppetto.test.ts runs Punch against
// `geppetto serve` itself.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeAsRoot, writeBasePackage, YumRepo } from './helpers/dnf.js';
import { buildComponent, exited, PunchRoot, TOOLS, writeNodeFile } from './helpers/punch.js';
import { tmpDir } from './tools.js';

const NODE = 'web03.example.com';
const TOKEN = 'token-of-web03';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  accept?: string;
  ifNoneMatch?: string;
  status: number;
  body?: unknown;
}

describeAsRoot(TOOLS, 'punch restore against an HTTP back office', () => {
  let server: Server;
  let url: string;
  let fileYaml: string;
  const seen: Seen[] = [];
  const reports: unknown[] = [];

  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString()));
      req.on('end', () => resolve(body));
    });

  beforeAll(async () => {
    const out = join(tmpDir('punch-builds'), 'target');
    const built = buildComponent('alpha', '1.0.0', out);
    const repo = new YumRepo();
    repo.add([built.app, built.deploy, await writeBasePackage(tmpDir('base'))]);
    const yamlPath = writeNodeFile(tmpDir('punch-files'), 'web03.yaml', { revision: 7, classes: { alpha: { greeting: 'from Geppetto' } }, packages: { 'alpha-deploy': '1.0.0-1' }, repo: repo.dir });
    fileYaml = readFileSync(yamlPath, 'utf8');
    const etag = `"${createHash('sha256').update(fileYaml).digest('hex').slice(0, 16)}"`;
    server = createServer((req, res) => {
      void (async () => {
        const body = await read(req);
        const record: Seen = { method: req.method ?? '', url: req.url ?? '', status: 0, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), ...(req.headers.accept ? { accept: req.headers.accept } : {}), ...(req.headers['if-none-match'] ? { ifNoneMatch: req.headers['if-none-match'] } : {}) };
        const answer = (status: number, text = '', headers: Record<string, string> = {}) => {
          record.status = status;
          seen.push(record);
          res.writeHead(status, headers).end(text);
        };
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return answer(401, '{"error":"unauthorized"}', { 'Content-Type': 'application/json' });
        if (req.method === 'GET' && req.url === `/api/v1/nodes/${NODE}/file`) {
          if (req.headers['if-none-match'] === etag) return answer(304, '', { ETag: etag });
          return answer(200, fileYaml, { 'Content-Type': 'application/yaml; charset=utf-8', ETag: etag });
        }
        if (req.method === 'POST' && req.url === `/api/v1/nodes/${NODE}/reports`) {
          record.body = JSON.parse(body);
          // what Geppetto's report route accepts: these fields and no others
          const r = record.body as Record<string, unknown>;
          const valid = Object.keys(r).every((k) => ['revision', 'status', 'changes', 'summary', 'at'].includes(k)) && Number.isInteger(r.revision) && ['changed', 'unchanged', 'failed'].includes(r.status as string) && Number.isInteger(r.changes) && typeof r.summary === 'string' && !Number.isNaN(Date.parse(r.at as string));
          if (!valid) return answer(400, '{"error":"bad report"}');
          reports.push(record.body);
          return answer(201, '{}', { 'Content-Type': 'application/json' });
        }
        return answer(404);
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const configure = (root: PunchRoot, token: string): void => root.configure({ url, token, node: NODE }, '# test\n');

  it('fetches with the token, applies, posts the report; then 304 and nothing to change', async () => {
    const root = new PunchRoot('restore');
    configure(root, TOKEN);
    const first = await exited(root.spawnPunch(['restore', '--json']));
    expect(first.code, first.stderr).toBe(0);
    expect(root.installed()).toContain('alpha-deploy-1.0.0-1');
    expect(root.config('alpha')).toMatchObject({ greeting: 'from Geppetto' });
    const get = seen.find((s) => s.method === 'GET');
    expect(get).toMatchObject({ authorization: `Bearer ${TOKEN}`, accept: 'application/yaml', status: 200 });
    expect(reports).toHaveLength(1);
    // one package installed, two resources changed (the configuration directory's mode, config.json)
    expect(reports[0]).toMatchObject({ revision: 7, status: 'changed', changes: 3 });
    expect((reports[0] as { summary: string }).summary).toMatch(/install alpha-deploy 1\.0\.0-1; changed File\[/);

    const second = await exited(root.spawnPunch(['restore', '--json']));
    expect(second.code, second.stderr).toBe(0);
    const gets = seen.filter((s) => s.method === 'GET');
    expect(gets.at(-1)).toMatchObject({ status: 304 });
    expect(gets.at(-1)?.ifNoneMatch).toBeDefined();
    expect(JSON.parse(second.stdout)).toMatchObject({ unchanged: true, exitCode: 0 });
    expect(reports).toHaveLength(2);
    expect(reports[1]).toMatchObject({ revision: 7, status: 'unchanged', changes: 0, summary: 'nothing to change' });
  });

  it('with a wrong token: exit 1, refused, nothing changed and no report', async () => {
    const root = new PunchRoot('wrong-token');
    configure(root, 'not-the-token');
    const before = reports.length;
    const res = await exited(root.spawnPunch(['restore']));
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Geppetto refused the token \(401\)/);
    expect(root.installed()).toEqual([]);
    expect(reports).toHaveLength(before);
  });
});
