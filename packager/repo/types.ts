/**
 * One package as the repository metadata sees it: everything primary.xml, filelists.xml and
 * other.xml need, already filtered and split the way createrepo_c 0.17+ does it
 * (src/parsehdr.c), so the XML dumpers in xml.ts only format. A record is plain JSON data:
 * a publisher may store it and render it again later with the same result.
 *
 * Strings that the RPM header lacks are '' (createrepo_c writes an empty element for them).
 */

/** rpmsense comparison bits rendered as createrepo_c's cr_flag_to_str() does (misc.c). */
export type ComparisonFlag = 'EQ' | 'LT' | 'GT' | 'LE' | 'GE';

export interface RepoDependency {
  name: string;
  /** Absent when the dependency has no version comparison. */
  flags?: ComparisonFlag;
  /** Split from the dependency's version "E:V-R"; epoch is '0' when the version has none. */
  epoch?: string;
  ver?: string;
  rel?: string;
  /** Requires only: Requires(pre), (post), pretrans, posttrans or PreReq. */
  pre?: boolean;
}

/** '' is a regular file (or symlink, device...), 'dir' a directory, 'ghost' a %ghost file. */
export type RepoFileType = '' | 'dir' | 'ghost';

export interface RepoFile {
  /** Full path: dirname + basename. */
  path: string;
  type: RepoFileType;
}

export interface RepoChangelog {
  author: string;
  /** Seconds since the epoch, after createrepo_c's de-duplication of equal times. */
  date: number;
  text: string;
}

export interface RepoPackage {
  /** sha256 of the whole RPM file, lower-case hex: the pkgid of all three files. */
  pkgid: string;
  checksumType: 'sha256';
  name: string;
  /** 'src' for source packages, as createrepo_c. */
  arch: string;
  /** Always a decimal string, '0' when the header has no EPOCH. */
  epoch: string;
  version: string;
  release: string;
  summary: string;
  description: string;
  packager: string;
  url: string;
  /** mtime of the RPM file, seconds. */
  timeFile: number;
  timeBuild: number;
  /** Size of the RPM file. */
  sizePackage: number;
  /** LONGSIZE or SIZE of the header. */
  sizeInstalled: number;
  /** LONGARCHIVESIZE or ARCHIVESIZE (header, else signature PAYLOADSIZE). */
  sizeArchive: number;
  /** Location relative to the repository root, e.g. "Packages/a-1-1.noarch.rpm". */
  href: string;
  license: string;
  vendor: string;
  group: string;
  buildhost: string;
  sourcerpm: string;
  /** Byte offset of the main header in the file. */
  headerStart: number;
  /** Byte offset where the payload starts (end of the main header). */
  headerEnd: number;
  provides: RepoDependency[];
  requires: RepoDependency[];
  conflicts: RepoDependency[];
  obsoletes: RepoDependency[];
  suggests: RepoDependency[];
  enhances: RepoDependency[];
  recommends: RepoDependency[];
  supplements: RepoDependency[];
  /** Every file in header order (filelists.xml); primary.xml shows the subset of isPrimaryFile(). */
  files: RepoFile[];
  /** At most the changelog limit (10 by default), oldest first as createrepo_c writes them. */
  changelog: RepoChangelog[];
}

/** The three per-package metadata files. */
export type MetadataType = 'primary' | 'filelists' | 'other';
