import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modeString } from '../../../packager/cli/commands/inspect.js';
import { kpkg } from '../../helpers/cli.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'rpmbuild');
const work = mkdtempSync(join(tmpdir(), 'kpkg-inspect-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('kpkg inspect', () => {
  it('shows what rpm -qip and -qlvp show for a package made by rpmbuild', async () => {
    const r = await kpkg('inspect', join(fixtures, 'hello-1.2.3-1.noarch.rpm'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Name {8}: hello$/m);
    expect(r.stdout).toMatch(/^Version {5}: 1\.2\.3$/m);
    expect(r.stdout).toMatch(/^Digests {5}: OK$/m);
    expect(r.stdout).toMatch(/^lrwxrwxrwx root +root .* -> hello$/m);
    expect(r.stdout).toContain('(foo >= 1.0 with foo < 2.0)');
  });

  it('prints JSON a script can use', async () => {
    const r = await kpkg('inspect', '--json', join(fixtures, 'unicode-names-0.9.0~rc.1-1.noarch.rpm'));
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { name: string; version: string; files: { path: string }[]; digests: { ok: boolean } };
    expect(info).toMatchObject({ name: 'unicode-names', version: '0.9.0~rc.1', digests: { ok: true } });
    expect(info.files.some((f) => f.path.includes('日本語'))).toBe(true);
  });

  it('exits 2 with one line naming the structure and offset for a file that is not an RPM', async () => {
    const path = join(work, 'not.rpm');
    writeFileSync(path, 'PK\u0003\u0004 this is a zip'.padEnd(200, 'x'));
    const r = await kpkg('inspect', path);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('kpkg: lead at byte 0: expected RPM magic edabeedb, found 504b0304 (not an RPM file)\n');
  });

  it('exits 2 for a truncated package and names where it ends', async () => {
    const bytes = readFileSync(join(fixtures, 'hello-1.2.3-1.noarch.rpm'));
    const path = join(work, 'truncated.rpm');
    writeFileSync(path, bytes.subarray(0, 500));
    const r = await kpkg('inspect', path);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^kpkg: (signature header|header) at byte \d+: .*truncated/);
    expect(r.stderr.split('\n')).toHaveLength(2);
  });

  it('exits 2 for a directory, naming it', async () => {
    const r = await kpkg('inspect', work);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`kpkg: cannot read ${work}: a directory, not a package\n`);
  });

  it('exits 2 for a file that does not exist (bad input, as every command: test/unit/cli/errors.test.ts), and 2 for bad usage', async () => {
    expect((await kpkg('inspect', join(work, 'missing.rpm'))).code).toBe(2);
    expect((await kpkg('inspect')).code).toBe(2);
  });
});

describe('kpkg inspect of a package whose digests do not match', () => {
  const pristine = readFileSync(join(fixtures, 'hello-1.2.3-1.noarch.rpm'));

  const damaged = (name: string, at: number): string => {
    const bytes = Buffer.from(pristine);
    bytes[at] = (bytes[at] ?? 0) ^ 0x20;
    const path = join(work, name);
    writeFileSync(path, bytes);
    return path;
  };

  it('a changed byte in the header: still described, then exit 2 with one line naming the header digests', async () => {
    // the summary, in the main header's data store: covered by the header SHA-256, SHA-1 and MD5
    const at = pristine.indexOf('Fixture: files of every kind');
    expect(at).toBeGreaterThan(0);
    const r = await kpkg('inspect', damaged('header.rpm', at));
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^Name {8}: hello$/m);
    expect(r.stdout).toMatch(/^Digests {5}: NOT OK/m);
    expect(r.stderr).toBe(`kpkg: ${join(work, 'header.rpm')}: digest mismatch: header SHA-256, header SHA-1, header+payload MD5\n`);
  });

  it('a changed byte in the payload: exit 2 naming the payload digest and MD5, with --json too', async () => {
    const path = damaged('payload.rpm', pristine.length - 64);
    for (const args of [[path], ['--json', path]]) {
      const r = await kpkg('inspect', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`kpkg: ${path}: digest mismatch: payload digest, header+payload MD5\n`);
    }
    const json = JSON.parse((await kpkg('inspect', '--json', path)).stdout) as { digests: { ok: boolean; payloadDigest: string } };
    expect(json.digests).toMatchObject({ ok: false, payloadDigest: 'bad' });
  });
});

describe('modeString', () => {
  it('renders modes as ls -l does', () => {
    expect(modeString(0o100755)).toBe('-rwxr-xr-x');
    expect(modeString(0o40750)).toBe('drwxr-x---');
    expect(modeString(0o104755)).toBe('-rwsr-xr-x');
    expect(modeString(0o41777)).toBe('drwxrwxrwt');
  });
});
