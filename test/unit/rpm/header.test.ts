import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Header } from '../../../packager/rpm/header.js';
import { Tag, TagType } from '../../../packager/rpm/tags.js';
import { FormatError } from '../../../packager/errors.js';

function sample(): Header {
  return new Header()
    .set(Tag.HEADERI18NTABLE, TagType.STRING_ARRAY, ['C'])
    .set(Tag.NAME, TagType.STRING, 'shop')
    .set(Tag.SUMMARY, TagType.I18NSTRING, ['Le café — 日本'])
    .set(Tag.FILEMODES, TagType.INT16, [0o100644, 0o40755])
    .set(Tag.FILESIZES, TagType.INT32, [1, 0xffffffff])
    .set(Tag.LONGFILESIZES, TagType.INT64, [1n, 5n << 32n])
    .set(Tag.FILEDIGESTS, TagType.STRING_ARRAY, ['', 'ab'])
    .set(1004 + 100000, TagType.BIN, Buffer.from([1, 2, 3]));
}


/** Alignment rpm requires of an entry's data, by type number. */
const ALIGN = new Map<number, number>([
  [TagType.INT16, 2],
  [TagType.INT32, 4],
  [TagType.INT64, 8],
]);

describe('Header', () => {
  it('round-trips every value type: decode(encode(h)) equals h', () => {
    const h = sample();
    const bytes = h.encode(Tag.HEADERIMMUTABLE);
    const { header, size, regionTag } = Header.decode(bytes, 0, 'header');
    expect(size).toBe(bytes.length);
    expect(regionTag).toBe(Tag.HEADERIMMUTABLE);
    expect(header.list()).toEqual(h.list());
    // encode(decode(x)) gives the same bytes
    expect(header.encode(Tag.HEADERIMMUTABLE).equals(bytes)).toBe(true);
  });

  it('aligns integers in the data store and sorts entries by tag', () => {
    const bytes = sample().encode(Tag.HEADERIMMUTABLE);
    const il = bytes.readUInt32BE(8);
    const store = 16 + il * 16;
    let previous = -1;
    for (let i = 0; i < il; i++) {
      const tag = bytes.readUInt32BE(16 + i * 16);
      const type = bytes.readUInt32BE(16 + i * 16 + 4);
      const offset = bytes.readInt32BE(16 + i * 16 + 8);
      expect(tag).toBeGreaterThan(previous);
      previous = tag;
      const align = ALIGN.get(type) ?? 1;
      expect((offset % align) + store * 0).toBe(0);
    }
  });

  it('writes the region trailer with minus the index size', () => {
    const bytes = sample().encode(Tag.HEADERIMMUTABLE);
    const il = bytes.readUInt32BE(8);
    const trailer = bytes.subarray(bytes.length - 16);
    expect(trailer.readUInt32BE(0)).toBe(Tag.HEADERIMMUTABLE);
    expect(trailer.readInt32BE(8)).toBe(-il * 16);
  });

  it('refuses values of the wrong type when building', () => {
    expect(() => new Header().set(Tag.NAME, TagType.STRING, ['x'])).toThrow(/STRING/);
    expect(() => new Header().set(Tag.FILEMODES, TagType.INT16, [0x10000])).toThrow(/0\.\.65535/);
    expect(() => new Header().set(Tag.NAME, TagType.STRING, 'a\0b')).toThrow(/NUL/);
  });

  it('names structure and offset for bad input', () => {
    const bytes = sample().encode(Tag.HEADERIMMUTABLE);
    const bad = Buffer.from(bytes);
    bad[0] = 0;
    expect(() => Header.decode(bad, 0, 'header', 1000)).toThrow(/header at byte 1000: expected header magic/);
    expect(() => Header.decode(bytes.subarray(0, bytes.length - 1), 0, 'header')).toThrow(FormatError);
    const hugeCount = Buffer.from(bytes);
    hugeCount.writeUInt32BE(0xffffff, 16 + 16 + 12); // count of the second entry
    expect(() => Header.decode(hugeCount, 0, 'header')).toThrow(/count 16777215 impossible/);
  });

  it('never throws anything but FormatError on corrupted bytes', () => {
    const bytes = sample().encode(Tag.HEADERIMMUTABLE);
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(bytes.length), (pos, value, cut) => {
        const copy = Buffer.from(bytes);
        copy[pos] = value;
        for (const input of [copy, copy.subarray(0, cut)]) {
          try {
            Header.decode(input, 0, 'header');
          } catch (e) {
            expect(e).toBeInstanceOf(FormatError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
