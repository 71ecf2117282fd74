/**
 * OpenPGP signing with openpgp.js, shaped by what rpm 4.18 (and older rpm) can verify:
 *
 * - v4 keys only: openpgp.js makes signatures of the key's version, and rpm 4.18 reads neither v5
 *   nor v6 signatures.
 * - RSA (2048 bits or more) and EdDSA on Ed25519 in its v4 form (algorithm 22, what
 *   `gpg --quick-gen-key ... ed25519` makes). The RFC 9580 Ed25519 algorithm (27) is refused: rpm
 *   4.18 does not know it.
 * - SHA-256 or stronger: SHA-1 signatures are refused by RHEL 9's crypto policy.
 * - The primary key signs when it can: old rpm does not check signatures made by subkeys. A key
 *   whose primary cannot sign falls back to its signing subkey: rpm 4.18 imports subkeys and
 *   checks those signatures (test/system/sign.test.ts), older rpm may not.
 * - openpgp.js writes the Issuer Key ID subpacket non-critical (rpm < 4.17 refuses a critical
 *   one) and the issuer fingerprint subpacket non-critical for v4 signatures.
 *
 * Key material is never put in an error message: errors name the file and the key ID only.
 */
import { readFile } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import { KpkgError, ioError } from '../errors.js';
import { parseSignaturePacket, type SignatureInfo } from './packet.js';

export interface SigningKey {
  /** the file the key was read from, for messages */
  source: string;
  /** the decrypted key */
  key: openpgp.PrivateKey;
  /** the (sub)key that signs, 16 lower-case hex digits */
  keyId: string;
  signerKeyId: openpgp.KeyID;
  /** the secret (sub)key packet that signs */
  signerPacket: openpgp.SecretKeyPacket | openpgp.SecretSubkeyPacket;
  /** true when the primary key cannot sign and a subkey does (rpm 4.18 checks those, older rpm may not) */
  subkey: boolean;
  fingerprint: string;
  /** 'RSA' or 'EdDSA': decides the rpm signature tags */
  algorithm: 'RSA' | 'EdDSA';
  /** the armored public key, for repomd.xml.key */
  publicKeyArmored: string;
}

export const PASSPHRASE_ENV = 'KPKG_SIGN_PASSPHRASE';
const MIN_RSA_BITS = 2048;

// SHA-256 unless the key asks for something stronger; never SHA-1.
const SIGN_CONFIG: Partial<openpgp.Config> = { preferredHashAlgorithm: openpgp.enums.hash.sha256, rejectHashAlgorithms: new Set([openpgp.enums.hash.md5, openpgp.enums.hash.ripemd, openpgp.enums.hash.sha1]) };

// getSigningKey wants a whole configuration, sign() merges a partial one itself
const FULL_CONFIG = (): openpgp.Config => ({ ...openpgp.config, ...SIGN_CONFIG });

/**
 * Reads a secret key (armored or binary) from `path` and unlocks it with `passphrase`, by default
 * `KPKG_SIGN_PASSPHRASE`.
 */
export async function loadSigningKey(path: string, passphrase: string | undefined = process.env[PASSPHRASE_ENV]): Promise<SigningKey> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw ioError('read key file', path, e);
  }
  return loadSigningKeyFrom(bytes, path, passphrase);
}

export async function loadSigningKeyFrom(bytes: Uint8Array, source: string, passphrase: string | undefined = process.env[PASSPHRASE_ENV]): Promise<SigningKey> {
  const text = Buffer.from(bytes).toString('latin1');
  const armored = text.includes('-----BEGIN PGP');
  let key: openpgp.PrivateKey;
  try {
    key = armored ? await openpgp.readPrivateKey({ armoredKey: text }) : await openpgp.readPrivateKey({ binaryKey: bytes });
  } catch (e) {
    const isPublic = text.includes('-----BEGIN PGP PUBLIC KEY') || /not of type private key/i.test(String((e as Error).message));
    // openpgp.js messages describe the structure, never the key bytes
    throw new KpkgError('SIGN', isPublic ? `${source}: is a public key; signing needs the secret key (gpg --export-secret-keys --armor)` : `${source}: not an OpenPGP secret key (${(e as Error).message})`, { cause: e });
  }
  const primaryId = key.getKeyID().toHex();
  if (key.keyPacket.version !== 4) {
    throw new KpkgError('SIGN', `${source}: key ${primaryId} is a v${key.keyPacket.version} key; rpm 4.18 verifies only v4 signatures, use a v4 key`);
  }
  if (!key.isDecrypted()) {
    if (passphrase === undefined || passphrase === '') {
      throw new KpkgError('SIGN', `${source}: key ${primaryId} is protected by a passphrase; set ${PASSPHRASE_ENV}`);
    }
    try {
      key = await openpgp.decryptKey({ privateKey: key, passphrase });
    } catch (e) {
      throw new KpkgError('SIGN', `${source}: wrong passphrase for key ${primaryId} (from ${PASSPHRASE_ENV})`, { cause: e });
    }
  }
  const signer = await chooseSigner(key, source);
  const info = signer.getAlgorithmInfo();
  let algorithm: SigningKey['algorithm'];
  if (info.algorithm === 'rsaEncryptSign' || info.algorithm === 'rsaSign') {
    if ((info.bits ?? 0) < MIN_RSA_BITS) throw new KpkgError('SIGN', `${source}: key ${signer.getKeyID().toHex()} is RSA ${info.bits}; use 2048 bits or more`);
    algorithm = 'RSA';
  } else if (info.algorithm === 'eddsaLegacy') {
    algorithm = 'EdDSA';
  } else {
    throw new KpkgError('SIGN', `${source}: key ${signer.getKeyID().toHex()} uses ${info.algorithm}${info.curve ? ` (${info.curve})` : ''}; rpm 4.18 verifies RSA and EdDSA (v4 Ed25519) keys`);
  }
  return {
    source,
    key,
    keyId: signer.getKeyID().toHex(),
    signerKeyId: signer.getKeyID(),
    signerPacket: signer.keyPacket as openpgp.SecretKeyPacket | openpgp.SecretSubkeyPacket,
    subkey: signer !== key,
    fingerprint: signer.getFingerprint().toUpperCase(),
    algorithm,
    publicKeyArmored: key.toPublic().armor(),
  };
}

