/**
 * Fault injection for the unit tests: the functions of node:fs/promises and node:fs that write
 * (create, write, rename, link, fsync, close a file being written, set times or modes; the
 * promise, stream and synchronous forms) are wrapped
 * so that a test counts them during an operation, then makes the n-th one fail with the system
 * error a full disk, a quota or a refused permission gives.
 *
 * A test file mocks the two modules with these wrappers (vi.mock is hoisted above the imports):
 *
 *   vi.mock('node:fs/promises', async (real) => (await import('../helpers/faults.js')).faultyPromises(await real()));
 *   vi.mock('node:fs', async (real) => (await import('../helpers/faults.js')).faultyFs(await real()));
 *
 * This module imports neither (it receives the real ones), so that it can be loaded by the mocks.
 * A write(2) that fails with ENOSPC or EDQUOT first writes part of the data (a short write, as
 * when the disk fills during it); later writes to the file fail.
 * fsync is counted but not done (nothing here observes durability; it is slow on a real disk),
 * a directory's (opened read-only) too: the tests check that renames are made durable in order.
 * Removing files (unlink, rm, rmdir) and reading are never made to fail: a full disk does not
 * refuse them, and a directory that refuses them refused the file's creation first.
 */
import { constants as osConstants } from 'node:os';
import { getSystemErrorMap, getSystemErrorName } from 'node:util';

export type FaultCode = 'ENOSPC' | 'EDQUOT' | 'EACCES';
export const FAULT_CODES: readonly FaultCode[] = ['ENOSPC', 'EDQUOT', 'EACCES'];
/** What kpkg says for each (errors.ts). */
export const FAULT_WORDS: Record<FaultCode, string> = { ENOSPC: 'no space left on device', EDQUOT: 'disk quota exceeded', EACCES: 'permission denied' };

interface Plan {
  /** A file whose writing ran out of space: later writes to it fail. */
  full?: unknown;
  /** Counting while set. */
  armed: boolean;
  /** The call (1-based) to fail; 0: none. */
  failAt: number;
  code: FaultCode;
  /** The calls seen while armed, as `syscall path`. */
  calls: string[];
  /** The call that was made to fail. */
  failed?: string;
}

const plan: Plan = { armed: false, failAt: 0, code: 'ENOSPC', calls: [] };

/** Counts the calls of `run` (none fails); returns their labels. */
export async function countCalls<T>(run: () => Promise<T>): Promise<{ result: T; calls: string[] }> {
  Object.assign(plan, { armed: true, failAt: 0, calls: [], failed: undefined, full: undefined });
  try {
    return { result: await run(), calls: plan.calls };
  } finally {
    plan.armed = false;
  }
}

/** Runs `run` with its `n`-th call failing with `code`; `failed` names that call (undefined: fewer calls). */
export async function failCall<T>(n: number, code: FaultCode, run: () => Promise<T>): Promise<{ result: T; failed: string | undefined }> {
  Object.assign(plan, { armed: true, failAt: n, code, calls: [], failed: undefined, full: undefined });
  try {
    return { result: await run(), failed: plan.failed };
  } finally {
    plan.armed = false;
  }
}

/** A system error as libuv reports it (EDQUOT, which Node 20's libuv does not name, by number only). */
export function systemError(code: FaultCode, syscall: string, path?: string): NodeJS.ErrnoException {
  const errno = -(osConstants.errno as Record<string, number>)[code]!;
  const name = getSystemErrorName(errno);
  const description = getSystemErrorMap().get(errno)?.[1] ?? name;
  const e: NodeJS.ErrnoException = new Error(`${name}: ${description}, ${syscall}${path !== undefined ? ` '${path}'` : ''}`);
  Object.assign(e, { errno, code: name, syscall, ...(path !== undefined ? { path } : {}) });
  return e;
}

/** Counts a call; throws when it is the one to fail. */
function hit(syscall: string, path: unknown): void {
  if (!plan.armed) return;
  const label = `${syscall} ${String(path)}`;
  plan.calls.push(label);
  if (plan.calls.length === plan.failAt) {
    plan.failed = label;
    throw systemError(plan.code, syscall, typeof path === 'string' ? path : undefined);
  }
}

