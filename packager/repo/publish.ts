/**
 * Publishing into a yum repository: `kpkg publish`, `kpkg repo index`, `kpkg repo prune`.
 *
 * Layout: packages under `Packages/<first letter>/<name>-<version>-<release>.<arch>.rpm` (the
 * Fedora/EL layout; createrepo_c finds them there too), metadata in `repodata/`, kpkg's own
 * state in `.kpkg/` (store.ts).
 *
 * Guarantees, and how:
 *  - one publisher at a time: every command holds `.kpkg/lock` (lock.ts) from reading the state to
 *    the last write;
 *  - published packages are immutable: a package whose file name or NEVRA is published with other
 *    bytes is refused (PACKAGE_CONFLICT, exit 2) before anything is written; the same bytes again
 *    change nothing;
 *  - readers never see a missing or mismatched file, and a publisher killed at any moment leaves a
 *    valid repository, by the order of the writes: each package is copied to a temporary name,
 *    fsynced, renamed into place; then the new metadata files, under new (checksum) names beside
 *    the old ones; then `.kpkg/state.json`; then `repomd.xml`, by one rename of an fsynced
 *    temporary file, followed by an fsync of the directory. Files that the new repomd.xml no
 *    longer lists (old metadata, pruned packages) are deleted by a later run once they have been
 *    unlisted for the grace period (15 minutes by default), so a reader holding the previous
 *    repomd.xml still finds everything it names. A run killed before its repomd.xml rename left
 *    only files no repomd.xml names (removed later) and a state that the next run completes.
 */
import { createHash, hash } from 'node:crypto';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { KpkgError, ioError, type ErrorCode } from '../errors.js';
import { bufferSource, fileSource, readRpmFrom, verifyDigests, type ByteSource, type DigestReport } from '../rpm/reader.js';
import { compareEVR } from '../rpm/version.js';
import { acquireLock, type Lock } from './lock.js';
import { CHUNKERS, METADATA_TYPES, renderRepomd, sortByHref, type MetadataCompression } from './metadata.js';
import { packageRecord } from './record.js';
import {
  compact,
  emptyState,
  filterSegment,
  forgetWrittenSegments,
  kpkgDir,
  loadState,
  nevraKey,
  readSegmentEntries,
  removeTemporaries,
  removeUnusedSegments,
  saveState,
  segmentsDir,
  storedPackage,
  writeMetadataFromSegments,
  writeSegment,
  BlockBuilder,
  blockSubset,
  type Block,
  type RepoState,
  type SegmentRef,
  type StoredPackage,
} from './store.js';
import type { MetadataType, RepoPackage } from './types.js';
import type { SigningKey } from '../sign/openpgp.js';
import { copyTimes, fsyncDir, readFully, removeCreatedDirs, settled, tempName, writeDurable } from '../util/fs.js';
import { prepareUndo, type Undo } from './undo.js';

// signing (signing.ts) loads openpgp.js: only when a key is given or the repository is signed
const signing = () => import('./signing.js');

export const DEFAULT_GRACE_MS = 15 * 60_000;
export const DEFAULT_LOCK_TIMEOUT_MS = 300_000;

export interface RepoOptions {
  /** Metadata compression; default: what the repository uses, else gzip. */
  compress?: MetadataCompression;
  /** How long unlisted files stay for readers of the previous repomd.xml (default 15 minutes). */
  graceMs?: number;
  /** How long to wait for another publisher (default 5 minutes). */
  lockTimeoutMs?: number;
  /** Progress messages. */
  log?: (message: string) => void;
  /** Packages read at once (default 8). */
  concurrency?: number;
  /**
   * Threads reading many packages (default: one per core, at most 4, with 4 cores or more; else
   * 1, this thread). The metadata bytes are the same whatever the number.
   */
  threads?: number;
  /**
   * Signs packages that arrive unsigned (a copy, never the caller's file) and repodata/repomd.xml
   * (repomd.xml.asc, repomd.xml.key): see signing.ts.
   */
  signKey?: SigningKey;
}

