/**
 * Writes an RPM v4 package, streaming: file bodies go through the cpio encoder and the compressor
 * into a spool file next to the output, never held whole in memory; the headers, which must come
 * before the payload but describe it (digests, sizes), are assembled afterwards.
 *
 * Policy lives here (which tags a package gets); the byte formats live in header.ts, lead.ts and
 * cpio.ts.
 */
import { createHash, hash as hashOnce, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { availableParallelism, hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { constants as zlibConstants, crc32, deflateRaw, type ZlibOptions } from 'node:zlib';
import { KpkgError, ioError } from '../errors.js';
import { readFully, writeAll } from '../util/fs.js';
import { type Compression, createCompressor, payloadCompressorName, payloadFlags, resolveLevel } from './compress.js';
import { encodeNewcHeader, encodeStrippedHeader, encodeTrailer, NEWC_MAX_SIZE, pad4 } from './cpio.js';
import {
  RPMSENSE_EQUAL,
  RPMSENSE_INTERP,
  RPMSENSE_LESS,
  RPMSENSE_POSTTRANS,
  RPMSENSE_PRETRANS,
  RPMSENSE_RPMLIB,
  RPMSENSE_SCRIPT_POST,
  RPMSENSE_SCRIPT_POSTUN,
  RPMSENSE_SCRIPT_PRE,
  RPMSENSE_SCRIPT_PREUN,
  validateDependency,
} from './dependency.js';
import { Header, type TagValue } from './header.js';
import { encodeLead } from './lead.js';
import { DEPENDENCY_KINDS, DEPENDENCY_TAGS, type DependencyKind, FileFlag, PGPHASHALGO_SHA256, RPMVERIFY_ALL, SIG_TAG_TYPES, SigTag, Tag, TAG_TYPES, TagType } from './tags.js';

export type FileKind = 'file' | 'dir' | 'symlink';

export interface PackageFile {
  /** Absolute install path, normalised: `/opt/kelkoo/shop/bin/shop`. */
  path: string;
  kind: FileKind;
  /** Permission bits (07777). Defaults: 0644 files, 0755 directories, 0777 symlinks. */
  mode?: number;
  user?: string;
  group?: string;
  /** Seconds since the epoch; replaced by SOURCE_DATE_EPOCH when that is set. */
  mtime?: number;
  /** For `file`: where to read the body from... */
  source?: string;
  /** ...or the body itself (small generated files: launchers, units). */
  content?: Buffer | string;
  /** For `symlink`: the target, kept as written. */
  target?: string;
  config?: boolean;
  noreplace?: boolean;
  missingok?: boolean;
  doc?: boolean;
  license?: boolean;
  ghost?: boolean;
  lang?: string;
}

export interface DependencySpec {
  name: string;
  flags?: number;
  version?: string;
}

export type ScriptName = 'pretrans' | 'pre' | 'post' | 'preun' | 'postun' | 'posttrans';

export interface Script {
  body: string;
  /** Default `/bin/sh`. */
  interpreter?: string;
}

export interface ChangelogEntry {
  /** Seconds since the epoch. */
  time: number;
  /** `Name <email> - version-release`, as in a spec file. */
  author: string;
  text: string;
}

export interface PackageSpec {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  arch?: string;
  os?: string;
  summary: string;
  description: string;
  license: string;
  group?: string;
  url?: string;
  vendor?: string;
  packager?: string;
  distribution?: string;
  bugUrl?: string;
  buildHost?: string;
  sourceRpm?: string;
  prefixes?: string[];
  provides?: DependencySpec[];
  requires?: DependencySpec[];
  conflicts?: DependencySpec[];
  obsoletes?: DependencySpec[];
  recommends?: DependencySpec[];
  suggests?: DependencySpec[];
  supplements?: DependencySpec[];
  enhances?: DependencySpec[];
  scripts?: Partial<Record<ScriptName, Script | string>>;
  changelog?: ChangelogEntry[];
  files: PackageFile[];
}

export interface WriteOptions {
  compression?: Compression;
  level?: number;
  /** Seconds; defaults to the SOURCE_DATE_EPOCH environment variable when set. */
  sourceDateEpoch?: number;
}

export interface WrittenPackage {
  path: string;
  fileName: string;
  size: number;
  nevra: string;
  payloadSize: number;
  archiveSize: number;
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/**
 * FILESIZES of a directory: rpmbuild 4.18 records 0 (test/fixtures/rpmbuild, and
 * test/system/rpm-writer.test.ts compares with it), so directories add nothing to SIZE either.
 */
const DIR_SIZE = 0;
const READ_CHUNK = 1 << 20;
/** The archive goes to the compressor in blocks of this size... */
const PAYLOAD_BLOCK = 1 << 20;
/** ...of which a compressor stream may hold this much, so that it never waits for input. */
const IN_FLIGHT = 2 * PAYLOAD_BLOCK;
/** Compressed output goes to the spool file in writes of this size. */
const SPOOL_CHUNK = 1 << 20;
const ZEROS = Buffer.alloc(4);
const UINT32_MAX = 0xffffffff;

/** rpmlib() features a package can need (lib/rpmds.c rpmlibProvides). */
const RPMLIB = {
  CompressedFileNames: '3.0.4-1',
  FileDigests: '4.6.0-1',
  PayloadFilesHavePrefix: '4.0-1',
  PayloadIsZstd: '5.4.18-1',
  PayloadIsXz: '5.2-1',
  RichDependencies: '4.12.0-1',
  LargeFiles: '4.12.0-1',
  TildeInVersions: '4.10.0-1',
  CaretInVersions: '4.15.0-1',
} as const;

const SCRIPT_TAGS: Record<ScriptName, { body: number; prog: number; sense: number }> = {
  pretrans: { body: Tag.PRETRANS, prog: Tag.PRETRANSPROG, sense: RPMSENSE_PRETRANS },
  pre: { body: Tag.PREIN, prog: Tag.PREINPROG, sense: RPMSENSE_SCRIPT_PRE },
  post: { body: Tag.POSTIN, prog: Tag.POSTINPROG, sense: RPMSENSE_SCRIPT_POST },
  preun: { body: Tag.PREUN, prog: Tag.PREUNPROG, sense: RPMSENSE_SCRIPT_PREUN },
  postun: { body: Tag.POSTUN, prog: Tag.POSTUNPROG, sense: RPMSENSE_SCRIPT_POSTUN },
  posttrans: { body: Tag.POSTTRANS, prog: Tag.POSTTRANSPROG, sense: RPMSENSE_POSTTRANS },
};

/** One file as it will be recorded: everything the header needs, in header order. */
interface FileRecord {
  file: PackageFile;
  pathBytes: Buffer;
  mode: number;
  size: number;
  mtime: number;
  digest: string;
  linkTo: string;
  flags: number;
}

export function packageFileName(spec: Pick<PackageSpec, 'name' | 'version' | 'release' | 'arch'>): string {
  return `${spec.name}-${spec.version}-${spec.release}.${spec.arch ?? 'noarch'}.rpm`;
}

export function nevraOf(spec: Pick<PackageSpec, 'name' | 'version' | 'release' | 'arch' | 'epoch'>): string {
  const e = spec.epoch ? `${spec.epoch}:` : '';
  return `${spec.name}-${e}${spec.version}-${spec.release}.${spec.arch ?? 'noarch'}`;
}

/**
 * Writes `spec` as an RPM file at `outPath`, atomically: the file appears complete or not at all.
 */
export async function writeRpm(spec: PackageSpec, outPath: string, options: WriteOptions = {}): Promise<WrittenPackage> {
  validateSpec(spec);
  const epoch = options.sourceDateEpoch ?? sourceDateEpochFromEnv();
  const compression = options.compression ?? 'gzip';
  const records = await collectFiles(spec.files, epoch);
  const large = records.some((r) => r.size >= NEWC_MAX_SIZE);

  const outDir = dirname(outPath);
  await mkdir(outDir, { recursive: true }).catch((e: unknown) => {
    throw ioError('create directory', outDir, e);
  });
  const tag = `.${basename(outPath)}.${process.pid}.${Date.now().toString(36)}`;
  const spoolPath = join(outDir, `${tag}.payload`);
  const tmpPath = join(outDir, `${tag}.tmp`);
  try {
    const payload = await writePayload(records, spoolPath, compression, options.level, large);
    const header = buildHeader(spec, records, payload, compression, options.level, epoch, large);
    const headerBytes = header.encode(Tag.HEADERIMMUTABLE);
    const written = await assemble(spec, headerBytes, payload, spoolPath, tmpPath);
    await rename(tmpPath, outPath).catch((e: unknown) => {
      throw ioError('rename to', outPath, e);
    });
    return {
      path: outPath,
      fileName: basename(outPath),
      size: written.size,
      nevra: nevraOf(spec),
      payloadSize: payload.compressedSize,
      archiveSize: payload.archiveSize,
    };
  } finally {
    await rm(spoolPath, { force: true });
    await rm(tmpPath, { force: true });
  }
}

export function sourceDateEpochFromEnv(): number | undefined {
  const raw = process.env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new KpkgError('INVALID_INPUT', `SOURCE_DATE_EPOCH must be a number of seconds, found ${JSON.stringify(raw)}`);
  return Number(raw);
}

// ---------------------------------------------------------------------------------------------
// validation and file records

const NAME_RE = /^[A-Za-z0-9_+][A-Za-z0-9._+-]*$/;
const VERSION_RE = /^[A-Za-z0-9._+~^]+$/;

function validateSpec(spec: PackageSpec): void {
  const bad = (field: string, why: string) => {
    throw new KpkgError('INVALID_INPUT', `package ${field}: ${why}`);
  };
  if (!NAME_RE.test(spec.name)) bad('name', `${JSON.stringify(spec.name)} is not a valid RPM name`);
  if (!VERSION_RE.test(spec.version)) bad('version', `${JSON.stringify(spec.version)} may only contain letters, digits and . _ + ~ ^`);
  if (!VERSION_RE.test(spec.release)) bad('release', `${JSON.stringify(spec.release)} may only contain letters, digits and . _ + ~ ^`);
  if (spec.epoch !== undefined && (!Number.isInteger(spec.epoch) || spec.epoch < 0 || spec.epoch > UINT32_MAX)) bad('epoch', 'must be a non-negative integer');
  if (spec.arch !== undefined && !/^[A-Za-z0-9_]+$/.test(spec.arch)) bad('arch', `${JSON.stringify(spec.arch)} is not an architecture`);
  for (const field of ['summary', 'license'] as const) {
    if (!spec[field] || /[\0\n\r]/.test(spec[field])) bad(field, 'must be one non-empty line');
  }
  if (spec.description.includes('\0')) bad('description', 'may not contain NUL');
  for (const kind of DEPENDENCY_KINDS) {
    for (const dep of spec[kind] ?? []) {
      try {
        validateDependency({ name: dep.name, flags: dep.flags ?? 0, version: dep.version ?? '' });
      } catch (e) {
        bad(kind, e instanceof Error ? e.message : String(e));
      }
    }
  }
}

function checkPath(path: string): void {
  const bad = (why: string) => {
    throw new KpkgError('INVALID_INPUT', `file ${JSON.stringify(path)}: ${why}`);
  };
  if (!path.startsWith('/') || path === '/') bad('must be an absolute path below /');
  if (path.endsWith('/')) bad('must not end with /');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(path)) bad('contains a control character');
  for (const part of path.slice(1).split('/')) {
    if (part === '' || part === '.' || part === '..') bad('must be normalised (no empty, . or .. components)');
  }
}

async function collectFiles(files: PackageFile[], epoch: number | undefined): Promise<FileRecord[]> {
  const seen = new Set<string>();
  const records: FileRecord[] = [];
  for (const file of files) {
    checkPath(file.path);
    if (seen.has(file.path)) throw new KpkgError('INVALID_INPUT', `file ${JSON.stringify(file.path)} is listed twice`);
    seen.add(file.path);
    records.push(await recordOf(file, epoch));
  }
  // rpm keeps file lists sorted by byte value (strcmp); so do the header arrays and the payload
  records.sort((a, b) => Buffer.compare(a.pathBytes, b.pathBytes));
  return records;
}

async function recordOf(file: PackageFile, epoch: number | undefined): Promise<FileRecord> {
  let size = 0;
  // generated entries (content, directories, symlinks) carry the time of the build
  let mtime = file.mtime ?? Math.floor(Date.now() / 1000);
  let typeBits: number;
  let defaultMode: number;
  let linkTo = '';
  switch (file.kind) {
    case 'file': {
      typeBits = S_IFREG;
      defaultMode = 0o644;
      if (file.content !== undefined) {
        size = typeof file.content === 'string' ? Buffer.byteLength(file.content) : file.content.length;
      } else if (file.source !== undefined) {
        // sync: an awaited stat per file is a thread-pool round trip per file
        let st;
        try {
          st = statSync(file.source);
        } catch (e) {
          throw ioError('read', file.source, e);
        }
        if (!st.isFile()) throw new KpkgError('INVALID_INPUT', `file ${file.path}: source ${file.source} is not a regular file`);
        size = st.size;
        if (file.mtime === undefined) mtime = Math.floor(st.mtimeMs / 1000);
      } else if (!file.ghost) {
        throw new KpkgError('INVALID_INPUT', `file ${file.path}: needs a source or a content`);
      }
      if (file.ghost) size = 0;
      break;
    }
    case 'dir':
      typeBits = S_IFDIR;
      defaultMode = 0o755;
      size = DIR_SIZE;
      break;
    case 'symlink':
      typeBits = S_IFLNK;
      defaultMode = 0o777;
      if (!file.target || file.target.includes('\0')) throw new KpkgError('INVALID_INPUT', `symlink ${file.path}: needs a target`);
      linkTo = file.target;
      size = Buffer.byteLength(file.target);
      break;
    default:
      throw new KpkgError('INVALID_INPUT', `file ${file.path}: unknown kind ${String((file as PackageFile).kind)}`);
  }
  const perms = file.mode ?? defaultMode;
  if (!Number.isInteger(perms) || perms < 0 || perms > 0o7777) {
    throw new KpkgError('INVALID_INPUT', `file ${file.path}: mode ${String(file.mode)} is not a permission mode (0..07777)`);
  }
  let flags = 0;
  if (file.config) flags |= FileFlag.CONFIG;
  if (file.noreplace) flags |= FileFlag.CONFIG | FileFlag.NOREPLACE;
  if (file.missingok) flags |= FileFlag.MISSINGOK;
  if (file.doc) flags |= FileFlag.DOC;
  if (file.license) flags |= FileFlag.LICENSE;
  if (file.ghost) flags |= FileFlag.GHOST;
  for (const owner of [file.user, file.group]) {
    if (owner !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(owner)) {
      throw new KpkgError('INVALID_INPUT', `file ${file.path}: ${JSON.stringify(owner)} is not a user or group name`);
    }
  }
  return {
    file,
    pathBytes: Buffer.from(file.path, 'utf8'),
    mode: typeBits | perms,
    size,
    mtime: epoch ?? mtime,
    digest: '',
    linkTo,
    flags,
  };
}

// ---------------------------------------------------------------------------------------------
// payload

interface PayloadResult {
  archiveSize: number;
  compressedSize: number;
  /** SHA-256 of the compressed payload (PAYLOADDIGEST) */
  digest: string;
  /** SHA-256 of the uncompressed archive (PAYLOADDIGESTALT) */
  altDigest: string;
}

/** Takes the archive in blocks and compresses it into the spool file, counting and hashing that. */
interface BlockCompressor {
  /** Resolves when the next block may come; the compressor keeps `block`, which must not change. */
  write(block: Buffer): Promise<void>;
  end(): Promise<{ size: number; digest: string }>;
  /** Stops, and resolves once the spool file is closed (it can then be removed). */
  destroy(): Promise<void>;
}

/** The block of archive being filled for the compressor. */
interface PayloadOut {
  block: Buffer;
  used: number;
  /** Appends a chunk (copied unless it fills blocks by itself: the caller must not change it). */
  push(chunk: Buffer): Promise<void>;
  /** Copies a small chunk in when it fits without a flush (true), else does nothing (false). */
  append(chunk: Buffer): boolean;
  /** Hands the current block to the compressor. */
  flush(): Promise<void>;
}

/**
 * Counts and hashes what flows through, on its way to the spool file, in writes of SPOOL_CHUNK:
 * each file write is a thread-pool round trip.
 */
class HashingSink extends Writable {
  readonly hash = createHash('sha256');
  size = 0;
  private pending: Buffer[] = [];
  private pendingSize = 0;
  constructor(private readonly out: NodeJS.WritableStream & { write(chunk: Buffer, cb: (err?: Error | null) => void): boolean }) {
    super({ highWaterMark: SPOOL_CHUNK });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.pending.push(chunk);
    this.pendingSize += chunk.length;
    if (this.pendingSize >= SPOOL_CHUNK) this.flush(cb);
    else cb();
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.flush((err) => (err ? cb(err) : this.out.end(cb)));
  }
  private flush(cb: (err?: Error | null) => void): void {
    if (this.pendingSize === 0) return cb();
    const data = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingSize);
    this.pending = [];
    this.pendingSize = 0;
    this.out.write(data, cb);
  }
}

/**
 * A compressor stream of compress.ts, kept IN_FLIGHT bytes ahead: waiting for 'drain' (an empty
 * buffer) would leave it idle while the next block is read.
 */
function streamCompressor(compressor: Transform, spoolPath: string): BlockCompressor {
  const spool = createWriteStream(spoolPath, { highWaterMark: SPOOL_CHUNK });
  const sink = new HashingSink(spool);
  // the spool is written by the sink, outside the pipeline: its errors, closing included, fail the payload
  let spoolError: unknown;
  spool.on('error', (e) => {
    spoolError ??= e;
    sink.destroy(e);
  });
  const spoolClosed = new Promise<void>((resolve) => spool.once('close', () => resolve()));
  let failed: unknown;
  let inFlight = 0;
  let waiter: (() => void) | undefined;
  const wake = () => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  const done = pipeline(compressor, sink).catch((e: unknown) => {
    failed ??= ioError('write', spoolPath, e);
    wake();
    throw failed;
  });
  done.catch(() => undefined); // rethrown by end(), or by write() through `failed`
  return {
    async write(block) {
      if (failed) throw failed;
      inFlight += block.length;
      compressor.write(block, (err) => {
        inFlight -= block.length;
        if (err) failed ??= err;
        if (err || inFlight <= IN_FLIGHT) wake();
      });
      if (inFlight > IN_FLIGHT) await new Promise<void>((resolve) => (waiter = resolve));
      if (failed) throw failed;
    },
    async end() {
      compressor.end();
      await done;
      await spoolClosed;
      if (spoolError !== undefined) throw ioError('write', spoolPath, spoolError);
      return { size: sink.size, digest: sink.hash.digest('hex') };
    },
    async destroy() {
      compressor.destroy();
      spool.destroy();
      await spoolClosed;
    },
  };
}

/** An empty final deflate block (fixed Huffman codes, end-of-block only): RFC 1951 3.2.3, 3.2.6. */
const DEFLATE_LAST_BLOCK = Buffer.from([0x03, 0x00]);
/** How far back deflate matches reach (RFC 1951: 32 KiB): each block is primed with that much. */
const DEFLATE_WINDOW = 32 * 1024;
/** Blocks compressed at once: at most libuv's default thread pool (4), at most the cores. */
const GZIP_WIDTH = Math.max(1, Math.min(4, availableParallelism()));

/**
 * gzip on all cores, as pigz does: each block is deflated on its own in the thread pool, primed
 * with the 32 KiB of archive before it (so matches reach back as in one serial stream; a reader
 * needs nothing of this) and ended with a sync flush (byte-aligned, not final). In order, with an
 * empty final block, the pieces make one ordinary deflate stream in one gzip member (RFC 1952),
 * a few bytes per block longer than zlib's serial one. The output depends on the input only,
 * never on timing. Memory: GZIP_WIDTH + 1 blocks, their output and a zlib state each.
 */
async function parallelGzip(level: number, spoolPath: string): Promise<BlockCompressor> {
  let spool: FileHandle;
  try {
    spool = await open(spoolPath, 'w');
  } catch (e) {
    throw ioError('create', spoolPath, e);
  }
  const pieces: Promise<Buffer>[] = [];
  const hash = createHash('sha256');
  let size = 0;
  let crc = 0;
  let isize = 0;
  let previous: Buffer = Buffer.alloc(0);
  const emit = async (chunk: Buffer) => {
    hash.update(chunk);
    size += chunk.length;
    try {
      await writeAll(spool, chunk);
    } catch (e) {
      throw ioError('write', spoolPath, e);
    }
  };
  // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL OS=Unix, XFL as zlib sets it (2: level 9, 4: levels 0-1)
  await emit(Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, level === 9 ? 2 : level < 2 ? 4 : 0, 0x03])).catch(async (e: unknown) => {
    await spool.close().catch(() => undefined);
    throw e;
  });
  return {
    async write(block) {
      crc = crc32(block, crc);
      isize = (isize + block.length) % 0x100000000;
      const options: ZlibOptions = {
        level,
        finishFlush: zlibConstants.Z_SYNC_FLUSH,
        // room for the whole output (deflateBound: n + n/4096 + a little), so that zlib
        // finishes the block in one thread-pool task instead of calling back per 16 KiB
        chunkSize: block.length + (block.length >> 8) + 1024,
      };
      if (previous.length > 0) options.dictionary = previous;
      const piece = new Promise<Buffer>((resolve, reject) => deflateRaw(block, options, (err, out) => (err ? reject(err) : resolve(out))));
      piece.catch(() => undefined); // awaited in order below; this keeps it from being "unhandled" meanwhile
      pieces.push(piece);
      previous = block.length >= DEFLATE_WINDOW ? block.subarray(block.length - DEFLATE_WINDOW) : Buffer.concat([previous, block]).subarray(-DEFLATE_WINDOW);
      // GZIP_WIDTH blocks compress while the caller gathers the next one
      while (pieces.length > GZIP_WIDTH) await emit(await (pieces.shift() as Promise<Buffer>));
    },
    async end() {
      while (pieces.length > 0) await emit(await (pieces.shift() as Promise<Buffer>));
      const trailer = Buffer.alloc(10);
      DEFLATE_LAST_BLOCK.copy(trailer, 0);
      trailer.writeUInt32LE(crc >>> 0, 2); // CRC32 of the archive
      trailer.writeUInt32LE(isize, 6); // ISIZE: its length modulo 2^32
      await emit(trailer);
      try {
        await spool.close();
      } catch (e) {
        throw ioError('write', spoolPath, e);
      }
      return { size, digest: hash.digest('hex') };
    },
    async destroy() {
      await Promise.allSettled(pieces);
      await spool.close().catch(() => undefined);
    },
  };
}

