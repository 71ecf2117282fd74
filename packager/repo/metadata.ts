/**
 * The metadata files of a yum repository: primary, filelists and other (each one header, the
 * packages' chunks from xml.ts, one footer, compressed) and repomd.xml that lists them with their
 * checksums and sizes, compressed and open, as createrepo_c 0.17+ writes them (src/xml_file.c,
 * src/xml_dump_repomd.c, src/repomd.c). Nothing here chooses which packages go in, locks, or swaps
 * repomd.xml into place: that is the publisher's job (publish.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KpkgError, ioError } from '../errors.js';
import { createCompressor } from '../rpm/compress.js';
import { writeDurable } from '../util/fs.js';
import type { MetadataType, RepoPackage } from './types.js';
import { escapeText, filelistsChunk, otherChunk, primaryChunk } from './xml.js';

export type MetadataCompression = 'gzip' | 'zstd';

export const METADATA_TYPES: readonly MetadataType[] = ['primary', 'filelists', 'other'];

/** Namespaces: createrepo_c src/xml_dump.h. */
export const NS = {
  common: 'http://linux.duke.edu/metadata/common', // CR_XML_COMMON_NS
  filelists: 'http://linux.duke.edu/metadata/filelists', // CR_XML_FILELISTS_NS
  other: 'http://linux.duke.edu/metadata/other', // CR_XML_OTHER_NS
  repo: 'http://linux.duke.edu/metadata/repo', // CR_XML_REPOMD_NS
  rpm: 'http://linux.duke.edu/metadata/rpm', // CR_XML_RPM_NS
} as const;

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

const SUFFIX: Record<MetadataCompression, string> = { gzip: '.gz', zstd: '.zst' };

/** What repomd.xml says about one metadata file. */
export interface MetadataFileInfo {
  type: MetadataType;
  /** Relative to the repository root: "repodata/<sha256>-primary.xml.gz". */
  href: string;
  /** sha256 of the compressed file. */
  checksum: string;
  /** sha256 of the uncompressed XML. */
  openChecksum: string;
  size: number;
  openSize: number;
  /** Seconds; the file's mtime, as createrepo_c. */
  timestamp: number;
}

/** The root element opening a metadata file (createrepo_c XML_*_HEADER). */
export function metadataHeader(type: MetadataType, packageCount: number): string {
  switch (type) {
    case 'primary':
      return `${XML_DECL}<metadata xmlns="${NS.common}" xmlns:rpm="${NS.rpm}" packages="${packageCount}">\n`;
    case 'filelists':
      return `${XML_DECL}<filelists xmlns="${NS.filelists}" packages="${packageCount}">\n`;
    case 'other':
      return `${XML_DECL}<otherdata xmlns="${NS.other}" packages="${packageCount}">\n`;
  }
}

/** The closing tag (createrepo_c XML_*_FOOTER, no newline after it). */
export function metadataFooter(type: MetadataType): string {
  return { primary: '</metadata>', filelists: '</filelists>', other: '</otherdata>' }[type];
}

/** The chunk function of each type; each is pure, so a publisher may cache its results. */
export const CHUNKERS: Readonly<Record<MetadataType, (rec: RepoPackage) => string>> = {
  primary: primaryChunk,
  filelists: filelistsChunk,
  other: otherChunk,
};

export interface WriteMetadataFileOptions {
  compress?: MetadataCompression;
  /** mtime given to the file and shown as its repomd timestamp (seconds); default: now. */
  timestamp?: number;
}

/**
 * Streams header, chunks and footer through the compressor into a temporary file in
 * `repodataDir`, then renames it to `<sha256 of the compressed file>-<type>.xml.gz|.zst`.
 * `packageCount` must be the number of chunks (it is written before them); a mismatch is an
 * INTERNAL error and nothing is left behind. The same content gives the same name and bytes, so
 * writing it again is harmless.
 */
