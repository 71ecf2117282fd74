/**
 * Where Punch keeps things, all under the root it works on (`/`, or `--root DIR`): its state and
 * reports in <root>/var/lib/punch, the dnf configuration it writes, the Puppet environment it
 * generates, and the modules the deployment packages install.
 */
import { join, resolve } from 'node:path';

export interface PunchPaths {
  /** `/` or the absolute `--root`. */
  root: string;
  /** True with `--root`: packages and configuration go into an image root, not this system. */
  confined: boolean;
  stateDir: string;
  lock: string;
  /** The state of the last runs (applied and previous files, last run). */
  stateFile: string;
  /** The file of the last successful run, and the one before it (for rollback). */
  appliedFile: string;
  previousFile: string;
  reportsDir: string;
  /** What a killed run left running (dnf, puppet): the next run waits for it. */
  childFile: string;
  logsDir: string;
  dnfDir: string;
  puppetDir: string;
  /** What Punch keeps of each repository's primary between runs (punch/repositories.ts). */
  repoCacheDir: string;
  /** Where deployment packages install their Puppet modules. */
  modulesDir: string;
}

/** The modules' directory inside a root (the deployment packages put each module there). */
export const MODULES_DIR = '/etc/puppetlabs/code/modules';
export const CONFIG_FILE = '/etc/punch/punch.conf';

export function punchPaths(root?: string): PunchPaths {
  const r = root === undefined ? '/' : resolve(root);
  const stateDir = join(r, 'var/lib/punch');
  return {
    root: r,
    confined: root !== undefined,
    stateDir,
    lock: join(stateDir, 'punch.lock'),
    stateFile: join(stateDir, 'state.json'),
    appliedFile: join(stateDir, 'applied.yaml'),
    previousFile: join(stateDir, 'previous.yaml'),
    reportsDir: join(stateDir, 'reports'),
    childFile: join(stateDir, 'child.json'),
    logsDir: join(stateDir, 'logs'),
    dnfDir: join(stateDir, 'dnf'),
    puppetDir: join(stateDir, 'puppet'),
    repoCacheDir: join(stateDir, 'cache', 'repos'),
    modulesDir: join(r, MODULES_DIR),
  };
}

/** `path` (absolute, as on the booted system) inside the root. */
export function inRoot(paths: PunchPaths, path: string): string {
  return paths.confined ? join(paths.root, path) : path;
}
