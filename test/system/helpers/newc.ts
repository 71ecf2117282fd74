// A minimal lister of cpio "newc" archives (what rpm2cpio prints), written independently of
// packager/rpm/cpio.ts so that the tests do not check our encoder with our own decoder. GNU cpio
// can extract an archive but not restore directories' mtimes (it sets them, then creates their
// children), so the exact header fields are read here.

export interface NewcMember {
  name: string;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  size: number;
  /** Offset of the member's header in the archive. */
  offset: number;
}

const HEADER = 110;

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Every member up to the TRAILER!!! entry; throws on anything that is not newc. */
export function listNewc(archive: Buffer): NewcMember[] {
  const out: NewcMember[] = [];
  let pos = 0;
  for (;;) {
    if (pos + HEADER > archive.length) throw new Error(`newc: archive ends at ${archive.length} before its trailer`);
    const magic = archive.toString('latin1', pos, pos + 6);
    if (magic !== '070701') throw new Error(`newc: bad magic ${JSON.stringify(magic)} at ${pos}`);
    const field = (i: number) => Number.parseInt(archive.toString('latin1', pos + 6 + i * 8, pos + 14 + i * 8), 16);
    const nameSize = field(11);
    const name = archive.toString('utf8', pos + HEADER, pos + HEADER + nameSize - 1);
    const size = field(6);
    const member: NewcMember = { name, ino: field(0), mode: field(1), uid: field(2), gid: field(3), nlink: field(4), mtime: field(5), size, offset: pos };
    pos = pad4(pos + HEADER + nameSize);
    if (name === 'TRAILER!!!') return out;
    out.push(member);
    pos = pad4(pos + size);
  }
}
