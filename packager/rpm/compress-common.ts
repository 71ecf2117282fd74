/** What the compression backends (compress.ts, zstd.ts, xz.ts) share: chunk size, error mapping. */
import { Transform } from 'node:stream';
import { FormatError, KpkgError } from '../errors.js';

// Output chunks of zlib streams: 256 KiB measured 5-10% faster than zlib's 16 KiB default at
// level 5 (fewer round trips to the thread pool). memLevel 9 and Z_FILTERED were no faster and
// produced larger output, so zlib's defaults (memLevel 8, Z_DEFAULT_STRATEGY) stay.
export const ZLIB_CHUNK = 256 * 1024;



export function corrupt(algo: string, offset: number, cause: unknown): FormatError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new FormatError(`${algo} payload`, offset, `corrupt or truncated compressed data (${reason})`, { cause });
}

export function failure(algo: string, cause: unknown): KpkgError {
  if (cause instanceof KpkgError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new KpkgError('INTERNAL', `${algo} compression failed (${reason})`, { cause });
}

/**
 * node:zlib reports bad data by destroying the stream with a Z_* or ZSTD_* coded error: turn
 * those into FormatErrors. Errors passed in from outside (pipeline() destroying every stream with
 * the first failure) go through untouched.
 */
export function reportCorruption<T extends Transform & { bytesWritten: number }>(stream: T, algo: string): T {
  const destroy = stream.destroy.bind(stream);
  stream.destroy = (error?: Error) => {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const ours = typeof code === 'string' && /^(Z_|ZSTD_)/.test(code);
    return destroy(ours ? corrupt(algo, stream.bytesWritten, error) : error);
  };
  return stream;
}

/**
 * _read of a decoder whose _transform stops between pieces of a write while its output is full
 * (`pendingStep`): resume it, and once the write is done let Transform release the next one. The
 * release matters when the resumed step pushed nothing: Readable calls _read again only after a
 * push, and Transform holds back a write's callback while the output is full.
 */
export function resume(stream: Transform & { pendingStep: (() => void) | undefined }, size: number): void {
  const step = stream.pendingStep;
  stream.pendingStep = undefined;
  step?.();
  if (!stream.pendingStep) Transform.prototype._read.call(stream, size);
}
