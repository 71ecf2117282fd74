/**
 * A slow, literal reading of docs/geppetto-resolution.md, for property tests only: no memo, no
 * sharing between servers, every chain built. For role DAGs (no cycle: cycles are the checks'
 * business) and values a file can carry. Problems are compared by kind and key, not by message.
 */
import type { Catalog, Definition, ResolvedServer, ResolvedSetting, ScopeDefinitions, Source, State, Value } from '../../../geppetto/model.js';
import { acceptsUndef, parsePuppetType, valueMatches } from '../../../geppetto/resolve/puppet-type.js';
import { deepEqual, isSecretRef } from '../../../geppetto/resolve/values.js';

type Defined = Definition['value'];

export interface Reference {
  components: Record<string, string>;
  settings: Record<string, { key: string; value?: Value | { secret: string }; origin: ResolvedSetting['origin']; secret: boolean; chain: Definition[] }>;
  problems: string[];
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function comparePaths(a: readonly string[], b: readonly string[]): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) {
    const c = cmp(a[i] ?? '', b[i] ?? '');
    if (c !== 0) return c;
  }
  return 0;
}

function own(defs: ScopeDefinitions | undefined, key: string): Defined | undefined {
  if (defs === undefined) return undefined;
  if (Object.prototype.hasOwnProperty.call(defs.settings, key)) return defs.settings[key];
  return defs.unset.includes(key) ? { unset: true } : undefined;
}

/** A server's view of one resolution, in the shape the reference returns. */
export function plainResolution(r: ResolvedServer): Reference {
  const settings: Reference['settings'] = {};
  for (const [k, s] of Object.entries(r.settings)) {
    settings[k] = { key: s.key, ...(s.value !== undefined ? { value: s.value } : {}), origin: s.origin, secret: s.secret, chain: [...s.chain] };
  }
  return {
    components: Object.fromEntries(Object.entries(r.components).map(([c, v]) => [c, v.version.evr])),
    settings,
    problems: r.problems.map((p) => `${p.kind} ${p.key ?? ''}`).sort(cmp),
  };
}

/** Every setting of a resolution with its chain read, as a plain object (to compare chains too). */
export function materialized(r: ResolvedServer | undefined): unknown {
  if (r === undefined) return undefined;
  return { ...r, settings: Object.fromEntries(Object.entries(r.settings).map(([k, s]) => [k, { ...s, chain: s.chain }])) };
}

