/**
 * The 96-byte lead that opens every RPM file. Obsolete as a source of truth (rpm reads the
 * headers) but still checked: magic, major version 3, signature type 5.
 *
 *   magic(4) major(1) minor(1) type(2) archnum(2) name(66) osnum(2) signature_type(2) reserved(16)
 */
import { FormatError } from '../errors.js';
import { LEAD_MAGIC, LEAD_SIZE, RPMSIGTYPE_HEADERSIG } from './tags.js';

export interface Lead {
  major: number;
  minor: number;
  type: number; // 0 binary, 1 source
  archnum: number;
  name: string;
  osnum: number;
  signatureType: number;
}

// rpm's arch numbers from rpmrc (arch_canon); noarch packages carry the build machine's, rpm
// ignores it on read.
const ARCH_NUMBERS: Record<string, number> = { noarch: 0, i386: 1, i686: 1, x86_64: 1, aarch64: 19, ppc64le: 16, s390x: 15 };

export function encodeLead(name: string, arch: string): Buffer {
  const buf = Buffer.alloc(LEAD_SIZE);
  LEAD_MAGIC.copy(buf, 0);
  buf.writeUInt8(3, 4); // major
  buf.writeUInt8(0, 5); // minor
  buf.writeUInt16BE(0, 6); // binary package
  buf.writeUInt16BE(ARCH_NUMBERS[arch] ?? 0, 8);
  // 66 bytes, NUL-terminated: truncate on a UTF-8 boundary so we never write half a character
  let nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length > 65) {
    let cut = 65;
    while (cut > 0 && ((nameBytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
    nameBytes = nameBytes.subarray(0, cut);
  }
  nameBytes.copy(buf, 10);
  buf.writeUInt16BE(1, 76); // osnum: Linux
  buf.writeUInt16BE(RPMSIGTYPE_HEADERSIG, 78);
  return buf;
}

export function decodeLead(buf: Buffer): Lead {
  if (buf.length < LEAD_SIZE) {
    throw new FormatError('lead', 0, `expected ${LEAD_SIZE} bytes, found ${buf.length} (not an RPM file, or truncated)`);
  }
  if (!buf.subarray(0, 4).equals(LEAD_MAGIC)) {
    throw new FormatError('lead', 0, `expected RPM magic edabeedb, found ${buf.subarray(0, 4).toString('hex')} (not an RPM file)`);
  }
  const major = buf.readUInt8(4);
  if (major !== 3 && major !== 4) {
    throw new FormatError('lead', 4, `unsupported RPM major version ${major}, expected 3 (RPM v4 packages)`);
  }
  const signatureType = buf.readUInt16BE(78);
  if (signatureType !== RPMSIGTYPE_HEADERSIG) {
    throw new FormatError('lead', 78, `signature type ${signatureType}, expected ${RPMSIGTYPE_HEADERSIG} (header-style signature)`);
  }
  const nameField = buf.subarray(10, 76);
  const nul = nameField.indexOf(0);
  return {
    major,
    minor: buf.readUInt8(5),
    type: buf.readUInt16BE(6),
    archnum: buf.readUInt16BE(8),
    name: nameField.toString('utf8', 0, nul < 0 ? nameField.length : nul),
    osnum: buf.readUInt16BE(76),
    signatureType,
  };
}
