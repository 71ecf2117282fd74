#!/usr/bin/env node
// The repository metadata reader (packager/repo/read-metadata.ts) against libsolv and dnf reading
// the same repository, as ratios. dist/ must be built (`npm run build`).
//
//   node bench/repo-read.mjs [--packages 5000] [--reps 5]
//
// The repository: N packages written once by kpkg's writer (half of them deployment packages that
// provide kelkoo-deployment), indexed by createrepo_c (gzip), cached under bench/.work/.
// Timed, each a fresh process, interleaved, medians over --reps rounds after one warm-up round:
//   - kpkg: `node bench/repo-read-once.mjs file://...`, which times inside the process the first
//     readRepositoryMetadata (cold: repomd.xml, primary read, checksums, gunzip, UTF-8, parse) and
//     a second one (warm), and the stages; the process's wall time is also taken;
//   - libsolv: `repo2solv -o /dev/null DIR` (libsolv-tools): the C parser dnf uses (repo_rpmmd,
//     with repomd.xml and gunzip), exec included. Optional: skipped when repo2solv is missing;
//   - dnf: `dnf repoquery --whatprovides kelkoo-deployment` with an empty cache each time (python
//     startup, libsolv's parse and solv cache write, the query).
// Target: the cold read of 5,000 packages well under 150 ms (Punch plans in 300 ms).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { writePackageSet } from './package-set.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const WORK = join(BENCH, '.work');
const { values: args } = parseArgs({
  options: {
    packages: { type: 'string', default: process.env.BENCH_READ_PACKAGES ?? '5000' },
    reps: { type: 'string', default: process.env.BENCH_REPS ?? '5' },
  },
});
const N = Math.max(1, Number(args.packages) || 5000);
const REPS = Math.max(1, Number(args.reps) || 5);
const PKGS = join(WORK, 'read-packages');
const REPO = join(WORK, `read-repo-${N}`);

const log = (line = '') => process.stdout.write(`${line}\n`);
const die = (m) => {
  process.stderr.write(`bench/repo-read: ${m}\n`);
  process.exit(1);
};
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
if (!existsSync(join(ROOT, 'dist', 'packager', 'repo', 'read-metadata.js'))) die('dist/ is missing: run npm run build first');
if (!have('createrepo_c')) die('createrepo_c is not on PATH');

const name = (i) => `read-pkg-${String(i).padStart(5, '0')}${i % 2 === 1 ? '-deploy' : ''}`;
const fileOf = (i) => `${name(i)}-1.${i % 7}.0-1.noarch.rpm`;

/** Package i of a set of `count` (the dependency of each on another depends on it). */
const specOf = (count) => (i) => {
  const n = name(i);
  const deploy = i % 2 === 1;
  return {
    name: n,
    version: `1.${i % 7}.0`,
    release: '1',
    arch: 'noarch',
    summary: deploy ? `Puppet module of ${name(i - 1)}` : `component ${i}`,
    description: `A package of the reader bench, number ${i}: it does one thing & does it well.`,
    license: 'Apache-2.0',
    url: 'https://example.com/bench',
    provides: deploy ? [{ name: 'kelkoo-deployment' }] : [{ name: `${n}-api`, flags: 8, version: '1.0' }],
    requires: deploy
      ? [{ name: name(i - 1), flags: 8, version: `1.${(i - 1) % 7}.0-1` }, { name: 'puppet-agent', flags: 12, version: '7' }]
      : [{ name: '/bin/sh' }, { name: 'nodejs', flags: 12, version: '1:20.17.0' }, { name: name((i * 31) % Math.max(1, count)), flags: 12, version: '1.0' }],
    changelog: [{ time: 1_700_000_000, author: 'Bench <bench@example.com> - 1.0-1', text: `- package ${i}` }],
    files: [
      { path: `/opt/kelkoo/${n}`, kind: 'dir' },
      { path: `/opt/kelkoo/${n}/bin`, kind: 'dir' },
      { path: `/opt/kelkoo/${n}/bin/${n}`, kind: 'file', mode: 0o755, content: `#!/bin/sh\necho ${i}\n` },
      { path: `/opt/kelkoo/${n}/lib/index.js`, kind: 'file', content: `module.exports = ${i};\n` },
      { path: `/etc/kelkoo/${n}.conf`, kind: 'file', config: true, noreplace: true, content: `port=${8000 + (i % 1000)}\n` },
    ],
  };
};

