/**
 * Durable writes' helpers (packager/util/fs.ts): which errors of a directory fsync are failures,
 * and syncing many files at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KpkgError } from '../../../packager/errors.js';
import { fsyncDir, SYNCFS_MIN_FILES, syncFiles, syncfsReportsErrors } from '../../../packager/util/fs.js';

const work = mkdtempSync(join(tmpdir(), 'kpkg-fs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The error code of fsync on `dir` opened read-only, or 'ok'. */
async function rawDirSync(dir: string): Promise<string> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
    return 'ok';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  } finally {
    await fh.close();
  }
}

describe('fsyncDir', () => {
  it('syncs a directory', async () => {
    await expect(fsyncDir(work)).resolves.toBeUndefined();
  });

  it('fails, naming the directory, when it cannot be opened (ENOENT)', async () => {
    const missing = join(work, 'no-such-dir');
    const e = await fsyncDir(missing).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(KpkgError);
    expect((e as KpkgError).code).toBe('IO');
    expect((e as KpkgError).message).toContain(missing);
    expect((e as KpkgError).message).toContain('ENOENT');
  });

  it.skipIf(process.platform !== 'linux')('ignores EINVAL, what Linux answers on a file system that cannot fsync a directory (procfs)', async () => {
    // the premise, checked: fsync of a procfs directory fails with EINVAL here
    expect(await rawDirSync('/proc/self')).toBe('EINVAL');
    await expect(fsyncDir('/proc/self')).resolves.toBeUndefined();
  });
});

describe('syncfsReportsErrors', () => {
  it('is true on Linux 5.8 and later only (syncfs returned 0 after write-back errors before)', () => {
    expect(syncfsReportsErrors('linux', '5.8.0')).toBe(true);
    expect(syncfsReportsErrors('linux', '6.1.0-18-amd64')).toBe(true);
    expect(syncfsReportsErrors('linux', '10.0.1')).toBe(true);
    expect(syncfsReportsErrors('linux', '5.7.19')).toBe(false);
    expect(syncfsReportsErrors('linux', '4.19.0-26-amd64')).toBe(false);
    expect(syncfsReportsErrors('linux', 'weird')).toBe(false);
    expect(syncfsReportsErrors('darwin', '23.1.0')).toBe(false);
  });
});

describe('syncFiles', () => {
  const files = (prefix: string, n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const p = join(work, `${prefix}-${i}`);
      writeFileSync(p, `file ${i}\n`);
      out.push(p);
    }
    return out;
  };

  it('syncs a few files, and many (one syncfs where it reports errors)', async () => {
    await expect(syncFiles(files('few', 3))).resolves.toBeUndefined();
    await expect(syncFiles(files('many', SYNCFS_MIN_FILES + 5))).resolves.toBeUndefined();
    await expect(syncFiles([])).resolves.toBeUndefined();
  });

  it('fails naming the file that cannot be synced, a few files or many', async () => {
    for (const n of [2, SYNCFS_MIN_FILES + 1]) {
      const paths = files(`gone${n}`, n);
      const gone = paths[n - 1] as string;
      rmSync(gone);
      // many: a syncfs would not look at the last file, so it is the first that is gone
      if (n > 2) [paths[0], paths[n - 1]] = [gone, paths[0] as string];
      const e = await syncFiles(paths).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(KpkgError);
      expect((e as KpkgError).message).toContain(gone);
    }
  });
});
