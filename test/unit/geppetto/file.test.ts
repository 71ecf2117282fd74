// The per-server file: what buildNodeFile puts in it (only values set by definitions, secrets
// revealed and listed as sensitive, packages at their EVR), that it validates against
// schema/node.schema.json, that its YAML reads back equal with the `yaml` package in YAML 1.2 and
// in YAML 1.1 (what Puppet's Psych speaks) whatever the strings hold, the ENC answer, and diffs.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildNodeFile, encYaml, floatParameters, nodeFileDiff, nodeFileYaml, type NodeFile } from '../../../geppetto/file.js';
import type { ResolvedServer, SecretRef, State, Value } from '../../../geppetto/model.js';
import { resolveServers } from '../../../geppetto/resolve/index.js';
import { KpkgError } from '../../../packager/errors.js';
import { carriable, YAML_HOSTILE, yamlValue } from './arbitraries.js';
import { CACHE, catalog, must, role, server, SHOP, state } from './helpers.js';

const schema = JSON.parse(readFileSync(new URL('../../../schema/node.schema.json', import.meta.url), 'utf8')) as object;
const validateFile = new Ajv({ strict: true, allErrors: true }).compile(schema);

const SECRETS: Record<string, string> = { db: 'p@ss "w0rd" %{x}', api: '42' };
const reveal = (ref: SecretRef): string => {
  const v = SECRETS[ref.secret];
  if (v === undefined) throw new Error(`no secret ${ref.secret}`);
  return v;
};

function sample(extra: Record<string, Value | SecretRef> = {}): State {
  return state({
    global: { settings: { 'shop.banner': 'Hello' }, unset: [] },
    roles: {
      base: role({ components: { cache: '2.0.0-3' } }),
      'shop-front': role({ parents: ['base'], components: { shop: '1.4.0-1' }, settings: { 'shop.listen_port': 9090 }, unset: ['shop.ratio'] }),
    },
    servers: {
      'web03.example.com': server({
        roles: ['shop-front'],
        settings: { 'shop.catalog_url': 'http://catalog:8081', 'shop.db_password': { secret: 'db' }, ...extra },
      }),
    },
  });
}

function resolved(s: State, fqdn = 'web03.example.com'): ResolvedServer {
  const r = resolveServers(s, catalog(SHOP, CACHE), [fqdn]).get(fqdn);
  if (r === undefined) throw new Error('not resolved');
  return r;
}

