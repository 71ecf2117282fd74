/**
 * Reads RPM v4 packages: lead, signature header, main header, payload. Every length is checked
 * against the file before anything is allocated or sliced, and every error names the structure
 * and the byte offset at fault. Used by `kpkg inspect`, `kpkg publish` and the tests. The payload
 * is read by payload-reader.ts.
 */
import { createHash, hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { FormatError, inputError, KpkgError } from '../errors.js';
import { Header, HEADER_INTRO_SIZE, readIntro } from './header.js';
import { decodeLead, type Lead } from './lead.js';
import { DEPENDENCY_KINDS, DEPENDENCY_TAGS, FileFlag, LEAD_SIZE, PGPHASHALGO_SHA256, SigTag, Tag } from './tags.js';

export interface RpmPackage {
  path: string;
  fileSize: number;
  lead: Lead;
  signature: Header;
  header: Header;
  /** The main header exactly as stored, for digests and signatures. */
  headerBytes: Buffer;
  signatureOffset: number;
  headerOffset: number;
  payloadOffset: number;
}

/** Positional reads with exact lengths: a short read is a truncated file, never silent. */
export interface ByteSource {
  size: number;
  read(pos: number, length: number, structure: string): Promise<Buffer>;
  close(): Promise<void>;
}

export async function fileSource(path: string): Promise<ByteSource> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw inputError('open', path, e);
  }
  const stat = await fh.stat();
  if (!stat.isFile()) {
    await fh.close();
    throw new KpkgError('INVALID_INPUT', `cannot read ${path}: ${stat.isDirectory() ? 'a directory' : 'not a regular file'}, not a package`);
  }
  const size = stat.size;
  return {
    size,
    async read(pos, length, structure) {
      if (pos + length > size) {
        throw new FormatError(structure, pos, `needs ${length} bytes, the file has only ${Math.max(0, size - pos)} left (truncated file?)`);
      }
      const buf = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(buf, done, length - done, pos + done);
        if (bytesRead === 0) throw new FormatError(structure, pos + done, 'unexpected end of file');
        done += bytesRead;
      }
      return buf;
    },
    close: () => fh.close(),
  };
}

export function bufferSource(data: Buffer): ByteSource {
  return {
    size: data.length,
    async read(pos, length, structure) {
      if (pos + length > data.length) {
        throw new FormatError(structure, pos, `needs ${length} bytes, only ${Math.max(0, data.length - pos)} left (truncated file?)`);
      }
      return data.subarray(pos, pos + length);
    },
    close: async () => undefined,
  };
}

/** Reads the lead and both headers of the package at `path`. */
export async function readRpm(path: string): Promise<RpmPackage> {
  const src = await fileSource(path);
  try {
    return await readRpmFrom(src, path);
  } finally {
    await src.close();
  }
}

export async function readRpmFrom(src: ByteSource, path = '<buffer>'): Promise<RpmPackage> {
  const lead = decodeLead(await src.read(0, LEAD_SIZE, 'lead'));
  const signatureOffset = LEAD_SIZE;
  const sig = await readHeaderAt(src, signatureOffset, 'signature header');
  // the signature header is padded to a multiple of 8 bytes
  const headerOffset = signatureOffset + sig.size + ((8 - (sig.size % 8)) % 8);
  const main = await readHeaderAt(src, headerOffset, 'header');
  return {
    path,
    fileSize: src.size,
    lead,
    signature: sig.header,
    header: main.header,
    headerBytes: main.bytes,
    signatureOffset,
    headerOffset,
    payloadOffset: headerOffset + main.size,
  };
}

async function readHeaderAt(src: ByteSource, offset: number, structure: string): Promise<{ header: Header; bytes: Buffer; size: number }> {
  const intro = await src.read(offset, HEADER_INTRO_SIZE, structure);
  const { size } = readIntro(intro, 0, structure, offset);
  if (offset + size > src.size) {
    throw new FormatError(structure, offset, `declares ${size} bytes, the file has only ${src.size - offset} left (truncated file?)`);
  }
  const bytes = await src.read(offset, size, structure);
  const { header } = Header.decode(bytes, 0, structure, offset);
  return { header, bytes, size };
}

