// The cases of the corpus of invalid components (test/fixtures/invalid-descriptors/cases.json)
// that resolveComponent finds on the descriptor alone, checked at that level: a KpkgError
// INVALID_DESCRIPTOR naming the field. test/unit/cli/invalid-descriptors.test.ts runs the whole
// corpus through the CLI.
import { describe, expect, it } from 'vitest';
import { resolveComponent } from '../../../packager/descriptor/load.js';
import { KpkgError } from '../../../packager/errors.js';
import { CASES, descriptorOf } from '../../helpers/invalid-descriptors.js';

const PURE = CASES.filter((c) => c.stage === 'descriptor' && c.package === undefined && c.error.startsWith('component.json'));

describe('invalid descriptors', () => {
  it('has enough cases', () => {
    expect(PURE.length).toBeGreaterThanOrEqual(100);
  });

  it.each(PURE.map((c) => [c.what, c] as const))('%s', (_what, c) => {
    const parsed = descriptorOf(c);
    expect(parsed, 'a descriptor case').toBeDefined();
    let caught: unknown;
    try {
      resolveComponent({ dir: '/tmp/x', descriptor: parsed!.value });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(KpkgError);
    const err = caught as KpkgError;
    expect(err.code).toBe('INVALID_DESCRIPTOR');
    expect(err.message.startsWith(`${c.error}: `), err.message).toBe(true);
    expect(err.message).toContain(c.detail);
    expect(err.message).not.toContain('\n');
  });
});
