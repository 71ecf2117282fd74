// Running tools: a program that is not on PATH is a one-line TOOL error (exit 1), not a crash.
import { describe, expect, it } from 'vitest';
import { exitCodeFor, KpkgError } from '../../../packager/errors.js';
import { runTool } from '../../../punch/child.js';

describe('runTool', () => {
  it('names a program that is not on PATH', async () => {
    const err = await runTool('punch-no-such-program', []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KpkgError);
    expect((err as KpkgError).message).toBe('punch-no-such-program not found on PATH');
    expect(exitCodeFor(err)).toBe(1);
  });

  it('gives the status and output of a program', async () => {
    const res = await runTool(process.execPath, ['-e', 'process.stdout.write("out"); process.stderr.write("err"); process.exit(3)']);
    expect(res).toEqual({ status: 3, stdout: 'out', stderr: 'err' });
  });
});
