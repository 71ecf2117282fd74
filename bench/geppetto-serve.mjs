#!/usr/bin/env node
// Geppetto serving servers' files: `geppetto serve` (the built program, a child process, logging
// as it does in production, to /dev/null) on a SQLite file holding the large model of
// bench/geppetto-model.mjs (10,000 servers, every file published), against a bare node:http server
// (another child process) serving the same bytes with the same bearer check, ETag and 304.
// `npm run bench` builds dist/ first.
//
//   node bench/geppetto-serve.mjs [--servers 10000] [--clients 50] [--requests 20000] [--seconds 15] [--reps 3]
//                                 [--no-keep-alive] [--cpu-prof DIR] [--data DIR]
//
// The load generator runs here, in its own process: 50 clients, each one server of the model
// (its own token, its own file, its own ETag: 50 different rows of 10,000), on keep-alive node:http
// Agents as Punch keeps its connection (--no-keep-alive: a new connection per request), each
// sending its next request when the last answer is read, until the request count or the time bound
// is reached. Loopback only. Medians of --reps rounds, the contenders interleaved.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { largeModel } from './geppetto-model.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const GEPPETTO = join(ROOT, 'dist', 'bin', 'geppetto.js');
const filePath = (fqdn) => `/api/v1/nodes/${fqdn}/file`;
// targets (docs/geppetto-api.md)
const TARGET_RPS = 2000;
const TARGET_P99_MS = 20;

const { values: args } = parseArgs({
  options: {
    servers: { type: 'string', default: process.env.BENCH_GEPPETTO_SERVERS ?? '10000' },
    clients: { type: 'string', default: '50' },
    requests: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '15' },
    reps: { type: 'string', default: process.env.BENCH_REPS ?? '3' },
    'no-keep-alive': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    // a directory to prepare the model in once and reuse on later runs (kept): for profiling rounds
    data: { type: 'string' },
  },
});
const SERVERS = Math.max(1, Number(args.servers));
const CLIENTS = Math.min(SERVERS, Math.max(1, Number(args.clients)));
const REQUESTS = Math.max(CLIENTS, Number(args.requests));
const SECONDS = Math.max(1, Number(args.seconds));
const REPS = Math.max(1, Number(args.reps));
const KEEP_ALIVE = !args['no-keep-alive'];

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

/**
 * A data directory holding the large model, every server's file published (as an import
 * publishes it), and a token for each of the CLIENTS servers the clients play, spread over the model.
 */
