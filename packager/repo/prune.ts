/** `kpkg repo prune`: keeps the newest versions of each package, unlists the others. */
import { KpkgError } from '../errors.js';
import { compareEVR } from '../rpm/version.js';
import { assertRepositoryDir, collectGarbage, commit, repomdCurrent, withRepository, type PublishResult, type RepoOptions } from './session.js';
import { filterSegment } from './store.js';
import { type SegmentRef, type StoredPackage } from './state.js';

/**
 * The packages to remove to keep the `keep` newest versions (rpm's EVR order) of each name and
 * architecture.
 */
export function packagesToPrune<P extends Pick<StoredPackage, 'name' | 'arch' | 'epoch' | 'version' | 'release'>>(packages: readonly P[], keep: number): P[] {
  const groups = new Map<string, P[]>();
  for (const p of packages) {
    const k = `${p.name}\0${p.arch}`;
    const g = groups.get(k);
    if (g) g.push(p);
    else groups.set(k, [p]);
  }
  const out: P[] = [];
  const evr = (p: P) => ({ epoch: Number(p.epoch || '0'), version: p.version, release: p.release });
  for (const g of groups.values()) {
    g.sort((a, b) => compareEVR(evr(b), evr(a)));
    out.push(...g.slice(keep));
  }
  return out;
}

/**
 * Keeps the `keep` newest versions of each package name (per architecture): the others leave the
 * metadata now and the disk after the grace period.
 */
export async function pruneRepository(repo: string, keep: number, options: RepoOptions = {}): Promise<PublishResult> {
  if (!Number.isInteger(keep) || keep < 1) throw new KpkgError('USAGE', `--keep ${keep}: expected a whole number, 1 or more`);
  await assertRepositoryDir(repo, 'kpkg repo prune');
  return withRepository(repo, `kpkg repo prune --keep ${keep}`, options, async (s) => {
    const doomed = packagesToPrune(s.state.packages, keep);
    if (doomed.length === 0 && (await repomdCurrent(repo, s.state))) {
      await collectGarbage(s);
      return { repo, added: [], unchanged: [], removed: [], metadataWritten: false, packages: s.state.packages.length };
    }
    const gone = new Set(doomed.map((p) => p.pkgid));
    const affected = new Set(doomed.map((p) => p.segment));
    const compress = options.compress ?? s.state.compress;
    const segments: SegmentRef[] = [];
    for (const seg of s.state.segments) {
      if (!affected.has(seg.id)) segments.push(seg);
      else {
        const kept = await filterSegment(repo, seg, compress, (id) => !gone.has(id), s.segmentCache);
        if (kept) segments.push(kept);
      }
    }
    const packages = s.state.packages.filter((p) => !gone.has(p.pkgid));
    await commit(s, packages, segments, doomed.map((p) => p.href));
    return { repo, added: [], unchanged: [], removed: doomed.map((p) => p.href), metadataWritten: true, packages: packages.length };
  });
}
