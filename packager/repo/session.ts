/**
 * A session on a repository, which `kpkg publish`, `kpkg repo index` and `kpkg repo prune` each
 * run in: the lock, the state, the undo of a failed run, and the commit of new metadata.
 *
 * Layout: packages under `Packages/<first letter>/<name>-<version>-<release>.<arch>.rpm` (the
 * Fedora/EL layout; createrepo_c finds them there too), metadata in `repodata/`, kpkg's own
 * state in `.kpkg/` (store.ts).
 *
 * Guarantees, and how:
 *  - one publisher at a time: every command holds `.kpkg/lock` (lock.ts) from reading the state to
 *    the last write;
 *  - published packages are immutable: a package whose file name or NEVRA is published with other
 *    bytes is refused (PACKAGE_CONFLICT, exit 2) before anything is written; the same bytes again
 *    change nothing;
 *  - readers never see a missing or mismatched file, and a publisher killed at any moment leaves a
 *    valid repository, by the order of the writes: the packages are copied to temporary names in
 *    `.kpkg/` (publish writes the bytes it read and checked), made durable all at once (one
 *    syncfs for a large batch, else an fsync each), renamed into place, their directories fsynced
 *    (copyIn); meanwhile (publish), or then, the new metadata files, under new (checksum) names
 *    beside the old ones, which nothing names yet; once both are done, `.kpkg/state.json`; then
 *    `repomd.xml`, by one rename of an fsynced temporary file, followed by an fsync of the
 *    directory. Files that the new repomd.xml no longer lists (old metadata, pruned packages)
 *    are deleted by a later run once they have been unlisted for the grace period (15 minutes by
 *    default), so a reader holding the previous repomd.xml still finds everything it names. A run
 *    killed before its repomd.xml rename left only files no repomd.xml names (removed later) and a
 *    state that the next run completes.
 */
import { renameSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { inputError, ioError, KpkgError } from '../errors.js';
import type { SigningKey } from '../sign/openpgp.js';
import { plural, type Progress } from '../util/progress.js';
import { copyTimes, eachLimit, fsyncDir, removeCreatedDirs, settled, syncFiles, tempName, writeDurable } from '../util/fs.js';
import { acquireLock, type Lock } from './lock.js';
import { METADATA_TYPES, renderRepomd, type MetadataCompression } from './metadata.js';
import { compact, readSegmentEntries, removeUnusedSegments, writeMetadataFromSegments, SegmentCache } from './store.js';
import { emptyState, incomingDir, kpkgDir, loadState, removeTemporaries, saveState, segmentsDir, type RepoState, type SegmentRef, type StoredPackage } from './state.js';
import { prepareUndo, type Undo } from './undo.js';

// signing (signing.ts) loads openpgp.js: only when a key is given or the repository is signed
export const signing = () => import('./signing.js');

export const DEFAULT_GRACE_MS = 15 * 60_000;
export const DEFAULT_LOCK_TIMEOUT_MS = 300_000;

export interface RepoOptions {
  /** Metadata compression; default: what the repository uses, else gzip. */
  compress?: MetadataCompression;
  /** How long unlisted files stay for readers of the previous repomd.xml (default 15 minutes). */
  graceMs?: number;
  /** How long to wait for another publisher (default 5 minutes). */
  lockTimeoutMs?: number;
  /** Progress (a status line on a terminal) and notes (waiting for the lock, a signature removed). */
  progress?: Progress;
  /** Packages read at once (default 8). */
  concurrency?: number;
  /**
   * Threads reading many packages (default: one per core, at most 4, with 4 cores or more; else
   * 1, this thread). The metadata bytes are the same whatever the number.
   */
  threads?: number;
  /**
   * Signs packages that arrive unsigned (a copy, never the caller's file) and repodata/repomd.xml
   * (repomd.xml.asc, repomd.xml.key): see signing.ts.
   */
  signKey?: SigningKey;
}

export interface PublishResult {
  repo: string;
  /** Packages copied in, relative paths. */
  added: string[];
  /** Packages given that were already published with the same bytes. */
  unchanged: string[];
  /** Packages removed from the metadata (prune). */
  removed: string[];
  /** Whether repodata/ was rewritten. */
  metadataWritten: boolean;
  packages: number;
}

export interface Session {
  repo: string;
  /** The segment files this command wrote, read back from memory by commit. */
  segmentCache: SegmentCache;
  lock: Lock;
  state: RepoState;
  options: RepoOptions;
  undo: Undo;
}

/**
 * Refuses a repository directory that does not exist, for the commands that work on what is there
 * (index, prune), as createrepo_c does; only publish makes a new repository.
 */
export async function assertRepositoryDir(repo: string, command: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(repo)).isDirectory();
  } catch (e) {
    throw inputError(`read the repository directory`, repo, e);
  }
  if (!isDir) throw new KpkgError('INVALID_INPUT', `${command}: ${repo} is not a directory`);
}

