/**
 * Header policy: which tags a package gets, from its spec, its files and its payload; and the
 * signature header that carries the digests of the whole. The byte format is header.ts's.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { type Compression, payloadCompressorName, payloadFlags } from './compress.js';
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
} from './sense.js';
import type { FileRecord } from './file-records.js';
import { encodeSignatureHeader, Header, type TagValue } from './header.js';
import type { PayloadResult } from './payload.js';
import type { DependencySpec, PackageSpec, Script, ScriptName } from './spec.js';
import { DEPENDENCY_KINDS, DEPENDENCY_TAGS, type DependencyKind, PGPHASHALGO_SHA256, RPMVERIFY_ALL, SIG_TAG_TYPES, SigTag, Tag, TAG_TYPES, TagType } from './tags.js';

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

function put(h: Header, tag: number, value: TagValue): void {
  const type = TAG_TYPES.get(tag);
  if (type === undefined) throw new Error(`tag ${tag} has no type in TAG_TYPES`);
  h.set(tag, type, value);
}

export function buildHeader(spec: PackageSpec, records: FileRecord[], payload: PayloadResult, compression: Compression, level: number | undefined, epoch: number | undefined, large: boolean): Header {
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

export function signatureHeader(headerBytes: Buffer, payload: PayloadResult, md5: Buffer): Buffer {
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
  return encodeSignatureHeader(sig);
}
