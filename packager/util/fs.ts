/**
 * Durable writes: a file appears complete under its name or not at all, and survives a crash once
 * the call returns. Used wherever kpkg replaces a file that readers may be looking at.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readSync } from 'node:fs';
import { release } from 'node:os';
import { link, open, rename, rm, rmdir, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ioError } from '../errors.js';

/** A unique temporary name beside `path`, hidden and ending in .tmp (swept by the next publisher). */
export function tempName(path: string): string {
  const base = path.slice(dirname(path).length + 1);
  return join(dirname(path), `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes all of `data` at `position` (null: the current position). FileHandle.write may write
 * less than asked: write(2) does when the disk fills during the write, and fails only on the next.
 */
export async function writeAll(fh: FileHandle, data: Uint8Array, position: number | null = null): Promise<void> {
  for (let done = 0; done < data.byteLength; ) {
    done += (await fh.write(data, done, data.byteLength - done, position === null ? null : position + done)).bytesWritten;
  }
}

/**
 * What fsync of a directory fails with on a file system that cannot sync one: EINVAL (Linux, for
 * file systems with no fsync operation: procfs, some FUSE ones), ENOTSUP/EOPNOTSUPP (the same,
 * elsewhere), EISDIR (Windows, where a directory cannot be opened as a file). There the rename is
 * as durable as the file system makes it; any other error (EIO, ENOENT, EACCES) is a failure.
 */
const CANNOT_SYNC_DIR: ReadonlySet<string> = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR']);

/** Makes the directory's entries (a rename) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    if (!CANNOT_SYNC_DIR.has((e as NodeJS.ErrnoException).code ?? '')) throw ioError('sync the directory', dir, e);
  } finally {
    await fh?.close();
  }
}

/**
 * From this many files, syncFiles makes one syncfs(2) of the file system rather than an fsync per
 * file: on ext4 each fsync of a new file waits for its own journal commit (5,000 packages took
 * 5,000 fsyncs and 5.4 s), syncfs for one. Below, a process to start costs more than it saves, and
 * an fsync per file does not wait for other writers' data.
 */
export const SYNCFS_MIN_FILES = 32;

/**
 * Whether syncfs(2) here reports write-back errors: Linux 5.8 and later (before, it returned 0
 * whatever happened, so only fsync of each file can tell that data did not reach the disk).
 */
export function syncfsReportsErrors(platform = process.platform, kernel = release()): boolean {
  if (platform !== 'linux') return false;
  const m = /^(\d+)\.(\d+)/.exec(kernel);
  if (m === null) return false;
  const major = Number(m[1]);
  return major > 5 || (major === 5 && Number(m[2]) >= 8);
}

/**
 * Makes the data of `paths` (files written and closed, on one file system) durable. Many files:
 * one `sync --file-system` (coreutils: syncfs(2), which Node does not offer) of the file system
 * holding the first, where syncfs reports write-back errors; when that is not possible or fails,
 * an fsync per file, which reports the error of the file at fault. The price of syncfs: it also
 * waits for whatever else is dirty on that file system.
 */
export async function syncFiles(paths: readonly string[], concurrency = 8): Promise<void> {
  const first = paths[0];
  if (first === undefined) return;
  if (paths.length >= SYNCFS_MIN_FILES && syncfsReportsErrors() && (await syncFileSystem(first))) return;
  await eachLimit(paths, concurrency, (p) =>
    fsyncFile(p).catch((e: unknown) => {
      throw ioError('sync', p, e);
    }),
  );
}

/** syncfs(2) of the file system holding `path`, through coreutils' `sync -f`; false when it did not succeed. */
function syncFileSystem(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('sync', ['--file-system', '--', path], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });
}

/** Writes `data` to a new temporary file beside `path` and fsyncs it; returns its name. */
export async function writeTemp(path: string, data: string | Uint8Array): Promise<string> {
  const tmp = tempName(path);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    await rm(tmp, { force: true });
    throw ioError('write', path, e);
  }
  return tmp;
}

/**
 * Replaces `path` with `data` atomically: fsynced temporary file, rename, then (unless the caller
 * syncs the directory once for several files) an fsync of the directory.
 */
export async function writeDurable(path: string, data: string | Uint8Array, options: { syncDir?: boolean } = {}): Promise<void> {
  const tmp = await writeTemp(path, data);
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw ioError('write', path, e);
  }
  if (options.syncDir ?? true) await fsyncDir(dirname(path));
}

/** Files about to be replaced, kept under a second name (a hard link) to put them back. */
export interface SetAside {
  /** Puts every file back as it was; one that did not exist is removed. */
  restore(): Promise<void>;
  /** Forgets the kept files (the replacement stands). */
  discard(): Promise<void>;
}

/**
 * Keeps each of `paths` as it is now, by a hard link under a temporary name (no data is copied, so
 * this works on a full disk as far as the directory has room), for an operation that may fail
 * after replacing some of them.
 */
export async function setAside(paths: readonly string[]): Promise<SetAside> {
  const kept: { path: string; copy?: string }[] = [];
  const discard = async () => {
    for (const k of kept) if (k.copy) await unlink(k.copy).catch(() => undefined);
  };
  try {
    for (const path of paths) {
      const copy = tempName(path);
      try {
        await link(path, copy);
        kept.push({ path, copy });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('write', path, e);
        kept.push({ path });
      }
    }
  } catch (e) {
    await discard();
    throw e;
  }
  return {
    async restore() {
      for (const k of kept) {
        if (k.copy) {
          await rename(k.copy, k.path).catch(() => undefined);
          // a rename between two links of one file does nothing: the file was not replaced
          await unlink(k.copy).catch(() => undefined);
        } else {
          await rm(k.path, { force: true }).catch(() => undefined);
        }
      }
    },
    discard,
  };
}

/**
 * Renames each `from` to its `to`: all of them, or (an error) none, the files they replaced put
 * back. With `syncDirs`, each directory renamed into is fsynced before the old files are let go,
 * so that a failed fsync puts them back too. The caller removes the `from` files left.
 */
export async function renameAll(moves: readonly (readonly [from: string, to: string])[], options: { syncDirs?: boolean } = {}): Promise<void> {
  const aside = await setAside(moves.map(([, to]) => to));
  try {
    for (const [from, to] of moves) {
      await rename(from, to).catch((e: unknown) => {
        throw ioError('write', to, e);
      });
    }
    if (options.syncDirs) for (const dir of new Set(moves.map(([, to]) => dirname(to)))) await fsyncDir(dir);
  } catch (e) {
    await aside.restore();
    throw e;
  }
  await aside.discard();
}

/**
 * Removes the directories that `mkdir(leaf, { recursive: true })` created (it returned `first`),
 * deepest first, as far as they are empty: what a failed run leaves of the directories it made.
 */
export async function removeCreatedDirs(leaf: string, first: string | undefined): Promise<void> {
  if (first === undefined) return;
  for (let dir = leaf; dir.length >= first.length; dir = dirname(dir)) {
    if (!(await rmdir(dir).then(() => true, () => false))) return;
    if (dir === first) return;
  }
}

/**
 * Waits for all of `tasks`, then throws the first failure: unlike Promise.all, nothing is still
 * writing when the caller cleans up after the error.
 */
export async function settled<T>(tasks: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/**
 * Runs `fn` on every item, at most `limit` at once. On a failure no new item is started, the
 * ones running are waited for (nothing is still writing when the caller cleans up), and the
 * first failure is thrown.
 */
export async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { reason: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        await fn(items[i] as T, i);
      } catch (e) {
        failure ??= { reason: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure.reason;
}

/** fsyncs the file `path` (opened for writing: some systems refuse fsync on a read-only descriptor). */
export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Gives `path` the access and modification times of `from`, as `cp -p`. From the times in
 * milliseconds: Stats' Date fields are rounded to the millisecond, which can carry a time of
 * N.9996 s into the next second (the file time a repository record shows, in whole seconds).
 */
export async function copyTimes(from: { atimeMs: number; mtimeMs: number }, path: string): Promise<void> {
  await utimes(path, from.atimeMs / 1000, from.mtimeMs / 1000);
}

/**
 * Reads `length` bytes of `fd` into `buf` at `offset`, from `position` (null: the file's own
 * position), in as many reads as it takes; fewer only at the end of the file. Returns the count.
 */
export function readFully(fd: number, buf: Buffer, offset: number, length: number, position: number | null): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, offset + done, length - done, position === null ? null : position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
