/**
 * The repository metadata reader that Geppetto, Punch and `kpkg repo check` share: what packages a
 * yum repository (kpkg's, or createrepo_c's) offers, read as dnf reads it, and one package's
 * bytes checked against primary.
 *
 *   readRepositoryMetadata   repomd.xml (saxes) -> primary, its checksums and sizes verified ->
 *                            the packages (parse-primary.ts)
 *   openRepositoryPackage    one RPM, its size and checksum verified
 *
 * Every read is bounded: repomd.xml by MAX_REPOMD_BYTES, primary by the sizes repomd.xml declares
 * (and MAX_PRIMARY_BYTES), a package by its size in primary.
 */
import { createHash, getHashes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KpkgError } from '../errors.js';
import { createDecompressor, detectCompression, type PayloadCompression } from '../rpm/compress.js';
import { evrOverlap } from '../rpm/version.js';
import { RPMSENSE_EQUAL, RPMSENSE_GREATER, RPMSENSE_LESS } from '../rpm/sense.js';
import { compareEVR, type Ordering } from '../rpm/version.js';
import { displayUrl, fetchBytes, fetchStream, locate, resolveSource, type RepoSource, type ResolvedSource } from './fetch.js';
import { parsePrimary, type RepoDependency, type RepoDependencyFlags, type RepoPackageEntry } from './parse-primary.js';
import { MAX_REPOMD_BYTES, parseRepomd, type Repomd, type RepomdChecksum, type RepomdData } from './parse-repomd.js';

export type { RepoSource } from './fetch.js';
export type { RepoDependency, RepoDependencyFlags, RepoPackageEntry } from './parse-primary.js';
export type { Repomd, RepomdChecksum, RepomdData } from './parse-repomd.js';
export { parsePrimary } from './parse-primary.js';
export { parseRepomd } from './parse-repomd.js';

/**
 * The largest primary.xml read, uncompressed: V8 strings stop at 2^29 - 24 characters (512 MiB).
 * Fedora's whole Everything primary is ~90 MB; ours are far smaller.
 */
export const MAX_PRIMARY_BYTES = 512 << 20;
/** The largest compressed primary accepted when repomd.xml gives no size. */
export const MAX_PRIMARY_PACKED_BYTES = 256 << 20;

export interface RepoMetadata {
  /** The repository URL, ending in '/' (a plain path given is now a file:// URL). */
  baseurl: string;
  /** repomd.xml's `<revision>`. */
  revision: string;
  packages: RepoPackageEntry[];
  /** What repomd.xml lists (primary, filelists, other, and any other type). */
  repomd: Repomd;
  /** The URL primary was read from. */
  primaryUrl: string;
}

/** The hash node:crypto computes for a checksum type of repodata ('sha' is SHA-1, as yum wrote it). */
export function hashAlgorithm(type: string, what: string): string {
  const t = type.toLowerCase();
  const name = t === 'sha' ? 'sha1' : t;
  if (!/^(md5|sha1|sha224|sha256|sha384|sha512)$/.test(name) || !getHashes().includes(name)) {
    throw new KpkgError('BAD_PACKAGE', `${what}: checksum type ${JSON.stringify(type)} is not one of md5, sha, sha1, sha224, sha256, sha384, sha512`);
  }
  return name;
}

function digest(type: string, data: Buffer, what: string): string {
  return createHash(hashAlgorithm(type, what)).update(data).digest('hex');
}

/** The compression of a metadata file, from its first bytes; bz2 and unknown magic refused. */
export function metadataCompression(data: Buffer, what: string): PayloadCompression {
  const algo = detectCompression(data.subarray(0, 6));
  if (algo === 'bzip2') throw new KpkgError('BAD_PACKAGE', `${what}: compressed with bzip2, which kpkg does not read (createrepo_c --compress-type gz, zstd or xz)`);
  return algo;
}

/**
 * The uncompressed bytes of a metadata file (gzip, zstd, xz or plain, told by its magic number),
 * at most `maxBytes`: a bomb stops there.
 */
export async function decompressMetadata(data: Buffer, what: string, maxBytes: number): Promise<Buffer> {
  const algo = metadataCompression(data, what);
  if (algo === 'none') {
    if (data.length > maxBytes) throw new KpkgError('BAD_PACKAGE', `${what}: ${data.length} bytes, more than the ${maxBytes} expected`);
    return data;
  }
  const parts: Buffer[] = [];
  let size = 0;
  const sink = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) {
        done(new KpkgError('BAD_PACKAGE', `${what}: more than the ${maxBytes} bytes expected once uncompressed`));
        return;
      }
      parts.push(chunk);
      done();
    },
  });
  try {
    await pipeline(Readable.from([data]), createDecompressor(algo), sink);
  } catch (e) {
    if (e instanceof KpkgError && e.message.startsWith(what)) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new KpkgError(e instanceof KpkgError && e.code === 'IO' ? 'IO' : 'BAD_PACKAGE', `${what}: cannot decompress (${algo}): ${reason}`, { cause: e });
  }
  return Buffer.concat(parts, size);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The XML text of metadata bytes; BAD_PACKAGE when they are not UTF-8. */
