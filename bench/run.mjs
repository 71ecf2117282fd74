#!/usr/bin/env node
// kpkg against rpmbuild and tar, in one run, as ratios. `npm run bench` builds dist/ first.
//
//   node bench/run.mjs [--reps N] [--skip-memory]        (BENCH_REPS=N works too)
//
// Every timed command is a fresh process, timed from spawn to exit by this script, so process
// startup counts for everyone. Runs are interleaved (kpkg, rpmbuild, tar, kpkg, ...) after one
// untimed warm-up round that also checks the outputs. See bench/README.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, createCipheriv } from 'node:crypto';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const WORK = join(BENCH, '.work');
const TREE_DIR = join(WORK, 'tree'); // npm ci runs here
const TREE = join(TREE_DIR, 'node_modules'); // what every tool packages
const BIG = join(WORK, 'big');
const OUT = join(WORK, 'out');
const RPMTOP = join(WORK, 'rpmbuild');
const BUILDROOT = join(RPMTOP, 'BUILDROOT', 'root');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const MiB = 1 << 20;

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: process.env.BENCH_REPS ?? '5' },
    'skip-memory': { type: 'boolean', default: false },
  },
});
const REPS = Math.max(1, Number(args.reps) || 5);

// targets (docs: bench/README.md)
const TARGET_VS_RPMBUILD = 1 / 3; // kpkg at least 3x faster
const TARGET_VS_TAR = 1.25; // kpkg time / tar czf time
const TARGET_SIZE = 1.1; // kpkg package size / tar czf size
const TARGET_RSS_MIB = 200;

// children get the same environment; no SOURCE_DATE_EPOCH, so every tool records real mtimes
const childEnv = { ...process.env, LC_ALL: 'C' };
delete childEnv.SOURCE_DATE_EPOCH;

function log(line = '') {
  process.stdout.write(`${line}\n`);
}

function die(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

/**
 * Runs one command to completion; returns the wall time measured here and, when /usr/bin/time
 * exists, the peak RSS (%M, KiB) and CPU time (%U + %S, seconds) of the command and its children.
 */
function timed(cmd, argv, { cwd = ROOT } = {}) {
  const rssFile = join(WORK, 'rss.txt');
  const [file, fileArgs] = TIME ? [TIME, ['-f', '%M %U %S', '-o', rssFile, cmd, ...argv]] : [cmd, argv];
  const start = process.hrtime.bigint();
  const r = spawnSync(file, fileArgs, { cwd, env: childEnv, encoding: 'utf8', maxBuffer: 64 * MiB });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error) die(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) die(`${cmd} ${argv.join(' ')} exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  const [rssKiB, user, sys] = TIME ? readFileSync(rssFile, 'utf8').trim().split('\n').pop().split(' ').map(Number) : [];
  return { ms, rssKiB, cpuMs: TIME ? (user + sys) * 1000 : undefined, stdout: r.stdout, stderr: r.stderr };
}

function run(cmd, argv, opts = {}) {
  return execFileSync(cmd, argv, { cwd: ROOT, env: childEnv, encoding: 'utf8', maxBuffer: 256 * MiB, ...opts });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const fmtMs = (ms) => `${(ms / 1000).toFixed(2)} s`;
const fmtMiB = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`;

// ---------------------------------------------------------------------------------------------
// inputs

/** bench/tree/{package.json,package-lock.json} installed with npm ci, once per lock file. */
function ensureTree() {
  const lock = readFileSync(join(BENCH, 'tree', 'package-lock.json'));
  const stamp = createHash('sha256').update(readFileSync(join(BENCH, 'tree', 'package.json'))).update(lock).digest('hex');
  const stampFile = join(TREE_DIR, '.bench-stamp');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(TREE)) return;
  log(`installing the input tree into ${TREE_DIR} (npm ci, once)`);
  rmSync(TREE_DIR, { recursive: true, force: true });
  mkdirSync(TREE_DIR, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(BENCH, 'tree', f), join(TREE_DIR, f));
  const r = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: TREE_DIR, stdio: 'inherit', env: process.env });
  if (r.status !== 0) die('npm ci of bench/tree failed');
  writeFileSync(stampFile, stamp);
}

const BIG_FILES = 4;
const BIG_FILE_SIZE = 256 * MiB;
const BIG_LAYOUT = `v1 ${BIG_FILES} x ${BIG_FILE_SIZE}: 1 MiB blocks alternating AES-CTR noise and text`;

/**
 * 1 GiB of input for the memory check, generated once: 1 MiB blocks alternating incompressible
 * noise (AES-256-CTR of zeros, fixed key: deterministic) and compressible text.
 */
