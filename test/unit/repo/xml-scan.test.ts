// The primary scanner against saxes (a conforming XML parser) as the oracle: the same verdict on
// well-formed and malformed documents, the same elements, attributes and text; DOCTYPEs refused
// by design. Then random documents (fast-check) with hostile strings.
import fc from 'fast-check';
import { SaxesParser } from 'saxes';
import { describe, expect, it } from 'vitest';
import { KpkgError } from '../../../packager/errors.js';
import { scanXml, type XmlHandler } from '../../../packager/repo/xml-scan.js';

interface Event {
  e: 'open' | 'close' | 'text';
  name?: string;
  ns?: string;
  attrs?: [string, string][];
  text?: string;
}

/** Our scanner's events, with adjacent text merged (the two parsers cut text differently). */
function ours(xml: string): Event[] {
  const events: Event[] = [];
  const names: { ns: string; local: string }[] = [];
  const handler: XmlHandler = {
    wantText: true,
    open(kind, qname, attrs) {
      const pairs: [string, string][] = [];
      for (let i = 0; i < attrs.length; i++) pairs.push([attrs.qname(i), attrs.get(attrs.qname(i)) ?? '']);
      const n = names[kind]!;
      events.push({ e: 'open', name: qname, ns: n.ns, attrs: pairs.sort() });
    },
    close() {
      events.push({ e: 'close' });
    },
    text(value) {
      const last = events[events.length - 1];
      if (last?.e === 'text') last.text += value;
      else events.push({ e: 'text', text: value });
    },
  };
  scanXml(xml, 'test.xml', (ns, local) => names.push({ ns, local }) - 1, handler);
  return events.filter((e) => e.e !== 'text' || e.text !== '');
}

function theirs(xml: string): Event[] {
  const events: Event[] = [];
  const p = new SaxesParser({ xmlns: true });
  let depth = 0;
  const text = (t: string) => {
    if (depth === 0) return;
    const last = events[events.length - 1];
    if (last?.e === 'text') last.text += t;
    else events.push({ e: 'text', text: t });
  };
  p.on('opentag', (t) => {
    depth++;
    events.push({ e: 'open', name: t.name, ns: t.uri, attrs: Object.values(t.attributes).map((a) => [a.name, a.value] as [string, string]).sort() });
  });
  p.on('closetag', () => {
    depth--;
    events.push({ e: 'close' });
  });
  p.on('text', text);
  p.on('cdata', text);
  p.write(xml).close();
  return events.filter((e) => e.e !== 'text' || e.text !== '');
}

const verdict = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch {
    return 'error';
  }
};

const WELL_FORMED = [
  '<a/>',
  '<?xml version="1.0" encoding="UTF-8"?>\n<a>text</a>\n',
  "<a x='1' y=\"2\">t</a>",
  '<a  x = "1"\n\ty="&lt;&amp;&gt;&quot;&apos;&#65;&#x42;"></a>',
  '<a x="tab\there&#9;lf\nthere"/>',
  '<a><!-- a comment --><b/><?pi data?></a><!-- after -->',
  '<a><![CDATA[<not> & tags]]></a>',
  '<a>]]&gt; ] ]] >&#x10FFFF;</a>',
  '<x:a xmlns:x="urn:x" xmlns="urn:d"><b x:y="1"/><x:c/></x:a>',
  '<a xmlns="urn:1"><b xmlns="urn:2"><c/></b><d/></a>',
  '<a xml:base="http://h/">ü€😀</a>',
  '<a>\r\nline\rline</a>',
  '<a></a >',
  '<é/>',
];

