// Proves the harness and the rpmbuild fixtures: rpm reads each fixture, its digests hold, and
// make-fixtures.sh rebuilds them (into a temp dir) from the specs beside them.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeWithTools, haveTool, run, runOk, systemTestsRequired, tmpDir } from './tools.js';

const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'rpmbuild');

const fixtures = [
  { file: 'hello-1.2.3-1.noarch.rpm', name: 'hello', compressor: 'gzip' },
  { file: 'world-0.4.0-3.noarch.rpm', name: 'world', compressor: 'zstd' },
  { file: 'unicode-names-0.9.0~rc.1-1.noarch.rpm', name: 'unicode-names', compressor: 'xz' },
];

describe('the tools harness', () => {
  it('finds tools in PATH and by path, and not what does not exist', () => {
    expect(haveTool('sh')).toBe(true);
    expect(haveTool('/bin/sh')).toBe(true);
    expect(haveTool('kpkg-no-such-tool')).toBe(false);
    expect(haveTool('/nonexistent/kpkg-no-such-tool')).toBe(false);
  });

  it('runs without a shell and reports the status', () => {
    expect(run('sh', ['-c', 'printf "%s" "$0"; exit 3', '$HOME;*'])).toMatchObject({ stdout: '$HOME;*', status: 3 });
    expect(run('kpkg-no-such-tool', []).status).toBe(127);
    expect(() => runOk('sh', ['-c', 'echo oops >&2; exit 1'])).toThrow(/status 1: sh -c .*\n--- stderr\noops/);
  });

  it('makes temporary directories', () => {
    const dir = tmpDir('harness');
    expect(existsSync(dir)).toBe(true);
  });

  it('knows whether missing tools fail the run', () => {
    expect(systemTestsRequired).toBe(process.env.KPKG_SYSTEM_TESTS === 'required');
  });
});

describeWithTools(['rpm'], 'rpm reads the rpmbuild fixtures', () => {
  for (const { file, name, compressor } of fixtures) {
    const path = join(fixturesDir, file);

    it(`${file}: name ${name}, ${compressor} payload`, () => {
      const { stdout } = runOk('rpm', ['-qp', '--queryformat', '%{NAME} %{PAYLOADCOMPRESSOR}', path]);
      expect(stdout).toBe(`${name} ${compressor}`);
    });

    it(`${file}: digests OK`, () => {
      const { stdout } = runOk('rpm', ['-K', path]);
      expect(stdout.trim()).toBe(`${path}: digests OK`);
    });
  }
});

describeWithTools(['rpmbuild', 'rpm'], 'make-fixtures.sh', () => {
  it('rebuilds the fixtures from their specs, elsewhere', () => {
    const out = tmpDir('fixtures');
    runOk('bash', [join(fixturesDir, 'make-fixtures.sh'), out]);
    expect(readdirSync(out).sort()).toEqual(fixtures.map((f) => f.file).sort());
    for (const { file, name } of fixtures) {
      expect(runOk('rpm', ['-qp', '--queryformat', '%{NAME}', join(out, file)]).stdout).toBe(name);
    }

    // Same rpmbuild as recorded in the README: the build is reproducible, so the bytes are the same.
    const recorded = /rpmbuild --version: (.+)/.exec(readFileSync(join(fixturesDir, 'README.md'), 'utf8'))?.[1];
    const current = runOk('rpmbuild', ['--version']).stdout.trim();
    if (recorded === current) {
      for (const { file } of fixtures) {
        expect(readFileSync(join(out, file)).equals(readFileSync(join(fixturesDir, file))), file).toBe(true);
      }
    }
  });
});
