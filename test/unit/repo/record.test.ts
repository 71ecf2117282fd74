import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KpkgError } from '../../../packager/errors.js';
import { DEFAULT_CHANGELOG_LIMIT, flagsName, latin1ToUtf8, packageRecord, splitEVR } from '../../../packager/repo/record.js';
import type { RepoDependency } from '../../../packager/repo/types.js';
import { filelistsChunk, isPrimaryFile, otherChunk, primaryChunk } from '../../../packager/repo/xml.js';
import {
  RPMSENSE_EQUAL,
  RPMSENSE_GREATER,
  RPMSENSE_LESS,
  RPMSENSE_MISSINGOK,
  RPMSENSE_POSTTRANS,
  RPMSENSE_PRETRANS,
  RPMSENSE_RPMLIB,
  RPMSENSE_SCRIPT_POST,
  RPMSENSE_SCRIPT_PRE,
  RPMSENSE_SCRIPT_PREUN,
} from '../../../packager/rpm/dependency.js';
import { Header } from '../../../packager/rpm/header.js';
import { packageInfo, readRpm } from '../../../packager/rpm/reader.js';
import { SigTag, Tag, TagType } from '../../../packager/rpm/tags.js';
import { parseXml } from './xml-parse.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'rpmbuild');
const NAMES = ['hello-1.2.3-1.noarch.rpm', 'world-0.4.0-3.noarch.rpm', 'unicode-names-0.9.0~rc.1-1.noarch.rpm'];

async function fixtureRecord(name: string) {
  const path = join(FIXTURES, name);
  const pkg = await readRpm(path);
  const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
  const rec = packageRecord(pkg, { href: `Packages/${name}`, sha256, size: statSync(path).size, mtime: 1_700_000_123 });
  return { pkg, info: packageInfo(pkg), rec, sha256 };
}

/** A header with the mandatory tags and `extra` ones. */
function header(extra: (h: Header) => void): { header: Header; signature: Header; headerOffset: number; payloadOffset: number } {
  const h = new Header()
    .set(Tag.NAME, TagType.STRING, 'pkg')
    .set(Tag.VERSION, TagType.STRING, '1')
    .set(Tag.RELEASE, TagType.STRING, '1')
    .set(Tag.ARCH, TagType.STRING, 'noarch');
  extra(h);
  return { header: h, signature: new Header(), headerOffset: 100, payloadOffset: 200 };
}

function deps(h: Header, kind: 'REQUIRE' | 'PROVIDE', list: [string, number, string][]) {
  h.set(Tag[`${kind}NAME`], TagType.STRING_ARRAY, list.map((d) => d[0]));
  h.set(Tag[`${kind}FLAGS`], TagType.INT32, list.map((d) => d[1]));
  h.set(Tag[`${kind}VERSION`], TagType.STRING_ARRAY, list.map((d) => d[2]));
}

const FILE = { href: 'p.rpm', sha256: 'f'.repeat(64), size: 300, mtime: 5 };

