/**
 * Punch's run (docs/punch.md): lock -> the file (already validated) -> installed deployment
 * packages -> plan -> preflight -> one dnf transaction -> verify with rpm -> Puppet -> report.
 * A dry run (plan) stops before the transaction and asks Puppet with --noop.
 *
 * Repair after a kill: nothing is assumed from a previous run. The plan is made from what rpm says
 * is installed, a tool left running by a killed run is waited for first, and Puppet is applied
 * every time, so the next run completes whatever a killed one left undone.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { KpkgError, oneLine } from '../packager/errors.js';
import { acquireLock, type Lock } from '../packager/repo/lock.js';
import { waitForOrphan } from './child.js';
import type { DnfSettings } from './dnf.js';
import type { LoadedFile, Repository, WantedPackage } from './file.js';
import { computePlan, describeChange, sameEVR, type PackageChange, type PackagePlan } from './plan.js';
import type { AvailablePackage } from './preflight.js';
import { applyPuppet, preparePuppet, type PuppetSummary } from './puppet.js';
import { evrOf, installedForPlan, installedVersions, type InstalledPackage } from './rpm.js';
import type { PunchPaths } from './paths.js';
import { ensureStateDir, readState, recordApplied, saveReport, writeState } from './state.js';

export type Command = 'apply' | 'restore' | 'rollback' | 'plan';

export interface RunOptions {
  paths: PunchPaths;
  command: Command;
  dnf: DnfSettings;
  /** How long to wait for another run (default 10 minutes). */
  waitMs?: number;
  /** Progress lines (a terminal); nothing when quiet or --json. */
  progress?: (line: string) => void;
  /** Reads what the file's repositories offer (repository metadata); dnf is asked when absent or when the file lists none. */
  readRepositories?: (repos: readonly Repository[]) => Promise<AvailablePackage[]>;
}

export interface RunReport {
  format: 1;
  command: Command;
  node: string;
  revision?: number;
  environment: string;
  file: { source: string; sha256: string };
  root: string;
  started: string;
  /** When the run took the lock (runs never overlap from here to finished). */
  locked?: string;
  finished: string;
  durationMs: number;
  /** 0 the server matches its file (plan: a plan could be made), 1 something failed, 2 bad input. */
  exitCode: 0 | 1 | 2;
  /** True when nothing needed changing (for a plan: nothing would change). */
  unchanged: boolean;
  /** Geppetto's report fields (ReportInput): changed, unchanged or failed; how many changes; one line; when. */
  status: 'changed' | 'unchanged' | 'failed';
  changes: number;
  summary: string;
  at: string;
  packages: {
    changes: PackageChange[];
    unchanged: WantedPackage[];
    transaction?: { status: number; comment: string; log: string };
    /** rpm confirms every wanted package at its EVR and every removal done. */
    verified?: boolean;
  };
  puppet?: {
    noop: boolean;
    /** A plan with package changes: Puppet is evaluated after the transaction, not before. */
    deferred?: boolean;
    classes: string[];
    status?: number;
    changes: number;
    resources: string[];
    errors: string[];
    summary?: PuppetSummary;
  };
  /** Milliseconds per phase: lock (waiting included), plan (rpm, plan, preflight), transaction, puppet. */
  timings: Record<string, number>;
  errors: string[];
  /** What the failure left as it was. */
  leftAsItWas: string[];
}

/** The host's name, the default node of a hand-written file. */
export function defaultNode(): string {
  return hostname();
}

/** rpm says every wanted package is installed once at its EVR, and nothing removed is left. */
export function verifyInstalled(wanted: readonly WantedPackage[], removed: readonly PackageChange[], after: Map<string, InstalledPackage[]>): string[] {
  const problems: string[] = [];
  for (const w of wanted) {
    const have = after.get(w.name) ?? [];
    if (have.length === 0) problems.push(`${w.name} is not installed (wanted ${w.evr})`);
    else if (have.length > 1 || !sameEVR(evrOf(have[0] as InstalledPackage), w.evr)) problems.push(`${w.name} is installed at ${have.map(evrOf).join(', ')} (wanted ${w.evr})`);
  }
  for (const r of removed) {
    if ((after.get(r.name) ?? []).some((p) => r.from !== undefined && sameEVR(evrOf(p), r.from) && !wanted.some((w) => w.name === r.name && sameEVR(w.evr, r.from ?? '')))) {
      problems.push(`${r.name} ${r.from ?? ''} is still installed (to be removed)`);
    }
  }
  return problems;
}

async function takeLock(options: RunOptions): Promise<Lock> {
  return acquireLock(options.paths.lock, {
    timeoutMs: options.waitMs ?? 600_000,
    staleMs: 60_000,
    subject: `punch on ${options.paths.root}`,
    what: `punch ${options.command}`,
    onWait: (owner) => options.progress?.(`waiting for another run${owner ? ` (pid ${owner.pid}, ${owner.what ?? 'punch'})` : ''}`),
  });
}

