/**
 * What a repository command undoes when it fails (a full disk, a permission refused), so that the
 * repository is left byte for byte as it was: the files it created are removed (packages copied
 * in, segments, metadata files), the files it replaced put back (`.kpkg/state.json`,
 * `repodata/repomd.xml`, its signature and key). Taken with the lock held, after the temporary
 * files of killed publishers are swept; used only while the lock is still ours.
 *
 * Not for a crash: a publisher killed at any moment leaves a valid repository by the order of its
 * writes (publish.ts), and the next run sweeps what it left.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setAside } from '../util/fs.js';
import { kpkgDir, segmentsDir, statePath } from './store.js';

export interface Undo {
  /** Puts the repository back as it was when `prepareUndo` was called. */
  undo(): Promise<void>;
  /** The run succeeded: drops what was kept. */
  forget(): Promise<void>;
}

/** The directories a command writes in: the root, `.kpkg/`, its segments, `repodata/`, `Packages/` and its subdirectories. */
async function listing(repo: string): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const list = async (dir: string) => {
    const names = await readdir(dir).catch(() => []);
    out.set(dir, new Set(names));
    return names;
  };
  await list(repo);
  await list(kpkgDir(repo));
  await list(segmentsDir(repo));
  await list(join(repo, 'repodata'));
  for (const name of await list(join(repo, 'Packages'))) await list(join(repo, 'Packages', name));
  return out;
}

export async function prepareUndo(repo: string): Promise<Undo> {
  const before = await listing(repo);
  const repodata = join(repo, 'repodata');
  const aside = await setAside([statePath(repo), join(repodata, 'repomd.xml'), join(repodata, 'repomd.xml.asc'), join(repodata, 'repomd.xml.key')]);
  return {
    async undo() {
      await aside.restore();
      for (const [dir, names] of await listing(repo)) {
        const old = before.get(dir);
        if (old === undefined) continue; // a new directory: removed with its parent's new names
        for (const name of names) if (!old.has(name)) await rm(join(dir, name), { recursive: true, force: true }).catch(() => undefined);
      }
    },
    forget: () => aside.discard(),
  };
}
