// Resolution as docs/geppetto-resolution.md states it: the most specific definitions win, several winners
// that disagree are a conflict naming each path, `unset` removes a key, version pins follow the
// same rule, values are checked against the key's Puppet type, a required key left without value
// is missing, and the state's own faults (cycles, unknown references, malformed keys) block.
import { describe, expect, it } from 'vitest';
import { checkState, explain, resolveServers } from '../../../geppetto/resolve/index.js';
import type { Problem, ResolvedServer, State } from '../../../geppetto/model.js';
import { CACHE, catalog, must, role, server, SHOP, SHOP_15, state, version } from './helpers.js';

const CATALOG = catalog(SHOP, SHOP_15, CACHE);

function resolveOne(s: State, fqdn: string, cat = CATALOG): ResolvedServer {
  const r = resolveServers(s, cat, [fqdn]).get(fqdn);
  if (r === undefined) throw new Error(`${fqdn} not resolved`);
  return r;
}

function paths(defs: { source: { path: string[] } }[] | undefined): string[] {
  return (defs ?? []).map((d) => d.source.path.join(' > '));
}

function kinds(problems: Problem[]): string[] {
  return problems.map((p) => p.kind);
}

/** A state whose web03 has every required key of shop set, on top of `s`. */
function shopState(s: Partial<State>, fqdn = 'web03'): State {
  const base = state(s);
  const srv = base.servers[fqdn];
  if (srv !== undefined) srv.settings = { 'shop.catalog_url': 'http://c', 'shop.db_password': { secret: 'db' }, ...srv.settings };
  return base;
}