describe('packageRecord on the rpmbuild fixtures', () => {
  it.each(NAMES)('%s: what describe() reads, as createrepo_c presents it', async (name) => {
    const { pkg, info, rec, sha256 } = await fixtureRecord(name);
    expect(rec).toMatchObject({
      pkgid: sha256,
      name: info.name,
      epoch: String(info.epoch ?? 0),
      version: info.version,
      release: info.release,
      arch: info.arch,
      summary: info.summary,
      description: info.description,
      license: info.license,
      group: info.group,
      url: info.url ?? '',
      vendor: info.vendor ?? '',
      packager: info.packager ?? '',
      buildhost: info.buildHost ?? '',
      sourcerpm: info.sourceRpm ?? '',
      timeBuild: info.buildTime,
      timeFile: 1_700_000_123,
      sizeInstalled: info.installSize,
      sizePackage: pkg.fileSize,
      headerStart: pkg.headerOffset,
      headerEnd: pkg.payloadOffset,
      href: `Packages/${name}`,
    });
    expect(rec.sizeArchive).toBe(pkg.signature.number(SigTag.LONGARCHIVESIZE) ?? pkg.signature.number(SigTag.PAYLOADSIZE));
    expect(rec.files.map((f) => f.path)).toEqual(info.files.map((f) => f.path));
    expect(rec.files.map((f) => f.type)).toEqual(info.files.map((f) => ((f.mode & 0o170000) === 0o040000 ? 'dir' : f.flags & 64 ? 'ghost' : '')));
    // no rpmlib() requires; the provides untouched
    expect(rec.requires.some((d) => d.name.startsWith('rpmlib('))).toBe(false);
    expect(rec.provides.map((d) => d.name)).toEqual(info.provides.map((d) => d.name));
    // changelog: at most 10, oldest first
    expect(rec.changelog.map((c) => c.text)).toEqual(info.changelog.slice(0, DEFAULT_CHANGELOG_LIMIT).map((c) => c.text).reverse());
  });

  it.each(NAMES)('%s: the three chunks parse back to the record', async (name) => {
    const { rec } = await fixtureRecord(name);
    const p = parseXml(primaryChunk(rec));
    const get = (n: string) => p.children.find((c) => c.name === n)!;
    expect(get('name').text).toBe(rec.name);
    expect(get('version').attrs).toEqual({ epoch: rec.epoch, ver: rec.version, rel: rec.release });
    expect(get('description').text).toBe(rec.description);
    expect(get('size').attrs).toEqual({ package: String(rec.sizePackage), installed: String(rec.sizeInstalled), archive: String(rec.sizeArchive) });
    const format = get('format');
    const entries = (tag: string): RepoDependency[] =>
      (format.children.find((c) => c.name === tag)?.children ?? []).map((e) => {
        const d: RepoDependency = { name: e.attrs.name! };
        const flags = e.attrs.flags as RepoDependency['flags'];
        if (flags) d.flags = flags;
        for (const k of ['epoch', 'ver', 'rel'] as const) if (e.attrs[k] !== undefined) d[k] = e.attrs[k];
        if (e.attrs.pre === '1') d.pre = true;
        return d;
      });
    for (const k of ['provides', 'requires', 'conflicts', 'obsoletes', 'suggests', 'enhances', 'recommends', 'supplements'] as const) {
      // versions without flags are not written, as createrepo_c
      expect(entries(`rpm:${k}`), k).toEqual(rec[k].map((d) => (d.flags ? d : { name: d.name, ...(d.pre ? { pre: true } : {}) })));
    }
    expect(format.children.filter((c) => c.name === 'file').map((c) => c.text)).toEqual(rec.files.filter((f) => isPrimaryFile(f.path)).map((f) => f.path));
    const f = parseXml(filelistsChunk(rec));
    expect(f.children.filter((c) => c.name === 'file').map((c) => c.text)).toEqual(rec.files.map((x) => x.path));
    const o = parseXml(otherChunk(rec));
    expect(o.children.filter((c) => c.name === 'changelog').map((c) => ({ author: c.attrs.author, date: Number(c.attrs.date), text: c.text }))).toEqual(rec.changelog);
  });

  it('hello: Requires(pre) marked pre, the rich dependency kept, versions split', async () => {
    const { rec } = await fixtureRecord('hello-1.2.3-1.noarch.rpm');
    expect(rec.requires.filter((d) => d.pre).length).toBeGreaterThan(0);
    expect(rec.requires.some((d) => d.name.startsWith('(foo'))).toBe(true);
    for (const d of [...rec.requires, ...rec.provides]) if (d.flags) expect(d.epoch).toMatch(/^\d+$/);
  });
});

