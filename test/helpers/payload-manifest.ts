import { createHash } from 'node:crypto';
import { readPayload } from '../../packager/rpm/payload-reader.js';
import { type RpmPackage } from '../../packager/rpm/reader.js';

/** Every payload member with the SHA-256 of its body: what the tests compare packages by. */
export async function payloadManifest(pkg: RpmPackage): Promise<{ path: string; mode: number; size: number; sha256: string }[]> {
  const out: { path: string; mode: number; size: number; sha256: string }[] = [];
  let current: { path: string; mode: number; size: number; hash: ReturnType<typeof createHash> } | undefined;
  const flush = () => {
    if (current) out.push({ path: current.path, mode: current.mode, size: current.size, sha256: current.hash.digest('hex') });
    current = undefined;
  };
  for await (const ev of readPayload(pkg)) {
    if (ev.type === 'entry') {
      flush();
      current = { path: ev.path, mode: ev.mode, size: ev.size, hash: createHash('sha256') };
    } else if (ev.type === 'data') {
      current?.hash.update(ev.chunk);
    } else {
      flush();
    }
  }
  return out;
}
