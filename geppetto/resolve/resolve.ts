/**
 * Resolution (docs/geppetto-resolution.md): for a server S in environment E with roles R1..Rn, a
 * definition is overridden by a definition of the same key at a scope that descends from its own
 * (S over its roles, a role over its ancestors, any role over E, E over global). The definitions
 * left are the winners: one distinct value among them is the value, several are a conflict, never
 * settled by the order of parents or roles. `unset` is a value that removes the key. Version pins
 * follow the same rule over the roles.
 *
 * Work is shared: role inheritance is memoized per role and key (./layer.ts); how a key resolves
 * when the server does not set it (value, origin, type verdict: a "slot") is decided once per
 * role, set of roles or environment and parameter, so most of a server's keys cost a few array
 * reads; a key that only its class default sets is one frozen ResolvedSetting shared by every
 * server; and a chain of definitions is built only when read (explain, the API) or when the key
 * makes a problem, whose message names the paths. A component the server sets nothing of resolves
 * as for every server of its environment with the same roles defining its keys: its cells are
 * shared, and a resolution's `components` and `settings` are made when first read, since
 * publishing reads only `fileClasses` (docs/decisions.md). Resolutions are read-only: do not edit
 * them.
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
import { comparePaths, type Entry, Layer, type RoleDef } from './layer.js';
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
  /** Sorted by name. */
  parameters: ParameterInfo[];
  names: ReadonlySet<string>;
  /** For each of the version's parameters in its own order, its index in `parameters`. */
  order: readonly number[];
  /** No two parameters of the same name (a file's values can then be read by index). */
  unique: boolean;
}

/** A scope's definitions by key (settings, then `unset`), and its keys set per component. */
interface ScopeIndex {
  defs: Map<string, DefinedValue>;
  byComponent: Map<string, string[]>;
  /** The components of the keys it sets or unsets. */
  touched: Set<string>;
}

const EMPTY_SCOPE: ScopeIndex = { defs: new Map(), byComponent: new Map(), touched: new Set() };

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
  const touched = new Set(byComponent.keys());
  // A key both set and unset by one scope is a problem (check.ts); the setting is kept.
  for (const key of defs.unset) {
    if (!map.has(key)) map.set(key, UNSET);
    const parsed = parseSettingKey(key);
    if (parsed !== undefined) touched.add(parsed.component);
  }
  return { defs: map, byComponent, touched };
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

/**
 * How a key resolves for a server that does not set it itself, decided once per role (or set of
 * roles) or environment and parameter. `fast`: no problem can come of it, and the setting is
 * `shared` or made from `origin` and `value`; otherwise the key takes the full way.
 */
interface Slot {
  entry: Entry | undefined;
  fast: boolean;
  origin: ResolvedSetting['origin'];
  value: Value | SecretRef | undefined;
  shared: ResolvedSetting | undefined;
}

/** Slots of keys several roles of a server define, by the roles' own slots in order. */
interface SlotNode {
  next: Map<Slot, SlotNode>;
  slot: Slot | undefined;
}

/** How a parameter resolves for a server: a slot without problem (its setting made when read), or the setting. */
type Cell = Slot | ResolvedSetting;

/** A component a server has, at its version, and the role definitions that pinned it. */
interface Pin {
  component: string;
  version: ComponentVersion;
  entry: Entry;
}

/** What the file needs of a component: its version and, per parameter in the version's order, the value a definition gives it. */
export interface FileClass {
  component: string;
  version: ComponentVersion;
  /** Aligned with `version.parameters`: the value set by a definition, or undefined (class default, unset, conflict). */
  defined: readonly (Value | SecretRef | undefined)[];
  /** The same `defined` array serves every server with the same roles and environment that sets nothing of the component. */
  shared: boolean;
}

interface ResolvedClass extends FileClass {
  info: VersionInfo;
  /** Aligned with `info.parameters`. */
  cells: readonly Cell[];
}

interface SharedCells {
  cells: readonly Cell[];
  defined: readonly (Value | SecretRef | undefined)[];
}

/** Shared cells by the environment's slots, then the slots of each role that defines a key of the version. */
interface CellNode {
  next: Map<readonly (Slot | undefined)[], CellNode>;
  /** null: some key takes the full way, nothing is shared. */
  cells: SharedCells | null | undefined;
}

/** A role's slots for a version none of whose keys its closure defines. */
const NO_SLOTS: readonly (Slot | undefined)[] = [];

