/**
 * The metadata files of a yum repository: primary, filelists and other (each one header, the
 * packages' chunks from xml.ts, one footer, compressed) and repomd.xml that lists them with their
 * checksums and sizes, compressed and open, as createrepo_c 0.17+ writes them (src/xml_file.c,
 * src/xml_dump_repomd.c, src/repomd.c). Nothing here chooses which packages go in, locks, or swaps
 * repomd.xml into place: that is the publisher's job (session.ts); store.ts writes the files.
 */
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

/** The file name suffix of each compression: `<sha256>-primary.xml.gz`. */
export const METADATA_SUFFIX: Readonly<Record<MetadataCompression, string>> = { gzip: '.gz', zstd: '.zst' };

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
