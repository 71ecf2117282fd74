import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KpkgError, exitCodeFor } from '../../../packager/errors.js';
import { acquireLock, ownerIsDead, processStart } from '../../../packager/repo/lock.js';

const work = mkdtempSync(join(tmpdir(), 'kpkg-lock-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const lockPath = () => join(work, `lock-${n++}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('repository lock', () => {
  it('lets one holder at a time in, the others wait their turn', async () => {
    const path = lockPath();
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const lock = await acquireLock(path, { timeoutMs: 20_000 });
        inside++;
        maxInside = Math.max(maxInside, inside);
        await sleep(5);
        await lock.assertHeld();
        order.push(i);
        inside--;
        await lock.release();
      }),
    );
    expect(maxInside).toBe(1);
    expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(existsSync(path)).toBe(false);
  });

  it('times out with LOCK_TIMEOUT (exit 1) naming the holder', async () => {
    const path = lockPath();
    const held = await acquireLock(path, { what: 'publish big.rpm' });
    let waitedFor: number | undefined;
    const err = await acquireLock(path, { timeoutMs: 300, onWait: (o) => (waitedFor = o?.pid) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KpkgError);
    expect((err as KpkgError).code).toBe('LOCK_TIMEOUT');
    expect(exitCodeFor(err)).toBe(1);
    expect((err as Error).message).toContain(`process ${process.pid}`);
    expect((err as Error).message).toContain('publish big.rpm');
    expect(waitedFor).toBe(process.pid);
    await held.release();
    const again = await acquireLock(path, { timeoutMs: 1000 });
    await again.release();
  });

  it('recovers a stale lock left by a dead process', async () => {
    const path = lockPath();
    const pid = deadPid();
    writeFileSync(path, JSON.stringify({ host: hostname(), pid, token: 'dead', since: Date.now() - 1000 }));
    const lock = await acquireLock(path, { timeoutMs: 2000 });
    expect((JSON.parse(readFileSync(path, 'utf8')) as { pid: number }).pid).toBe(process.pid);
    await lock.release();
  });

  // a process's start time comes from /proc: elsewhere there is no pid reuse to tell apart
  it.skipIf(process.platform !== 'linux')('recovers a stale lock whose pid was reused by another process', async () => {
    const start = processStart(process.pid);
    if (start === undefined) throw new Error('no start time for this process in /proc');
    const path = lockPath();
    writeFileSync(path, JSON.stringify({ host: hostname(), pid: process.pid, start: start + 1, token: 'old', since: 0 }));
    const lock = await acquireLock(path, { timeoutMs: 2000 });
    await lock.release();
  });

  it('many waiters breaking one stale lock end with exactly one holder at a time', async () => {
    const path = lockPath();
    writeFileSync(path, JSON.stringify({ host: hostname(), pid: deadPid(), token: 'dead', since: 0 }));
    let inside = 0;
    let maxInside = 0;
    let lost = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        const lock = await acquireLock(path, { timeoutMs: 20_000 });
        inside++;
        maxInside = Math.max(maxInside, inside);
        await sleep(3);
        await lock.assertHeld().catch(() => lost++);
        inside--;
        await lock.release();
      }),
    );
    expect(maxInside).toBe(1);
    expect(lost).toBe(0);
  });

  it('judges owners: live here, dead here, another host by the age of the file', () => {
    const now = Date.now();
    expect(ownerIsDead({ host: hostname(), pid: process.pid, token: 't', since: now }, now, 60_000)).toBe(false);
    expect(ownerIsDead({ host: hostname(), pid: deadPid(), token: 't', since: now }, now, 60_000)).toBe(true);
    expect(ownerIsDead({ host: 'elsewhere.invalid', pid: 1, token: 't', since: now }, now - 10_000, 60_000, now)).toBe(false);
    expect(ownerIsDead({ host: 'elsewhere.invalid', pid: 1, token: 't', since: now }, now - 120_000, 60_000, now)).toBe(true);
  });

  it('a holder whose lock was taken away fails assertHeld', async () => {
    const path = lockPath();
    const lock = await acquireLock(path);
    writeFileSync(path, JSON.stringify({ host: hostname(), pid: process.pid, token: 'thief', since: 0 }));
    await expect(lock.assertHeld()).rejects.toThrow(/lost the lock of the repository/);
    await lock.release();
    expect(existsSync(path)).toBe(true); // not ours: left alone
  });
});
