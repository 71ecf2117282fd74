/** Feeding a stream in pieces and collecting what comes out: shared by the compression tests. */
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** `data` in pieces of `size` bytes (the last one shorter). */
export function* slices(data: Buffer, size: number): Generator<Buffer> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}

/** Runs `data` through `stream` in writes of `chunkSize` bytes and returns the output. */
export async function through(stream: Transform, data: Buffer, chunkSize = 64 * 1024): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(slices(data, chunkSize)),
    stream,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}