async function writePayload(records: FileRecord[], spoolPath: string, compression: Compression, level: number | undefined, large: boolean): Promise<PayloadResult> {
  const compressor =
    compression === 'gzip' ? await parallelGzip(resolveLevel('gzip', level) as number, spoolPath) : streamCompressor(createCompressor(compression, level), spoolPath);
  const alt = createHash('sha256');
  let archiveSize = 0;
  const writeBlock = async (block: Buffer) => {
    alt.update(block);
    archiveSize += block.length;
    await compressor.write(block);
  };
  // The archive reaches the compressor in blocks of PAYLOAD_BLOCK: a tree of small files makes
  // thousands of headers, paddings and bodies of a few hundred bytes, and each write to a zlib
  // stream is a thread-pool round trip. Small bodies are read straight into the block.
  const out: PayloadOut = {
    block: Buffer.allocUnsafe(PAYLOAD_BLOCK),
    used: 0,
    append(chunk) {
      if (chunk.length > out.block.length - out.used) return false;
      chunk.copy(out.block, out.used);
      out.used += chunk.length;
      return true;
    },
    async push(chunk) {
      if (out.append(chunk)) return;
      await out.flush();
      if (chunk.length >= PAYLOAD_BLOCK) return writeBlock(chunk);
      out.append(chunk);
    },
    async flush() {
      if (out.used === 0) return;
      const full = out.block.subarray(0, out.used);
      out.block = Buffer.allocUnsafe(PAYLOAD_BLOCK); // the compressor keeps `full` for a while
      out.used = 0;
      await writeBlock(full);
    },
  };

  try {
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as FileRecord;
      if (r.file.ghost) continue; // %ghost files are recorded in the header only
      const body = r.file.kind === 'file' ? r.size : r.file.kind === 'symlink' ? r.size : 0;
      const head = large
        ? encodeStrippedHeader(i)
        : encodeNewcHeader({
            name: `.${r.file.path}`,
            ino: i + 1,
            mode: r.mode,
            uid: 0,
            gid: 0,
            nlink: r.file.kind === 'dir' ? 2 : 1,
            mtime: r.mtime,
            size: body,
            devMajor: 0,
            devMinor: 0,
            rdevMajor: 0,
            rdevMinor: 0,
          });
      // headers and paddings: thousands of small chunks, copied in without a promise each
      if (!out.append(head)) await out.push(head);
      if (r.file.kind === 'file') {
        r.digest = await streamBody(r, out);
      } else if (r.file.kind === 'symlink') {
        await out.push(Buffer.from(r.linkTo, 'utf8'));
      }
      const padding = pad4(body);
      if (padding && !out.append(ZEROS.subarray(0, padding))) await out.push(ZEROS.subarray(0, padding));
    }
    await out.push(encodeTrailer());
    await out.flush();
    const compressed = await compressor.end();
    return { archiveSize, compressedSize: compressed.size, digest: compressed.digest, altDigest: alt.digest('hex') };
  } catch (e) {
    await compressor.destroy();
    throw e;
  }
}