/** The values of the file, in the version's order, from cells in the order of `info.parameters`. */
function definedValues(info: VersionInfo, cells: readonly Cell[]): (Value | SecretRef | undefined)[] {
  return info.order.map((i) => {
    const c = cells[i];
    return c !== undefined && c.origin === 'definition' ? c.value : undefined;
  });
}

const FILE_CLASSES = new WeakMap<ResolvedServer, readonly FileClass[]>();

/**
 * A resolution's components as the file needs them, sorted by name, without making its settings:
 * undefined for a resolution this module did not make (a copy, a hand-made one), or when a
 * version has two parameters of one name. For buildNodeFile: read `settings` otherwise.
 */
export function fileClasses(resolved: ResolvedServer): readonly FileClass[] | undefined {
  return FILE_CLASSES.get(resolved);
}

/**
 * A server's resolution whose `components` (with their chains) and `settings` are made when first
 * read: publishing reads neither (fileClasses), explain and the API read them. Both are own
 * enumerable properties, as in a plain resolution (spread, JSON and structuredClone see them).
 */
function lazyResolution(view: ServerView, pins: readonly Pin[], classes: readonly ResolvedClass[], problems: Problem[]): ResolvedServer {
  const makeComponents = (): ResolvedServer['components'] => {
    const components: ResolvedServer['components'] = {};
    for (const { component, version, entry } of pins) components[component] = { version, chain: view.roleDefinitions(entry.all) };
    return components;
  };
  const makeSettings = (): ResolvedServer['settings'] => {
    // Hundreds of keys differing from server to server: a dictionary-mode object from the start,
    // or V8 builds a hidden class for every key sequence.
    const settings = Object.create(null) as Record<string, ResolvedSetting>;
    for (const { info, cells } of classes) {
      for (let i = 0; i < cells.length; i++) {
        const c = cells[i];
        const p = info.parameters[i];
        if (c === undefined || p === undefined) continue;
        settings[p.key] = 'fast' in c ? (c.shared ?? new LazySetting(view, p.key, p.parameter.secret, c.origin, c.value, c.entry)) : c;
      }
    }
    return settings;
  };
  const keep = <K extends 'components' | 'settings'>(key: K, value: ResolvedServer[K]): ResolvedServer[K] => {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    return value;
  };
  const out: ResolvedServer = {
    fqdn: view.fqdn,
    environment: view.env,
    get components() {
      return keep('components', makeComponents());
    },
    set components(value) {
      keep('components', value);
    },
    get settings() {
      return keep('settings', makeSettings());
    },
    set settings(value) {
      keep('settings', value);
    },
    problems,
  };
  if (classes.every((c) => c.info.unique)) FILE_CLASSES.set(out, classes);
  return out;
}

/** What every server with the same roles shares. */
interface RoleSetInfo {
  /** The roles, deduplicated, existing, sorted. */
  roles: readonly string[];
  /** The problems of the roles and their ancestors, in the order of their names. */
  problems: readonly Problem[];
  /** The components the roles and their ancestors pin, sorted. */
  components: readonly string[];
  /** Their pins, once resolved without a problem. */
  pins?: readonly Pin[];
}

/**
 * One server's scopes and the sources of its definitions, shared by all its settings. Sources
 * are made on first need (most chains are never asked for), one per path.
 */
class ServerView {
  #server: Source | undefined;
  #env: Source | undefined;
  #global: Source | undefined;
  // Role paths are shared arrays (layer.ts): one Source per path serves every key of this server.
  readonly #roleSources = new Map<readonly string[], Source>();

  constructor(
    readonly fqdn: string,
    readonly env: string,
    readonly serverScope: ScopeIndex,
    readonly envScope: ScopeIndex,
    readonly global: ScopeIndex,
  ) {}

