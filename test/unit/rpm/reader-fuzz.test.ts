import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe as group, expect, it } from 'vitest';
import { KpkgError } from '../../../packager/errors.js';
import { bufferSource, describe, readRpmFrom, verifyDigests, walkPayload } from '../../../packager/rpm/reader.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'rpmbuild');
const packages = ['hello-1.2.3-1.noarch.rpm', 'world-0.4.0-3.noarch.rpm', 'unicode-names-0.9.0~rc.1-1.noarch.rpm'].map((f) => readFileSync(join(fixtures, f)));

/** Everything the reader does with a package: headers, model, digests, payload walk. */
async function readAll(bytes: Buffer): Promise<void> {
  const src = bufferSource(bytes);
  const pkg = await readRpmFrom(src);
  const info = describe(pkg);
  await verifyDigests(pkg, src);
  for await (const ev of walkPayload(src, pkg, info.files)) void ev;
}

/** A damaged package must end in a KpkgError (bad package, naming where) or be read: nothing else. */
async function expectCleanOutcome(bytes: Buffer): Promise<void> {
  try {
    await readAll(bytes);
  } catch (e) {
    if (!(e instanceof KpkgError)) throw new Error(`not a clean error: ${String(e)}`, { cause: e });
    expect(e.code).toBe('BAD_PACKAGE');
  }
}

group('the reader on damaged packages', () => {
  it('reads the intact fixtures', async () => {
    for (const p of packages) await readAll(p);
  });

  it('ends every truncation in a clean error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(packages.length - 1), fc.double({ min: 0, max: 1, noNaN: true }), async (which, at) => {
        const p = packages[which] as Buffer;
        await expectCleanOutcome(p.subarray(0, Math.floor(at * (p.length - 1))));
      }),
      { numRuns: 300 },
    );
  });

  it('ends every bit flip and overwritten count or offset in a clean outcome', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(packages.length - 1), fc.nat(), fc.integer({ min: 0, max: 7 }), fc.constantFrom(0, 0xff, 0x7f), async (which, pos, bit, fill) => {
        const copy = Buffer.from(packages[which] as Buffer);
        const at = pos % copy.length;
        copy[at] = (copy[at] as number) ^ (1 << bit);
        // and a 4-byte field (a count, an offset, a length) turned huge or negative
        const word = (pos * 7) % (copy.length - 4);
        copy.fill(fill, word, word + 4);
        await expectCleanOutcome(copy);
      }),
      { numRuns: 300 },
    );
  });
});