/** Deploys `loaded` (or plans it). Bad input throws (exit 2); a failure returns a report with exitCode 1. */
export async function runPunch(loaded: LoadedFile, options: RunOptions): Promise<RunReport> {
  const { paths, progress } = options;
  const file = loaded.file;
  const noop = options.command === 'plan';
  if (paths.confined && file.kelkoo.repositories === undefined) {
    throw new KpkgError('INVALID_INPUT', `${loaded.source}: /kelkoo/repositories: required with --root (only the file's repositories are used)`);
  }
  const started = Date.now();
  const node = file.kelkoo.node ?? defaultNode();
  const report: RunReport = {
    format: 1,
    command: options.command,
    node,
    ...(file.kelkoo.revision !== undefined ? { revision: file.kelkoo.revision } : {}),
    environment: file.environment ?? 'production',
    file: { source: loaded.source, sha256: loaded.sha256 },
    root: paths.root,
    started: new Date(started).toISOString(),
    finished: '',
    durationMs: 0,
    exitCode: 0,
    unchanged: false,
    status: 'changed',
    changes: 0,
    summary: '',
    at: '',
    packages: { changes: [], unchanged: [] },
    timings: {},
    errors: [],
    leftAsItWas: [],
  };
  await ensureStateDir(paths);
  const lockStart = Date.now();
  const lock = await takeLock(options);
  report.locked = new Date().toISOString();
  report.timings.lock = Date.now() - lockStart;
  try {
    const orphan = await waitForOrphan(paths.childFile, (cmd, pid) => progress?.(`waiting for ${cmd} (pid ${pid}) left running by a killed run`));
    if (orphan !== undefined) progress?.(`${orphan} of the killed run has finished`);
    await deploy(loaded, options, report, noop);
  } catch (e) {
    report.errors.push(oneLine(e instanceof Error ? e.message : String(e)));
    if (e instanceof KpkgError && (e.code === 'INVALID_INPUT' || e.code === 'USAGE')) {
      report.exitCode = 2;
      throw e;
    }
    report.exitCode = 1;
  } finally {
    report.finished = new Date().toISOString();
    report.durationMs = Date.now() - started;
    summarize(report);
    try {
      if (!noop) {
        let state = await readState(paths);
        if (report.exitCode === 0) state = await recordApplied(paths, state, loaded, node);
        const saved = await saveReport(paths, report);
        state.lastRun = {
          at: report.finished,
          command: report.command,
          exitCode: report.exitCode,
          sha256: loaded.sha256,
          report: saved,
          ...(report.revision !== undefined ? { revision: report.revision } : {}),
        };
        await writeState(paths, state);
      }
    } finally {
      await lock.release();
    }
  }
  return report;
}

async function deploy(loaded: LoadedFile, options: RunOptions, report: RunReport, noop: boolean): Promise<void> {
  const { paths, progress } = options;
  const file = loaded.file;
  const wanted = file.kelkoo.packages;

  let t = Date.now();
  const { plan, unavailable } = await planPackages(loaded, options);
  report.timings.plan = Date.now() - t;
  report.packages.changes = plan.changes;
  report.packages.unchanged = plan.unchanged;
  if (unavailable !== undefined) {
    report.leftAsItWas.push('packages', 'configuration');
    throw unavailable;
  }

  const classes = Object.keys(file.classes).sort();
  if (noop) {
    if (plan.changes.length > 0) {
      report.puppet = { noop: true, deferred: true, classes, changes: 0, resources: [], errors: [] };
      report.unchanged = false;
      return;
    }
    const run = await preparePuppet(paths, file);
    progress?.('puppet apply --noop');
    const res = await applyPuppet(run, paths, { noop: true, consoleLog: join(paths.logsDir, 'puppet-noop.log') });
    report.puppet = { noop: true, classes, status: res.status, changes: res.changes, resources: res.resources, errors: res.errors, ...(res.summary ? { summary: res.summary } : {}) };
    if (!res.ok) {
      report.exitCode = 1;
      report.errors.push(...res.errors);
    }
    report.unchanged = res.ok && res.changes === 0;
    return;
  }

  if (plan.changes.length > 0) {
    // dnf's modules are loaded only when there is a transaction to run (a no-change run has none)
    const { prepareDnf, runTransaction, transactionComment } = await import('./dnf.js');
    const dnf = await prepareDnf(paths, file.kelkoo.repositories, options.dnf);
    const comment = transactionComment(report.node, file.kelkoo.revision);
    const log = join(paths.logsDir, 'dnf.log');
    progress?.(`dnf: one transaction of ${plan.changes.length} change${plan.changes.length === 1 ? '' : 's'}`);
    t = Date.now();
    const tx = await runTransaction(dnf, paths, plan.changes, comment, log);
    report.timings.transaction = Date.now() - t;
    report.packages.transaction = { status: tx.status, comment, log };
    const after = await installedVersions(paths, [...new Set([...wanted.map((w) => w.name), ...plan.changes.map((c) => c.name)])]);
    const problems = verifyInstalled(wanted, plan.changes.filter((c) => c.action === 'remove'), after);
    report.packages.verified = problems.length === 0;
    if (problems.length > 0 || tx.status !== 0) {
      report.leftAsItWas.push('configuration (Puppet not run)');
      throw new KpkgError('APPLY', `the dnf transaction ${tx.status !== 0 ? `failed (exit ${tx.status})` : 'did not do everything'}${problems.length > 0 ? `: ${problems.join('; ')}` : ''} (see ${log})`);
    }
  } else {
    report.packages.verified = true;
  }

  t = Date.now();
  let run;
  try {
    run = await preparePuppet(paths, file);
  } catch (e) {
    report.leftAsItWas.push('configuration (Puppet not run)');
    throw e;
  }
  progress?.(`puppet apply: ${classes.join(', ') || 'no classes'}`);
  const res = await applyPuppet(run, paths, { noop: false, consoleLog: join(paths.logsDir, 'puppet.log') });
  report.timings.puppet = Date.now() - t;
  report.puppet = { noop: false, classes, status: res.status, changes: res.changes, resources: res.resources, errors: res.errors, ...(res.summary ? { summary: res.summary } : {}) };
  if (!res.ok) {
    report.leftAsItWas.push(res.summary === undefined ? 'configuration (the catalog did not compile: nothing applied)' : 'configuration of the resources that failed');
    throw new KpkgError('APPLY', `puppet apply failed: ${res.errors.join('; ')}${plan.changes.length > 0 ? '; the packages are at their wanted versions' : ''}`);
  }
  report.unchanged = plan.changes.length === 0 && res.changes === 0;
}

