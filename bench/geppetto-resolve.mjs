#!/usr/bin/env node
// Geppetto's resolution at scale, in one process: 10,000 servers, 500 roles up to 8 levels deep
// (diamonds included), 200 components of 20 keys each, settings at every scope. Times, as medians
// of several rounds, wall and CPU: resolving every server, then building each file (secrets
// revealed, Float parameters found) and writing it as YAML; the target is all of it under 3 s.
// Measured twice: with every resolution kept (resolveServers returns them all), and one server at
// a time as the publisher does (nothing kept, less for the garbage collector to carry). Each
// phase's CPU time is shown beside its wall time: on a shared machine, wall time counts the wait
// for a core. The YAML step is also compared with what a developer would reach for, `yaml`'s
// stringify of the same files.
// `npm run build` first (`npm run bench` does).
//
// The last line is a sha256 over every server's name and YAML, in order: any change meant to make
// this faster must leave it as it was (the generated state is the same every run).
//
// With `--compare DIR` (another checkout, built), only the one-by-one round, of this build and of
// DIR's alternately in this one process, REPS rounds each: on a shared machine, separate runs
// differ more than most changes do; alternated rounds see the same load.
//
//   node bench/geppetto-resolve.mjs [--reps N] [--servers N] [--compare DIR]
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const DIST = join(ROOT, 'dist', 'geppetto');
if (!existsSync(join(DIST, 'resolve', 'index.js'))) {
  process.stderr.write('bench/geppetto-resolve: dist/geppetto is missing: run npm run build first\n');
  process.exit(1);
}
const { resolveServers, Resolver } = await import(join(DIST, 'resolve', 'index.js'));
const { buildNodeFile, floatParameters, nodeFileYaml } = await import(join(DIST, 'file.js'));
const { stringify } = await import('yaml');

// Every timed round starts on a collected heap (the collection untimed): otherwise a round pays
// for collecting the garbage of the round before it (10,000 resolutions, 57 MB of YAML), which
// no publish inherits (the one-by-one round, which ran right after the all-kept one, paid most).
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc');

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: process.env.BENCH_REPS ?? '5' },
    servers: { type: 'string', default: '10000' },
    compare: { type: 'string' },
  },
});
const REPS = Math.max(1, Number(args.reps) || 5);
const SERVERS = Math.max(1, Number(args.servers) || 10_000);
const COMPONENTS = 200;
const KEYS = 20;
const LEVELS = 8;
const ROLES = 500;
const TARGET_MS = 3000;

// A deterministic generator (xorshift32): the same state every run.
let seed = 0x9e3779b9;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const pick = (xs) => xs[Math.floor(rand() * xs.length)];

// --- the catalog: 200 components, 2 versions each, 20 keys of the six config key types
const TYPES = ['String', 'Integer', 'Float', 'Boolean', 'Array[String]', 'Hash[String, String]'];
const sample = {
  String: (i) => `value ${i} %{not hiera} "quoted"`,
  Integer: (i) => 1000 + i,
  Float: (i) => i + 0.25,
  Boolean: (i) => i % 2 === 0,
  'Array[String]': (i) => [`a${i}`, 'yes', `c ${i}`],
  'Hash[String, String]': (i) => ({ [`k${i}`]: `v${i}`, 'x y': 'z' }),
};
const components = [];
const catalog = { components: {} };
for (let c = 0; c < COMPONENTS; c++) {
  const name = `comp-${String(c).padStart(3, '0')}`;
  const keys = [];
  for (let k = 0; k < KEYS; k++) {
    const type = k === 2 ? 'String' : TYPES[(c + k) % TYPES.length];
    // Two keys per component without a default: the global scope sets them.
    const required = k < 2;
    keys.push({ name: `key_${k}`, type, ...(required ? {} : { default: sample[type](k) }), secret: k === 2 });
  }
  components.push({ name, keys });
  catalog.components[name] = {};
  for (const evr of ['1.0.0-1', '1.1.0-1']) {
    catalog.components[name][evr] = {
      component: name,
      evr,
      package: `${name}-deploy`,
      class: name.replace(/-/g, '_'),
      parameters: [
        ...keys,
        { name: 'config_dir', type: 'String', default: `/etc/kelkoo/${name}`, secret: false, builtin: true },
        { name: 'manage_service', type: 'Boolean', default: true, secret: false, builtin: true },
        { name: 'manage_user', type: 'Boolean', default: true, secret: false, builtin: true },
      ],
      repository: 'kelkoo',
    };
  }
}
// One version per component across all pins: version pins agree (a conflict would block the file).
const versionOf = (c) => (c % 3 === 0 ? '1.1.0-1' : '1.0.0-1');
// A role-level value depends on the key only: roles agree where their definitions meet, so every
// merge is done but no file is blocked.
const roleValue = (comp, k) => sample[comp.keys[k].type](k + 7);