export async function writeMetadataFile(
  repodataDir: string,
  type: MetadataType,
  chunks: Iterable<string> | AsyncIterable<string>,
  packageCount: number,
  options: WriteMetadataFileOptions = {},
): Promise<MetadataFileInfo> {
  const compress = options.compress ?? 'gzip';
  const tmp = join(repodataDir, `.${type}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const open_ = createHash('sha256');
  const packed = createHash('sha256');
  let openSize = 0;
  let size = 0;
  let seen = 0;

  async function* xml(): AsyncGenerator<Buffer> {
    yield Buffer.from(metadataHeader(type, packageCount), 'utf8');
    for await (const chunk of chunks) {
      seen++;
      yield Buffer.from(chunk, 'utf8');
    }
    if (seen !== packageCount) {
      throw new KpkgError('INTERNAL', `${type}: the header says ${packageCount} packages, ${seen} chunks were given`);
    }
    yield Buffer.from(metadataFooter(type), 'utf8');
  }
  const countOpen = new Transform({
    transform(buf: Buffer, _enc, done) {
      open_.update(buf);
      openSize += buf.length;
      done(null, buf);
    },
  });
  const countPacked = new Transform({
    transform(buf: Buffer, _enc, done) {
      packed.update(buf);
      size += buf.length;
      done(null, buf);
    },
  });

  let fh: FileHandle | undefined;
  try {
    await mkdir(repodataDir, { recursive: true });
    // our own handle, closed by us: after a failure nothing can still be creating or writing it
    fh = await open(tmp, 'wx');
    const handle = fh;
    const sink = new Writable({
      write(buf: Buffer, _enc, done) {
        writeAll(handle, buf).then(() => done(), done);
      },
    });
    await pipeline(xml(), countOpen, createCompressor(compress), countPacked, sink);
    await fh.sync();
    await fh.close();
    fh = undefined;
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await rm(tmp, { force: true });
    if (e instanceof KpkgError) throw e;
    throw ioError('write', tmp, e);
  }
  const checksum = packed.digest('hex');
  const name = `${checksum}-${type}.xml${SUFFIX[compress]}`;
  const final = join(repodataDir, name);
  try {
    if (options.timestamp !== undefined) await utimes(tmp, options.timestamp, options.timestamp);
    await rename(tmp, final);
  } catch (e) {
    await rm(tmp, { force: true });
    throw ioError('rename', final, e);
  }
  const timestamp = options.timestamp ?? Math.floor((await stat(final)).mtimeMs / 1000);
  return { type, href: `repodata/${name}`, checksum, openChecksum: open_.digest('hex'), size, openSize, timestamp };
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let done = 0;
  while (done < buf.length) done += (await fh.write(buf, done, buf.length - done)).bytesWritten;
}

/**
 * repomd.xml as createrepo_c dumps it with libxml2's pretty printer: revision, then one `<data>`
 * per file in the order primary, filelists, other. `revision` defaults to the current time, as
 * createrepo_c.
 */
export function renderRepomd(entries: readonly MetadataFileInfo[], revision: number | string = Math.floor(Date.now() / 1000)): string {
  const order = (t: MetadataType) => METADATA_TYPES.indexOf(t);
  const sorted = [...entries].sort((a, b) => order(a.type) - order(b.type));
  let out = `${XML_DECL}<repomd xmlns="${NS.repo}" xmlns:rpm="${NS.rpm}">\n`;
  out += `  <revision>${escapeText(String(revision))}</revision>\n`;
  for (const e of sorted) {
    out += `  <data type="${e.type}">\n`;
    out += `    <checksum type="sha256">${e.checksum}</checksum>\n`;
    out += `    <open-checksum type="sha256">${e.openChecksum}</open-checksum>\n`;
    out += `    <location href="${e.href}"/>\n`;
    out += `    <timestamp>${e.timestamp}</timestamp>\n`;
    out += `    <size>${e.size}</size>\n`;
    out += `    <open-size>${e.openSize}</open-size>\n`;
    out += '  </data>\n';
  }
  out += '</repomd>\n';
  return out;
}

/**
 * createrepo_c's package order (task_cmp in src/createrepo_c.c): by file name, then by the whole
 * location, each compared as bytes (strcmp). Sort records with it to get createrepo_c's files.
 */
export function compareHref(a: { href: string }, b: { href: string }): number {
  return compareUtf8(baseName(a.href), baseName(b.href)) || compareUtf8(a.href, b.href);
}

/** `items` sorted with compareHref (a copy). */
export function sortByHref<T extends { href: string }>(items: readonly T[]): T[] {
  return [...items].sort(compareHref);
}

const baseName = (href: string): string => href.slice(href.lastIndexOf('/') + 1);

/**
 * Orders strings as their UTF-8 bytes do, that is by code point. JavaScript's `<` compares UTF-16
 * units, which differs only where a surrogate (U+D800-DFFF, half of a code point above U+FFFF)
 * meets a unit from U+E000-FFFF: there the surrogate's code point is the greater.
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  const x = a.charCodeAt(i);
  const y = b.charCodeAt(i);
  if (x >= 0xd800 && y >= 0xd800) return rankHigh(x) - rankHigh(y);
  return x - y;
}

/** Units from U+D800 up, ranked in code point order: E000-FFFF first, then the surrogates. */
const rankHigh = (unit: number): number => (unit >= 0xe000 ? unit - 0x800 : unit + 0x2000);

export interface WriteMetadataOptions extends WriteMetadataFileOptions {
  revision?: number | string;
  /** Also write repomd.xml (temporary file, fsync, rename). Default true. */
  writeRepomd?: boolean;
}

export interface WrittenMetadata {
  repomd: string;
  files: MetadataFileInfo[];
}

/**
 * Writes the three metadata files for `records` (in the order given) into `<repoDir>/repodata`
 * and, unless told not to, repomd.xml last. Returns the repomd text and what it lists. Old
 * metadata files are left alone: removing them is the publisher's decision.
 */
export async function writeMetadata(repoDir: string, records: readonly RepoPackage[], options: WriteMetadataOptions = {}): Promise<WrittenMetadata> {
  const repodata = join(repoDir, 'repodata');
  const files: MetadataFileInfo[] = [];
  for (const type of METADATA_TYPES) {
    const chunker = CHUNKERS[type];
    files.push(await writeMetadataFile(repodata, type, records.map(chunker), records.length, options));
  }
  const repomd = renderRepomd(files, options.revision);
  if (options.writeRepomd ?? true) await writeDurable(join(repodata, 'repomd.xml'), repomd);
  return { repomd, files };
}

