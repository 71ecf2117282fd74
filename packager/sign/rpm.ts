/**
 * Signs an RPM in place: a header signature (RSAHEADER 268 or DSAHEADER 267, what rpm >= 4.14
 * checks) and a header+payload signature (SIGPGP 1002 or SIGGPG 1005, what `rpmsign --rpmv3` adds
 * for older rpm), both replacing earlier signatures. The digests already in the signature header
 * are kept; the main header and the payload are copied byte for byte, so their digests stay valid.
 *
 * The file is rewritten atomically: a temporary file in the same directory, fsync, rename. If the
 * package carries RESERVEDSPACE (rpmbuild leaves some), it is shrunk as rpmsign does so that the
 * signed package keeps its size.
 */
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KpkgError, ioError } from '../errors.js';
import { Header, padSignatureHeader } from '../rpm/header.js';
import { fileSource, readRpmFrom, type ByteSource } from '../rpm/reader.js';
import { SigTag, Tag, TagType } from '../rpm/tags.js';
import { fsyncDir, tempName, writeAll } from '../util/fs.js';
import { signDetachedBinary, type SigningKey } from './openpgp.js';

export interface SignResult {
  file: string;
  keyId: string;
  algorithm: SigningKey['algorithm'];
  /** signed by a subkey, the primary key being unable to sign */
  subkey: boolean;
  /** signature tags written */
  tags: number[];
  /** file size before and after */
  sizeBefore: number;
  size: number;
}

const REPLACED: readonly number[] = [SigTag.DSA, SigTag.RSA, SigTag.PGP, SigTag.GPG, SigTag.OPENPGP, SigTag.RESERVEDSPACE];
const CHUNK = 1 << 20;
const INDEX_ENTRY_SIZE = 16;

/**
 * Signs the package at `path` with `key`, replacing any signature it had; the signed package is
 * written to `out` (default: in place).
 */
export async function signRpm(path: string, key: SigningKey, out = path): Promise<SignResult> {
  const src = await fileSource(path);
  let sigHeader: Buffer;
  let lead: Buffer;
  let headerOffset: number;
  let sizeBefore: number;
  try {
    const pkg = await readRpmFrom(src, path);
    headerOffset = pkg.headerOffset;
    sizeBefore = src.size;
    lead = await src.read(0, pkg.signatureOffset, 'lead');
    const headerSig = await signDetachedBinary(pkg.headerBytes, key);
    const fullSig = await signDetachedBinary(chunks(src, pkg.headerOffset), key);
    const headerTag = key.algorithm === 'RSA' ? SigTag.RSA : SigTag.DSA;
    const fullTag = key.algorithm === 'RSA' ? SigTag.PGP : SigTag.GPG;
    sigHeader = buildSignatureHeader(pkg.signature, [
      [headerTag, headerSig],
      [fullTag, fullSig],
    ], pkg.headerOffset - pkg.signatureOffset);
  } finally {
    await src.close();
  }
  const size = await rewrite(path, out, lead, sigHeader, headerOffset);
  return { file: out, keyId: key.keyId, algorithm: key.algorithm, subkey: key.subkey, tags: key.algorithm === 'RSA' ? [SigTag.RSA, SigTag.PGP] : [SigTag.DSA, SigTag.GPG], sizeBefore, size };
}

/**
 * The new signature header, padded to 8 bytes: the old entries but the signatures, plus
 * `signatures`. When the old header had RESERVEDSPACE, it is resized so that the new header takes
 * `oldSize` bytes again, if it fits.
 */
export function buildSignatureHeader(old: Header, signatures: [number, Buffer][], oldSize: number): Buffer {
  const sig = new Header();
  for (const e of old.list()) {
    if (!REPLACED.includes(e.tag)) sig.set(e.tag, e.type, e.value);
  }
  for (const [tag, bytes] of signatures) sig.set(tag, TagType.BIN, bytes);
  let bytes = sig.encode(Tag.HEADERSIGNATURES);
  if (old.has(SigTag.RESERVEDSPACE)) {
    const room = oldSize - bytes.length - INDEX_ENTRY_SIZE;
    if (room > 0) {
      const withReserve = new Header();
      for (const e of sig.list()) withReserve.set(e.tag, e.type, e.value);
      withReserve.set(SigTag.RESERVEDSPACE, TagType.BIN, Buffer.alloc(room));
      const candidate = withReserve.encode(Tag.HEADERSIGNATURES);
      if (candidate.length === oldSize) bytes = candidate;
    }
  }
  return padSignatureHeader(bytes);
}

async function* chunks(src: ByteSource, from: number): AsyncGenerator<Buffer> {
  for (let pos = from; pos < src.size; pos += CHUNK) {
    yield await src.read(pos, Math.min(CHUNK, src.size - pos), 'payload');
  }
}

/** lead + new signature header + the bytes of `path` from `headerOffset` on, then rename to `target`. */
async function rewrite(path: string, target: string, lead: Buffer, sigHeader: Buffer, headerOffset: number): Promise<number> {
  const dir = dirname(target);
  const tmp = tempName(target);
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o7777;
  } catch (e) {
    throw ioError('stat', path, e);
  }
  let input: FileHandle | undefined;
  let out: FileHandle | undefined;
  try {
    try {
      input = await open(path, 'r');
      out = await open(tmp, 'wx', mode);
    } catch (e) {
      throw ioError(input ? 'create' : 'open', input ? tmp : path, e);
    }
    let pos = 0;
    const output = out;
    const write = async (b: Buffer) => {
      await writeAll(output, b, pos);
      pos += b.length;
    };
    await write(lead);
    await write(sigHeader);
    const buf = Buffer.allocUnsafe(CHUNK);
    let readPos = headerOffset;
    for (;;) {
      const { bytesRead } = await input.read(buf, 0, buf.length, readPos);
      if (bytesRead === 0) break;
      readPos += bytesRead;
      await write(buf.subarray(0, bytesRead));
    }
    await out.chmod(mode);
    await out.sync();
    await out.close();
    out = undefined;
    await input.close();
    input = undefined;
    await rename(tmp, target).catch((e: unknown) => {
      throw ioError('rename', `${tmp} to ${target}`, e);
    });
    await fsyncDir(dir);
    return pos;
  } catch (e) {
    await out?.close().catch(() => undefined);
    await input?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e instanceof KpkgError ? e : ioError('write', tmp, e);
  }
}