// ---------------------------------------------------------------------------------------------
// the model: what `rpm -qi` and `rpm -qlv` show

export interface RpmFileInfo {
  path: string;
  mode: number;
  size: number;
  mtime: number;
  digest: string;
  linkTo: string;
  flags: number;
  user: string;
  group: string;
  inode: number;
  device: number;
  rdev: number;
  lang: string;
  verifyFlags: number;
  /** the file's IMA signature (FILESIGNATURES), hex, when the package has one for it */
  imaSignature?: string;
}

export interface RpmDependency {
  name: string;
  flags: number;
  version: string;
}

export interface RpmInfo {
  name: string;
  epoch?: number;
  version: string;
  release: string;
  arch: string;
  os: string;
  summary: string;
  description: string;
  license: string;
  group: string;
  url?: string;
  vendor?: string;
  packager?: string;
  buildTime?: number;
  buildHost?: string;
  sourceRpm?: string;
  installSize: number;
  payloadFormat: string;
  payloadCompressor: string;
  payloadFlags: string;
  prefixes: string[];
  files: RpmFileInfo[];
  provides: RpmDependency[];
  requires: RpmDependency[];
  conflicts: RpmDependency[];
  obsoletes: RpmDependency[];
  recommends: RpmDependency[];
  suggests: RpmDependency[];
  supplements: RpmDependency[];
  enhances: RpmDependency[];
  /** true for a source package, decided as rpm decides it (isSourcePackage) */
  source: boolean;
  /** OrderWithRequires: ordering hints, not dependencies */
  orderWithRequires: RpmDependency[];
  scripts: Partial<Record<'pretrans' | 'pre' | 'post' | 'preun' | 'postun' | 'posttrans' | 'verify', { body: string; interpreter: string[] }>>;
  /** %trigger* scriptlets, in the header's order (rpm -q --triggers) */
  triggers: RpmTrigger[];
  /** %filetrigger* scriptlets (rpm -q --filetriggers, first part) */
  fileTriggers: RpmTrigger[];
  /** %transfiletrigger* scriptlets (rpm -q --filetriggers, second part) */
  transFileTriggers: RpmTrigger[];
  changelog: { time: number; author: string; text: string }[];
}

export interface RpmTrigger {
  /** `in`, `un`, `postun` or `prein`, as rpm's TRIGGERTYPE prints it */
  type: string;
  interpreter: string[];
  body: string;
  /** packages (triggers) or path prefixes (file triggers) that fire the script */
  conditions: RpmDependency[];
  /** file triggers only: the order among file triggers (rpm's default 1000000) */
  priority?: number;
}

const SCRIPTS = [
  ['pretrans', Tag.PRETRANS, Tag.PRETRANSPROG],
  ['pre', Tag.PREIN, Tag.PREINPROG],
  ['post', Tag.POSTIN, Tag.POSTINPROG],
  ['preun', Tag.PREUN, Tag.PREUNPROG],
  ['postun', Tag.POSTUN, Tag.POSTUNPROG],
  ['posttrans', Tag.POSTTRANS, Tag.POSTTRANSPROG],
  ['verify', Tag.VERIFYSCRIPT, Tag.VERIFYSCRIPTPROG],
] as const;