export interface PublishResult {
  repo: string;
  /** Packages copied in, relative paths. */
  added: string[];
  /** Packages given that were already published with the same bytes. */
  unchanged: string[];
  /** Packages removed from the metadata (prune). */
  removed: string[];
  /** Whether repodata/ was rewritten. */
  metadataWritten: boolean;
  packages: number;
}

/** A package read from disk, ready to publish. */
interface Candidate {
  source: string;
  record: RepoPackage;
  digests?: DigestReport;
  /** The file to copy into the repository when it is not `source`: a copy we signed. */
  copyFrom?: string;
  /** For a copy we signed: the content digest (signing.ts) of the unsigned original. */
  content?: string;
}

// ---------------------------------------------------------------------------------------------
// reading packages

/** Packages up to this size are read with one read (most are): far fewer system calls. */
const WHOLE_FILE_LIMIT = 64 << 20;

/**
 * A regular file of at most WHOLE_FILE_LIMIT bytes read whole, with its mtime (seconds), in one
 * open, fstat, read and close; undefined for a larger file or not a regular file.
 */
function readSmallFile(path: string): { data: Buffer; mtime: number } | undefined {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > WHOLE_FILE_LIMIT) return undefined;
    const data = Buffer.allocUnsafe(st.size);
    if (readFully(fd, data, 0, data.length, 0) < data.length) throw new Error(`${path}: shrank while read`);
    return { data, mtime: Math.floor(st.mtimeMs / 1000) };
  } finally {
    closeSync(fd);
  }
}

