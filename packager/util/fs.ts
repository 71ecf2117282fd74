/**
 * Durable writes: a file appears complete under its name or not at all, and survives a crash once
 * the call returns. Used wherever kpkg replaces a file that readers may be looking at.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ioError } from '../errors.js';

/** A unique temporary name beside `path`, hidden and ending in .tmp (swept by the next publisher). */
export function tempName(path: string): string {
  const base = path.slice(dirname(path).length + 1);
  return join(dirname(path), `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Makes the directory's entries (a rename) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // some file systems refuse fsync on a directory: the rename is as durable as they make it
  } finally {
    await fh?.close();
  }
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
