/** `kpkg publish`: adds packages to a repository (the guarantees are session.ts's). */
import { join } from 'node:path';
import { mkdir, rm, stat } from 'node:fs/promises';
import { ioError, KpkgError } from '../errors.js';
import { blocksFor, readMany, type Candidate } from './read.js';
import { findPackages, reindex } from './reindex.js';
import { collectGarbage, commit, copyIn, repomdCurrent, signing, withRepository, type PublishResult, type RepoOptions, type Session } from './session.js';
import { incomingDir, nevraKey, storedPackage, type RepoState, type StoredPackage } from './state.js';
import { writeSegment } from './store.js';
import { plural } from '../util/progress.js';

/**
 * Adds `rpms` to the repository `repo`: refuses them all (PACKAGE_CONFLICT) when one would
 * replace a published package with other bytes, else copies the new ones in and updates the
 * metadata, reading only the new packages.
 */
export async function publish(rpms: readonly string[], repo: string, options: RepoOptions = {}): Promise<PublishResult> {
  if (rpms.length === 0) throw new KpkgError('USAGE', 'no package to publish');
  // with a key, unsigned packages are published as signed copies (signing.ts)
  const staged = options.signKey ? await (await signing()).stageSigned(rpms, options.signKey, options.progress) : undefined;
  try {
    return await publishStaged(rpms, staged?.packages, repo, options);
  } finally {
    await staged?.cleanup();
  }
}

async function publishStaged(rpms: readonly string[], staged: import('./signing.js').StagedPackage[] | undefined, repo: string, options: RepoOptions): Promise<PublishResult> {
  return withRepository(repo, `kpkg publish ${rpms.length} package(s)`, options, async (s) => {
    // Every package is read and checked with the lock held, and its bytes written on the way into
    // .kpkg/incoming/ (read.ts Candidate.staged): each file read once, the copy overlapping the
    // reading, and the file published is the one checked. (Read before the lock, the copy was a
    // second pass after it; incoming/ is swept by whoever takes the lock, so it needs the lock.)
    // The blocks are compressed as the repository most likely wants (rewritten by writeSegment if not).
    options.progress?.status(`reading ${plural(rpms.length, 'package')}`);
    const incoming = incomingDir(repo);
    await mkdir(incoming).catch((e: unknown) => {
      throw ioError('create', incoming, e);
    });
    const read = await readMany((staged?.map((p) => p.path) ?? rpms).map((path) => ({ path })), options.compress ?? 'gzip', options, incoming);
    const candidates = read.candidates;
    staged?.forEach((p, i) => {
      const c = candidates[i]!;
      if (p.content === undefined) return;
      c.copyFrom = p.path;
      c.source = p.original;
      c.content = p.content;
    });
    const result = await publishRead(s, candidates, read);
    // what was read but not added (published already, or twice in the batch)
    await rm(incoming, { recursive: true, force: true }).catch(() => undefined);
    return result;
  });
}