function ensureBig() {
  const stampFile = join(BIG, '.bench-stamp');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === BIG_LAYOUT) return;
  log(`generating ${BIG_FILES} x ${fmtMiB(BIG_FILE_SIZE)} into ${BIG} (once)`);
  rmSync(BIG, { recursive: true, force: true });
  mkdirSync(BIG, { recursive: true });
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16));
  const zeros = Buffer.alloc(MiB);
  let line = 0;
  const text = () => {
    const parts = [];
    let n = 0;
    while (n < MiB) {
      const s = `${line++} GET /shop/item/${(line * 2654435761) % 100000} 200 ${(line * 40503) % 9000} "Mozilla/5.0 (X11; Linux x86_64)"\n`;
      parts.push(s);
      n += s.length;
    }
    return Buffer.from(parts.join('')).subarray(0, MiB);
  };
  for (let f = 0; f < BIG_FILES; f++) {
    const fd = openSync(join(BIG, `blob-${f}.bin`), 'w');
    for (let off = 0, b = 0; off < BIG_FILE_SIZE; off += MiB, b++) {
      writeSync(fd, b % 2 === 0 ? cipher.update(zeros) : text());
    }
    closeSync(fd);
  }
  writeFileSync(stampFile, BIG_LAYOUT);
}

// ---------------------------------------------------------------------------------------------
// the three contenders

const KPKG_OUT = join(OUT, 'kpkg.rpm');
const TAR_OUT = join(OUT, 'tree.tgz');
const SPEC = join(RPMTOP, 'SPECS', 'kelkoo-bench.spec');

function kpkg(src = TREE, out = KPKG_OUT, extra = []) {
  rmSync(out, { force: true });
  const r = timed(process.execPath, [join(BENCH, 'write-tree.mjs'), src, out, ...extra]);
  return { ...r, report: JSON.parse(r.stdout.trim().split('\n').pop()) };
}

/** The level kpkg used, from its package's PAYLOADFLAGS, so rpmbuild compresses alike. */
function payloadLevel(rpmFile) {
  const flags = run('rpm', ['-qp', '--nosignature', '--qf', '%{PAYLOADCOMPRESSOR} %{PAYLOADFLAGS}', rpmFile]).trim();
  const [compressor, level] = flags.split(' ');
  if (compressor !== 'gzip' || !/^\d$/.test(level)) die(`kpkg wrote a ${flags} payload; the bench compares gzip payloads`);
  return Number(level);
}

/**
 * A spec that makes the same package as write-tree.mjs: same files, modes, owners and mtimes,
 * gzip at kpkg's level, no dependency generation, no debuginfo, no brp scripts.
 *
 * %install hardlinks the tree into the buildroot when both are on one file system (they are:
 * both under bench/.work), so rpmbuild pays for no copy of the data:
 *     cp -al bench/.work/tree/node_modules $RPM_BUILD_ROOT/opt/kelkoo/bench/node_modules
 * (cp -a, a real copy, otherwise). The buildroot is removed before each run, outside the timing,
 * and --noclean keeps rpmbuild from removing it again inside the timing.
 */
function writeSpec(level) {
  const sameFs = (() => {
    mkdirSync(dirname(BUILDROOT), { recursive: true });
    return statSync(TREE).dev === statSync(dirname(BUILDROOT)).dev;
  })();
  const copy = sameFs ? 'cp -al' : 'cp -a';
  mkdirSync(dirname(SPEC), { recursive: true });
  writeFileSync(
    SPEC,
    `# generated by bench/run.mjs: the rpmbuild side of the comparison
%define __os_install_post %{nil}
%define __arch_install_post %{nil}
%define _build_id_links none
%global debug_package %{nil}
%define _binary_payload w${level}.gzdio
%define _binary_filedigest_algorithm 8

Name: kelkoo-bench
Version: 1.0.0
Release: 1
Summary: kpkg benchmark tree
License: MIT
BuildArch: noarch
AutoReqProv: no

%description
A node_modules tree, packaged to compare kpkg with rpmbuild and tar.

%install
mkdir -p %{buildroot}/opt/kelkoo/bench
${copy} ${TREE} %{buildroot}/opt/kelkoo/bench/node_modules

%files
%defattr(-,root,root,-)
/opt/kelkoo/bench
`,
  );
  return copy;
}

function rpmbuild() {
  rmSync(BUILDROOT, { recursive: true, force: true });
  rmSync(join(RPMTOP, 'RPMS'), { recursive: true, force: true });
  const r = timed('rpmbuild', ['-bb', '--quiet', '--noclean', '--define', `_topdir ${RPMTOP}`, '--buildroot', BUILDROOT, SPEC]);
  return { ...r, out: join(RPMTOP, 'RPMS', 'noarch', 'kelkoo-bench-1.0.0-1.noarch.rpm') };
}