const MALFORMED = [
  '',
  'text',
  '<a>',
  '<a></b>',
  '<a><b></a></b>',
  '<a/><b/>',
  '<a x="1" x="2"/>',
  '<a x=1/>',
  '<a x="1"y="2"/>',
  '<a x="<"/>',
  '<a>&unknown;</a>',
  '<a>&amp</a>',
  '<a>& </a>',
  '<a>&#0;</a>',
  '<a>&#xD800;</a>',
  '<a>]]></a>',
  '<a>\u0001</a>',
  '<a><!-- -- --></a>',
  '<a>x</a>trailing',
  '<1a/>',
  '<a:/>',
  '<p:a/>',
  '<a p:x="1"/>',
  '<a><?xml version="1.0"?></a>',
  ' <?xml version="1.0"?><a/>',
  '<a xmlns:p=""/>',
  '<a',
  '<a x="1',
  '<a><![CDATA[x</a>',
  '<a><!-- x</a>',
];

describe('scanXml', () => {
  for (const xml of WELL_FORMED) {
    it(`reads ${JSON.stringify(xml).slice(0, 60)} as saxes does`, () => {
      expect(theirs(xml)).toBeDefined();
      expect(ours(xml)).toEqual(theirs(xml));
    });
  }
  for (const xml of MALFORMED) {
    it(`refuses ${JSON.stringify(xml).slice(0, 60)}, as saxes does`, () => {
      expect(verdict(() => theirs(xml))).toBe('error');
      const err = (() => {
        try {
          ours(xml);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(KpkgError);
      expect((err as KpkgError).code).toBe('BAD_PACKAGE');
      expect((err as KpkgError).message).toMatch(/^test\.xml at byte \d+: line \d+, column \d+: /);
    });
  }

  it('refuses every DOCTYPE, with entities or without', () => {
    for (const xml of [
      '<!DOCTYPE a><a/>',
      '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>',
      '<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><a>&xxe;</a>',
    ]) {
      expect(() => ours(xml)).toThrow(/DOCTYPE is not accepted/);
    }
  });

  it('names the line and column of the problem', () => {
    expect(() => ours('<a>\n  <b>\n  </c>\n</a>')).toThrow('test.xml at byte 12: line 3, column 3: end tag </c> does not match <b>');
    expect(() => ours('<a>\n<b x="1">')).toThrow(/truncated/);
  });

  it('reads random documents with hostile text and attributes as saxes does', () => {
    // characters XML can carry, with the ones that need escaping weighted up
    const char = fc.oneof(
      fc.constantFrom('<', '>', '&', '"', "'", ']', '\t', '\n', '\r', ' ', ';', '#', 'x'),
      fc.integer({ min: 0x20, max: 0xd7ff }).map((c) => String.fromCharCode(c)),
      fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
    );
    const str = fc.array(char, { maxLength: 12 }).map((a) => a.join(''));
    const escText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
    const escAttr = (s: string) => escText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
    type Node = { name: string; attrs: [string, string][]; text: string; cdata: boolean; children: Node[] };
    const name = fc.constantFrom('a', 'b', 'rpm:entry', 'x-y', 'z.1', 'é');
    const nodeAt = (depth: number): fc.Arbitrary<Node> =>
      fc.record({
        name,
        attrs: fc.uniqueArray(fc.tuple(fc.constantFrom('k', 'name', 'ver', 'rel', 'xml:base'), str), { selector: (t) => t[0], maxLength: 4 }),
        text: str,
        cdata: fc.boolean(),
        children: depth === 0 ? fc.constant([]) : fc.array(nodeAt(depth - 1), { maxLength: 3 }),
      });
    const node = nodeAt(3);
    const render = (n: Node, root: boolean): string => {
      const attrs = n.attrs.map(([k, v]) => ` ${k}="${escAttr(v)}"`).join('') + (root ? ' xmlns="urn:c" xmlns:rpm="urn:rpm"' : '');
      const text = n.cdata && !n.text.includes(']]>') && !n.text.includes('\r') ? `<![CDATA[${n.text}]]>` : escText(n.text);
      return `<${n.name}${attrs}>${text}${n.children.map((c) => render(c, false)).join('\n')}</${n.name}>`;
    };
    fc.assert(
      fc.property(node, (n) => {
        const xml = `<?xml version="1.0" encoding="UTF-8"?>\n${render(n, true)}`;
        expect(ours(xml)).toEqual(theirs(xml));
      }),
      { numRuns: 300 },
    );
  });
});
