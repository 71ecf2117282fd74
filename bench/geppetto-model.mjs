// A large Geppetto model for the bench and the fault tests: N servers, roles up to 8 levels deep,
// components with 20 keys each. Deterministic (no randomness): the same arguments give the same
// state text and catalog.
//
// Shape: component c000 is pinned by the root role `base`, which every server has; each other
// component is pinned by exactly one role and its keys without default are set there, so the
// model has no conflict. Roles at level L > 0 have one or two parents at level L - 1. Servers
// get `base` plus two roles of the deepest levels, an environment and one setting of their own.

/** @param {{ servers?: number, roles?: number, components?: number, keys?: number, levels?: number }} o */
export function largeModel(o = {}) {
  const servers = o.servers ?? 10_000;
  const roleCount = o.roles ?? 500;
  const componentCount = o.components ?? 200;
  const keyCount = o.keys ?? 20;
  const levels = o.levels ?? 8;
  const pad = (n, w) => String(n).padStart(w, '0');
  const components = Array.from({ length: componentCount }, (_, i) => `c${pad(i, 3)}`);

  /** kelkoo.json-like parameter lists: key 0 Integer, 1 String, 2 without default, 3 secret, the rest defaults */
  const parameters = (c) =>
    Array.from({ length: keyCount }, (_, k) => {
      const name = `k${pad(k, 2)}`;
      if (k === 0) return { name, type: 'Integer', default: 8000, secret: false };
      if (k === 2) return { name, type: 'String', secret: false, description: 'must be set' };
      if (k === 3) return { name, type: 'String', secret: true };
      if (k % 5 === 4) return { name, type: 'Boolean', default: false, secret: false };
      if (k % 5 === 0) return { name, type: 'Array[String]', default: [], secret: false };
      return { name, type: 'String', default: `${c}-${name}`, secret: false };
    });

  const roles = {};
  const byLevel = Array.from({ length: levels }, () => []);
  roles.base = { parents: [], components: { c000: '1.0.0-1' }, settings: { 'c000.k02': 'base', 'c000.k03': 'base-secret' }, unset: [] };
  byLevel[0].push('base');
  for (let i = 1; i < roleCount; i++) {
    const level = 1 + ((i - 1) % (levels - 1));
    const name = `r${pad(i, 3)}-l${level}`;
    const above = byLevel[level - 1];
    const parents = [above[i % above.length]];
    const second = above[(i * 7 + 3) % above.length];
    if (above.length > 1 && second !== parents[0] && i % 3 === 0) parents.push(second);
    const role = { parents, components: {}, settings: {}, unset: [] };
    const c = i < componentCount ? components[i] : undefined;
    if (c) {
      role.components[c] = '1.0.0-1';
      role.settings[`${c}.k02`] = `${name} sets it`;
      role.settings[`${c}.k03`] = `secret-of-${c}`;
      role.settings[`${c}.k00`] = 9000 + i;
    }
    roles[name] = role;
    byLevel[level].push(name);
  }
  const deep = [...byLevel[levels - 1], ...byLevel[levels - 2]];
  const environments = { production: { settings: {}, unset: [] }, staging: { settings: {}, unset: [] }, qa: { settings: {}, unset: [] } };
  const serverDefs = {};
  for (let s = 0; s < servers; s++) {
    const fqdn = `node${pad(s, 5)}.dc${s % 4}.example.com`;
    const r1 = deep[s % deep.length];
    const r2 = deep[(s * 13 + 5) % deep.length];
    serverDefs[fqdn] = {
      environment: ['production', 'staging', 'qa'][s % 3],
      roles: r1 === r2 ? ['base', r1] : ['base', r1, r2],
      settings: { 'c000.k01': `server ${s}` },
      unset: [],
    };
  }
  const state = {
    repositories: [{ id: 'kelkoo', baseurl: 'file:///srv/yum/kelkoo' }],
    global: { settings: { 'c000.k06': 'global' }, unset: [] },
    environments,
    roles,
    servers: serverDefs,
  };
  const catalog = components.map((c) => ({
    checksum: `sha256:${c}-bench`,
    name: `${c}-deploy`,
    evr: '1.0.0-1',
    component: c,
    description: { package: `${c}-deploy`, class: c, parameters: parameters(c) },
  }));
  return { state, catalog, depth: levels, roles: Object.keys(roles).length };
}