// --- roles: 8 levels; each role has 1-2 parents in the levels above (diamonds when two meet)
const roles = {};
const levels = [];
const perLevel = Math.floor(ROLES / LEVELS);
let r = 0;
for (let level = 0; level < LEVELS; level++) {
  const names = [];
  const count = level === LEVELS - 1 ? ROLES - r : perLevel;
  for (let i = 0; i < count; i++, r++) {
    const name = `role-${level}-${i}`;
    const parents = [];
    if (level > 0) {
      parents.push(pick(levels[level - 1]));
      if (rand() < 0.5) parents.push(pick(levels[Math.floor(rand() * level)]));
    }
    const pinned = rand() < 0.5 ? Math.floor(rand() * COMPONENTS) : undefined;
    const settings = {};
    const unset = [];
    if (pinned !== undefined) {
      const comp = components[pinned];
      for (let k = 3; k < 13; k++) settings[`${comp.name}.key_${k}`] = roleValue(comp, k);
      unset.push(`${comp.name}.key_19`);
    }
    roles[name] = {
      parents: [...new Set(parents)],
      components: pinned === undefined ? {} : { [components[pinned].name]: versionOf(pinned) },
      settings,
      unset,
    };
    names.push(name);
  }
  levels.push(names);
}

// --- global and environments: the required keys of every component, and some overrides
const global = { settings: {}, unset: [] };
for (const comp of components) {
  global.settings[`${comp.name}.key_0`] = sample[comp.keys[0].type](0);
  global.settings[`${comp.name}.key_1`] = sample[comp.keys[1].type](1);
  global.settings[`${comp.name}.key_14`] = sample[comp.keys[14].type](99);
}
const environments = {};
for (const env of ['production', 'staging', 'dev']) {
  const settings = {};
  for (const comp of components) settings[`${comp.name}.key_15`] = sample[comp.keys[15].type](15);
  environments[env] = { settings, unset: [] };
}

// --- servers: 1-3 roles from the lower half of the hierarchy, a few settings of their own
const closurePins = new Map();
const pinsOf = (role) => {
  let set = closurePins.get(role);
  if (set) return set;
  set = new Set(Object.keys(roles[role].components));
  for (const p of roles[role].parents) for (const c of pinsOf(p)) set.add(c);
  closurePins.set(role, set);
  return set;
};
const servers = {};
const deep = levels.slice(LEVELS / 2).flat();
for (let s = 0; s < SERVERS; s++) {
  const fqdn = `srv${String(s).padStart(5, '0')}.eu.example.com`;
  const n = 1 + Math.floor(rand() * 3);
  const own = [...new Set(Array.from({ length: n }, () => pick(deep)))];
  const comps = [...new Set(own.flatMap((x) => [...pinsOf(x)]))];
  const settings = {};
  for (const name of comps.slice(0, 3)) {
    settings[`${name}.key_16`] = sample[components[Number(name.slice(5))].keys[16].type](s);
    settings[`${name}.key_2`] = { secret: `${name}-password` };
  }
  servers[fqdn] = { environment: pick(['production', 'staging', 'dev']), roles: own, settings, unset: [] };
}
const state = { repositories: [{ id: 'kelkoo', baseurl: 'https://yum.example.com/kelkoo' }], global, environments, roles, servers };
const reveal = (ref) => `s3cr3t-${ref.secret}`;
// A server's file as publish writes it: built, its Float parameters found, written with them.
// (Publish also hashes each file's JSON to skip unchanged ones, and seals and stores the changed:
// not measured here.)
const fileOf = (res) => nodeFileYaml(buildNodeFile(res, state, 42, reveal), { floats: floatParameters(res) });

