/**
 * The repository lock: one publisher at a time, the others wait their turn.
 *
 * A lock file created with O_CREAT|O_EXCL (`open(path, 'wx')`), holding who owns it (host, pid,
 * the process's start time, a random token, when). No dependency, no flock: O_EXCL is atomic on
 * every local file system and on NFSv3+, flock is not honoured everywhere a repository may live.
 *
 * Stale locks: a holder killed with -9 leaves its file behind. A waiter reads it and breaks it when
 *  - the owner ran on this host and its pid is gone (`process.kill(pid, 0)` fails with ESRCH), or
 *    the pid is alive but is another process (its start time in /proc differs: pid reuse);
 *  - the owner ran on another host and the file has not been touched for `staleMs` (the holder
 *    touches it every `staleMs / 4`).
 * Breaking is done by one waiter at a time, under a guard file: it reads the lock again and
 * removes it only if it is still the stale lock it judged (breakLock). (Renaming the lock aside
 * and putting back a live one taken meanwhile left a moment with no lock file, in which a third
 * waiter could take it: two holders.) The holder also checks its token before committing
 * (`assertHeld`), so a lock lost anyway fails the run instead of letting two publishers write.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { KpkgError, ioError } from '../errors.js';

export interface LockOwner {
  host: string;
  pid: number;
  /** The owner's start time in clock ticks since boot (/proc/<pid>/stat field 22), when known. */
  start?: number;
  token: string;
  /** Milliseconds since the epoch. */
  since: number;
  /** What the owner is doing, for the message of a waiter that times out. */
  what?: string;
}

export interface LockOptions {
  /** Give up after this many milliseconds (default 300,000: a big publish takes a while). */
  timeoutMs?: number;
  /** A lock of another host untouched for this long is stale (default 60,000). */
  staleMs?: number;
  /** Recorded in the lock file. */
  what?: string;
  /** What the lock guards, for messages (default "the repository"). */
  subject?: string;
  /** Called once when the lock is busy, with its owner. */
  onWait?: (owner: LockOwner | undefined) => void;
}

export interface Lock {
  readonly path: string;
  readonly owner: LockOwner;
  /** Throws KpkgError('IO') unless the lock file is still ours. */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

/** The start time of process `pid` (Linux), undefined elsewhere or when it is gone. */
export function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // the command name (field 2) may contain spaces and parentheses: count from the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]); // field 22 overall
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

const HOST = hostname();

/** Whether the owner recorded in a lock file is certainly gone. */
export function ownerIsDead(owner: LockOwner, mtimeMs: number, staleMs: number, now = Date.now()): boolean {
  if (owner.host !== HOST) return now - mtimeMs > staleMs;
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    // EPERM: alive, someone else's
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
  if (owner.start !== undefined) {
    const start = processStart(owner.pid);
    if (start !== undefined && start !== owner.start) return true;
  }
  return false;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as LockOwner;
    return typeof o.pid === 'number' && typeof o.token === 'string' && typeof o.host === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Takes the lock at `path`, waiting (polling with backoff) while a live publisher holds it.
 * Throws KpkgError('LOCK_TIMEOUT') after `timeoutMs`.
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<Lock> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const staleMs = options.staleMs ?? 60_000;
  const start = processStart(process.pid);
  const owner: LockOwner = {
    host: HOST,
    pid: process.pid,
    ...(start !== undefined ? { start } : {}),
    token: randomBytes(12).toString('hex'),
    since: Date.now(),
    ...(options.what ? { what: options.what } : {}),
  };
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  let waited = false;
  let lastOwner: LockOwner | undefined;
  // an unreadable lock file (being written, or garbage from a crash during its write) is broken
  // once it has stayed unreadable for a while
  let unreadableSince: number | undefined;
  for (;;) {
    if (await tryCreate(path, owner)) break;
    let text: string;
    let mtimeMs: number;
    try {
      text = await readFile(path, 'utf8');
      mtimeMs = (await stat(path)).mtimeMs;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
      throw ioError('read the lock', path, e);
    }
    const current = parseOwner(text);
    lastOwner = current;
    if (current === undefined) {
      unreadableSince ??= Date.now();
      if (Date.now() - unreadableSince > 2_000) {
        await breakLock(path, text);
        unreadableSince = undefined;
        continue;
      }
    } else {
      unreadableSince = undefined;
      if (ownerIsDead(current, mtimeMs, staleMs)) {
        await breakLock(path, text);
        continue;
      }
    }
    if (!waited) {
      waited = true;
      options.onWait?.(current);
    }
    if (Date.now() >= deadline) {
      const who = lastOwner ? `process ${lastOwner.pid} on ${lastOwner.host}${lastOwner.what ? ` (${lastOwner.what})` : ''}, since ${new Date(lastOwner.since).toISOString()}` : 'another process';
      throw new KpkgError('LOCK_TIMEOUT', `${options.subject ?? 'the repository'} is locked by ${who}: gave up after ${Math.round(timeoutMs / 1000)} s (lock file ${path})`);
    }
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
    delay = Math.min(delay * 2, 500);
  }

  const subject = options.subject ?? 'the repository';
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, Math.max(1000, staleMs / 4));
  heartbeat.unref();
  let released = false;
  return {
    path,
    owner,
    async assertHeld() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (e) {
        throw new KpkgError('IO', `lost the lock of ${subject} (${path}): ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
      }
      if (parseOwner(text)?.token !== owner.token) throw new KpkgError('IO', `lost the lock of ${subject} (${path}): another process took it`);
    },
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      try {
        const text = await readFile(path, 'utf8');
        if (parseOwner(text)?.token === owner.token) await unlink(path);
      } catch {
        // already gone: nothing to release
      }
    },
  };
}

/** Creates the lock file with our owner record; false when it exists. */
async function tryCreate(path: string, owner: LockOwner): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw ioError('create the lock', path, e);
  }
  try {
    // no fsync: after a crash of the machine the owner is gone anyway, and an empty or torn lock
    // file is broken once it has stayed unreadable for 2 s
    try {
      await fh.writeFile(`${JSON.stringify(owner)}\n`);
    } finally {
      await fh.close();
    }
  } catch (e) {
    // a full disk: no empty lock file left for the next publisher to wait on
    await unlink(path).catch(() => undefined);
    throw ioError('create the lock', path, e);
  }
  return true;
}

/** A breaker's guard older than this was left by a breaker that died (breaking takes milliseconds). */
const GUARD_STALE_MS = 10_000;

/**
 * Removes the lock file whose content was `seen`, and only that one (see the top of the file):
 * under a guard file (`<lock>.break`, O_EXCL) so that one waiter breaks at a time, it reads the
 * lock again and removes it only if it is still what was judged stale. Nobody can replace a lock
 * file meanwhile: publishers only create one where none is, and breakers take turns.
 */
async function breakLock(path: string, seen: string): Promise<void> {
  const guard = `${path}.break`;
  try {
    await (await open(guard, 'wx', 0o644)).close();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('break the stale lock', path, e);
    // another waiter is breaking it; a guard left by a breaker that died is removed
    const st = await stat(guard).catch(() => undefined);
    if (st !== undefined && Date.now() - st.mtimeMs > GUARD_STALE_MS) await unlink(guard).catch(() => undefined);
    return;
  }
  try {
    const now = await readFile(path, 'utf8').catch(() => undefined);
    if (now === seen) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}
