// A package whose header names a path: `kpkg publish` builds the file name in the repository from
// the NAME, VERSION, RELEASE and ARCH of the header, which anyone can write (digests are no
// signature: the attacker recomputes them, and `rpm -K` says "digests OK"). Such a package is
// refused (BAD_PACKAGE, exit 2) and nothing is written, inside the repository or outside it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCandidate } from '../../../packager/repo/read.js';
import { readRpm } from '../../../packager/rpm/reader.js';
import { writeRpm } from '../../../packager/rpm/writer.js';
import { kpkg } from '../../helpers/cli.js';
import { listFiles, scratch } from '../../helpers/files.js';

const { fresh } = scratch('publish-hostile-name');

type Field = 'name' | 'version' | 'release' | 'arch';

/**
 * A package whose `field` is `value` in its header, its digests (SHA-256 and SHA-1 of the header,
 * MD5 of header and payload) made again over the changed header, as an attacker would: written
 * by our writer with a placeholder of the same length, then patched.
 */
async function hostilePackage(dir: string, field: Field, value: string): Promise<string> {
  const placeholder = `z${'q'.repeat(value.length - 1)}`;
  const spec = { name: 'victim', version: '1.0', release: '1', arch: 'noarch', [field]: placeholder };
  const path = join(dir, `${field}.rpm`);
  await writeRpm({ ...spec, summary: 's', description: 'd', license: 'MIT', files: [{ path: '/opt/victim/README', kind: 'file', content: 'x\n' }] }, path, { sourceDateEpoch: 1_700_000_000 });
  const bytes = readFileSync(path);
  const { headerOffset, payloadOffset } = await readRpm(path);
  const digests = () => ({
    sha256: Buffer.from(createHash('sha256').update(bytes.subarray(headerOffset, payloadOffset)).digest('hex')),
    sha1: Buffer.from(createHash('sha1').update(bytes.subarray(headerOffset, payloadOffset)).digest('hex')),
    md5: createHash('md5').update(bytes.subarray(headerOffset)).digest(),
  });
  const before = digests();
  const at = bytes.indexOf(Buffer.from(`${placeholder}\0`), headerOffset);
  expect(at).toBeGreaterThan(0);
  bytes.write(value, at, 'latin1');
  const after = digests();
  for (const k of ['sha256', 'sha1', 'md5'] as const) {
    const i = bytes.indexOf(before[k]);
    expect(i, k).toBeGreaterThan(0);
    expect(i, k).toBeLessThan(headerOffset); // in the signature header
    after[k].copy(bytes, i);
  }
  writeFileSync(path, bytes);
  return path;
}

describe('kpkg publish of a package whose header names a path', () => {
  const cases: [Field, string, RegExp][] = [
    ['name', 'x/../../../../../../../../escaped', /its name "x\/\.\.\/.*" cannot be part of a file name \(it holds a \/ or NUL\)/],
    ['version', '1/../../../../escaped', /its version "1\/\.\..*" cannot be part of a file name/],
    ['release', '1/../../escaped', /its release ".*" cannot be part of a file name/],
    ['arch', 'noarch/../../x', /its arch ".*" cannot be part of a file name/],
    ['name', '.hidden', /its name "\.hidden" starts with a dot/],
  ];
  for (const [field, value, message] of cases) {
    it(`${field} ${JSON.stringify(value)}: refused, exit 2, nothing written`, async () => {
      const dir = fresh('case');
      const pkgs = join(dir, 'in');
      mkdirSync(pkgs);
      const rpm = await hostilePackage(pkgs, field, value);
      // the package is otherwise sound: what refuses it is the name it would be given
      const probe = await readCandidate(rpm).catch((e: unknown) => e as Error);
      expect(probe).toBeInstanceOf(Error);
      expect((probe as Error).message).toMatch(message);
      expect((probe as Error).message).not.toMatch(/digest|corrupted/);
      const before = listFiles(dir);
      const repo = join(dir, 'a', 'b', 'c', 'repo');
      const r = await kpkg('publish', rpm, '--repo', repo, '-q');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^kpkg: ${rpm.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
      expect(r.stderr).toMatch(message);
      expect(listFiles(dir)).toEqual(before);
      expect(existsSync(join(dir, 'escaped'))).toBe(false);
    });
  }
});
