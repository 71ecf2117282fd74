/**
 * A strict, non-validating XML 1.0 scanner (with namespaces) for large repository metadata
 * (primary.xml: ~1.5 KB per package, 8 MB for 5,000 packages). saxes reads repomd.xml; on primary
 * it spent 120 ms just tokenising 5,000 packages here, over Punch's whole planning budget, so this
 * scanner walks the decoded string with indexOf instead of character by character.
 *
 * It checks what makes a document well-formed and safe to read: one root element, matching end
 * tags, quoted and unique attributes, names, references (the five predefined entities and
 * character references only), no `]]>` in text, no `<` in attribute values, legal characters,
 * bound namespace prefixes. It refuses every DOCTYPE: without one no entity can be defined, so
 * nothing can expand (billion laughs) or reach outside (external entities).
 *
 * Element names reach the handler classified: `classify(namespace, localName)` is called once per
 * distinct qualified name and namespace scope, and its number is what `open` and `close` get.
 */
import { FormatError } from '../errors.js';

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/** The attributes of the start tag being reported; valid only during `open`. */
export interface XmlAttributes {
  /** The value (decoded, normalised) of the attribute with this qualified name, or undefined. */
  get(qname: string): string | undefined;
  readonly length: number;
  /** The qualified name of the i-th attribute. */
  qname(i: number): string;
}

export interface XmlHandler {
  /** An element starts. */
  open(kind: number, qname: string, attrs: XmlAttributes): void;
  /** The element ends (right after `open` for `<a/>`). */
  close(kind: number): void;
  /** Character data inside the element last opened, decoded; only when `wantText` is true. */
  text(value: string): void;
  /** Whether the next character data matters (read before each run of text). */
  wantText: boolean;
}

/** A malformed or refused document; `offset` is in UTF-16 units of the decoded text. */
export class XmlFormatError extends FormatError {
  constructor(file: string, text: string, offset: number, message: string) {
    const { line, column } = position(text, offset);
    super(file, offset, `line ${line}, column ${column}: ${message}`);
    this.name = 'XmlFormatError';
  }
}

function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

// XML 1.0 (5th ed.) NameStartChar / NameChar, without the supplementary planes
const NAME_START = ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const NAME_RE = new RegExp(`^[${NAME_START}][${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*$`);
/** Characters XML 1.0 forbids (lone surrogates cannot occur: the text comes from a strict UTF-8 decode). */
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

function legalCodePoint(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** ASCII name characters: letters, digits, `_ : - .` (the digits and `- .` not first). */
function asciiNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x3a) || c === 0x5f || c === 0x2d || c === 0x2e;
}

function sameChars(text: string, a: number, b: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (text.charCodeAt(a + k) !== text.charCodeAt(b + k)) return false;
  return true;
}

interface Scope {
  /** prefix ('' for the default namespace) -> namespace URI. */
  bindings: Map<string, string>;
  /** hash of a qualified element name (see scanName) -> that name and its kind, for this scope. */
  kinds: Map<number, { qname: string; kind: number }>;
}

/** Attribute positions in the text, four numbers each: name start and end, value start and end. */
class AttributeList implements XmlAttributes {
  readonly at: number[] = [];
  /** Values holding references, decoded while scanning (to check them); by attribute index. */
  readonly decoded: (string | undefined)[] = [];
  length = 0;

  constructor(private readonly text: string) {}

  reset(): void {
    this.length = 0;
  }

  qname(i: number): string {
    return this.text.slice(this.at[4 * i], this.at[4 * i + 1]);
  }

  indexOf(qname: string): number {
    const { at, text } = this;
    for (let i = 0; i < this.length; i++) {
      const s = at[4 * i] as number;
      if ((at[4 * i + 1] as number) - s === qname.length && text.startsWith(qname, s)) return i;
    }
    return -1;
  }