describe('packageRecord rules (createrepo_c parsehdr.c)', () => {
  it('epoch 0 when absent, the header epoch otherwise; src for source packages', () => {
    expect(packageRecord(header(() => {}), FILE).epoch).toBe('0');
    expect(packageRecord(header((h) => h.set(Tag.EPOCH, TagType.INT32, [3])), FILE).epoch).toBe('3');
    expect(packageRecord(header((h) => h.set(1106, TagType.INT32, [1])), FILE).arch).toBe('src');
  });

  it('archive size: header LONGARCHIVESIZE, else the signature, else ARCHIVESIZE / PAYLOADSIZE', () => {
    const p = header(() => {});
    p.signature.set(SigTag.PAYLOADSIZE, TagType.INT32, [77]);
    expect(packageRecord(p, FILE).sizeArchive).toBe(77);
    p.signature.set(SigTag.LONGARCHIVESIZE, TagType.INT64, [88n]);
    expect(packageRecord(p, FILE).sizeArchive).toBe(88);
    expect(packageRecord(header(() => {}), FILE).sizeArchive).toBe(0);
  });

  it('requires: drops rpmlib(), own primary files, what the package provides and exact duplicates; marks pre', () => {
    const p = header((h) => {
      h.set(Tag.DIRNAMES, TagType.STRING_ARRAY, ['/usr/bin/', '/opt/x/']);
      h.set(Tag.BASENAMES, TagType.STRING_ARRAY, ['tool', 'data']);
      h.set(Tag.DIRINDEXES, TagType.INT32, [0, 1]);
      h.set(Tag.FILEMODES, TagType.INT16, [0o100755, 0o100644]);
      h.set(Tag.FILEFLAGS, TagType.INT32, [0, 0]);
      h.set(Tag.FILEDIGESTS, TagType.STRING_ARRAY, ['', '']);
      deps(h, 'PROVIDE', [
        ['cap', RPMSENSE_EQUAL, '1.0'],
        ['plain', 0, ''],
      ]);
      deps(h, 'REQUIRE', [
        ['rpmlib(PayloadIsZstd)', RPMSENSE_RPMLIB | RPMSENSE_LESS | RPMSENSE_EQUAL, '5.4.18-1'],
        ['/usr/bin/tool', 0, ''],
        ['/opt/x/data', 0, ''],
        ['cap', RPMSENSE_EQUAL, '1.0'],
        ['cap', RPMSENSE_GREATER | RPMSENSE_EQUAL, '1.0'],
        ['plain', 0, ''],
        ['a', RPMSENSE_SCRIPT_PRE, ''],
        ['b', RPMSENSE_SCRIPT_POST, ''],
        ['c', RPMSENSE_SCRIPT_PREUN, ''],
        ['d', RPMSENSE_PRETRANS, ''],
        ['e', RPMSENSE_POSTTRANS, ''],
        ['dup', 0, ''],
        ['dup', 0, ''],
        ['dup', RPMSENSE_SCRIPT_PRE, ''],
        ['hint', RPMSENSE_MISSINGOK, ''],
      ]);
    });
    const rec = packageRecord(p, FILE);
    expect(rec.requires).toEqual([
      { name: '/opt/x/data' },
      { name: 'cap', flags: 'GE', epoch: '0', ver: '1.0' },
      { name: 'a', pre: true },
      { name: 'b', pre: true },
      { name: 'c' },
      { name: 'd' },
      { name: 'e' },
      { name: 'dup' },
      { name: 'dup', pre: true },
    ]);
    expect(rec.recommends).toEqual([{ name: 'hint' }]);
    const trans = packageRecord(p, FILE, { transPre: true }).requires;
    expect(trans.filter((d) => d.pre).map((d) => d.name)).toEqual(['a', 'b', 'd', 'e', 'dup']);
    expect(packageRecord(p, FILE, { legacyWeakDeps: false }).requires.map((d) => d.name)).toContain('hint');
  });

  it('keeps only the highest libc.so.6 require, last', () => {
    const p = header((h) =>
      deps(h, 'REQUIRE', [
        ['libc.so.6(GLIBC_2.4)(64bit)', 0, ''],
        ['libm.so.6()(64bit)', 0, ''],
        ['libc.so.6()(64bit)', 0, ''],
        ['libc.so.6(GLIBC_2.17)(64bit)', 0, ''],
        ['libc.so.6(GLIBC_2.3.4)(64bit)', 0, ''],
        ['zlib', 0, ''],
      ]),
    );
    expect(packageRecord(p, FILE).requires.map((d) => d.name)).toEqual(['libm.so.6()(64bit)', 'zlib', 'libc.so.6(GLIBC_2.17)(64bit)']);
  });

  it('drops a dependency with a non-numeric epoch, as createrepo_c', () => {
    const p = header((h) => deps(h, 'PROVIDE', [['bad', RPMSENSE_EQUAL, 'x:1'], ['good', RPMSENSE_EQUAL, '2:1']]));
    expect(packageRecord(p, FILE).provides).toEqual([{ name: 'good', flags: 'EQ', epoch: '2', ver: '1' }]);
  });

  it('files: dir and ghost types, path = dirname + basename, none without FILEDIGESTS', () => {
    const files = (withDigests: boolean) =>
      header((h) => {
        h.set(Tag.DIRNAMES, TagType.STRING_ARRAY, ['/etc/', '/etc/x/']);
        h.set(Tag.BASENAMES, TagType.STRING_ARRAY, ['x', 'a.conf', 'run.log']);
        h.set(Tag.DIRINDEXES, TagType.INT32, [0, 1, 1]);
        h.set(Tag.FILEMODES, TagType.INT16, [0o040755, 0o100644, 0o100644]);
        h.set(Tag.FILEFLAGS, TagType.INT32, [0, 1, 64]);
        if (withDigests) h.set(Tag.FILEDIGESTS, TagType.STRING_ARRAY, ['', 'ab', '']);
      });
    expect(packageRecord(files(true), FILE).files).toEqual([
      { path: '/etc/x', type: 'dir' },
      { path: '/etc/x/a.conf', type: '' },
      { path: '/etc/x/run.log', type: 'ghost' },
    ]);
    expect(packageRecord(files(false), FILE).files).toEqual([]);
  });

  it('changelog: the newest N, oldest first, equal times made distinct, authors right-trimmed', () => {
    const times = [50, 50, 50, 40, 30, 20, 10, 9, 8, 7, 6, 5];
    const p = header((h) => {
      h.set(Tag.CHANGELOGTIME, TagType.INT32, times);
      h.set(Tag.CHANGELOGNAME, TagType.STRING_ARRAY, times.map((_, i) => `dev${i}  `));
      h.set(Tag.CHANGELOGTEXT, TagType.STRING_ARRAY, times.map((_, i) => `- ${i}`));
    });
    const rec = packageRecord(p, FILE);
    expect(rec.changelog.length).toBe(10);
    expect(rec.changelog.map((c) => c.text)).toEqual(['- 9', '- 8', '- 7', '- 6', '- 5', '- 4', '- 3', '- 2', '- 1', '- 0']);
    expect(rec.changelog.map((c) => c.date)).toEqual([7, 8, 9, 10, 20, 30, 40, 50, 51, 52]);
    expect(rec.changelog[0]!.author).toBe('dev9');
    expect(packageRecord(p, FILE, { changelogLimit: -1 }).changelog.length).toBe(12);
    expect(packageRecord(p, FILE, { changelogLimit: 0 }).changelog).toEqual([]);
  });

  it('refuses a package whose strings XML cannot carry', () => {
    const p = header((h) => h.set(Tag.SUMMARY, TagType.STRING, 'bell\u0007'));
    expect(() => packageRecord(p, FILE)).toThrow(KpkgError);
    expect(() => packageRecord(p, FILE)).toThrow(/summary .*U\+0007/);
  });
});

