/**
 * Reading packages for the repository: each file read once, its digests checked, its record made;
 * many packages rendered into blocks of metadata chunks, on worker threads (read-worker.ts) when
 * there are many and enough cores.
 */
import { createHash, hash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, futimesSync, openSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { inputError, ioError, KpkgError, type ErrorCode } from '../errors.js';
import { bufferSource, fileSource, readRpmFrom, verifyDigests, type ByteSource, type DigestReport } from '../rpm/reader.js';
import { eachLimit, readFully } from '../util/fs.js';
import { CHUNKERS, METADATA_TYPES, type MetadataCompression } from './metadata.js';
import { packageRecord } from './record.js';
import type { RepoOptions } from './session.js';
import { BlockBuilder, blockSubset, type Block } from './store.js';
import type { MetadataType, RepoPackage } from './types.js';

/** A package read from disk, ready to publish. */
export interface Candidate {
  source: string;
  record: RepoPackage;
  digests?: DigestReport;
  /** The file to copy into the repository when it is not `source`: a copy we signed. */
  copyFrom?: string;
  /** For a copy we signed: the content digest (signing.ts) of the unsigned original. */
  content?: string;
  /**
   * The bytes read and checked, written to a temporary file (in the `stage` directory given to
   * readCandidate) with the source's times: what publish renames into the repository, so the
   * file published is the one whose digests the metadata lists, read once.
   */
  staged?: string;
}

/** Packages up to this size are read with one read (most are): far fewer system calls. */
const WHOLE_FILE_LIMIT = 64 << 20;

/**
 * A regular file of at most WHOLE_FILE_LIMIT bytes read whole, with its mtime (seconds), in one
 * open, fstat, read and close; undefined for a larger file or not a regular file.
 */
function readSmallFile(path: string): { data: Buffer; mtime: number; st: Stats } | undefined {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > WHOLE_FILE_LIMIT) return undefined;
    const data = Buffer.allocUnsafe(st.size);
    if (readFully(fd, data, 0, data.length, 0) < data.length) throw new Error(`${path}: shrank while read`);
    return { data, mtime: Math.floor(st.mtimeMs / 1000), st };
  } finally {
    closeSync(fd);
  }
}

/** Names of the staged copies of this thread (a worker has its own): a random token and a count. */
const STAGE_TOKEN = `${process.pid}.${randomBytes(6).toString('hex')}`;
let stagedCount = 0;

/**
 * Writes `data`, read from `source` (its stat `st`), to a new temporary file in `dir`, mode 0644
 * (readable by the web server whatever the source's mode), with the source's access and
 * modification times as `cp -p` keeps them. Synchronous: a small file, and no thread-pool round
 * trip per package. Not fsynced: the caller syncs all of them at once (session.ts copyIn).
 */
function stageCopy(dir: string, source: string, data: Buffer, st: Stats): string {
  // unique without random bytes per file (tempName's): this thread's token and a counter
  const tmp = `${dir}${sep}.${basename(source)}.${STAGE_TOKEN}.${++stagedCount}.tmp`; // not join(): its normalising costs, once per package
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done);
      futimesSync(fd, st.atimeMs / 1000, st.mtimeMs / 1000);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // not created, or already gone
    }
    throw ioError(`copy ${source} into`, dir, e);
  }
  return tmp;
}

/**
 * sha256 of the file, its digests checked, its record: one pass over the file. With `stage` (a
 * directory), a package small enough to be read whole is also written there (Candidate.staged).
 */