describe('overriding', () => {
  it('takes the most specific definition: server over role over parent over environment over global', () => {
    const s = shopState({
      global: { settings: { 'shop.banner': 'global', 'shop.listen_port': 1, 'shop.ratio': 0.1, 'shop.features': ['g'] }, unset: [] },
      environments: { production: { settings: { 'shop.banner': 'env', 'shop.listen_port': 2, 'shop.ratio': 0.2 }, unset: [] } },
      roles: {
        base: role({ settings: { 'shop.banner': 'base', 'shop.listen_port': 3 } }),
        'shop-front': role({ parents: ['base'], components: { shop: '1.4.0-1' }, settings: { 'shop.listen_port': 4 } }),
      },
      servers: { web03: server({ roles: ['shop-front'], settings: { 'shop.listen_port': 5 } }) },
    });
    const r = resolveOne(s, 'web03');
    expect(r.problems).toEqual([]);
    expect(r.settings['shop.listen_port']?.value).toBe(5);
    expect(paths(r.settings['shop.listen_port']?.chain)).toEqual([
      'web03',
      'web03 > shop-front',
      'web03 > shop-front > base',
      'web03 > production',
      'web03 > production > global',
    ]);
    expect(r.settings['shop.banner']).toMatchObject({ value: 'base', origin: 'definition' });
    expect(r.settings['shop.ratio']?.value).toBe(0.2);
    expect(r.settings['shop.features']?.value).toEqual(['g']);
    expect(r.settings['shop.labels']).toMatchObject({ origin: 'default', chain: [] });
    expect(r.settings['shop.labels']?.value).toBeUndefined();
    expect(Object.keys(r.components)).toEqual(['shop']);
    expect(r.components.shop?.version.evr).toBe('1.4.0-1');
    expect(paths(r.components.shop?.chain)).toEqual(['web03 > shop-front']);
  });

  it('diamond: the side that overrides the shared ancestor wins, without conflict', () => {
    const s = shopState({
      roles: {
        base: role({ components: { shop: '1.4.0-1' }, settings: { 'shop.listen_port': 1 } }),
        left: role({ parents: ['base'], settings: { 'shop.listen_port': 2 } }),
        right: role({ parents: ['base'] }),
        top: role({ parents: ['left', 'right'] }),
      },
      servers: { web03: server({ roles: ['top'] }) },
    });
    const r = resolveOne(s, 'web03');
    expect(r.problems).toEqual([]);
    expect(r.settings['shop.listen_port']?.value).toBe(2);
    // Winner first; base is reached two ways, shown once by its shortest path (left before right).
    expect(paths(r.settings['shop.listen_port']?.chain)).toEqual(['web03 > top > left', 'web03 > top > left > base']);
  });

  it('diamond: both sides overriding differently is a conflict naming both paths', () => {
    const s = shopState({
      roles: {
        base: role({ components: { shop: '1.4.0-1' }, settings: { 'shop.listen_port': 1 } }),
        left: role({ parents: ['base'], settings: { 'shop.listen_port': 2 } }),
        right: role({ parents: ['base'], settings: { 'shop.listen_port': 3 } }),
        top: role({ parents: ['right', 'left'] }),
      },
      servers: { web03: server({ roles: ['top'] }) },
    });
    const r = resolveOne(s, 'web03');
    expect(kinds(r.problems)).toEqual(['conflict']);
    const [conflict] = r.problems;
    expect(conflict?.key).toBe('shop.listen_port');
    expect(conflict?.server).toBe('web03');
    expect(paths(conflict?.definitions)).toEqual(['web03 > top > left', 'web03 > top > right']);
    expect(conflict?.message).toContain('2 at web03 > top > left');
    expect(conflict?.message).toContain('3 at web03 > top > right');
    expect(r.settings['shop.listen_port']?.value).toBeUndefined();
  });

  it('two roles of a server disagreeing is a conflict with both paths, whatever their order', () => {
    const s = shopState({
      roles: {
        base: role({ settings: { 'shop.listen_port': 8081 } }),
        'shop-front': role({ parents: ['base'], components: { shop: '1.4.0-1' } }),
        cache: role({ components: { cache: '2.0.0-3' }, settings: { 'shop.listen_port': 9090 } }),
      },
      servers: { web03: server({ roles: ['shop-front', 'cache'] }), web04: server({ roles: ['cache', 'shop-front'] }) },
    });
    must(s.servers.web04, 'web04').settings = { ...must(s.servers.web03, 'web03').settings };
    for (const fqdn of ['web03', 'web04']) {
      const r = resolveOne(s, fqdn);
      expect(kinds(r.problems)).toEqual(['conflict']);
      expect(paths(r.problems[0]?.definitions)).toEqual([`${fqdn} > cache`, `${fqdn} > shop-front > base`]);
    }
  });

  it('a child overriding both sides settles the conflict', () => {
    const s = shopState({
      roles: {
        base: role({ components: { shop: '1.4.0-1' }, settings: { 'shop.listen_port': 1 } }),
        left: role({ parents: ['base'], settings: { 'shop.listen_port': 2 } }),
        right: role({ parents: ['base'], settings: { 'shop.listen_port': 3 } }),
        top: role({ parents: ['left', 'right'], settings: { 'shop.listen_port': 4 } }),
      },
      servers: { web03: server({ roles: ['top'] }) },
    });
    const r = resolveOne(s, 'web03');
    expect(r.problems).toEqual([]);
    expect(r.settings['shop.listen_port']?.value).toBe(4);
    expect(paths(r.settings['shop.listen_port']?.chain)).toEqual([
      'web03 > top',
      'web03 > top > left',
      'web03 > top > right',
      'web03 > top > left > base',
    ]);
  });

  it('equal values from two sides are no conflict (deep equality)', () => {
    const s = shopState({
      roles: {
        left: role({ components: { shop: '1.4.0-1' }, settings: { 'shop.labels': { a: '1', b: '2' } } }),
        right: role({ settings: { 'shop.labels': { b: '2', a: '1' } } }),
      },
      servers: { web03: server({ roles: ['left', 'right'] }) },
    });
    const r = resolveOne(s, 'web03');
    expect(r.problems).toEqual([]);
    expect(r.settings['shop.labels']?.value).toEqual({ a: '1', b: '2' });
    expect(r.settings['shop.labels']?.chain).toHaveLength(2);
  });

  it('a role overrides the environment and global even when it sits deep in the hierarchy', () => {
    const s = shopState({
      environments: { production: { settings: { 'shop.banner': 'env' }, unset: [] } },
      roles: { base: role({ settings: { 'shop.banner': 'deep' } }), mid: role({ parents: ['base'] }), top: role({ parents: ['mid'], components: { shop: '1.4.0-1' } }) },
      servers: { web03: server({ roles: ['top'] }) },
    });
    expect(resolveOne(s, 'web03').settings['shop.banner']?.value).toBe('deep');
  });
});