async function prepare(work) {
  const kept = join(work, 'clients.json');
  if (existsSync(kept)) {
    const { servers, clients } = JSON.parse(readFileSync(kept, 'utf8'));
    if (servers === SERVERS && clients.length === CLIENTS) {
      log(`model: reused from ${work}`);
      return { data: join(work, 'data'), clients };
    }
  }
  const { openGeppetto, cliPrincipal } = await import(join(ROOT, 'dist', 'geppetto', 'service', 'index.js'));
  const { storePackage, setRepositoryPackages } = await import(join(ROOT, 'dist', 'geppetto', 'service', 'catalog.js'));
  const { stringifyState } = await import(join(ROOT, 'dist', 'geppetto', 'state-file.js'));
  const model = largeModel({ servers: SERVERS });
  const data = join(work, 'data');
  rmSync(data, { recursive: true, force: true });
  const g = await openGeppetto({ dataDir: data });
  const me = cliPrincipal();
  const now = new Date().toISOString();
  for (const p of model.catalog) await storePackage(g.db, p.checksum, { name: p.name, evr: p.evr }, { component: p.component, stored: p.description }, now);
  await setRepositoryPackages(g.db, model.state.repositories[0], model.catalog.map((p) => p.checksum), now);
  const t = performance.now();
  const imported = await g.importState(me, stringifyState(model.state));
  const fqdns = Object.keys(model.state.servers);
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) {
    const fqdn = fqdns[Math.floor((i * fqdns.length) / CLIENTS)];
    clients.push({ fqdn, token: await g.serverToken(me, fqdn) });
  }
  await g.close();
  writeFileSync(kept, JSON.stringify({ servers: SERVERS, clients }), { mode: 0o600 });
  log(`model: ${fqdns.length} servers, ${model.roles} roles, ${model.catalog.length} components; ${imported.revisions.length} files published in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return { data, clients };
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
  // --cpu-prof DIR: a V8 CPU profile of the server, written when it exits (SIGTERM ends it cleanly)
  const nodeArgs = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] : [];
  const child = spawn(process.execPath, [...nodeArgs, GEPPETTO, '--data', data, 'serve', '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env } });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(base, child);
  return { base, child };
}

// The reference: node:http alone, the same bytes, the same checks (bearer token of the path's server, If-None-Match).
const BARE = `
const http = require('node:http');
const { readFileSync } = require('node:fs');
const [port, table] = JSON.parse(process.argv[1]);
const files = new Map(JSON.parse(readFileSync(table, 'utf8')).map((f) => [f.path + ' ' + f.accept, { ...f, bytes: Buffer.from(f.body) }]));
http.createServer((req, res) => {
  const f = files.get(req.url + ' ' + (req.headers.accept === 'application/json' ? 'application/json' : 'application/yaml'));
  if (!f) { res.writeHead(404); return res.end(); }
  if (req.headers.authorization !== 'Bearer ' + f.token) { res.writeHead(401); return res.end(); }
  if (req.headers['if-none-match'] === f.etag) { res.writeHead(304, { etag: f.etag }); return res.end(); }
  res.writeHead(200, { 'content-type': f.accept + '; charset=utf-8', etag: f.etag, 'content-length': f.bytes.length });
  res.end(f.bytes);
}).listen(port, '127.0.0.1');
`;

/** SIGTERM, and the process's exit (a CPU profile is written then). */
function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

async function startBare(table) {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', BARE, JSON.stringify([port, table])], { stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(base, child);
  return { base, child };
}

/**
 * CLIENTS concurrent clients (client i asks for its server's file, with headers(i)) until
 * REQUESTS answers or SECONDS: requests/s and latency percentiles.
 */
async function load(base, clients, headers, expectStatus) {
  // without keep-alive: agent false, a connection per request closed after its answer (Connection: close)
  const agent = KEEP_ALIVE ? new http.Agent({ keepAlive: true, maxSockets: CLIENTS }) : false;
  const url = new URL(base);
  const latencies = new Float64Array(REQUESTS);
  let sent = 0;
  let done = 0;
  let wrong = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const one = (i) =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = http.get({ host: url.hostname, port: url.port, path: filePath(clients[i].fqdn), agent, headers: headers(i) }, (res) => {
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
    clients.map(async (_, i) => {
      while (sent < REQUESTS && performance.now() < deadline) {
        sent++;
        await one(i);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  if (agent) agent.destroy();
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
const loads = [];

async function measured(server, clients, headers, status) {
  const before = cpuSeconds(server.child.pid);
  const r = await load(server.base, clients, headers, status);
  const after = cpuSeconds(server.child.pid);
  loads.push(Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]));
  return { ...r, cpuUs: before === undefined || after === undefined ? NaN : ((after - before) / r.requests) * 1e6 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const work = args.data ?? mkdtempSync(join(tmpdir(), 'geppetto-bench-'));
  mkdirSync(work, { recursive: true });
  try {
    log(`geppetto serve: ${CLIENTS} clients (${KEEP_ALIVE ? 'keep-alive' : 'a connection per request'}), each one server's file, up to ${REQUESTS} requests or ${SECONDS} s per run, ${REPS} rounds (medians)`);
    const { data, clients } = await prepare(work);
    const files = join(tmpdir(), `geppetto-bench-files-${process.pid}.json`);
    if (args['cpu-prof']) mkdirSync(args['cpu-prof'], { recursive: true });
    const g = await startGeppetto(data);
    const table = [];
    for (const c of clients) {
      for (const accept of ['application/yaml', 'application/json']) {
        const first = await fetch(`${g.base}${filePath(c.fqdn)}`, { headers: { authorization: `Bearer ${c.token}`, accept } });
        const body = await first.text();
        const etag = first.headers.get('etag');
        if (first.status !== 200 || !etag) throw new Error(`geppetto answered ${first.status} for ${c.fqdn}`);
        if (accept === 'application/yaml') Object.assign(c, { body, etag });
        else Object.assign(c, { jsonBody: body, jsonEtag: etag });
        table.push({ path: filePath(c.fqdn), accept, token: c.token, etag, body });
      }
    }
    const sizes = clients.map((c) => Buffer.byteLength(c.body)).sort((a, b) => a - b);
    log(`files: ${sizes[0]} to ${sizes.at(-1)} bytes of YAML (median ${median(sizes)}), about twice that as JSON`);
    writeFileSync(files, JSON.stringify(table), { mode: 0o600 });
    const bare = await startBare(files);
    const auth = (i) => ({ authorization: `Bearer ${clients[i].token}` });
    const cases = [
      { name: '200 YAML (Punch after a publish)', headers: (i) => ({ ...auth(i), accept: 'application/yaml' }), status: 200 },
      { name: '304 YAML (Punch polling)', headers: (i) => ({ ...auth(i), accept: 'application/yaml', 'if-none-match': clients[i].etag }), status: 304 },
      // what scripts ask for: JSON, converted from the stored YAML per request
      { name: '200 JSON (scripts)', headers: (i) => ({ ...auth(i), accept: 'application/json' }), status: 200 },
      { name: '304 JSON (scripts, polling)', headers: (i) => ({ ...auth(i), accept: 'application/json', 'if-none-match': clients[i].jsonEtag }), status: 304 },
    ];
    // warm-up: JIT, SQLite page cache, connections
    for (const c of cases) {
      await load(g.base, clients, c.headers, c.status);
      await load(bare.base, clients, c.headers, c.status);
    }
    const results = [];
    for (const c of cases) {
      const runs = { geppetto: [], bare: [] };
      for (let i = 0; i < REPS; i++) {
        runs.geppetto.push(await measured(g, clients, c.headers, c.status));
        runs.bare.push(await measured(bare, clients, c.headers, c.status));
      }
      const m = (who, k) => median(runs[who].map((r) => r[k]));
      results.push({
        name: c.name,
        g: { rps: m('geppetto', 'rps'), p50: m('geppetto', 'p50'), p99: m('geppetto', 'p99'), cpuUs: m('geppetto', 'cpuUs') },
        b: { rps: m('bare', 'rps'), p50: m('bare', 'p50'), p99: m('bare', 'p99'), cpuUs: m('bare', 'cpuUs') },
      });
    }
    await Promise.all([stop(g.child), stop(bare.child)]);
    rmSync(files, { force: true });
    log();
    log(`load average while measuring (1 min, median of the runs): ${median(loads).toFixed(1)} (CPU per request is the figure a busy machine disturbs least)`);
    log('| answer | geppetto req/s | p50 ms | p99 ms | CPU µs/req | bare node:http req/s | p99 ms | CPU µs/req | req/s geppetto / bare | CPU bare / geppetto | target |');
    log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const r of results) {
      const ok = r.g.rps >= TARGET_RPS && r.g.p99 < TARGET_P99_MS;
      log(
        `| ${r.name} | ${r.g.rps.toFixed(0)} | ${r.g.p50.toFixed(2)} | ${r.g.p99.toFixed(2)} | ${r.g.cpuUs.toFixed(0)} | ${r.b.rps.toFixed(0)} | ${r.b.p99.toFixed(2)} | ${r.b.cpuUs.toFixed(0)} | ${(r.g.rps / r.b.rps).toFixed(2)} | ${(r.b.cpuUs / r.g.cpuUs).toFixed(2)} | ${ok ? 'met' : 'MISSED'} (>= ${TARGET_RPS} req/s, p99 < ${TARGET_P99_MS} ms) |`,
      );
    }
  } finally {
    if (args.data === undefined) rmSync(work, { recursive: true, force: true });
  }
}

await main();