async function chooseSigner(key: openpgp.PrivateKey, source: string): Promise<openpgp.PrivateKey | openpgp.Subkey> {
  try {
    return await key.getSigningKey(key.getKeyID(), null, undefined, FULL_CONFIG());
  } catch {
    // the primary cannot sign: a signing subkey (rpm 4.18 checks subkey signatures)
  }
  try {
    return await key.getSigningKey(undefined, null, undefined, FULL_CONFIG());
  } catch (e) {
    throw new KpkgError('SIGN', `${source}: key ${key.getKeyID().toHex()} has no usable signing key (${(e as Error).message})`, { cause: e });
  }
}

type Data = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** What SignaturePacket.sign reads of the signed data: a binary literal with no text. */
interface SignedData {
  text: null;
  getBytes(clone?: boolean): Uint8Array | ReadableStream<Uint8Array>;
}

/** The parts of openpgp.js's SignaturePacket that its type declarations leave out. */
interface SigningPacket {
  sign(key: openpgp.SecretKeyPacket | openpgp.SecretSubkeyPacket, data: SignedData, date: Date, detached: boolean, config: openpgp.Config): Promise<void>;
  params: unknown;
  signedHashValue: Uint8Array | ReadableStream<Uint8Array> | null;
}

/**
 * A detached binary v4 signature (one signature packet) over `data`, which may be a stream of
 * chunks so that a package of any size is signed in bounded memory.
 *
 * The packet is made with openpgp.js's SignaturePacket rather than openpgp.sign(): sign() wraps
 * the data in a literal data packet that tees a stream and keeps the untouched branch in memory,
 * the whole package. SignaturePacket.sign is what sign() calls underneath, with the same
 * subpackets (creation time, issuer key ID, issuer fingerprint, openpgp.js's salt notation).
 */
export async function signDetachedBinary(data: Data, key: SigningKey): Promise<Buffer> {
  const bytes = data instanceof Uint8Array ? data : pullStream(data);
  try {
    const packet = new openpgp.SignaturePacket();
    packet.signatureType = openpgp.enums.signature.binary;
    packet.publicKeyAlgorithm = key.signerPacket.algorithm;
    packet.hashAlgorithm = openpgp.enums.hash.sha256;
    const signing = packet as unknown as SigningPacket;
    await signing.sign(key.signerPacket, { text: null, getBytes: () => bytes }, new Date(), true, FULL_CONFIG());
    // with streamed data, the signature values are computed as the stream is read: wait for them
    signing.params = await signing.params;
    if (signing.signedHashValue !== null && !(signing.signedHashValue instanceof Uint8Array)) signing.signedHashValue = await readAll(signing.signedHashValue);
    const list = new openpgp.PacketList<openpgp.SignaturePacket>();
    list.push(packet);
    const written = list.write() as Uint8Array | ReadableStream<Uint8Array>;
    const sig = Buffer.from(written instanceof Uint8Array ? written : await readAll(written));
    checkSignature(sig, key);
    return sig;
  } catch (e) {
    if (e instanceof KpkgError) throw e;
    throw new KpkgError('SIGN', `signing with key ${key.keyId} from ${key.source} failed: ${(e as Error).message}`, { cause: e });
  }
}

/** A detached, armored signature over `data`: what `repodata/repomd.xml.asc` holds. */
export async function signDetached(data: Uint8Array | string, key: SigningKey): Promise<string> {
  const bin = await signDetachedBinary(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, key);
  const sig = await openpgp.readSignature({ binarySignature: bin });
  return sig.armor();
}

/**
 * A web stream that reads `data` only when openpgp.js asks for more: memory stays bounded
 * (Readable.toWeb on Node 20 reads ahead without limit).
 */
function pullStream(data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = Symbol.asyncIterator in data ? data[Symbol.asyncIterator]() : (data)[Symbol.iterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await it.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await it.return?.();
      },
    },
    { highWaterMark: 1 },
  );
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** What rpm needs of the packet we are about to write; a failure here is our bug, not the user's. */
function checkSignature(sig: Buffer, key: SigningKey): SignatureInfo {
  const info = parseSignaturePacket(sig);
  const problems: string[] = [];
  if (info.version !== 4) problems.push(`version ${info.version}, expected 4`);
  if (info.hashAlgorithm === 1 || info.hashAlgorithm === 2 || info.hashAlgorithm === 3) problems.push(`weak hash algorithm ${info.hashAlgorithm}`);
  if (info.criticalSubpackets.some((t) => t !== 2)) problems.push(`critical subpackets ${info.criticalSubpackets.join(',')}`);
  if (info.issuerKeyId !== key.keyId) problems.push(`issuer ${info.issuerKeyId}, expected ${key.keyId}`);
  if (problems.length) throw new KpkgError('SIGN', `the signature made with key ${key.keyId} is not one rpm accepts: ${problems.join('; ')}`);
  return info;
}
