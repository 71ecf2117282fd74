/** `kpkg repo index`: the metadata rebuilt from the packages present, each read again. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { KpkgError, ioError } from '../errors.js';
import { sortByHref } from './metadata.js';
import { blocksFor, readMany, type Candidate } from './read.js';
import { assertRepositoryDir, commit, withRepository, type PublishResult, type RepoOptions, type Session } from './session.js';
import { nevraKey, storedPackage } from './state.js';
import { writeSegment } from './store.js';
import { plural } from '../util/progress.js';
import type { RepoPackage } from './types.js';

/** Every `.rpm` under `repo` (relative paths, `/`-separated, in createrepo_c's order) but kpkg's and repodata's own, and `skip`. */
export async function findPackages(repo: string, skip: ReadonlySet<string>): Promise<string[]> {
  const out: string[] = [];
  // rel: the directory relative to the repository, '' or ending in '/'
  const walk = async (dir: string, rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw ioError('read the directory', dir, e);
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const path = rel + e.name;
      if (e.isDirectory()) {
        if (path === 'repodata') continue;
        await walk(join(dir, e.name), `${path}/`);
      } else if (e.isFile() && e.name.endsWith('.rpm') && !skip.has(path)) {
        out.push(path);
      }
    }
  };
  await walk(repo, '');
  // createrepo_c's order (by file name, then location), so that an index lists what it would
  return sortByHref(out.map((href) => ({ href }))).map((p) => p.href);
}

export async function reindex(s: Session): Promise<{ records: RepoPackage[] }> {
  const { repo, options } = s;
  const pendingPaths = new Set(s.state.pending.map((p) => p.path));
  const files = await findPackages(repo, pendingPaths);
  options.progress?.status(`reading ${plural(files.length, 'package')}`);
  const compress = options.compress ?? s.state.compress;
  const root = join(repo, '_').slice(0, -1); // the repository directory and a separator
  const read = await readMany(files.map((rel) => ({ path: root + rel, href: rel })), compress, options);
  const candidates = read.candidates;
  const known = new Map(s.state.packages.map((p) => [p.href, p]));
  const conflicts: string[] = [];
  const byNevra = new Map<string, Candidate>();
  const records: RepoPackage[] = [];
  const listed: number[] = [];
  for (const [i, c] of candidates.entries()) {
    const r = c.record;
    const before = known.get(r.href);
    if (before && before.pkgid !== r.pkgid) {
      conflicts.push(`${r.href}: changed since it was published (sha256 ${before.pkgid}, now ${r.pkgid}); put the published file back, or remove it and publish the new one under a new release`);
      continue;
    }
    const twin = byNevra.get(nevraKey(r));
    if (twin) {
      if (twin.record.pkgid !== r.pkgid) conflicts.push(`${r.href}: ${nevraKey(r)} is also ${twin.record.href}, with other bytes`);
      continue; // the same bytes twice: listed once
    }
    byNevra.set(nevraKey(r), c);
    records.push(r);
    listed.push(i);
  }
  if (conflicts.length > 0) throw new KpkgError('PACKAGE_CONFLICT', conflicts.join('\n'));
  const seg = await writeSegment(repo, compress, await blocksFor(read, listed), s.segmentCache);
  await commit(s, records.map((r) => storedPackage(r, seg.id)), [seg]);
  return { records };
}

/** Rebuilds the metadata from the packages present under `repo`, reading every one. */
export async function indexRepository(repo: string, options: RepoOptions = {}): Promise<PublishResult> {
  await assertRepositoryDir(repo, 'kpkg repo index');
  return withRepository(repo, 'kpkg repo index', options, async (s) => {
    const before = new Set(s.state.packages.map((p) => p.href));
    const { records } = await reindex(s);
    const now = new Set(records.map((r) => r.href));
    return {
      repo,
      added: records.map((r) => r.href).filter((h) => !before.has(h)),
      unchanged: records.map((r) => r.href).filter((h) => before.has(h)),
      removed: [...before].filter((h) => !now.has(h)),
      metadataWritten: true,
      packages: records.length,
    };
  });
}