export async function withRepository<T>(repo: string, what: string, options: RepoOptions, fn: (s: Session) => Promise<T>): Promise<T> {
  // what a failed run leaves of the directories it made: nothing
  const created: [string, string | undefined][] = [];
  const removeCreated = async () => {
    for (const [dir, first] of created.reverse()) await removeCreatedDirs(dir, first);
  };
  try {
    for (const dir of [segmentsDir(repo), join(repo, 'repodata')]) created.push([dir, await mkdir(dir, { recursive: true })]);
  } catch (e) {
    await removeCreated();
    throw ioError('create', repo, e);
  }
  let lock: Lock;
  try {
    lock = await acquireLock(join(kpkgDir(repo), 'lock'), {
      timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      what,
      onWait: (o) => options.progress?.note(`waiting for the publisher holding ${repo}${o ? ` (pid ${o.pid} on ${o.host})` : ''}`),
    });
  } catch (e) {
    await removeCreated();
    throw e;
  }
  let done = false;
  try {
    // we hold the lock: any temporary file is from a publisher that was killed (packages are
    // copied to temporary files in .kpkg/, so Packages/ need not be read)
    await removeTemporaries([kpkgDir(repo), segmentsDir(repo), join(repo, 'repodata')]);
    await rm(incomingDir(repo), { recursive: true, force: true }).catch((e: unknown) => {
      throw ioError('remove', incomingDir(repo), e);
    });
    // a run that fails leaves the repository as it found it (undo.ts)
    const undo = await prepareUndo(repo);
    try {
      const state = (await loadState(repo)) ?? emptyState(options.compress ?? 'gzip');
      const result = await fn({ repo, lock, state, options, undo, segmentCache: new SegmentCache() });
      done = true;
      return result;
    } finally {
      if (done) await undo.forget();
      else if (await lock.assertHeld().then(() => true, () => false)) await undo.undo();
    }
  } finally {
    await lock.release();
    if (!done) await removeCreated();
  }
}

