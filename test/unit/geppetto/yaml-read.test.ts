// The fast reader of the per-server file's YAML (geppetto/yaml-read.ts) against the `yaml` package,
// the oracle: the same data for every document yaml-emit.ts writes; anything else read by `yaml`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { yamlDocument, type YamlData } from '../../../geppetto/yaml-emit.js';
import { readEmittedYaml, readYamlFile } from '../../../geppetto/yaml-read.js';
import { carriable, YAML_HOSTILE, yamlValue } from './arbitraries.js';

describe('reading the per-server file back', () => {
  it('reads what yaml-emit.ts writes as the `yaml` package does: hostile strings as values, items and keys, numbers, nesting', () => {
    const doc: Record<string, YamlData> = {
      values: YAML_HOSTILE,
      hash: Object.fromEntries(YAML_HOSTILE.map((h, i) => [h, YAML_HOSTILE[YAML_HOSTILE.length - 1 - i] ?? ''])),
      numbers: [0, -1, 42, 9007199254740991, -9007199254740991, 0.5, -2.25, 1e21, 1.5e-7, 123456789012345680000],
      nested: [[], {}, [[1, [2]], { a: [{ b: { c: [] } }] }], { '- x': { 'y: z': ['w'] } }],
      flags: { on: true, off: false },
      empty: {},
      list: [],
    };
    const text = yamlDocument(doc);
    expect(readEmittedYaml(text)).toEqual(parse(text));
    expect(JSON.stringify(readEmittedYaml(text))).toBe(JSON.stringify(parse(text)));
    expect(readEmittedYaml(yamlDocument({}))).toEqual({});
    const floats = yamlDocument({ ratio: 3, weights: [1, 0.5] }, new Map([['ratio', true], ['weights', true]]));
    expect(floats).toContain('ratio: 3.0');
    expect(readEmittedYaml(floats)).toEqual(parse(floats));
  });

  it('agrees with the `yaml` package on any emitted document (property), key order included', () => {
    const key = fc.oneof(fc.constantFrom(...YAML_HOSTILE), fc.string({ unit: 'binary' }));
    fc.assert(
      fc.property(fc.dictionary(key, yamlValue, { maxKeys: 6 }), (doc) => {
        fc.pre(carriable(doc));
        const text = yamlDocument(doc);
        const oracle: unknown = parse(text);
        expect(readEmittedYaml(text)).toEqual(oracle);
        expect(JSON.stringify(readYamlFile(text))).toBe(JSON.stringify(oracle));
      }),
      { numRuns: 300 },
    );
  });

  it('YAML that yaml-emit.ts does not write is not guessed at: readYamlFile gives what the `yaml` package reads', () => {
    const others = [
      '---\na: {b: 1}\n',
      '---\na:\n- 1\n- 2\n',
      '---\na: 1 # comment\n',
      '---\na: &x 1\nb: *x\n',
      '---\na: yes\n',
      '---\na: "tab\\x41"\n',
      "---\na: 'single'\n",
      '---\na: |\n  text\n',
      '---\na:\n    b: 1\n',
      '---\na: 1\na: 2\n',
      'a: 1\n',
      '---\na: 12345678901234567890\n',
      '---\na: 0x1F\n',
      '---\n"a" : 1\n',
    ];
    for (const text of others) {
      expect(() => readEmittedYaml(text), text).toThrow();
      let oracle: unknown;
      try {
        oracle = parse(text);
      } catch (err) {
        expect(() => readYamlFile(text)).toThrow((err as Error).message);
        continue;
      }
      expect(readYamlFile(text), text).toEqual(oracle);
    }
  });
});
