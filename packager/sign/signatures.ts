/**
 * The OpenPGP signatures a package's signature header holds, and the tags rpm keeps them in
 * (rpmtag.h, rpmSigTag_e). rpm 4.18's rpmsign chooses the tag by the key's algorithm
 * (sign/rpmgensig.c): RSA header signatures go to RSAHEADER (SigTag.RSA), DSA and EdDSA ones to
 * DSAHEADER (SigTag.DSA); the legacy header+payload signatures (`rpmsign --rpmv3`) to SIGPGP
 * (SigTag.PGP) for RSA and SIGGPG (SigTag.GPG) for DSA/EdDSA. The numbers are in rpm/tags.ts.
 */
import type { Header } from '../rpm/header.js';
import { SigTag } from '../rpm/tags.js';
import { algorithmName, parseSignaturePacket, type SignatureInfo } from './packet.js';


export const SIGNATURE_TAGS: readonly { tag: number; name: string; range: 'header' | 'header+payload' }[] = [
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
    const bytes = signature.binary(tag);
    if (!bytes) continue;
    const info = parseSignaturePacket(bytes, `signature tag ${name} (${tag})`);
    const algorithm = algorithmName(info);
    out.push({ tag, tagName: name, range, algorithm, ...info, summary: signatureSummary(algorithm, info) });
  }
  return out;
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
