/**
 * RPM header -> repository record, as createrepo_c 0.17 computes it in cr_package_from_header()
 * (src/parsehdr.c) with the cr_str_to_evr() and cr_flag_to_str() of src/misc.c. The comments name
 * each createrepo_c rule that is not obvious; the tests compare with createrepo_c itself.
 * It stays one file (~400 lines) as cr_package_from_header() is one function: the rules for
 * strings, dependencies, files and changelogs refer to each other.
 */
import { KpkgError } from '../errors.js';
import {
  RPMSENSE_MISSINGOK,
  RPMSENSE_POSTTRANS,
  RPMSENSE_PREREQ,
  RPMSENSE_PRETRANS,
  RPMSENSE_SCRIPT_POST,
  RPMSENSE_SCRIPT_PRE,
  RPMSENSE_STRONG,
} from '../rpm/sense.js';
import type { Header } from '../rpm/header.js';
import { declaredArchiveSize } from '../rpm/payload-reader.js';
import { isSourcePackage, type RpmPackage } from '../rpm/reader.js';
import { DEPENDENCY_TAGS, type DependencyKind, FileFlag, Tag } from '../rpm/tags.js';
import { rpmvercmp } from '../rpm/version.js';
import type { RepoChangelog, RepoDependency, RepoFile, ComparisonFlag, RepoPackage } from './types.js';
import { forbiddenXmlChar, isPrimaryFile } from './xml.js';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

/** createrepo_c's default `--changelog-limit` (src/cmd_parser.c: DEFAULT_CHANGELOG_LIMIT). */
export const DEFAULT_CHANGELOG_LIMIT = 10;

/** Where the package file is in the repository, and what it is. */
export interface PackageLocation {
  /** Location relative to the repository root. */
  href: string;
  /** sha256 of the whole file, hex. */
  sha256: string;
  size: number;
  /** Seconds. */
  mtime: number;
}

export interface RecordOptions {
  /** Newest changelog entries kept; -1 keeps all. Default 10, as createrepo_c. */
  changelogLimit?: number;
  /**
   * Mark `Requires(pretrans)` and `Requires(posttrans)` with pre="1", as createrepo_c >= 1.1.1
   * does. Default false, as createrepo_c 0.17 (the version in EL9, Debian 12 and the tests).
   */
  transPre?: boolean;
  /**
   * Read the legacy weak dependencies (MISSINGOK requires -> recommends, OLDSUGGESTS/OLDENHANCES
   * tags), as createrepo_c built with ENABLE_LEGACY_WEAKDEPS (the default build). Default true.
   */
  legacyWeakDeps?: boolean;
}

/** cr_flag_to_str(): only the comparison bits, only the five combinations with a name. */
export function flagsName(flags: number): ComparisonFlag | undefined {
  switch (flags & 0xf) {
    case 2:
      return 'LT';
    case 4:
      return 'GT';
    case 8:
      return 'EQ';
    case 10:
      return 'LE';
    case 12:
      return 'GE';
    default:
      return undefined;
  }
}

/**
 * cr_str_to_evr(): epoch before the FIRST ':' (when all of it is a number as strtol reads it:
 * optional blanks and sign), release after the first '-' that follows it. Unlike rpm, which
 * takes the last '-'. `undefined` for a non-numeric epoch (createrepo_c then drops the dependency).
 * An empty string gives {} (no attributes at all).
 */
export function splitEVR(evr: string): { epoch?: string; ver?: string; rel?: string } | undefined {
  if (evr === '') return {};
  let epoch: string | undefined;
  let rest = evr;
  const colon = evr.indexOf(':');
  if (colon >= 0) {
    const head = evr.slice(0, colon);
    // strtol consumed everything up to ':' (an empty head consumes nothing and ends at ':')
    if (head !== '' && !/^[ \t\n\v\f\r]*[+-]?\d+$/.test(head)) return undefined;
    if (head !== '') epoch = head;
    rest = evr.slice(colon + 1);
  }
  const out: { epoch?: string; ver?: string; rel?: string } = { epoch: epoch ?? '0' };
  const dash = rest.indexOf('-');
  if (dash >= 0) {
    out.ver = rest.slice(0, dash);
    if (dash + 1 < rest.length) out.rel = rest.slice(dash + 1);
  } else {
    out.ver = rest;
  }
  return out;
}

/**
 * cr_compare_dependency() for two "libc.so.6..." names: 2 when the second has the higher
 * version in parentheses, 1 when the first, 0 when equal, -1 when neither is closed.
 */
