// The YAML writer's quoting rules, which it applies by char-code scans and a cache of the file's own
// keys for speed, against the rules as its header states them (regular expressions), and its keys
// cache against the `yaml` package: the same document gives the same bytes, cache cold or warm.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type FloatTree, writeOnce, yamlDocument, yamlScalarString, type YamlData } from '../../../geppetto/yaml-emit.js';
import { yamlString } from '../../../packager/puppet/escape.js';
import { carriable, YAML_HOSTILE } from './arbitraries.js';

// The rules of yaml-emit.ts's header, written as regular expressions.
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
const KEYWORD = /^(?:y|yes|n|no|true|false|on|off|null|e[-+]?[0-9]+)$/i;
const NEEDS_ESCAPE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff"\\\ud800-\udfff]/;
const byTheRules = (s: string): string => (PLAIN.test(s) && !KEYWORD.test(s) ? s : NEEDS_ESCAPE.test(s) ? yamlString(s) : `"${s}"`);

// Strings near every edge the scans test: the word alphabet's bounds, the keywords, controls, C1, separators, surrogates.
const edgy = fc.string({
  unit: fc.constantFrom(...'aezAEZ_/.-09,:@[`{ \t\n\u007f\u0080\u0085\u009f\u00a0\u00e9\u2028\u2029\ufeff\ufffe\uffff\ud83d\ude00"\\+yYnNoOtTfFlLsSuU'.split('')),
  maxLength: 8,
});

describe('the YAML writer', () => {
  it('quotes exactly the strings its rules say, and escapes exactly those that need it (property)', () => {
    for (const s of [...YAML_HOSTILE, 'e1', 'E+5', 'e-12', 'e', 'ee', 'e1x', 'yes', 'YES', 'nulls', 'offset', 'a-1', '/a', '_', '0a', '-a', '.a', 'é']) {
      if (carriable(s)) expect(yamlScalarString(s), JSON.stringify(s)).toBe(byTheRules(s));
    }
    fc.assert(
      fc.property(fc.oneof(edgy, fc.string({ unit: 'binary', maxLength: 10 })), (s) => {
        fc.pre(carriable(s));
        expect(yamlScalarString(s)).toBe(byTheRules(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes a document the same, byte for byte, whether its keys were seen before or not, and `yaml` reads it back', () => {
    const key = fc.oneof(fc.constantFrom(...YAML_HOSTILE), edgy, fc.string({ unit: 'binary', maxLength: 6 }));
    const leaf: fc.Arbitrary<YamlData> = fc.oneof(key, fc.integer(), fc.boolean());
    const level3 = fc.dictionary(key, fc.oneof(leaf, fc.dictionary(key, leaf, { maxKeys: 3 })), { maxKeys: 3 });
    fc.assert(
      fc.property(fc.dictionary(key, fc.dictionary(key, level3, { maxKeys: 3 }), { maxKeys: 3 }), (doc) => {
        fc.pre(carriable(doc));
        const first = yamlDocument(doc);
        expect(yamlDocument(doc)).toBe(first);
        expect(parse(first)).toEqual(doc);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps writing right past the size of its keys cache', () => {
    // more distinct keys than the cache holds, twice: each round clears it at least once
    const doc: Record<string, YamlData> = {};
    for (let i = 0; i < 10_000; i++) doc[i % 3 === 0 ? `yes${i}` : i % 3 === 1 ? `k ${i}` : `k_${i}`] = i % 2 === 0 ? 'on' : i;
    const first = yamlDocument(doc);
    expect(parse(first)).toEqual(doc);
    expect(yamlDocument(doc)).toBe(first);
    expect(yamlDocument({ yes: { on: 'off' } })).toBe('---\n"yes":\n  "on": "off"\n');
  }, 30_000);

  it('writes a mapping marked writeOnce as it writes a copy never marked, wherever it recurs and whatever its Floats', () => {
    const key = fc.oneof(fc.constantFrom(...YAML_HOSTILE), edgy);
    const leaf: fc.Arbitrary<YamlData> = fc.oneof(key, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.array(fc.integer(), { maxLength: 2 }));
    const mapping = fc.dictionary(key, fc.oneof(leaf, fc.dictionary(key, leaf, { maxKeys: 2 })), { minKeys: 1, maxKeys: 4 });
    fc.assert(
      fc.property(mapping, fc.boolean(), (m, floatA) => {
        fc.pre(carriable(m));
        const names = Object.keys(m);
        // the same Float subtree object each time, as file.ts hands it (a hit needs the same one)
        const some: FloatTree = new Map(names.slice(0, 1).map((n) => [n, true as const]));
        const floats: FloatTree = new Map([['a', floatA ? some : true], ['b', new Map([['c', some]])]]);
        const doc = (x: YamlData) => ({ a: x, b: { c: x, d: x }, e: [x] });
        const copy = structuredClone(m);
        const expected = [yamlDocument(doc(copy)), yamlDocument(doc(copy), floats)];
        writeOnce(m);
        // twice: written, then from what was kept
        for (let round = 0; round < 2; round++) expect([yamlDocument(doc(m)), yamlDocument(doc(m), floats)]).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