/** sha256 of the file, its digests checked, its record: one pass over the file. */
export async function readCandidate(path: string, href?: string): Promise<Candidate> {
  let src: ByteSource;
  let mtime: number;
  let whole: { data: Buffer; mtime: number } | undefined;
  try {
    whole = readSmallFile(path);
    if (whole) {
      mtime = whole.mtime;
      src = bufferSource(whole.data);
    } else {
      mtime = Math.floor(statSync(path).mtimeMs / 1000);
      src = await fileSource(path);
    }
  } catch (e) {
    throw new KpkgError('BAD_PACKAGE', `${path}: cannot read the package (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  try {
    const pkg = await readRpmFrom(src, path);
    let sha256: string;
    let digests: DigestReport;
    if (whole) {
      digests = await verifyDigests(pkg, src, { strongest: true });
      sha256 = hash('sha256', whole.data, 'hex');
    } else {
      const hash = createHash('sha256');
      hash.update(await src.read(0, pkg.payloadOffset, 'package'));
      let next = pkg.payloadOffset;
      // verifyDigests reads the payload once, in order: hash the whole file as it goes
      const tee: ByteSource = {
        size: src.size,
        async read(pos, length, structure) {
          const b = await src.read(pos, length, structure);
          if (pos === next) {
            hash.update(b);
            next += b.length;
          }
          return b;
        },
        close: async () => undefined,
      };
      digests = await verifyDigests(pkg, tee);
      if (next < src.size) hash.update(await src.read(next, src.size - next, 'payload'));
      sha256 = hash.digest('hex');
    }
    if (!digests.ok) {
      const bad = Object.entries(digests)
        .filter(([, v]) => v === 'bad')
        .map(([k]) => k);
      throw new KpkgError('BAD_PACKAGE', `${path}: the package is corrupted (${bad.length ? `${bad.join(', ')} do not match` : 'no digest to check'})`);
    }
    const record = packageRecord(pkg, { href: href ?? '', sha256, size: src.size, mtime });
    if (href === undefined) record.href = packageHref(record);
    return { source: path, record, digests };
  } catch (e) {
    if (e instanceof KpkgError && e.code === 'BAD_PACKAGE') {
      throw e.message.startsWith(path) ? e : new KpkgError('BAD_PACKAGE', `${path}: ${e.message}`, { cause: e });
    }
    if (e instanceof KpkgError) throw e;
    throw new KpkgError('BAD_PACKAGE', `${path}: cannot read the package (${(e as Error).message})`, { cause: e });
  } finally {
    await src.close();
  }
}

/** `Packages/<first letter>/<name>-<version>-<release>.<arch>.rpm`, the name rpmbuild gives. */
export function packageHref(p: Pick<RepoPackage, 'name' | 'version' | 'release' | 'arch'>): string {
  const file = `${p.name}-${p.version}-${p.release}.${p.arch}.rpm`;
  return `Packages/${p.name.charAt(0).toLowerCase()}/${file}`;
}

// Reading many packages (an index) is CPU-bound: header decoding, hashes, XML, compression. The
// packages are read in blocks of BLOCK_SIZE, each rendered into its three chunks and compressed
// (store.ts Block); with 4 cores or more and enough packages, on worker threads, each taking a
// contiguous run of blocks (RepoOptions.threads). Blocks have a fixed size whatever the number of
// threads, so the bytes of the metadata depend on the packages only. Workers run only from the
// compiled module (a worker cannot load the TypeScript source).
const BLOCK_SIZE = 256;
// On 2 cores, workers lose: each starts with cold code (the first thousand packages read at half
// the speed of the next) and two busy threads got a 1.3x speed-up only from the two cores; an
// index of 5,000 packages took 1.32x the time and 1.58x the CPU of one thread.
const WORKER_MIN_CORES = 4;

interface ReadItem {
  path: string;
  href?: string;
}

interface ReadJob {
  kpkgReadPackages: true;
  items: ReadItem[];
  compress: MetadataCompression;
}

/** What reading gives: every package, and the blocks holding their chunks (block k: packages kB to (k+1)B - 1). */
interface ReadResult {
  candidates: Candidate[];
  blocks: Block[];
}

type ReadReply = ({ ok: true } & ReadResult) | { ok: false; code: string; message: string };

/** The fields of a record that the state, the conflict checks and the messages use. */
function summary(r: RepoPackage): RepoPackage {
  const { pkgid, href, name, epoch, version, release, arch, sizePackage } = r;
  return { pkgid, href, name, epoch, version, release, arch, sizePackage } as RepoPackage;
}

/** Reads `items` in this thread; the candidates keep only what the state needs of their records. */
async function readHere(items: readonly ReadItem[], compress: MetadataCompression, concurrency: number): Promise<ReadResult> {
  const out: ReadResult = { candidates: [], blocks: [] };
  const blocks: Promise<Block>[] = [];
  for (let k = 0; k < items.length; k += BLOCK_SIZE) {
    const builder = new BlockBuilder();
    // each package rendered as soon as read and added to the block in order (the few read
    // ahead wait in `ready`): whole records do not outlive their package
    const ready = new Map<number, { pkgid: string; chunks: Record<MetadataType, string> }>();
    await mapLimit(items.slice(k, k + BLOCK_SIZE), concurrency, async (it, i) => {
      const c = await readCandidate(it.path, it.href);
      // only what the state needs is kept (and, from a worker, sent back)
      out.candidates[k + i] = { source: c.source, record: summary(c.record) };
      ready.set(i, { pkgid: c.record.pkgid, chunks: { primary: CHUNKERS.primary(c.record), filelists: CHUNKERS.filelists(c.record), other: CHUNKERS.other(c.record) } });
      for (let next = builder.size; ready.has(next); next++) {
        const r = ready.get(next)!;
        ready.delete(next);
        builder.add(r.pkgid, r.chunks);
      }
    });
    // compressed on the thread pool while the next block is read
    blocks.push(builder.finish(compress));
  }
  out.blocks = await Promise.all(blocks);
  return out;
}

if (!isMainThread && (workerData as ReadJob | undefined)?.kpkgReadPackages) {
  const job = workerData as ReadJob;
  readHere(job.items, job.compress, 1).then(
    (r) => parentPort!.postMessage({ ok: true, ...r } satisfies ReadReply),
    (e: unknown) => parentPort!.postMessage({ ok: false, code: e instanceof KpkgError ? e.code : 'INTERNAL', message: e instanceof Error ? e.message : String(e) } satisfies ReadReply),
  );
}

/** A Buffer again (structured cloning turns Buffers into plain Uint8Arrays). */
const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** Reads `items` (in order), on worker threads when there are many and several cores. */
async function readMany(items: readonly ReadItem[], compress: MetadataCompression, options: RepoOptions): Promise<ReadResult> {
  const cores = availableParallelism();
  const threads = options.threads ?? (cores >= WORKER_MIN_CORES ? Math.min(cores, 4) : 1);
  const self = fileURLToPath(import.meta.url);
  if (items.length <= BLOCK_SIZE || threads < 2 || !self.endsWith('.js')) return readHere(items, compress, options.concurrency ?? 8);
  // whole blocks per worker
  const share = Math.ceil(Math.ceil(items.length / BLOCK_SIZE) / threads) * BLOCK_SIZE;
  const shares = Array.from({ length: Math.ceil(items.length / share) }, (_, i) => items.slice(i * share, (i + 1) * share));
  const replies = await Promise.all(
    shares.map(
      (share) =>
        new Promise<ReadReply>((resolve, reject) => {
          const worker = new Worker(self, { workerData: { kpkgReadPackages: true, items: share, compress } satisfies ReadJob });
          worker.once('message', (m: ReadReply) => {
            resolve(m);
            void worker.terminate();
          });
          worker.once('error', reject);
        }),
    ),
  );
  const out: ReadResult = { candidates: [], blocks: [] };
  for (const r of replies) {
    if (!r.ok) throw new KpkgError(r.code as ErrorCode, r.message);
    out.candidates.push(...r.candidates);
    for (const b of r.blocks) {
      for (const type of METADATA_TYPES) {
        b.texts[type] = asBuffer(b.texts[type]);
        b.packed[type] = asBuffer(b.packed[type]);
      }
      out.blocks.push(b);
    }
  }
  return out;
}

/** The blocks holding the packages at `indices` (ascending) of what was read. */
async function blocksFor(read: ReadResult, indices: readonly number[]): Promise<Block[]> {
  const byBlock = new Map<number, number[]>();
  for (const i of indices) {
    const k = Math.floor(i / BLOCK_SIZE);
    const list = byBlock.get(k) ?? [];
    list.push(i - k * BLOCK_SIZE);
    byBlock.set(k, list);
  }
  return Promise.all([...byBlock].map(([k, local]) => blockSubset(read.blocks[k] as Block, local)));
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---------------------------------------------------------------------------------------------
// the lock and the state

interface Session {
  repo: string;
  lock: Lock;
  state: RepoState;
  options: RepoOptions;
  undo: Undo;
}

async function withRepository<T>(repo: string, what: string, options: RepoOptions, fn: (s: Session) => Promise<T>): Promise<T> {
  // what a failed run leaves of the directories it made: nothing
  const created: [string, string | undefined][] = [];
  const removeCreated = async () => {
    for (const [dir, first] of created.reverse()) await removeCreatedDirs(dir, first);
  };
  try {
    for (const dir of [segmentsDir(repo), join(repo, 'repodata')]) created.push([dir, await mkdir(dir, { recursive: true })]);
  } catch (e) {
    await removeCreated();
    throw ioError('create', repo, e);
  }
  let lock: Lock;
  try {
    lock = await acquireLock(join(kpkgDir(repo), 'lock'), {
      timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      what,
      onWait: (o) => options.log?.(`waiting for the publisher holding ${repo}${o ? ` (pid ${o.pid} on ${o.host})` : ''}`),
    });
  } catch (e) {
    await removeCreated();
    throw e;
  }
  let done = false;
  try {
    // we hold the lock: any temporary file is from a publisher that was killed (packages are
    // copied to temporary files in .kpkg/, so Packages/ need not be read)
    await removeTemporaries([kpkgDir(repo), segmentsDir(repo), join(repo, 'repodata')]);
    // a run that fails leaves the repository as it found it (undo.ts)
    const undo = await prepareUndo(repo);
    try {
      const state = (await loadState(repo)) ?? emptyState(options.compress ?? 'gzip');
      const result = await fn({ repo, lock, state, options, undo });
      done = true;
      return result;
    } finally {
      if (done) await undo.forget();
      else if (await lock.assertHeld().then(() => true, () => false)) await undo.undo();
    }
  } finally {
    forgetWrittenSegments();
    await lock.release();
    if (!done) await removeCreated();
  }
}

/** Whether repodata/repomd.xml is what the state says it should be. */
async function repomdCurrent(repo: string, state: RepoState): Promise<boolean> {
  if (state.metadata.length === 0) return false;
  try {
    const text = await readFile(join(repo, 'repodata', 'repomd.xml'), 'utf8');
    if (text !== renderRepomd(state.metadata, state.revision)) return false;
    for (const m of state.metadata) await stat(join(repo, m.href));
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes the metadata for `packages` in `segments`, the state, then repomd.xml; then deletes what
 * has been unlisted for longer than the grace period.
 */
async function commit(s: Session, packages: StoredPackage[], segments: SegmentRef[], unlisted: string[] = []): Promise<RepoState> {
  const { repo, options } = s;
  const compress = options.compress ?? s.state.compress;
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const merged = await compact(repo, compress, segments);
  // the segment a package is in, after merging (only the segments merging made are read)
  const before = new Set(segments.map((seg) => seg.id));
  const segOf = new Map<string, string>();
  for (const seg of merged) {
    if (before.has(seg.id)) continue;
    for (const e of await readSegmentEntries(repo, seg.id)) segOf.set(e.pkgid, seg.id);
  }
  const pkgs = packages.map((p) => ({ ...p, segment: segOf.get(p.pkgid) ?? p.segment })).sort((a, b) => (a.href < b.href ? -1 : a.href > b.href ? 1 : 0));
  const metadata = await settled(METADATA_TYPES.map((type) => writeMetadataFromSegments(repo, compress, merged, type)));
  await fsyncDir(join(repo, 'repodata'));

  const now = Date.now();
  const listed = new Set<string>([...metadata.map((m) => m.href), ...pkgs.map((p) => p.href)]);
  const pending = new Map<string, number>();
  for (const p of s.state.pending) if (!listed.has(p.path)) pending.set(p.path, p.since);
  for (const p of unlisted) if (!listed.has(p) && !pending.has(p)) pending.set(p, now);
  // every file of repodata/ the new repomd.xml does not list: old metadata, or written by a
  // publisher killed before its repomd.xml
  for (const name of await readdir(join(repo, 'repodata'))) {
    const path = `repodata/${name}`;
    if (name.startsWith('.') || name === 'repomd.xml' || name === 'repomd.xml.asc' || name === 'repomd.xml.key' || listed.has(path) || pending.has(path)) continue;
    pending.set(path, now);
  }
  const expired = [...pending].filter(([, since]) => now - since >= graceMs).map(([path]) => path);
  for (const p of expired) pending.delete(p);

  const revision = Math.max(Math.floor(now / 1000), s.state.revision + 1);
  const state: RepoState = {
    format: s.state.format,
    compress,
    packages: pkgs,
    segments: merged,
    metadata,
    revision,
    pending: [...pending].map(([path, since]) => ({ path, since })).sort((a, b) => (a.path < b.path ? -1 : 1)),
  };
  await s.lock.assertHeld();
  await saveState(repo, state);
  const repomd = renderRepomd(metadata, revision);
  // signed before repomd.xml is replaced; the signature renamed in right after it (signing.ts)
  const signature = options.signKey ? await (await signing()).prepareRepomdSignature(repo, repomd, options.signKey, true) : undefined;
  await s.lock.assertHeld().catch(async (e: unknown) => {
    await signature?.abandon();
    throw e;
  });
  if (signature) await signature.install(); // repomd.xml, then repomd.xml.asc
  else {
    await writeDurable(join(repo, 'repodata', 'repomd.xml'), repomd);
    // index or prune of a signed repository (publish refuses without the key): the signature no
    // longer matches it, and a signature that fails misleads more than none; the next publish
    // --sign-key signs again
    const asc = join(repo, 'repodata', 'repomd.xml.asc');
    if (await stat(asc).then(() => true, () => false)) {
      await rm(asc, { force: true });
      options.log?.(`repodata/repomd.xml.asc removed: it signed the previous repomd.xml (sign again with --sign-key)`);
    }
  }
  options.log?.(`repodata/repomd.xml: revision ${revision}, ${pkgs.length} packages${signature ? `, signed with key ${options.signKey!.keyId}` : ''}`);

  for (const p of expired) await rm(join(repo, p), { force: true }).catch(() => undefined);
  await removeUnusedSegments(repo, merged);
  s.state = state;
  return state;
}

/**
 * Deletes what has been unlisted for longer than the grace period, without touching the
 * metadata (a run that had nothing else to do).
 */
async function collectGarbage(s: Session): Promise<void> {
  const now = Date.now();
  const graceMs = s.options.graceMs ?? DEFAULT_GRACE_MS;
  const expired = s.state.pending.filter((p) => now - p.since >= graceMs);
  if (expired.length === 0) return;
  const state: RepoState = { ...s.state, pending: s.state.pending.filter((p) => now - p.since < graceMs) };
  await s.lock.assertHeld();
  await saveState(s.repo, state);
  for (const p of expired) await rm(join(s.repo, p.path), { force: true }).catch(() => undefined);
  s.state = state;
}

/**
 * Copies `from` into the repository at `href`: a temporary file in `.kpkg/` (where a killed
 * publisher's leftovers are swept), fsync, rename into place, fsync of the directory.
 */
async function copyIn(s: Session, from: string, href: string): Promise<void> {
  const to = join(s.repo, ...href.split('/'));
  const dir = join(to, '..');
  await mkdir(dir, { recursive: true });
  const tmp = tempName(join(kpkgDir(s.repo), basename(to)));
  try {
    await copyFile(from, tmp);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    // keep the source's mtime: the record's file time, as `cp -p`
    await copyTimes(await stat(from), tmp);
    if (!(await stat(to).then(() => true, () => false))) s.undo.creating(to);
    await rename(tmp, to);
  } catch (e) {
    await rm(tmp, { force: true });
    throw ioError('copy into the repository', to, e);
  }
  await fsyncDir(dir);
}

// ---------------------------------------------------------------------------------------------
// publish

/**
 * Adds `rpms` to the repository `repo`: refuses them all (PACKAGE_CONFLICT) when one would
 * replace a published package with other bytes, else copies the new ones in and updates the
 * metadata, reading only the new packages.
 */
export async function publish(rpms: readonly string[], repo: string, options: RepoOptions = {}): Promise<PublishResult> {
  if (rpms.length === 0) throw new KpkgError('USAGE', 'no package to publish');
  // with a key, unsigned packages are published as signed copies (signing.ts)
  const staged = options.signKey ? await (await signing()).stageSigned(rpms, options.signKey, options.log) : undefined;
  try {
    return await publishStaged(rpms, staged?.packages, repo, options);
  } finally {
    await staged?.cleanup();
  }
}

async function publishStaged(rpms: readonly string[], staged: import('./signing.js').StagedPackage[] | undefined, repo: string, options: RepoOptions): Promise<PublishResult> {
  // read (and check) every package before taking the lock: the slow part, done in parallel
  // the blocks are compressed as the repository most likely wants (rewritten by writeSegment if not)
  const read = await readMany((staged?.map((p) => p.path) ?? rpms).map((path) => ({ path })), options.compress ?? 'gzip', options);
  const candidates = read.candidates;
  staged?.forEach((p, i) => {
    const c = candidates[i]!;
    if (p.content === undefined) return;
    c.copyFrom = p.path;
    c.source = p.original;
    c.content = p.content;
  });
  return withRepository(repo, `kpkg publish ${rpms.length} package(s)`, options, async (s) => {
    // a signed repository takes no unsigned publish (checked here: openpgp.js loads only when signing)
    if (!options.signKey && (await stat(join(repo, 'repodata', 'repomd.xml.asc')).then(() => true, () => false))) {
      await (await signing()).refuseUnsignedIntoSigned(repo);
    }
    if (s.state.packages.length === 0 && s.state.metadata.length === 0 && (await findPackages(repo, new Set())).length > 0) {
      // a repository kpkg did not make (createrepo_c's): adopt what is there first
      options.log?.(`${repo}: not published by kpkg before: indexing the packages present`);
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
          options.log?.(`repodata/repomd.xml: signed with key ${options.signKey.keyId}`);
        }
      }
      return { repo, added: [], unchanged, removed: [], metadataWritten: false, packages: s.state.packages.length };
    }
    for (const c of added) {
      await copyIn(s, c.copyFrom ?? c.source, c.record.href);
      options.log?.(`${c.record.href}`);
    }
    const segments = [...s.state.segments];
    const packages = [...s.state.packages];
    if (added.length > 0) {
      const seg = await writeSegment(repo, options.compress ?? s.state.compress, await blocksFor(read, freshIndices));
      segments.push(seg);
      for (const c of added) packages.push(storedPackage(c.record, seg.id));
    }
    const state = await commit(s, packages, segments);
    return { repo, added: added.map((c) => c.record.href), unchanged, removed: [], metadataWritten: true, packages: state.packages.length };
  });
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

// ---------------------------------------------------------------------------------------------
// index

/** Every `.rpm` under `repo` (relative paths, `/`-separated, in createrepo_c's order) but kpkg's and repodata's own, and `skip`. */
async function findPackages(repo: string, skip: ReadonlySet<string>): Promise<string[]> {
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

async function reindex(s: Session): Promise<{ records: RepoPackage[] }> {
  const { repo, options } = s;
  const pendingPaths = new Set(s.state.pending.map((p) => p.path));
  const files = await findPackages(repo, pendingPaths);
  options.log?.(`${repo}: reading ${files.length} packages`);
  const compress = options.compress ?? s.state.compress;
  const root = join(repo, '_').slice(0, -1); // the repository directory and a separator
  const read = await readMany(files.map((rel) => ({ path: root + rel, href: rel })), compress, options);
  const candidates = read.candidates;
  options.log?.(`${repo}: read ${candidates.length} packages`);
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
  const seg = await writeSegment(repo, compress, await blocksFor(read, listed));
  await commit(s, records.map((r) => storedPackage(r, seg.id)), [seg]);
  return { records };
}

/** Rebuilds the metadata from the packages present under `repo`, reading every one. */
export async function indexRepository(repo: string, options: RepoOptions = {}): Promise<PublishResult> {
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

// ---------------------------------------------------------------------------------------------
// prune

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
        const kept = await filterSegment(repo, seg, compress, (id) => !gone.has(id));
        if (kept) segments.push(kept);
      }
    }
    const packages = s.state.packages.filter((p) => !gone.has(p.pkgid));
    await commit(s, packages, segments, doomed.map((p) => p.href));
    for (const p of doomed) options.log?.(`removed ${p.href}`);
    return { repo, added: [], unchanged: [], removed: doomed.map((p) => p.href), metadataWritten: true, packages: packages.length };
  });
}

// ---------------------------------------------------------------------------------------------
// check

// `kpkg repo check` reads the repository through the shared metadata reader (check.ts)
export { checkRepository, type CheckReport } from './check.js';
