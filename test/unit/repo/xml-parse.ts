// A small, strict XML parser for the repository tests: elements, attributes, text, character and
// the five predefined entity references, CDATA, comments, the XML declaration. Enough to read
// createrepo_c's metadata and ours back and compare them field by field. Attribute values are
// normalised as XML 1.0 says (literal tab, CR, LF become spaces; references are kept as written).

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeRefs(s: string, where: number): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|&/g, (m, ref: string | undefined) => {
    if (ref === undefined) throw new Error(`bare & near offset ${where}`);
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    const v = ENTITIES[ref];
    if (v === undefined) throw new Error(`unknown entity ${m} near offset ${where}`);
    return v;
  });
}

export function parseXml(xml: string): XmlElement {
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`XML: ${what} at offset ${pos}: ${JSON.stringify(xml.slice(pos, pos + 40))}`);
  };
  const skipMisc = () => {
    for (;;) {
      while (pos < xml.length && /\s/.test(xml[pos]!)) pos++;
      if (xml.startsWith('<?', pos)) {
        const end = xml.indexOf('?>', pos);
        if (end < 0) fail('unterminated processing instruction');
        pos = end + 2;
      } else if (xml.startsWith('<!--', pos)) {
        const end = xml.indexOf('-->', pos);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else return;
    }
  };
  const name = (): string => {
    const m = /^[A-Za-z_:][-A-Za-z0-9_:.]*/.exec(xml.slice(pos, pos + 200));
    if (!m) fail('expected a name');
    pos += m![0].length;
    return m![0];
  };
  const element = (): XmlElement => {
    if (xml[pos] !== '<') fail('expected <');
    pos++;
    const el: XmlElement = { name: name(), attrs: {}, children: [], text: '' };
    for (;;) {
      while (/\s/.test(xml[pos] ?? '')) pos++;
      if (xml.startsWith('/>', pos)) {
        pos += 2;
        return el;
      }
      if (xml[pos] === '>') {
        pos++;
        break;
      }
      const an = name();
      while (/\s/.test(xml[pos] ?? '')) pos++;
      if (xml[pos] !== '=') fail('expected =');
      pos++;
      while (/\s/.test(xml[pos] ?? '')) pos++;
      const q = xml[pos];
      if (q !== '"' && q !== "'") fail('expected a quote');
      const end = xml.indexOf(q!, pos + 1);
      if (end < 0) fail('unterminated attribute');
      const raw = xml.slice(pos + 1, end);
      if (raw.includes('<')) fail('< in an attribute value');
      if (an in el.attrs) fail(`duplicate attribute ${an}`);
      el.attrs[an] = decodeRefs(raw.replace(/[\t\n\r]/g, ' '), pos);
      pos = end + 1;
    }
    for (;;) {
      const lt = xml.indexOf('<', pos);
      if (lt < 0) fail(`unterminated element ${el.name}`);
      const raw = xml.slice(pos, lt);
      if (raw.includes(']]>')) fail(']]> in character data');
      el.text += decodeRefs(raw.replace(/\r\n?/g, '\n'), pos);
      pos = lt;
      if (xml.startsWith('</', pos)) {
        pos += 2;
        const n = name();
        if (n !== el.name) fail(`</${n}> closes <${el.name}>`);
        while (/\s/.test(xml[pos] ?? '')) pos++;
        if (xml[pos] !== '>') fail('expected >');
        pos++;
        return el;
      }
      if (xml.startsWith('<![CDATA[', pos)) {
        const end = xml.indexOf(']]>', pos);
        if (end < 0) fail('unterminated CDATA');
        el.text += xml.slice(pos + 9, end);
        pos = end + 3;
      } else if (xml.startsWith('<!--', pos)) {
        const end = xml.indexOf('-->', pos);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else {
        el.children.push(element());
      }
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (pos !== xml.length) fail('content after the root element');
  return root;
}

/** Text of an element that holds only text; whitespace-only text of element containers is ''. */
export function childText(el: XmlElement, name: string): string | undefined {
  return el.children.find((c) => c.name === name)?.text;
}

/**
 * Field-by-field differences between two trees, as paths: element names, attributes, text
 * (whitespace-only text between child elements ignored: it is indentation).
 */
export function diffXml(a: XmlElement, b: XmlElement, path = a.name, out: string[] = []): string[] {
  if (a.name !== b.name) {
    out.push(`${path}: element ${a.name} vs ${b.name}`);
    return out;
  }
  for (const k of new Set([...Object.keys(a.attrs), ...Object.keys(b.attrs)])) {
    if (a.attrs[k] !== b.attrs[k]) out.push(`${path}/@${k}: ${JSON.stringify(a.attrs[k])} vs ${JSON.stringify(b.attrs[k])}`);
  }
  const ta = a.children.length > 0 && a.text.trim() === '' ? '' : a.text;
  const tb = b.children.length > 0 && b.text.trim() === '' ? '' : b.text;
  if (ta !== tb) out.push(`${path}/text(): ${JSON.stringify(ta.slice(0, 200))} vs ${JSON.stringify(tb.slice(0, 200))}`);
  const n = Math.max(a.children.length, b.children.length);
  for (let i = 0; i < n; i++) {
    const ca = a.children[i];
    const cb = b.children[i];
    const p = `${path}/${(ca ?? cb)!.name}[${i}]`;
    if (!ca || !cb) out.push(`${p}: only in ${ca ? 'first' : 'second'}`);
    else diffXml(ca, cb, p, out);
  }
  return out;
}
