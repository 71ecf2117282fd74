#!/usr/bin/env node
// Punch against a bare `puppet apply`, and Punch's planning, in one run. dist/ must be built
// (`npm run build`); needs root (dnf --installroot), rpm, dnf, createrepo_c and puppet on PATH.
//
//   node bench/punch.mjs [--reps 5]
//
// 1. No-change run: two components (examples/hello built by kpkg as alpha and beta) installed by
//    a first `punch apply FILE --root R`; then, alternately, `punch apply FILE --root R` (nothing
//    to change: rpm query, plan, puppet apply, report) and a bare `puppet apply` of the same
//    catalog (the environment Punch wrote, the same settings). Target: Punch within 1.5 s of Puppet.
// 2. Planning with 50 components installed and 5,000 packages in the repository (stub packages
//    written by our writer, 50 deployment packages at two versions each, createrepo_c metadata):
//    reading the file, the installed packages (rpm) and the repository metadata, computing the
//    plan and the preflight, in process (planPackages from dist/punch/run.js), with 10 of the 50
//    to upgrade. Target: under 300 ms. Also `punch plan FILE --root R` as a user runs it.
// Every timed command is a fresh process timed from spawn to exit; medians over the rounds.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const WORK = join(BENCH, '.work', 'punch');
const PUNCH = join(ROOT, 'dist', 'bin', 'punch.js');
const KPKG = join(ROOT, 'dist', 'bin', 'kpkg.js');
const { values: args } = parseArgs({ options: { reps: { type: 'string', default: process.env.BENCH_REPS ?? '5' } } });
const REPS = Math.max(1, Number(args.reps) || 5);

const log = (line = '') => process.stdout.write(`${line}\n`);
const die = (m) => {
  process.stderr.write(`bench/punch: ${m}\n`);
  process.exit(1);
};
if (!existsSync(PUNCH)) die(`${PUNCH} is missing: run npm run build first`);
if (process.getuid?.() !== 0) die('needs root (dnf --installroot)');
for (const tool of ['rpm', 'dnf', 'createrepo_c', 'puppet']) if (spawnSync(tool, ['--version']).status !== 0) die(`${tool} is not on PATH`);

// Debian's rpm keeps its database in ~/.rpmdb: a HOME whose .rpmmacros puts it where EL has it
const HOME = join(WORK, 'home');
mkdirSync(HOME, { recursive: true });
writeFileSync(join(HOME, '.rpmmacros'), '%_dbpath /var/lib/rpm\n');
const ENV = { ...process.env, HOME, LC_ALL: 'C.UTF-8' };
const ROOT_FLAGS = ['--releasever', '1', '--dnf-setopt', 'tsflags=noscripts'];

