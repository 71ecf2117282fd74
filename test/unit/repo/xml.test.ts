import { describe, expect, it } from 'vitest';
import { KpkgError } from '../../../packager/errors.js';
import { escapeAttr, escapeText, filelistsChunk, forbiddenXmlChar, isPrimaryFile, otherChunk, primaryChunk } from '../../../packager/repo/xml.js';
import { parseXml } from './xml-parse.js';
import { sampleRecord } from './sample.js';

const HOSTILE = [
  '<script>alert(1)</script>',
  'a & b && c &amp; d',
  ']]> and <![CDATA[ x ]]>',
  `"double" 'single' \`back\``,
  'tab\there, LF\nthere, CR\rthere, CRLF\r\nend',
  'é ü ß 日本語 😀 \u00a0nbsp \u2028 ls',
  '&#60; &lt; &unknown; &',
  '   leading and trailing   ',
  '',
];

describe('XML escaping', () => {
  it('round-trips hostile strings through text and attributes', () => {
    for (const s of HOSTILE) {
      expect(parseXml(`<a>${escapeText(s)}</a>`).text, JSON.stringify(s)).toBe(s); // CR survives as &#13;
      expect(parseXml(`<a v="${escapeAttr(s)}"/>`).attrs.v, JSON.stringify(s)).toBe(s);
    }
  });

  it('escapes as libxml2: & < > and CR in text; also " tab LF in attributes; nothing else', () => {
    expect(escapeText(`<&>"'\t\n\r]]>é`)).toBe(`&lt;&amp;&gt;"'\t\n&#13;]]&gt;é`);
    expect(escapeAttr(`<&>"'\t\n\r`)).toBe(`&lt;&amp;&gt;&quot;'&#9;&#10;&#13;`);
    // non-ASCII in attributes as hexadecimal references, as libxml2 2.9 (createrepo_c) writes them
    expect(escapeAttr('café 日本 😀')).toBe('caf&#xE9; &#x65E5;&#x672C; &#x1F600;');
    expect(escapeText('café 😀')).toBe('café 😀');
  });

  it('refuses characters XML 1.0 cannot carry', () => {
    for (const c of ['\u0000', '\u0001', '\u0008', '\u000b', '\u000c', '\u001f', '\ufffe', '\uffff', '\ud800', '\udc00', '\ud83d']) {
      expect(forbiddenXmlChar(`ok${c}`), JSON.stringify(c)).toEqual({ index: 2, code: c.charCodeAt(0) });
      expect(forbiddenXmlChar(`ok${c}x`), JSON.stringify(c)).toEqual({ index: 2, code: c.charCodeAt(0) });
      expect(() => escapeText(`ok${c}`)).toThrow(KpkgError);
      expect(() => escapeAttr(`ok${c}`)).toThrow(/cannot be written in XML 1.0/);
    }
    expect(forbiddenXmlChar('tab\tLF\nCR\r 😀 \u007f \u0085')).toBeUndefined();
  });
});

describe('primary file subset (cr_is_primary)', () => {
  it.each([
    ['/etc/x', true],
    ['/etc', false],
    ['/usr/bin/x', true],
    ['/opt/app/sbin/x', true],
    ['/opt/bin', false],
    ['/opt/bin/', true],
    ['/usr/lib/sendmail', true],
    ['/usr/lib/sendmail.cf', false],
    ['/opt/robin/x', true], // any "bin/": createrepo_c and yum agree on this
    ['/opt/app/lib/x', false],
  ])('%s -> %s', (path, expected) => {
    expect(isPrimaryFile(path)).toBe(expected);
  });
});