/** Publishes what was read (`read`, its `candidates`), in the session `s`. */
async function publishRead(s: Session, candidates: Candidate[], read: Awaited<ReturnType<typeof readMany>>): Promise<PublishResult> {
  const { repo, options } = s;
  // a signed repository takes no unsigned publish (checked here: openpgp.js loads only when signing)
  if (!options.signKey && (await stat(join(repo, 'repodata', 'repomd.xml.asc')).then(() => true, () => false))) {
    await (await signing()).refuseUnsignedIntoSigned(repo);
  }
  if (s.state.packages.length === 0 && s.state.metadata.length === 0 && (await findPackages(repo, new Set())).length > 0) {
    // a repository kpkg did not make (createrepo_c's): adopt what is there first
    options.progress?.note(`${repo}: not published by kpkg before: indexing the packages present`);
    await reindex(s);
  }
  const byHref = new Map(s.state.packages.map((p) => [p.href, p]));
  const byNevra = new Map(s.state.packages.map((p) => [nevraKey(p), p]));
  const fresh = new Map<string, Candidate>(); // by href
  const freshByNevra = new Map<string, Candidate>();
  const freshIndices: number[] = [];
  const unchanged: string[] = [];
  const conflicts: string[] = [];
  for (const [i, c] of candidates.entries()) {
    const r = c.record;
    const published = byHref.get(r.href) ?? byNevra.get(nevraKey(r));
    const batch = fresh.get(r.href) ?? freshByNevra.get(nevraKey(r));
    const other = published ?? (batch ? { pkgid: batch.record.pkgid, href: batch.record.href, source: batch.source } : undefined);
    if (other === undefined) {
      fresh.set(r.href, c);
      freshByNevra.set(nevraKey(r), c);
      freshIndices.push(i);
    } else if (other.pkgid === r.pkgid || (c.content !== undefined && (await sameContent(repo, c.content, published, batch)))) {
      if (published) unchanged.push(r.href);
    } else {
      const what = published ? `is published as ${published.href} with other bytes (sha256 ${published.pkgid})` : `is also given as ${(other as { source: string }).source} with other bytes`;
      conflicts.push(`${c.source}: ${nevraKey(r)} ${what}; published packages are never replaced: give it a new release`);
    }
  }
  if (conflicts.length > 0) throw new KpkgError('PACKAGE_CONFLICT', conflicts.join('\n'));

  const added = [...fresh.values()];
  const current = await repomdCurrent(repo, s.state);
  const compressChange = options.compress !== undefined && options.compress !== s.state.compress;
  if (added.length === 0 && current && !compressChange) {
    await collectGarbage(s);
    if (options.signKey) {
      // nothing to add, but the signature may be missing, stale (a publisher killed between
      // the two renames) or by another key
      const sign = await signing();
      if (!(await sign.signatureCurrent(repo, options.signKey))) {
        await s.lock.assertHeld();
        await sign.signCurrentRepomd(repo, options.signKey);
        options.progress?.note(`repodata/repomd.xml: signed with key ${options.signKey.keyId}`);
      }
    }
    return { repo, added: [], unchanged, removed: [], metadataWritten: false, packages: s.state.packages.length };
  }
  const copying = `copying ${plural(added.length, 'package')} into ${repo}`;
  options.progress?.status(copying);
  // The packages are made durable and renamed into place (one syncfs, a rename each: I/O, mostly
  // waiting) while the segment and the metadata files are written (no repomd.xml names them
  // yet); the state and repomd.xml, which name the packages, wait for the packages (commit).
  const placed = copyIn(s, added.map((c) => ({ from: c.copyFrom ?? c.source, href: c.record.href, ...(c.staged === undefined ? {} : { staged: c.staged }) })), (n) => options.progress?.status(`${copying}: ${n}`));
  placed.catch(() => undefined); // awaited below: not an unhandled rejection meanwhile
  let state: RepoState;
  try {
    const segments = [...s.state.segments];
    const packages = [...s.state.packages];
    if (added.length > 0) {
      const seg = await writeSegment(repo, options.compress ?? s.state.compress, await blocksFor(read, freshIndices), s.segmentCache);
      segments.push(seg);
      for (const c of added) packages.push(storedPackage(c.record, seg.id));
    }
    state = await commit(s, packages, segments, [], placed);
  } catch (e) {
    // the copy still under way must end before the run's undo removes what it made
    await placed.catch(() => undefined);
    throw e;
  }
  return { repo, added: added.map((c) => c.record.href), unchanged, removed: [], metadataWritten: true, packages: state.packages.length };
}

/**
 * For a package we signed (its unsigned original's content digest `content`): whether the
 * published twin, or the twin earlier in the batch, has the same main header and payload, that
 * is, is the same package signed at another time (signing.ts explains why file bytes cannot tell).
 */
async function sameContent(repo: string, content: string, published: StoredPackage | undefined, batch: Candidate | undefined): Promise<boolean> {
  if (published) {
    const digest = await (await signing()).contentDigest(join(repo, ...published.href.split('/'))).catch(() => undefined);
    return digest === content;
  }
  return batch?.content === content;
}
