/**
 * Reads one OpenPGP signature packet (RFC 4880 section 5.2, RFC 9580 section 5.2), format only:
 * what `rpm -qpi` shows of a signature (algorithms, date, issuer) and what rpm refuses (versions
 * it cannot read, critical subpackets it does not know). Verification is openpgp.js's business.
 */
import { FormatError } from '../errors.js';

export interface SignatureInfo {
  version: number;
  /** signature type: 0x00 binary document */
  type: number;
  pubkeyAlgorithm: number;
  hashAlgorithm: number;
  /** creation time, seconds since the epoch */
  created?: number;
  /** 16 lower-case hex digits */
  issuerKeyId?: string;
  /** upper-case hex of the issuer fingerprint subpacket (without its version octet) */
  issuerFingerprint?: string;
  /** subpacket types marked critical, in order, hashed area first */
  criticalSubpackets: number[];
}

// RFC 9580 section 9.1 / 9.5; 30-34 from draft-ietf-openpgp-pqc (composite ML-DSA, SLH-DSA), which
// rpm 6 (Sequoia) can verify. Any other number is shown as algo<N>, never dropped.
export const PUBKEY_ALGORITHMS: Readonly<Record<number, string>> = {
  1: 'RSA',
  2: 'RSA',
  3: 'RSA',
  17: 'DSA',
  19: 'ECDSA',
  22: 'EdDSA',
  27: 'Ed25519',
  28: 'Ed448',
  30: 'ML-DSA-65+Ed25519',
  31: 'ML-DSA-87+Ed448',
  32: 'SLH-DSA-SHAKE-128s',
  33: 'SLH-DSA-SHAKE-128f',
  34: 'SLH-DSA-SHAKE-256s',
};
export const HASH_ALGORITHMS: Readonly<Record<number, string>> = { 1: 'MD5', 2: 'SHA1', 3: 'RIPEMD160', 8: 'SHA256', 9: 'SHA384', 10: 'SHA512', 11: 'SHA224', 12: 'SHA3-256', 14: 'SHA3-512' };

const SUBPACKET_CREATION_TIME = 2;
const SUBPACKET_ISSUER_KEY_ID = 16;
const SUBPACKET_ISSUER_FINGERPRINT = 33;
const PACKET_TAG_SIGNATURE = 2;