/**
 * Whether a write of `data` to `path` is the call to fail, as write(2) does when the disk fills
 * during it: part of the data is written, later writes to the file fail. Records it if so (the
 * caller then writes half of the data).
 */
function shortWriteDue(path: unknown, data: unknown): boolean {
  if (!plan.armed || plan.code === 'EACCES' || !ArrayBuffer.isView(data) || plan.calls.length + 1 !== plan.failAt) return false;
  plan.calls.push(`write ${String(path)}`);
  plan.failed = `write ${String(path)} (short)`;
  plan.full = path;
  return true;
}

/** Whether open() flags write: a string with w, a, x or +, or O_WRONLY (1) / O_RDWR (2) set. */
function writes(flags: unknown): boolean {
  if (typeof flags === 'number') return (flags & 3) !== 0;
  return typeof flags === 'string' && /[wax+]/.test(flags);
}

type AnyFn = (...args: unknown[]) => unknown;

/** FileHandle methods that write; close too (where a delayed write error shows, on NFS). */
const HANDLE_WRITES = new Set(['write', 'writev', 'writeFile', 'appendFile', 'sync', 'datasync', 'truncate', 'chmod', 'chown', 'utimes', 'close']);

function faultyHandle<H extends object>(fh: H, path: unknown): H {
  return new Proxy(fh, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as AnyFn;
      if (typeof prop !== 'string' || !HANDLE_WRITES.has(prop)) return fn.bind(target);
      return async (...args: unknown[]) => {
        if (prop === 'close') {
          // close(2) releases the descriptor even when it reports an error
          await fn.apply(target, args);
          hit('close', path);
          return;
        }
        if (prop === 'sync' || prop === 'datasync') {
          // counted, never done: durability is not what these tests observe, and thousands of
          // fsyncs of a real disk would make them slow
          hit('fsync', path);
          return;
        }
        if (prop === 'write' && plan.armed && plan.full === path) throw systemError(plan.code, 'write');
        if (prop === 'write' && shortWriteDue(path, args[0])) {
          const [data, offset = 0, length = data.byteLength - offset, position = null] = args as [Uint8Array, number?, number?, (number | null)?];
          return fn.call(target, data, offset, Math.floor(length / 2), position);
        }
        hit(prop, path);
        return fn.apply(target, args);
      };
    },
  });
}

/** A read-only handle whose fsync is counted (and made to fail on demand), as a writing one's. */
function syncCounted<H extends object>(fh: H, path: unknown): H {
  return new Proxy(fh, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as AnyFn;
      if (prop !== 'sync' && prop !== 'datasync') return fn.bind(target);
      return async () => hit('fsync', path);
    },
  });
}

const PROMISE_WRITES = ['mkdir', 'mkdtemp', 'rename', 'link', 'symlink', 'copyFile', 'cp', 'writeFile', 'appendFile', 'utimes', 'lutimes', 'truncate', 'chmod', 'chown'] as const;

/** node:fs/promises with its writing calls counted and failing on demand. */
export function faultyPromises<M extends Record<string, unknown>>(real: M): M {
  const wrapped: Record<string, unknown> = {};
  for (const name of PROMISE_WRITES) {
    const fn = real[name] as AnyFn | undefined;
    if (!fn) continue;
    wrapped[name] = async (...args: unknown[]) => {
      hit(name, args[0]);
      return fn(...args);
    };
  }
  const open = real.open as AnyFn;
  wrapped.open = async (...args: unknown[]) => {
    const write = writes(args[1]);
    if (write) hit('open', args[0]);
    const fh = (await open(...args)) as object;
    // read-only: only its fsync is counted (a directory's, which makes renames in it durable)
    return write ? faultyHandle(fh, args[0]) : syncCounted(fh, args[0]);
  };
  return { ...real, ...wrapped, default: { ...(real.default as object), ...wrapped } };
}

const SYNC_WRITES = ['mkdirSync', 'renameSync', 'linkSync', 'symlinkSync', 'copyFileSync', 'writeFileSync', 'appendFileSync', 'utimesSync', 'truncateSync', 'chmodSync'] as const;

