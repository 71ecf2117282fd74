/**
 * Geppetto's cryptography, all from node:crypto: the secrets key file, AES-256-GCM for secrets
 * and for files that carry them, scrypt for passwords, random tokens stored as their SHA-256.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KpkgError, ioError } from '../../packager/errors.js';

export const KEY_FILE = 'secrets.key';
const KEY_BYTES = 32;

/**
 * The secrets key: 32 random bytes in `<dataDir>/secrets.key`, made at first start with mode 0600
 * (O_EXCL: two processes starting at once cannot both write one). A key file that group or others
 * can read is refused: whoever reads it reads every secret.
 */
export function loadOrCreateKey(dataDir: string): Buffer {
  const path = join(dataDir, KEY_FILE);
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw ioError('create', dataDir, err);
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      writeSync(fd, randomBytes(KEY_BYTES));
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('create', path, err);
  }
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw ioError('open', path, err);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new KpkgError('INVALID_INPUT', `${path}: not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new KpkgError('INVALID_INPUT', `${path}: mode ${(st.mode & 0o777).toString(8).padStart(4, '0')} lets others read the secrets key; chmod 600 it`);
    }
    const key = Buffer.alloc(KEY_BYTES + 1);
    const n = readSync(fd, key, 0, key.length, 0);
    if (n !== KEY_BYTES) throw new KpkgError('INVALID_INPUT', `${path}: expected ${KEY_BYTES} bytes, found ${n}`);
    return key.subarray(0, KEY_BYTES);
  } finally {
    closeSync(fd);
  }
}

export interface Sealed {
  /** base64 of the 12-byte GCM nonce */
  nonce: string;
  /** base64 of ciphertext followed by the 16-byte tag */
  ciphertext: string;
}

/** AES-256-GCM with a fresh random nonce; `aad` binds the ciphertext to where it is stored. */
export function seal(key: Buffer, plaintext: Buffer | string, aad: string): Sealed {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce: nonce.toString('base64'), ciphertext: body.toString('base64') };
}

export function open(key: Buffer, sealed: Sealed, aad: string): Buffer {
  const nonce = Buffer.from(sealed.nonce, 'base64');
  const body = Buffer.from(sealed.ciphertext, 'base64');
  if (nonce.length !== 12 || body.length < 16) throw new KpkgError('INVALID_INPUT', `encrypted value for ${aad}: malformed`);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(body.subarray(body.length - 16));
  try {
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
  } catch (err) {
    // a wrong key file, or a row changed behind Geppetto's back
    throw new KpkgError('INVALID_INPUT', `cannot decrypt ${aad}: wrong secrets.key or tampered data`, { cause: err });
  }
}

/** One string for a sealed value: `nonce.ciphertext`. */
export const packSealed = (s: Sealed): string => `${s.nonce}.${s.ciphertext}`;
export function unpackSealed(s: string): Sealed {
  const dot = s.indexOf('.');
  return { nonce: s.slice(0, dot), ciphertext: s.slice(dot + 1) };
}

/**
 * A keyed hash (HMAC-SHA256, key derived from the secrets key): file hashes and ETags cover
 * secret values, and a plain SHA-256 stored beside them would let whoever reads the database
 * test guesses of a weak secret offline.
 */
export function keyedHasher(key: Buffer): (data: string | Buffer) => string {
  const macKey = createHmac('sha256', key).update('geppetto file hash').digest();
  return (data) => createHmac('sha256', macKey).update(data).digest('base64url');
}

// ---------------------------------------------------------------------------------------------
// passwords: scrypt N=2^17, r=8, p=1 (OWASP's first choice); 128*N*r = 128 MiB, above Node's
// default maxmem of 32 MiB, hence maxmem.

const SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const;
const scryptAsync = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
const maxmem = (o: { N: number; r: number }) => 128 * o.N * o.r + (1 << 20);

/** `scrypt$N$r$p$salt$hash`, salt and hash base64. */
export async function hashPassword(password: string, cost: { N: number; r: number; p: number } = SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password.normalize('NFC'), salt, 32, { ...cost, maxmem: maxmem(cost) });
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const want = Buffer.from(parts[5] ?? '', 'base64');
  if (!(N > 1 && r > 0 && p > 0) || want.length === 0) return false;
  const got = await scryptAsync(password.normalize('NFC'), salt, want.length, { N, r, p, maxmem: maxmem({ N, r }) });
  return timingSafeEqual(got, want);
}

/** A bearer token: `gpt_<id>_<secret>`; the id finds the row, the secret's SHA-256 is stored. */
export function newToken(): { id: string; token: string; hash: string } {
  const id = randomBytes(9).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `gpt_${id}_${secret}`, hash: sha256(secret) };
}

export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = /^gpt_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/.exec(token);
  return m?.[1] !== undefined && m[2] !== undefined ? { id: m[1], secret: m[2] } : undefined;
}

export const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('base64url');

export function equalDigests(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export const randomId = (bytes = 12): string => randomBytes(bytes).toString('base64url');
