#!/usr/bin/env node
// Geppetto serving a server's file: `geppetto serve` (the built program, a child process, logging
// as it does in production, to /dev/null) against a bare node:http server (another child process)
// serving the same bytes with the same bearer check, ETag and 304. `npm run bench` builds dist/ first.
//
//   node bench/geppetto-serve.mjs [--clients 50] [--requests 20000] [--seconds 15] [--reps 3]
//
// The load generator runs here, in its own process: 50 clients on keep-alive node:http Agents,
// each sending its next request when the last answer is read, until the request count or the time
// bound is reached. Loopback only. Medians of --reps rounds, the contenders interleaved.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const GEPPETTO = join(ROOT, 'dist', 'bin', 'geppetto.js');
const FQDN = 'web01.example.com';
const PATH = `/api/v1/nodes/${FQDN}/file`;
// targets (docs/geppetto-api.md)
const TARGET_RPS = 2000;
const TARGET_P99_MS = 20;

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '50' },
    requests: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '15' },
    reps: { type: 'string', default: process.env.BENCH_REPS ?? '3' },
  },
});
const CLIENTS = Math.max(1, Number(args.clients));
const REQUESTS = Math.max(CLIENTS, Number(args.requests));
const SECONDS = Math.max(1, Number(args.seconds));
const REPS = Math.max(1, Number(args.reps));

