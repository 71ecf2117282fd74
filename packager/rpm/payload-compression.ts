/**
 * Payload compressions as names and numbers: the ones kpkg writes and reads, their levels, the
 * header tags rpm expects for each, and how to recognise one from its first bytes. No streams
 * here: compress.ts makes them.
 */
import { KpkgError } from '../errors.js';

/** The compressions kpkg writes. */
export type Compression = 'gzip' | 'zstd' | 'xz' | 'none';
/** What a payload may be compressed with: kpkg's own, plus what older rpmbuilds wrote. */
export type PayloadCompression = Compression | 'lzma' | 'bzip2';

export const COMPRESSIONS: readonly Compression[] = ['gzip', 'zstd', 'xz', 'none'];

/**
 * Default levels. gzip 5: on a 19,877-file node_modules (139 MB of cpio), the package writer.ts
 * writes at level 5 is 35.2 MB, 7.3% more than `tar czf` (32.8 MB; the RPM header adds ~138 bytes
 * per file), where level 4 gives +10.8% and level 6 +6.1%; level 5 takes 0.72x the CPU time of
 * level 6 (1.7 s against 2.4 s; tar czf: 3.5 s). zstd 3 and xz 6 are the defaults of rpm
 * (rpmio.c: zstd level 3, LZMA_PRESET_DEFAULT) and of the zstd and xz tools.
 */
export const DEFAULT_LEVEL: Readonly<Record<Exclude<Compression, 'none'>, number>> = { gzip: 5, zstd: 3, xz: 6 };

/**
 * Accepted levels. zstd stops at 19: 20-22 ("ultra") need 32-128 MiB windows, beyond what fzstd
 * reads (2^25) and what zstd's tool accepts without --ultra.
 */
export const LEVEL_RANGE: Readonly<Record<Exclude<Compression, 'none'>, readonly [number, number]>> = {
  gzip: [0, 9],
  zstd: [1, 19],
  xz: [0, 9],
};

/** Bytes detectCompression needs to tell every format apart. */
export const DETECT_BYTES = 6;

/** zstd frames written by the WASM fallback: independent, concatenated (a valid zstd stream). */
export const FRAME_SIZE = 8 << 20;

export function isCompression(value: string): value is Compression {
  return (COMPRESSIONS as readonly string[]).includes(value);
}

export function checkAlgo(algo: string): asserts algo is Compression {
  if (!isCompression(algo)) {
    throw new KpkgError('INVALID_INPUT', `unknown payload compression ${JSON.stringify(algo)}: expected gzip, zstd, xz or none`);
  }
}

/** The level to use: `level` checked against LEVEL_RANGE, or the default. undefined for 'none'. */
export function resolveLevel(algo: Compression, level?: number): number | undefined {
  checkAlgo(algo);
  if (algo === 'none') return undefined;
  if (level === undefined) return DEFAULT_LEVEL[algo];
  const [min, max] = LEVEL_RANGE[algo];
  if (!Number.isInteger(level) || level < min || level > max) {
    throw new KpkgError('INVALID_INPUT', `${algo} compression level must be an integer from ${min} to ${max}, got ${level}`);
  }
  return level;
}

/**
 * RPMTAG_PAYLOADCOMPRESSOR (1125): the name rpm's Fdopen knows. undefined for 'none': rpmbuild
 * writes no tag for an uncompressed payload, and the writer must omit it too.
 */
export function payloadCompressorName(algo: Compression): string | undefined {
  checkAlgo(algo);
  return algo === 'none' ? undefined : algo;
}

/** RPMTAG_PAYLOADFLAGS (1126): the level as rpmbuild writes it ("9" for w9.gzdio), "" for 'none'. */
export function payloadFlags(algo: Compression, level?: number): string {
  const resolved = resolveLevel(algo, level);
  return resolved === undefined ? '' : String(resolved);
}

/**
 * What the payload really is, from its first bytes (pass DETECT_BYTES or more): a reader trusts
 * this, not the header. Anything without a known magic number is 'none', as rpm itself reads it
 * (zlib's transparent mode); the cpio parser then says whether it is an archive at all.
 */
export function detectCompression(firstBytes: Uint8Array): PayloadCompression {
  const b = firstBytes;
  const starts = (...magic: number[]) => b.length >= magic.length && magic.every((v, i) => b[i] === v);
  if (starts(0x1f, 0x8b)) return 'gzip'; // RFC 1952
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd'; // RFC 8878, frame magic 0xFD2FB528 LE
  // a stream may also begin with a skippable frame, magic 0x184D2A5? LE
  if (b.length >= 4 && (b[0]! & 0xf0) === 0x50 && b[1] === 0x2a && b[2] === 0x4d && b[3] === 0x18) return 'zstd';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz'; // xz-file-format: FD '7zXZ' 00
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2'; // 'BZh'
  // .lzma ("LZMA alone") has no magic: properties byte 0x5D (lc=3 lp=0 pb=2, what every
  // encoder writes) then a little-endian dictionary size, a power of two >= 64 KiB.
  if (starts(0x5d, 0x00, 0x00)) return 'lzma';
  return 'none';
}
