/** `kpkg` (or another command) run in-process through its `main`, with what it prints captured. */
import { vi } from 'vitest';
import { main } from '../../packager/cli/index.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function kpkg(...args: string[]): Promise<CliResult> {
  return captured(main, 'kpkg', args);
}

/** A command's `main` run in-process with `args`, what it prints captured. */
export async function captured(run: (argv: string[]) => Promise<number>, name: string, args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    return { code: await run(['node', name, ...args]), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