describe('strings that are not UTF-8 (cr_latin1_to_utf8)', () => {
  it('converts Latin-1 as createrepo_c: 0xC0-0xFF kept, 0x80-0xBF and C0 controls dropped', () => {
    expect(latin1ToUtf8(Buffer.from('caf\xe9 \xab\xbb\x85 \x01\tok\xff', 'latin1'))).toBe('café  \tokÿ');
  });

  it('re-reads a string from the header bytes when UTF-8 decoding failed, and leaves valid UTF-8 alone', () => {
    const h = new Header()
      .set(Tag.NAME, TagType.STRING, 'pkg')
      .set(Tag.VERSION, TagType.STRING, '1')
      .set(Tag.RELEASE, TagType.STRING, '1')
      .set(Tag.SUMMARY, TagType.I18NSTRING, ['café'])
      .set(Tag.DESCRIPTION, TagType.I18NSTRING, ['naïve \ufffd'])
      .set(Tag.CHANGELOGTIME, TagType.INT32, [1])
      .set(Tag.CHANGELOGNAME, TagType.STRING_ARRAY, ['Jörg'])
      .set(Tag.CHANGELOGTEXT, TagType.STRING_ARRAY, ['- ok']);
    const bytes = h.encode(Tag.HEADERIMMUTABLE);
    // 'é' (C3 A9) -> E9 41 and 'ö' (C3 B6) -> F6 42: the same length, no longer UTF-8
    const patch = (word: string, ch: string, to: number[]) => {
      const at = bytes.indexOf(Buffer.from(ch), bytes.indexOf(Buffer.from(word)));
      expect(at).toBeGreaterThan(0);
      Buffer.from(to).copy(bytes, at);
    };
    patch('café', 'é', [0xe9, 0x41]);
    patch('Jörg', 'ö', [0xf6, 0x42]);
    const header = Header.decode(bytes, 0, 'header').header;
    expect(header.string(Tag.SUMMARY)).toContain('\ufffd');
    const rec = packageRecord({ header, signature: new Header(), headerOffset: 0, payloadOffset: bytes.length }, FILE);
    expect(rec.summary).toBe('caféA');
    expect(rec.changelog[0]!.author).toBe('JöBrg');
    expect(rec.description).toBe('naïve \ufffd'); // valid UTF-8 holding U+FFFD stays
  });
});

describe('splitEVR and flagsName (cr_str_to_evr, cr_flag_to_str)', () => {
  it.each([
    ['', {}],
    ['1.0', { epoch: '0', ver: '1.0' }],
    ['1.0-1', { epoch: '0', ver: '1.0', rel: '1' }],
    ['2:1.0-1.el9', { epoch: '2', ver: '1.0', rel: '1.el9' }],
    ['1.0-1-2', { epoch: '0', ver: '1.0', rel: '1-2' }], // the first '-', unlike rpm
    [':1.0', { epoch: '0', ver: '1.0' }],
    ['1.0-', { epoch: '0', ver: '1.0' }],
    ['x:1.0', undefined],
  ])('%j -> %j', (evr, expected) => {
    expect(splitEVR(evr)).toEqual(expected);
  });

  it('names only the five comparisons', () => {
    expect([0, 2, 4, 8, 10, 12, 6, 14].map((f) => flagsName(f | 0x200))).toEqual([undefined, 'LT', 'GT', 'EQ', 'LE', 'GE', undefined, undefined]);
  });
});