describe('unset', () => {
  it('removes the key: the class default applies, and it is a value that overrides', () => {
    const s = shopState({
      global: { settings: { 'shop.banner': 'global' }, unset: [] },
      roles: { 'shop-front': role({ components: { shop: '1.4.0-1' }, unset: ['shop.banner'] }) },
      servers: { web03: server({ roles: ['shop-front'] }) },
    });
    const r = resolveOne(s, 'web03');
    expect(r.problems).toEqual([]);
    expect(r.settings['shop.banner']).toMatchObject({ origin: 'default' });
    expect(r.settings['shop.banner']?.value).toBeUndefined();
    expect(r.settings['shop.banner']?.chain.map((d) => d.value)).toEqual([{ unset: true }, 'global']);
  });

  it('conflicts with a value from a sibling like any other value', () => {
    const s = shopState({
      roles: { a: role({ components: { shop: '1.4.0-1' }, unset: ['shop.banner'] }), b: role({ settings: { 'shop.banner': 'b' } }) },
      servers: { web03: server({ roles: ['a', 'b'] }) },
    });
    expect(kinds(resolveOne(s, 'web03').problems)).toEqual(['conflict']);
  });

  it('of a key without default makes it missing', () => {
    const s = shopState({
      roles: { a: role({ components: { shop: '1.4.0-1' } }) },
      servers: { web03: server({ roles: ['a'], unset: ['shop.catalog_url'] }) },
    });
    must(s.servers.web03, 'web03').settings = { 'shop.db_password': { secret: 'x' } };
    const r = resolveOne(s, 'web03');
    expect(kinds(r.problems)).toEqual(['missing']);
    expect(r.problems[0]?.message).toMatch(/web03: shop\.catalog_url has no value and no default \(unset at web03\)/);
    expect(r.settings['shop.catalog_url']?.origin).toBe('unset');
  });
});

