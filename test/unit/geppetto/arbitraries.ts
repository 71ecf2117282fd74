/** fast-check arbitraries of Geppetto states: valid names, hostile values, role DAGs. */
import fc from 'fast-check';
import type { RoleDefinition, ScopeDefinitions, SecretRef, ServerDefinition, State, Value } from '../../../geppetto/model.js';
import type { YamlData } from '../../../geppetto/yaml-emit.js';

export const HOSTILE_STRINGS = [
  '', 'yes', 'no', 'null', '~', 'true', '0777', '1e3', '12:30', '- a', 'a: b', '#c', '&a', '*a', '!t', '%{facts.x}', '${x}', '$(id)',
  '"q"', "'s'", 'back\\slash', 'line\nbreak', '\ttab', ' lead', 'trail ', '<script>alert(1)</script>', "'; DROP TABLE roles; --",
  '\u2028', '\u0085', '\ufeff', 'é 日本 😀', 'e0', '---', '<<',
];

/** A string a file can carry (no NUL, no lone surrogate). */
export const text: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\0')),
);

export const value: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    fc.boolean(),
    fc.array(tie('v'), { maxLength: 3 }),
    // A one-key hash named `secret` holding a string reads as a secret reference: not generated as a value.
    fc.dictionary(text, tie('v'), { maxKeys: 3 }).filter((o) => !(Object.keys(o).length === 1 && typeof o.secret === 'string')),
  ),
})).v;

const component = fc.constantFrom('shop', 'cache', 'catalog-api');
const key = fc.tuple(component, fc.constantFrom('listen_port', 'banner', 'tags', 'a_b')).map(([c, k]) => `${c}.${k}`);
const secretRef: fc.Arbitrary<SecretRef> = fc.stringMatching(/^[a-z0-9-]{1,12}$/).map((secret) => ({ secret }));

export const scope: fc.Arbitrary<ScopeDefinitions> = fc.record({
  settings: fc.dictionary(key, fc.oneof({ weight: 5, arbitrary: value }, { weight: 1, arbitrary: secretRef }), { maxKeys: 4 }),
  unset: fc.uniqueArray(key, { maxLength: 2 }),
});

const roleName = fc.constantFrom('base', 'shop-front', 'cache', 'db', 'monitoring', 'edge.v2', 'R_1');
const fqdn = fc.constantFrom('web01', 'web02.example.com', 'db-1.eu.example.com', 'x');
const env = fc.constantFrom('production', 'staging', 'dev_1');
const evr = fc.constantFrom('1.4.0-1', '2:1.0.0~rc.1-3.el9', '0.1-1');

export const state: fc.Arbitrary<State> = fc.record({
  repositories: fc.uniqueArray(
    fc.record(
      {
        id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,8}$/),
        baseurl: fc.constantFrom('https://yum.example.com/kelkoo', 'file:///srv/yum/kelkoo'),
        gpgkey: fc.constant('https://yum.example.com/key.asc'),
        gpgcheck: fc.boolean(),
      },
      { requiredKeys: ['id', 'baseurl'] },
    ),
    { selector: (r) => r.id, maxLength: 2 },
  ),
  global: scope,
  environments: fc.dictionary(env, scope, { maxKeys: 2 }),
  roles: fc.dictionary(
    roleName,
    fc.record({
      parents: fc.uniqueArray(roleName, { maxLength: 2 }),
      components: fc.dictionary(component, evr, { maxKeys: 2 }),
      settings: scope.map((s) => s.settings),
      unset: fc.uniqueArray(key, { maxLength: 2 }),
    }) as fc.Arbitrary<RoleDefinition>,
    { maxKeys: 4 },
  ),
  servers: fc.dictionary(
    fqdn,
    fc.record({
      environment: env,
      roles: fc.uniqueArray(roleName, { maxLength: 3 }),
      settings: scope.map((s) => s.settings),
      unset: fc.uniqueArray(key, { maxLength: 2 }),
    }) as fc.Arbitrary<ServerDefinition>,
    { maxKeys: 3 },
  ),
});

/** Strings YAML readers are known to misread (1.1 booleans, numbers, dates, indicators, escapes, line breaks) and injection strings. */
export const YAML_HOSTILE = [
  '', ' ', 'yes', 'No', 'ON', 'off', 'y', 'n', 'null', 'Null', '~', 'true', 'False', '.inf', '-.inf', '.nan', '0777', '0o17', '0x1F',
  '1_000', '12:30:00', '2001-12-14', '1e3', '-1', '+1', '3.', '- a', '-', '? x', ': y', 'a: b', 'a:', 'a #b', '#c', '&anchor', '*alias', '!tag',
  '!!python/object:os.system', '|', '>', '%{facts.os.family}', "%{literal('%')}", '${x}', '$(id)', '`id`', '"quoted"', "'single'", '"a": 1',
  'back\\slash', 'line\nbreak', 'cr\r\nlf', '\ttab', 'trailing ', ' leading', '<script>alert(1)</script>', "'; DROP TABLE servers; --",
  'Robert"); DROP TABLE students;--', '\u0085nel', '\u2028ls', '\u2029ps', '\ufeffbom', '\u007fdel', '\u0007bell', 'é 日本 😀',
  '{a: 1}', '[1, 2]', '[]', '{}', '@at', '=', '<<', '---', '...', 'a\\nb', '\\u0041', '\\"', 'e0', 'E+5', 'e-12',
  '__proto__', 'constructor', 'toString',
];

/** Any value the per-server file's YAML holds: binary strings, hostile strings, numbers, nesting. */
export const yamlValue: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => {
  const key = fc.oneof(fc.constantFrom(...YAML_HOSTILE), fc.string({ unit: 'binary' }));
  const leaf = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.constantFrom(...YAML_HOSTILE),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    fc.boolean(),
  );
  return { v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(key, tie('v'), { maxKeys: 4 })) };
}).v;

/** Whether a file can carry the data: yaml-emit.ts refuses NUL and lone surrogates before writing. */
export const carriable = (v: YamlData): boolean =>
  typeof v === 'string'
    ? !v.includes('\0') && !/\p{Cs}/u.test(v)
    : Array.isArray(v)
      ? v.every(carriable)
      : typeof v === 'object'
        ? Object.entries(v).every(([k, x]) => carriable(k) && carriable(x))
        : true;