export async function readCandidate(path: string, href?: string, stage?: string): Promise<Candidate> {
  let src: ByteSource;
  let mtime: number;
  let whole: { data: Buffer; mtime: number; st: Stats } | undefined;
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
    throw e instanceof KpkgError ? e : inputError('read', path, e);
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
    const staged = stage !== undefined && whole ? stageCopy(stage, path, whole.data, whole.st) : undefined;
    return staged === undefined ? { source: path, record, digests } : { source: path, record, digests, staged };
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

/**
 * `Packages/<first letter>/<name>-<version>-<release>.<arch>.rpm`, the name rpmbuild gives. The
 * four come from the package's header, which anyone can write (its digests are no signature):
 * each must stay one part of one file name, or a package named `x/../../../etc/cron.d/job` would
 * be written outside the repository. rpmbuild refuses a `/` in any of them and a name that does
 * not start with a letter, a digit, `_` or `%`: a package with one was not made by rpmbuild.
 * Throws KpkgError('BAD_PACKAGE').
 */
export function packageHref(p: Pick<RepoPackage, 'name' | 'version' | 'release' | 'arch'>): string {
  for (const field of ['name', 'version', 'release', 'arch'] as const) {
    const value = p[field];
    if (value === '' || value.includes('/') || value.includes('\0')) {
      throw new KpkgError('BAD_PACKAGE', `its ${field} ${JSON.stringify(value)} cannot be part of a file name (${value === '' ? 'empty' : 'it holds a / or NUL'}): rpmbuild makes no such package`);
    }
  }
  if (p.name.startsWith('.')) throw new KpkgError('BAD_PACKAGE', `its name ${JSON.stringify(p.name)} starts with a dot (a hidden file name): rpmbuild makes no such package`);
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

export interface ReadJob {
  kpkgReadPackages: true;
  items: ReadItem[];
  compress: MetadataCompression;
  stage?: string;
}

/** What reading gives: every package, and the blocks holding their chunks (block k: packages kB to (k+1)B - 1). */
interface ReadResult {
  candidates: Candidate[];
  blocks: Block[];
}

export type ReadReply = ({ ok: true } & ReadResult) | { ok: false; code: string; message: string };

/** The fields of a record that the state, the conflict checks and the messages use. */
function summary(r: RepoPackage): RepoPackage {
  const { pkgid, href, name, epoch, version, release, arch, sizePackage } = r;
  return { pkgid, href, name, epoch, version, release, arch, sizePackage } as RepoPackage;
}

/**
 * Reads `items` in this thread; the candidates keep only what the state needs of their records.
 * With `stage`, each package read whole is also copied there (readCandidate).
 */
export async function readHere(items: readonly ReadItem[], compress: MetadataCompression, concurrency: number, stage?: string): Promise<ReadResult> {
  const out: ReadResult = { candidates: [], blocks: [] };
  const blocks: Promise<Block>[] = [];
  for (let k = 0; k < items.length; k += BLOCK_SIZE) {
    const builder = new BlockBuilder();
    // each package rendered as soon as read and added to the block in order (the few read
    // ahead wait in `ready`): whole records do not outlive their package
    const ready = new Map<number, { pkgid: string; chunks: Record<MetadataType, string> }>();
    // on a failure, eachLimit starts no other package and waits for those being read: nothing is
    // still writing into `stage` when the caller cleans up
    await eachLimit(items.slice(k, k + BLOCK_SIZE), concurrency, async (it, i) => {
      const c = await readCandidate(it.path, it.href, stage);
      // only what the state needs is kept (and, from a worker, sent back)
      out.candidates[k + i] = c.staged === undefined ? { source: c.source, record: summary(c.record) } : { source: c.source, record: summary(c.record), staged: c.staged };
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

/** A Buffer again (structured cloning turns Buffers into plain Uint8Arrays). */
const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/**
 * Reads `items` (in order), on worker threads when there are many and several cores; with
 * `stage`, copying each package read whole there as it goes (readCandidate).
 */
export async function readMany(items: readonly ReadItem[], compress: MetadataCompression, options: RepoOptions, stage?: string): Promise<ReadResult> {
  const cores = availableParallelism();
  const threads = options.threads ?? (cores >= WORKER_MIN_CORES ? Math.min(cores, 4) : 1);
  // workers run the compiled read-worker.js; from the TypeScript sources (tests), this thread reads
  const compiled = import.meta.url.endsWith('.js');
  if (items.length <= BLOCK_SIZE || threads < 2 || !compiled) return readHere(items, compress, options.concurrency ?? 8, stage);
  const workerFile = fileURLToPath(new URL('./read-worker.js', import.meta.url));
  // whole blocks per worker
  const share = Math.ceil(Math.ceil(items.length / BLOCK_SIZE) / threads) * BLOCK_SIZE;
  const shares = Array.from({ length: Math.ceil(items.length / share) }, (_, i) => items.slice(i * share, (i + 1) * share));
  const replies = await Promise.all(
    shares.map(
      (share) =>
        new Promise<ReadReply>((resolve, reject) => {
          const worker = new Worker(workerFile, { workerData: (stage === undefined ? { kpkgReadPackages: true, items: share, compress } : { kpkgReadPackages: true, items: share, compress, stage }) satisfies ReadJob });
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
export async function blocksFor(read: ReadResult, indices: readonly number[]): Promise<Block[]> {
  const byBlock = new Map<number, number[]>();
  for (const i of indices) {
    const k = Math.floor(i / BLOCK_SIZE);
    const list = byBlock.get(k) ?? [];
    list.push(i - k * BLOCK_SIZE);
    byBlock.set(k, list);
  }
  return Promise.all([...byBlock].map(([k, local]) => blockSubset(read.blocks[k] as Block, local)));
}