/** Whether repodata/repomd.xml is what the state says it should be. */
export async function repomdCurrent(repo: string, state: RepoState): Promise<boolean> {
  if (state.metadata.length === 0) return false;
  try {
    const text = await readFile(join(repo, 'repodata', 'repomd.xml'), 'utf8');
    if (text !== renderRepomd(state.metadata, state.revision)) return false;
    for (const m of state.metadata) await stat(join(repo, m.href));
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes the metadata for `packages` in `segments`, the state, then repomd.xml; then deletes what
 * has been unlisted for longer than the grace period. `placed`, when given, is the copy of the new
 * packages into the repository (copyIn), under way meanwhile: the metadata files are written while
 * it runs (no repomd.xml names them yet), and the state and repomd.xml, which name the packages,
 * only once it has succeeded.
 */
export async function commit(s: Session, packages: StoredPackage[], segments: SegmentRef[], unlisted: string[] = [], placed?: Promise<void>): Promise<RepoState> {
  const { repo, options } = s;
  const compress = options.compress ?? s.state.compress;
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const merged = await compact(repo, compress, segments);
  // the segment a package is in, after merging (only the segments merging made are read)
  const before = new Set(segments.map((seg) => seg.id));
  const segOf = new Map<string, string>();
  for (const seg of merged) {
    if (before.has(seg.id)) continue;
    for (const e of await readSegmentEntries(repo, seg.id)) segOf.set(e.pkgid, seg.id);
  }
  const pkgs = packages.map((p) => ({ ...p, segment: segOf.get(p.pkgid) ?? p.segment })).sort((a, b) => (a.href < b.href ? -1 : a.href > b.href ? 1 : 0));
  options.progress?.status(`writing the metadata of ${plural(pkgs.length, 'package')}`);
  const metadata = await settled(METADATA_TYPES.map((type) => writeMetadataFromSegments(repo, compress, merged, type, s.segmentCache)));
  await fsyncDir(join(repo, 'repodata'));
  // nothing below may name a package that is not safely in place
  await placed;

  const now = Date.now();
  const listed = new Set<string>([...metadata.map((m) => m.href), ...pkgs.map((p) => p.href)]);
  const pending = new Map<string, number>();
  for (const p of s.state.pending) if (!listed.has(p.path)) pending.set(p.path, p.since);
  for (const p of unlisted) if (!listed.has(p) && !pending.has(p)) pending.set(p, now);
  // every file of repodata/ the new repomd.xml does not list: old metadata, or written by a
  // publisher killed before its repomd.xml
  for (const name of await readdir(join(repo, 'repodata'))) {
    const path = `repodata/${name}`;
    if (name.startsWith('.') || name === 'repomd.xml' || name === 'repomd.xml.asc' || name === 'repomd.xml.key' || listed.has(path) || pending.has(path)) continue;
    pending.set(path, now);
  }
  const expired = [...pending].filter(([, since]) => now - since >= graceMs).map(([path]) => path);
  for (const p of expired) pending.delete(p);

  const revision = Math.max(Math.floor(now / 1000), s.state.revision + 1);
  const state: RepoState = {
    format: s.state.format,
    compress,
    packages: pkgs,
    segments: merged,
    metadata,
    revision,
    pending: [...pending].map(([path, since]) => ({ path, since })).sort((a, b) => (a.path < b.path ? -1 : 1)),
  };
  await s.lock.assertHeld();
  await saveState(repo, state);
  const repomd = renderRepomd(metadata, revision);
  // signed before repomd.xml is replaced; the signature renamed in right after it (signing.ts)
  const signature = options.signKey ? await (await signing()).prepareRepomdSignature(repo, repomd, options.signKey, true) : undefined;
  await s.lock.assertHeld().catch(async (e: unknown) => {
    await signature?.abandon();
    throw e;
  });
  if (signature) await signature.install(); // repomd.xml, then repomd.xml.asc
  else {
    await writeDurable(join(repo, 'repodata', 'repomd.xml'), repomd);
    // index or prune of a signed repository (publish refuses without the key): the signature no
    // longer matches it, and a signature that fails misleads more than none; the next publish
    // --sign-key signs again
    const asc = join(repo, 'repodata', 'repomd.xml.asc');
    if (await stat(asc).then(() => true, () => false)) {
      await rm(asc, { force: true });
      options.progress?.note(`repodata/repomd.xml.asc removed: it signed the previous repomd.xml (sign again with --sign-key)`);
    }
  }

  for (const p of expired) await rm(join(repo, p), { force: true }).catch(() => undefined);
  await removeUnusedSegments(repo, merged);
  s.state = state;
  return state;
}

/**
 * Deletes what has been unlisted for longer than the grace period, without touching the
 * metadata (a run that had nothing else to do).
 */
export async function collectGarbage(s: Session): Promise<void> {
  const now = Date.now();
  const graceMs = s.options.graceMs ?? DEFAULT_GRACE_MS;
  const expired = s.state.pending.filter((p) => now - p.since >= graceMs);
  if (expired.length === 0) return;
  const state: RepoState = { ...s.state, pending: s.state.pending.filter((p) => now - p.since < graceMs) };
  await s.lock.assertHeld();
  await saveState(s.repo, state);
  for (const p of expired) await rm(join(s.repo, p.path), { force: true }).catch(() => undefined);
  s.state = state;
}

/**
 * A package to copy into the repository: the file, and its place (relative path); `staged`, when
 * its bytes are already in a temporary file of the repository (read.ts Candidate.staged).
 */
export interface CopyItem {
  from: string;
  href: string;
  staged?: string;
}

/** Files copied at once: enough to keep libuv's 4 threads and the disk's queue busy. */
const COPY_CONCURRENCY = 8;

/**
 * Copies every item into the repository at its href, durably, paying for durability once per
 * run rather than per package: each file not staged yet is copied to a temporary name in `.kpkg/`
 * (where a killed publisher's leftovers are swept), with the source's times; then all temporary
 * files are made durable together (syncFiles: one syncfs for many, else an fsync each, several
 * at once so the file system commits them together); then all are renamed into place and each
 * directory touched is fsynced once (with the parents of directories this run made). Only then
 * may metadata name them (commit): nothing is listed that is not on disk. `progress` is told
 * each file copied.
 */
export async function copyIn(s: Session, items: readonly CopyItem[], progress?: (copied: number) => void): Promise<void> {
  // each directory's path made once (join normalises: a few microseconds a call, per package)
  const dirs = new Map<string, string>(); // the directory part of an href -> its path
  const targets = items.map(({ from, href, staged }) => {
    const slash = href.lastIndexOf('/');
    const rel = href.slice(0, Math.max(0, slash));
    let dir = dirs.get(rel);
    if (dir === undefined) dirs.set(rel, (dir = join(s.repo, ...rel.split('/'))));
    const name = href.slice(slash + 1);
    const to = `${dir}${sep}${name}`;
    return { from, to, tmp: staged ?? tempName(join(kpkgDir(s.repo), name)), copy: staged === undefined };
  });
  const syncDirs = new Set<string>();
  // what is there already (a file left by a run killed before its commit): one listing per
  // directory rather than a stat per package
  const present = new Set<string>();
  for (const dir of dirs.values()) {
    syncDirs.add(dir);
    const first = await mkdir(dir, { recursive: true }).catch((e: unknown) => {
      throw ioError('create', dir, e);
    });
    if (first === undefined) {
      const names = await readdir(dir).catch((e: unknown) => {
        throw ioError('read', dir, e);
      });
      for (const name of names) present.add(`${dir}${sep}${name}`);
    } else {
      // a directory made here: its entry, and those of the directories above it made here, too
      for (let d = dir; d !== dirname(first) && d !== dirname(d); d = dirname(d)) syncDirs.add(dirname(d));
    }
  }
  const made: string[] = [];
  const toCopy = targets.filter((t) => t.copy);
  let copied = targets.length - toCopy.length; // staged already
  if (copied > 0) progress?.(copied);
  try {
    await eachLimit(toCopy, COPY_CONCURRENCY, async (t) => {
      made.push(t.tmp);
      await copyFile(t.from, t.tmp)
        // keep the source's mtime: the record's file time, as `cp -p`
        .then(async () => copyTimes(await stat(t.from), t.tmp))
        .catch((e: unknown) => {
          throw ioError('copy into the repository', t.to, e);
        });
      progress?.(++copied);
    });
    // all written before any is synced: the kernel writes them back together
    await syncFiles(targets.map((t) => t.tmp));
    // renames are quick metadata operations: one after the other, without a thread-pool round
    // trip each
    for (const t of targets) {
      if (!present.has(t.to)) s.undo.creating(t.to);
      try {
        renameSync(t.tmp, t.to);
      } catch (e) {
        throw ioError('copy into the repository', t.to, e);
      }
    }
  } catch (e) {
    await Promise.all(made.map((tmp) => rm(tmp, { force: true })));
    throw e;
  }
  // deepest first: a new directory's own entries before its entry in its parent
  for (const dir of [...syncDirs].sort((a, b) => b.length - a.length)) await fsyncDir(dir);
}