const TRIGGER_SETS = {
  triggers: { scripts: Tag.TRIGGERSCRIPTS, prog: Tag.TRIGGERSCRIPTPROG, name: Tag.TRIGGERNAME, version: Tag.TRIGGERVERSION, flags: Tag.TRIGGERFLAGS, index: Tag.TRIGGERINDEX, priorities: undefined },
  fileTriggers: { scripts: Tag.FILETRIGGERSCRIPTS, prog: Tag.FILETRIGGERSCRIPTPROG, name: Tag.FILETRIGGERNAME, version: Tag.FILETRIGGERVERSION, flags: Tag.FILETRIGGERFLAGS, index: Tag.FILETRIGGERINDEX, priorities: Tag.FILETRIGGERPRIORITIES },
  transFileTriggers: {
    scripts: Tag.TRANSFILETRIGGERSCRIPTS,
    prog: Tag.TRANSFILETRIGGERSCRIPTPROG,
    name: Tag.TRANSFILETRIGGERNAME,
    version: Tag.TRANSFILETRIGGERVERSION,
    flags: Tag.TRANSFILETRIGGERFLAGS,
    index: Tag.TRANSFILETRIGGERINDEX,
    priorities: Tag.TRANSFILETRIGGERPRIORITIES,
  },
} as const;

// rpmds.h RPMSENSE_TRIGGER*; the type of a script is that of its first condition (lib/formats.c triggertypeTag)
const TRIGGER_TYPES: readonly [number, string][] = [
  [1 << 25, 'prein'],
  [1 << 16, 'in'],
  [1 << 17, 'un'],
  [1 << 18, 'postun'],
];

/**
 * Whether `h` is a source package, as rpm decides (lib/package.c applyRetrofits, headerIsSource):
 * SOURCERPM marks a binary package; without it, SOURCEPACKAGE marks a source one; old source
 * packages have neither, and rpm then takes one DIRNAMES entry, the empty string (source packages
 * hold bare file names), as the sign of a source package.
 */
export function isSourcePackage(h: Header): boolean {
  if (h.has(Tag.SOURCERPM)) return false;
  if (h.has(Tag.SOURCEPACKAGE)) return true;
  let dirs = h.strings(Tag.DIRNAMES);
  // rpm compresses an old file list first: a name without a slash has the directory ''
  if (!h.has(Tag.DIRNAMES) && h.has(Tag.OLDFILENAMES)) dirs = [...new Set(h.strings(Tag.OLDFILENAMES).map((p) => p.slice(0, p.lastIndexOf('/') + 1)))];
  return dirs.length === 1 && dirs[0] === '';
}

function readTriggers(h: Header, set: (typeof TRIGGER_SETS)[keyof typeof TRIGGER_SETS], what: string, bad: (what: string) => FormatError): RpmTrigger[] {
  const bodies = h.strings(set.scripts);
  if (bodies.length === 0) return [];
  const progs = h.strings(set.prog);
  const names = h.strings(set.name);
  const versions = h.strings(set.version);
  const flags = h.numbers(set.flags);
  const index = h.numbers(set.index);
  const priorities = set.priorities === undefined ? [] : h.numbers(set.priorities);
  if (versions.length !== names.length || flags.length !== names.length || index.length !== names.length) {
    throw bad(`${what}: ${names.length} names but ${versions.length} versions, ${flags.length} flags and ${index.length} indexes`);
  }
  if (progs.length !== 0 && progs.length !== bodies.length) throw bad(`${what}: ${bodies.length} scripts but ${progs.length} interpreters`);
  const out: RpmTrigger[] = bodies.map((body, i) => ({ type: '', interpreter: progs[i] ? [progs[i]] : [], body, conditions: [] }));
  names.forEach((name, j) => {
    const i = index[j] ?? -1;
    const trigger = out[i];
    if (trigger === undefined) throw bad(`${what}: condition ${j} points at script ${i}, there are ${bodies.length}`);
    const f = flags[j] ?? 0;
    if (trigger.conditions.length === 0) trigger.type = TRIGGER_TYPES.find(([bit]) => (f & bit) !== 0)?.[1] ?? '';
    trigger.conditions.push({ name, version: versions[j] ?? '', flags: f });
  });
  if (set.priorities !== undefined) out.forEach((t, i) => (t.priority = priorities[i] ?? 1000000));
  return out;
}


