/**
 * Payload compressors: an RPM payload is one cpio archive compressed as a whole. Streams only, so
 * memory stays bounded whatever the size of the package.
 *
 * Backends, chosen at run time (zstd.ts, xz.ts):
 *   gzip  node:zlib.
 *   zstd  node:zlib where it has zstd (Node >= 22.15 / 23.8); otherwise @bokuweb/zstd-wasm (WASM,
 *         compression, as independent frames of FRAME_SIZE bytes) and fzstd (pure JS,
 *         decompression). Both are plain npm dependencies with no install script.
 *   xz    lzma-native (N-API; prebuilt for the common platforms inside its npm tarball), an
 *         OPTIONAL dependency loaded on first use: gzip, the default, never depends on it.
 *
 * What rpm writes and reads (rpm 4.18, checked against its source and rpmbuild on this machine):
 *   - build/pack.c maps `%_binary_payload` w<flags>.<io> to RPMTAG_PAYLOADCOMPRESSOR gzdio->gzip,
 *     zstdio->zstd, xzdio->xz, lzdio->lzma, bzdio->bzip2, and writes NO compressor tag for ufdio
 *     (uncompressed). RPMTAG_PAYLOADFLAGS is the <flags> text: w9.gzdio -> "9", w19.zstdio -> "19",
 *     w2.xzdio -> "2", w.ufdio -> "".
 *   - lib/rpmte.c (and rpm2cpio, rpm2archive) read an absent compressor tag as "gzip"; zlib's
 *     transparent mode then reads an uncompressed payload as is. An unknown name such as
 *     "identity" only works by accident in 4.18 (Fdopen returns the raw fd) and fails in rpm 6
 *     (Fdopen returns NULL), so 'none' must omit the tag.
 */
import { PassThrough, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import { KpkgError } from '../errors.js';
import { reportCorruption, ZLIB_CHUNK } from './compress-common.js';
import { checkAlgo, resolveLevel, type Compression, type PayloadCompression } from './payload-compression.js';
import { LzmaTransform, loadLzma, XZ_MEMLIMIT } from './xz.js';
import { createJsZstdDecompressor, createNativeZstdDecompressor, createWasmZstdCompressor, loadFzstd, loadZstdWasm, nativeZstd } from './zstd.js';

// the names, levels and detection of compressions, with the streams that make them
export * from './payload-compression.js';
export { createJsZstdDecompressor, createWasmZstdCompressor, ZstdFrameScanner } from './zstd.js';

/**
 * A stream that compresses a payload. Throws KpkgError('INVALID_INPUT') at once for an unknown
 * algorithm or a bad level; an xz compressor without lzma-native fails with the same code as an
 * 'error' event before consuming anything (call assertCompressionAvailable to know earlier).
 */
export function createCompressor(algo: Compression, level?: number): Transform {
  const resolved = resolveLevel(algo, level);
  switch (algo) {
    case 'gzip':
      // header: no name, mtime 0, OS 3 (Unix): the same bytes for the same input
      return zlib.createGzip({ level: resolved as number, chunkSize: ZLIB_CHUNK });
    case 'zstd': {
      const native = nativeZstd();
      if (native) {
        return native.createZstdCompress({
          chunkSize: ZLIB_CHUNK,
          params: { [native.constants.ZSTD_c_compressionLevel]: resolved as number },
        });
      }
      return createWasmZstdCompressor(resolved);
    }
    case 'xz':
      return new LzmaTransform('xz', false, async () => {
        const lzma = await loadLzma('compression');
        const stream = new lzma.Stream();
        // easyEncoder_ directly: lzma-native's easyEncoder() turns preset 0 into its default.
        // CRC64 is xz's own default check (rpm writes SHA-256); every xz reader knows both.
        stream.easyEncoder_(resolved as number, lzma.CHECK_CRC64);
        return stream.getStream({});
      });
    case 'none':
      return new PassThrough();
  }
}

/**
 * A stream that decompresses a payload. Corrupt or truncated input ends in an 'error' event with a
 * FormatError naming the algorithm and the count of compressed bytes handed to the decoder before
 * the failure (an offset into the payload, exact to one input chunk).
 */
export function createDecompressor(algo: PayloadCompression): Transform {
  switch (algo) {
    case 'gzip':
      return reportCorruption(zlib.createGunzip({ chunkSize: ZLIB_CHUNK }), 'gzip');
    case 'zstd': {
      const native = nativeZstd();
      return native ? createNativeZstdDecompressor(native) : createJsZstdDecompressor();
    }
    case 'xz':
    case 'lzma':
      // the auto decoder reads .xz and .lzma alike, and concatenated .xz streams
      return new LzmaTransform(algo, true, async () => {
        const lzma = await loadLzma('decompression', algo);
        return lzma.createStream('autoDecoder', { memlimit: XZ_MEMLIMIT });
      });
    case 'bzip2':
      throw new KpkgError('INVALID_INPUT', 'bzip2 payloads are not supported (rpmbuild has not written them by default since rpm 4.4)');
    case 'none':
      return new PassThrough();
    default:
      throw new KpkgError('INVALID_INPUT', `unknown payload compression ${JSON.stringify(algo)}`);
  }
}

/**
 * Resolves when `algo` can be used in that direction here, else rejects with the KpkgError the
 * stream would emit: lets a command fail before it writes anything.
 */
export async function assertCompressionAvailable(algo: PayloadCompression, direction: 'compression' | 'decompression' = 'compression'): Promise<void> {
  switch (algo) {
    case 'zstd':
      if (nativeZstd()) return;
      if (direction === 'compression') await loadZstdWasm();
      else await loadFzstd();
      return;
    case 'xz':
    case 'lzma':
      await loadLzma(direction, algo);
      return;
    case 'bzip2':
      createDecompressor('bzip2'); // throws
      return;
    default:
      if (direction === 'compression') checkAlgo(algo);
  }
}
