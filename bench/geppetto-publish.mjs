#!/usr/bin/env node
// Geppetto: publishing a changeset that touches every server of a large model, on SQLite.
// dist/ must be built (`npm run build`).
//
//   node bench/geppetto-publish.mjs [--servers 10000] [--reps 3]
//
// The model (bench/geppetto-model.mjs): 10,000 servers, 500 roles up to 8 levels deep, 200
// components with 20 keys each, secrets among them. Its catalog is stored as a repository refresh
// stores it (the packages' descriptions; reading RPMs is not what is timed). The state is imported
// once (timed too: it publishes every file), then each round changes the global setting every
// server's file carries and publishes it: resolve, build, encrypt and write 10,000 revisions in one
// transaction. Target: under 10 s. Medians over the rounds. Beside wall time, the CPU time of this
// process (user + system) over the same span: on a machine shared with other work, wall time
// counts the waiting for a core; CPU time is close to what the publish costs on an idle machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { largeModel } from './geppetto-model.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const { values: args } = parseArgs({
  options: {
    servers: { type: 'string', default: process.env.BENCH_GEPPETTO_SERVERS ?? '10000' },
    reps: { type: 'string', default: process.env.BENCH_REPS ?? '3' },
  },
});
const SERVERS = Number(args.servers);
const REPS = Math.max(1, Number(args.reps) || 3);
const TARGET_S = 10;

const { openGeppetto, cliPrincipal } = await import(join(ROOT, 'dist', 'geppetto', 'service', 'index.js'));
const { storePackage, setRepositoryPackages } = await import(join(ROOT, 'dist', 'geppetto', 'service', 'catalog.js'));
const { stringifyState } = await import(join(ROOT, 'dist', 'geppetto', 'state-file.js'));

const log = (line = '') => process.stdout.write(`${line}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;
const cpuMs = (start) => {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
};

const dataDir = mkdtempSync(join(tmpdir(), 'geppetto-bench-'));
try {
  const model = largeModel({ servers: SERVERS });
  const g = await openGeppetto({ dataDir });
  const me = cliPrincipal();
  const now = new Date().toISOString();
  for (const p of model.catalog) await storePackage(g.db, p.checksum, { name: p.name, evr: p.evr }, { component: p.component, stored: p.description }, now);
  await setRepositoryPackages(g.db, model.state.repositories[0], model.catalog.map((p) => p.checksum), now);
  const text = stringifyState(model.state);
  log(`geppetto publish: ${SERVERS} servers, ${model.roles} roles (${model.depth} levels), ${model.catalog.length} components x 20 keys; state file ${(text.length / 1e6).toFixed(1)} MB; SQLite in ${dataDir}`);

  let t = performance.now();
  let cpu = process.cpuUsage();
  const imported = await g.importState(me, text);
  const importMs = performance.now() - t;
  log(`import (one changeset, every file published): ${secs(importMs)} (CPU ${secs(cpuMs(cpu))}), ${imported.revisions.length} revisions`);

  const times = [];
  const cpus = [];
  const previews = [];
  for (let round = 1; round <= REPS; round++) {
    const cs = await g.createChangeset(me, `round ${round}`);
    await g.setSetting(cs.id, me, { kind: 'global', name: '' }, 'c000.k06', `global, round ${round}`);
    t = performance.now();
    const preview = await g.preview(cs.id);
    previews.push(performance.now() - t);
    if (preview.servers.length !== SERVERS || preview.problems.length > 0) throw new Error(`preview: ${preview.servers.length} servers, ${preview.problems.length} problems`);
    t = performance.now();
    cpu = process.cpuUsage();
    const result = await g.publish(cs.id, me);
    const ms = performance.now() - t;
    times.push(ms);
    cpus.push(cpuMs(cpu));
    if (result.revisions.length !== SERVERS) throw new Error(`round ${round}: ${result.revisions.length} revisions, expected ${SERVERS}`);
    log(`round ${round}: preview ${secs(previews.at(-1))}, publish ${secs(ms)} (CPU ${secs(cpus.at(-1))}, ${result.revisions.length} revisions)`);
  }
  const m = median(times);
  const load = (await import('node:os')).loadavg()[0].toFixed(1);
  log(`publish, median of ${REPS}: ${secs(m)} wall, ${secs(median(cpus))} CPU (target < ${TARGET_S} s: ${m < TARGET_S * 1000 ? 'met' : 'NOT met'}); preview median ${secs(median(previews))}; load average ${load} on ${(await import('node:os')).availableParallelism()} cores`);
  await g.close();
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
