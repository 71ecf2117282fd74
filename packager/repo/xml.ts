/**
 * One package's chunk of primary.xml, filelists.xml and other.xml, formatted as createrepo_c's
 * dumpers (src/xml_dump_primary.c, xml_dump_filelists.c, xml_dump_other.c) print them through
 * libxml2's xmlNodeDump with pretty printing: `<package>` at column 0, two spaces per level,
 * empty strings as `<tag></tag>`, attribute-only elements self-closed, a newline at the end.
 *
 * Every chunk function is pure and self-contained: it depends on the record only (no namespace
 * declarations, counters or shared state), so a publisher may cache a package's chunks and
 * concatenate them, in any order and any number, between metadataHeader() and metadataFooter().
 */
import { KpkgError } from '../errors.js';
import type { RepoDependency, RepoPackage } from './types.js';

/** Characters that may be forbidden: controls but tab/LF/CR, surrogates (fine when paired), U+FFFE/F. */
const SUSPECT_XML_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]/;

/**
 * The first character XML 1.0 cannot carry (C0 controls except tab, LF and CR; U+FFFE, U+FFFF;
 * unpaired surrogates), or undefined. createrepo_c refuses a package with such characters
 * (cr_Package_contains_forbidden_control_chars); so do we.
 */
export function forbiddenXmlChar(s: string): { index: number; code: number } | undefined {
  // one native scan for the common case: nothing suspect at all
  if (!SUSPECT_XML_CHAR.test(s)) return undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0xd800) continue;
    if (c < 0x20) {
      if (c === 0x09 || c === 0x0a || c === 0x0d) continue;
      return { index: i, code: c };
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return { index: i, code: c };
    }
    if (c >= 0xdc00 && c <= 0xdfff) return { index: i, code: c };
    if (c === 0xfffe || c === 0xffff) return { index: i, code: c };
  }
  return undefined;
}

function assertXmlChars(s: string): void {
  const bad = forbiddenXmlChar(s);
  if (bad) {
    const hex = bad.code.toString(16).toUpperCase().padStart(4, '0');
    throw new KpkgError('INVALID_INPUT', `U+${hex} at index ${bad.index} of ${JSON.stringify(s.slice(0, 80))} cannot be written in XML 1.0`);
  }
}

