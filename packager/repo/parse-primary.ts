/**
 * primary.xml -> the packages a repository offers, as dnf/libsolv read it (libsolv
 * ext/repo_rpmmd.c): name, arch, version, checksum, location, sizes, times, dependencies. Reads
 * what createrepo_c writes and what kpkg writes (xml.ts), through the strict scanner of
 * xml-scan.ts. filelists and changelogs are not read: nobody here needs them. One file (~400
 * lines): one handler over primary's elements, whose cases share the package being built.
 */
import { KpkgError } from '../errors.js';
import { NS } from './metadata.js';
import { scanXml, type XmlAttributes, type XmlHandler } from './xml-scan.js';

/** rpmsense comparison as primary.xml writes it (createrepo_c cr_flag_to_str). */
export type RepoDependencyFlags = 'EQ' | 'LT' | 'LE' | 'GT' | 'GE';

/** One `<rpm:entry>`: a capability, with a version comparison when `flags` is present. */
export interface RepoDependency {
  name: string;
  flags?: RepoDependencyFlags;
  epoch?: string;
  version?: string;
  release?: string;
  /** Requires only: `pre="1"` (Requires(pre), (post), PreReq). */
  pre?: boolean;
}

/** One `<package type="rpm">` of primary.xml. */
export interface RepoPackageEntry {
  name: string;
  arch: string;
  /** 0 when primary says epoch="0" or nothing. */
  epoch: number;
  version: string;
  release: string;
  /** `<location href>`: relative to the repository root, or to `base` when given. */
  href: string;
  /** `<location xml:base>`: where the package lives when not in the repository itself. */
  base?: string;
  /** The checksum of the whole RPM file (also its pkgid). type as written: sha256, sha1, sha, sha512... */
  checksum: { type: string; value: string };
  size: { package: number; installed: number; archive: number };
  provides: RepoDependency[];
  requires: RepoDependency[];
  conflicts: RepoDependency[];
  obsoletes: RepoDependency[];
  sourcerpm?: string;
  summary: string;
  description: string;
  url: string;
  license: string;
  /** Seconds since the epoch. */
  buildTime: number;
  fileTime: number;
}

export interface ParsedPrimary {
  packages: RepoPackageEntry[];
  /** `<metadata packages="N">`, undefined when absent. */
  declaredCount: number | undefined;
}

const enum K {
  Other = 0,
  Metadata,
  Package,
  Name,
  Arch,
  Version,
  Checksum,
  Summary,
  Description,
  Url,
  Time,
  Size,
  Location,
  Format,
  License,
  SourceRpm,
  Provides,
  Requires,
  Conflicts,
  Obsoletes,
  OtherDeps,
  Entry,
}

const COMMON: Readonly<Record<string, K>> = {
  metadata: K.Metadata,
  package: K.Package,
  name: K.Name,
  arch: K.Arch,
  version: K.Version,
  checksum: K.Checksum,
  summary: K.Summary,
  description: K.Description,
  url: K.Url,
  time: K.Time,
  size: K.Size,
  location: K.Location,
  format: K.Format,
};
const RPM: Readonly<Record<string, K>> = {
  license: K.License,
  sourcerpm: K.SourceRpm,
  provides: K.Provides,
  requires: K.Requires,
  conflicts: K.Conflicts,
  obsoletes: K.Obsoletes,
  suggests: K.OtherDeps,
  enhances: K.OtherDeps,
  recommends: K.OtherDeps,
  supplements: K.OtherDeps,
  entry: K.Entry,
};

function classify(ns: string, local: string): number {
  if (ns === NS.common) return COMMON[local] ?? K.Other;
  if (ns === NS.rpm) return RPM[local] ?? K.Other;
  return K.Other;
}

const FLAGS: ReadonlySet<string> = new Set(['EQ', 'LT', 'LE', 'GT', 'GE']);
const DIGITS = /^[0-9]+$/;

function attr(attrs: XmlAttributes, name: string): string | undefined {
  return attrs.get(name);
}

interface Draft {
  entry: RepoPackageEntry;
  /** Elements seen that must be there. */
  hasName: boolean;
  hasArch: boolean;
  hasVersion: boolean;
  hasChecksum: boolean;
  hasLocation: boolean;
}

