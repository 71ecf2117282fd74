/**
 * A strict, non-validating XML 1.0 scanner (with namespaces) for large repository metadata
 * (primary.xml: ~1.5 KB per package, 8 MB for 5,000 packages). saxes reads repomd.xml; on primary
 * it spent 120 ms just tokenising 5,000 packages here, over Punch's whole planning budget. This
 * scanner leaves the character work to V8's native code: indexOf between tags, and one sticky
 * regular expression per start tag (names and attributes). A tag that expression does not match
 * (non-ASCII names, or a malformed tag) goes through a character-by-character path that either
 * reads it or says precisely what is wrong. Native code also keeps the first parse in a process,
 * before the JIT has warmed up, fast: that is the one Punch pays for. One file of ~490 lines: the
 * fast and the character-by-character paths are one state machine sharing its position and state.
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
// eslint-disable-next-line no-misleading-character-class -- U+200C-U+200D (the joiners) are name characters of their own in XML 1.0
const NAME_RE = new RegExp(`^[${NAME_START}][${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*$`);
/** Characters XML 1.0 forbids (lone surrogates cannot occur: the text comes from a strict UTF-8 decode). */
const FORBIDDEN_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
/** A start tag with ASCII names: name, the attributes, `/` of an empty element. */
const START_TAG = /<([A-Za-z_:][-\w.:]*)((?:[ \t\r\n]+[A-Za-z_:][-\w.:]*[ \t\r\n]*=[ \t\r\n]*(?:"[^"<]*"|'[^'<]*'))*)[ \t\r\n]*\/?>/y;
// V8 runs a regular expression's first execution in its bytecode interpreter and compiles it for
// the next ones: FORBIDDEN_CHAR runs once per document, over all of it, so it is compiled now.
FORBIDDEN_CHAR.test('');

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

function legalCodePoint(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Whether `name` is a QName: an XML name with at most one colon, neither first nor last. */
function isQName(name: string): boolean {
  if (!NAME_RE.test(name)) return false;
  const colon = name.indexOf(':');
  return colon < 0 || (colon > 0 && colon < name.length - 1 && name.indexOf(':', colon + 1) < 0);
}

interface Scope {
  /** prefix ('' for the default namespace) -> namespace URI. */
  bindings: Map<string, string>;
  /** qualified element name -> its kind, for this scope. */
  kinds: Map<string, number>;
}

/**
 * The attributes of one start tag, as positions in the text (name start and end, value start and
 * end): names and values are only cut out of the text when asked for, which spares the garbage
 * collector one or two strings per attribute of the document.
 */
class AttributeList implements XmlAttributes {
  readonly at: number[] = [];
  /** Values holding references, decoded while scanning (to check them); by attribute index. */
  readonly decoded: (string | undefined)[] = [];
  length = 0;

  constructor(private readonly text: string) {}

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
    return /[\t\n\r]/.test(raw) ? normaliseSpace(raw) : raw;
  }

  get(qname: string): string | undefined {
    const i = this.indexOf(qname);
    return i < 0 ? undefined : this.value(i);
  }

  /** Whether the i-th name equals the text from `start` to `end`. */
  sameName(i: number, start: number, end: number): boolean {
    const { at, text } = this;
    const s = at[4 * i] as number;
    if ((at[4 * i + 1] as number) - s !== end - start) return false;
    for (let k = 0; k < end - start; k++) if (text.charCodeAt(s + k) !== text.charCodeAt(start + k)) return false;
    return true;
  }
}

const normaliseSpace = (raw: string): string => raw.replace(/\r\n|[\t\n\r]/g, ' ');

/**
 * Scans `text` (the whole document, already decoded) and calls `handler`. Throws XmlFormatError
 * naming `file`, the line and column at the first problem. Returns the kind of the root element.
 */
export function scanXml(text: string, file: string, classify: (ns: string, local: string) => number, handler: XmlHandler): number {
  return new Scanner(text, file, classify, handler).run();
}

class Scanner {
  private readonly len: number;
  private readonly attrs: AttributeList;
  private readonly base: Scope = { bindings: new Map([['xml', XML_NS]]), kinds: new Map() };
  private scope: Scope = this.base;
  // positions of the next '&', '<' and ']]>' at or after some point, moved forward only
  private nextAmp: number;
  private nextLt: number;
  private nextCdataEnd: number;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly classify: (ns: string, local: string) => number,
    private readonly handler: XmlHandler,
  ) {
    this.len = text.length;
    this.attrs = new AttributeList(text);
    this.nextAmp = text.indexOf('&');
    this.nextLt = text.indexOf('<');
    this.nextCdataEnd = text.indexOf(']]>');
  }

  private fail(offset: number, message: string): never {
    throw new XmlFormatError(this.file, this.text, offset, message);
  }

  private ampBefore(from: number, end: number): boolean {
    if (this.nextAmp >= 0 && this.nextAmp < from) this.nextAmp = this.text.indexOf('&', from);
    return this.nextAmp >= 0 && this.nextAmp < end;
  }

  private ltBefore(from: number, end: number): boolean {
    if (this.nextLt >= 0 && this.nextLt < from) this.nextLt = this.text.indexOf('<', from);
    return this.nextLt >= 0 && this.nextLt < end;
  }

  /** `raw` with its references replaced; `at` is its offset in the text, for messages. */
  private decode(raw: string, at: number): string {
    let out = '';
    let last = 0;
    for (let amp = raw.indexOf('&'); amp >= 0; amp = raw.indexOf('&', last)) {
      const semi = raw.indexOf(';', amp + 1);
      const ref = semi < 0 ? '' : raw.slice(amp + 1, semi);
      let value: string | undefined;
      if (ref.charCodeAt(0) === 0x23 /* # */) {
        const cp = /^#[0-9]+$/.test(ref) ? Number.parseInt(ref.slice(1), 10) : /^#x[0-9a-fA-F]+$/.test(ref) ? Number.parseInt(ref.slice(2), 16) : -1;
        if (!legalCodePoint(cp)) this.fail(at + amp, `character reference &${ref}; names no character XML allows`);
        value = String.fromCodePoint(cp);
      } else {
        value = PREDEFINED[ref];
        if (value === undefined) {
          if (semi < 0 || !/^[^\s&<;]+$/.test(ref)) this.fail(at + amp, `"&" must start a reference such as &amp; (found ${JSON.stringify(raw.slice(amp, amp + 12))})`);
          this.fail(at + amp, `undefined entity &${ref}; (documents with entity declarations are refused)`);
        }
      }
      out += raw.slice(last, amp) + value;
      last = semi + 1;
    }
    return last === 0 ? raw : out + raw.slice(last);
  }

  /** Reads a name from `p` character by character; returns its end. Checks it is a QName. */
  private scanName(p: number): number {
    const { text, len } = this;
    const start = p;
    while (p < len) {
      const c = text.charCodeAt(p);
      if (isSpace(c) || c === 0x3d || c === 0x3e || c === 0x2f || c === 0x3c || c === 0x22 || c === 0x27 || c === 0x3f) break;
      p++;
    }
    if (p === start) this.fail(p, `expected a name, found ${JSON.stringify(text.slice(p, p + 10))}`);
    const name = text.slice(start, p);
    if (!isQName(name)) this.fail(start, `${JSON.stringify(name)} is not an XML name`);
    return p;
  }

  /**
   * The attributes of the start tag whose name ends at `p`, character by character: for what
   * START_TAG does not match. Fills this.attrs; returns the end of the tag and whether it is empty.
   */
  private slowAttributes(lt: number, p: number, qname: string): { end: number; empty: boolean } {
    const { text, len } = this;
    for (;;) {
      let sawSpace = false;
      while (p < len && isSpace(text.charCodeAt(p))) {
        p++;
        sawSpace = true;
      }
      if (p >= len) this.fail(lt, `unterminated start tag <${qname}> (the document is truncated)`);
      const c = text.charCodeAt(p);
      if (c === 0x3e) return { end: p + 1, empty: false };
      if (c === 0x2f) {
        if (text.charCodeAt(p + 1) !== 0x3e) this.fail(p, `expected "/>" in <${qname}>`);
        return { end: p + 2, empty: true };
      }
      if (!sawSpace) this.fail(p, `expected a space or the end of the start tag <${qname}>`);
      const nameStart = p;
      p = this.scanName(p);
      const nameEnd = p;
      const an = text.slice(nameStart, p);
      while (p < len && isSpace(text.charCodeAt(p))) p++;
      if (text.charCodeAt(p) !== 0x3d) this.fail(p, `expected "=" after attribute ${an} of <${qname}>`);
      p++;
      while (p < len && isSpace(text.charCodeAt(p))) p++;
      const q = text.charCodeAt(p);
      if (q !== 0x22 && q !== 0x27) this.fail(p, `expected a quoted value for attribute ${an} of <${qname}>`);
      const vEnd = text.indexOf(q === 0x22 ? '"' : "'", p + 1);
      if (vEnd < 0) this.fail(p, `unterminated value of attribute ${an} (the document is truncated)`);
      if (this.ltBefore(p + 1, vEnd)) this.fail(this.nextLt, `"<" is not allowed in the value of attribute ${an}`);
      this.addAttribute(nameStart, nameEnd, p + 1, vEnd, qname);
      p = vEnd + 1;
    }
  }

  /** Records an attribute; `colons`: whether its name may hold a colon (false spares a search). */
  private addAttribute(nameStart: number, nameEnd: number, valueStart: number, valueEnd: number, qname: string, colons = true): void {
    const { attrs, text } = this;
    for (let j = 0; j < attrs.length; j++) {
      if (attrs.sameName(j, nameStart, nameEnd)) this.fail(nameStart, `attribute ${text.slice(nameStart, nameEnd)} given twice in <${qname}>`);
    }
    if (colons) {
      const name = text.slice(nameStart, nameEnd);
      if (name.includes(':') && !isQName(name)) this.fail(nameStart, `${JSON.stringify(name)} is not a qualified name`);
    }
    const i = attrs.length++;
    const at = attrs.at;
    at[4 * i] = nameStart;
    at[4 * i + 1] = nameEnd;
    at[4 * i + 2] = valueStart;
    at[4 * i + 3] = valueEnd;
    attrs.decoded[i] = undefined;
    if (this.ampBefore(valueStart, valueEnd)) attrs.decoded[i] = this.decode(attrs.value(i), valueStart);
  }

  run(): number {
    const { text, len, handler, attrs } = this;
    const bad = FORBIDDEN_CHAR.exec(text);
    if (bad) this.fail(bad.index, `character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`);
    const stack: string[] = []; // open element names
    const kindStack: number[] = [];
    const scopeStack: Scope[] = []; // the scope in effect inside each open element
    let rootKind = 0;
    let rootSeen = false;
    let pos = 0;

    // the XML declaration, only at the very start
    if (text.startsWith('<?xml') && isSpace(text.charCodeAt(5))) {
      const end = text.indexOf('?>', 5);
      if (end < 0) this.fail(0, 'unterminated XML declaration');
      const enc = /encoding\s*=\s*["']([^"']*)["']/.exec(text.slice(5, end));
      if (enc && !/^utf-?8$/i.test(enc[1] as string)) this.fail(0, `encoding ${JSON.stringify(enc[1])}: only UTF-8 is read`);
      pos = end + 2;
    }

    while (pos < len) {
      const lt = text.indexOf('<', pos);
      const textEnd = lt < 0 ? len : lt;
      if (textEnd > pos) {
        // character data
        if (stack.length === 0) {
          for (let i = pos; i < textEnd; i++) if (!isSpace(text.charCodeAt(i))) this.fail(i, rootSeen ? 'text after the root element' : 'text before the root element');
        } else {
          if (this.nextCdataEnd >= 0 && this.nextCdataEnd < pos) this.nextCdataEnd = text.indexOf(']]>', pos);
          if (this.nextCdataEnd >= 0 && this.nextCdataEnd < textEnd) this.fail(this.nextCdataEnd, '"]]>" is not allowed in text');
          const hasRef = this.ampBefore(pos, textEnd);
          if (handler.wantText) {
            let raw = text.slice(pos, textEnd);
            if (raw.includes('\r')) raw = raw.replace(/\r\n?/g, '\n');
            handler.text(hasRef ? this.decode(raw, pos) : raw);
          } else if (hasRef) {
            this.decode(text.slice(pos, textEnd), pos);
          }
        }
      }
      if (lt < 0) break;
      const c1 = text.charCodeAt(lt + 1);
      if (c1 === 0x2f /* / */) {
        const open = stack.pop();
        if (open === undefined) this.fail(lt, 'an end tag without a start tag');
        let p = lt + 2 + open.length;
        if (p >= len || (text.charCodeAt(p - 1) !== 0x3e && text.indexOf('>', lt) < 0)) this.fail(lt, `unterminated end tag </${open}> (the document is truncated)`);
        if (!text.startsWith(open, lt + 2) || (text.charCodeAt(p) !== 0x3e && !isSpace(text.charCodeAt(p)))) {
          const found = /^[^\s>]*/.exec(text.slice(lt + 2, lt + 202))?.[0] ?? '';
          this.fail(lt, `end tag </${found}> does not match <${open}>`);
        }
        while (p < len && isSpace(text.charCodeAt(p))) p++;
        if (p >= len) this.fail(lt, `unterminated end tag </${open}> (the document is truncated)`);
        if (text.charCodeAt(p) !== 0x3e) this.fail(p, `expected ">" to end </${open}>`);
        handler.close(kindStack.pop() as number);
        scopeStack.pop();
        this.scope = scopeStack[scopeStack.length - 1] ?? this.base;
        pos = p + 1;
        continue;
      }
      if (c1 === 0x3f /* ? */) {
        const end = text.indexOf('?>', lt + 2);
        if (end < 0) this.fail(lt, 'unterminated processing instruction');
        const nameEnd = this.scanName(lt + 2);
        if (text.slice(lt + 2, nameEnd).toLowerCase() === 'xml') this.fail(lt, 'an XML declaration is only allowed at the very start');
        if (nameEnd < end && !isSpace(text.charCodeAt(nameEnd))) this.fail(nameEnd, 'expected a space after the processing instruction target');
        pos = end + 2;
        continue;
      }
      if (c1 === 0x21 /* ! */) {
        if (text.startsWith('<!--', lt)) {
          const end = text.indexOf('-->', lt + 4);
          if (end < 0) this.fail(lt, 'unterminated comment');
          const dashes = text.indexOf('--', lt + 4);
          if (dashes < end || text.charCodeAt(end - 1) === 0x2d) this.fail(dashes, '"--" is not allowed in a comment');
          pos = end + 3;
          continue;
        }
        if (text.startsWith('<![CDATA[', lt)) {
          if (stack.length === 0) this.fail(lt, 'CDATA outside the root element');
          const end = text.indexOf(']]>', lt + 9);
          if (end < 0) this.fail(lt, 'unterminated CDATA section');
          if (handler.wantText) handler.text(text.slice(lt + 9, end).replace(/\r\n?/g, '\n'));
          pos = end + 3;
          if (this.nextCdataEnd >= 0 && this.nextCdataEnd < pos) this.nextCdataEnd = text.indexOf(']]>', pos);
          continue;
        }
        if (text.startsWith('<!DOCTYPE', lt)) this.fail(lt, 'a DOCTYPE is not accepted in repository metadata (it could declare entities)');
        this.fail(lt, `unexpected ${JSON.stringify(text.slice(lt, lt + 10))}`);
      }

      // a start tag
      if (stack.length === 0 && rootSeen) this.fail(lt, 'a second root element');
      attrs.length = 0;
      let colons = true; // whether an attribute name may hold a colon
      let qname: string;
      let empty: boolean;
      START_TAG.lastIndex = lt;
      const m = START_TAG.exec(text);
      if (m !== null) {
        qname = m[1] as string;
        pos = START_TAG.lastIndex;
        empty = text.charCodeAt(pos - 2) === 0x2f;
        // the attributes, known well-formed: cut at '=' and quotes with indexOf (no match arrays)
        let p = lt + 1 + qname.length;
        const list = m[2] as string;
        const listEnd = p + list.length;
        colons = list.includes(':');
        while (p < listEnd) {
          while (isSpace(text.charCodeAt(p))) p++;
          const eq = text.indexOf('=', p);
          let nameEnd = eq;
          while (isSpace(text.charCodeAt(nameEnd - 1))) nameEnd--;
          let q = eq + 1;
          while (isSpace(text.charCodeAt(q))) q++;
          const close = text.indexOf(text.charCodeAt(q) === 0x22 ? '"' : "'", q + 1);
          this.addAttribute(p, nameEnd, q + 1, close, qname, colons);
          p = close + 1;
        }
      } else {
        const nameEnd = this.scanName(lt + 1);
        qname = text.slice(lt + 1, nameEnd);
        const r = this.slowAttributes(lt, nameEnd, qname);
        empty = r.empty;
        pos = r.end;
      }

      const outer = this.scope;
      const at = attrs.at;
      let prefixed = false;
      for (let i = 0; i < attrs.length; i++) {
        const start = at[4 * i] as number;
        const end = at[4 * i + 1] as number;
        if (text.startsWith('xmlns', start) && (end === start + 5 || text.charCodeAt(start + 5) === 0x3a)) {
          this.declare(lt, outer);
          break;
        }
        if (colons && text.slice(start, end).includes(':')) prefixed = true;
      }
      const scope = this.scope;
      let kind = scope.kinds.get(qname);
      if (kind === undefined) {
        if (!isQName(qname)) this.fail(lt + 1, `${JSON.stringify(qname)} is not a qualified name`);
        const colon = qname.indexOf(':');
        const prefix = colon < 0 ? '' : qname.slice(0, colon);
        const ns = scope.bindings.get(prefix);
        if (ns === undefined && prefix !== '') this.fail(lt, `namespace prefix ${prefix} of <${qname}> is not declared`);
        kind = this.classify(ns ?? '', colon < 0 ? qname : qname.slice(colon + 1));
        scope.kinds.set(qname, kind);
      }
      if (prefixed || scope !== outer) {
        for (let i = 0; i < attrs.length; i++) {
          const an = attrs.qname(i);
          const colon = an.indexOf(':');
          if (colon > 0 && !an.startsWith('xmlns:') && !scope.bindings.has(an.slice(0, colon))) this.fail(lt, `namespace prefix of attribute ${an} in <${qname}> is not declared`);
        }
      }
      if (stack.length === 0) {
        rootSeen = true;
        rootKind = kind;
      }
      handler.open(kind, qname, attrs);
      if (empty) {
        handler.close(kind);
        this.scope = outer;
      } else {
        stack.push(qname);
        kindStack.push(kind);
        scopeStack.push(scope);
      }
    }
    if (stack.length > 0) this.fail(len, `the document ends inside <${stack[stack.length - 1]}> (truncated)`);
    if (!rootSeen) this.fail(len, 'no root element');
    return rootKind;
  }

  /** The namespace declarations of the current start tag make a new scope. */
  private declare(lt: number, outer: Scope): void {
    const attrs = this.attrs;
    const bindings = new Map(outer.bindings);
    for (let i = 0; i < attrs.length; i++) {
      const an = attrs.qname(i);
      const value = attrs.value(i);
      if (an === 'xmlns') {
        if (value === XML_NS || value === XMLNS_NS) this.fail(lt, `the default namespace cannot be ${value}`);
        bindings.set('', value);
      } else if (an.startsWith('xmlns:')) {
        const prefix = an.slice(6);
        if (prefix === 'xmlns' || (prefix === 'xml') !== (value === XML_NS) || value === XMLNS_NS) this.fail(lt, `xmlns:${prefix}="${value}" is not allowed`);
        if (value === '') this.fail(lt, `xmlns:${prefix}="" cannot unbind a prefix in XML 1.0`);
        bindings.set(prefix, value);
      }
    }
    this.scope = { bindings, kinds: new Map() };
  }
}
