/**
 * Writes an RPM v4 package, streaming: file bodies go through the cpio encoder and the compressor
 * into a spool file next to the output, never held whole in memory; the headers, which must come
 * before the payload but describe it (digests, sizes), are assembled afterwards.
 *
 * The parts, one job each: spec.ts (what a package is, and its checks), file-records.ts (the files
 * as the header records them), payload.ts and payload-compressor.ts (the archive, streamed and
 * compressed), package-header.ts (which tags a package gets: the policy); the byte formats live in
 * header.ts, lead.ts and cpio.ts. This file puts them in order: lead, signature header, header,
 * payload.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KpkgError, ioError } from '../errors.js';
import { writeAll } from '../util/fs.js';
import { NEWC_MAX_SIZE } from './cpio.js';
import { collectFiles } from './file-records.js';
import { encodeLead } from './lead.js';
import { buildHeader, signatureHeader } from './package-header.js';
import { type PayloadResult, writePayload } from './payload.js';
import { nevraOf, sourceDateEpochFromEnv, validateSpec, type PackageSpec, type WriteOptions, type WrittenPackage } from './spec.js';
import { Tag } from './tags.js';

/**
 * Writes `spec` as an RPM file at `outPath`, atomically: the file appears complete or not at all.
 */
export async function writeRpm(spec: PackageSpec, outPath: string, options: WriteOptions = {}): Promise<WrittenPackage> {
  validateSpec(spec);
  const epoch = options.sourceDateEpoch ?? sourceDateEpochFromEnv();
  const compression = options.compression ?? 'gzip';
  const records = await collectFiles(spec.files, epoch);
  const threshold = Math.min(options.largeFileThreshold ?? NEWC_MAX_SIZE, NEWC_MAX_SIZE);
  const large = records.some((r) => r.size >= threshold);

  const outDir = dirname(outPath);
  await mkdir(outDir, { recursive: true }).catch((e: unknown) => {
    throw ioError('create directory', outDir, e);
  });
  const tag = `.${basename(outPath)}.${process.pid}.${Date.now().toString(36)}`;
  const spoolPath = join(outDir, `${tag}.payload`);
  const tmpPath = join(outDir, `${tag}.tmp`);
  try {
    const payload = await writePayload(records, spoolPath, compression, options.level, large, options.onProgress);
    const header = buildHeader(spec, records, payload, compression, options.level, epoch, large);
    const headerBytes = header.encode(Tag.HEADERIMMUTABLE);
    const written = await assemble(spec, headerBytes, payload, spoolPath, tmpPath);
    await rename(tmpPath, outPath).catch((e: unknown) => {
      throw ioError('rename to', outPath, e);
    });
    return {
      path: outPath,
      fileName: basename(outPath),
      size: written.size,
      nevra: nevraOf(spec),
      payloadSize: payload.compressedSize,
      archiveSize: payload.archiveSize,
    };
  } finally {
    await rm(spoolPath, { force: true });
    await rm(tmpPath, { force: true });
  }
}

async function assemble(spec: PackageSpec, headerBytes: Buffer, payload: PayloadResult, spoolPath: string, tmpPath: string): Promise<{ size: number }> {
  const lead = encodeLead(`${spec.name}-${spec.version}-${spec.release}`, spec.arch ?? 'noarch');
  // The MD5 covers header + payload, so it is known only after the copy; the signature header
  // has a fixed size whatever the digest bytes, so a placeholder is written and overwritten.
  const placeholder = signatureHeader(headerBytes, payload, Buffer.alloc(16));
  const md5 = createHash('md5').update(headerBytes);
  let out;
  let finalSize: number;
  try {
    out = await open(tmpPath, 'w', 0o644);
  } catch (e) {
    throw ioError('create', tmpPath, e);
  }
  try {
    let pos = 0;
    const write = async (b: Buffer) => {
      await writeAll(out, b, pos);
      pos += b.length;
    };
    await write(lead);
    await write(placeholder);
    await write(headerBytes);
    const spool = await open(spoolPath, 'r');
    try {
      const buf = Buffer.allocUnsafe(4 << 20);
      for (;;) {
        const { bytesRead } = await spool.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        const chunk = buf.subarray(0, bytesRead);
        md5.update(chunk);
        await write(chunk);
      }
    } finally {
      await spool.close();
    }
    const sig = signatureHeader(headerBytes, payload, md5.digest());
    await writeAll(out, sig, lead.length);
    await out.sync();
    await out.close();
    finalSize = pos;
  } catch (e) {
    await out.close().catch(() => undefined);
    throw e instanceof KpkgError ? e : ioError('write', tmpPath, e);
  }
  return { size: finalSize };
}
