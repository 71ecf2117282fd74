// The fault-injection loop of the tests in this directory: an operation (a kpkg command run
// in-process) is run once to count its writing calls, then once per call with that call failing
// (test/helpers/faults.ts). After each failure: exit 1, one line `kpkg: ...` naming a path and the
// cause, the directory tree byte for byte as before (no temporary, spool or partial file, no new
// directory, no lock), and the same command run again without a fault succeeds.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, expect } from 'vitest';
import { checkRepository } from '../../../packager/repo/check.js';
import { writeRpm } from '../../../packager/rpm/writer.js';
import { kpkg as runKpkg, type CliResult } from '../../helpers/cli.js';
import { countCalls, failCall, FAULT_CODES, FAULT_WORDS } from '../../helpers/faults.js';
import { listDirs, treeDigests } from '../../helpers/files.js';

export type { CliResult };

/** `kpkg <args>` in this process, its output captured. */
export const kpkg = (args: readonly string[]): Promise<CliResult> => runKpkg(...args);

/** Every file (with its sha256) and every directory under `dir`. */
export function treeState(dir: string): { files: Record<string, string>; dirs: string[] } {
  return { files: treeDigests(dir), dirs: listDirs(dir) };
}

export interface Scenario {
  /** A new starting point: the command, and the directory it must leave as it was when it fails. */
  setup(): Promise<{ args: string[]; dir: string }> | { args: string[]; dir: string };
  /** Checks the outcome of a run that succeeded. */
  check(dir: string, r: CliResult): Promise<void> | void;
  /** Which calls (`syscall path`) to make fail; default all. */
  only?: (call: string) => boolean;
}

export interface FaultReport {
  /** The writing calls of a clean run. */
  calls: string[];
  /** Those made to fail, each in turn. */
  points: string[];
  /** Calls whose failure the command rightly ignores (best effort), and it succeeded. */
  tolerated: string[];
}

export async function everyFault(s: Scenario): Promise<FaultReport> {
  const start = await s.setup();
  const { result, calls } = await countCalls(() => kpkg(start.args));
  expect(result.code, result.stderr).toBe(0);
  await s.check(start.dir, result);
  expect(calls.length).toBeGreaterThan(0);
  const tolerated: string[] = [];
  const points: string[] = [];
  for (let n = 1; n <= calls.length; n++) {
    if (s.only && !s.only(calls[n - 1]!)) continue;
    points.push(calls[n - 1]!);
    const code = FAULT_CODES[n % FAULT_CODES.length]!;
    const { args, dir } = await s.setup();
    const before = treeState(dir);
    const { result: r, failed } = await failCall(n, code, () => kpkg(args));
    const where = `call ${n} of ${calls.length} (${failed ?? 'not reached'}) failing with ${code}`;
    if (failed === undefined || r.code === 0) {
      // fewer calls this time (concurrent writes), or a best-effort call: it must have succeeded
      expect(r.code, `${where}: ${r.stderr}`).toBe(0);
      if (failed !== undefined) tolerated.push(failed);
      await s.check(dir, r);
      continue;
    }
    expect(r.code, `${where}: ${r.stderr}`).toBe(1);
    expect(r.stderr, where).toMatch(new RegExp(`^kpkg: cannot [^\\n]* /[^\\n]*: ${FAULT_WORDS[code]} \\(${code}\\)\\n$`));
    expect(JSON.stringify(treeState(dir), null, 1), where).toEqual(JSON.stringify(before, null, 1));
    const again = await kpkg(args);
    expect(again.code, `${where}, then again: ${again.stderr}`).toBe(0);
    await s.check(dir, again);
  }
  return { calls, points, tolerated };
}

/**
 * An OpenPGP key without passphrase, written (before the tests of the file) to `<dir>/key.asc`;
 * KPKG_SIGN_PASSPHRASE is unset meanwhile.
 */
export function signingKey(dir: string): string {
  const file = join(dir, 'key.asc');
  const passphrase = process.env.KPKG_SIGN_PASSPHRASE;
  beforeAll(async () => {
    delete process.env.KPKG_SIGN_PASSPHRASE;
    const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ email: 'faults@example.invalid' }], format: 'armored' });
    writeFileSync(file, privateKey);
  });
  afterAll(() => {
    if (passphrase !== undefined) process.env.KPKG_SIGN_PASSPHRASE = passphrase;
  });
  return file;
}

/** A small package `<dir>/<name>-<version>-1.noarch.rpm`. */
export async function smallPackage(dir: string, name: string, version: string): Promise<string> {
  const path = join(dir, `${name}-${version}-1.noarch.rpm`);
  await writeRpm(
    {
      name,
      version,
      release: '1',
      arch: 'noarch',
      summary: `${name} of the fault tests`,
      description: 'A package of the fault-injection tests.',
      license: 'Apache-2.0',
      files: [
        { path: `/opt/${name}`, kind: 'dir' },
        { path: `/opt/${name}/README`, kind: 'file', content: `${name} ${version}\n` },
      ],
    },
    path,
    { sourceDateEpoch: 1_700_000_000 },
  );
  return path;
}

/** The run succeeded and the repository is what a reader can use, with `packages` packages. */
export async function consistent(repo: string, r: CliResult, packages: number): Promise<void> {
  expect(r.code, r.stderr).toBe(0);
  expect(await checkRepository(repo)).toEqual({ ok: true, packages, problems: [] });
}

export function report(what: string, r: FaultReport): void {
  const of = r.points.length < r.calls.length ? ` of ${r.calls.length} calls` : '';
  console.log(`${what}: ${r.points.length} failure points${of}, tolerated: ${r.tolerated.join(', ') || 'none'}`);
}