export function referenceResolve(state: State, catalog: Catalog, fqdn: string): Reference {
  const server = state.servers[fqdn];
  if (server === undefined) throw new Error(`no server ${fqdn}`);
  const roleDef = (r: string) => state.roles[r];
  // The best path from the server to every role it inherits: shortest, then smallest names.
  const best = new Map<string, string[]>();
  const visit = (r: string, path: string[]) => {
    if (roleDef(r) === undefined) return;
    const seen = best.get(r);
    if (seen !== undefined && comparePaths(seen, path) <= 0) return;
    best.set(r, path);
    for (const p of roleDef(r)?.parents ?? []) visit(p, [...path, p]);
  };
  for (const r of server.roles) visit(r, [fqdn, r]);
  const closure = [...best.keys()];
  const descends = (a: string, b: string): boolean => {
    const stack = [...(roleDef(a)?.parents ?? [])];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const x = stack.pop() ?? '';
      if (x === b) return true;
      if (seen.has(x)) continue;
      seen.add(x);
      stack.push(...(roleDef(x)?.parents ?? []));
    }
    return false;
  };
  const source = (scope: Source['scope'], name: string, path: string[]): Source => ({ scope, name, path });
  /** The roles' definitions, winners first (each group by path), and how many win. */
  const roleChain = (get: (r: string) => Defined | undefined): { chain: Definition[]; winners: number } => {
    const defs = closure.flatMap((r) => {
      const v = get(r);
      return v === undefined ? [] : [{ role: r, value: v }];
    });
    const byPath = (a: { role: string }, b: { role: string }) => comparePaths(best.get(a.role) ?? [], best.get(b.role) ?? []);
    const winners = defs.filter((d) => !defs.some((o) => o !== d && descends(o.role, d.role))).sort(byPath);
    const rest = defs.filter((d) => !winners.includes(d)).sort(byPath);
    return { chain: [...winners, ...rest].map((d) => ({ source: source('role', d.role, best.get(d.role) ?? []), value: d.value })), winners: winners.length };
  };

  const problems: string[] = [];
  // The scopes' own faults that resolution hands to the server: a key both set and unset.
  const scopes = [state.global, state.environments[server.environment], ...closure.map(roleDef), server];
  for (const s of scopes) if (s !== undefined) for (const k of new Set(s.unset)) if (Object.prototype.hasOwnProperty.call(s.settings, k)) problems.push(`conflict ${k}`);

  const components: Record<string, string> = {};
  const settings: Reference['settings'] = {};
  const pinned = new Set(closure.flatMap((r) => Object.keys(roleDef(r)?.components ?? {})));
  for (const component of [...pinned].sort(cmp)) {
    const { chain, winners } = roleChain((r) => roleDef(r)?.components[component]);
    const values = chain.slice(0, winners).map((d) => d.value);
    if (values.some((v) => v !== values[0])) {
      problems.push(`version-conflict ${component}`);
      continue;
    }
    const pin = values[0];
    const version = typeof pin === 'string' ? catalog.components[component]?.[pin] : undefined;
    if (version === undefined) {
      problems.push(`unknown-component ${component}`);
      continue;
    }
    components[component] = version.evr;
    const env = state.environments[server.environment];
    for (const parameter of version.parameters) {
      const key = `${component}.${parameter.name}`;
      const chain: Definition[] = [];
      let winners = 0;
      const atServer = own(server, key);
      if (atServer !== undefined) {
        chain.push({ source: source('server', fqdn, [fqdn]), value: atServer });
        winners = 1;
      }
      const roles = roleChain((r) => own(roleDef(r), key));
      chain.push(...roles.chain);
      if (winners === 0) winners = roles.winners;
      const atEnv = own(env, key);
      if (atEnv !== undefined) chain.push({ source: source('environment', server.environment, [fqdn, server.environment]), value: atEnv });
      const atGlobal = own(state.global, key);
      if (atGlobal !== undefined) chain.push({ source: source('global', 'global', [fqdn, server.environment, 'global']), value: atGlobal });
      if (winners === 0 && chain.length > 0) winners = 1;
      const type = parsePuppetType(parameter.type);
      const required = parameter.default === undefined && (type === undefined || !acceptsUndef(type));
      const base = { key, secret: parameter.secret, chain };
      const won = chain.slice(0, winners).map((d) => d.value);
      const value = won[0];
      if (won.some((v) => !deepEqual(v, value))) {
        problems.push(`conflict ${key}`);
        settings[key] = { ...base, origin: 'definition' };
      } else if (value === undefined || (typeof value === 'object' && value !== null && 'unset' in value && Object.keys(value).length === 1)) {
        if (parameter.default === undefined && required) problems.push(`missing ${key}`);
        settings[key] = { ...base, origin: parameter.default !== undefined ? 'default' : 'unset' };
      } else {
        if (isSecretRef(value) ? !parameter.secret : type === undefined || !valueMatches(value, type)) problems.push(`type ${key}`);
        settings[key] = { ...base, value, origin: 'definition' };
      }
    }
    // Keys set for the component that its version does not have.
    const names = new Set(version.parameters.map((p) => p.name));
    const setKeys = new Set<string>();
    for (const s of scopes) if (s !== undefined) for (const k of Object.keys(s.settings)) if (k.startsWith(`${component}.`)) setKeys.add(k);
    for (const k of setKeys) if (!names.has(k.slice(component.length + 1))) problems.push(`unknown-key ${k}`);
  }
  return { components, settings, problems: problems.sort(cmp) };
}
