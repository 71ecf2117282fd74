// Punch validates the per-server file with schema/node.schema.json compiled ahead of time
// (punch/generated/node-schema.ts, written by scripts/generate-node-validator.mjs): it must be what
// ajv compiles from the current schema, and answer as the schema compiled at run time does.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import validateNodeSchema from '../../../punch/generated/node-schema.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('the compiled per-server file schema', () => {
  it('is what the generator writes from the current schema and ajv', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'generate-node-validator.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('accepts and refuses what the schema compiled at run time does, with the same first error', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'node.schema.json'), 'utf8')) as Record<string, unknown>;
    const runtime = new Ajv({ allErrors: false, verbose: true, strict: true }).compile(schema);
    const name = fc.constantFrom('shop-deploy', 'a', '-x', 'web_3', 'é', '', 'x'.repeat(201));
    const evr = fc.constantFrom('1.0-1', '2:1.4.0-1', '1.0', 'a b-1', '1:2:3-4', '');
    const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }));
    const file = fc.record(
      {
        environment: fc.constantFrom('production', 'Prod', 'x'.repeat(65)),
        classes: fc.dictionary(fc.constantFrom('shop', 'a::b', 'Shop', '1x', 'a:::b'), fc.dictionary(fc.constantFrom('port', 'Port', 'a_b'), value, { maxKeys: 2 }), { maxKeys: 2 }),
        kelkoo: fc.record(
          {
            node: fc.constantFrom('web03.example.com', '-bad', 'a..b'),
            revision: fc.oneof(fc.nat(), fc.constant(-1), fc.constant(1.5)),
            packages: fc.array(fc.record({ name, evr }, { requiredKeys: ['name'] }), { maxLength: 3 }),
            repositories: fc.array(fc.record({ id: fc.constantFrom('r', 'r 1'), baseurl: fc.constantFrom('https://x/', 'ftp://x/', 'file:///r', 'https://a b/') }), { maxLength: 2 }),
            sensitive: fc.dictionary(fc.constantFrom('shop', 'BAD'), fc.array(fc.constantFrom('port', 'port', 'X'), { maxLength: 2 }), { maxKeys: 1 }),
          },
          { requiredKeys: [] },
        ),
        extra: fc.string(),
      },
      { requiredKeys: [] },
    );
    let refused = 0;
    fc.assert(
      fc.property(file, (data) => {
        const ok = validateNodeSchema(data);
        expect(ok).toBe(runtime(data));
        if (!ok) {
          refused++;
          const [a, b] = [validateNodeSchema.errors?.[0], runtime.errors?.[0]];
          expect({ path: a?.instancePath, keyword: a?.keyword, schemaPath: a?.schemaPath }).toEqual({ path: b?.instancePath, keyword: b?.keyword, schemaPath: b?.schemaPath });
        }
      }),
      { numRuns: 300, seed: 13 },
    );
    expect(refused).toBeGreaterThan(0);
  });
});