/** Copies one regular file into the archive and returns its SHA-256. */
async function streamBody(r: FileRecord, out: PayloadOut): Promise<string> {
  const { file } = r;
  if (file.content !== undefined) {
    const data = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
    await out.push(data);
    return hashOnce('sha256', data, 'hex');
  }
  const source = file.source as string;
  let fd: number;
  try {
    fd = openSync(source, 'r');
  } catch (e) {
    throw ioError('read', source, e);
  }
  try {
    if (fstatSync(fd).size !== r.size) {
      throw new KpkgError('IO', `file ${source} changed size while it was being packaged`);
    }
    if (r.size > 0 && r.size <= out.block.length - out.used) {
      // most files: the whole body read into the block, hashed in one call
      const at = out.used;
      let n: number;
      try {
        n = readFully(fd, out.block, at, r.size, null);
      } catch (e) {
        throw ioError('read', source, e);
      }
      if (n < r.size) throw new KpkgError('IO', `file ${source} shrank while it was being packaged`);
      out.used += r.size;
      return hashOnce('sha256', out.block.subarray(at, at + r.size), 'hex');
    }
    const hash: Hash = createHash('sha256');
    let remaining = r.size;
    while (remaining > 0) {
      // Small bodies are read into the free end of the block (handed on when full); big ones,
      // READ_CHUNK at a time, each into a buffer of its own that becomes a block as it is.
      const free = out.block.length - out.used;
      if (free === 0 || (out.used > 0 && remaining > free && remaining >= READ_CHUNK)) await out.flush();
      const direct = out.used === 0 && remaining >= READ_CHUNK;
      const target = direct ? Buffer.allocUnsafe(READ_CHUNK) : out.block;
      const at = direct ? 0 : out.used;
      let n: number;
      try {
        n = readSync(fd, target, at, Math.min(remaining, target.length - at), null);
      } catch (e) {
        throw ioError('read', source, e);
      }
      if (n === 0) throw new KpkgError('IO', `file ${source} shrank while it was being packaged`);
      const data = target.subarray(at, at + n);
      hash.update(data);
      if (direct) await out.push(data);
      else out.used += n;
      remaining -= n;
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// header

function put(h: Header, tag: number, value: TagValue): void {
  const type = TAG_TYPES.get(tag);
  if (type === undefined) throw new Error(`tag ${tag} has no type in TAG_TYPES`);
  h.set(tag, type, value);
}

function buildHeader(spec: PackageSpec, records: FileRecord[], payload: PayloadResult, compression: Compression, level: number | undefined, epoch: number | undefined, large: boolean): Header {
  const h = new Header();
  const arch = spec.arch ?? 'noarch';
  put(h, Tag.HEADERI18NTABLE, ['C']);
  put(h, Tag.NAME, spec.name);
  put(h, Tag.VERSION, spec.version);
  put(h, Tag.RELEASE, spec.release);
  if (spec.epoch !== undefined) put(h, Tag.EPOCH, [spec.epoch]);
  put(h, Tag.SUMMARY, [spec.summary]);
  put(h, Tag.DESCRIPTION, [spec.description || spec.summary]);
  put(h, Tag.BUILDTIME, [epoch ?? Math.floor(Date.now() / 1000)]);
  put(h, Tag.BUILDHOST, spec.buildHost ?? (epoch !== undefined ? 'localhost' : hostname()));
  put(h, Tag.LICENSE, spec.license);
  put(h, Tag.GROUP, [spec.group ?? 'Unspecified']);
  if (spec.url) put(h, Tag.URL, spec.url);
  if (spec.vendor) put(h, Tag.VENDOR, spec.vendor);
  if (spec.packager) put(h, Tag.PACKAGER, spec.packager);
  if (spec.distribution) put(h, Tag.DISTRIBUTION, spec.distribution);
  if (spec.bugUrl) put(h, Tag.BUGURL, spec.bugUrl);
  put(h, Tag.OS, spec.os ?? 'linux');
  put(h, Tag.ARCH, arch);
  // Without SOURCERPM rpm takes the package for a source package.
  put(h, Tag.SOURCERPM, spec.sourceRpm ?? `${spec.name}-${spec.version}-${spec.release}.src.rpm`);
  put(h, Tag.ENCODING, 'utf-8');
  put(h, Tag.PAYLOADFORMAT, 'cpio');
  // none for an uncompressed payload, as rpmbuild writes it (w.ufdio): rpm reads an absent tag as
  // gzip, whose reader passes an uncompressed archive through (compress.ts)
  const compressor = payloadCompressorName(compression);
  if (compressor !== undefined) put(h, Tag.PAYLOADCOMPRESSOR, compressor);
  put(h, Tag.PAYLOADFLAGS, payloadFlags(compression, level));
  put(h, Tag.PAYLOADDIGEST, [payload.digest]);
  put(h, Tag.PAYLOADDIGESTALGO, [PGPHASHALGO_SHA256]);
  put(h, Tag.PAYLOADDIGESTALT, [payload.altDigest]);
  if (spec.prefixes && spec.prefixes.length > 0) put(h, Tag.PREFIXES, spec.prefixes);

  const installSize = records.reduce((sum, r) => sum + r.size, 0);
  if (installSize > UINT32_MAX) put(h, Tag.LONGSIZE, [BigInt(installSize)]);
  else put(h, Tag.SIZE, [installSize]);

  if (records.length > 0) putFiles(h, records, large);

  const requires: DependencySpec[] = [...(spec.requires ?? [])];
  for (const [name, script] of Object.entries(spec.scripts ?? {}) as [ScriptName, Script | string][]) {
    const s = typeof script === 'string' ? { body: script } : script;
    const tags = SCRIPT_TAGS[name];
    const interpreter = s.interpreter ?? '/bin/sh';
    put(h, tags.body, s.body);
    put(h, tags.prog, [interpreter]);
    // rpm's embedded interpreters (<lua>) need no package
    if (!interpreter.startsWith('<')) requires.push({ name: interpreter, flags: RPMSENSE_INTERP | tags.sense });
  }
  requires.push(...rpmlibRequires(spec, compression, large));

  const selfProvide: DependencySpec = {
    name: spec.name,
    flags: RPMSENSE_EQUAL,
    version: `${spec.epoch !== undefined ? `${spec.epoch}:` : ''}${spec.version}-${spec.release}`,
  };
  const deps: Record<DependencyKind, DependencySpec[]> = {
    provides: [...(spec.provides ?? []), selfProvide],
    requires,
    conflicts: spec.conflicts ?? [],
    obsoletes: spec.obsoletes ?? [],
    recommends: spec.recommends ?? [],
    suggests: spec.suggests ?? [],
    supplements: spec.supplements ?? [],
    enhances: spec.enhances ?? [],
  };
  for (const [kind, list] of Object.entries(deps) as [DependencyKind, DependencySpec[]][]) {
    const unique = dedupe(list);
    if (unique.length === 0) continue;
    const { name: nameTag, version: versionTag, flags: flagsTag } = DEPENDENCY_TAGS[kind];
    put(h, nameTag, unique.map((d) => d.name));
    put(h, versionTag, unique.map((d) => d.version ?? ''));
    put(h, flagsTag, unique.map((d) => d.flags ?? 0));
  }

  if (spec.changelog && spec.changelog.length > 0) {
    // newest first, as rpm shows and sorts them
    const log = [...spec.changelog].sort((a, b) => b.time - a.time);
    put(h, Tag.CHANGELOGTIME, log.map((c) => c.time));
    put(h, Tag.CHANGELOGNAME, log.map((c) => c.author));
    put(h, Tag.CHANGELOGTEXT, log.map((c) => c.text));
  }
  return h;
}

function putFiles(h: Header, records: FileRecord[], large: boolean): void {
  const dirIndex = new Map<string, number>();
  const dirNames: string[] = [];
  const baseNames: string[] = [];
  const dirIndexes: number[] = [];
  for (const r of records) {
    const slash = r.file.path.lastIndexOf('/');
    const dir = r.file.path.slice(0, slash + 1);
    let idx = dirIndex.get(dir);
    if (idx === undefined) {
      idx = dirNames.length;
      dirIndex.set(dir, idx);
      dirNames.push(dir);
    }
    dirIndexes.push(idx);
    baseNames.push(r.file.path.slice(slash + 1));
  }
  if (large) {
    put(h, Tag.LONGFILESIZES, records.map((r) => BigInt(r.size)));
  } else {
    put(h, Tag.FILESIZES, records.map((r) => r.size));
  }
  put(h, Tag.FILEMODES, records.map((r) => r.mode & 0xffff));
  put(h, Tag.FILERDEVS, records.map(() => 0));
  put(h, Tag.FILEMTIMES, records.map((r) => r.mtime));
  put(h, Tag.FILEDIGESTS, records.map((r) => r.digest));
  put(h, Tag.FILELINKTOS, records.map((r) => r.linkTo));
  put(h, Tag.FILEFLAGS, records.map((r) => r.flags));
  put(h, Tag.FILEUSERNAME, records.map((r) => r.file.user ?? 'root'));
  put(h, Tag.FILEGROUPNAME, records.map((r) => r.file.group ?? 'root'));
  put(h, Tag.FILEVERIFYFLAGS, records.map(() => RPMVERIFY_ALL));
  put(h, Tag.FILEDEVICES, records.map(() => 1));
  put(h, Tag.FILEINODES, records.map((_, i) => i + 1));
  put(h, Tag.FILELANGS, records.map((r) => r.file.lang ?? ''));
  put(h, Tag.FILECOLORS, records.map(() => 0));
  put(h, Tag.DIRINDEXES, dirIndexes);
  put(h, Tag.BASENAMES, baseNames);
  put(h, Tag.DIRNAMES, dirNames);
  put(h, Tag.FILEDIGESTALGO, [PGPHASHALGO_SHA256]);
}

function rpmlibRequires(spec: PackageSpec, compression: Compression, large: boolean): DependencySpec[] {
  const features: (keyof typeof RPMLIB)[] = ['CompressedFileNames', 'FileDigests', 'PayloadFilesHavePrefix'];
  if (compression === 'zstd') features.push('PayloadIsZstd');
  if (compression === 'xz') features.push('PayloadIsXz');
  if (large) features.push('LargeFiles');
  const allDeps = DEPENDENCY_KINDS.flatMap((k) => spec[k] ?? []);
  if (allDeps.some((d) => d.name.startsWith('('))) features.push('RichDependencies');
  const versions = [spec.version, spec.release, ...allDeps.map((d) => `${d.name.startsWith('(') ? d.name : ''}${d.version ?? ''}`)];
  if (versions.some((v) => v.includes('~'))) features.push('TildeInVersions');
  if (versions.some((v) => v.includes('^'))) features.push('CaretInVersions');
  return features.map((f) => ({ name: `rpmlib(${f})`, flags: RPMSENSE_RPMLIB | RPMSENSE_LESS | RPMSENSE_EQUAL, version: RPMLIB[f] }));
}

/** Sorted by name and without exact duplicates, as rpmbuild stores dependency sets. */
function dedupe(list: DependencySpec[]): DependencySpec[] {
  const seen = new Map<string, DependencySpec>();
  for (const d of list) {
    const key = `${d.name}\0${d.flags ?? 0}\0${d.version ?? ''}`;
    if (!seen.has(key)) seen.set(key, d);
  }
  return [...seen.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : (a.flags ?? 0) - (b.flags ?? 0)));
}

// ---------------------------------------------------------------------------------------------
// assembly: lead | signature header (padded to 8) | header | payload

function signatureHeader(headerBytes: Buffer, payload: PayloadResult, md5: Buffer): Buffer {
  const sig = new Header();
  const set = (tag: number, value: TagValue) => sig.set(tag, SIG_TAG_TYPES.get(tag) as TagType, value);
  const total = headerBytes.length + payload.compressedSize;
  if (total > UINT32_MAX) set(SigTag.LONGSIZE, [BigInt(total)]);
  else set(SigTag.SIZE, [total]);
  // the uncompressed archive size, which is what rpm compares against (not the compressed one)
  if (payload.archiveSize > UINT32_MAX) set(SigTag.LONGARCHIVESIZE, [BigInt(payload.archiveSize)]);
  else set(SigTag.PAYLOADSIZE, [payload.archiveSize]);
  set(SigTag.MD5, md5);
  set(SigTag.SHA1, createHash('sha1').update(headerBytes).digest('hex'));
  set(SigTag.SHA256, createHash('sha256').update(headerBytes).digest('hex'));
  const bytes = sig.encode(Tag.HEADERSIGNATURES);
  const pad = (8 - (bytes.length % 8)) % 8;
  return pad ? Buffer.concat([bytes, Buffer.alloc(pad)]) : bytes;
}

async function assemble(spec: PackageSpec, headerBytes: Buffer, payload: PayloadResult, spoolPath: string, tmpPath: string): Promise<{ size: number }> {
  const lead = encodeLead(`${spec.name}-${spec.version}-${spec.release}`, spec.arch ?? 'noarch');
  // The MD5 covers header + payload, so it is known only after the copy; the signature header
  // has a fixed size whatever the digest bytes, so a placeholder is written and overwritten.
  const placeholder = signatureHeader(headerBytes, payload, Buffer.alloc(16));
  const md5 = createHash('md5').update(headerBytes);
  let out;
  let finalSize = 0;
  try {
    out = await open(tmpPath, 'w', 0o644);
  } catch (e) {
    throw ioError('create', tmpPath, e);
  }
  try {
    let pos = 0;
    const write = async (b: Buffer) => {
      await writeAll(out, b, pos);
      pos += b.length;
    };
    await write(lead);
    await write(placeholder);
    await write(headerBytes);
    const spool = await open(spoolPath, 'r');
    try {
      const buf = Buffer.allocUnsafe(4 << 20);
      for (;;) {
        const { bytesRead } = await spool.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        const chunk = buf.subarray(0, bytesRead);
        md5.update(chunk);
        await write(chunk);
      }
    } finally {
      await spool.close();
    }
    const sig = signatureHeader(headerBytes, payload, md5.digest());
    await writeAll(out, sig, lead.length);
    await out.sync();
    await out.close();
    finalSize = pos;
  } catch (e) {
    await out.close().catch(() => undefined);
    throw e instanceof KpkgError ? e : ioError('write', tmpPath, e);
  }
  return { size: finalSize };
}