  value(i: number): string {
    const d = this.decoded[i];
    if (d !== undefined) return d;
    const raw = this.text.slice(this.at[4 * i + 2], this.at[4 * i + 3]);
    // attribute-value normalisation: literal white space becomes a space
    return /[\t\n\r]/.test(raw) ? raw.replace(/\r\n|[\t\n\r]/g, ' ') : raw;
  }

  get(qname: string): string | undefined {
    const i = this.indexOf(qname);
    return i < 0 ? undefined : this.value(i);
  }
}

/**
 * Scans `text` (the whole document, already decoded) and calls `handler`. Throws XmlFormatError
 * naming `file`, the line and column at the first problem. Returns the kind of the root element.
 */
export function scanXml(text: string, file: string, classify: (ns: string, local: string) => number, handler: XmlHandler): number {
  const fail = (offset: number, message: string): never => {
    throw new XmlFormatError(file, text, offset, message);
  };
  const bad = FORBIDDEN_CHAR.exec(text);
  if (bad) fail(bad.index, `character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`);

  const len = text.length;
  let colonAt = -1; // where scanName saw a ':' (-1: none)
  let nameHash = 0; // a hash of the name scanName read, and its length

  /** Reads a name from `p`; returns its end. Checks it is an XML name with at most one inner colon. */
  const scanName = (p: number): number => {
    const start = p;
    colonAt = -1;
    let ascii = true;
    let h = 0;
    while (p < len) {
      const c = text.charCodeAt(p);
      h = (Math.imul(h, 31) + c) | 0;
      if (c < 0x80) {
        if (!asciiNameChar(c)) break;
        if (c === 0x3a) {
          if (colonAt >= 0 || p === start) fail(p, 'a name may hold one colon, not first');
          colonAt = p;
        }
      } else {
        if (c === 0xa0 || c === 0x3000) break; // white space outside XML's own, never a name character
        ascii = false;
      }
      p++;
    }
    if (p === start) fail(p, `expected a name, found ${JSON.stringify(text.slice(p, p + 10))}`);
    const first = text.charCodeAt(start);
    if ((first >= 0x30 && first <= 0x39) || first === 0x2d || first === 0x2e) fail(start, `${JSON.stringify(text.slice(start, p))} is not an XML name`);
    if (colonAt === p - 1) fail(colonAt, 'a name may not end with a colon');
    if (!ascii && !NAME_RE.test(text.slice(start, p))) fail(start, `${JSON.stringify(text.slice(start, p))} is not an XML name`);
    nameHash = ((h & 0x3fffff) << 8) | ((p - start) & 0xff); // a small integer: a fast Map key
    return p;
  };

  /** `raw` with its references replaced; `at` is its offset in the text, for messages. */
  const decode = (raw: string, at: number): string => {
    let out = '';
    let last = 0;
    for (let amp = raw.indexOf('&'); amp >= 0; amp = raw.indexOf('&', last)) {
      const semi = raw.indexOf(';', amp + 1);
      const ref = semi < 0 ? '' : raw.slice(amp + 1, semi);
      let value: string | undefined;
      if (ref.charCodeAt(0) === 0x23 /* # */) {
        const cp = /^#[0-9]+$/.test(ref) ? Number.parseInt(ref.slice(1), 10) : /^#x[0-9a-fA-F]+$/.test(ref) ? Number.parseInt(ref.slice(2), 16) : -1;
        if (!legalCodePoint(cp)) fail(at + amp, `character reference &${ref}; names no character XML allows`);
        value = String.fromCodePoint(cp);
      } else {
        value = PREDEFINED[ref];
        if (value === undefined) {
          if (semi < 0 || !/^[^\s&<;]+$/.test(ref)) fail(at + amp, `"&" must start a reference such as &amp; (found ${JSON.stringify(raw.slice(amp, amp + 12))})`);
          fail(at + amp, `undefined entity &${ref}; (documents with entity declarations are refused)`);
        }
      }
      out += raw.slice(last, amp) + value;
      last = semi + 1;
    }
    return last === 0 ? raw : out + raw.slice(last);
  };

  // positions of the next '&', '<' and ']]>' at or after some point, moved forward only
  let nextAmp = text.indexOf('&');
  let nextLt = text.indexOf('<');
  let nextCdataEnd = text.indexOf(']]>');
  const ampBefore = (from: number, end: number): boolean => {
    if (nextAmp >= 0 && nextAmp < from) nextAmp = text.indexOf('&', from);
    return nextAmp >= 0 && nextAmp < end;
  };
  const ltBefore = (from: number, end: number): boolean => {
    if (nextLt >= 0 && nextLt < from) nextLt = text.indexOf('<', from);
    return nextLt >= 0 && nextLt < end;
  };

  const base: Scope = { bindings: new Map([['xml', XML_NS]]), kinds: new Map() };
  let scope = base;
  const stack: string[] = []; // open element names (the kinds' strings: no copy per element)
  const kindStack: number[] = [];
  const scopeStack: Scope[] = []; // the scope in effect inside each open element
  const attrs = new AttributeList(text);
  const at = attrs.at;
  let rootKind = 0;
  let rootSeen = false;
  let pos = 0;

  // the XML declaration, only at the very start
  if (text.startsWith('<?xml') && isSpace(text.charCodeAt(5))) {
    const end = text.indexOf('?>', 5);
    if (end < 0) fail(0, 'unterminated XML declaration');
    const decl = text.slice(5, end);
    const enc = /encoding\s*=\s*["']([^"']*)["']/.exec(decl);
    if (enc && !/^utf-?8$/i.test(enc[1] as string)) fail(0, `encoding ${JSON.stringify(enc[1])}: only UTF-8 is read`);
    pos = end + 2;
  }

  while (pos < len) {
    const lt = text.indexOf('<', pos);
    const textEnd = lt < 0 ? len : lt;
    if (textEnd > pos) {
      // character data
      if (stack.length === 0) {
        for (let i = pos; i < textEnd; i++) if (!isSpace(text.charCodeAt(i))) fail(i, rootSeen ? 'text after the root element' : 'text before the root element');
      } else {
        if (nextCdataEnd >= 0 && nextCdataEnd < pos) nextCdataEnd = text.indexOf(']]>', pos);
        if (nextCdataEnd >= 0 && nextCdataEnd < textEnd) fail(nextCdataEnd, '"]]>" is not allowed in text');
        const hasRef = ampBefore(pos, textEnd);
        if (handler.wantText) {
          let raw = text.slice(pos, textEnd);
          if (raw.includes('\r')) raw = raw.replace(/\r\n?/g, '\n');
          handler.text(hasRef ? decode(raw, pos) : raw);
        } else if (hasRef) {
          decode(text.slice(pos, textEnd), pos);
        }
      }
    }
    if (lt < 0) break;
    pos = lt;
    const c1 = text.charCodeAt(lt + 1);
    if (c1 === 0x2f /* / */) {
      const open = stack.pop();
      if (open === undefined) fail(lt, 'an end tag without a start tag');
      let p = lt + 2 + (open as string).length;
      if (p >= len || (text.charCodeAt(p - 1) !== 0x3e && text.indexOf('>', lt) < 0)) fail(lt, `unterminated end tag </${open}> (the document is truncated)`);
      if (!text.startsWith(open as string, lt + 2) || (p < len && text.charCodeAt(p) !== 0x3e && !isSpace(text.charCodeAt(p)))) {
        const found = /^[^\s>]*/.exec(text.slice(lt + 2, lt + 202))?.[0] ?? '';
        fail(lt, `end tag </${found}> does not match <${open}>`);
      }
      while (p < len && isSpace(text.charCodeAt(p))) p++;
      if (p >= len) fail(lt, `unterminated end tag </${open}> (the document is truncated)`);
      if (text.charCodeAt(p) !== 0x3e) fail(p, `expected ">" to end </${open}>`);
      handler.close(kindStack.pop() as number);
      scopeStack.pop();
      scope = scopeStack[scopeStack.length - 1] ?? base;
      pos = p + 1;
      continue;
    }
    if (c1 === 0x3f /* ? */) {
      const end = text.indexOf('?>', lt + 2);
      if (end < 0) fail(lt, 'unterminated processing instruction');
      const nameEnd = scanName(lt + 2);
      if (text.slice(lt + 2, nameEnd).toLowerCase() === 'xml') fail(lt, 'an XML declaration is only allowed at the very start');
      if (nameEnd < end && !isSpace(text.charCodeAt(nameEnd))) fail(nameEnd, 'expected a space after the processing instruction target');
      pos = end + 2;
      continue;
    }
    if (c1 === 0x21 /* ! */) {
      if (text.startsWith('<!--', lt)) {
        const end = text.indexOf('-->', lt + 4);
        if (end < 0) fail(lt, 'unterminated comment');
        const dashes = text.indexOf('--', lt + 4);
        if (dashes < end || text.charCodeAt(end - 1) === 0x2d) fail(dashes, '"--" is not allowed in a comment');
        pos = end + 3;
        continue;
      }
      if (text.startsWith('<![CDATA[', lt)) {
        if (stack.length === 0) fail(lt, 'CDATA outside the root element');
        const end = text.indexOf(']]>', lt + 9);
        if (end < 0) fail(lt, 'unterminated CDATA section');
        if (handler.wantText) handler.text(text.slice(lt + 9, end).replace(/\r\n?/g, '\n'));
        pos = end + 3;
        if (nextCdataEnd >= 0 && nextCdataEnd < pos) nextCdataEnd = text.indexOf(']]>', pos);
        continue;
      }
      if (text.startsWith('<!DOCTYPE', lt)) fail(lt, 'a DOCTYPE is not accepted in repository metadata (it could declare entities)');
      fail(lt, `unexpected ${JSON.stringify(text.slice(lt, lt + 10))}`);
    }

    // a start tag
    if (stack.length === 0 && rootSeen) fail(lt, 'a second root element');
    let p = scanName(lt + 1);
    const elementColon = colonAt;
    const elementHash = nameHash;
    const qnameEnd = p;
    attrs.reset();
    let selfClosing = false;
    let declares = false;
    let prefixedAttrs = false;
    for (;;) {
      let sawSpace = false;
      while (p < len && isSpace(text.charCodeAt(p))) {
        p++;
        sawSpace = true;
      }
      if (p >= len) fail(lt, `unterminated start tag <${text.slice(lt + 1, qnameEnd)}> (the document is truncated)`);
      const c = text.charCodeAt(p);
      if (c === 0x3e) {
        p++;
        break;
      }
      if (c === 0x2f) {
        if (text.charCodeAt(p + 1) !== 0x3e) fail(p, `expected "/>" in <${text.slice(lt + 1, qnameEnd)}>`);
        selfClosing = true;
        p += 2;
        break;
      }
      if (!sawSpace) fail(p, `expected a space or the end of the start tag <${text.slice(lt + 1, qnameEnd)}>`);
      const nameStart = p;
      p = scanName(p);
      const nameEnd = p;
      if (colonAt >= 0) prefixedAttrs = true;
      if (text.startsWith('xmlns', nameStart) && (nameEnd === nameStart + 5 || colonAt === nameStart + 5)) declares = true;
      while (p < len && isSpace(text.charCodeAt(p))) p++;
      if (text.charCodeAt(p) !== 0x3d) fail(p, `expected "=" after attribute ${text.slice(nameStart, nameEnd)} of <${text.slice(lt + 1, qnameEnd)}>`);
      p++;
      while (p < len && isSpace(text.charCodeAt(p))) p++;
      const q = text.charCodeAt(p);
      if (q !== 0x22 && q !== 0x27) fail(p, `expected a quoted value for attribute ${text.slice(nameStart, nameEnd)} of <${text.slice(lt + 1, qnameEnd)}>`);
      const vEnd = text.indexOf(q === 0x22 ? '"' : "'", p + 1);
      if (vEnd < 0) fail(p, `unterminated value of attribute ${text.slice(nameStart, nameEnd)} (the document is truncated)`);
      if (ltBefore(p + 1, vEnd)) fail(nextLt, `"<" is not allowed in the value of attribute ${text.slice(nameStart, nameEnd)}`);
      const i = attrs.length;
      for (let j = 0; j < i; j++) {
        const s = at[4 * j] as number;
        if ((at[4 * j + 1] as number) - s === nameEnd - nameStart && sameChars(text, s, nameStart, nameEnd - nameStart)) {
          fail(nameStart, `attribute ${text.slice(nameStart, nameEnd)} given twice in <${text.slice(lt + 1, qnameEnd)}>`);
        }
      }
      at[4 * i] = nameStart;
      at[4 * i + 1] = nameEnd;
      at[4 * i + 2] = p + 1;
      at[4 * i + 3] = vEnd;
      attrs.length = i + 1;
      attrs.decoded[i] = undefined;
      if (ampBefore(p + 1, vEnd)) attrs.decoded[i] = decode(attrs.value(i), p + 1);
      p = vEnd + 1;
    }

    const outer = scope;
    if (declares) {
      const bindings = new Map(scope.bindings);
      for (let i = 0; i < attrs.length; i++) {
        const an = attrs.qname(i);
        const value = attrs.value(i);
        if (an === 'xmlns') {
          if (value === XML_NS || value === XMLNS_NS) fail(lt, `the default namespace cannot be ${value}`);
          bindings.set('', value);
        } else if (an.startsWith('xmlns:')) {
          const prefix = an.slice(6);
          if (prefix === 'xmlns' || (prefix === 'xml') !== (value === XML_NS) || value === XMLNS_NS) fail(lt, `xmlns:${prefix}="${value}" is not allowed`);
          if (value === '') fail(lt, `xmlns:${prefix}="" cannot unbind a prefix in XML 1.0`);
          bindings.set(prefix, value);
        }
      }
      scope = { bindings, kinds: new Map() };
    }

    let known = scope.kinds.get(elementHash);
    if (known === undefined || known.qname.length !== qnameEnd - lt - 1 || !text.startsWith(known.qname, lt + 1)) {
      const qname = text.slice(lt + 1, qnameEnd);
      const prefix = elementColon < 0 ? '' : text.slice(lt + 1, elementColon);
      const ns = scope.bindings.get(prefix);
      if (ns === undefined && prefix !== '') fail(lt, `namespace prefix ${prefix} of <${qname}> is not declared`);
      known = { qname, kind: classify(ns ?? '', elementColon < 0 ? qname : text.slice(elementColon + 1, qnameEnd)) };
      // a colliding name replaces the other: correct, only slower
      scope.kinds.set(elementHash, known);
    }
    const { qname, kind } = known;
    if (prefixedAttrs) {
      for (let i = 0; i < attrs.length; i++) {
        const an = attrs.qname(i);
        const colon = an.indexOf(':');
        if (colon > 0 && !an.startsWith('xmlns:') && !scope.bindings.has(an.slice(0, colon))) fail(lt, `namespace prefix of attribute ${an} in <${text.slice(lt + 1, qnameEnd)}> is not declared`);
      }
    }
    if (stack.length === 0) {
      rootSeen = true;
      rootKind = kind;
    }
    handler.open(kind, qname, attrs);
    if (selfClosing) {
      handler.close(kind);
      scope = outer;
    } else {
      stack.push(qname);
      kindStack.push(kind);
      scopeStack.push(scope);
    }
    pos = p;
  }
  if (stack.length > 0) fail(len, `the document ends inside <${stack[stack.length - 1]}> (truncated)`);
  if (!rootSeen) fail(len, 'no root element');
  return rootKind;
}
