/**
 * kpkg's record of a repository, `.kpkg/state.json`: the published packages, the segments holding
 * their metadata (store.ts), what repomd.xml lists, and the files awaiting deletion. Saved
 * atomically, before repomd.xml, under the lock (lock.ts, session.ts).
 */
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { KpkgError, ioError } from '../errors.js';
import { writeDurable } from '../util/fs.js';
import type { MetadataCompression, MetadataFileInfo } from './metadata.js';
import type { RepoPackage } from './types.js';

export const STATE_FORMAT = 1;

/** One published package as the state remembers it: enough to refuse, prune and locate. */
export interface StoredPackage {
  pkgid: string;
  href: string;
  name: string;
  epoch: string;
  version: string;
  release: string;
  arch: string;
  size: number;
  segment: string;
}

export interface SegmentRef {
  id: string;
  count: number;
  compress: MetadataCompression;
}

export interface PendingDeletion {
  /** Relative to the repository root. */
  path: string;
  /** Milliseconds since the epoch: when it stopped being referenced. */
  since: number;
}

export interface RepoState {
  format: typeof STATE_FORMAT;
  compress: MetadataCompression;
  packages: StoredPackage[];
  segments: SegmentRef[];
  /** What repomd.xml lists (and must list) for this state. */
  metadata: MetadataFileInfo[];
  revision: number;
  pending: PendingDeletion[];
}

export function kpkgDir(repo: string): string {
  return join(repo, '.kpkg');
}
/**
 * Where publish writes the packages it reads (read.ts Candidate.staged) before renaming them into
 * place: inside the repository (same file system, so a rename), swept by the next holder of the lock.
 */
export function incomingDir(repo: string): string {
  return join(repo, '.kpkg', 'incoming');
}
export function segmentsDir(repo: string): string {
  return join(repo, '.kpkg', 'segments');
}
export function statePath(repo: string): string {
  return join(repo, '.kpkg', 'state.json');
}

export function emptyState(compress: MetadataCompression = 'gzip'): RepoState {
  return { format: STATE_FORMAT, compress, packages: [], segments: [], metadata: [], revision: 0, pending: [] };
}

/** The state of `repo`, undefined when kpkg has never published there. */
export async function loadState(repo: string): Promise<RepoState | undefined> {
  const path = statePath(repo);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('read', path, e);
  }
  let state: RepoState;
  try {
    state = JSON.parse(text) as RepoState;
  } catch (e) {
    throw new KpkgError('IO', `${path} is not valid JSON: ${(e as Error).message} (run kpkg repo index to rebuild it)`, { cause: e });
  }
  if (state.format !== STATE_FORMAT) throw new KpkgError('IO', `${path}: unknown format ${String(state.format)} (written by another kpkg version?)`);
  return state;
}

export function nevraKey(p: Pick<StoredPackage, 'name' | 'epoch' | 'version' | 'release' | 'arch'>): string {
  return `${p.name}-${p.epoch === '0' || p.epoch === '' ? '' : `${p.epoch}:`}${p.version}-${p.release}.${p.arch}`;
}

export function storedPackage(rec: RepoPackage, segment: string): StoredPackage {
  return { pkgid: rec.pkgid, href: rec.href, name: rec.name, epoch: rec.epoch, version: rec.version, release: rec.release, arch: rec.arch, size: rec.sizePackage, segment };
}

export async function saveState(repo: string, state: RepoState): Promise<void> {
  await writeDurable(statePath(repo), `${JSON.stringify(state)}\n`);
}

/** Removes temporary files left by killed publishers (call with the lock held). */
export async function removeTemporaries(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    await Promise.all(names.filter((n) => n.startsWith('.') && n.endsWith('.tmp')).map((n) => unlink(join(dir, n)).catch(() => undefined)));
  }
}