describe('buildNodeFile', () => {
  it('holds the classes with the values set by definitions, the packages, repositories and sensitive parameters', () => {
    const s = sample();
    const file = buildNodeFile(resolved(s), s, 42, reveal);
    expect(file).toEqual({
      environment: 'production',
      classes: {
        cache: {},
        shop: { banner: 'Hello', catalog_url: 'http://catalog:8081', db_password: 'p@ss "w0rd" %{x}', listen_port: 9090 },
      },
      parameters: { kelkoo_node: 'web03.example.com', kelkoo_revision: 42 },
      kelkoo: {
        node: 'web03.example.com',
        revision: 42,
        repositories: [{ id: 'kelkoo', baseurl: 'https://yum.example.com/kelkoo', gpgkey: 'https://yum.example.com/RPM-GPG-KEY' }],
        packages: [
          { name: 'cache-deploy', evr: '2.0.0-3' },
          { name: 'shop-deploy', evr: '1.4.0-1' },
        ],
        sensitive: { shop: ['db_password'] },
      },
    } satisfies NodeFile);
    expect(validateFile(file), JSON.stringify(validateFile.errors)).toBe(true);
  });

  it('refuses a resolution with problems, naming the first', () => {
    const s = sample();
    delete must(s.servers['web03.example.com'], 'web03').settings['shop.catalog_url'];
    expect(() => buildNodeFile(resolved(s), s, 1, reveal)).toThrow(KpkgError);
    expect(() => buildNodeFile(resolved(s), s, 1, reveal)).toThrow(/web03.example.com: publishing blocked by 1 problem: web03.example.com: shop.catalog_url has no value/);
  });

  it('reveals a secret of a non-String type from its JSON text, and refuses one of the wrong type without showing it', () => {
    const v = { ...SHOP, parameters: [...SHOP.parameters, { name: 'pin', type: 'Integer', secret: true }] };
    const s = sample({ 'shop.pin': { secret: 'api' } });
    const r = must(resolveServers(s, catalog(v, CACHE)).get('web03.example.com'), 'web03');
    expect(buildNodeFile(r, s, 1, reveal).classes.shop?.pin).toBe(42);
    const bad = buildNodeFile.bind(null, r, s, 1, () => 'not-a-number');
    expect(bad).toThrow(/shop.pin: the secret's value is not a value of type Integer/);
    expect(bad).not.toThrow(/not-a-number/);
  });
});

describe('the file as YAML', () => {
  it('is deterministic, sorted, and reads back equal', () => {
    const s = sample();
    const file = buildNodeFile(resolved(s), s, 7, reveal);
    const text = nodeFileYaml(file);
    expect(text).toBe(nodeFileYaml(structuredClone(file)));
    expect(text).toBe(
      [
        '---',
        'classes:',
        '  cache: {}',
        '  shop:',
        '    banner: Hello',
        '    catalog_url: "http://catalog:8081"',
        '    db_password: "p@ss \\"w0rd\\" %{x}"',
        '    listen_port: 9090',
        'environment: production',
        'kelkoo:',
        '  node: web03.example.com',
        '  packages:',
        '    - evr: "2.0.0-3"',
        '      name: cache-deploy',
        '    - evr: "1.4.0-1"',
        '      name: shop-deploy',
        '  repositories:',
        '    - baseurl: "https://yum.example.com/kelkoo"',
        '      gpgkey: "https://yum.example.com/RPM-GPG-KEY"',
        '      id: kelkoo',
        '  revision: 7',
        '  sensitive:',
        '    shop:',
        '      - db_password',
        'parameters:',
        '  kelkoo_node: web03.example.com',
        '  kelkoo_revision: 7',
        '',
      ].join('\n'),
    );
    expect(parse(text)).toEqual(file);
    expect(parse(text, { version: '1.1' })).toEqual(file);
  });


  it('keeps hostile strings literally, as values, list items and hash keys (YAML 1.2 and 1.1)', () => {
    const params: Record<string, Value> = {
      values: YAML_HOSTILE,
      hash: Object.fromEntries(YAML_HOSTILE.map((h, i) => [h, YAML_HOSTILE[YAML_HOSTILE.length - 1 - i] ?? ''])),
      ...Object.fromEntries(YAML_HOSTILE.map((h, i) => [`s${i}`, h])),
    };
    const file: NodeFile = { classes: { shop: params }, kelkoo: { packages: [] } };
    const text = nodeFileYaml(file);
    expect(parse(text)).toEqual(file);
    expect(parse(text, { version: '1.1' })).toEqual(file);
    expect(parse(encYaml(file), { version: '1.1' })).toEqual({ classes: file.classes });
  });

  it('round-trips any strings, numbers and nesting (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), yamlValue, { maxKeys: 6 }), (params) => {
        fc.pre(carriable(params));
        const file: NodeFile = { classes: { c: params }, kelkoo: { packages: [] } };
        const text = nodeFileYaml(file);
        expect(parse(text)).toEqual(file);
        expect(parse(text, { version: '1.1' })).toEqual(file);
      }),
      { numRuns: 200 },
    );
  });

  it('writes the numbers of Float parameters with a dot when told which they are', () => {
    const v = { ...SHOP, parameters: [...SHOP.parameters, { name: 'weights', type: 'Array[Float]', secret: false, default: [] }] };
    const s = sample({ 'shop.ratio': 3, 'shop.weights': [1, 0.5, 1e21], 'shop.listen_port': 3 });
    const r = must(resolveServers(s, catalog(v, CACHE)).get('web03.example.com'), 'web03');
    const file = buildNodeFile(r, s, 1, reveal);
    const text = nodeFileYaml(file, { floats: floatParameters(r) });
    expect(text).toContain('    ratio: 3.0\n');
    expect(text).toContain('    weights:\n      - 1.0\n      - 0.5\n      - 1.0e+21\n');
    expect(text).toContain('    listen_port: 3\n');
    expect(encYaml(file, { floats: floatParameters(r) })).toContain('    ratio: 3.0\n');
  });
});

describe('encYaml', () => {
  it('is the environment, classes and parameters only', () => {
    const s = sample();
    const file = buildNodeFile(resolved(s), s, 3, reveal);
    expect(parse(encYaml(file), { version: '1.1' })).toEqual({ environment: 'production', classes: file.classes, parameters: file.parameters });
  });
});

describe('nodeFileDiff', () => {
  const s = sample();
  const before = buildNodeFile(resolved(s), s, 1, reveal);
  const s2 = sample({ 'shop.listen_port': 9191 });
  const after = buildNodeFile(resolved(s2), s2, 2, () => 'new-secret');

  it('is a unified diff of the YAML, empty for equal files', () => {
    expect(nodeFileDiff(before, before, false)).toBe('');
    const d = nodeFileDiff(before, after, false);
    expect(d.split('\n').slice(0, 2)).toEqual(['--- a/web03.example.com.yaml', '+++ b/web03.example.com.yaml']);
    const lines = d.split('\n');
    for (const l of ['-    listen_port: 9090', '+    listen_port: 9191', '+    db_password: new-secret', '-  revision: 1', '+  revision: 2']) expect(lines).toContain(l);
  });

  it('masks secret values, saying only that one changed', () => {
    const d = nodeFileDiff(before, after, true);
    expect(d).not.toContain('new-secret');
    expect(d).not.toContain('w0rd');
    expect(d.split('\n')).toEqual(expect.arrayContaining(['-    db_password: "(sensitive)"', '+    db_password: "(sensitive, changed)"']));
    const same = nodeFileDiff(before, { ...before, kelkoo: { ...before.kelkoo, revision: 9 } }, true);
    expect(same).not.toBe('');
    expect(same.split('\n').filter((l) => /^[-+] /.test(l) && l.includes('db_password'))).toEqual([]);
  });

  it('shows a new file and a removed one against /dev/null', () => {
    expect(nodeFileDiff(undefined, after, true).split('\n').slice(0, 3)).toEqual(['--- /dev/null', '+++ b/web03.example.com.yaml', `@@ -0,0 +1,${nodeFileYaml(after).split('\n').length - 1} @@`]);
    expect(nodeFileDiff(before, undefined, true)).toMatch(/^--- a\/web03.example.com.yaml\n\+\+\+ \/dev\/null\n/);
    expect(nodeFileDiff(undefined, after, true)).not.toContain('new-secret');
  });
});