export function decodeUtf8(data: Buffer, what: string): string {
  try {
    return UTF8.decode(data);
  } catch {
    throw new KpkgError('BAD_PACKAGE', `${what}: not valid UTF-8`);
  }
}

function checkSum(expected: RepomdChecksum, data: Buffer, what: string, kind: string): void {
  const actual = digest(expected.type, data, what);
  if (actual !== expected.value) throw new KpkgError('BAD_PACKAGE', `${what}: ${kind} ${expected.type} ${actual}, repomd.xml says ${expected.value}`);
}

/** The `<data>` entry of `type` and the URL of its file, inside the repository. */
function dataUrl(src: ResolvedSource, repomd: Repomd, type: string): { entry: RepomdData; url: URL } | undefined {
  const entry = repomd.data.find((d) => d.type === type);
  if (entry === undefined) return undefined;
  if (entry.base !== undefined) throw new KpkgError('BAD_PACKAGE', `repomd.xml: ${type} has xml:base ${JSON.stringify(entry.base)}; metadata is read from the repository itself only`);
  return { entry, url: locate(src.base, entry.href, `${displayUrl(src.base)}repodata/repomd.xml (${type})`) };
}

/** Reads repomd.xml of a resolved source. */
export async function readRepomd(src: ResolvedSource): Promise<Repomd> {
  const url = new URL('repodata/repomd.xml', src.base);
  const bytes = await fetchBytes(src, url, { maxBytes: MAX_REPOMD_BYTES, what: 'repomd.xml' });
  return parseRepomd(bytes, displayUrl(url));
}

/**
 * Reads a metadata file listed by repomd.xml and returns its uncompressed bytes, after checking
 * size, checksum, open size and open checksum as repomd.xml gives them.
 */
export async function readMetadataFile(src: ResolvedSource, repomd: Repomd, type: string, maxOpenBytes = MAX_PRIMARY_BYTES): Promise<{ data: Buffer; url: URL }> {
  const found = dataUrl(src, repomd, type);
  if (found === undefined) throw new KpkgError('BAD_PACKAGE', `${displayUrl(src.base)}repodata/repomd.xml lists no ${type}`);
  const { entry, url } = found;
  const what = displayUrl(url);
  if (entry.size !== undefined && entry.size > MAX_PRIMARY_PACKED_BYTES) {
    throw new KpkgError('BAD_PACKAGE', `${what}: repomd.xml declares ${entry.size} bytes, more than the ${MAX_PRIMARY_PACKED_BYTES} kpkg reads`);
  }
  if (entry.openSize !== undefined && entry.openSize > maxOpenBytes) {
    throw new KpkgError('BAD_PACKAGE', `${what}: repomd.xml declares ${entry.openSize} bytes uncompressed, more than the ${maxOpenBytes} kpkg reads`);
  }
  const packed = await fetchBytes(src, url, { maxBytes: entry.size ?? MAX_PRIMARY_PACKED_BYTES, what: type, oversizeCode: entry.size === undefined ? 'IO' : 'BAD_PACKAGE' });
  if (entry.size !== undefined && packed.length !== entry.size) throw new KpkgError('BAD_PACKAGE', `${what}: ${packed.length} bytes, repomd.xml says ${entry.size}`);
  checkSum(entry.checksum, packed, what, 'checksum');
  const data = await decompressMetadata(packed, what, entry.openSize ?? maxOpenBytes);
  if (entry.openSize !== undefined && data.length !== entry.openSize) throw new KpkgError('BAD_PACKAGE', `${what}: ${data.length} bytes uncompressed, repomd.xml says ${entry.openSize}`);
  if (entry.openChecksum !== undefined) checkSum(entry.openChecksum, data, what, 'open checksum');
  return { data, url };
}

/**
 * What a repository offers: every package of its primary.xml, with the revision of its
 * repomd.xml. Errors: INVALID_INPUT for a baseurl or CA file that cannot be used; IO when the
 * repository cannot be reached (URL and HTTP status named); BAD_PACKAGE when its metadata is
 * malformed, inconsistent or hostile (the file named).
 */