function tar() {
  rmSync(TAR_OUT, { force: true });
  return { ...timed('tar', ['czf', TAR_OUT, '-C', TREE, '.']), out: TAR_OUT };
}

/**
 * What rpm lists for a package, one line per file: path, mode, size, digest, link target. The
 * size of directories is left out: rpmbuild 4.18 records 0, kpkg the 4096 that stat shows.
 */
function listing(rpmFile) {
  const raw = run('rpm', ['-qp', '--nosignature', '--qf', '[%{FILENAMES} %{FILEMODES:octal} %{FILESIZES} %{FILEDIGESTS} %{FILELINKTOS}\n]', rpmFile]);
  return raw.replace(/^(\S+ 40\d{3}) \d+/gm, '$1 -');
}

// ---------------------------------------------------------------------------------------------

function main() {
  if (!existsSync(join(ROOT, 'dist', 'packager', 'rpm', 'index.js'))) die('dist/ is missing: run `npm run bench` (it builds first)');
  for (const tool of ['rpmbuild', 'rpm', 'tar']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) die(`${tool} is needed`);
  }
  mkdirSync(OUT, { recursive: true });
  ensureTree();
  if (!args['skip-memory']) ensureBig();

  const treeFiles = Number(run('sh', ['-c', `find '${TREE}' -type f | wc -l`]).trim());
  const treeBytes = Number(run('du', ['-sb', TREE]).split('\t')[0]);
  log(`machine: ${run('nproc').trim()} cores, node ${process.version}, ${run('rpmbuild', ['--version']).trim()}, ${run('tar', ['--version']).split('\n')[0]}`);
  log(`input: ${TREE}: ${treeFiles} files, ${fmtMiB(treeBytes)} (du -sb)`);

  // warm-up round, untimed: fills the page cache and checks that the outputs agree
  log('\nwarm-up and checks');
  kpkg();
  const level = payloadLevel(KPKG_OUT);
  const copy = writeSpec(level);
  const check = run('rpm', ['-K', KPKG_OUT]).trim();
  log(`  rpm -K kpkg.rpm: ${check.slice(check.indexOf(':') + 2)}`);
  if (!/digests OK/.test(check)) die(`rpm -K does not accept kpkg's package: ${check}`);
  const r0 = rpmbuild();
  const kList = listing(KPKG_OUT);
  const rList = listing(r0.out);
  const same = kList === rList;
  log(`  file lists (path mode size digest link; directory sizes aside): kpkg ${kList.split('\n').length - 1} entries, rpmbuild ${rList.split('\n').length - 1}: ${same ? 'identical' : 'DIFFERENT'}`);
  if (!same) {
    writeFileSync(join(OUT, 'kpkg.list'), kList);
    writeFileSync(join(OUT, 'rpmbuild.list'), rList);
    log(`  (diff ${join(OUT, 'kpkg.list')} ${join(OUT, 'rpmbuild.list')})`);
  }
  tar();
  log(`  gzip level ${level} for both packages; rpmbuild %install: ${copy}`);

  log(`\n${REPS} interleaved rounds: kpkg, rpmbuild -bb, tar czf`);
  const times = { kpkg: [], rpmbuild: [], tar: [] };
  const cpu = { kpkg: [], rpmbuild: [], tar: [] };
  const rss = { kpkg: [], rpmbuild: [], tar: [] };
  const phases = [];
  let sizes;
  for (let i = 0; i < REPS; i++) {
    const k = kpkg();
    const r = rpmbuild();
    const t = tar();
    times.kpkg.push(k.ms);
    times.rpmbuild.push(r.ms);
    times.tar.push(t.ms);
    for (const [name, x] of [['kpkg', k], ['rpmbuild', r], ['tar', t]]) {
      if (x.rssKiB !== undefined) rss[name].push(x.rssKiB);
      if (x.cpuMs !== undefined) cpu[name].push(x.cpuMs);
    }
    phases.push(k.report.ms);
    sizes = { kpkg: statSync(KPKG_OUT).size, rpmbuild: statSync(r.out).size, tar: statSync(t.out).size };
    log(
      `  round ${i + 1}: kpkg ${fmtMs(k.ms)} (import ${k.report.ms.import} ms, walk ${k.report.ms.walk} ms, write ${k.report.ms.write} ms)` +
        `   rpmbuild ${fmtMs(r.ms)}   tar ${fmtMs(t.ms)}   kpkg/rpmbuild ${(k.ms / r.ms).toFixed(3)}   kpkg/tar ${(k.ms / t.ms).toFixed(3)}`,
    );
  }
  const med = { kpkg: median(times.kpkg), rpmbuild: median(times.rpmbuild), tar: median(times.tar) };
  const rssMed = Object.fromEntries(Object.entries(rss).map(([k, v]) => [k, v.length ? median(v) : undefined]));
  log('\n  tool        wall: median  min       max       cpu (user+sys)  output size    peak RSS');
  for (const name of ['kpkg', 'rpmbuild', 'tar']) {
    const xs = times[name];
    const r = rssMed[name] === undefined ? 'n/a' : `${(rssMed[name] / 1024).toFixed(0)} MiB`;
    const c = cpu[name].length ? fmtMs(median(cpu[name])) : 'n/a';
    log(`  ${name.padEnd(10)}  ${fmtMs(med[name]).padEnd(12)}  ${fmtMs(Math.min(...xs)).padEnd(8)}  ${fmtMs(Math.max(...xs)).padEnd(8)}  ${c.padEnd(14)}  ${fmtMiB(sizes[name]).padEnd(13)}  ${r}`);
  }
  const paired = (a, b) => median(times[a].map((x, i) => x / times[b][i])).toFixed(3);
  log(`  per-round ratios, median: kpkg/rpmbuild ${paired('kpkg', 'rpmbuild')}, kpkg/tar ${paired('kpkg', 'tar')}`);
  const phaseMed = ['import', 'walk', 'write'].map((p) => `${p} ${median(phases.map((x) => x[p]))} ms`).join(', ');
  log(`  kpkg phases (median, inside the process): ${phaseMed}`);

  let big;
  if (!args['skip-memory']) {
    log(`\nmemory: kpkg on ${BIG} (${BIG_FILES} x ${fmtMiB(BIG_FILE_SIZE)})`);
    const bigOut = join(OUT, 'big.rpm');
    const b = kpkg(BIG, bigOut, ['--prefix', '/opt/kelkoo/bench/big']);
    const bigCheck = run('rpm', ['-K', bigOut]).trim();
    const peakKiB = b.rssKiB ?? b.report.maxRSSKiB;
    big = { peakMiB: peakKiB / 1024, ms: b.ms, ok: /digests OK/.test(bigCheck) };
    log(`  ${fmtMs(b.ms)}, package ${fmtMiB(statSync(bigOut).size)}, peak RSS ${big.peakMiB.toFixed(1)} MiB (${TIME ? '/usr/bin/time %M' : 'maxRSS'}; the process's own maxRSS: ${(b.report.maxRSSKiB / 1024).toFixed(1)} MiB)`);
    log(`  rpm -K big.rpm: ${bigCheck.slice(bigCheck.indexOf(':') + 2)}`);
    rmSync(bigOut, { force: true });
  }

  const vsRpmbuild = med.kpkg / med.rpmbuild;
  const vsTar = med.kpkg / med.tar;
  const sizeRatio = sizes.kpkg / sizes.tar;
  const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
  log('\nsummary (medians of interleaved runs; lower is better for kpkg)');
  log('  measure                        value          target        result');
  log(`  time kpkg / rpmbuild -bb       ${vsRpmbuild.toFixed(3).padEnd(13)}  <= ${TARGET_VS_RPMBUILD.toFixed(3)} (3x)  ${verdict(vsRpmbuild <= TARGET_VS_RPMBUILD)}   (rpmbuild / kpkg = ${(1 / vsRpmbuild).toFixed(2)}x)`);
  log(`  time kpkg / tar czf            ${vsTar.toFixed(3).padEnd(13)}  <= ${TARGET_VS_TAR.toFixed(2)}         ${verdict(vsTar <= TARGET_VS_TAR)}`);
  log(`  size kpkg.rpm / tree.tgz       ${sizeRatio.toFixed(3).padEnd(13)}  <= ${TARGET_SIZE.toFixed(2)}         ${verdict(sizeRatio <= TARGET_SIZE)}   (${sizes.kpkg} / ${sizes.tar} bytes)`);
  if (big) {
    log(`  peak RSS, 1 GiB payload        ${`${big.peakMiB.toFixed(1)} MiB`.padEnd(13)}  < ${TARGET_RSS_MIB} MiB      ${verdict(big.peakMiB < TARGET_RSS_MIB && big.ok)}${big.ok ? '' : '   (rpm -K failed)'}`);
  } else {
    log('  peak RSS, 1 GiB payload        skipped (--skip-memory)');
  }
  log('  (informational: the bench exits 0 whether or not the targets are met)');
}

main();
