/**
 * The production dependencies of a Node component, as npm would install them with
 * `npm ci --omit=dev`: read from package-lock.json (lockfileVersion 2 or 3), where npm marks the
 * packages only devDependencies need with `dev: true`. Nothing is downloaded: the files come from
 * the component's node_modules, which must be installed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KpkgError } from '../errors.js';

interface LockEntry {
  version?: string;
  dev?: boolean;
  link?: boolean;
  resolved?: string;
}

interface Lockfile {
  lockfileVersion?: number;
  packages?: Record<string, LockEntry>;
}

/** `node_modules/...` directories (relative to the component) to ship, sorted. */
export function productionPackages(componentDir: string, manifest: { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }): string[] {
  const declared = { ...(manifest.dependencies ?? {}), ...(manifest.optionalDependencies ?? {}) };
  const lockPath = join(componentDir, 'package-lock.json');
  if (!existsSync(lockPath)) {
    if (Object.keys(declared).length === 0) return [];
    throw new KpkgError('INVALID_INPUT', `${lockPath} is missing: run npm install so that the production dependencies can be told from the others`);
  }
  let lock: Lockfile;
  try {
    lock = JSON.parse(readFileSync(lockPath, 'utf8')) as Lockfile;
  } catch (e) {
    throw new KpkgError('INVALID_INPUT', `${lockPath} is not valid JSON (${(e as Error).message})`);
  }
  if (!lock.packages || (lock.lockfileVersion ?? 1) < 2) {
    throw new KpkgError('INVALID_INPUT', `${lockPath} has lockfileVersion ${lock.lockfileVersion ?? 1}; kpkg needs version 2 or 3 (npm 7 or newer): run npm install --lockfile-version 3`);
  }
  const out: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.startsWith('node_modules/') || entry.dev) continue;
    if (entry.link) {
      throw new KpkgError('INVALID_INPUT', `${path} is a linked package (workspace or file: dependency); kpkg packages installed dependencies only`);
    }
    const dir = join(componentDir, path);
    if (!existsSync(dir)) {
      // optional dependencies for other platforms are in the lock but not installed
      if ((entry as { optional?: boolean }).optional) continue;
      throw new KpkgError('INVALID_INPUT', `${dir} is missing: run npm ci before kpkg build`);
    }
    out.push(path);
  }
  return out.sort();
}