function compareLibc(dep1: string, dep2: string): number {
  if (dep1 === dep2) return 0;
  let v1 = dep1.indexOf('(');
  let v2 = dep2.indexOf('(');
  if (v1 < 0 && v2 < 0) return 0;
  if (v1 < 0) return 2;
  if (v2 < 0) return 1;
  const e1 = dep1.indexOf(')', v1);
  const e2 = dep2.indexOf(')', v2);
  if (e1 < 0 && e2 < 0) return -1;
  if (e1 < 0) return 2;
  if (e2 < 0) return 1;
  v1++;
  v2++;
  if (v1 === e1 && v2 === e2) return 0;
  if (v1 === e1) return 2;
  if (v2 === e2) return 1;
  const digit = (s: string, i: number) => {
    while (i < s.length && !(s[i]! >= '0' && s[i]! <= '9')) i++;
    return i;
  };
  v1 = digit(dep1, v1);
  v2 = digit(dep2, v2);
  if (v1 > e1 && v2 > e2) return 0;
  if (v1 > e1) return 2;
  if (v2 > e2) return 1;
  const r = rpmvercmp(dep1.slice(v1, e1), dep2.slice(v2, e2));
  return r === -1 ? 2 : r;
}

type DepKey = DependencyKind;

/** The order of createrepo_c's dep_items[]: provides must come before requires. */
const DEP_TAGS: readonly [DepKey | 'oldsuggests' | 'oldenhances', number, number, number][] = [
  ...(['provides', 'conflicts', 'obsoletes', 'requires', 'suggests', 'enhances', 'recommends', 'supplements'] as const).map(
    (k) => [k, DEPENDENCY_TAGS[k].name, DEPENDENCY_TAGS[k].flags, DEPENDENCY_TAGS[k].version] as [DepKey, number, number, number],
  ),
  ['oldsuggests', Tag.OLDSUGGESTSNAME, Tag.OLDSUGGESTSFLAGS, Tag.OLDSUGGESTSVERSION],
  ['oldenhances', Tag.OLDENHANCESNAME, Tag.OLDENHANCESFLAGS, Tag.OLDENHANCESVERSION],
];

/**
 * The strings of a header as createrepo_c sees them. Our reader decodes every string as UTF-8
 * (invalid bytes become U+FFFD); createrepo_c instead converts a string that is not valid UTF-8
 * from Latin-1 (cr_latin1_to_utf8() in src/xml_dump.c: bytes 0x80-0xBF and C0 controls other
 * than tab, LF, CR dropped, 0xC0-0xFF converted). So a string holding U+FFFD is decoded again
 * from its bytes (Header.stringBytes).
 */
interface Strings {
  str: (tag: number) => string;
  strs: (tag: number) => string[];
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function latin1ToUtf8(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    if (b < 0x80) {
      if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) continue;
      out += String.fromCharCode(b);
    } else if (b >= 0xc0) {
      out += String.fromCharCode(b);
    }
  }
  return out;
}

function headerStrings(h: Header): Strings {
  const fix = (tag: number, values: string[]): string[] => {
    if (!values.some((v) => v.includes('\ufffd'))) return values;
    const raw = h.stringBytes(tag);
    if (!raw || raw.length < values.length) return values;
    return values.map((v, i) => {
      const b = raw[i];
      if (!v.includes('\ufffd') || b === undefined) return v;
      try {
        return UTF8.decode(b);
      } catch {
        return latin1ToUtf8(b);
      }
    });
  };
  return {
    str: (tag) => {
      const v = h.string(tag);
      return v === undefined ? '' : v.includes('\ufffd') ? (fix(tag, [v])[0] ?? v) : v;
    },
    strs: (tag) => fix(tag, h.strings(tag)),
  };
}

function headerFiles(h: Header, S: Strings): RepoFile[] {
  const baseNames = S.strs(Tag.BASENAMES);
  const dirNames = S.strs(Tag.DIRNAMES);
  const dirIndexes = h.numbers(Tag.DIRINDEXES);
  const flags = h.numbers(Tag.FILEFLAGS);
  const modes = h.numbers(Tag.FILEMODES);
  // createrepo_c needs all of them (FILEDIGESTS too) or lists no file at all
  if (!h.has(Tag.BASENAMES) || !h.has(Tag.DIRINDEXES) || !h.has(Tag.FILEFLAGS) || !h.has(Tag.FILEMODES) || !h.has(Tag.FILEDIGESTS)) {
    return [];
  }
  const n = Math.min(baseNames.length, dirIndexes.length, flags.length, modes.length, h.count(Tag.FILEDIGESTS));
  const out: RepoFile[] = [];
  for (let i = 0; i < n; i++) {
    const dir = dirNames[dirIndexes[i] as number] ?? '';
    const mode = modes[i] as number;
    const type = (mode & S_IFMT) === S_IFDIR ? 'dir' : ((flags[i] as number) & FileFlag.GHOST) !== 0 ? 'ghost' : '';
    out.push({ path: dir + (baseNames[i] as string), type });
  }
  return out;
}