export function packageInfo(pkg: Pick<RpmPackage, 'header' | 'headerOffset'>): RpmInfo {
  const h = pkg.header;
  const bad = (what: string) => new FormatError('header', pkg.headerOffset, what);
  const str = (tag: number) => h.string(tag);
  const name = str(Tag.NAME);
  const version = str(Tag.VERSION);
  const release = str(Tag.RELEASE);
  if (!name || version === undefined || release === undefined) throw bad('missing NAME, VERSION or RELEASE');
  const epoch = h.number(Tag.EPOCH);
  const info: RpmInfo = {
    name,
    version,
    release,
    ...(epoch !== undefined ? { epoch } : {}),
    arch: str(Tag.ARCH) ?? '',
    os: str(Tag.OS) ?? '',
    summary: str(Tag.SUMMARY) ?? '',
    description: str(Tag.DESCRIPTION) ?? '',
    license: str(Tag.LICENSE) ?? '',
    group: str(Tag.GROUP) ?? '',
    installSize: h.number(Tag.LONGSIZE) ?? h.number(Tag.SIZE) ?? 0,
    payloadFormat: str(Tag.PAYLOADFORMAT) ?? 'cpio',
    payloadCompressor: str(Tag.PAYLOADCOMPRESSOR) ?? 'gzip',
    payloadFlags: str(Tag.PAYLOADFLAGS) ?? '',
    prefixes: h.strings(Tag.PREFIXES),
    files: listFiles(h, bad),
    provides: [],
    requires: [],
    conflicts: [],
    obsoletes: [],
    recommends: [],
    suggests: [],
    supplements: [],
    enhances: [],
    source: isSourcePackage(h),
    orderWithRequires: [],
    scripts: {},
    triggers: readTriggers(h, TRIGGER_SETS.triggers, 'triggers', bad),
    fileTriggers: readTriggers(h, TRIGGER_SETS.fileTriggers, 'file triggers', bad),
    transFileTriggers: readTriggers(h, TRIGGER_SETS.transFileTriggers, 'transaction file triggers', bad),
    changelog: [],
  };
  const optional = { url: Tag.URL, vendor: Tag.VENDOR, packager: Tag.PACKAGER, buildHost: Tag.BUILDHOST, sourceRpm: Tag.SOURCERPM } as const;
  for (const [key, tag] of Object.entries(optional)) {
    const v = str(tag);
    if (v !== undefined) info[key as keyof typeof optional] = v;
  }
  const buildTime = h.number(Tag.BUILDTIME);
  if (buildTime !== undefined) info.buildTime = buildTime;
  for (const key of DEPENDENCY_KINDS) {
    const tags = DEPENDENCY_TAGS[key];
    const names = h.strings(tags.name);
    const versions = h.strings(tags.version);
    const flags = h.numbers(tags.flags);
    if ((versions.length && versions.length !== names.length) || (flags.length && flags.length !== names.length)) {
      throw bad(`${key}: ${names.length} names but ${versions.length} versions and ${flags.length} flags`);
    }
    info[key] = names.map((n, i) => ({ name: n, version: versions[i] ?? '', flags: flags[i] ?? 0 }));
  }
  {
    const names = h.strings(Tag.ORDERNAME);
    const versions = h.strings(Tag.ORDERVERSION);
    const flags = h.numbers(Tag.ORDERFLAGS);
    if (versions.length !== names.length || flags.length !== names.length) throw bad(`OrderWithRequires: ${names.length} names but ${versions.length} versions and ${flags.length} flags`);
    info.orderWithRequires = names.map((n, i) => ({ name: n, version: versions[i] ?? '', flags: flags[i] ?? 0 }));
  }
  for (const [key, bodyTag, progTag] of SCRIPTS) {
    const body = str(bodyTag);
    const prog = h.strings(progTag);
    if (body !== undefined || prog.length > 0) info.scripts[key] = { body: body ?? '', interpreter: prog };
  }
  const times = h.numbers(Tag.CHANGELOGTIME);
  const authors = h.strings(Tag.CHANGELOGNAME);
  const texts = h.strings(Tag.CHANGELOGTEXT);
  if (authors.length !== times.length || texts.length !== times.length) throw bad('changelog arrays of different lengths');
  info.changelog = times.map((time, i) => ({ time, author: authors[i] as string, text: texts[i] as string }));
  return info;
}

