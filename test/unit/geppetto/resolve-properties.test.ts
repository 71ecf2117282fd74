// Properties of resolution over random role DAGs (diamonds included) with settings at every scope,
// small value sets so that conflicts and agreements both happen: the order of parents and of a
// server's roles never changes a result; adding a role to one server changes no other server;
// resolution is deterministic; affectedServers names every server whose resolution a change moves.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResolvedServer, ScopeDefinitions, State, Value } from '../../../geppetto/model.js';
import { affectedServers, resolveServers } from '../../../geppetto/resolve/index.js';
import { CACHE, catalog, SHOP, SHOP_15 } from './helpers.js';
import { materialized } from './resolve-reference.js';

/** Resolutions with every chain read (a chain is built on demand, which toEqual would not see). */
const all = (m: Map<string, ResolvedServer>) => [...m.entries()].map(([k, r]) => [k, materialized(r)]);

const CATALOG = catalog(SHOP, SHOP_15, CACHE);
const ROLES = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'];
const SERVERS = ['s0', 's1', 's2', 's3', 's4'];
const KEYS: [string, fc.Arbitrary<Value>][] = [
  ['shop.listen_port', fc.constantFrom(1, 2, 3)],
  ['shop.banner', fc.constantFrom('a', 'b')],
  ['shop.catalog_url', fc.constantFrom('http://a', 'http://b')],
  ['shop.features', fc.constantFrom(['x'], ['x', 'y'])],
  ['cache.size_mb', fc.constantFrom(1, 2, 'not a number')],
];
const keyName = fc.constantFrom(...KEYS.map(([k]) => k));

const settings: fc.Arbitrary<ScopeDefinitions['settings']> = fc
  .tuple(...KEYS.map(([k, v]) => fc.option(v, { nil: undefined, freq: 3 }).map((x) => [k, x] as const)))
  .map((pairs) => Object.fromEntries(pairs.filter(([, x]) => x !== undefined)) as ScopeDefinitions['settings']);
const scope: fc.Arbitrary<ScopeDefinitions> = fc.record({ settings, unset: fc.uniqueArray(keyName, { maxLength: 1 }) });

const stateArb: fc.Arbitrary<State> = fc
  .tuple(
    scope,
    scope,
    fc.tuple(
      ...ROLES.map((_, i) =>
        fc.record({
          // Parents only among earlier roles: a DAG, with diamonds whenever two paths meet.
          parents: fc.shuffledSubarray(ROLES.slice(0, i), { maxLength: Math.min(3, i) }),
          components: fc.record(
            { shop: fc.constantFrom('1.4.0-1', '1.5.0-1'), cache: fc.constant('2.0.0-3') },
            { requiredKeys: [] },
          ),
          settings,
          unset: fc.uniqueArray(keyName, { maxLength: 1 }),
        }),
      ),
    ),
    fc.tuple(...SERVERS.map(() => fc.record({ roles: fc.shuffledSubarray(ROLES, { maxLength: 3 }), settings, unset: fc.uniqueArray(keyName, { maxLength: 1 }) }))),
  )
  .map(([global, production, roles, servers]) => ({
    repositories: [],
    global,
    environments: { production },
    roles: Object.fromEntries(roles.map((r, i) => [ROLES[i] ?? '', r])),
    servers: Object.fromEntries(servers.map((s, i) => [SERVERS[i] ?? '', { environment: 'production', ...s }])),
  }));

/** The same state with every parent list and every server's role list in another order, and maps in another key order. */
function reordered(s: State, seed: number): State {
  let x = seed >>> 0 || 1;
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const shuffle = <T>(a: readonly T[]): T[] => {
    const out = [...a];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = out[i] as T;
      out[i] = out[j] as T;
      out[j] = t;
    }
    return out;
  };
  const mapShuffled = <T, U>(o: Record<string, T>, f: (v: T) => U): Record<string, U> => Object.fromEntries(shuffle(Object.entries(o)).map(([k, v]) => [k, f(v)]));
  return {
    ...s,
    roles: mapShuffled(s.roles, (r) => ({ ...r, parents: shuffle(r.parents), settings: mapShuffled(r.settings, (v) => v) })),
    servers: mapShuffled(s.servers, (v) => ({ ...v, roles: shuffle(v.roles) })),
  };
}

const RUNS = { numRuns: 150 };

describe('resolution properties', () => {
  it('the order of parents and of a server roles never changes a result', () => {
    fc.assert(
      fc.property(stateArb, fc.integer(), (s, seed) => {
        const a = resolveServers(s, CATALOG);
        const b = resolveServers(reordered(s, seed), CATALOG);
        expect(all(b)).toEqual(all(a));
      }),
      RUNS,
    );
  });

  it('is deterministic, and conflicts do happen in the generated states', () => {
    let conflicts = 0;
    fc.assert(
      fc.property(stateArb, (s) => {
        const a = resolveServers(s, CATALOG);
        expect(all(resolveServers(structuredClone(s), CATALOG))).toEqual(all(a));
        for (const r of a.values()) if (r.problems.some((p) => p.kind === 'conflict' || p.kind === 'version-conflict')) conflicts++;
      }),
      RUNS,
    );
    // The property above would be weak if the generator never made a conflict.
    expect(conflicts).toBeGreaterThan(10);
  });

  it('adding a role to one server changes no other server', () => {
    fc.assert(
      fc.property(stateArb, fc.constantFrom(...SERVERS), fc.constantFrom(...ROLES), scope, (s, target, parent, defs) => {
        const before = resolveServers(s, CATALOG);
        const after = structuredClone(s);
        after.roles.extra = { parents: [parent], components: { shop: '1.5.0-1' }, ...defs };
        after.servers[target]?.roles.push('extra');
        const resolvedAfter = resolveServers(after, CATALOG);
        for (const fqdn of SERVERS) if (fqdn !== target) expect(materialized(resolvedAfter.get(fqdn))).toEqual(materialized(before.get(fqdn)));
        expect(affectedServers(s, after)).toEqual(new Set([target]));
      }),
      RUNS,
    );
  });

  it('affectedServers names every server whose resolution a change moves', () => {
    const change = fc.oneof(
      fc.record({ kind: fc.constant('role' as const), role: fc.constantFrom(...ROLES), defs: scope }),
      fc.record({ kind: fc.constant('parents' as const), role: fc.constantFrom(...ROLES), parents: fc.shuffledSubarray(ROLES.slice(0, 3), { maxLength: 2 }) }),
      fc.record({ kind: fc.constant('environment' as const), defs: scope }),
      fc.record({ kind: fc.constant('server' as const), server: fc.constantFrom(...SERVERS), defs: scope }),
    );
    fc.assert(
      fc.property(stateArb, change, (s, c) => {
        const after = structuredClone(s);
        if (c.kind === 'role') Object.assign(after.roles[c.role] ?? {}, c.defs);
        else if (c.kind === 'parents') {
          const r = after.roles[c.role];
          if (r !== undefined) r.parents = c.parents.filter((p) => p !== c.role);
        }
        else if (c.kind === 'environment') after.environments.production = c.defs;
        else if (c.kind === 'server') Object.assign(after.servers[c.server] ?? {}, c.defs);
        const before = resolveServers(s, CATALOG);
        const moved = resolveServers(after, CATALOG);
        const affected = affectedServers(s, after);
        for (const fqdn of SERVERS) {
          if (!affected.has(fqdn)) expect(materialized(moved.get(fqdn)), fqdn).toEqual(materialized(before.get(fqdn)));
        }
      }),
      RUNS,
    );
  });
});
