/**
 * What the per-server file's repositories offer, read from their metadata (repomd.xml, primary)
 * with the shared reader: planning must stay fast (under 300 ms with 5,000 packages), which rules
 * out asking dnf. The repositories are read in parallel; one that cannot be read fails the
 * preflight (exit 1, nothing changed), since dnf could not install from it either.
 *
 * Each run reads repomd.xml (small) afresh; primary (thousands of packages, compressed XML) is
 * parsed only when repomd.xml names another primary than last time: what Punch needs of it (name,
 * epoch, version, release, arch of each package) is kept under `<state>/cache/repos/`, keyed by the
 * repository's URL and primary's checksum from repomd.xml (which the reader verifies primary
 * against when it reads it). A cache file that cannot be read or does not match is read again
 * from the repository, never trusted half.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KpkgError, oneLine } from '../packager/errors.js';
import { resolveSource } from '../packager/repo/fetch.js';
import { readRepomd, readRepositoryMetadata, type RepomdChecksum } from '../packager/repo/read-metadata.js';
import type { Repository } from './file.js';
import type { AvailablePackage } from './preflight.js';
import { writeAtomic } from './state.js';

export interface ReadRepositoriesOptions {
  /** PEM file of the certificate authorities trusted for https repositories. */
  caFile?: string;
  /** Where the packages of each repository's primary are kept between runs (none: no cache). */
  cacheDir?: string;
}

/** The cache file's format: a change of it makes old files misses. */
const CACHE_FORMAT = 1;

type CachedPackage = [name: string, epoch: number, version: string, release: string, arch: string];

interface CacheFile {
  format: number;
  baseurl: string;
  primary: RepomdChecksum;
  packages: CachedPackage[];
}

function cachePath(cacheDir: string, baseurl: string): string {
  return join(cacheDir, `${createHash('sha256').update(baseurl).digest('hex').slice(0, 32)}.json`);
}

function isCachedPackage(p: unknown): p is CachedPackage {
  return Array.isArray(p) && p.length === 5 && typeof p[0] === 'string' && Number.isInteger(p[1]) && typeof p[2] === 'string' && typeof p[3] === 'string' && typeof p[4] === 'string';
}

/** The cached packages of `baseurl` when they were read from this very primary; else undefined. */
async function readCache(path: string, baseurl: string, primary: RepomdChecksum): Promise<CachedPackage[] | undefined> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined; // absent, or not whole: read the repository
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const c = data as Partial<CacheFile>;
  if (c.format !== CACHE_FORMAT || c.baseurl !== baseurl || c.primary?.type !== primary.type || c.primary.value !== primary.value) return undefined;
  if (!Array.isArray(c.packages) || !c.packages.every(isCachedPackage)) return undefined;
  return c.packages;
}

async function readOne(r: Repository, options: ReadRepositoriesOptions): Promise<CachedPackage[]> {
  const source = { baseurl: r.baseurl, ...(options.caFile !== undefined ? { caFile: options.caFile } : {}) };
  if (options.cacheDir === undefined) return (await readRepositoryMetadata(source)).packages.map((p) => [p.name, p.epoch, p.version, p.release, p.arch]);
  const src = await resolveSource(source);
  const primary = (await readRepomd(src)).data.find((d) => d.type === 'primary');
  const path = cachePath(options.cacheDir, src.base.href);
  if (primary !== undefined) {
    const cached = await readCache(path, src.base.href, primary.checksum);
    if (cached !== undefined) return cached;
  }
  // read (and verify) it all; the cache is keyed by the primary actually read
  const md = await readRepositoryMetadata(source);
  const packages = md.packages.map((p): CachedPackage => [p.name, p.epoch, p.version, p.release, p.arch]);
  const read = md.repomd.data.find((d) => d.type === 'primary');
  if (read !== undefined) {
    const entry: CacheFile = { format: CACHE_FORMAT, baseurl: md.baseurl, primary: read.checksum, packages };
    try {
      await mkdir(options.cacheDir, { recursive: true, mode: 0o700 });
      await writeAtomic(path, JSON.stringify(entry), 0o600);
    } catch {
      // a cache that cannot be written costs the next run time, not correctness
    }
  }
  return packages;
}

export async function readRepositoryPackages(repos: readonly Repository[], options: ReadRepositoriesOptions = {}): Promise<AvailablePackage[]> {
  const lists = await Promise.all(
    repos.map(async (r) => {
      try {
        return (await readOne(r, options)).map(([name, epoch, version, release, arch]): AvailablePackage => ({ name, epoch, version, release, arch, repo: r.id }));
      } catch (e) {
        throw new KpkgError('UNAVAILABLE', `cannot read the repository ${r.id} (${r.baseurl}): ${oneLine(e instanceof Error ? e.message : String(e))}; nothing was changed`, { cause: e });
      }
    }),
  );
  return lists.flat();
}
