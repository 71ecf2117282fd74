/**
 * The OpenPGP signatures a package's signature header holds, and the tags rpm keeps them in
 * (rpmtag.h, rpmSigTag_e). rpm 4.18's rpmsign chooses the tag by the key's algorithm
 * (sign/rpmgensig.c): RSA header signatures go to RSAHEADER (SigTag.RSA), DSA and EdDSA ones to
 * DSAHEADER (SigTag.DSA); the legacy header+payload signatures (`rpmsign --rpmv3`) to SIGPGP
 * (SigTag.PGP) for RSA and SIGGPG (SigTag.GPG) for DSA/EdDSA. rpm 4.20+ and rpm 6 also write
 * OPENPGP (278), a string array holding one base64 signature packet per signing key (v4 or v6
 * keys, any algorithm): that is where several signatures, and v6/ML-DSA ones, live. The numbers
 * are in rpm/tags.ts.
 */
import type { Header } from '../rpm/header.js';
import { FormatError } from '../errors.js';
import { SigTag } from '../rpm/tags.js';
import { algorithmName, parseSignaturePacket, type SignatureInfo } from './packet.js';


export const SIGNATURE_TAGS: readonly { tag: number; name: string; range: 'header' | 'header+payload' }[] = [
  { tag: SigTag.OPENPGP, name: 'OPENPGP', range: 'header' },
  { tag: SigTag.RSA, name: 'RSAHEADER', range: 'header' },
  { tag: SigTag.DSA, name: 'DSAHEADER', range: 'header' },
  { tag: SigTag.PGP, name: 'SIGPGP', range: 'header+payload' },
  { tag: SigTag.GPG, name: 'SIGGPG', range: 'header+payload' },
];

export interface PackageSignature extends SignatureInfo {
  tag: number;
  tagName: string;
  range: 'header' | 'header+payload';
  /** `RSA/SHA256` */
  algorithm: string;
  /** what `rpm -qpi` prints on its Signature line */
  summary: string;
}

/**
 * Every signature of the package, header-only first, as `rpm -qpi` would pick them. A signature
 * that cannot be parsed is reported as an error by the parser (a corrupt package).
 */
export function packageSignatures(signature: Header): PackageSignature[] {
  const out: PackageSignature[] = [];
  for (const { tag, name, range } of SIGNATURE_TAGS) {
    const packets: [Buffer, string][] = [];
    if (tag === SigTag.OPENPGP) {
      signature.strings(tag).forEach((text, i) => {
        const where = `signature tag ${name} (${tag}) entry ${i}`;
        packets.push([decodeOpenPgpText(text, where), where]);
      });
    } else {
      const bytes = signature.binary(tag);
      if (bytes) packets.push([bytes, `signature tag ${name} (${tag})`]);
    }
    for (const [bytes, where] of packets) {
      const info = parseSignaturePacket(bytes, where);
      const algorithm = algorithmName(info);
      out.push({ tag, tagName: name, range, algorithm, ...info, summary: signatureSummary(algorithm, info) });
    }
  }
  return out;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * One OPENPGP entry as bytes: base64 of the packet, as rpm writes it, or an ASCII-armored
 * signature (armor headers and the CRC line are skipped). Anything else is a corrupt package.
 */
export function decodeOpenPgpText(text: string, structure: string): Buffer {
  let body = text.trim();
  if (body.startsWith('-----BEGIN PGP SIGNATURE-----')) {
    const lines = body.split(/\r?\n/);
    const end = lines.findIndex((l) => l.startsWith('-----END PGP SIGNATURE-----'));
    if (end < 0) throw new FormatError(structure, 0, 'armored signature without its END line');
    const blank = lines.findIndex((l, i) => i > 0 && l.trim() === '');
    // armor headers end at the first blank line; RFC 9580 allows none, then the data starts at once
    const start = blank > 0 && blank < end ? blank + 1 : 1;
    body = lines
      .slice(start, end)
      .filter((l) => !l.startsWith('='))
      .join('');
  }
  body = body.replace(/\s+/g, '');
  if (body.length === 0 || body.length % 4 !== 0 || !BASE64.test(body)) throw new FormatError(structure, 0, 'not a base64 or armored OpenPGP signature');
  return Buffer.from(body, 'base64');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** `RSA/SHA256, Wed Nov 25 00:19:10 2026, Key ID 4d39bc89748ada7b` (rpm's %c date, in UTC). */
export function signatureSummary(algorithm: string, info: Pick<SignatureInfo, 'created' | 'issuerKeyId'>): string {
  const parts = [algorithm];
  if (info.created !== undefined) {
    const d = new Date(info.created * 1000);
    const two = (n: number) => String(n).padStart(2, '0');
    parts.push(`${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`);
  }
  parts.push(`Key ID ${info.issuerKeyId ?? '(none)'}`);
  return parts.join(', ');
}
