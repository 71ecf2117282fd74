/**
 * `<name>-<version>-sources.tar.gz`: the component's sources (what the packages were built from,
 * without node_modules, build output or VCS data), reproducible like the RPMs: entries sorted,
 * owner root, times from SOURCE_DATE_EPOCH, permissions normalised to 0644/0755.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readlink, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { ioError } from '../errors.js';

const EXCLUDED = new Set(['.git', '.hg', '.svn', 'node_modules', 'target', 'dist', 'coverage', '.nyc_output', '.yo-rc-global.json']);

interface Entry {
  rel: string;
  kind: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  target?: string;
}

async function walk(root: string, rel = ''): Promise<Entry[]> {
  const out: Entry[] = [];
  const names = (await readdir(join(root, rel))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    if (rel === '' && EXCLUDED.has(name)) continue;
    if (name === '.git' || name.endsWith('.rpm')) continue;
    const childRel = rel ? `${rel}/${name}` : name;
    const st = await lstat(join(root, childRel));
    if (st.isSymbolicLink()) {
      out.push({ rel: childRel, kind: 'symlink', mode: 0o777, size: 0, target: await readlink(join(root, childRel)) });
    } else if (st.isDirectory()) {
      out.push({ rel: childRel, kind: 'dir', mode: 0o755, size: 0 });
      out.push(...(await walk(root, childRel)));
    } else if (st.isFile()) {
      out.push({ rel: childRel, kind: 'file', mode: st.mode & 0o111 ? 0o755 : 0o644, size: st.size });
    }
  }
  return out;
}

/** Writes the tarball at `outPath` (atomically) with everything under `<topDir>/`. */
export async function writeSourcesTarball(componentDir: string, topDir: string, outPath: string, epoch: number | undefined): Promise<void> {
  const entries = await walk(componentDir);
  const mtime = new Date((epoch ?? Math.floor(Date.now() / 1000)) * 1000);
  const pack = tar.pack();
  const tmp = `${outPath}.${process.pid}.tmp`;
  const written = pipeline(pack, createGzip({ level: 9 }), createWriteStream(tmp));
  written.catch(() => undefined); // awaited below; a write error meanwhile is not unhandled
  const common = { mtime, uid: 0, gid: 0, uname: 'root', gname: 'root' };
  try {
    pack.entry({ ...common, name: `${topDir}/`, type: 'directory', mode: 0o755 });
    for (const e of entries) {
      const name = `${topDir}/${e.rel}`;
      if (e.kind === 'dir') {
        pack.entry({ ...common, name: `${name}/`, type: 'directory', mode: e.mode });
      } else if (e.kind === 'symlink') {
        pack.entry({ ...common, name, type: 'symlink', linkname: e.target as string, mode: e.mode });
      } else {
        const entry = pack.entry({ ...common, name, type: 'file', mode: e.mode, size: e.size });
        await pipeline(createReadStream(join(componentDir, e.rel)), entry);
      }
    }
    pack.finalize();
    await written;
    await rename(tmp, outPath);
  } catch (e) {
    pack.destroy();
    await written.catch(() => undefined); // the file closed before it is removed
    await rm(tmp, { force: true });
    throw ioError('write', outPath, e);
  }
}
