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
//     of the N files into a new directory + `createrepo_c --no-database --workers 2` of it (both
//     directories removed before each round; kpkg's durability included, as users pay it: one
//     syncfs of the file system on Linux 5.8+ (util/fs.ts syncFiles) and a few fsyncs; cp and
//     createrepo_c sync nothing).
// Every timed command is a fresh process timed from spawn to exit; medians over the rounds. kpkg
// is run as users run it: its program (dist/bin/kpkg.js, executable, with its launcher line).
// The packages (small, a few files, dependencies and a changelog, written by our writer) are made
// once and cached under bench/.work/repo-packages/ (package-set.mjs).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdirSync, rmSync } from 'node:fs';
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

function timed(cmd, argv, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) die(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

/** A fresh directory holding copies of packages 0..n-1. */
function populate(dir, n) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) copyFileSync(join(PKGS, fileOf(i)), join(dir, fileOf(i)));
}

const results = [];
const ratio = (a, b) => (a === undefined || b === undefined ? '-' : (a / b).toFixed(2));
const show = (ms) => (ms === undefined ? '-' : fmt(ms));
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
    if (CASES.has('index')) Object.assign(row, { kIndex: median(kIndex), cIndex: median(cIndex) });
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
    Object.assign(row, { kAdd: median(kAdd), cAdd: median(cAdd) });
  }
  if (CASES.has('bulk')) {
    // N packages into a new repository in one run
    const files = Array.from({ length: n }, (_, i) => join(PKGS, fileOf(i)));
    const kbulk = join(WORK, `bulk-kpkg-${n}`);
    const cbulk = join(WORK, `bulk-createrepo-${n}`);
    const kBulk = [];
    const cBulk = [];
    for (let r = 0; r <= REPS; r++) {
      rmSync(kbulk, { recursive: true, force: true });
      rmSync(cbulk, { recursive: true, force: true });
      const k = timed(KPKG, ['publish', '-q', '--repo', kbulk, ...files]);
      mkdirSync(cbulk);
      const c = timed('cp', ['-t', cbulk, ...files]) + timed('createrepo_c', ['--quiet', '--no-database', '--workers', '2', cbulk]);
      if (r > 0) {
        kBulk.push(k);
        cBulk.push(c);
      }
    }
    const check = spawnSync(KPKG, ['repo', 'check', kbulk], { encoding: 'utf8' });
    if (check.status !== 0 || !check.stdout.includes(`${n} packages, OK`)) die(`kpkg repo check ${kbulk} failed: ${check.stdout}${check.stderr}`);
    rmSync(kbulk, { recursive: true, force: true });
    rmSync(cbulk, { recursive: true, force: true });
    Object.assign(row, { kBulk: median(kBulk), cBulk: median(cBulk) });
  }
  results.push(row);
  log(
    `N=${n}: full index kpkg ${show(row.kIndex)} vs createrepo_c ${show(row.cIndex)} (ratio ${ratio(row.kIndex, row.cIndex)}, target <= 2); ` +
      `add one kpkg ${show(row.kAdd)} vs createrepo_c --update ${show(row.cAdd)} (ratio ${ratio(row.kAdd, row.cAdd)}, target <= 1, aim 0.5); ` +
      `bulk publish kpkg ${show(row.kBulk)} vs cp + createrepo_c ${show(row.cBulk)} (ratio ${ratio(row.kBulk, row.cBulk)}, target <= 2)`,
  );
}
log();
log('| N | index kpkg | index createrepo_c | ratio | add one kpkg | add one createrepo_c --update | ratio | bulk publish kpkg | cp + createrepo_c | ratio |');
log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of results) {
  log(
    `| ${r.n} | ${show(r.kIndex)} | ${show(r.cIndex)} | ${ratio(r.kIndex, r.cIndex)} | ${show(r.kAdd)} | ${show(r.cAdd)} | ${ratio(r.kAdd, r.cAdd)} | ` +
      `${show(r.kBulk)} | ${show(r.cBulk)} | ${ratio(r.kBulk, r.cBulk)} |`,
  );
}
