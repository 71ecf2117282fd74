/**
 * Resolution (docs/geppetto-resolution.md): for a server S in environment E with roles R1..Rn, a
 * definition is overridden by a definition of the same key at a scope that descends from its own
 * (S over its roles, a role over its ancestors, any role over E, E over global). The definitions
 * left are the winners: one distinct value among them is the value, several are a conflict, never
 * settled by the order of parents or roles. `unset` is a value that removes the key. Version pins
 * follow the same rule over the roles.
 *
 * Work is shared: role inheritance is memoized per role and key (./layer.ts), a key no role of a
 * server's closure defines costs no walk, each component version's parameters are read once, a
 * value is type-checked once per type, and a key that only its class default sets is one frozen
 * ResolvedSetting shared by every server (resolutions are read-only: do not edit them).
 */
import type {
  Catalog,
  SecretRef,
  ComponentVersion,
  Definition,
  ParameterDefinition,
  Problem,
  ResolvedServer,
  ResolvedSetting,
  ScopeDefinitions,
  Source,
  State,
  Value,
} from '../model.js';
import { checkScopes, type ScopedProblem } from './check.js';
import { RoleGraph } from './graph.js';
import { compareStrings, parseSettingKey } from './keys.js';
import { type Entry, Layer } from './layer.js';
import { acceptsUndef, parsePuppetType, type PuppetType, valueMatches } from './puppet-type.js';
import { deepEqual, type DefinedValue, isSecretRef, isUnset, showValue, UNSET } from './values.js';

interface ParameterInfo {
  key: string;
  parameter: ParameterDefinition;
  type: PuppetType | undefined;
  /** No default and undef not accepted: resolving to nothing is `missing`. */
  required: boolean;
  /** The setting of a key no scope defines, when that is no problem: shared (frozen) by every server. */
  defaultOnly: ResolvedSetting | undefined;
}

interface VersionInfo {
  parameters: ParameterInfo[];
  names: ReadonlySet<string>;
}

/** A scope's definitions by key (settings, then `unset`), and its keys set per component. */
interface ScopeIndex {
  defs: Map<string, DefinedValue>;
  byComponent: Map<string, string[]>;
}

const EMPTY_SCOPE: ScopeIndex = { defs: new Map(), byComponent: new Map() };

function indexScope(defs: ScopeDefinitions | undefined): ScopeIndex {
  if (defs === undefined) return EMPTY_SCOPE;
  const map = new Map<string, DefinedValue>();
  const byComponent = new Map<string, string[]>();
  for (const [key, value] of Object.entries(defs.settings)) {
    map.set(key, value);
    const parsed = parseSettingKey(key);
    if (parsed === undefined) continue;
    const list = byComponent.get(parsed.component);
    if (list === undefined) byComponent.set(parsed.component, [key]);
    else list.push(key);
  }
  // A key both set and unset by one scope is a problem (check.ts); the setting is kept.
  for (const key of defs.unset) if (!map.has(key)) map.set(key, UNSET);
  return { defs: map, byComponent };
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) deepFreeze(v as object);
  return Object.freeze(o);
}

function joinPath(path: readonly string[]): string {
  return path.join(' > ');
}

function describe(d: Definition): string {
  return `${showValue(d.value)} at ${joinPath(d.source.path)}`;
}

/** `ok`, `mismatch`, `uncheckable` (a type not understood), or what makes the value uncarriable. */
type Verdict = string;

function verdictOf(v: Value, t: PuppetType | undefined): Verdict {
  const bad = uncarriable(v);
  if (bad !== undefined) return bad;
  if (t === undefined) return 'uncheckable';
  return valueMatches(v, t) ? 'ok' : 'mismatch';
}

// Values are shared by every server that inherits them: each is checked once per type. Objects by
// identity; strings, numbers and booleans in a map per type, emptied when it grows large.
const objectVerdicts = new WeakMap<object, Map<PuppetType | undefined, Verdict>>();
const scalarVerdicts = new Map<PuppetType | undefined, Map<string | number | boolean, Verdict>>();
let scalarCount = 0;