/** Text that needs no escaping and holds nothing XML cannot carry (the common case): one scan. */
const PLAIN_TEXT = /^[^\x00-\x08\x0b-\x1f&<>\ud800-\udfff\ufffe\uffff]*$/;
/** Printable ASCII but `& < > "`: an attribute value that needs no escaping (the common case). */
const PLAIN_ATTR = /^[ !#-%'-;=?-~]*$/;
const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
const ATTR_ESCAPES: Record<string, string> = { ...TEXT_ESCAPES, '"': '&quot;', '\n': '&#10;', '\t': '&#9;' };

/**
 * Escapes character data as libxml2 does (`& < >` and CR, which a parser would otherwise turn
 * into LF). `]]>` needs nothing more: its `>` is escaped. Throws on characters XML cannot carry.
 */
export function escapeText(s: string): string {
  if (PLAIN_TEXT.test(s)) return s;
  assertXmlChars(s);
  return s.replace(/[&<>\r]/g, (c) => TEXT_ESCAPES[c] as string);
}

/**
 * Escapes an attribute value for double quotes, as libxml2 2.9 does for a node without a
 * document encoding (xmlBufAttrSerializeTxtContent): also `"`; tab, LF and CR as character
 * references (attribute-value normalisation would turn them into spaces); and every non-ASCII
 * character as `&#xHEX;`, so that the bytes equal createrepo_c's.
 */
export function escapeAttr(s: string): string {
  if (PLAIN_ATTR.test(s)) return s;
  assertXmlChars(s);
  return s.replace(/[&<>"\r\n\t]|[^\x00-\x7f]/gu, (c) => ATTR_ESCAPES[c] ?? `&#x${(c.codePointAt(0) as number).toString(16).toUpperCase()};`);
}

function text(indent: string, tag: string, value: string): string {
  return `${indent}<${tag}>${escapeText(value)}</${tag}>\n`;
}

/** createrepo_c cr_is_primary() (src/misc.h): the files primary.xml lists. */
export function isPrimaryFile(path: string): boolean {
  return path.startsWith('/etc/') || path === '/usr/lib/sendmail' || path.includes('bin/');
}

const DEP_ELEMENTS = [
  ['provides', 'rpm:provides'],
  ['requires', 'rpm:requires'],
  ['conflicts', 'rpm:conflicts'],
  ['obsoletes', 'rpm:obsoletes'],
  ['suggests', 'rpm:suggests'],
  ['enhances', 'rpm:enhances'],
  ['recommends', 'rpm:recommends'],
  ['supplements', 'rpm:supplements'],
] as const;

function dependencies(tag: string, deps: readonly RepoDependency[], requires: boolean): string {
  if (deps.length === 0) return '';
  let inner = '';
  for (const d of deps) {
    if (d.name === '') continue; // createrepo_c skips nameless entries
    let e = `      <rpm:entry name="${escapeAttr(d.name)}"`;
    if (d.flags) {
      e += ` flags="${d.flags}"`;
      if (d.epoch) e += ` epoch="${escapeAttr(d.epoch)}"`;
      if (d.ver) e += ` ver="${escapeAttr(d.ver)}"`;
      if (d.rel) e += ` rel="${escapeAttr(d.rel)}"`;
    }
    if (requires && d.pre) e += ' pre="1"';
    inner += `${e}/>\n`;
  }
  return inner === '' ? `    <${tag}/>\n` : `    <${tag}>\n${inner}    </${tag}>\n`;
}

function files(indent: string, rec: RepoPackage, primaryOnly: boolean): string {
  let out = '';
  for (const f of rec.files) {
    if (primaryOnly && !isPrimaryFile(f.path)) continue;
    const type = f.type ? ` type="${f.type}"` : '';
    out += `${indent}<file${type}>${escapeText(f.path)}</file>\n`;
  }
  return out;
}

function version(rec: RepoPackage): string {
  return `  <version epoch="${escapeAttr(rec.epoch)}" ver="${escapeAttr(rec.version)}" rel="${escapeAttr(rec.release)}"/>\n`;
}

/** One `<package type="rpm">` of primary.xml. */
export function primaryChunk(rec: RepoPackage): string {
  let out = '<package type="rpm">\n';
  out += text('  ', 'name', rec.name);
  out += text('  ', 'arch', rec.arch);
  out += version(rec);
  out += `  <checksum type="${rec.checksumType}" pkgid="YES">${escapeText(rec.pkgid)}</checksum>\n`;
  out += text('  ', 'summary', rec.summary);
  out += text('  ', 'description', rec.description);
  out += text('  ', 'packager', rec.packager);
  out += text('  ', 'url', rec.url);
  out += `  <time file="${rec.timeFile}" build="${rec.timeBuild}"/>\n`;
  out += `  <size package="${rec.sizePackage}" installed="${rec.sizeInstalled}" archive="${rec.sizeArchive}"/>\n`;
  out += `  <location href="${escapeAttr(rec.href)}"/>\n`;
  out += '  <format>\n';
  out += text('    ', 'rpm:license', rec.license);
  out += text('    ', 'rpm:vendor', rec.vendor);
  out += text('    ', 'rpm:group', rec.group);
  out += text('    ', 'rpm:buildhost', rec.buildhost);
  out += text('    ', 'rpm:sourcerpm', rec.sourcerpm);
  out += `    <rpm:header-range start="${rec.headerStart}" end="${rec.headerEnd}"/>\n`;
  for (const [key, tag] of DEP_ELEMENTS) out += dependencies(tag, rec[key], key === 'requires');
  out += files('    ', rec, true);
  out += '  </format>\n';
  out += '</package>\n';
  return out;
}

function packageOpen(rec: RepoPackage): string {
  return `<package pkgid="${escapeAttr(rec.pkgid)}" name="${escapeAttr(rec.name)}" arch="${escapeAttr(rec.arch)}">\n`;
}

/** One `<package>` of filelists.xml: every file. */
export function filelistsChunk(rec: RepoPackage): string {
  return `${packageOpen(rec)}${version(rec)}${files('  ', rec, false)}</package>\n`;
}

/** One `<package>` of other.xml: the changelog entries kept in the record. */
export function otherChunk(rec: RepoPackage): string {
  let out = packageOpen(rec) + version(rec);
  for (const c of rec.changelog) {
    out += `  <changelog author="${escapeAttr(c.author)}" date="${c.date}">${escapeText(c.text)}</changelog>\n`;
  }
  return `${out}</package>\n`;
}