describe('chunks', () => {
  it('primary: the elements of createrepo_c, in its order', () => {
    const xml = primaryChunk(sampleRecord());
    const p = parseXml(xml);
    expect(p.name).toBe('package');
    expect(p.attrs).toEqual({ type: 'rpm' });
    expect(p.children.map((c) => c.name)).toEqual(['name', 'arch', 'version', 'checksum', 'summary', 'description', 'packager', 'url', 'time', 'size', 'location', 'format']);
    const format = p.children[11]!;
    expect(format.children.map((c) => c.name)).toEqual([
      'rpm:license',
      'rpm:vendor',
      'rpm:group',
      'rpm:buildhost',
      'rpm:sourcerpm',
      'rpm:header-range',
      'rpm:provides',
      'rpm:requires',
      'file',
      'file',
      'file',
    ]);
    expect(xml).toContain('  <version epoch="0" ver="1.0" rel="1"/>\n');
    expect(xml).toContain(`  <checksum type="sha256" pkgid="YES">${'a'.repeat(64)}</checksum>\n`);
    expect(xml).toContain('  <packager></packager>\n');
    expect(xml).toContain('    <rpm:header-range start="280" end="1000"/>\n');
    expect(xml).toContain('      <rpm:entry name="/bin/sh" pre="1"/>\n');
    expect(xml).toContain('      <rpm:entry name="nodejs" flags="GE" epoch="1" ver="20"/>\n');
    expect(xml).toContain('    <file type="dir">/etc/shop</file>\n');
    expect(xml).not.toContain('run.log'); // not a primary file
    expect(xml.startsWith('<package type="rpm">\n') && xml.endsWith('</package>\n')).toBe(true);
  });

  it('omits version attributes without flags, empty dependency kinds, and writes <x/> when every name is empty', () => {
    const xml = primaryChunk(sampleRecord({ provides: [{ name: 'x', epoch: '0', ver: '1' }], requires: [], conflicts: [{ name: '' }] }));
    expect(xml).toContain('<rpm:entry name="x"/>');
    expect(xml).not.toContain('rpm:requires');
    expect(xml).toContain('    <rpm:conflicts/>\n');
  });

  it('filelists and other carry pkgid, name, arch and version; every file; the changelog', () => {
    const rec = sampleRecord();
    const f = parseXml(filelistsChunk(rec));
    expect(f.attrs).toEqual({ pkgid: rec.pkgid, name: 'shop', arch: 'noarch' });
    expect(f.children.filter((c) => c.name === 'file').map((c) => [c.text, c.attrs.type ?? ''])).toEqual(rec.files.map((x) => [x.path, x.type]));
    const o = parseXml(otherChunk(rec));
    expect(o.children.map((c) => c.name)).toEqual(['version', 'changelog']);
    expect(o.children[1]).toMatchObject({ attrs: { author: rec.changelog[0]!.author, date: '1700000000' }, text: '- first' });
  });

  it('carries hostile strings in every field unchanged through a parser', () => {
    for (const s of HOSTILE) {
      const rec = sampleRecord({
        summary: s,
        description: s,
        url: s,
        vendor: s,
        href: `Packages/${s}.rpm`,
        provides: [{ name: `cap(${s})`, flags: 'EQ', epoch: '0', ver: s === '' ? '1' : s }],
        files: [{ path: `/etc/${s}`, type: '' }],
        changelog: [{ author: s, date: 1, text: s }],
      });
      const p = parseXml(primaryChunk(rec));
      const get = (n: string) => p.children.find((c) => c.name === n)!;
      expect(get('summary').text).toBe(s);
      expect(get('description').text).toBe(s);
      expect(get('url').text).toBe(s);
      expect(get('location').attrs.href).toBe(`Packages/${s}.rpm`);
      const format = get('format');
      expect(format.children.find((c) => c.name === 'rpm:vendor')!.text).toBe(s);
      expect(format.children.find((c) => c.name === 'rpm:provides')!.children[0]!.attrs.name).toBe(`cap(${s})`);
      expect(format.children.find((c) => c.name === 'file')!.text).toBe(`/etc/${s}`);
      const o = parseXml(otherChunk(rec)).children[1]!;
      expect([o.attrs.author, o.text]).toEqual([s, s]);
    }
  });

  it('is pure: the same record gives the same chunk, and chunks do not depend on each other', () => {
    const a = sampleRecord();
    const b = sampleRecord({ name: 'other', pkgid: 'b'.repeat(64) });
    const first = [primaryChunk(a), primaryChunk(b)];
    expect([primaryChunk(a), primaryChunk(b)]).toEqual(first);
    expect(primaryChunk(structuredClone(a))).toBe(first[0]);
    // concatenation in any order parses
    parseXml(`<metadata>${first[1]}${first[0]}</metadata>`);
  });

  it('refuses a record with a control character', () => {
    expect(() => primaryChunk(sampleRecord({ summary: 'bell \u0007' }))).toThrow(/U\+0007/);
  });
});
