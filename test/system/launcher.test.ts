// The kpkg program as npm installs it: dist/bin/kpkg.js run through a symlink in a bin
// directory. Its second line, run by sh, starts Node on the same file with --v8-pool-size=1
// (bin/kpkg.ts says why); Node reads that line as a comment.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KPKG } from './helpers/components.js';
import { tmpDir } from './tools.js';

/** Runs `kpkg` by name from a bin directory on PATH, as a user would. */
function kpkgProgram(args: string[], env: NodeJS.ProcessEnv = {}) {
  const bin = join(tmpDir('launcher'), 'bin');
  mkdirSync(bin);
  symlinkSync(KPKG, join(bin, 'kpkg'));
  return spawnSync('kpkg', args, { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, ...env } });
}

describe('the kpkg program', () => {
  it('is executable after npm run build', () => {
    expect(() => accessSync(KPKG, constants.X_OK)).not.toThrow();
  });

  it('runs through a symlink, prints help, exit 0, nothing on stderr', () => {
    const r = kpkgProgram(['--help']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: kpkg /);
  });

  it('starts Node with one V8 background thread', () => {
    // a module Node loads before kpkg's: prints the options Node was started with
    const show = `data:text/javascript,process.stderr.write('execArgv='+JSON.stringify(process.execArgv)+'\\n')`;
    const r = kpkgProgram(['--help'], { NODE_OPTIONS: `--import=${show}` });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('execArgv=["--v8-pool-size=1"]');
  });

  it('passes arguments unchanged and exit statuses through', () => {
    const dir = join(tmpDir('launcher-args'), `a dir with spaces, 'quotes' "and" $(no) *`);
    const r = kpkgProgram(['repo', 'check', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(dir);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(kpkgProgram(['no-such-command']).status).toBe(2);
  });
});
