// What `kpkg publish` prints: stdout says what was published, once; stderr is for errors (the
// `kpkg:` prefix) and, on a terminal only, a progress line rewritten in place and erased.
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeRpm } from '../../../packager/rpm/writer.js';
import { kpkg } from '../../helpers/cli.js';
import { scratch } from '../../helpers/files.js';

const { fresh } = scratch('publish-output');

async function pkg(dir: string, name: string): Promise<string> {
  const path = join(dir, `${name}-1.0-1.noarch.rpm`);
  await writeRpm(
    { name, version: '1.0', release: '1', arch: 'noarch', summary: name, description: name, license: 'MIT', files: [{ path: `/opt/${name}/README`, kind: 'file', content: `${name}\n` }] },
    path,
    { sourceDateEpoch: 1_700_000_000 },
  );
  return path;
}

const wasTTY = process.stderr.isTTY;
afterEach(() => {
  process.stderr.isTTY = wasTTY;
  vi.unstubAllEnvs();
});

/** A person's terminal: stderr a TTY, and no CI variable (a CI job's terminal shows no progress). */
function onTerminal(): void {
  process.stderr.isTTY = true;
  vi.stubEnv('CI', '');
}

describe('kpkg publish output', () => {
  it('without a terminal: stdout lists each package once and says "1 package"; stderr is empty', async () => {
    process.stderr.isTTY = false;
    const dir = fresh('pkgs');
    const repo = fresh('repo');
    const a = await pkg(dir, 'apple');
    const r = await kpkg('publish', a, '--repo', repo);
    expect(r).toEqual({ code: 0, stdout: `added     Packages/a/apple-1.0-1.noarch.rpm\n${repo}: 1 package\n`, stderr: '' });

    const [b, c] = [await pkg(dir, 'banana'), await pkg(dir, 'cherry')];
    const more = await kpkg('publish', b, c, a, '--repo', repo);
    expect(more.code).toBe(0);
    expect(more.stderr).toBe('');
    expect(more.stdout).toBe(
      ['added     Packages/b/banana-1.0-1.noarch.rpm', 'added     Packages/c/cherry-1.0-1.noarch.rpm', 'unchanged Packages/a/apple-1.0-1.noarch.rpm', `${repo}: 3 packages`, ''].join('\n'),
    );
    const again = await kpkg('publish', a, '--repo', repo);
    expect(again).toEqual({ code: 0, stdout: `unchanged Packages/a/apple-1.0-1.noarch.rpm\n${repo}: 3 packages, metadata unchanged\n`, stderr: '' });
  });

  it('on a terminal: progress on one line rewritten in place and erased, no kpkg: prefix, nothing stdout says', async () => {
    onTerminal();
    const dir = fresh('pkgs');
    const repo = fresh('repo');
    const files = await Promise.all(['apple', 'banana', 'cherry'].map((n) => pkg(dir, n)));
    const r = await kpkg('publish', ...files, '--repo', repo);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/^added /gm)).toHaveLength(3);
    expect(r.stderr).toMatch(/^\r\x1b\[Kreading 3 packages/);
    expect(r.stderr.endsWith('\r\x1b[K')).toBe(true); // erased before stdout's result
    expect(r.stderr).not.toContain('\n');
    expect(r.stderr).not.toContain('kpkg:');
    expect(r.stderr).not.toContain('.rpm'); // the packages are stdout's to list
    expect(r.stderr).not.toContain('1 packages');
  });

  it('on a terminal with --quiet or --json: nothing on stderr', async () => {
    onTerminal();
    const dir = fresh('pkgs');
    for (const flag of ['-q', '--json']) {
      const repo = fresh('repo');
      const r = await kpkg('publish', await pkg(dir, 'apple'), '--repo', repo, flag);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
    }
  });

  it('an error on a terminal: the progress line erased, then the one kpkg: line', async () => {
    onTerminal();
    const r = await kpkg('publish', join(fresh('pkgs'), 'missing.rpm'), '--repo', fresh('repo'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\r\x1b\[Kkpkg: cannot read .*missing\.rpm: no such file or directory \(ENOENT\)\n$/);
  });
});
