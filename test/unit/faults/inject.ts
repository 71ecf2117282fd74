// The fault-injection loop of the tests in this directory: an operation (a kpkg command run
// in-process) is run once to count its writing calls, then once per call with that call failing
// (test/helpers/faults.ts). After each failure: exit 1, one line `kpkg: ...` naming a path and the
// cause, the directory tree byte for byte as before (no temporary, spool or partial file, no new
// directory, no lock), and the same command run again without a fault succeeds.
import { expect, vi } from 'vitest';
import { main } from '../../../packager/cli/index.js';
import { countCalls, failCall, FAULT_CODES, FAULT_WORDS } from '../../helpers/faults.js';
import { listDirs, treeDigests } from '../../helpers/files.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kpkg <args>` in this process, its output captured. */
export async function kpkg(args: readonly string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    return { code: await main(['node', 'kpkg', ...args]), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** Every file (with its sha256) and every directory under `dir`. */
export function treeState(dir: string): { files: Record<string, string>; dirs: string[] } {
  return { files: treeDigests(dir), dirs: listDirs(dir) };
}

export interface Scenario {
  /** A new starting point: the command, and the directory it must leave as it was when it fails. */
  setup(): Promise<{ args: string[]; dir: string }> | { args: string[]; dir: string };
  /** Checks the outcome of a run that succeeded. */
  check(dir: string, r: CliResult): Promise<void> | void;
}

export interface FaultReport {
  /** The writing calls of a clean run, each made to fail in turn. */
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
  for (let n = 1; n <= calls.length; n++) {
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
  return { points: calls, tolerated };
}