describe('missing, types, unknown keys', () => {
  const roles = { 'shop-front': role({ components: { shop: '1.4.0-1' } }) };

  it('a key without default and without value is missing, naming server and key; Optional is not', () => {
    const r = resolveOne(state({ roles, servers: { web03: server({ roles: ['shop-front'] }) } }), 'web03');
    expect(r.problems.map((p) => [p.kind, p.server, p.key])).toEqual([
      ['missing', 'web03', 'shop.catalog_url'],
      ['missing', 'web03', 'shop.db_password'],
    ]);
    expect(r.settings['shop.motto']).toMatchObject({ origin: 'unset' });
  });

  it('values are checked against the key type', () => {
    const cases: [string, unknown][] = [
      ['shop.listen_port', '8080'],
      ['shop.listen_port', 80.5],
      ['shop.banner', 42],
      ['shop.features', ['a', 1]],
      ['shop.features', 'a'],
      ['shop.labels', { a: 1 }],
      ['shop.labels', ['a']],
      ['shop.ratio', 'x'],
      ['shop.motto', true],
    ];
    for (const [key, value] of cases) {
      const s = shopState({ roles, servers: { web03: server({ roles: ['shop-front'], settings: { [key]: value as never } }) } });
      const r = resolveOne(s, 'web03');
      expect(kinds(r.problems), `${key} = ${JSON.stringify(value)}`).toEqual(['type']);
      expect(r.problems[0]?.key).toBe(key);
      expect(r.problems[0]?.message).toContain('(set at web03)');
    }
    const ok: [string, unknown][] = [
      ['shop.listen_port', 9090],
      ['shop.ratio', 3],
      ['shop.ratio', 0.75],
      ['shop.features', []],
      ['shop.labels', { 'a b': '%{x}' }],
      ['shop.motto', 'm'],
    ];
    for (const [key, value] of ok) {
      const s = shopState({ roles, servers: { web03: server({ roles: ['shop-front'], settings: { [key]: value as never } }) } });
      expect(resolveOne(s, 'web03').problems, `${key} = ${JSON.stringify(value)}`).toEqual([]);
    }
  });

  it('refuses text no file can carry (NUL)', () => {
    const s = shopState({ roles, servers: { web03: server({ roles: ['shop-front'], settings: { 'shop.banner': 'a\u0000b' } }) } });
    expect(resolveOne(s, 'web03').problems[0]?.message).toMatch(/NUL/);
  });

  it('a secret reference on a key that is not secret is refused; on a secret key it is kept as a reference', () => {
    const s = shopState({ roles, servers: { web03: server({ roles: ['shop-front'], settings: { 'shop.banner': { secret: 'b' } } }) } });
    const r = resolveOne(s, 'web03');
    expect(kinds(r.problems)).toEqual(['type']);
    expect(r.problems[0]?.message).toMatch(/not a secret parameter/);
    const ok = resolveOne(shopState({ roles, servers: { web03: server({ roles: ['shop-front'] }) } }), 'web03');
    expect(ok.settings['shop.db_password']).toMatchObject({ value: { secret: 'db' }, secret: true, origin: 'definition' });
  });

  it('a key the component version lacks is unknown-key, naming where it is set; other components are ignored', () => {
    const s = shopState({
      global: { settings: { 'shop.colour': 'red', 'other.thing': 1 }, unset: ['shop.gone'] },
      roles: { 'shop-front': role({ components: { shop: '1.4.0-1' }, settings: { 'shop.colour': 'blue' } }) },
      servers: { web03: server({ roles: ['shop-front'] }) },
    });
    const r = resolveOne(s, 'web03');
    expect(kinds(r.problems)).toEqual(['unknown-key']);
    expect(r.problems[0]?.message).toBe('web03: shop.colour: shop 1.4.0-1 has no parameter colour (set at web03 > shop-front, web03 > production > global)');
  });

  it('a key the version lacks set only globally or only by the environment is unknown-key for every server, whatever it shares', () => {
    for (const where of ['global', 'environment'] as const) {
      const defs = { settings: { 'shop.colour': 'red' }, unset: [] };
      const s = shopState({
        ...(where === 'global' ? { global: defs } : { environments: { production: defs } }),
        roles: { 'shop-front': role({ components: { shop: '1.4.0-1' }, settings: { 'shop.catalog_url': 'http://c', 'shop.db_password': 'p' } }) },
        // two servers with the same roles: the second is resolved from what the first left
        servers: { web03: server({ roles: ['shop-front'] }), web04: server({ roles: ['shop-front'] }) },
      });
      const all = resolveServers(s, catalog(SHOP));
      for (const fqdn of ['web03', 'web04']) {
        expect(all.get(fqdn)?.problems.map((p) => p.message), where).toEqual([
          `${fqdn}: shop.colour: shop 1.4.0-1 has no parameter colour (set at ${where === 'global' ? `${fqdn} > production > global` : `${fqdn} > production`})`,
        ]);
      }
    }
  });

  it('a type the resolver cannot read is reported, not guessed', () => {
    const odd = version('odd', '1-1', { x: { type: 'Sensitive[Frobnicate]', default: 'a' } });
    const s = state({ roles: { r: role({ components: { odd: '1-1' } }) }, servers: { h: server({ roles: ['r'], settings: { 'odd.x': 'b' } }) } });
    expect(resolveOne(s, 'h', catalog(odd)).problems[0]?.message).toMatch(/its type Sensitive\[Frobnicate\] is not one Geppetto can check/);
  });
});

describe('version pins', () => {
  it('follow the same rule: a child pin overrides its parent, two roles disagreeing conflict', () => {
    const s = shopState({
      roles: {
        base: role({ components: { shop: '1.4.0-1', cache: '2.0.0-3' } }),
        newer: role({ parents: ['base'], components: { shop: '1.5.0-1' } }),
        pinned: role({ components: { shop: '1.4.0-1' } }),
      },
      servers: { web03: server({ roles: ['newer'] }), web04: server({ roles: ['newer', 'pinned'] }) },
    });
    const r3 = resolveOne(s, 'web03');
    expect(r3.problems).toEqual([]);
    expect(r3.components.shop?.version.evr).toBe('1.5.0-1');
    expect(paths(r3.components.shop?.chain)).toEqual(['web03 > newer', 'web03 > newer > base']);
    expect(Object.keys(r3.components)).toEqual(['cache', 'shop']);
    const r4 = resolveOne(s, 'web04');
    expect(kinds(r4.problems)).toEqual(['version-conflict']);
    expect(paths(r4.problems[0]?.definitions)).toEqual(['web04 > newer', 'web04 > pinned']);
    expect(r4.problems[0]?.message).toContain('"1.5.0-1" at web04 > newer');
    // Without a version, the component's settings cannot be checked: they are left out.
    expect(Object.keys(r4.components)).toEqual(['cache']);
    expect(Object.keys(r4.settings).some((k) => k.startsWith('shop.'))).toBe(false);
  });

  it('a version or component the catalog lacks is unknown-component', () => {
    const s = state({ roles: { r: role({ components: { shop: '9.9.9-1', nope: '1-1' } }) }, servers: { h: server({ roles: ['r'] }) } });
    const r = resolveOne(s, 'h');
    expect(r.problems.map((p) => p.message)).toEqual([
      'h: component nope (pinned at h > r) is not in any repository',
      'h: shop 9.9.9-1 (pinned at h > r) is not in any repository',
    ]);
  });
});

