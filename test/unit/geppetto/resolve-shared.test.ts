// Resolution shares work between servers (per role, set of roles and environment, and chains built
// on demand): these tests check that sharing never hands a server a result that is not its own,
// against a literal reading of the rules (./resolve-reference.ts) on random role DAGs where many
// servers have the same roles in different environments and with settings of their own.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildNodeFile, floatParameters, nodeFileYaml } from '../../../geppetto/file.js';
import type { ResolvedServer, ScopeDefinitions, SecretRef, State, Value } from '../../../geppetto/model.js';
import { explain, resolveServers, Resolver } from '../../../geppetto/resolve/index.js';
import { CACHE, catalog, must, role, server, SHOP, SHOP_15, state } from './helpers.js';
import { materialized, plainResolution, referenceResolve } from './resolve-reference.js';

const CATALOG = catalog(SHOP, SHOP_15, CACHE);
const ROLES = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'];
const SERVERS = ['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9'];
const KEYS: [string, fc.Arbitrary<Value>][] = [
  ['shop.listen_port', fc.constantFrom(1, 2, 'not a number')],
  ['shop.banner', fc.constantFrom('a', 'b')],
  ['shop.catalog_url', fc.constantFrom('http://a', 'http://b')],
  ['shop.features', fc.constantFrom(['x'], ['x', 'y'])],
  ['shop.db_password', fc.constantFrom('plain', 'other')],
  ['cache.size_mb', fc.constantFrom(1, 2)],
  // shop 1.4.0-1 has it, 1.5.0-1 does not: an unknown key wherever that version is pinned
  ['shop.ratio', fc.constantFrom(0.25, 1)],
];
// For files: values of the right types (a Float among them), secrets where the catalog has them.
const FILE_KEYS: [string, fc.Arbitrary<Value | SecretRef>][] = [
  ['shop.listen_port', fc.constantFrom(1, 2)],
  ['shop.banner', fc.constantFrom('a', 'b', 'yes')],
  ['shop.ratio', fc.constantFrom(1, 0.25)],
  ['shop.features', fc.constantFrom(['x'], ['x', 'y'])],
  ['shop.db_password', fc.constantFrom('plain', { secret: 'pw' }, { secret: 'other' })],
  ['cache.size_mb', fc.constantFrom(1, 2)],
];
const keyName = fc.constantFrom(...KEYS.map(([k]) => k));
const settingsOf = (keys: [string, fc.Arbitrary<Value | SecretRef>][], freq: number): fc.Arbitrary<ScopeDefinitions['settings']> =>
  fc
    .tuple(...keys.map(([k, v]) => fc.option(v, { nil: undefined, freq }).map((x) => [k, x] as const)))
    .map((pairs) => Object.fromEntries(pairs.filter(([, x]) => x !== undefined)) as ScopeDefinitions['settings']);
const withSecrets = KEYS.map(([k, v]): [string, fc.Arbitrary<Value | SecretRef>] => [k, fc.oneof({ weight: 6, arbitrary: v }, { weight: 1, arbitrary: fc.constant({ secret: 'pw' }) })]);
const settings = (freq: number): fc.Arbitrary<ScopeDefinitions['settings']> => settingsOf(withSecrets, freq);
const scope = (freq: number): fc.Arbitrary<ScopeDefinitions> => fc.record({ settings: settings(freq), unset: fc.uniqueArray(keyName, { maxLength: 1 }) });
const fileScope = (freq: number): fc.Arbitrary<ScopeDefinitions> => fc.record({ settings: settingsOf(FILE_KEYS, freq), unset: fc.constant([]) });

