/**
 * The OpenPGP signatures a package's signature header holds, and the tags rpm keeps them in
 * (rpmtag.h, rpmSigTag_e). rpm 4.18's rpmsign chooses the tag by the key's algorithm
 * (sign/rpmgensig.c): RSA header signatures go to RSAHEADER (268), DSA and EdDSA ones to
 * DSAHEADER (267); the legacy header+payload signatures (`rpmsign --rpmv3`) to SIGPGP (1002) for
 * RSA and SIGGPG (1005) for DSA/EdDSA.
 */
import type { Header } from '../rpm/header.js';
import { algorithmName, parseSignaturePacket, type SignatureInfo } from './packet.js';

export const RPMSIGTAG_DSA = 267; // header only, DSA or EdDSA
export const RPMSIGTAG_RSA = 268; // header only, RSA
export const RPMSIGTAG_PGP = 1002; // header + payload, RSA
export const RPMSIGTAG_GPG = 1005; // header + payload, DSA or EdDSA
export const RPMSIGTAG_RESERVEDSPACE = 1008; // room left by rpmbuild so that rpmsign can sign in place
export const RPMSIGTAG_OPENPGP = 278; // rpm >= 4.20: v6 signatures, one per key

export const SIGNATURE_TAGS: readonly { tag: number; name: string; range: 'header' | 'header+payload' }[] = [
  { tag: RPMSIGTAG_RSA, name: 'RSAHEADER', range: 'header' },
  { tag: RPMSIGTAG_DSA, name: 'DSAHEADER', range: 'header' },
  { tag: RPMSIGTAG_PGP, name: 'SIGPGP', range: 'header+payload' },
  { tag: RPMSIGTAG_GPG, name: 'SIGGPG', range: 'header+payload' },
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