function listFiles(h: Header, bad: (what: string) => FormatError): RpmFileInfo[] {
  let paths: string[];
  const baseNames = h.strings(Tag.BASENAMES);
  if (baseNames.length > 0) {
    const dirNames = h.strings(Tag.DIRNAMES);
    const dirIndexes = h.numbers(Tag.DIRINDEXES);
    if (dirIndexes.length !== baseNames.length) throw bad(`${baseNames.length} BASENAMES but ${dirIndexes.length} DIRINDEXES`);
    paths = baseNames.map((b, i) => {
      const d = dirNames[dirIndexes[i] as number];
      if (d === undefined) throw bad(`DIRINDEXES[${i}] = ${dirIndexes[i]} but there are ${dirNames.length} DIRNAMES`);
      return d + b;
    });
  } else {
    paths = h.strings(Tag.OLDFILENAMES);
  }
  const n = paths.length;
  const arr = <T>(values: T[], tag: string, fallback: T): T[] => {
    if (values.length === 0) return new Array<T>(n).fill(fallback);
    if (values.length !== n) throw bad(`${tag} has ${values.length} entries for ${n} files`);
    return values;
  };
  const sizes = arr(h.has(Tag.LONGFILESIZES) ? h.numbers(Tag.LONGFILESIZES) : h.numbers(Tag.FILESIZES), 'FILESIZES', 0);
  const modes = arr(h.numbers(Tag.FILEMODES), 'FILEMODES', 0);
  const mtimes = arr(h.numbers(Tag.FILEMTIMES), 'FILEMTIMES', 0);
  const digests = arr(h.strings(Tag.FILEDIGESTS), 'FILEDIGESTS', '');
  const links = arr(h.strings(Tag.FILELINKTOS), 'FILELINKTOS', '');
  const flags = arr(h.numbers(Tag.FILEFLAGS), 'FILEFLAGS', 0);
  const users = arr(h.strings(Tag.FILEUSERNAME), 'FILEUSERNAME', 'root');
  const groups = arr(h.strings(Tag.FILEGROUPNAME), 'FILEGROUPNAME', 'root');
  const inodes = arr(h.numbers(Tag.FILEINODES), 'FILEINODES', 0);
  const devices = arr(h.numbers(Tag.FILEDEVICES), 'FILEDEVICES', 0);
  const rdevs = arr(h.numbers(Tag.FILERDEVS), 'FILERDEVS', 0);
  const langs = arr(h.strings(Tag.FILELANGS), 'FILELANGS', '');
  const verify = arr(h.numbers(Tag.FILEVERIFYFLAGS), 'FILEVERIFYFLAGS', 0xffffffff);
  const ima = arr(h.strings(Tag.FILESIGNATURES), 'FILESIGNATURES', '');
  return paths.map((path, i) => ({
    ...(ima[i] ? { imaSignature: ima[i] } : {}),
    path,
    mode: modes[i] as number,
    size: sizes[i] as number,
    mtime: mtimes[i] as number,
    digest: digests[i] as string,
    linkTo: links[i] as string,
    flags: flags[i] as number,
    user: users[i] as string,
    group: groups[i] as string,
    inode: inodes[i] as number,
    device: devices[i] as number,
    rdev: rdevs[i] as number,
    lang: langs[i] as string,
    verifyFlags: verify[i] as number,
  }));
}

export function isGhost(f: RpmFileInfo): boolean {
  return (f.flags & FileFlag.GHOST) !== 0;
}

// ---------------------------------------------------------------------------------------------
// digests

