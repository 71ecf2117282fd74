import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerValidate, validate } from '../../../packager/cli/commands/validate.js';
import { exitCodeFor, KpkgError } from '../../../packager/errors.js';
import { expectInvalid, FIXTURES, tempDir } from './helpers.js';

describe('kpkg validate', () => {
  it.each([
    ['shop', 'component.json OK: shop 1.4.0 (webapp), 3 files'],
    ['catalog-api', 'component.json OK: catalog-api 2.0.0-rc.1 (web-service), 2 files'],
    ['nightly-import', 'component.json OK: nightly-import 0.3.1 (processing), 1 file'],
    ['orders-schema', 'component.json OK: orders-schema 5.0.0 (db-schema), 2 files'],
    ['check-shop', 'component.json OK: check-shop 1.0.0 (monitoring), 2 files'],
  ])('accepts %s', async (name, summary) => {
    const result = await validate(join(FIXTURES, name));
    expect(result.summary).toBe(summary);
    expect(result.component.name).toBe(name);
  });

  describe('as a command', () => {
    afterEach(() => vi.restoreAllMocks());

    const run = async (...args: string[]) => {
      const out: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
        out.push(String(s));
        return true;
      });
      const program = new Command('kpkg').exitOverride();
      registerValidate(program);
      await program.parseAsync(['node', 'kpkg', 'validate', ...args]);
      return out.join('');
    };

    it('prints one line and succeeds', async () => {
      expect(await run(join(FIXTURES, 'check-shop'))).toBe('component.json OK: check-shop 1.0.0 (monitoring), 2 files\n');
    });

    it('validates the current directory by default', async () => {
      const cwd = vi.spyOn(process, 'cwd').mockReturnValue(join(FIXTURES, 'orders-schema'));
      expect(await run()).toContain('orders-schema 5.0.0 (db-schema)');
      expect(cwd).toHaveBeenCalled();
    });

    it('fails with exit code 2 and a message naming the field, mapping errors included', async () => {
      const { dir, cleanup } = await tempDir();
      try {
        await writeFile(join(dir, 'component.json'), JSON.stringify({ name: 'x', type: 'webapp', version: '1.0.0', files: [{ src: 'dist', dest: 'lib' }] }));
        const err = await expectInvalid(() => run(dir), 'component.json: /files/0/src: "dist" does not exist');
        expect(err).toBeInstanceOf(KpkgError);
        expect(exitCodeFor(err)).toBe(2);
      } finally {
        await cleanup();
      }
    });
  });
});