/**
 * Parses primary.xml (`text` already decoded from UTF-8). Throws KpkgError BAD_PACKAGE
 * naming `file`, with line and column for XML errors and the package for missing or malformed
 * fields. Does not compare the package count: the caller decides (see declaredCount).
 */
export function parsePrimary(text: string, file: string): ParsedPrimary {
  const packages: RepoPackageEntry[] = [];
  let declaredCount: number | undefined;
  let draft: Draft | undefined;
  let depth = 0; // depth inside the current <package>
  let deps: RepoDependency[] | undefined; // the list <rpm:entry> goes to, when inside one we keep
  let inDeps = false;
  let inFormat = false;
  let field: K = K.Other; // the text element being read
  let fieldDepth = 0;
  let textValue = '';

  const problem = (message: string): never => {
    const where = draft ? `package ${packages.length + 1}${draft.hasName ? ` (${draft.entry.name})` : ''}` : 'primary';
    throw new KpkgError('BAD_PACKAGE', `${file}: ${where}: ${message}`);
  };
  const int = (attrs: XmlAttributes, name: string, what: string): number => {
    const v = attrs.get(name);
    if (v === undefined || v === '') return 0;
    let n = 0;
    for (let i = 0; i < v.length; i++) {
      const d = v.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) problem(`${what} ${name}=${JSON.stringify(v)} is not a whole number`);
      n = n * 10 + d;
    }
    if (!Number.isSafeInteger(n)) problem(`${what} ${name}=${v} is too large`);
    return n;
  };

  const handler: XmlHandler = {
    wantText: false,
    open(kind, qname, attrs) {
      if (draft === undefined) {
        if (kind === K.Metadata) {
          if (depth !== 0 || packages.length > 0) problem('<metadata> inside <metadata>');
          const n = attr(attrs, 'packages');
          if (n !== undefined) {
            if (!DIGITS.test(n)) problem(`packages=${JSON.stringify(n)} is not a whole number`);
            declaredCount = Number(n);
          }
          depth = -1;
          return;
        }
        if (kind === K.Package && depth === -1) {
          if (attr(attrs, 'type') !== 'rpm') problem(`<package type=${JSON.stringify(attr(attrs, 'type') ?? '')}>: only type="rpm" is read`);
          draft = {
            entry: {
              name: '',
              arch: '',
              epoch: 0,
              version: '',
              release: '',
              href: '',
              checksum: { type: '', value: '' },
              size: { package: 0, installed: 0, archive: 0 },
              provides: [],
              requires: [],
              conflicts: [],
              obsoletes: [],
              summary: '',
              description: '',
              url: '',
              license: '',
              buildTime: 0,
              fileTime: 0,
            },
            hasName: false,
            hasArch: false,
            hasVersion: false,
            hasChecksum: false,
            hasLocation: false,
          };
          depth = 0;
          return;
        }
        // anything else outside a package (a root other than <metadata> is caught at the end)
        return;
      }
      depth++;
      const e = draft.entry;
      if (depth === 1) {
        switch (kind) {
          case K.Name:
          case K.Arch:
          case K.Summary:
          case K.Description:
          case K.Url:
            startText(kind);
            return;
          case K.Checksum:
            e.checksum.type = attr(attrs, 'type') ?? '';
            startText(kind);
            return;
          case K.Version: {
            const epoch = attr(attrs, 'epoch');
            if (epoch !== undefined && epoch !== '') {
              if (!DIGITS.test(epoch)) problem(`version epoch=${JSON.stringify(epoch)} is not a whole number`);
              e.epoch = Number(epoch);
            }
            e.version = attr(attrs, 'ver') ?? '';
            e.release = attr(attrs, 'rel') ?? '';
            draft.hasVersion = true;
            return;
          }
          case K.Time:
            e.fileTime = int(attrs, 'file', 'time');
            e.buildTime = int(attrs, 'build', 'time');
            return;
          case K.Size:
            e.size.package = int(attrs, 'package', 'size');
            e.size.installed = int(attrs, 'installed', 'size');
            e.size.archive = int(attrs, 'archive', 'size');
            return;
          case K.Location: {
            const href = attr(attrs, 'href');
            if (href === undefined || href === '') problem('<location> has no href');
            e.href = href as string;
            const base = attr(attrs, 'xml:base');
            if (base !== undefined && base !== '') e.base = base;
            draft.hasLocation = true;
            return;
          }
          case K.Format:
            inFormat = true;
            return;
          default:
            return;
        }
      }
      if (depth === 2 && inFormat) {
        switch (kind) {
          case K.License:
          case K.SourceRpm:
            startText(kind);
            return;
          case K.Provides:
            deps = e.provides;
            inDeps = true;
            return;
          case K.Requires:
            deps = e.requires;
            inDeps = true;
            return;
          case K.Conflicts:
            deps = e.conflicts;
            inDeps = true;
            return;
          case K.Obsoletes:
            deps = e.obsoletes;
            inDeps = true;
            return;
          case K.OtherDeps:
            deps = undefined;
            inDeps = true;
            return;
          default:
            return;
        }
      }
      if (depth === 3 && inDeps && kind === K.Entry) {
        if (deps === undefined) return;
        const name = attr(attrs, 'name');
        if (name === undefined || name === '') problem(`<${qname}> has no name`);
        const dep: RepoDependency = { name: name as string };
        const flags = attr(attrs, 'flags');
        if (flags !== undefined && flags !== '') {
          if (!FLAGS.has(flags)) problem(`dependency ${name}: flags=${JSON.stringify(flags)} (expected EQ, LT, LE, GT or GE)`);
          dep.flags = flags as RepoDependencyFlags;
          const epoch = attr(attrs, 'epoch');
          const ver = attr(attrs, 'ver');
          const rel = attr(attrs, 'rel');
          if (epoch !== undefined) dep.epoch = epoch;
          if (ver !== undefined) dep.version = ver;
          if (rel !== undefined) dep.release = rel;
        }
        const pre = attr(attrs, 'pre');
        if (pre === '1' || pre === 'true') dep.pre = true;
        deps.push(dep);
      }
    },
    close(kind) {
      if (draft === undefined) {
        if (kind === K.Metadata && depth === -1) depth = -2;
        return;
      }
      if (depth === 0) {
        // </package>
        finish(draft);
        draft = undefined;
        depth = -1;
        return;
      }
      if (field !== K.Other && depth === fieldDepth) endText();
      if (depth === 1 && kind === K.Format) inFormat = false;
      if (depth === 2 && inDeps) {
        inDeps = false;
        deps = undefined;
      }
      depth--;
    },
    text(value) {
      textValue += value;
    },
  };

  function startText(kind: K): void {
    field = kind;
    fieldDepth = depth;
    textValue = '';
    handler.wantText = true;
  }

  function endText(): void {
    handler.wantText = false;
    const d = draft as Draft;
    const e = d.entry;
    switch (field) {
      case K.Name:
        e.name = textValue;
        d.hasName = true;
        break;
      case K.Arch:
        e.arch = textValue;
        d.hasArch = true;
        break;
      case K.Summary:
        e.summary = textValue;
        break;
      case K.Description:
        e.description = textValue;
        break;
      case K.Url:
        e.url = textValue;
        break;
      case K.Checksum:
        e.checksum.value = textValue.trim().toLowerCase();
        d.hasChecksum = true;
        break;
      case K.License:
        e.license = textValue;
        break;
      case K.SourceRpm:
        if (textValue !== '') e.sourcerpm = textValue;
        break;
      default:
        break;
    }
    field = K.Other;
    textValue = '';
  }

  function finish(d: Draft): void {
    if (!d.hasName || d.entry.name === '') problem('no <name>');
    if (!d.hasArch || d.entry.arch === '') problem('no <arch>');
    if (!d.hasVersion || d.entry.version === '') problem('no <version ver>');
    if (!d.hasChecksum || d.entry.checksum.value === '' || d.entry.checksum.type === '') problem('no <checksum type> with a value');
    if (!/^[0-9a-f]+$/.test(d.entry.checksum.value)) problem(`checksum ${JSON.stringify(d.entry.checksum.value.slice(0, 80))} is not hexadecimal`);
    if (!d.hasLocation) problem('no <location href>');
    packages.push(d.entry);
  }

  const root = scanXml(text, file, classify, handler);
  if (root !== K.Metadata) throw new KpkgError('BAD_PACKAGE', `${file}: the root element is not <metadata xmlns="${NS.common}">: not a primary.xml`);
  return { packages, declaredCount };
}