/** Parses the first packet of `bytes`, which must be a signature packet. */
export function parseSignaturePacket(bytes: Buffer, structure = 'OpenPGP signature'): SignatureInfo {
  const fail = (offset: number, what: string) => new FormatError(structure, offset, what);
  if (bytes.length < 2) throw fail(0, `expected an OpenPGP packet, found ${bytes.length} bytes`);
  const first = bytes[0] as number;
  if ((first & 0x80) === 0) throw fail(0, `expected an OpenPGP packet tag (bit 7 set), found 0x${first.toString(16)}`);
  let tag: number;
  let bodyStart: number;
  let bodyLength: number;
  if (first & 0x40) {
    // new format: one-, two- or five-octet lengths (partial lengths do not occur in signatures)
    tag = first & 0x3f;
    const l0 = bytes[1] as number;
    if (l0 < 192) {
      bodyStart = 2;
      bodyLength = l0;
    } else if (l0 < 224) {
      if (bytes.length < 3) throw fail(1, 'truncated packet length');
      bodyStart = 3;
      bodyLength = ((l0 - 192) << 8) + (bytes[2] as number) + 192;
    } else if (l0 === 255) {
      if (bytes.length < 6) throw fail(1, 'truncated packet length');
      bodyStart = 6;
      bodyLength = bytes.readUInt32BE(2);
    } else {
      throw fail(1, 'partial body length, not allowed in a signature packet');
    }
  } else {
    tag = (first >> 2) & 0x0f;
    const lt = first & 0x03;
    if (lt === 3) throw fail(0, 'indeterminate packet length, not allowed in a signature packet');
    const n = 1 << lt;
    if (bytes.length < 1 + n) throw fail(1, 'truncated packet length');
    bodyStart = 1 + n;
    bodyLength = n === 1 ? (bytes[1] as number) : n === 2 ? bytes.readUInt16BE(1) : bytes.readUInt32BE(1);
  }
  if (tag !== PACKET_TAG_SIGNATURE) throw fail(0, `expected a signature packet (tag 2), found tag ${tag}`);
  if (bodyStart + bodyLength > bytes.length) throw fail(bodyStart, `packet body of ${bodyLength} bytes runs past the ${bytes.length - bodyStart} available`);
  const body = bytes.subarray(bodyStart, bodyStart + bodyLength);
  const at = (rel: number) => bodyStart + rel;
  const need = (rel: number, n: number, what: string) => {
    if (rel + n > body.length) throw fail(at(rel), `${what}: needs ${n} bytes, the packet has ${Math.max(0, body.length - rel)} left`);
  };
  need(0, 1, 'version');
  const version = body[0] as number;
  if (version === 3 || version === 2) {
    need(1, 18, 'v3 signature');
    if (body[1] !== 5) throw fail(at(1), `v3 hashed material length ${body[1]}, expected 5`);
    return {
      version,
      type: body[2] as number,
      created: body.readUInt32BE(3),
      issuerKeyId: body.subarray(7, 15).toString('hex'),
      pubkeyAlgorithm: body[15] as number,
      hashAlgorithm: body[16] as number,
      criticalSubpackets: [],
    };
  }
  if (version !== 4 && version !== 5 && version !== 6) throw fail(at(0), `unknown signature version ${version}, expected 3, 4, 5 or 6`);
  need(1, 3, 'signature fields');
  const info: SignatureInfo = { version, type: body[1] as number, pubkeyAlgorithm: body[2] as number, hashAlgorithm: body[3] as number, criticalSubpackets: [] };
  const countSize = version === 6 ? 4 : 2;
  let pos = 4;
  for (const area of ['hashed', 'unhashed'] as const) {
    need(pos, countSize, `${area} subpacket count`);
    const len = countSize === 4 ? body.readUInt32BE(pos) : body.readUInt16BE(pos);
    pos += countSize;
    need(pos, len, `${area} subpackets`);
    readSubpackets(body.subarray(pos, pos + len), at(pos), area === 'hashed', info, fail);
    pos += len;
  }
  return info;
}

function readSubpackets(area: Buffer, base: number, hashed: boolean, info: SignatureInfo, fail: (offset: number, what: string) => FormatError): void {
  let p = 0;
  while (p < area.length) {
    const l0 = area[p] as number;
    let len: number;
    if (l0 < 192) {
      len = l0;
      p += 1;
    } else if (l0 < 255) {
      if (p + 2 > area.length) throw fail(base + p, 'truncated subpacket length');
      len = ((l0 - 192) << 8) + (area[p + 1] as number) + 192;
      p += 2;
    } else {
      if (p + 5 > area.length) throw fail(base + p, 'truncated subpacket length');
      len = area.readUInt32BE(p + 1);
      p += 5;
    }
    if (len < 1 || p + len > area.length) throw fail(base + p, `subpacket of ${len} bytes runs past its area`);
    const typeByte = area[p] as number;
    const type = typeByte & 0x7f;
    const data = area.subarray(p + 1, p + len);
    if (typeByte & 0x80) info.criticalSubpackets.push(type);
    if (type === SUBPACKET_CREATION_TIME && data.length === 4 && hashed) info.created = data.readUInt32BE(0);
    if (type === SUBPACKET_ISSUER_KEY_ID && data.length === 8) info.issuerKeyId = data.toString('hex');
    if (type === SUBPACKET_ISSUER_FINGERPRINT && data.length > 1) {
      const fpr = data.subarray(1);
      info.issuerFingerprint = fpr.toString('hex').toUpperCase();
      // v4 key IDs are the low 64 bits of the fingerprint, v6 the high 64 bits
      if (info.issuerKeyId === undefined) info.issuerKeyId = (data[0] === 4 ? fpr.subarray(-8) : fpr.subarray(0, 8)).toString('hex');
    }
    p += len;
  }
}

/** `RSA/SHA256`, as rpm prints it. */
export function algorithmName(info: Pick<SignatureInfo, 'pubkeyAlgorithm' | 'hashAlgorithm'>): string {
  return `${PUBKEY_ALGORITHMS[info.pubkeyAlgorithm] ?? `algo${info.pubkeyAlgorithm}`}/${HASH_ALGORITHMS[info.hashAlgorithm] ?? `hash${info.hashAlgorithm}`}`;
}
