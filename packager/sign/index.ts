export { loadSigningKey, loadSigningKeyFrom, signDetached, signDetachedBinary, PASSPHRASE_ENV, type SigningKey } from './openpgp.js';
export { signRpm, buildSignatureHeader, type SignResult } from './rpm.js';
export { packageSignatures, signatureSummary, SIGNATURE_TAGS, type PackageSignature } from './signatures.js';
export { parseSignaturePacket, algorithmName, type SignatureInfo } from './packet.js';