function must(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { env: ENV, encoding: 'utf8', ...opts });
  if (r.status !== 0) die(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r;
}
// wall time from spawn to exit; CPU (user + system of the process and its children, as the
// kernel accounts them) through /usr/bin/time when it is there: the machine may be loaded, and
// CPU time says what the work costs whatever the load
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
function timed(cmd, argv, okStatuses = [0]) {
  const cpuFile = join(WORK, 'cpu.txt');
  const [c, a] = TIME ? [TIME, ['-f', '%U %S', '-o', cpuFile, cmd, ...argv]] : [cmd, argv];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c, a, { env: ENV, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!okStatuses.includes(r.status)) die(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  const cpu = TIME ? readFileSync(cpuFile, 'utf8').trim().split('\n').pop().split(' ').reduce((x, y) => x + Number(y) * 1000, 0) : NaN;
  return { ms, cpu };
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

const { writeRpm } = await import(join(ROOT, 'dist', 'packager', 'rpm', 'writer.js'));
const { packageFileName } = await import(join(ROOT, 'dist', 'packager', 'rpm', 'spec.js'));
const { stringify } = await import('yaml');

async function writeBase(dir) {
  const tool = (path) => ({ path, kind: 'file', mode: 0o755, content: '#!/bin/sh\nexit 0\n' });
  const spec = {
    name: 'kpkg-test-base', version: '1.0', release: '1', arch: 'noarch', summary: 'stub system', description: 'The stub system of the bench.', license: 'Apache-2.0',
    provides: [{ name: 'nodejs', flags: 8, version: '1:20.17.0' }, { name: 'puppet-agent' }, { name: 'puppet' }], requires: [],
    files: [{ path: '/bin', kind: 'dir' }, tool('/bin/sh'), { path: '/usr', kind: 'dir' }, { path: '/usr/sbin', kind: 'dir' }, tool('/usr/sbin/groupadd'), tool('/usr/sbin/useradd')],
  };
  await writeRpm(spec, join(dir, packageFileName(spec)), { sourceDateEpoch: 1_700_000_000 });
}

function nodeFile(path, classes, packages, repo) {
  writeFileSync(path, stringify({ classes, kelkoo: { node: 'bench.example.com', revision: 1, repositories: [{ id: 'bench', baseurl: `file://${repo}` }], packages } }));
}

// ---------------------------------------------------------------------------------------------
// 1. no-change run against a bare puppet apply

async function noChange() {
  const dir = join(WORK, 'nochange');
  rmSync(dir, { recursive: true, force: true });
  const repo = join(dir, 'repo');
  const out = join(dir, 'target');
  mkdirSync(repo, { recursive: true });
  for (const name of ['alpha', 'beta']) {
    const c = join(dir, 'src', name);
    cpSync(join(ROOT, 'examples', 'hello'), c, { recursive: true });
    const pj = JSON.parse(readFileSync(join(c, 'component.json'), 'utf8'));
    pj.name = name;
    writeFileSync(join(c, 'component.json'), JSON.stringify(pj));
    must(process.execPath, [KPKG, 'build', c, '--output', out, '--skip-build']);
  }
  for (const f of readdirSync(out)) if (f.endsWith('.rpm')) cpSync(join(out, f), join(repo, f));
  await writeBase(repo);
  must('createrepo_c', ['--quiet', repo]);
  const file = join(dir, 'web.yaml');
  nodeFile(file, { alpha: { listen_port: 9090, greeting: 'bench' }, beta: {} }, [{ name: 'alpha-deploy', evr: '1.0.0-1' }, { name: 'beta-deploy', evr: '1.0.0-1' }], repo);
  const root = join(dir, 'root');
  mkdirSync(root);
  must(process.execPath, [PUNCH, 'apply', file, '--root', root, '--quiet', ...ROOT_FLAGS]);
  const report = JSON.parse(must(process.execPath, [PUNCH, 'apply', file, '--root', root, '--json', ...ROOT_FLAGS]).stdout);
  if (!report.unchanged) die('the second run changed something: not a no-change run');
  // the bare apply: the environment Punch wrote, Punch's own settings
  const { preparePuppet } = await import(join(ROOT, 'dist', 'punch', 'puppet.js'));
  const { punchPaths } = await import(join(ROOT, 'dist', 'punch', 'paths.js'));
  const { parseNodeFile } = await import(join(ROOT, 'dist', 'punch', 'file.js'));
  const loaded = parseNodeFile(readFileSync(file, 'utf8'), file);
  const run = await preparePuppet(punchPaths(root), loaded.file);
  const puppetArgs = [...run.args.filter((a) => !a.startsWith('--logdest') && !a.startsWith('--lastrunfile')), run.manifest];
  const punch = [];
  const puppet = [];
  timed('puppet', puppetArgs); // warm-up
  for (let i = 0; i < REPS; i++) {
    punch.push(timed(process.execPath, [PUNCH, 'apply', file, '--root', root, '--quiet', ...ROOT_FLAGS]));
    puppet.push(timed('puppet', puppetArgs));
  }
  const diff = (k) => median(punch.map((p, i) => p[k] - puppet[i][k])); // pair by pair: the load drifts
  return { punch: median(punch.map((x) => x.ms)), puppet: median(puppet.map((x) => x.ms)), over: diff('ms'), punchCpu: median(punch.map((x) => x.cpu)), puppetCpu: median(puppet.map((x) => x.cpu)), overCpu: diff('cpu') };
}

// ---------------------------------------------------------------------------------------------
// 2. planning: 50 components installed, 5,000 packages in the repository

const COMPONENTS = 50;
const TOTAL = 5000;
const comp = (i) => `bench-c${String(i).padStart(2, '0')}-deploy`;

async function planning() {
  const dir = join(WORK, 'planning');
  const repo = join(dir, 'repo');
  const marker = join(repo, 'repodata', 'repomd.xml');
  if (!existsSync(marker)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(repo, { recursive: true });
    log(`writing ${TOTAL} packages into ${repo} (once)`);
    const base = { release: '1', arch: 'noarch', license: 'Apache-2.0', description: 'A package of the Punch bench.', requires: [] };
    for (let i = 0; i < COMPONENTS; i++) {
      for (const version of ['1.0.0', '2.0.0']) {
        const spec = { ...base, name: comp(i), version, summary: `deployment ${i}`, provides: [{ name: 'kelkoo-deployment' }], files: [{ path: `/opt/${comp(i)}`, kind: 'dir' }] };
        await writeRpm(spec, join(repo, packageFileName(spec)), { sourceDateEpoch: 1_700_000_000 });
      }
    }
    for (let i = 0; i < TOTAL - 2 * COMPONENTS; i++) {
      const name = `bench-filler-${String(i).padStart(5, '0')}`;
      const spec = { ...base, name, version: `1.${i % 7}.0`, summary: `filler ${i}`, provides: [{ name: `${name}-api`, flags: 8, version: '1.0' }], files: [{ path: `/opt/${name}`, kind: 'dir' }] };
      await writeRpm(spec, join(repo, packageFileName(spec)), { sourceDateEpoch: 1_700_000_000 });
    }
    must('createrepo_c', ['--quiet', '--workers', '2', repo]);
  }
  const root = join(dir, 'root');
  const installed = join(dir, 'installed.yaml');
  const wanted = join(dir, 'wanted.yaml');
  const all = Array.from({ length: COMPONENTS }, (_, i) => i);
  nodeFile(installed, {}, all.map((i) => ({ name: comp(i), evr: '1.0.0-1' })), repo);
  nodeFile(wanted, {}, all.map((i) => ({ name: comp(i), evr: i < 10 ? '2.0.0-1' : '1.0.0-1' })), repo);
  if (!existsSync(join(root, 'var', 'lib', 'rpm'))) {
    mkdirSync(root, { recursive: true });
    must(process.execPath, [PUNCH, 'apply', installed, '--root', root, '--quiet', ...ROOT_FLAGS]);
  }
  const { planPackages } = await import(join(ROOT, 'dist', 'punch', 'run.js'));
  const { punchPaths } = await import(join(ROOT, 'dist', 'punch', 'paths.js'));
  const { loadNodeFile } = await import(join(ROOT, 'dist', 'punch', 'file.js'));
  let readRepositories;
  try {
    ({ readRepositoryPackages: readRepositories } = await import(join(ROOT, 'dist', 'punch', 'repositories.js')));
  } catch {
    readRepositories = undefined;
  }
  const process_ = process;
  process_.env.HOME = HOME;
  const paths = punchPaths(root);
  // the primary cache of punch/repositories.ts when this build has one (paths.repoCacheDir)
  const cacheDir = paths.repoCacheDir;
  const round = async () => {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const loaded = await loadNodeFile(wanted);
    const { plan, unavailable } = await planPackages(loaded, { paths, dnf: { releasever: '1' }, ...(readRepositories ? { readRepositories: (repos) => readRepositories(repos, cacheDir ? { cacheDir } : undefined) } : {}) });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const c = process.cpuUsage(c0);
    if (unavailable) die(unavailable.message);
    if (plan.changes.length !== 10) die(`expected 10 upgrades, planned ${plan.changes.length}`);
    return { ms, cpu: (c.user + c.system) / 1000 };
  };
  await round(); // loads the modules (and fills the cache)
  const cached = [];
  for (let i = 0; i < REPS; i++) cached.push(await round());
  const parsed = [];
  if (cacheDir) {
    for (let i = 0; i < REPS; i++) {
      rmSync(cacheDir, { recursive: true, force: true });
      parsed.push(await round());
    }
  }
  const cli = [];
  for (let i = 0; i < REPS; i++) cli.push(timed(process.execPath, [PUNCH, 'plan', wanted, '--root', root, '--quiet', ...ROOT_FLAGS]));
  const med = (xs, k) => (xs.length ? median(xs.map((x) => x[k])) : NaN);
  return { inProcess: med(cached, 'ms'), inProcessCpu: med(cached, 'cpu'), parsed: med(parsed, 'ms'), parsedCpu: med(parsed, 'cpu'), cli: med(cli, 'ms'), cliCpu: med(cli, 'cpu'), metadata: cacheDir ? 'repository metadata, primary cached by checksum' : readRepositories ? 'repository metadata read directly' : 'dnf repoquery (no metadata reader in this build)' };
}

mkdirSync(WORK, { recursive: true });
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
log(`punch bench: ${REPS} rounds, medians; load average ${loadavg()}`);
const a = await noChange();
log(`no-change run: punch apply ${fmt(a.punch)}, bare puppet apply ${fmt(a.puppet)}: punch takes ${fmt(a.over)} more, wall (target: within 1.5 s) ${a.over <= 1500 ? 'MET' : 'MISSED'}`);
log(`  CPU (user + system, children included): punch ${fmt(a.punchCpu)}, bare puppet apply ${fmt(a.puppetCpu)}: ${fmt(a.overCpu)} more`);
const b = await planning();
log(`planning, ${COMPONENTS} installed, ${TOTAL} in the repository (${b.metadata}): ${fmt(b.inProcess)} in process, CPU ${fmt(b.inProcessCpu)} (target: under 300 ms) ${b.inProcess < 300 ? 'MET' : 'MISSED'}`);
if (!Number.isNaN(b.parsed)) log(`  the same with primary parsed (no cache, a changed repository): ${fmt(b.parsed)}, CPU ${fmt(b.parsedCpu)}`);
log(`  punch plan as a command: ${fmt(b.cli)}, CPU ${fmt(b.cliCpu)} (children included)`);
log(`load average at the end ${loadavg()}`);
