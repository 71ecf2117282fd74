/**
 * The same fault gets the same exit code and the same kind of message from every command: the
 * classification lives in packager/errors.ts (inputError, exitCodeFor), not in each command.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KpkgError, exitCodeFor, inputError } from '../../../packager/errors.js';
import { captured, kpkg } from '../../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'kpkg-errors-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const missing = join(work, 'missing.rpm');
const repo = join(work, 'repo');
const key = join(work, 'key.asc');
writeFileSync(key, 'not a key');

describe('a package that does not exist', () => {
  const commands: [string, string[]][] = [
    ['inspect', ['inspect', missing]],
    ['publish', ['publish', '--repo', repo, missing]],
    ['sign', ['sign', '--key', key, missing]],
  ];
  it.each(commands)('kpkg %s: exit 2, one line naming the file and the cause in words', async (_name, args) => {
    const r = await kpkg(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`kpkg: cannot ${args[0] === 'publish' ? 'read' : 'open'} ${missing}: no such file or directory (ENOENT)\n`);
  });
});

describe('a repository directory that does not exist', () => {
  it.each([
    ['index', ['repo', 'index', join(work, 'no-repo')]],
    ['prune', ['repo', 'prune', '--keep', '1', join(work, 'no-repo')]],
  ])('kpkg repo %s: exit 2, one line naming it, and nothing created (as createrepo_c)', async (_name, args) => {
    const r = await kpkg(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`kpkg: cannot read the repository directory ${join(work, 'no-repo')}: no such file or directory (ENOENT)\n`);
    expect(existsSync(join(work, 'no-repo'))).toBe(false);
  });

  it('kpkg repo index of a file: exit 2', async () => {
    const r = await kpkg('repo', 'index', key);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`kpkg: kpkg repo index: ${key} is not a directory\n`);
  });
});

describe('--version', () => {
  const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  const mains: [string, () => Promise<(argv: string[]) => Promise<number>>][] = [
    ['kpkg', async () => (await import('../../../packager/cli/index.js')).main],
    ['geppetto', async () => (await import('../../../geppetto/cli/index.js')).main],
    ['punch', async () => (await import('../../../punch/cli/index.js')).main],
  ];
  it.each(mains)('%s prints the version of the package, alone', async (name, load) => {
    const main = await load();
    for (const flag of ['--version', '-V']) expect(await captured((argv) => main(argv), name, [flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('inputError', () => {
  const sys = (code: string) => Object.assign(new Error(`${code}: x`), { code });
  it('a path that names no file is the input at fault (2); other I/O failures are operations that failed (1)', () => {
    for (const code of ['ENOENT', 'ENOTDIR', 'EISDIR']) expect(exitCodeFor(inputError('read', '/x', sys(code)))).toBe(2);
    for (const code of ['EACCES', 'EIO', 'EMFILE']) {
      const e = inputError('read', '/x', sys(code));
      expect(e).toBeInstanceOf(KpkgError);
      expect(e.code).toBe('IO');
      expect(exitCodeFor(e)).toBe(1);
    }
  });

  it.skipIf(process.getuid?.() === 0)('a file the user may not read: exit 1 (as root every file is readable)', async () => {
    const locked = join(work, 'locked.rpm');
    writeFileSync(locked, 'x');
    chmodSync(locked, 0);
    expect((await kpkg('inspect', locked)).code).toBe(1);
  });
});
