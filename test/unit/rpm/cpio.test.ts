import { describe, expect, it } from 'vitest';
import { encodeNewcHeader, encodeStrippedHeader, encodeTrailer, parseCpioHeader } from '../../../packager/rpm/cpio.js';

const entry = { name: './opt/kelkoo/é x.txt', ino: 3, mode: 0o100644, uid: 0, gid: 0, nlink: 1, mtime: 1700000000, size: 5, devMajor: 0, devMinor: 0, rdevMajor: 0, rdevMinor: 0 };

describe('cpio newc', () => {
  it('round-trips a header and pads it to 4 bytes', () => {
    const bytes = encodeNewcHeader(entry);
    expect(bytes.length % 4).toBe(0);
    const parsed = parseCpioHeader(bytes, 0);
    expect(parsed).toEqual({ kind: 'newc', entry, headerSize: bytes.length });
  });

  it('asks for more bytes instead of reading past a short buffer', () => {
    const bytes = encodeNewcHeader(entry);
    for (let n = 0; n < bytes.length; n++) expect(parseCpioHeader(bytes.subarray(0, n), 0)).toBeUndefined();
  });

  it('recognises the trailer and the stripped header', () => {
    expect(parseCpioHeader(encodeTrailer(), 0)?.kind).toBe('trailer');
    expect(parseCpioHeader(encodeStrippedHeader(42), 0)).toEqual({ kind: 'stripped', fileIndex: 42, headerSize: 16 });
  });

  it('names the offset of a bad magic or field', () => {
    expect(() => parseCpioHeader(Buffer.from('070707'.padEnd(120, '0')), 512)).toThrow(/cpio payload at byte 512: expected cpio magic/);
    const bad = encodeNewcHeader(entry);
    bad.write('zz', 6 + 8 * 6, 'latin1');
    expect(() => parseCpioHeader(bad, 0)).toThrow(/field filesize/);
  });

  it('refuses sizes newc cannot state', () => {
    expect(() => encodeNewcHeader({ ...entry, size: 2 ** 32 })).toThrow(/8 hex digits/);
  });
});
