/**
 * What Punch remembers under <root>/var/lib/punch: the file last applied with success and the one
 * before it (rollback), the last run, the last file fetched from Geppetto with its ETag, and the
 * reports of the last runs. Every write goes to a temporary name, then rename: a run killed at any
 * point leaves the previous state whole.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError } from '../packager/errors.js';
import type { LoadedFile } from './file.js';
import type { PunchPaths } from './paths.js';

export interface AppliedRecord {
  revision?: number;
  node: string;
  sha256: string;
  source: string;
  at: string;
}

export interface PunchState {
  applied?: AppliedRecord;
  previous?: AppliedRecord;
  lastRun?: { at: string; command: string; exitCode: number; revision?: number; sha256?: string; report?: string };
}

/** How many reports are kept. */
export const KEEP_REPORTS = 50;

export async function writeAtomic(path: string, text: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text, { mode });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw ioError('write', path, e);
  }
}

export async function ensureStateDir(paths: PunchPaths): Promise<void> {
  try {
    await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
    await mkdir(paths.reportsDir, { recursive: true, mode: 0o700 });
    await mkdir(paths.logsDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw ioError('create', paths.stateDir, e);
  }
}

export async function readState(paths: PunchPaths): Promise<PunchState> {
  try {
    return JSON.parse(await readFile(paths.stateFile, 'utf8')) as PunchState;
  } catch {
    return {};
  }
}

export async function writeState(paths: PunchPaths, state: PunchState): Promise<void> {
  await writeAtomic(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

/** Records a successful run of `loaded`: it becomes the applied file, the applied one the previous (when they differ). */
export async function recordApplied(paths: PunchPaths, state: PunchState, loaded: LoadedFile, node: string): Promise<PunchState> {
  const record: AppliedRecord = {
    node,
    sha256: loaded.sha256,
    source: loaded.source,
    at: new Date().toISOString(),
    ...(loaded.file.kelkoo.revision !== undefined ? { revision: loaded.file.kelkoo.revision } : {}),
  };
  const next: PunchState = { ...state };
  if (state.applied !== undefined && state.applied.sha256 !== loaded.sha256) {
    const appliedText = await readFile(paths.appliedFile, 'utf8').catch(() => undefined);
    if (appliedText !== undefined) {
      await writeAtomic(paths.previousFile, appliedText);
      next.previous = state.applied;
    }
  }
  await writeAtomic(paths.appliedFile, loaded.text);
  next.applied = record;
  return next;
}

/** Keeps a report as reports/<time>.json; returns its path. Older reports beyond KEEP_REPORTS go. */
export async function saveReport(paths: PunchPaths, report: object): Promise<string> {
  const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.json`;
  const path = join(paths.reportsDir, name);
  await writeAtomic(path, `${JSON.stringify(report, null, 2)}\n`);
  await writeAtomic(join(paths.stateDir, 'last-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const all = (await readdir(paths.reportsDir).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).sort();
  for (const old of all.slice(0, Math.max(0, all.length - KEEP_REPORTS))) await rm(join(paths.reportsDir, old), { force: true });
  return path;
}
