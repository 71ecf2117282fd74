#!/usr/bin/env node
// kpkg's yum repository against createrepo_c, in one run, as ratios. dist/ must be built
// (`npm run build`).
//
//   node bench/repo.mjs [--sizes 1000,5000] [--reps 5] [--cases index,add,bulk]
//
// For each size N:
//   - full index of N packages: `kpkg repo index DIR` vs `createrepo_c --no-database --workers 2 DIR`
//     (repodata/ and .kpkg/ removed before each run);
//   - one more package into that repository: `kpkg publish one.rpm --repo DIR` vs copying it in
//     and `createrepo_c --update --no-database --workers 2 DIR`; a different package each round;
//   - bulk publish of N packages into a new repository: `kpkg publish` of all N in one run vs `cp`
//     of the N files into a new directory + `createrepo_c --no-database --workers 2` of it (each
//     round into new directories, all removed after the last round, and the rounds started once
//     the file system no longer treats the bench's earlier deletions as recent: see settle();
//     kpkg's durability included, as users pay it: one syncfs of the file system on Linux 5.8+
//     (util/fs.ts syncFiles) and a few fsyncs; cp and createrepo_c sync nothing).
// Every timed command is a fresh process timed from spawn to exit; medians over the rounds. kpkg
// is run as users run it: its program (dist/bin/kpkg.js, executable, with its launcher line).
// Beside the wall time, the CPU time (user + system) of each command and what it waited for, read
// from /proc/self/stat (Linux; the figure to compare on a shared machine, where wall time counts
// the wait for a core).
// The packages (small, a few files, dependencies and a changelog, written by our writer) are made
// once and cached under bench/.work/repo-packages/ (package-set.mjs).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writePackageSet } from './package-set.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const WORK = join(BENCH, '.work');
const PKGS = join(WORK, 'repo-packages');
const KPKG = join(ROOT, 'dist', 'bin', 'kpkg.js');

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: process.env.BENCH_REPO_SIZES ?? '1000,5000' },
    reps: { type: 'string', default: process.env.BENCH_REPS ?? '5' },
    cases: { type: 'string', default: process.env.BENCH_REPO_CASES ?? 'index,add,bulk' },
  },
});
const SIZES = args.sizes.split(',').map(Number).filter((n) => n > 0);
const REPS = Math.max(1, Number(args.reps) || 5);
const EXTRA = REPS + 1; // the packages added one at a time
const CASES = new Set(args.cases.split(','));

const log = (line = '') => process.stdout.write(`${line}\n`);
const die = (m) => {
  process.stderr.write(`bench/repo: ${m}\n`);
  process.exit(1);
};
try {
  accessSync(KPKG, constants.X_OK);
} catch {
  die(`${KPKG} is missing or not executable: run npm run build first`);
}
if (spawnSync('createrepo_c', ['--version']).status !== 0) die('createrepo_c is not on PATH');

const name = (i) => `bench-pkg-${String(i).padStart(5, '0')}`;
const fileOf = (i) => `${name(i)}-1.${i % 7}.0-1.noarch.rpm`;

/** Package i of a set of `count` (the dependency of each on another depends on it). */
const specOf = (count) => (i) => {
  const n = name(i);
  return {
    name: n,
    version: `1.${i % 7}.0`,
    release: '1',
    arch: 'noarch',
    summary: `bench package ${i}`,
    description: `A package of the repository bench, number ${i}.`,
    license: 'Apache-2.0',
    url: 'https://example.com/bench',
    provides: [{ name: `${n}-api`, flags: 8, version: '1.0' }],
    requires: [{ name: '/bin/sh' }, { name: name((i * 31) % Math.max(1, count)), flags: 12, version: '1.0' }],
    changelog: [{ time: 1_700_000_000, author: 'Bench <bench@example.com> - 1.0-1', text: `- package ${i}` }],
    files: [
      { path: `/opt/${n}`, kind: 'dir' },
      { path: `/opt/${n}/bin`, kind: 'dir' },
      { path: `/opt/${n}/bin/${n}`, kind: 'file', mode: 0o755, content: `#!/bin/sh\necho ${i}\n` },
      { path: `/opt/${n}/lib`, kind: 'dir' },
      { path: `/opt/${n}/lib/index.js`, kind: 'file', content: `module.exports = ${i};\n`.repeat(20) },
      { path: `/opt/${n}/lib/package.json`, kind: 'file', content: JSON.stringify({ name: n, version: '1.0.0' }) },
      { path: `/etc/${n}.conf`, kind: 'file', config: true, noreplace: true, content: `port=${8000 + (i % 1000)}\n` },
    ],
  };
};

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
/** CPU time (ms, user + system) of this process's children that have been waited for; NaN off Linux. */
function childrenCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // after "pid (comm) ": field 3 (state) onwards; cutime and cstime are fields 16 and 17
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[13]) + Number(f[14])) * 1000) / TICKS;
  } catch {
    return NaN;
  }
}