export async function readRepositoryMetadata(source: RepoSource): Promise<RepoMetadata> {
  const src = await resolveSource(source);
  const repomd = await readRepomd(src);
  const { data, url } = await readMetadataFile(src, repomd, 'primary');
  const what = displayUrl(url);
  const primary = parsePrimary(decodeUtf8(data, what), what);
  if (primary.declaredCount !== undefined && primary.declaredCount !== primary.packages.length) {
    throw new KpkgError('BAD_PACKAGE', `${what}: says packages="${primary.declaredCount}", lists ${primary.packages.length}`);
  }
  return { baseurl: src.base.href, revision: repomd.revision, packages: primary.packages, repomd, primaryUrl: url.href };
}

/** The URL of a package: under the repository, or under its xml:base when that is http(s). */
export function packageUrl(src: ResolvedSource, entry: Pick<RepoPackageEntry, 'href' | 'base' | 'name'>): URL {
  const what = `package ${entry.name}`;
  if (entry.base === undefined) return locate(src.base, entry.href, what);
  // dnf fetches from xml:base; a remote repository must not point a reader at local files
  let base: URL;
  try {
    base = new URL(entry.base.endsWith('/') ? entry.base : `${entry.base}/`);
  } catch {
    throw new KpkgError('BAD_PACKAGE', `${what}: xml:base ${JSON.stringify(entry.base)} is not a URL`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:' && !(base.protocol === 'file:' && src.base.protocol === 'file:')) {
    throw new KpkgError('BAD_PACKAGE', `${what}: xml:base ${JSON.stringify(entry.base)} is refused (http, https, or file from a file:// repository)`);
  }
  if (src.base.protocol === 'https:' && base.protocol !== 'https:') throw new KpkgError('BAD_PACKAGE', `${what}: xml:base ${displayUrl(base)} would leave https`);
  return locate(base, entry.href, what);
}

/** Where a package's declared size is absurd: RPMs beyond this are refused (64 GiB). */
const MAX_PACKAGE_BYTES = 64 * 2 ** 30;

function checkDeclaredSize(entry: RepoPackageEntry, what: string): number {
  const size = entry.size.package;
  if (!Number.isSafeInteger(size) || size <= 0 || size > MAX_PACKAGE_BYTES) throw new KpkgError('BAD_PACKAGE', `${what}: primary gives size ${size}, not a package size`);
  return size;
}

/**
 * The bytes of one package of the repository, checked against primary: its size and checksum.
 * IO when it cannot be fetched; BAD_PACKAGE when it is not what primary describes.
 */
export async function openRepositoryPackage(source: RepoSource, entry: RepoPackageEntry): Promise<Buffer> {
  const src = await resolveSource(source);
  const url = packageUrl(src, entry);
  const what = displayUrl(url);
  const size = checkDeclaredSize(entry, what);
  const algo = hashAlgorithm(entry.checksum.type, what);
  const data = await fetchBytes(src, url, { maxBytes: size, what, oversizeCode: 'BAD_PACKAGE' });
  if (data.length !== size) throw new KpkgError('BAD_PACKAGE', `${what}: ${data.length} bytes, primary says ${size}`);
  const actual = createHash(algo).update(data).digest('hex');
  if (actual !== entry.checksum.value) throw new KpkgError('BAD_PACKAGE', `${what}: ${entry.checksum.type} ${actual}, primary says ${entry.checksum.value}`);
  return data;
}

/**
 * The same as a stream, for large packages: the bytes flow as they arrive; the stream fails with
 * BAD_PACKAGE at its end when size or checksum differ from primary's, so a consumer must wait for
 * 'end' (or pipeline's promise) before trusting what it read.
 */
export async function openRepositoryPackageStream(source: RepoSource, entry: RepoPackageEntry): Promise<Readable> {
  const src = await resolveSource(source);
  const url = packageUrl(src, entry);
  const what = displayUrl(url);
  const size = checkDeclaredSize(entry, what);
  const hash = createHash(hashAlgorithm(entry.checksum.type, what));
  const { stream, length } = await fetchStream(src, url, { maxBytes: size, what, oversizeCode: 'BAD_PACKAGE' });
  if (length !== undefined && length !== size) {
    stream.destroy();
    throw new KpkgError('BAD_PACKAGE', `${what}: ${length} bytes, primary says ${size}`);
  }
  let seen = 0;
  const check = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      if (seen !== size) return done(new KpkgError('BAD_PACKAGE', `${what}: ${seen} bytes, primary says ${size}`));
      const actual = hash.digest('hex');
      if (actual !== entry.checksum.value) return done(new KpkgError('BAD_PACKAGE', `${what}: ${entry.checksum.type} ${actual}, primary says ${entry.checksum.value}`));
      done();
    },
  });
  stream.on('error', (e) => check.destroy(e));
  return stream.pipe(check);
}

// ---------------------------------------------------------------------------------------------
// versions and dependencies