/**
 * The synchronous calls of node:fs that write, counted and failing on demand as the promise ones:
 * the path-taking ones by name (`renameSync` counts as `rename`), and per descriptor the writes,
 * times, fsync and close of a file opened for writing (a directory opened read-only: its fsync).
 */
function faultySync(real: Record<string, unknown>): Record<string, unknown> {
  const wrapped: Record<string, unknown> = {};
  for (const name of SYNC_WRITES) {
    const fn = real[name] as AnyFn | undefined;
    if (!fn) continue;
    wrapped[name] = (...args: unknown[]) => {
      hit(name.slice(0, -'Sync'.length), args[0]);
      return fn(...args);
    };
  }
  const { openSync, writeSync, futimesSync, fsyncSync, closeSync } = real as Record<'openSync' | 'writeSync' | 'futimesSync' | 'fsyncSync' | 'closeSync', AnyFn>;
  /** The path of each descriptor opened while armed, and whether it was opened to write. */
  const open = new Map<unknown, { path: unknown; write: boolean }>();
  const written = (fd: unknown) => {
    const o = open.get(fd);
    return o?.write === true ? o : undefined;
  };
  wrapped.openSync = (...args: unknown[]) => {
    const write = writes(args[1]);
    if (write) hit('open', args[0]);
    const fd = openSync(...args);
    if (plan.armed) open.set(fd, { path: args[0], write });
    return fd;
  };
  wrapped.writeSync = (...args: unknown[]) => {
    const o = written(args[0]);
    if (!o) return writeSync(...args);
    if (plan.armed && plan.full === o.path) throw systemError(plan.code, 'write');
    if (shortWriteDue(o.path, args[1])) {
      const [fd, data, offset = 0, length = data.byteLength - offset, position = null] = args as [unknown, Uint8Array, number?, number?, (number | null)?];
      return writeSync(fd, data, offset, Math.floor(length / 2), position);
    }
    hit('write', o.path);
    return writeSync(...args);
  };
  wrapped.futimesSync = (...args: unknown[]) => {
    const o = written(args[0]);
    if (o) hit('utimes', o.path);
    return futimesSync(...args);
  };
  wrapped.fsyncSync = (...args: unknown[]) => {
    const o = open.get(args[0]);
    if (!o) return fsyncSync(...args);
    hit('fsync', o.path); // counted, never done (see the top of this file)
  };
  wrapped.closeSync = (...args: unknown[]) => {
    const o = written(args[0]);
    open.delete(args[0]);
    closeSync(...args); // close(2) releases the descriptor even when it reports an error
    if (o) hit('close', o.path);
  };
  return wrapped;
}

/** node:fs with its synchronous writing calls and createWriteStream's opens, writes and close counted and failing on demand. */
export function faultyFs<M extends Record<string, unknown>>(real: M): M {
  const { open, write, writev, close } = real as unknown as Record<'open' | 'write' | 'writev' | 'close', AnyFn>;
  const later = (cb: AnyFn, e: unknown) => process.nextTick(() => cb(e));
  // a callback call that fails (on the next tick, as fs would) when this operation is the one to fail
  const guarded =
    (op: string, path: unknown, fn: AnyFn) =>
    (...args: unknown[]) => {
      try {
        hit(op, path);
      } catch (e) {
        return later(args[args.length - 1] as AnyFn, e);
      }
      return fn(...args);
    };
  const streamFs = (path: unknown) => ({
    open: guarded('open', path, open),
    write: guarded('write', path, write),
    writev: guarded('write', path, writev),
    close: (fd: unknown, cb: AnyFn) =>
      close(fd, (err: unknown) => {
        if (err) return cb(err);
        try {
          hit('close', path);
        } catch (e) {
          return cb(e);
        }
        cb(null);
      }),
  });
  const createWriteStream = real.createWriteStream as AnyFn;
  const wrapped = {
    ...faultySync(real),
    createWriteStream: (path: unknown, options?: unknown) => {
      const opts = typeof options === 'string' ? { encoding: options } : { ...(options as object | undefined) };
      return createWriteStream(path, { ...opts, fs: streamFs(path) });
    },
  };
  return { ...real, ...wrapped, default: { ...(real.default as object), ...wrapped } };
}