/** Runs a command to its end: its wall time and CPU time (ms). */
function timed(cmd, argv, opts = {}) {
  const cpu0 = childrenCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', ...opts });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) die(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { wall, cpu: childrenCpuMs() - cpu0 };
}
const plus = (a, b) => ({ wall: a.wall + b.wall, cpu: a.cpu + b.cpu });

// ext4 without a journal (this machine's file systems) does not reuse an inode freed in the last
// 30-35 s if it can help it (recently_deleted() in fs/ext4/ialloc.c): each file created then
// scans, from the start of its block group, every such free inode, a buffer lookup each. After a
// removal of 10,000 files, creating 5,000 in that part of the disk cost 1.3-1.6 s of system time
// more (perf: find_get_block under recently_deleted), and it fell on whichever command ran first
// after the removal: kpkg, in every round, while cp found the inodes kpkg had taken. So the bench
// notes when it removes many files (in bench/.work/, for the next run of the bench too), and
// rounds that create many wait until that is old news.
const RECENT_MS = 36_000;
const REMOVAL_NOTE = join(WORK, 'last-removal');
let lastRemoval = 0;
try {
  lastRemoval = Number(readFileSync(REMOVAL_NOTE, 'utf8')) || 0;
} catch {
  // no bench removed anything here yet
}
/** Removes `path` (a tree of many files, maybe), noting when. */
function remove(path) {
  if (!existsSync(path)) return;
  rmSync(path, { recursive: true, force: true });
  lastRemoval = Date.now();
  mkdirSync(WORK, { recursive: true });
  writeFileSync(REMOVAL_NOTE, String(lastRemoval));
}
/** Waits until the bench's last large removal is no longer recent to the file system. */
function settle() {
  const wait = lastRemoval + RECENT_MS - Date.now();
  if (wait <= 0) return;
  log(`waiting ${(wait / 1000).toFixed(0)} s: files removed in the last ${RECENT_MS / 1000} s make file creation slower for whoever runs first`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

/** A fresh directory holding copies of packages 0..n-1. */
function populate(dir, n) {
  remove(dir);
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) copyFileSync(join(PKGS, fileOf(i)), join(dir, fileOf(i)));
}

const results = [];
// of the wall times (the targets); ratioCpu of the CPU times
const ratio = (a, b) => (a === undefined || b === undefined ? '-' : (a.wall / b.wall).toFixed(2));
const ratioCpu = (a, b) => (a === undefined || b === undefined || !(a.cpu > 0 && b.cpu > 0) ? '-' : (a.cpu / b.cpu).toFixed(2));
const show = (t) => (t === undefined ? '-' : fmt(t.wall));
const showCpu = (t) => (t === undefined || !(t.cpu >= 0) ? '-' : fmt(t.cpu));
const both = (t) => (t === undefined ? '-' : `${show(t)} (CPU ${showCpu(t)})`);
/** Medians of wall and CPU times. */
const medians = (runs) => ({ wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)) });
const COUNT = Math.max(...SIZES) + EXTRA;
await writePackageSet({ dir: PKGS, count: COUNT, fileOf, spec: specOf(COUNT), log });
for (const n of SIZES) {
  const kdir = join(WORK, `repo-kpkg-${n}`);
  const cdir = join(WORK, `repo-createrepo-${n}`);
  const row = { n };
  if (CASES.has('index') || CASES.has('add')) {
    populate(kdir, n);
    populate(cdir, n);
    // full index (one round when only the add case is asked for: it needs the index)
    const kIndex = [];
    const cIndex = [];
    for (let r = 0; r <= (CASES.has('index') ? REPS : 0); r++) {
      rmSync(join(kdir, 'repodata'), { recursive: true, force: true });
      rmSync(join(kdir, '.kpkg'), { recursive: true, force: true });
      rmSync(join(cdir, 'repodata'), { recursive: true, force: true });
      const k = timed(KPKG, ['repo', 'index', '-q', kdir]);
      const c = timed('createrepo_c', ['--quiet', '--no-database', '--workers', '2', cdir]);
      if (r > 0) {
        // round 0 warms the page cache
        kIndex.push(k);
        cIndex.push(c);
      }
    }
    if (CASES.has('index')) Object.assign(row, { kIndex: medians(kIndex), cIndex: medians(cIndex) });
  }
  if (CASES.has('add')) {
    // one more package, REPS times
    const kAdd = [];
    const cAdd = [];
    for (let r = 0; r <= REPS; r++) {
      const extra = fileOf(n + r);
      const k = timed(KPKG, ['publish', '-q', '--repo', kdir, join(PKGS, extra)]);
      copyFileSync(join(PKGS, extra), join(cdir, extra));
      const c = timed('createrepo_c', ['--quiet', '--update', '--no-database', '--workers', '2', cdir]);
      if (r > 0) {
        kAdd.push(k);
        cAdd.push(c);
      }
    }
    const check = spawnSync(KPKG, ['repo', 'check', kdir], { encoding: 'utf8' });
    if (check.status !== 0) die(`kpkg repo check ${kdir} failed: ${check.stdout}${check.stderr}`);
    Object.assign(row, { kAdd: medians(kAdd), cAdd: medians(cAdd) });
  }
  if (CASES.has('bulk')) {
    // N packages into a new repository in one run
    const files = Array.from({ length: n }, (_, i) => join(PKGS, fileOf(i)));
    // round r into bulk-kpkg-N-r and bulk-createrepo-N-r, removed after the last round (settle())
    const bulkDir = (who, r) => join(WORK, `bulk-${who}-${n}-${r}`);
    const bulkDirs = () => readdirSync(WORK).filter((d) => d.startsWith(`bulk-kpkg-${n}`) || d.startsWith(`bulk-createrepo-${n}`));
    for (const d of bulkDirs()) remove(join(WORK, d)); // a killed run's
    settle();
    const kBulk = [];
    const cBulk = [];
    for (let r = 0; r <= REPS; r++) {
      const kbulk = bulkDir('kpkg', r);
      const cbulk = bulkDir('createrepo', r);
      const k = timed(KPKG, ['publish', '-q', '--repo', kbulk, ...files]);
      mkdirSync(cbulk);
      const c = plus(timed('cp', ['-t', cbulk, ...files]), timed('createrepo_c', ['--quiet', '--no-database', '--workers', '2', cbulk]));
      if (r > 0) {
        kBulk.push(k);
        cBulk.push(c);
      }
    }
    const kbulk = bulkDir('kpkg', REPS);
    const check = spawnSync(KPKG, ['repo', 'check', kbulk], { encoding: 'utf8' });
    if (check.status !== 0 || !check.stdout.includes(`${n} packages, OK`)) die(`kpkg repo check ${kbulk} failed: ${check.stdout}${check.stderr}`);
    for (const d of bulkDirs()) remove(join(WORK, d));
    Object.assign(row, { kBulk: medians(kBulk), cBulk: medians(cBulk) });
  }
  results.push(row);
  log(
    `N=${n}: full index kpkg ${both(row.kIndex)} vs createrepo_c ${both(row.cIndex)} (ratio ${ratio(row.kIndex, row.cIndex)}, CPU ${ratioCpu(row.kIndex, row.cIndex)}, target <= 2); ` +
      `add one kpkg ${both(row.kAdd)} vs createrepo_c --update ${both(row.cAdd)} (ratio ${ratio(row.kAdd, row.cAdd)}, CPU ${ratioCpu(row.kAdd, row.cAdd)}, target <= 1, aim 0.5); ` +
      `bulk publish kpkg ${both(row.kBulk)} vs cp + createrepo_c ${both(row.cBulk)} (ratio ${ratio(row.kBulk, row.cBulk)}, CPU ${ratioCpu(row.kBulk, row.cBulk)}, target <= 2)`,
  );
}
log();
/** One markdown table of the results: `fmtTime` and `fmtRatio` read wall or CPU times; `suffix` names them. */
function table(fmtTime, fmtRatio, suffix) {
  const pairs = [['kIndex', 'cIndex'], ['kAdd', 'cAdd'], ['kBulk', 'cBulk']];
  log(`| N | index kpkg${suffix} | index createrepo_c${suffix} | ratio | add one kpkg${suffix} | add one createrepo_c --update${suffix} | ratio | bulk publish kpkg${suffix} | cp + createrepo_c${suffix} | ratio |`);
  log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) log(`| ${r.n} | ${pairs.map(([k, c]) => `${fmtTime(r[k])} | ${fmtTime(r[c])} | ${fmtRatio(r[k], r[c])}`).join(' | ')} |`);
}
log('Wall-time medians and their ratios (the targets); the CPU times (user + system) below.');
table(show, ratio, '');
log();
table(showCpu, ratioCpu, ' CPU');