/** A package's `[epoch:]version-release` as rpm prints it (`%{EPOCH}:` only when not 0). */
export function entryEVR(p: Pick<RepoPackageEntry, 'epoch' | 'version' | 'release'>): string {
  return `${p.epoch !== 0 ? `${p.epoch}:` : ''}${p.version}-${p.release}`;
}

/** Orders two packages by epoch, version, release as rpm does. */
export function compareEntryEVR(a: Pick<RepoPackageEntry, 'epoch' | 'version' | 'release'>, b: Pick<RepoPackageEntry, 'epoch' | 'version' | 'release'>): Ordering {
  return compareEVR({ epoch: a.epoch, version: a.version, release: a.release }, { epoch: b.epoch, version: b.version, release: b.release });
}

const SENSE: Readonly<Record<RepoDependencyFlags, number>> = {
  EQ: RPMSENSE_EQUAL,
  LT: RPMSENSE_LESS,
  LE: RPMSENSE_LESS | RPMSENSE_EQUAL,
  GT: RPMSENSE_GREATER,
  GE: RPMSENSE_GREATER | RPMSENSE_EQUAL,
};

/**
 * Whether a package at `evr` satisfies `dep` (its name aside): true when `dep` has no version
 * comparison; else rpm's range overlap (rpmdsCompare) of `= evr` with the dependency, where a
 * dependency without a release matches every release.
 */
export function evrSatisfies(evr: { epoch?: number; version: string; release?: string }, dep: Pick<RepoDependency, 'flags' | 'epoch' | 'version' | 'release'>): boolean {
  if (dep.flags === undefined || dep.version === undefined || dep.version === '') return true;
  const depEVR: { epoch?: number; version: string; release?: string } = { version: dep.version };
  if (dep.epoch !== undefined && dep.epoch !== '') depEVR.epoch = Number(dep.epoch);
  if (dep.release !== undefined && dep.release !== '') depEVR.release = dep.release;
  return evrOverlap({ ...evr, epoch: evr.epoch ?? 0 }, RPMSENSE_EQUAL, depEVR, SENSE[dep.flags]);
}

/** Whether `provide` (an entry of a package's provides) satisfies `dep` as rpm decides (rpmdsCompare). */
export function provideSatisfies(provide: RepoDependency, dep: RepoDependency): boolean {
  if (provide.name !== dep.name) return false;
  if (provide.flags === undefined || dep.flags === undefined) return true;
  if (provide.version === undefined || provide.version === '' || dep.version === undefined || dep.version === '') return true;
  const a: { epoch?: number; version: string; release?: string } = { version: provide.version };
  if (provide.epoch !== undefined && provide.epoch !== '') a.epoch = Number(provide.epoch);
  if (provide.release !== undefined && provide.release !== '') a.release = provide.release;
  const b: { epoch?: number; version: string; release?: string } = { version: dep.version };
  if (dep.epoch !== undefined && dep.epoch !== '') b.epoch = Number(dep.epoch);
  if (dep.release !== undefined && dep.release !== '') b.release = dep.release;
  return evrOverlap(a, SENSE[provide.flags], b, SENSE[dep.flags]);
}

/** The packages that provide `capability` (any version), e.g. `kelkoo-deployment`. */
export function packagesProviding(packages: readonly RepoPackageEntry[], capability: string): RepoPackageEntry[] {
  return packages.filter((p) => p.provides.some((d) => d.name === capability));
}

/**
 * An index by name for lookups of exact versions: Punch asks "is name at epoch:version-release
 * available?" for each wanted package.
 */
export class RepoPackageIndex {
  private readonly byName = new Map<string, RepoPackageEntry[]>();

  constructor(packages: readonly RepoPackageEntry[]) {
    for (const p of packages) {
      const list = this.byName.get(p.name);
      if (list) list.push(p);
      else this.byName.set(p.name, [p]);
    }
  }

  /** Every package of that name (all versions and architectures). */
  named(name: string): readonly RepoPackageEntry[] {
    return this.byName.get(name) ?? [];
  }

  /**
   * The packages of `name` at exactly `evr` ("[epoch:]version-release"; no epoch means 0, as rpm), on
   * `arch` when given. Source packages (arch "src") are never returned.
   */
  find(name: string, evr: string, arch?: string): RepoPackageEntry[] {
    const m = /^(?:([0-9]+):)?([^:-]+)-([^:-]+)$/.exec(evr);
    if (!m) throw new KpkgError('INVALID_INPUT', `${name}: version ${JSON.stringify(evr)} is not [epoch:]version-release`);
    const want = { epoch: m[1] === undefined ? 0 : Number(m[1]), version: m[2] as string, release: m[3] as string };
    // equal as rpm compares (1.0 and 1.00 are the same version), as dnf matches name-evr
    return this.named(name).filter((p) => p.arch !== 'src' && (arch === undefined || p.arch === arch) && compareEntryEVR(p, want) === 0);
  }
}