function checkValue(v: Value, t: PuppetType | undefined): Verdict {
  if (typeof v === 'object') {
    let perType = objectVerdicts.get(v);
    if (perType === undefined) {
      perType = new Map();
      objectVerdicts.set(v, perType);
    }
    let verdict = perType.get(t);
    if (verdict === undefined) {
      verdict = verdictOf(v, t);
      perType.set(t, verdict);
    }
    return verdict;
  }
  let perType = scalarVerdicts.get(t);
  if (perType === undefined) {
    perType = new Map();
    scalarVerdicts.set(t, perType);
  }
  let verdict = perType.get(v);
  if (verdict === undefined) {
    verdict = verdictOf(v, t);
    if (scalarCount++ > 100_000) {
      scalarVerdicts.clear();
      scalarCount = 0;
    }
    perType.set(v, verdict);
  }
  return verdict;
}

/** Text no file can carry (NUL, a lone surrogate), anywhere in a value. */
function uncarriable(v: Value): string | undefined {
  if (typeof v === 'string') {
    const nul = v.indexOf('\0');
    if (nul >= 0) return `a NUL character at index ${nul}`;
    const lone = /\p{Cs}/u.exec(v);
    return lone === null ? undefined : `a lone UTF-16 surrogate at index ${lone.index}`;
  }
  if (Array.isArray(v)) {
    for (const x of v) {
      const bad = uncarriable(x);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  if (typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const bad = uncarriable(k) ?? uncarriable(x);
      if (bad !== undefined) return bad;
    }
  }
  return undefined;
}

export class Resolver {
  private readonly graph: RoleGraph;
  private readonly settings: Layer;
  private readonly pins: Layer;
  private readonly roleScopes = new Map<string, ScopeIndex>();
  private readonly environmentScopes = new Map<string, ScopeIndex>();
  private readonly global: ScopeIndex;
  private readonly versions = new Map<ComponentVersion, VersionInfo>();
  private readonly problemsByScope = new Map<string, Problem[]>();
  private readonly pinned = new Map<string, ReadonlySet<string>>();
  private readonly roleKeys = new Map<string, Map<string, ReadonlySet<string>>>();

  constructor(
    private readonly state: State,
    private readonly catalog: Catalog,
  ) {
    this.graph = new RoleGraph(state.roles);
    this.global = indexScope(state.global);
    this.settings = new Layer(
      this.graph,
      (role, key) => this.roleScope(role).defs.get(key),
      (role) => this.roleScope(role).defs.keys(),
    );
    this.pins = new Layer(
      this.graph,
      (role, component) => {
        const def = this.state.roles[role];
        return def !== undefined && Object.prototype.hasOwnProperty.call(def.components, component) ? def.components[component] : undefined;
      },
      (role) => Object.keys(this.state.roles[role]?.components ?? {}),
    );
    for (const sp of checkScopes(state, this.graph)) this.scopeProblems(sp).push(sp.problem);
  }

  private scopeProblems(sp: Pick<ScopedProblem, 'scope' | 'name'>): Problem[] {
    const id = `${sp.scope}\0${sp.name}`;
    let list = this.problemsByScope.get(id);
    if (list === undefined) {
      list = [];
      this.problemsByScope.set(id, list);
    }
    return list;
  }

  private roleScope(role: string): ScopeIndex {
    let index = this.roleScopes.get(role);
    if (index === undefined) {
      index = indexScope(this.state.roles[role]);
      this.roleScopes.set(role, index);
    }
    return index;
  }

  private environmentScope(env: string): ScopeIndex {
    let index = this.environmentScopes.get(env);
    if (index === undefined) {
      index = Object.prototype.hasOwnProperty.call(this.state.environments, env) ? indexScope(this.state.environments[env]) : EMPTY_SCOPE;
      this.environmentScopes.set(env, index);
    }
    return index;
  }

  private versionInfo(v: ComponentVersion): VersionInfo {
    let info = this.versions.get(v);
    if (info === undefined) {
      const parameters = [...v.parameters]
        .sort((a, b) => compareStrings(a.name, b.name))
        .map((parameter) => {
          const type = parsePuppetType(parameter.type);
          const required = parameter.default === undefined && (type === undefined || !acceptsUndef(type));
          const key = `${v.component}.${parameter.name}`;
          const origin = parameter.default !== undefined ? 'default' : 'unset';
          const defaultOnly = required ? undefined : deepFreeze<ResolvedSetting>({ key, origin, secret: parameter.secret, chain: [] });
          return { key, parameter, type, required, defaultOnly };
        });
      info = { parameters, names: new Set(v.parameters.map((p) => p.name)) };
      this.versions.set(v, info);
    }
    return info;
  }

  /** Components pinned by the role or its ancestors. */
  private pinnedBy(role: string): ReadonlySet<string> {
    let set = this.pinned.get(role);
    if (set === undefined) {
      const s = new Set<string>();
      for (const r of [role, ...this.graph.ancestors(role)]) {
        const def = this.state.roles[r];
        if (def !== undefined) for (const c of Object.keys(def.components)) s.add(c);
      }
      set = s;
      this.pinned.set(role, set);
    }
    return set;
  }

  /** Keys of `component` set (not unset) by the role or its ancestors. */
  private keysBy(role: string, component: string): ReadonlySet<string> {
    let perRole = this.roleKeys.get(role);
    if (perRole === undefined) {
      perRole = new Map();
      this.roleKeys.set(role, perRole);
    }
    let set = perRole.get(component);
    if (set === undefined) {
      const s = new Set<string>();
      for (const r of [role, ...this.graph.ancestors(role)]) for (const k of this.roleScope(r).byComponent.get(component) ?? []) s.add(k);
      set = s;
      perRole.set(component, set);
    }
    return set;
  }

  /** What the server's roles inherit together for a key (one role: its memoized entry). */
  private static inherited(layer: Layer, roles: readonly string[], key: string): Entry | undefined {
    const only = roles.length === 1 ? roles[0] : undefined;
    return only !== undefined ? layer.entry(only, key) : layer.combine(roles, key);
  }

  resolve(fqdn: string): ResolvedServer {
    const server = this.state.servers[fqdn];
    if (server === undefined) throw new Error(`no server ${fqdn}`);
    const env = server.environment;
    const roles = [...new Set(server.roles)].filter((r) => this.graph.has(r)).sort(compareStrings);
    const closure = new Set<string>(roles);
    for (const r of roles) for (const a of this.graph.ancestors(r)) closure.add(a);

    const problems: Problem[] = [];
    const seen = new Set<Problem>();
    const scoped = (scope: Source['scope'], name: string) => {
      for (const p of this.problemsByScope.get(`${scope}\0${name}`) ?? []) {
        if (seen.has(p)) continue;
        seen.add(p);
        problems.push(p.server === fqdn ? p : { ...p, server: fqdn });
      }
    };
    scoped('global', 'global');
    scoped('environment', env);
    for (const r of [...closure].sort(compareStrings)) scoped('role', r);
    scoped('server', fqdn);

    const serverScope = indexScope(server);
    const envScope = this.environmentScope(env);

    // Where each kind of definition sits on the way from the server: its path.
    const serverSource: Source = { scope: 'server', name: fqdn, path: [fqdn] };
    const envSource: Source = { scope: 'environment', name: env, path: [fqdn, env] };
    const globalSource: Source = { scope: 'global', name: 'global', path: [fqdn, env, 'global'] };
    // Role paths are shared arrays (layer.ts): one Source per path serves every key of this server.
    const roleSources = new Map<readonly string[], Source>();
    const roleDefinitions = (defs: readonly { role: string; path: readonly string[]; value: DefinedValue }[]): Definition[] =>
      defs.map((d) => {
        let source = roleSources.get(d.path);
        if (source === undefined) {
          source = { scope: 'role', name: d.role, path: [fqdn, ...d.path] };
          roleSources.set(d.path, source);
        }
        return { source, value: d.value };
      });

    // Components: the union of the pins of the roles and their ancestors, each resolved.
    const components: ResolvedServer['components'] = {};
    const pinnedComponents = new Set<string>();
    for (const r of roles) for (const c of this.pinnedBy(r)) pinnedComponents.add(c);
    for (const component of [...pinnedComponents].sort(compareStrings)) {
      const entry = Resolver.inherited(this.pins, roles, component);
      if (entry === undefined) continue;
      const chain = roleDefinitions(entry.all);
      const winners = chain.slice(0, entry.winners.length);
      const first = winners[0];
      if (first === undefined) continue;
      if (winners.some((w) => w.value !== first.value)) {
        problems.push({
          kind: 'version-conflict',
          server: fqdn,
          key: component,
          message: `${fqdn}: ${component} is pinned to different versions by roles neither overrides: ${winners.map(describe).join(' and ')}; pin it on a role or server that inherits both`,
          definitions: winners,
        });
        continue;
      }
      const evr = typeof first.value === 'string' ? first.value : JSON.stringify(first.value);
      const versions = Object.prototype.hasOwnProperty.call(this.catalog.components, component) ? this.catalog.components[component] : undefined;
      const version = versions !== undefined && Object.prototype.hasOwnProperty.call(versions, evr) ? versions[evr] : undefined;
      if (version === undefined) {
        const known = versions !== undefined;
        problems.push({
          kind: 'unknown-component',
          server: fqdn,
          key: component,
          message: known
            ? `${fqdn}: ${component} ${evr} (pinned at ${joinPath(first.source.path)}) is not in any repository`
            : `${fqdn}: component ${component} (pinned at ${joinPath(first.source.path)}) is not in any repository`,
          definitions: [first],
        });
        continue;
      }
      components[component] = { version, chain };
    }

    // Settings: every parameter of every component the server has.
    // Hundreds of keys differing from server to server: a dictionary-mode object from the start,
    // or V8 builds a hidden class for every key sequence (seconds of CPU over 10,000 servers).
    const settings = Object.create(null) as Record<string, ResolvedSetting>;
    for (const component of Object.keys(components)) {
      const version = components[component]?.version;
      if (version === undefined) continue;
      const info = this.versionInfo(version);
      for (const p of info.parameters) {
        settings[p.key] = this.resolveSetting(fqdn, p, problems, {
          server: serverScope.defs.get(p.key),
          roles: Resolver.inherited(this.settings, roles, p.key),
          env: envScope.defs.get(p.key),
          global: this.global.defs.get(p.key),
          serverSource,
          envSource,
          globalSource,
          roleDefinitions,
        });
      }
      // Keys set for this component that its version does not have.
      const unknown = new Set<string>();
      for (const scope of [serverScope, envScope, this.global]) for (const k of scope.byComponent.get(component) ?? []) unknown.add(k);
      for (const r of roles) for (const k of this.keysBy(r, component)) unknown.add(k);
      for (const key of [...unknown].sort(compareStrings)) {
        const name = key.slice(component.length + 1);
        if (info.names.has(name)) continue;
        const where: string[] = [];
        if (serverScope.defs.has(key)) where.push(joinPath(serverSource.path));
        for (const d of Resolver.inherited(this.settings, roles, key)?.all ?? []) if (!isUnset(d.value)) where.push(joinPath([fqdn, ...d.path]));
        if (envScope.defs.has(key)) where.push(joinPath(envSource.path));
        if (this.global.defs.has(key)) where.push(joinPath(globalSource.path));
        problems.push({
          kind: 'unknown-key',
          server: fqdn,
          key,
          message: `${fqdn}: ${key}: ${component} ${version.evr} has no parameter ${name} (set at ${where.join(', ')})`,
        });
      }
    }
    return { fqdn, environment: env, components, settings, problems };
  }

  private resolveSetting(
    fqdn: string,
    p: ParameterInfo,
    problems: Problem[],
    at: {
      server: DefinedValue | undefined;
      roles: Entry | undefined;
      env: DefinedValue | undefined;
      global: DefinedValue | undefined;
      serverSource: Source;
      envSource: Source;
      globalSource: Source;
      roleDefinitions: (defs: Entry['all']) => Definition[];
    },
  ): ResolvedSetting {
    // The chain, most specific first; `winners` of them are the definitions nothing overrides.
    const chain: Definition[] = [];
    let winners = 0;
    if (at.server !== undefined) {
      chain.push({ source: at.serverSource, value: at.server });
      winners = 1;
    }
    if (at.roles !== undefined) {
      for (const d of at.roleDefinitions(at.roles.all)) chain.push(d);
      if (winners === 0) winners = at.roles.winners.length;
    }
    if (at.env !== undefined) {
      chain.push({ source: at.envSource, value: at.env });
      if (winners === 0) winners = 1;
    }
    if (at.global !== undefined) {
      chain.push({ source: at.globalSource, value: at.global });
      if (winners === 0) winners = 1;
    }
    const { parameter } = p;
    // Most keys of most servers are nobody's business: one frozen setting per parameter serves them all.
    if (chain.length === 0 && p.defaultOnly !== undefined) return p.defaultOnly;
    const setting = (origin: ResolvedSetting['origin'], value?: Value | SecretRef): ResolvedSetting =>
      value === undefined ? { key: p.key, origin, secret: parameter.secret, chain } : { key: p.key, value, origin, secret: parameter.secret, chain };
    const first = chain[0];
    let value: DefinedValue | undefined;
    if (first !== undefined) {
      value = first.value;
      for (let i = 1; i < winners; i++) {
        const other = chain[i];
        if (other !== undefined && !deepEqual(other.value, value)) {
          const defs = chain.slice(0, winners);
          problems.push({
            kind: 'conflict',
            server: fqdn,
            key: p.key,
            message: `${fqdn}: ${p.key} has conflicting values: ${defs.map(describe).join(' and ')}; set it on a scope that inherits both`,
            definitions: defs,
          });
          return setting('definition');
        }
      }
    }
    if (value === undefined || isUnset(value)) {
      if (parameter.default !== undefined) return setting('default');
      if (p.required) {
        const how = value === undefined ? 'no scope sets it' : `unset at ${joinPath(first?.source.path ?? [])}`;
        problems.push({
          kind: 'missing',
          server: fqdn,
          key: p.key,
          message: `${fqdn}: ${p.key} has no value and no default (${how}); set it for this server`,
        });
      }
      return setting('unset');
    }
    const where = () => joinPath(first?.source.path ?? []);
    if (isSecretRef(value)) {
      if (!parameter.secret) {
        problems.push({
          kind: 'type',
          server: fqdn,
          key: p.key,
          message: `${fqdn}: ${p.key} is not a secret parameter, but ${where()} gives it a secret: its module would show the value in logs`,
        });
      }
      return setting('definition', value);
    }
    const verdict = checkValue(value, p.type);
    if (verdict === 'uncheckable') {
      problems.push({ kind: 'type', server: fqdn, key: p.key, message: `${fqdn}: ${p.key}: its type ${parameter.type} is not one Geppetto can check` });
    } else if (verdict === 'mismatch') {
      problems.push({
        kind: 'type',
        server: fqdn,
        key: p.key,
        message: `${fqdn}: ${p.key}: ${parameter.secret ? 'the value' : showValue(value)} (set at ${where()}) is not a value of type ${parameter.type}`,
      });
    } else if (verdict !== 'ok') {
      problems.push({ kind: 'type', server: fqdn, key: p.key, message: `${fqdn}: ${p.key} (set at ${where()}) holds ${verdict}, which no file can carry` });
    }
    return setting('definition', value);
  }
}

/** Every server of the state, or only those named (a name that is not a server is skipped). */
export function resolveServers(state: State, catalog: Catalog, servers?: Iterable<string>): Map<string, ResolvedServer> {
  const resolver = new Resolver(state, catalog);
  const names = servers === undefined ? Object.keys(state.servers) : [...servers];
  const out = new Map<string, ResolvedServer>();
  for (const fqdn of [...new Set(names)].sort(compareStrings)) {
    if (!Object.prototype.hasOwnProperty.call(state.servers, fqdn)) continue;
    out.set(fqdn, resolver.resolve(fqdn));
  }
  return out;
}