if (args.compare !== undefined) {
  const other = join(args.compare, 'dist', 'geppetto');
  if (!existsSync(join(other, 'resolve', 'index.js'))) {
    process.stderr.write(`bench/geppetto-resolve: ${other} is missing: build that checkout first\n`);
    process.exit(1);
  }
  const builds = [
    { name: 'this build', Resolver, buildNodeFile, floatParameters, nodeFileYaml, cpu: [] },
    { name: args.compare, ...(await import(join(other, 'resolve', 'index.js'))), ...(await import(join(other, 'file.js'))), cpu: [] },
  ];
  // One round as a publisher does it; the digest of every server's name and file when asked.
  const round = (b, digest) => {
    collect();
    const c0 = process.cpuUsage();
    const resolver = new b.Resolver(state, catalog);
    for (const fqdn of Object.keys(state.servers).sort()) {
      const res = resolver.resolve(fqdn);
      const yaml = b.nodeFileYaml(b.buildNodeFile(res, state, 42, reveal), { floats: b.floatParameters(res) });
      digest?.update(`${fqdn}\n${yaml}\0`);
    }
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  // a warm-up round each (not counted), then rounds alternated, each build first in turn
  for (let rep = 0; rep < REPS + 1; rep++) {
    for (const b of rep % 2 === 0 ? builds : [...builds].reverse()) {
      const ms = round(b);
      if (rep > 0) b.cpu.push(ms);
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [a, b] = builds;
  for (const x of builds) {
    const digest = createHash('sha256');
    round(x, digest);
    process.stdout.write(`  ${x.name}: one by one ${(med(x.cpu) / 1000).toFixed(2)} s CPU (median of ${REPS}: ${x.cpu.map((ms) => (ms / 1000).toFixed(2)).join(' ')}), sha256 ${digest.digest('hex')}\n`);
  }
  process.stdout.write(`  this build / ${b.name}: ${(med(a.cpu) / med(b.cpu)).toFixed(3)} of the CPU; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores\n`);
  process.exit(0);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const now = () => Number(process.hrtime.bigint()) / 1e6;

const times = { resolve: [], files: [], total: [], cpu: [], resolveCpu: [], filesCpu: [], streamWall: [], streamCpu: [] };
const cpuMs = (c0) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};
let stats;
// Every server resolved and kept, then each file built and written; the figures of the input on
// the untimed warm-up round. In a function: its resolutions are let go when it returns.
const allKept = (warmUp) => {
  collect();
  const c0 = process.cpuUsage();
  const t0 = now();
  const resolved = resolveServers(state, catalog);
  const t1 = now();
  const resolveCpu = cpuMs(c0);
  const c1 = process.cpuUsage();
  // Each file built and written in turn, as a publisher would (not all 10,000 kept at once).
  let bytes = 0;
  for (const res of resolved.values()) bytes += fileOf(res).length;
  const t2 = now();
  const cpu = process.cpuUsage(c0);
  const filesCpu = cpuMs(c1);
  if (warmUp) {
    let settings = 0;
    let comps = 0;
    let problems = 0;
    for (const res of resolved.values()) {
      settings += Object.keys(res.settings).length;
      comps += Object.keys(res.components).length;
      problems += res.problems.length;
    }
    stats = { servers: resolved.size, settings, comps, problems, bytes };
  }
  return { t0, t1, t2, cpu, resolveCpu, filesCpu, bytes };
};
for (let rep = 0; rep < REPS + 1; rep++) {
  const { t0, t1, t2, cpu, resolveCpu, filesCpu, bytes } = allKept(rep === 0);
  // The same work as a publisher does it: each server resolved, its file built and written, nothing
  // kept (the pass above's resolutions are gone: alive, they made its garbage collection costlier).
  collect();
  const s0 = process.cpuUsage();
  const t3 = now();
  const resolver = new Resolver(state, catalog);
  let streamed = 0;
  for (const fqdn of Object.keys(state.servers).sort()) streamed += fileOf(resolver.resolve(fqdn)).length;
  const streamWall = now() - t3;
  const streamCpu = cpuMs(s0);
  if (streamed !== bytes) throw new Error(`one by one: ${streamed} bytes of YAML, all at once: ${bytes}`);
  if (rep === 0) continue;
  times.resolve.push(t1 - t0);
  times.files.push(t2 - t1);
  times.total.push(t2 - t0);
  times.cpu.push((cpu.user + cpu.system) / 1000);
  times.resolveCpu.push(resolveCpu);
  times.filesCpu.push(filesCpu);
  times.streamWall.push(streamWall);
  times.streamCpu.push(streamCpu);
}

// The YAML step against `yaml`'s stringify (sorted keys, as ours) on the first 1,000 files.
const some = [...resolveServers(state, catalog, Object.keys(servers).slice(0, 1000)).values()].map((res) => buildNodeFile(res, state, 42, reveal));
const ours = [];
const lib = [];
for (let rep = 0; rep < REPS; rep++) {
  let t = now();
  for (const f of some) nodeFileYaml(f);
  ours.push(now() - t);
  t = now();
  for (const f of some) stringify(f, { sortMapEntries: true });
  lib.push(now() - t);
}

// A fixed yardstick on this machine as it is now: as many small objects put in per-server maps as
// there are resolved settings. On a quiet machine it takes a small fraction of a second; the ratio
// tells how much of the figures above is the code, how much the machine.
const yardstick = [];
for (let rep = 0; rep < REPS; rep++) {
  const c0 = process.cpuUsage();
  let kept = 0;
  for (let srv = 0; srv < stats.servers; srv++) {
    const m = Object.create(null);
    const per = Math.round(stats.settings / stats.servers);
    for (let i = 0; i < per; i++) m[`comp-${i % 10}.key_${i}`] = { key: i, origin: 'default', secret: false, chain: [] };
    kept += per;
  }
  const cpu = process.cpuUsage(c0);
  yardstick.push((cpu.user + cpu.system) / 1000 + kept * 0);
}

// Untimed: what the files are, to check that a faster way writes the same bytes.
const digest = createHash('sha256');
{
  const resolver = new Resolver(state, catalog);
  for (const fqdn of Object.keys(state.servers).sort()) digest.update(`${fqdn}\n${fileOf(resolver.resolve(fqdn))}\0`);
}

const total = median(times.total);
const lines = [
  `geppetto resolve: ${stats.servers} servers, ${ROLES} roles in ${LEVELS} levels, ${COMPONENTS} components x ${KEYS} keys; ` +
    `${(stats.comps / stats.servers).toFixed(1)} components and ${(stats.settings / stats.servers).toFixed(0)} resolved settings per server ` +
    `(${stats.settings.toLocaleString('en')} in all), ${stats.problems} problems; ${(stats.bytes / 1e6).toFixed(1)} MB of YAML`,
  `  all kept (resolveServers, then each file built and written): resolve ${fmt(median(times.resolve))} wall, ${fmt(median(times.resolveCpu))} CPU; ` +
    `build and write the files ${fmt(median(times.files))} wall, ${fmt(median(times.filesCpu))} CPU; ` +
    `all three ${fmt(total)} wall, ${fmt(median(times.cpu))} CPU (median of ${REPS}; target < ${fmt(TARGET_MS)}: wall ${total < TARGET_MS ? 'met' : 'MISSED'}, CPU ${median(times.cpu) < TARGET_MS ? 'met' : 'MISSED'})`,
  `  one by one, as a publisher does (resolve, build, write, nothing kept): ${fmt(median(times.streamWall))} wall, ${fmt(median(times.streamCpu))} CPU ` +
    `(target < ${fmt(TARGET_MS)}: wall ${median(times.streamWall) < TARGET_MS ? 'met' : 'MISSED'}, CPU ${median(times.streamCpu) < TARGET_MS ? 'met' : 'MISSED'})`,
  `  yardstick (${stats.settings.toLocaleString('en')} small objects in per-server maps): ${fmt(median(yardstick))} CPU; resolve + files = ${(median(times.cpu) / median(yardstick)).toFixed(1)} yardsticks`,
  `  load average when done: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores (wall times stretch when other work shares them)`,
  `  YAML of 1,000 files: ours ${fmt(median(ours))} vs yaml.stringify ${fmt(median(lib))}: ratio ${(median(ours) / median(lib)).toFixed(3)}`,
  `  sha256 of every server's name and file: ${digest.digest('hex')}`,
];
process.stdout.write(`${lines.join('\n')}\n`);
if (stats.problems > 0) {
  process.stderr.write('bench/geppetto-resolve: the generated state has problems (it should not)\n');
  process.exit(1);
}