const states = (scopeOf: (freq: number) => fc.Arbitrary<ScopeDefinitions>): fc.Arbitrary<State> => fc
  .tuple(
    scopeOf(2),
    scopeOf(2),
    scopeOf(2),
    fc.tuple(
      ...ROLES.map((_, i) =>
        fc.record({
          parents: fc.shuffledSubarray(ROLES.slice(0, i), { maxLength: Math.min(3, i) }),
          components: fc.record({ shop: fc.constantFrom('1.4.0-1', '1.5.0-1'), cache: fc.constant('2.0.0-3') }, { requiredKeys: [] }),
          settings: scopeOf(2).map((x) => x.settings),
          unset: scopeOf(2).map((x) => x.unset),
        }),
      ),
    ),
    // Few role lists for many servers: servers share them, in either environment, with or without settings of their own.
    fc.array(fc.shuffledSubarray(ROLES, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
    fc.tuple(...SERVERS.map(() => fc.record({ list: fc.nat(), environment: fc.constantFrom('production', 'staging'), own: scopeOf(6) }))),
  )
  .map(([global, production, staging, roles, lists, servers]) => ({
    repositories: [],
    global,
    environments: { production, staging },
    roles: Object.fromEntries(roles.map((r, i) => [ROLES[i] ?? '', r])),
    servers: Object.fromEntries(
      servers.map((s, i) => [SERVERS[i] ?? '', { environment: s.environment, roles: [...(lists[s.list % lists.length] ?? [])], ...s.own }]),
    ),
  }));
const stateArb = states(scope);
// The keys without default set globally, so that most servers get a file.
const fileStateArb = states(fileScope).map((s) => ({
  ...s,
  global: { settings: { 'shop.catalog_url': 'http://global', 'shop.db_password': { secret: 'pw' }, ...s.global.settings }, unset: [] },
}));

describe('shared resolution', () => {
  it('gives every server what a literal reading of the rules gives it, chains included', () => {
    let shared = 0;
    fc.assert(
      fc.property(stateArb, (s) => {
        const resolved = resolveServers(s, CATALOG);
        const lists = new Set<string>();
        for (const fqdn of SERVERS) {
          const r = must(resolved.get(fqdn), fqdn);
          expect(plainResolution(r), fqdn).toEqual(referenceResolve(s, CATALOG, fqdn));
          const id = [...new Set(s.servers[fqdn]?.roles)].sort().join(',');
          if (lists.has(id)) shared++;
          lists.add(id);
        }
      }),
      { numRuns: 150 },
    );
    // Weak if servers never shared their roles.
    expect(shared).toBeGreaterThan(150);
  });

  it('resolves a server alone as it resolves it among others, whatever was resolved before', () => {
    fc.assert(
      fc.property(stateArb, fc.shuffledSubarray(SERVERS, { minLength: 2 }), (s, order) => {
        const resolver = new Resolver(s, CATALOG);
        const inTurn = new Map(order.map((fqdn) => [fqdn, materialized(resolver.resolve(fqdn))]));
        for (const fqdn of order) expect(inTurn.get(fqdn), fqdn).toEqual(materialized(resolveServers(s, CATALOG, [fqdn]).get(fqdn)));
      }),
      { numRuns: 100 },
    );
  });

  it('never hands two servers with the same roles one result when their own settings or environments differ', () => {
    const s = state({
      global: { settings: { 'shop.banner': 'global', 'shop.catalog_url': 'http://global' }, unset: [] },
      environments: {
        production: { settings: { 'shop.listen_port': 1 }, unset: [] },
        staging: { settings: { 'shop.listen_port': 2, 'shop.banner': 'staging' }, unset: [] },
      },
      roles: {
        base: role({ components: { shop: '1.4.0-1' }, settings: { 'shop.db_password': { secret: 'db' }, 'shop.features': ['base'] } }),
        left: role({ parents: ['base'] }),
        right: role({ parents: ['base'], settings: { 'shop.ratio': 0.25 } }),
      },
      servers: {
        a: server({ roles: ['left', 'right'] }),
        b: server({ roles: ['right', 'left'], settings: { 'shop.banner': 'b', 'shop.features': ['b'] } }),
        c: server({ roles: ['left', 'right'], environment: 'staging' }),
        d: server({ roles: ['left', 'right'], settings: { 'shop.listen_port': 'oops' } }),
      },
    });
    const r = resolveServers(s, CATALOG);
    const a = must(r.get('a'), 'a');
    const b = must(r.get('b'), 'b');
    const c = must(r.get('c'), 'c');
    const d = must(r.get('d'), 'd');
    expect([a, b, c].map((x) => x.problems)).toEqual([[], [], []]);
    expect([a, b, c, d].map((x) => x.settings['shop.banner']?.value)).toEqual(['global', 'b', 'staging', 'global']);
    expect([a, b, c, d].map((x) => x.settings['shop.listen_port']?.value)).toEqual([1, 1, 2, 'oops']);
    expect([a, b, c].map((x) => x.settings['shop.features']?.value)).toEqual([['base'], ['b'], ['base']]);
    // Each chain is the server's own: its name, its environment, its roles' paths.
    expect(a.settings['shop.features']?.chain.map((x) => x.source.path.join(' > '))).toEqual(['a > left > base']);
    expect(b.settings['shop.features']?.chain.map((x) => x.source.path.join(' > '))).toEqual(['b', 'b > left > base']);
    expect(c.settings['shop.banner']?.chain.map((x) => x.source.path.join(' > '))).toEqual(['c > staging', 'c > staging > global']);
    expect(a.settings['shop.ratio']?.chain.map((x) => x.source.path.join(' > '))).toEqual(['a > right']);
    // d's own value is refused; a, with the same roles, is untouched by it.
    expect(d.problems.map((p) => [p.kind, p.server, p.key])).toEqual([['type', 'd', 'shop.listen_port']]);
    expect(explain(a, 'shop.listen_port')).toContain('* 1  from environment production (a > production)');
  });

  it('writes a setting whose chain is built on demand as JSON with its chain, like any other', () => {
    const s = state({
      roles: { base: role({ components: { shop: '1.4.0-1' }, settings: { 'shop.catalog_url': 'http://c', 'shop.db_password': { secret: 'db' } } }) },
      servers: { web01: server({ roles: ['base'] }) },
    });
    const r = must(resolveServers(s, CATALOG).get('web01'), 'web01');
    expect(r.problems).toEqual([]);
    const json = JSON.parse(JSON.stringify(r.settings['shop.catalog_url'])) as unknown;
    expect(json).toEqual({ key: 'shop.catalog_url', value: 'http://c', origin: 'definition', secret: false, chain: [{ source: { scope: 'role', name: 'base', path: ['web01', 'base'] }, value: 'http://c' }] });
  });

  // Publishing builds a file from what the resolution shares (fileClasses, classes made once per
  // role set and environment, their YAML kept): a copy of the resolution takes the general way,
  // through its settings. Both must give the same file, the same JSON (publish hashes it, key
  // order included) and the same bytes, or the same refusal.
  it('builds every file from a shared resolution as from a copy of it: same object, JSON, YAML and errors', () => {
    const reveal = (ref: SecretRef): Value => (ref.secret === 'pw' ? 'revealed pw' : 'x');
    const outcome = (r: ResolvedServer, s: State) => {
      try {
        const file = buildNodeFile(r, s, 3, reveal);
        const floats = floatParameters(r);
        return { file, json: `${JSON.stringify(file)}\n${JSON.stringify(floats)}`, yaml: nodeFileYaml(file, { floats }) };
      } catch (err) {
        return { error: String(err) };
      }
    };
    let built = 0;
    fc.assert(
      fc.property(fileStateArb, (s) => {
        const resolver = new Resolver(s, CATALOG);
        // twice round: the second time, shared classes and their YAML come from what was kept
        for (let round = 0; round < 2; round++) {
          for (const fqdn of SERVERS) {
            const r = resolver.resolve(fqdn);
            const fast = outcome(r, s);
            expect(fast, fqdn).toEqual(outcome({ ...r }, s));
            if ('file' in fast) built++;
          }
        }
      }),
      { numRuns: 150 },
    );
    // Weak if most states were refused.
    expect(built).toBeGreaterThan(500);
  });

  it('gives a later state its own files, never a class or YAML kept from an earlier one', () => {
    const at = (banner: string, port: number): State =>
      state({
        roles: { base: role({ components: { shop: '1.4.0-1' }, settings: { 'shop.catalog_url': 'http://c', 'shop.db_password': 'p', 'shop.banner': banner, 'shop.listen_port': port } }) },
        servers: { a: server({ roles: ['base'] }), b: server({ roles: ['base'] }) },
      });
    const yamlOf = (s: State, fqdn: string) => {
      const r = new Resolver(s, CATALOG).resolve(fqdn);
      return nodeFileYaml(buildNodeFile(r, s, 1, () => 'x'), { floats: floatParameters(r) });
    };
    const one = at('one', 1);
    expect(yamlOf(one, 'a')).toMatch(/^ {4}banner: one\n(?:.*\n)* {4}listen_port: 1\n/m);
    expect(yamlOf(one, 'b')).toMatch(/^ {4}banner: one\n(?:.*\n)* {4}listen_port: 1\n/m);
    expect(yamlOf(at('two', 2), 'a')).toMatch(/^ {4}banner: two\n(?:.*\n)* {4}listen_port: 2\n/m);
  });

  it('reads as a plain resolution: JSON, spread and assignment see components and settings', () => {
    fc.assert(
      fc.property(stateArb, (s) => {
        const resolver = new Resolver(s, CATALOG);
        for (const fqdn of SERVERS) {
          const r = resolver.resolve(fqdn);
          const json = JSON.stringify(r);
          const plain = { fqdn: r.fqdn, environment: r.environment, components: r.components, settings: r.settings, problems: r.problems };
          expect(json).toBe(JSON.stringify(plain));
          expect(Object.keys(r)).toEqual(['fqdn', 'environment', 'components', 'settings', 'problems']);
          const other = resolver.resolve(fqdn);
          other.settings = {};
          expect(other.settings).toEqual({});
        }
      }),
      { numRuns: 50 },
    );
  });
});