const log = (line = '') => process.stdout.write(`${line}\n`);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function geppetto(data, argv, input) {
  const r = spawnSync(process.execPath, [GEPPETTO, '--data', data, ...argv], { encoding: 'utf8', input, timeout: 300_000 });
  if (r.status !== 0) throw new Error(`geppetto ${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A data directory with a catalog of one component (a real deployment package built by kpkg) and one server using it. */
async function prepare(work) {
  const { build } = await import(join(ROOT, 'dist', 'packager', 'assemble', 'build.js'));
  const { openGeppetto, cliPrincipal } = await import(join(ROOT, 'dist', 'geppetto', 'service', 'index.js'));
  const { readDeploymentDescription, storePackage, setRepositoryPackages } = await import(join(ROOT, 'dist', 'geppetto', 'service', 'catalog.js'));
  const dir = join(work, 'shop');
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'index.js'), 'console.log("hello");\n');
  // twenty keys, a secret among them: a file of a realistic size
  const keys = { db_password: { type: 'String', secret: true } };
  const settings = { 'shop.db_password': 'bench-secret-value' };
  for (let i = 0; i < 20; i++) {
    keys[`key_${i}`] = { type: 'String', default: 'x' };
    settings[`shop.key_${i}`] = `value number ${i} of the shop component, set on the role`;
  }
  writeFileSync(join(dir, 'component.json'), JSON.stringify({ name: 'shop', version: '1.4.0', type: 'webapp', summary: 'bench', license: 'Apache-2.0', files: [{ src: 'dist', dest: 'lib' }], config: { keys } }));
  const result = await build({ dir, skipBuild: true });
  const deployment = result.artifacts.find((a) => a.role === 'deployment');
  const bytes = readFileSync(deployment.file);
  const data = join(work, 'data');
  const g = await openGeppetto({ dataDir: data });
  const repo = { id: 'kelkoo', baseurl: 'file:///srv/yum/kelkoo' };
  const checksum = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const now = new Date().toISOString();
  await storePackage(g.db, checksum, { name: 'shop-deploy', evr: `${result.version}-${result.release}` }, await readDeploymentDescription(bytes, deployment.file), now);
  await setRepositoryPackages(g.db, repo, [checksum], now);
  await g.importState(
    cliPrincipal(),
    JSON.stringify({
      repositories: [repo],
      global: { settings: {} },
      environments: { production: {} },
      roles: { shop: { components: { shop: `${result.version}-${result.release}` }, settings } },
      servers: { [FQDN]: { environment: 'production', roles: ['shop'] } },
    }),
  );
  await g.close();
  const token = geppetto(data, ['server', 'token', FQDN]).trim();
  return { data, token };
}

async function waitFor(base, child) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}`);
    try {
      await fetch(`${base}/`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('server did not start');
}

async function startGeppetto(data) {
  const port = await freePort();
  const child = spawn(process.execPath, [GEPPETTO, '--data', data, 'serve', '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env } });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(base, child);
  return { base, child };
}

// The reference: node:http alone, the same bytes, the same checks (bearer token, If-None-Match).
const BARE = `
const http = require('node:http');
const [port, token, etag, body] = JSON.parse(process.argv[1]);
const bytes = Buffer.from(body);
http.createServer((req, res) => {
  if (req.url !== ${JSON.stringify(PATH)}) { res.writeHead(404); return res.end(); }
  if (req.headers.authorization !== 'Bearer ' + token) { res.writeHead(401); return res.end(); }
  if (req.headers['if-none-match'] === etag) { res.writeHead(304, { etag }); return res.end(); }
  res.writeHead(200, { 'content-type': 'application/yaml; charset=utf-8', etag, 'content-length': bytes.length });
  res.end(bytes);
}).listen(port, '127.0.0.1');
`;

async function startBare(token, etag, body) {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', BARE, JSON.stringify([port, token, etag, body])], { stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(base, child);
  return { base, child };
}

/** CLIENTS concurrent keep-alive clients until REQUESTS answers or SECONDS: requests/s and latency percentiles. */
async function load(base, headers, expectStatus) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const url = new URL(PATH, base);
  const latencies = new Float64Array(REQUESTS);
  let sent = 0;
  let done = 0;
  let wrong = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const one = () =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = http.get({ host: url.hostname, port: url.port, path: url.pathname, agent, headers }, (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          if (res.statusCode !== expectStatus) wrong++;
          latencies[done++] = performance.now() - t0;
          resolve();
        });
      });
      req.on('error', reject);
    });
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (sent < REQUESTS && performance.now() < deadline) {
        sent++;
        await one();
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  const sorted = Array.from(latencies.subarray(0, done)).sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  if (wrong > 0) throw new Error(`${wrong} answers were not ${expectStatus}`);
  return { rps: done / elapsed, p50: pct(50), p99: pct(99), requests: done };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux)
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** A load run with the server's CPU time per request: less sensitive than req/s to a busy machine. */
async function measured(server, headers, status) {
  const before = cpuSeconds(server.child.pid);
  const r = await load(server.base, headers, status);
  const after = cpuSeconds(server.child.pid);
  return { ...r, cpuUs: before === undefined || after === undefined ? NaN : ((after - before) / r.requests) * 1e6 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'geppetto-bench-'));
  try {
    log(`geppetto serve: one server's file to ${CLIENTS} keep-alive clients, up to ${REQUESTS} requests or ${SECONDS} s per run, ${REPS} rounds (medians)`);
    const { data, token } = await prepare(work);
    const g = await startGeppetto(data);
    const first = await fetch(`${g.base}${PATH}`, { headers: { authorization: `Bearer ${token}` } });
    const body = await first.text();
    const etag = first.headers.get('etag');
    if (first.status !== 200 || !etag) throw new Error(`geppetto answered ${first.status}`);
    log(`file: ${Buffer.byteLength(body)} bytes of YAML, ETag ${etag}`);
    const bare = await startBare(token, etag, body);
    const auth = { authorization: `Bearer ${token}` };
    const cases = [
      { name: '200 (full file)', headers: auth, status: 200 },
      { name: '304 (If-None-Match)', headers: { ...auth, 'if-none-match': etag }, status: 304 },
    ];
    // warm-up: JIT, SQLite page cache, connections
    for (const c of cases) {
      await load(g.base, c.headers, c.status);
      await load(bare.base, c.headers, c.status);
    }
    const results = [];
    for (const c of cases) {
      const runs = { geppetto: [], bare: [] };
      for (let i = 0; i < REPS; i++) {
        runs.geppetto.push(await measured(g, c.headers, c.status));
        runs.bare.push(await measured(bare, c.headers, c.status));
      }
      const m = (who, k) => median(runs[who].map((r) => r[k]));
      results.push({
        name: c.name,
        g: { rps: m('geppetto', 'rps'), p50: m('geppetto', 'p50'), p99: m('geppetto', 'p99'), cpuUs: m('geppetto', 'cpuUs') },
        b: { rps: m('bare', 'rps'), p50: m('bare', 'p50'), p99: m('bare', 'p99'), cpuUs: m('bare', 'cpuUs') },
      });
    }
    g.child.kill('SIGTERM');
    bare.child.kill('SIGTERM');
    const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    log();
    log(`load average while measuring: ${load1} (CPU per request is the figure a busy machine disturbs least)`);
    log('| answer | geppetto req/s | p50 ms | p99 ms | CPU µs/req | bare node:http req/s | p99 ms | CPU µs/req | req/s geppetto / bare | CPU bare / geppetto | target |');
    log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const r of results) {
      const ok = r.g.rps >= TARGET_RPS && r.g.p99 < TARGET_P99_MS;
      log(
        `| ${r.name} | ${r.g.rps.toFixed(0)} | ${r.g.p50.toFixed(2)} | ${r.g.p99.toFixed(2)} | ${r.g.cpuUs.toFixed(0)} | ${r.b.rps.toFixed(0)} | ${r.b.p99.toFixed(2)} | ${r.b.cpuUs.toFixed(0)} | ${(r.g.rps / r.b.rps).toFixed(2)} | ${(r.b.cpuUs / r.g.cpuUs).toFixed(2)} | ${ok ? 'met' : 'MISSED'} (>= ${TARGET_RPS} req/s, p99 < ${TARGET_P99_MS} ms) |`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