function dependencies(h: Header, S: Strings, files: ReadonlySet<string>, options: Required<RecordOptions>): Record<DepKey, RepoDependency[]> {
  const out: Record<DepKey, RepoDependency[]> = {
    provides: [],
    conflicts: [],
    obsoletes: [],
    requires: [],
    suggests: [],
    enhances: [],
    recommends: [],
    supplements: [],
  };
  const provided = new Set<string>(); // name + flags + version of every provide
  const seenRequires = new Map<string, { flags: string; version: string; pre: boolean }>();
  const preMask =
    RPMSENSE_PREREQ | RPMSENSE_SCRIPT_PRE | RPMSENSE_SCRIPT_POST | (options.transPre ? RPMSENSE_POSTTRANS | RPMSENSE_PRETRANS : 0);
  for (const [key, nameTag, flagsTag, versionTag] of DEP_TAGS) {
    if ((key === 'oldsuggests' || key === 'oldenhances') && !options.legacyWeakDeps) continue;
    // createrepo_c reads a kind only when its three tags are all present
    if (!h.has(nameTag) || !h.has(flagsTag) || !h.has(versionTag)) continue;
    const names = S.strs(nameTag);
    const flagsArr = h.numbers(flagsTag);
    const versions = S.strs(versionTag);
    const n = Math.min(names.length, flagsArr.length, versions.length);
    let libc: RepoDependency | undefined;
    for (let i = 0; i < n; i++) {
      const name = names[i] as string;
      const numFlags = flagsArr[i] as number;
      const flags = flagsName(numFlags);
      const version = versions[i] as string;
      const nfv = name + (flags ?? '') + version;
      let pre = false;
      if (key === 'requires') {
        if (name.startsWith('rpmlib(')) continue;
        // a file of this very package, when primary.xml lists it
        if (name.startsWith('/') && files.has(name) && isPrimaryFile(name)) continue;
        if (provided.has(nfv)) continue;
        pre = (numFlags & preMask) !== 0;
        const seen = seenRequires.get(name);
        if (seen && seen.flags === (flags ?? '') && seen.version === version && seen.pre === pre) continue;
      }
      const evr = splitEVR(version);
      if (evr === undefined) continue; // createrepo_c: "Bad epoch in version string", skipped
      const dep: RepoDependency = { name };
      if (flags) dep.flags = flags;
      if (evr.epoch !== undefined) dep.epoch = evr.epoch;
      if (evr.ver !== undefined) dep.ver = evr.ver;
      if (evr.rel !== undefined) dep.rel = evr.rel;
      switch (key) {
        case 'provides':
          provided.add(nfv);
          out.provides.push(dep);
          break;
        case 'requires':
          if (options.legacyWeakDeps && (numFlags & RPMSENSE_MISSINGOK) !== 0) {
            out.recommends.push(dep);
            break;
          }
          if (pre) dep.pre = true;
          // only the highest libc.so.6(GLIBC_x) is kept, after all other requires
          if (name.startsWith('libc.so.6')) {
            if (!libc || compareLibc(libc.name, name) === 2) libc = dep;
            break;
          }
          out.requires.push(dep);
          seenRequires.set(name, { flags: flags ?? '', version, pre });
          break;
        case 'oldsuggests':
          ((numFlags & RPMSENSE_STRONG) !== 0 ? out.recommends : out.suggests).push(dep);
          break;
        case 'oldenhances':
          ((numFlags & RPMSENSE_STRONG) !== 0 ? out.supplements : out.enhances).push(dep);
          break;
        default:
          out[key].push(dep);
      }
    }
    if (key === 'requires' && libc) out.requires.push(libc);
  }
  return out;
}

/**
 * The first `limit` entries of the header (newest first there), written oldest first; equal
 * times are made distinct by bumping the older entries by one second each, as createrepo_c does
 * ("Ugly but works!"); authors lose trailing spaces.
 */