describe('the state itself', () => {
  it('cycles are refused, each named by its path, and resolution still ends', () => {
    const s = shopState({
      roles: {
        a: role({ parents: ['b'], components: { shop: '1.4.0-1' } }),
        b: role({ parents: ['c'] }),
        c: role({ parents: ['a'] }),
        self: role({ parents: ['self'] }),
        ok: role(),
      },
      servers: { web03: server({ roles: ['a'] }), web04: server({ roles: ['ok'] }) },
    });
    const problems = checkState(s);
    expect(problems.map((p) => p.message)).toEqual(['roles inherit from themselves: a > b > c > a', 'roles inherit from themselves: self > self']);
    expect(kinds(resolveOne(s, 'web03').problems)).toContain('cycle');
    expect(resolveOne(s, 'web04').problems).toEqual([]);
  });

  it('unknown roles, parents and environments, and malformed keys are named', () => {
    const s = state({
      global: { settings: { nodot: 1, 'Shop.x': 1 }, unset: ['shop.'] },
      roles: { r: role({ parents: ['ghost'], components: { Shop: '1-1', shop: 'latest' }, settings: { 'shop.banner': 'a' }, unset: ['shop.banner'] }) },
      servers: { h: server({ environment: 'staging', roles: ['r', 'phantom'] }) },
    });
    expect(checkState(s).map((p) => `${p.kind}: ${p.message}`)).toEqual([
      'malformed: global: settings: "Shop.x" is not a setting key <component>.<key> (e.g. shop.listen_port)',
      'malformed: global: settings: "nodot" is not a setting key <component>.<key> (e.g. shop.listen_port)',
      'malformed: global: unset: "shop." is not a setting key <component>.<key> (e.g. shop.listen_port)',
      'unknown-reference: role r: parent "ghost" is not a role',
      'malformed: role r: components: "Shop" is not a component name (^[a-z][a-z0-9-]*$)',
      'malformed: role r: components.shop: "latest" is not a version-release (e.g. 1.4.0-1)',
      'conflict: role r: shop.banner is both set and unset',
      'unknown-reference: server h: environment "staging" is not an environment',
      'unknown-reference: server h: role "phantom" is not a role',
    ]);
    // Every server holding one of those scopes is blocked by them.
    expect(resolveOne(s, 'h').problems.length).toBeGreaterThanOrEqual(9);
  });

  it('a server only gets the problems of its own scopes', () => {
    const s = shopState({
      roles: { broken: role({ parents: ['ghost'] }), 'shop-front': role({ components: { shop: '1.4.0-1' } }) },
      servers: { web03: server({ roles: ['shop-front'] }), web09: server({ roles: ['broken'] }) },
    });
    expect(resolveOne(s, 'web03').problems).toEqual([]);
    expect(kinds(resolveOne(s, 'web09').problems)).toEqual(['unknown-reference']);
  });
});

describe('resolveServers', () => {
  it('resolves every server, or only those named', () => {
    const s = state({ servers: { b: server(), a: server(), c: server() } });
    expect([...resolveServers(s, CATALOG).keys()]).toEqual(['a', 'b', 'c']);
    expect([...resolveServers(s, CATALOG, ['c', 'zz', 'a']).keys()]).toEqual(['a', 'c']);
  });
});