  get serverSource(): Source {
    return (this.#server ??= { scope: 'server', name: this.fqdn, path: [this.fqdn] });
  }

  get envSource(): Source {
    return (this.#env ??= { scope: 'environment', name: this.env, path: [this.fqdn, this.env] });
  }

  get globalSource(): Source {
    return (this.#global ??= { scope: 'global', name: 'global', path: [this.fqdn, this.env, 'global'] });
  }

  roleDefinitions(defs: readonly RoleDef[]): Definition[] {
    return defs.map((d) => {
      let source = this.#roleSources.get(d.path);
      if (source === undefined) {
        source = { scope: 'role', name: d.role, path: [this.fqdn, ...d.path] };
        this.#roleSources.set(d.path, source);
      }
      return { source, value: d.value };
    });
  }

  /** The chain of a key, most specific first: the server, its roles' definitions (winners first), the environment, global. */
  chain(key: string, roles: Entry | undefined): Definition[] {
    const chain: Definition[] = [];
    const server = this.serverScope.defs.get(key);
    if (server !== undefined) chain.push({ source: this.serverSource, value: server });
    if (roles !== undefined) for (const d of this.roleDefinitions(roles.all)) chain.push(d);
    const env = this.envScope.defs.get(key);
    if (env !== undefined) chain.push({ source: this.envSource, value: env });
    const global = this.global.defs.get(key);
    if (global !== undefined) chain.push({ source: this.globalSource, value: global });
    return chain;
  }
}

/**
 * A setting without problems: the chain (for `explain` and the API) is built from the server's
 * view and the roles' shared entry the first time it is read. Over a fleet, most chains are never
 * read, and building them all was most of the cost of resolution (allocation and GC).
 */
class LazySetting implements ResolvedSetting {
  readonly key: string;
  declare readonly value?: Value | SecretRef;
  readonly origin: ResolvedSetting['origin'];
  readonly secret: boolean;
  readonly #view: ServerView;
  readonly #roles: Entry | undefined;
  #chain: Definition[] | undefined;

  constructor(view: ServerView, key: string, secret: boolean, origin: ResolvedSetting['origin'], value: Value | SecretRef | undefined, roles: Entry | undefined) {
    this.#view = view;
    this.#roles = roles;
    this.key = key;
    if (value !== undefined) this.value = value;
    this.origin = origin;
    this.secret = secret;
  }

  get chain(): Definition[] {
    return (this.#chain ??= this.#view.chain(this.key, this.#roles));
  }

  /** The same JSON as a plain setting's. */
  toJSON(): ResolvedSetting {
    const { key, value, origin, secret, chain } = this;
    return value === undefined ? { key, origin, secret, chain } : { key, value, origin, secret, chain };
  }
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
  /** Entries of keys several of a server's roles define, by those roles and the key. */
  private readonly combined = new Map<string, Entry | null>();
  /** The same for version pins. */
  private readonly combinedPins = new Map<string, Entry | null>();
  private readonly roleSets = new Map<string, RoleSetInfo>();
  private readonly unknownByRole = new Map<string, Map<VersionInfo, boolean>>();
  private readonly roleSlots = new Map<string, Map<VersionInfo, readonly (Slot | undefined)[]>>();
  private readonly envSlots = new Map<string, Map<VersionInfo, readonly Slot[]>>();
  private readonly comboSlots = new Map<ParameterInfo, SlotNode>();
  private readonly cellTrie = new Map<readonly Slot[], CellNode>();
  private readonly unknownByEnv = new Map<ScopeIndex, Map<VersionInfo, boolean>>();
  private readonly unknownInAnyRole = new Map<VersionInfo, boolean>();
  /** Whether any role has a problem of its own (then each role set gathers those of its closure). */
  private readonly roleProblems: boolean;

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
    this.roleProblems = [...this.problemsByScope.keys()].some((id) => id.startsWith('role\0'));
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
      const index = new Map(parameters.map((p, i) => [p.parameter, i]));
      const names = new Set(v.parameters.map((p) => p.name));
      info = { parameters, names, order: v.parameters.map((p) => index.get(p) ?? -1), unique: names.size === v.parameters.length };
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

  /**
   * What the server's roles inherit together for a setting key. Only the roles whose closure
   * defines the key take part (combining the others adds nothing), so most keys of a server with
   * several roles reduce to one role's memoized entry; the combinations of two or more are
   * memoized by those roles, which servers with different role lists share.
   */
  private inheritedSetting(roles: readonly string[], key: string): Entry | undefined {
    return Resolver.inheritedBy(this.settings, this.combined, roles, key);
  }

  /** inheritedSetting for a layer, its combinations memoized in `combined`. */
  private static inheritedBy(layer: Layer, combined: Map<string, Entry | null>, roles: readonly string[], key: string): Entry | undefined {
    let first: string | undefined;
    let several: string[] | undefined;
    for (const r of roles) {
      if (!layer.keysOf(r).has(key)) continue;
      if (first === undefined) first = r;
      else if (several === undefined) several = [first, r];
      else several.push(r);
    }
    if (first === undefined) return undefined;
    if (several === undefined) return layer.entry(first, key);
    const id = `${several.join('\0')}\n${key}`;
    const known = combined.get(id);
    if (known !== undefined) return known ?? undefined;
    const entry = layer.combine(several, key);
    combined.set(id, entry ?? null);
    return entry;
  }

  /** How a key resolves from the roles' entry, or without one from the environment's and global definitions. */
  private static slotOf(p: ParameterInfo, roles: Entry | undefined, env: DefinedValue | undefined, global: DefinedValue | undefined): Slot {
    const slot = (fast: boolean, origin: ResolvedSetting['origin'], value?: Value | SecretRef, shared?: ResolvedSetting): Slot => ({ entry: roles, fast, origin, value, shared });
    const { parameter } = p;
    let value: DefinedValue | undefined;
    if (roles !== undefined) {
      const winners = roles.winners;
      value = winners[0]?.value;
      if (winners.length === 0) return slot(false, 'unset');
      for (let i = 1; i < winners.length; i++) if (!deepEqual(winners[i]?.value, value)) return slot(false, 'definition');
    } else if (env !== undefined) value = env;
    else if (global !== undefined) value = global;
    else if (p.defaultOnly !== undefined) return slot(true, p.defaultOnly.origin, undefined, p.defaultOnly);
    if (value === undefined || isUnset(value)) {
      if (parameter.default !== undefined) return slot(true, 'default');
      return slot(!p.required, 'unset');
    }
    if (isSecretRef(value) ? !parameter.secret : checkValue(value, p.type) !== 'ok') return slot(false, 'definition');
    return slot(true, 'definition', value);
  }

  /** The slots of a component version's parameters for a role: undefined where nothing in its closure defines the key. */
  private roleSlotsOf(role: string, info: VersionInfo): readonly (Slot | undefined)[] {
    let perRole = this.roleSlots.get(role);
    if (perRole === undefined) {
      perRole = new Map();
      this.roleSlots.set(role, perRole);
    }
    let slots = perRole.get(info);
    if (slots === undefined) {
      slots = info.parameters.map((p) => {
        const entry = this.settings.entry(role, p.key);
        return entry === undefined ? undefined : Resolver.slotOf(p, entry, undefined, undefined);
      });
      if (slots.every((s) => s === undefined)) slots = NO_SLOTS;
      perRole.set(info, slots);
    }
    return slots;
  }

  /** The slots of a component version's parameters for servers whose roles do not define them. */
  private envSlotsOf(env: string, envScope: ScopeIndex, info: VersionInfo): readonly Slot[] {
    let perEnv = this.envSlots.get(env);
    if (perEnv === undefined) {
      perEnv = new Map();
      this.envSlots.set(env, perEnv);
    }
    let slots = perEnv.get(info);
    if (slots === undefined) {
      slots = info.parameters.map((p) => Resolver.slotOf(p, undefined, envScope.defs.get(p.key), this.global.defs.get(p.key)));
      perEnv.set(info, slots);
    }
    return slots;
  }

  /**
   * The slot of parameter `i` from the server's roles: the one role that defines it, or the
   * combination of those that do (memoized by their slots, which stand for their entries).
   */
  private slotFor(roles: readonly string[], roleSlots: readonly (readonly (Slot | undefined)[])[], i: number, p: ParameterInfo): Slot | undefined {
    let found: Slot | undefined;
    let node: SlotNode | undefined;
    // The usual case of several: each role inherits the one same definition (from a common
    // ancestor); combining keeps it by its best path, which is the slot of the role it comes by.
    let best: Slot | undefined;
    let single = true;
    for (const slots of roleSlots) {
      const s = slots[i];
      if (s === undefined) continue;
      const d = s.entry?.all.length === 1 ? s.entry.all[0] : undefined;
      const b = best?.entry?.all[0];
      if (d === undefined || (b !== undefined && b.role !== d.role)) {
        single = false;
        break;
      }
      if (b === undefined || comparePaths(d.path, b.path) < 0) best = s;
    }
    if (single) return best;
    for (const slots of roleSlots) {
      const s = slots[i];
      if (s === undefined) continue;
      if (found === undefined) {
        found = s;
        continue;
      }
      if (node === undefined) {
        let root = this.comboSlots.get(p);
        if (root === undefined) {
          root = { next: new Map(), slot: undefined };
          this.comboSlots.set(p, root);
        }
        node = Resolver.child(root, found);
      }
      node = Resolver.child(node, s);
    }
    if (node === undefined) return found;
    if (node.slot === undefined) {
      const several = roles.filter((_, j) => roleSlots[j]?.[i] !== undefined);
      node.slot = Resolver.slotOf(p, this.settings.combine(several, p.key), undefined, undefined);
    }
    return node.slot;
  }

  private static child(node: SlotNode, slot: Slot): SlotNode {
    let next = node.next.get(slot);
    if (next === undefined) {
      next = { next: new Map(), slot: undefined };
      node.next.set(slot, next);
    }
    return next;
  }

  /** What servers with these roles (deduplicated, existing, sorted) share: memoized per role list. */
  private roleSet(roles: readonly string[]): RoleSetInfo {
    const id = roles.join('\0');
    let info = this.roleSets.get(id);
    if (info === undefined) {
      const problems: Problem[] = [];
      // the roles' closure only when some role has a problem (usually none has)
      const closure = new Set<string>(this.roleProblems ? roles : []);
      if (this.roleProblems) for (const r of roles) for (const a of this.graph.ancestors(r)) closure.add(a);
      const seen = new Set<Problem>();
      for (const r of [...closure].sort(compareStrings)) {
        for (const p of this.problemsByScope.get(`role\0${r}`) ?? []) {
          if (seen.has(p)) continue;
          seen.add(p);
          problems.push(p);
        }
      }
      const pinned = new Set<string>();
      for (const r of roles) for (const c of this.pinnedBy(r)) pinned.add(c);
      info = { roles, problems, components: [...pinned].sort(compareStrings) };
      this.roleSets.set(id, info);
    }
    return info;
  }

  /** Whether one of the roles (or their ancestors) sets a key of the component its version does not have. */
  private rolesSetUnknownKey(roles: readonly string[], component: string, info: VersionInfo): boolean {
    // Usually no role at all sets such a key: decided once per version, over every role.
    let any = this.unknownInAnyRole.get(info);
    if (any === undefined) {
      any = Object.keys(this.state.roles).some((r) => this.scopeSetsUnknownKey(this.roleScope(r), component, info));
      this.unknownInAnyRole.set(info, any);
    }
    if (!any) return false;
    for (const r of roles) {
      let perRole = this.unknownByRole.get(r);
      if (perRole === undefined) {
        perRole = new Map();
        this.unknownByRole.set(r, perRole);
      }
      let unknown = perRole.get(info);
      if (unknown === undefined) {
        unknown = false;
        for (const k of this.keysBy(r, component)) if (!info.names.has(k.slice(component.length + 1))) unknown = true;
        perRole.set(info, unknown);
      }
      if (unknown) return true;
    }
    return false;
  }

  resolve(fqdn: string): ResolvedServer {
    const server = this.state.servers[fqdn];
    if (server === undefined) throw new Error(`no server ${fqdn}`);
    const env = server.environment;
    const roleSet = this.roleSet([...new Set(server.roles)].filter((r) => this.graph.has(r)).sort(compareStrings));
    const { roles } = roleSet;

    const problems: Problem[] = [];
    const add = (list: readonly Problem[] | undefined) => {
      if (list !== undefined) for (const p of list) problems.push(p.server === fqdn ? p : { ...p, server: fqdn });
    };
    add(this.problemsByScope.get('global\0global'));
    add(this.problemsByScope.get(`environment\0${env}`));
    add(roleSet.problems);
    add(this.problemsByScope.get(`server\0${fqdn}`));

    const view = new ServerView(fqdn, env, indexScope(server), this.environmentScope(env), this.global);
    const serverScope = view.serverScope;
    const envScope = view.envScope;

    // Components: the union of the pins of the roles and their ancestors, each resolved (without
    // a problem, the same for every server with these roles).
    const pins = roleSet.pins ?? this.pinsOf(roleSet, view, problems);

    // Settings: every parameter of every component the server has, as cells (below). A component
    // the server sets nothing of resolves as it does for every server with the same roles and
    // environment, unless a key of it makes a problem: its cells are shared.
    const classes: ResolvedClass[] = [];
    for (const pin of pins) {
      const { component, version } = pin;
      const info = this.versionInfo(version);
      const own = serverScope.touched.has(component);
      const envSlots = this.envSlotsOf(env, envScope, info);
      const roleSlots = roles.map((r) => this.roleSlotsOf(r, info));
      if (!own && !this.rolesSetUnknownKey(roles, component, info) && !this.sharedScopesSetUnknownKey(envScope, component, info)) {
        const shared = this.sharedCells(roles, roleSlots, envSlots, info);
        if (shared !== undefined) {
          classes.push({ component, version, cells: shared.cells, defined: shared.defined, shared: true, info });
          continue;
        }
      }
      const params = info.parameters;
      const cells: Cell[] = [];
      for (let i = 0; i < params.length; i++) {
        const p = params[i];
        if (p === undefined) continue;
        if (own && serverScope.defs.get(p.key) !== undefined) {
          cells.push(this.resolveSetting(view, p, problems, this.inheritedSetting(roles, p.key)));
          continue;
        }
        const slot = this.slotFor(roles, roleSlots, i, p) ?? envSlots[i];
        cells.push(slot === undefined || !slot.fast ? this.resolveSetting(view, p, problems, slot?.entry) : slot);
      }
      classes.push({ component, version, cells, defined: definedValues(info, cells), shared: false, info });
      // Keys set for this component that its version does not have: rare, so first a cheap test.
      if (!this.rolesSetUnknownKey(roles, component, info) && ![serverScope, envScope, this.global].some((scope) => this.scopeSetsUnknownKey(scope, component, info))) continue;
      const unknown = new Set<string>();
      for (const scope of [serverScope, envScope, this.global]) for (const k of scope.byComponent.get(component) ?? []) unknown.add(k);
      for (const r of roles) for (const k of this.keysBy(r, component)) unknown.add(k);
      for (const key of [...unknown].sort(compareStrings)) {
        const name = key.slice(component.length + 1);
        if (info.names.has(name)) continue;
        const where: string[] = [];
        if (serverScope.defs.has(key)) where.push(joinPath(view.serverSource.path));
        for (const d of this.inheritedSetting(roles, key)?.all ?? []) if (!isUnset(d.value)) where.push(joinPath([fqdn, ...d.path]));
        if (envScope.defs.has(key)) where.push(joinPath(view.envSource.path));
        if (this.global.defs.has(key)) where.push(joinPath(view.globalSource.path));
        problems.push({
          kind: 'unknown-key',
          server: fqdn,
          key,
          message: `${fqdn}: ${key}: ${component} ${version.evr} has no parameter ${name} (set at ${where.join(', ')})`,
        });
      }
    }
    return lazyResolution(view, pins, classes, problems);
  }

  /**
   * The pins of servers with these roles, each with its version: memoized on the role set when
   * none makes a problem; otherwise made again for each server, its problems added.
   */
  private pinsOf(roleSet: RoleSetInfo, view: ServerView, problems: Problem[]): readonly Pin[] {
    const { roles } = roleSet;
    const fqdn = view.fqdn;
    const pins: Pin[] = [];
    let clean = true;
    for (const component of roleSet.components) {
      const entry = Resolver.inheritedBy(this.pins, this.combinedPins, roles, component);
      if (entry === undefined) continue;
      const first = entry.winners[0];
      if (first === undefined) continue;
      if (entry.winners.some((w) => w.value !== first.value)) {
        clean = false;
        const winners = view.roleDefinitions(entry.winners);
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
        clean = false;
        const known = versions !== undefined;
        const [pin] = view.roleDefinitions([first]);
        const at = joinPath(pin?.source.path ?? []);
        problems.push({
          kind: 'unknown-component',
          server: fqdn,
          key: component,
          message: known ? `${fqdn}: ${component} ${evr} (pinned at ${at}) is not in any repository` : `${fqdn}: component ${component} (pinned at ${at}) is not in any repository`,
          ...(pin === undefined ? {} : { definitions: [pin] }),
        });
        continue;
      }
      pins.push({ component, version, entry });
    }
    if (clean) roleSet.pins = pins;
    return pins;
  }

  /** Whether the environment or global scope sets a key of the component its version does not have: memoized per environment. */
  private sharedScopesSetUnknownKey(envScope: ScopeIndex, component: string, info: VersionInfo): boolean {
    let perEnv = this.unknownByEnv.get(envScope);
    if (perEnv === undefined) {
      perEnv = new Map();
      this.unknownByEnv.set(envScope, perEnv);
    }
    let unknown = perEnv.get(info);
    if (unknown === undefined) {
      unknown = this.scopeSetsUnknownKey(envScope, component, info) || this.scopeSetsUnknownKey(this.global, component, info);
      perEnv.set(info, unknown);
    }
    return unknown;
  }

  /** Whether the scope sets a key of the component its version does not have. */
  private scopeSetsUnknownKey(scope: ScopeIndex, component: string, info: VersionInfo): boolean {
    const keys = scope.byComponent.get(component);
    if (keys === undefined) return false;
    for (const k of keys) if (!info.names.has(k.slice(component.length + 1))) return true;
    return false;
  }

  /**
   * The cells of a component version for servers that set none of its keys, by the slots of
   * their roles (those whose closure defines one of its keys) and environment; undefined when a
   * key takes the full way (a conflict, a missing value, a type error: the problem names the server).
   */
  private sharedCells(roles: readonly string[], roleSlots: readonly (readonly (Slot | undefined)[])[], envSlots: readonly Slot[], info: VersionInfo): SharedCells | undefined {
    let root = this.cellTrie.get(envSlots);
    if (root === undefined) {
      root = { next: new Map(), cells: undefined };
      this.cellTrie.set(envSlots, root);
    }
    let node: CellNode = root;
    for (const slots of roleSlots) {
      if (slots === NO_SLOTS) continue;
      let next: CellNode | undefined = node.next.get(slots);
      if (next === undefined) {
        next = { next: new Map(), cells: undefined };
        node.next.set(slots, next);
      }
      node = next;
    }
    if (node.cells === undefined) {
      const cells: Slot[] = [];
      let fast = true;
      for (let i = 0; i < info.parameters.length && fast; i++) {
        const p = info.parameters[i];
        if (p === undefined) continue;
        const slot = this.slotFor(roles, roleSlots, i, p) ?? envSlots[i];
        if (slot === undefined || !slot.fast) fast = false;
        else cells.push(slot);
      }
      node.cells = fast ? { cells, defined: definedValues(info, cells) } : null;
    }
    return node.cells ?? undefined;
  }

  /**
   * One key of one server. The common case (no conflict, nothing missing, a value of the right
   * type) costs one small object whose chain is built when asked for; anything that makes a
   * problem takes the full way below, whose messages need the chain anyway.
   */
  private resolveSetting(view: ServerView, p: ParameterInfo, problems: Problem[], roles: Entry | undefined): ResolvedSetting {
    const server = view.serverScope.defs.get(p.key);
    const env = view.envScope.defs.get(p.key);
    const global = view.global.defs.get(p.key);
    const { parameter } = p;
    let value: DefinedValue | undefined;
    if (server !== undefined) value = server;
    else if (roles !== undefined) {
      const winners = roles.winners;
      value = winners[0]?.value;
      if (winners.length === 0) return this.fullSetting(view, p, problems, roles);
      for (let i = 1; i < winners.length; i++) if (!deepEqual(winners[i]?.value, value)) return this.fullSetting(view, p, problems, roles);
    } else if (env !== undefined) value = env;
    else if (global !== undefined) value = global;
    // Most keys of most servers are nobody's business: one frozen setting per parameter serves them all.
    else if (p.defaultOnly !== undefined) return p.defaultOnly;

    if (value === undefined || isUnset(value)) {
      if (parameter.default !== undefined) return new LazySetting(view, p.key, parameter.secret, 'default', undefined, roles);
      if (p.required) return this.fullSetting(view, p, problems, roles);
      return new LazySetting(view, p.key, parameter.secret, 'unset', undefined, roles);
    }
    if (isSecretRef(value) ? !parameter.secret : checkValue(value, p.type) !== 'ok') return this.fullSetting(view, p, problems, roles);
    return new LazySetting(view, p.key, parameter.secret, 'definition', value, roles);
  }

  /** A key with its chain built at once, and the problems it makes. */
  private fullSetting(view: ServerView, p: ParameterInfo, problems: Problem[], roles: Entry | undefined): ResolvedSetting {
    const fqdn = view.fqdn;
    const chain = view.chain(p.key, roles);
    // The definitions nothing overrides: the first scope that defines the key, all of the roles' winners.
    const winners = view.serverScope.defs.get(p.key) !== undefined ? 1 : roles !== undefined && roles.winners.length > 0 ? roles.winners.length : chain.length > 0 ? 1 : 0;
    const { parameter } = p;
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