function changelog(h: Header, S: Strings, limit: number): RepoChangelog[] {
  if (!h.has(Tag.CHANGELOGTIME) || !h.has(Tag.CHANGELOGNAME) || !h.has(Tag.CHANGELOGTEXT)) return [];
  const times = h.numbers(Tag.CHANGELOGTIME);
  const names = S.strs(Tag.CHANGELOGNAME);
  const texts = S.strs(Tag.CHANGELOGTEXT);
  const n = Math.min(times.length, names.length, texts.length, limit === -1 ? Infinity : Math.max(0, limit));
  const list: RepoChangelog[] = []; // list[0] is the most recently processed entry, as the C list
  let lastTime = 0;
  for (let i = 0; i < n; i++) {
    const time = times[i] as number;
    let author = names[i] as string;
    // the C loop stops at index 1: a lone space stays
    let end = author.length;
    while (end > 1 && author[end - 1] === ' ') end--;
    author = author.slice(0, end);
    list.unshift({ author, date: time, text: texts[i] as string });
    if (lastTime === time) {
      let tmp = time;
      for (let j = 1; j < list.length && list[j]!.date === tmp; j++) {
        list[j]!.date++;
        tmp++;
      }
    } else {
      lastTime = time;
    }
  }
  return list;
}

/** Calls `check` with every string of the record (a loop, not a generator: it runs for every package). */
function eachString(rec: RepoPackage, check: (field: string, value: string) => void): void {
  for (const k of ['name', 'arch', 'epoch', 'version', 'release', 'summary', 'description', 'url', 'license', 'vendor', 'group', 'buildhost', 'sourcerpm', 'packager', 'href'] as const) {
    check(k, rec[k]);
  }
  for (const k of ['provides', 'requires', 'conflicts', 'obsoletes', 'suggests', 'enhances', 'recommends', 'supplements'] as const) {
    for (const d of rec[k]) {
      check(k, d.name);
      if (d.epoch !== undefined) check(k, d.epoch);
      if (d.ver !== undefined) check(k, d.ver);
      if (d.rel !== undefined) check(k, d.rel);
    }
  }
  for (const f of rec.files) check('file', f.path);
  for (const c of rec.changelog) {
    check('changelog author', c.author);
    check('changelog text', c.text);
  }
}

/**
 * Everything the three metadata files say about the package `pkg` stored at `file.href`.
 * Throws KpkgError('BAD_PACKAGE') when a string holds a character XML 1.0 cannot carry:
 * createrepo_c refuses such packages too.
 */
export function packageRecord(pkg: Pick<RpmPackage, 'header' | 'signature' | 'headerOffset' | 'payloadOffset'>, file: PackageLocation, options: RecordOptions = {}): RepoPackage {
  const opts: Required<RecordOptions> = {
    changelogLimit: options.changelogLimit ?? DEFAULT_CHANGELOG_LIMIT,
    transPre: options.transPre ?? false,
    legacyWeakDeps: options.legacyWeakDeps ?? true,
  };
  const h = pkg.header;
  const S = headerStrings(h);
  const s = S.str;
  const files = headerFiles(h, S);
  const archive = declaredArchiveSize(pkg) ?? 0;
  const rec: RepoPackage = {
    pkgid: file.sha256,
    checksumType: 'sha256',
    name: s(Tag.NAME),
    // createrepo_c lists a source package with arch src, whatever its ARCH tag says
    arch: isSourcePackage(h) ? 'src' : s(Tag.ARCH),
    epoch: String(h.number(Tag.EPOCH) ?? 0),
    version: s(Tag.VERSION),
    release: s(Tag.RELEASE),
    summary: s(Tag.SUMMARY),
    description: s(Tag.DESCRIPTION),
    packager: s(Tag.PACKAGER),
    url: s(Tag.URL),
    timeFile: file.mtime,
    timeBuild: h.number(Tag.BUILDTIME) ?? 0,
    sizePackage: file.size,
    sizeInstalled: h.number(Tag.LONGSIZE) ?? h.number(Tag.SIZE) ?? 0,
    sizeArchive: archive,
    href: file.href,
    license: s(Tag.LICENSE),
    vendor: s(Tag.VENDOR),
    group: s(Tag.GROUP),
    buildhost: s(Tag.BUILDHOST),
    sourcerpm: s(Tag.SOURCERPM),
    headerStart: pkg.headerOffset,
    headerEnd: pkg.payloadOffset,
    ...dependencies(h, S, new Set(files.map((f) => f.path)), opts),
    files,
    changelog: changelog(h, S, opts.changelogLimit),
  };
  eachString(rec, (field, value) => {
    const bad = forbiddenXmlChar(value);
    if (bad) {
      throw new KpkgError(
        'BAD_PACKAGE',
        `${file.href}: ${field} ${JSON.stringify(value.slice(0, 80))} holds U+${bad.code.toString(16).toUpperCase().padStart(4, '0')}, which XML 1.0 cannot carry (createrepo_c refuses such packages too)`,
      );
    }
  });
  return rec;
}
