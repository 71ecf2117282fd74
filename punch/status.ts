/** `punch status`: the file applied last (wanted) against what rpm says is installed, and the last run. */
import { readFile } from 'node:fs/promises';
import { parseNodeFile } from './file.js';
import type { PunchPaths } from './paths.js';
import { computePlan, type PackageChange } from './plan.js';
import { evrOf, installedForPlan } from './rpm.js';
import { readState, type PunchState } from './state.js';

export interface StatusReport {
  root: string;
  applied?: PunchState['applied'];
  previous?: PunchState['previous'];
  lastRun?: PunchState['lastRun'];
  packages: { name: string; wanted?: string; installed: string[] }[];
  /** What a run of the applied file would change in packages (empty: they match). */
  drift: PackageChange[];
  /** Packages match the applied file (the configuration is Puppet's to check: `punch plan`). */
  matches: boolean;
}

export async function punchStatus(paths: PunchPaths): Promise<StatusReport> {
  const state = await readState(paths);
  const text = await readFile(paths.appliedFile, 'utf8').catch(() => undefined);
  const wanted = text !== undefined ? parseNodeFile(text, paths.appliedFile).file.kelkoo.packages : [];
  const { deployments, byName: wantedNow } = await installedForPlan(paths, wanted.map((w) => w.name));
  const installed = [...deployments, ...[...wantedNow.values()].flat().filter((p) => !deployments.some((d) => d.name === p.name && evrOf(d) === evrOf(p)))];
  const names = [...new Set([...wanted.map((w) => w.name), ...installed.map((p) => p.name)])].sort();
  const packages = names.map((name) => {
    const w = wanted.find((x) => x.name === name);
    return { name, ...(w ? { wanted: w.evr } : {}), installed: installed.filter((p) => p.name === name).map(evrOf) };
  });
  const drift = text !== undefined ? computePlan(wanted, installed).changes : [];
  return {
    root: paths.root,
    ...(state.applied ? { applied: state.applied } : {}),
    ...(state.previous ? { previous: state.previous } : {}),
    ...(state.lastRun ? { lastRun: state.lastRun } : {}),
    packages,
    drift,
    matches: text !== undefined && drift.length === 0,
  };
}