/**
 * The planning of a run: what rpm says is installed, the plan, and the preflight (the wanted EVRs
 * are in the repositories: their metadata read directly when the file lists them, else dnf asked).
 * `unavailable` is the error naming the missing packages, if any. Changes nothing (asking dnf
 * writes Punch's dnf configuration).
 */
export async function planPackages(loaded: LoadedFile, options: Pick<RunOptions, 'paths' | 'dnf' | 'progress' | 'readRepositories'>): Promise<{ plan: PackagePlan; unavailable?: KpkgError }> {
  const { paths, progress } = options;
  const file = loaded.file;
  const wanted = file.kelkoo.packages;
  const { deployments, byName } = await installedForPlan(paths, wanted.map((w) => w.name));
  const plan = computePlan(wanted, mergeInstalled(deployments, byName));
  for (const c of plan.changes) progress?.(describeChange(c));
  const toInstall = plan.changes.filter((c) => c.action !== 'remove');
  if (toInstall.length === 0) return { plan };
  const repos = file.kelkoo.repositories;
  const { availableFromDnf, missingPackages, unavailableError } = await import('./preflight.js');
  const { prepareDnf } = await import('./dnf.js');
  let available: AvailablePackage[];
  try {
    // the file's repositories: their metadata, read directly (fast); the system's: only dnf knows them
    available =
      repos !== undefined && options.readRepositories !== undefined
        ? await options.readRepositories(repos)
        : await availableFromDnf(await prepareDnf(paths, repos, options.dnf), [...new Set(toInstall.map((c) => c.name))]);
  } catch (e) {
    if (e instanceof KpkgError && e.code === 'UNAVAILABLE') return { plan, unavailable: e };
    throw e;
  }
  const missing = missingPackages(toInstall, available);
  if (missing.length > 0) {
    const where = repos !== undefined ? `the repositories ${repos.map((r) => r.id).join(', ')}` : "the system's repositories";
    return { plan, unavailable: unavailableError(missing, where) };
  }
  return { plan };
}

/** The fields Geppetto stores of a report: status, count of changes, one line of summary, time. */
function summarize(report: RunReport): void {
  report.at = report.finished;
  report.changes = report.packages.changes.length + (report.puppet?.noop ? 0 : report.puppet?.changes ?? 0);
  report.status = report.exitCode !== 0 ? 'failed' : report.unchanged ? 'unchanged' : 'changed';
  const packages = report.packages.changes.map(describeChange).map((l) => l.replace(/\s+/g, ' '));
  const resources = report.puppet?.resources ?? [];
  const line =
    report.status === 'failed'
      ? `failed: ${report.errors.join('; ')}${report.leftAsItWas.length > 0 ? ` (left as it was: ${report.leftAsItWas.join(', ')})` : ''}`
      : report.status === 'unchanged'
        ? 'nothing to change'
        : [...packages, ...resources.map((r) => `changed ${r}`)].join('; ');
  report.summary = line.length > 65_536 ? `${line.slice(0, 65_533)}...` : line;
}

function mergeInstalled(a: readonly InstalledPackage[], b: Map<string, InstalledPackage[]>): InstalledPackage[] {
  const key = (p: InstalledPackage) => `${p.name}\0${p.epoch}\0${p.version}\0${p.release}\0${p.arch}`;
  const out = new Map<string, InstalledPackage>(a.map((p) => [key(p), p]));
  for (const list of b.values()) for (const p of list) out.set(key(p), p);
  return [...out.values()];
}
