/**
 * What the per-server file's repositories offer, read from their metadata (repomd.xml, primary)
 * with the shared reader: planning must stay fast (under 300 ms with 5,000 packages), which rules
 * out asking dnf. The repositories are read in parallel; one that cannot be read fails the
 * preflight (exit 1, nothing changed), since dnf could not install from it either.
 */
import { KpkgError, oneLine } from '../packager/errors.js';
import { readRepositoryMetadata } from '../packager/repo/read-metadata.js';
import type { Repository } from './file.js';
import type { AvailablePackage } from './preflight.js';

export async function readRepositoryPackages(repos: readonly Repository[], caFile?: string): Promise<AvailablePackage[]> {
  const lists = await Promise.all(
    repos.map(async (r) => {
      try {
        const md = await readRepositoryMetadata({ baseurl: r.baseurl, ...(caFile !== undefined ? { caFile } : {}) });
        return md.packages.map((p): AvailablePackage => ({ name: p.name, epoch: p.epoch, version: p.version, release: p.release, arch: p.arch, repo: r.id }));
      } catch (e) {
        throw new KpkgError('UNAVAILABLE', `cannot read the repository ${r.id} (${r.baseurl}): ${oneLine(e instanceof Error ? e.message : String(e))}; nothing was changed`, { cause: e });
      }
    }),
  );
  return lists.flat();
}