describe('explain', () => {
  const s = shopState({
    global: { settings: { 'shop.listen_port': 1 }, unset: [] },
    roles: {
      base: role({ components: { shop: '1.4.0-1' }, settings: { 'shop.listen_port': 2 } }),
      left: role({ parents: ['base'], settings: { 'shop.listen_port': 3 } }),
      right: role({ parents: ['base'], settings: { 'shop.listen_port': 4 } }),
      top: role({ parents: ['left', 'right'] }),
    },
    servers: { web03: server({ roles: ['top'] }) },
  });

  it('prints a key with its chain, winners marked, and the conflict', () => {
    const text = explain(resolveOne(s, 'web03'), 'shop.listen_port');
    expect(text).toBe(
      [
        'web03 shop.listen_port',
        '  value:  (conflict)',
        '  origin: set at role left (web03 > top > left)',
        '  chain (winners first):',
        '    * 3  from role left (web03 > top > left)',
        '    * 4  from role right (web03 > top > right)',
        '      2  (overridden) from role base (web03 > top > left > base)',
        '      1  (overridden) from global (web03 > production > global)',
        '  conflict: web03: shop.listen_port has conflicting values: 3 at web03 > top > left and 4 at web03 > top > right; set it on a scope that inherits both',
        '',
      ].join('\n'),
    );
  });

  it('prints a whole server: components, settings with origins, problems; never a secret value', () => {
    const text = explain(resolveOne(s, 'web03'));
    expect(text).toContain('shop 1.4.0-1 (shop-deploy, class shop) pinned at web03 > top > left > base');
    expect(text).toContain('shop.banner = "Welcome"  [class default]');
    expect(text).toContain('shop.db_password = <secret "db">  [set at server web03 (web03)]');
    expect(text).toContain('problems (1, publishing blocked):');
  });

  it('says when the key is not one of the server', () => {
    expect(explain(resolveOne(s, 'web03'), 'cache.size_mb')).toContain('web03 does not have the component cache');
    expect(explain(resolveOne(s, 'web03'), 'shop.nope')).toContain('shop 1.4.0-1 has no parameter nope');
  });
});

describe('the worked example of docs/geppetto-resolution.md', () => {
  const shop = version('shop', '1.4.0-1', {
    listen_port: { type: 'Integer', default: 8080 },
    banner: { type: 'String', default: 'Welcome' },
    catalog_url: { type: 'String' },
  });
  const s = state({
    global: { settings: { 'shop.banner': 'Hello', 'shop.listen_port': 80 }, unset: [] },
    environments: { production: { settings: { 'shop.listen_port': 8000 }, unset: [] } },
    roles: {
      base: role({ components: { shop: '1.4.0-1' }, settings: { 'shop.listen_port': 8080 } }),
      'shop-front': role({ parents: ['base'], unset: ['shop.banner'] }),
      cache: role({ settings: { 'shop.listen_port': 9090 } }),
      edge: role({ parents: ['shop-front', 'cache'] }),
    },
    servers: {
      web03: server({ roles: ['shop-front', 'cache'] }),
      web04: server({ roles: ['edge'], settings: { 'shop.catalog_url': 'http://c' } }),
      web05: server({ roles: ['shop-front'], settings: { 'shop.listen_port': 7000 } }),
    },
  });
  const all = resolveServers(s, catalog(shop));

  it('says what the page says', () => {
    const [web03, web04, web05] = ['web03', 'web04', 'web05'].map((n) => all.get(n));
    expect(web03?.problems.map((p) => [p.kind, p.key, paths(p.definitions)])).toEqual([
      ['missing', 'shop.catalog_url', []],
      ['conflict', 'shop.listen_port', ['web03 > cache', 'web03 > shop-front > base']],
    ]);
    expect(web04?.problems.map((p) => [p.kind, p.key, paths(p.definitions)])).toEqual([
      ['conflict', 'shop.listen_port', ['web04 > edge > cache', 'web04 > edge > shop-front > base']],
    ]);
    expect(web05?.problems.map((p) => p.message)).toEqual(['web05: shop.catalog_url has no value and no default (no scope sets it); set it for this server']);
    for (const r of [web03, web04, web05]) expect(r?.settings['shop.banner']).toMatchObject({ origin: 'default' });
    expect(web05 && explain(web05, 'shop.listen_port')).toBe(
      [
        'web05 shop.listen_port',
        '  value:  7000',
        '  origin: set at server web05 (web05)',
        '  chain (winners first):',
        '    * 7000  from server web05 (web05)',
        '      8080  (overridden) from role base (web05 > shop-front > base)',
        '      8000  (overridden) from environment production (web05 > production)',
        '      80  (overridden) from global (web05 > production > global)',
        '',
      ].join('\n'),
    );
  });
});
