/**
 * The payload: the cpio archive of the files, streamed in blocks to a compressor and on to a spool
 * file, with the digests and sizes the headers need.
 */
import { createHash, hash as hashOnce, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { KpkgError, ioError } from '../errors.js';
import { readFully } from '../util/fs.js';
import { type Compression, createCompressor, resolveLevel } from './compress.js';
import { encodeNewcHeader, encodeStrippedHeader, encodeTrailer, pad4 } from './cpio.js';
import type { FileRecord } from './file-records.js';
import type { PayloadProgress } from './spec.js';
import { PAYLOAD_BLOCK, parallelGzip, streamCompressor } from './payload-compressor.js';

const READ_CHUNK = 1 << 20;

const ZEROS = Buffer.alloc(4);

export interface PayloadResult {
  archiveSize: number;
  compressedSize: number;
  /** SHA-256 of the compressed payload (PAYLOADDIGEST) */
  digest: string;
  /** SHA-256 of the uncompressed archive (PAYLOADDIGESTALT) */
  altDigest: string;
}

/** The block of archive being filled for the compressor. */
interface PayloadOut {
  block: Buffer;
  used: number;
  /** Appends a chunk (copied unless it fills blocks by itself: the caller must not change it). */
  push(chunk: Buffer): Promise<void>;
  /** Copies a small chunk in when it fits without a flush (true), else does nothing (false). */
  append(chunk: Buffer): boolean;
  /** Hands the current block to the compressor. */
  flush(): Promise<void>;
}

export async function writePayload(
  records: FileRecord[],
  spoolPath: string,
  compression: Compression,
  level: number | undefined,
  large: boolean,
  onProgress?: (p: PayloadProgress) => void,
): Promise<PayloadResult> {
  const compressor =
    compression === 'gzip' ? await parallelGzip(resolveLevel('gzip', level) as number, spoolPath) : streamCompressor(createCompressor(compression, level), spoolPath);
  const alt = createHash('sha256');
  let archiveSize = 0;
  const writeBlock = async (block: Buffer) => {
    alt.update(block);
    archiveSize += block.length;
    await compressor.write(block);
  };
  // The archive reaches the compressor in blocks of PAYLOAD_BLOCK: a tree of small files makes
  // thousands of headers, paddings and bodies of a few hundred bytes, and each write to a zlib
  // stream is a thread-pool round trip. Small bodies are read straight into the block.
  const out: PayloadOut = {
    block: Buffer.allocUnsafe(PAYLOAD_BLOCK),
    used: 0,
    append(chunk) {
      if (chunk.length > out.block.length - out.used) return false;
      chunk.copy(out.block, out.used);
      out.used += chunk.length;
      return true;
    },
    async push(chunk) {
      if (out.append(chunk)) return;
      await out.flush();
      if (chunk.length >= PAYLOAD_BLOCK) return writeBlock(chunk);
      out.append(chunk);
    },
    async flush() {
      if (out.used === 0) return;
      const full = out.block.subarray(0, out.used);
      out.block = Buffer.allocUnsafe(PAYLOAD_BLOCK); // the compressor keeps `full` for a while
      out.used = 0;
      await writeBlock(full);
    },
  };

  const totalFiles = records.length;
  const totalBytes = onProgress ? records.reduce((n, r) => n + (r.file.kind === 'file' && !r.file.ghost ? r.size : 0), 0) : 0;
  let bytes = 0;
  try {
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as FileRecord;
      if (r.file.ghost) continue; // %ghost files are recorded in the header only
      const body = r.file.kind === 'file' ? r.size : r.file.kind === 'symlink' ? r.size : 0;
      const head = large
        ? encodeStrippedHeader(i)
        : encodeNewcHeader({
            name: `.${r.file.path}`,
            ino: i + 1,
            mode: r.mode,
            uid: 0,
            gid: 0,
            nlink: r.file.kind === 'dir' ? 2 : 1,
            mtime: r.mtime,
            size: body,
            devMajor: 0,
            devMinor: 0,
            rdevMajor: 0,
            rdevMinor: 0,
          });
      // headers and paddings: thousands of small chunks, copied in without a promise each
      if (!out.append(head)) await out.push(head);
      if (r.file.kind === 'file') {
        r.digest = await streamBody(r, out);
      } else if (r.file.kind === 'symlink') {
        await out.push(Buffer.from(r.linkTo, 'utf8'));
      }
      const padding = pad4(body);
      if (padding && !out.append(ZEROS.subarray(0, padding))) await out.push(ZEROS.subarray(0, padding));
      if (onProgress) {
        if (r.file.kind === 'file') bytes += r.size;
        onProgress({ files: i + 1, totalFiles, bytes, totalBytes });
      }
    }
    await out.push(encodeTrailer());
    await out.flush();
    const compressed = await compressor.end();
    return { archiveSize, compressedSize: compressed.size, digest: compressed.digest, altDigest: alt.digest('hex') };
  } catch (e) {
    await compressor.destroy();
    throw e;
  }
}

/** Copies one regular file into the archive and returns its SHA-256. */
async function streamBody(r: FileRecord, out: PayloadOut): Promise<string> {
  const { file } = r;
  if (file.content !== undefined) {
    const data = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
    await out.push(data);
    return hashOnce('sha256', data, 'hex');
  }
  const source = file.source as string;
  let fd: number;
  try {
    fd = openSync(source, 'r');
  } catch (e) {
    throw ioError('read', source, e);
  }
  try {
    if (fstatSync(fd).size !== r.size) {
      throw new KpkgError('IO', `file ${source} changed size while it was being packaged`);
    }
    if (r.size > 0 && r.size <= out.block.length - out.used) {
      // most files: the whole body read into the block, hashed in one call
      const at = out.used;
      let n: number;
      try {
        n = readFully(fd, out.block, at, r.size, null);
      } catch (e) {
        throw ioError('read', source, e);
      }
      if (n < r.size) throw new KpkgError('IO', `file ${source} shrank while it was being packaged`);
      out.used += r.size;
      return hashOnce('sha256', out.block.subarray(at, at + r.size), 'hex');
    }
    const hash: Hash = createHash('sha256');
    let remaining = r.size;
    while (remaining > 0) {
      // Small bodies are read into the free end of the block (handed on when full); big ones,
      // READ_CHUNK at a time, each into a buffer of its own that becomes a block as it is.
      const free = out.block.length - out.used;
      if (free === 0 || (out.used > 0 && remaining > free && remaining >= READ_CHUNK)) await out.flush();
      const direct = out.used === 0 && remaining >= READ_CHUNK;
      const target = direct ? Buffer.allocUnsafe(READ_CHUNK) : out.block;
      const at = direct ? 0 : out.used;
      let n: number;
      try {
        n = readSync(fd, target, at, Math.min(remaining, target.length - at), null);
      } catch (e) {
        throw ioError('read', source, e);
      }
      if (n === 0) throw new KpkgError('IO', `file ${source} shrank while it was being packaged`);
      const data = target.subarray(at, at + n);
      hash.update(data);
      if (direct) await out.push(data);
      else out.used += n;
      remaining -= n;
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}