function timed(cmd, argv, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) die(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (ms) => `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;

await writePackageSet({ dir: PKGS, count: N, fileOf, spec: specOf(N), log });
if (!existsSync(join(REPO, 'repodata', 'repomd.xml'))) {
  log(`indexing ${N} packages with createrepo_c into ${REPO} (once)`);
  rmSync(REPO, { recursive: true, force: true });
  mkdirSync(REPO, { recursive: true });
  // the packages are not needed to read metadata: link them, which is quick
  for (let i = 0; i < N; i++) spawnSync('ln', ['-s', join(PKGS, fileOf(i)), join(REPO, fileOf(i))]);
  const r = spawnSync('createrepo_c', ['--quiet', '--no-database', '--workers', '2', REPO], { encoding: 'utf8' });
  if (r.status !== 0) die(`createrepo_c failed: ${r.stderr}`);
}

const url = pathToFileURL(REPO).href;
const repo2solv = have('repo2solv');
const dnf = have('dnf');
const dnfConf = join(WORK, 'read-dnf.conf');
writeFileSync(dnfConf, '[main]\ngpgcheck=0\nplugins=0\nreposdir=/nonexistent\n');
const dnfCache = join(WORK, 'read-dnf-cache');
const rows = { cold: [], warm: [], parse: [], decode: [], fetch: [], decompress: [], process: [], solv: [], dnf: [] };
let info;
for (let r = 0; r <= REPS; r++) {
  const k = timed(process.execPath, [join(BENCH, 'repo-read-once.mjs'), url]);
  const o = JSON.parse(k.stdout);
  if (o.packages !== N) die(`read ${o.packages} packages, expected ${N}`);
  const s = repo2solv ? timed('repo2solv', ['-o', '/dev/null', REPO]) : undefined;
  let d;
  if (dnf) {
    rmSync(dnfCache, { recursive: true, force: true });
    d = timed('dnf', ['-q', '-c', dnfConf, '--releasever=1', `--repofrompath=b,${url}`, '--repo=b', `--setopt=cachedir=${dnfCache}`, 'repoquery', '--whatprovides', 'kelkoo-deployment']);
    const listed = d.stdout.split('\n').filter((l) => l !== '').length;
    if (listed !== Math.floor(N / 2)) die(`dnf listed ${listed} deployment packages, expected ${Math.floor(N / 2)}`);
  }
  if (r === 0) {
    info = o;
    continue; // warm-up: page cache, dist/ compiled by V8's code cache
  }
  rows.cold.push(o.coldMs);
  rows.warm.push(o.warmMs);
  rows.parse.push(o.parseMs);
  rows.decode.push(o.decodeMs);
  rows.fetch.push(o.fetchVerifyDecompressMs);
  rows.decompress.push(o.decompressMs);
  rows.process.push(k.ms);
  if (s) rows.solv.push(s.ms);
  if (d) rows.dnf.push(d.ms);
}

log(`repository metadata reader: ${N} packages (createrepo_c, gzip), primary ${(info.primaryBytes / 1e6).toFixed(1)} MB uncompressed; medians of ${REPS} rounds`);
log(`  kpkg cold read (first in a process)     ${fmt(median(rows.cold))}   target < 150 ms`);
log(`    of which read + checksums + gunzip    ${fmt(median(rows.fetch))} (gunzip alone ${fmt(median(rows.decompress))}), UTF-8 ${fmt(median(rows.decode))}, parse ${fmt(median(rows.parse))} (warm stages)`);
log(`  kpkg warm read (second in the process)  ${fmt(median(rows.warm))}`);
log(`  kpkg whole process (node start, load, two reads, stages)  ${fmt(median(rows.process))}`);
if (rows.solv.length) log(`  libsolv repo2solv (C, exec included)    ${fmt(median(rows.solv))}   kpkg cold / libsolv = ${(median(rows.cold) / median(rows.solv)).toFixed(2)}x`);
else log('  libsolv: repo2solv not on PATH (apt-get install libsolv-tools), skipped');
if (rows.dnf.length) log(`  dnf repoquery --whatprovides (process)  ${fmt(median(rows.dnf))}   kpkg cold / dnf = ${(median(rows.cold) / median(rows.dnf)).toFixed(2)}x`);
else log('  dnf: not on PATH, skipped');
