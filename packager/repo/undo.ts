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
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setAside } from '../util/fs.js';
import { kpkgDir, segmentsDir, statePath } from './state.js';

export interface Undo {
  /** Puts the repository back as it was when `prepareUndo` was called. */
  undo(): Promise<void>;
  /** The run succeeded: drops what was kept. */
  forget(): Promise<void>;
  /** A file the run creates where nothing was (a package copied in): removed by undo(). */
  creating(path: string): void;
}

/** What the root of a repository may gain from a run. */
const TOP = ['.kpkg', 'Packages', 'repodata'];

/**
 * The names in the directories a command writes in: `.kpkg/`, its segments, `repodata/`,
 * `Packages/`, and of the root the three above. Not each `Packages/<letter>/` (thousands of
 * packages, read on every run): the files created there are named through creating().
 */
async function listing(repo: string): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const list = async (dir: string) => out.set(dir, new Set(await readdir(dir).catch(() => [])));
  const present = await Promise.all(TOP.map((n) => stat(join(repo, n)).then(() => n, () => undefined)));
  out.set(repo, new Set(present.filter((n) => n !== undefined)));
  await list(kpkgDir(repo));
  await list(segmentsDir(repo));
  await list(join(repo, 'repodata'));
  await list(join(repo, 'Packages'));
  return out;
}

export async function prepareUndo(repo: string): Promise<Undo> {
  const before = await listing(repo);
  const created: string[] = [];
  const repodata = join(repo, 'repodata');
  const aside = await setAside([statePath(repo), join(repodata, 'repomd.xml'), join(repodata, 'repomd.xml.asc'), join(repodata, 'repomd.xml.key')]);
  return {
    async undo() {
      await aside.restore();
      for (const path of created) await rm(path, { force: true }).catch(() => undefined);
      for (const [dir, names] of await listing(repo)) {
        const old = before.get(dir);
        if (old === undefined) continue; // a new directory: removed with its parent's new names
        for (const name of names) if (!old.has(name)) await rm(join(dir, name), { recursive: true, force: true }).catch(() => undefined);
      }
    },
    forget: () => aside.discard(),
    creating: (path) => void created.push(path),
  };
}