/** `unchecked`: present, left alone because a stronger digest covers the same bytes. */
export type Check = 'ok' | 'bad' | 'absent' | 'unchecked';

export interface DigestReport {
  headerSha256: Check;
  headerSha1: Check;
  payloadDigest: Check;
  md5: Check;
  size: Check;
  /** true when nothing is bad and at least one header and one payload digest were checked */
  ok: boolean;
}

/**
 * Checks what `rpm -K --nosignature` checks: header digests, payload digest, MD5 and size.
 * `strongest`: when the package has SHA-256 digests of the header and of the payload, SHA-1 and
 * MD5 (which cover the same bytes) are left unchecked.
 */
export async function verifyDigests(pkg: RpmPackage, src?: ByteSource, options: { strongest?: boolean } = {}): Promise<DigestReport> {
  const own = src ?? (await fileSource(pkg.path));
  try {
    const sig = pkg.signature;
    const payloadAlgo = pkg.header.number(Tag.PAYLOADDIGESTALGO) ?? 8;
    const skip = options.strongest === true && sig.has(SigTag.SHA256) && payloadAlgo === PGPHASHALGO_SHA256 && pkg.header.has(Tag.PAYLOADDIGEST);
    const cmp = (expected: string | undefined, actual: () => string): Check => (expected === undefined ? 'absent' : expected.toLowerCase() === actual() ? 'ok' : 'bad');
    const headerSha256 = cmp(sig.string(SigTag.SHA256), () => hash('sha256', pkg.headerBytes, 'hex'));
    const headerSha1 = skip ? 'unchecked' : cmp(sig.string(SigTag.SHA1), () => hash('sha1', pkg.headerBytes, 'hex'));
    const CHUNK = 4 << 20;
    let md5Digest: Buffer | undefined;
    let payloadHex: string | undefined;
    const span = own.size - pkg.headerOffset;
    if (span <= CHUNK) {
      // most packages: header and payload in one read, hashed in one call each
      const b = await own.read(pkg.headerOffset, span, 'payload');
      if (!skip) md5Digest = hash('md5', b, 'buffer');
      if (payloadAlgo === PGPHASHALGO_SHA256) payloadHex = hash('sha256', b.subarray(pkg.payloadOffset - pkg.headerOffset), 'hex');
    } else {
      const md5 = createHash('md5').update(pkg.headerBytes);
      const payloadHash = payloadAlgo === PGPHASHALGO_SHA256 ? createHash('sha256') : undefined;
      for (let pos = pkg.payloadOffset; pos < own.size; pos += CHUNK) {
        const chunk = await own.read(pos, Math.min(CHUNK, own.size - pos), 'payload');
        md5.update(chunk);
        payloadHash?.update(chunk);
      }
      md5Digest = md5.digest();
      payloadHex = payloadHash?.digest('hex');
    }
    const expectedMd5 = sig.binary(SigTag.MD5);
    const md5Check: Check = expectedMd5 === undefined ? 'absent' : md5Digest === undefined ? 'unchecked' : expectedMd5.equals(md5Digest) ? 'ok' : 'bad';
    const expectedPayload = pkg.header.strings(Tag.PAYLOADDIGEST)[0];
    const payloadDigest: Check = expectedPayload === undefined || payloadHex === undefined ? 'absent' : expectedPayload === payloadHex ? 'ok' : 'bad';
    const declared = sig.number(SigTag.LONGSIZE) ?? sig.number(SigTag.SIZE);
    const size: Check = declared === undefined ? 'absent' : declared === own.size - pkg.headerOffset ? 'ok' : 'bad';
    const all = [headerSha256, headerSha1, payloadDigest, md5Check, size];
    const ok = !all.includes('bad') && (headerSha256 === 'ok' || headerSha1 === 'ok') && (payloadDigest === 'ok' || md5Check === 'ok');
    return { headerSha256, headerSha1, payloadDigest, md5: md5Check, size, ok };
  } finally {
    if (!src) await own.close();
  }
}
