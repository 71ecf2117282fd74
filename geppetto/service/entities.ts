/**
 * The state as stored: one entity per environment, role and server, plus the global scope and the
 * repository list. Edits, versions, conflicts and the history are per entity.
 */
import { KpkgError } from '../../packager/errors.js';
import type { RepositoryDefinition, RoleDefinition, ScopeDefinitions, SecretRef, ServerDefinition, State, Value } from '../model.js';

export type EntityKind = 'global' | 'repositories' | 'environment' | 'role' | 'server';
export const ENTITY_KINDS: readonly EntityKind[] = ['global', 'repositories', 'environment', 'role', 'server'];

export interface EntityRef {
  kind: EntityKind;
  /** '' for `global` and `repositories` */
  name: string;
}

export type EntityBody = ScopeDefinitions | RoleDefinition | ServerDefinition | RepositoryDefinition[];

export const entityKey = (ref: EntityRef): string => `${ref.kind}:${ref.name}`;

/** An entity as messages and the audit log name it: `role shop-front`, `global`. */
export function describeRef(ref: EntityRef): string {
  return ref.name === '' ? ref.kind : `${ref.kind} ${ref.name}`;
}

export function parseEntityKey(key: string): EntityRef {
  const colon = key.indexOf(':');
  const kind = key.slice(0, colon);
  if (!isEntityKind(kind)) throw new KpkgError('INTERNAL', `bad entity key ${key}`);
  return { kind, name: key.slice(colon + 1) };
}

export function isEntityKind(s: string): s is EntityKind {
  return (ENTITY_KINDS as readonly string[]).includes(s);
}

/** Names people give: role and environment names, server fqdns. */
export function checkEntityName(ref: EntityRef): void {
  if (ref.kind === 'global' || ref.kind === 'repositories') {
    if (ref.name !== '') throw new KpkgError('INVALID_INPUT', `${ref.kind} has no name`);
    return;
  }
  const ok =
    ref.kind === 'server'
      ? /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(ref.name) && ref.name.length <= 253
      : /^[a-z0-9][a-z0-9_.-]{0,63}$/.test(ref.name);
  if (!ok) throw new KpkgError('INVALID_INPUT', `${ref.kind} name ${JSON.stringify(ref.name)} is not valid`);
}

/** JSON with object keys sorted: equal bodies give equal text, whatever order they were built in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

export const emptyScope = (): ScopeDefinitions => ({ settings: {}, unset: [] });
export const emptyState = (): State => ({ repositories: [], global: emptyScope(), environments: {}, roles: {}, servers: {} });

/** The state's entities, each as canonical JSON. */
export function stateEntities(state: State): Map<string, string> {
  const out = new Map<string, string>();
  out.set(entityKey({ kind: 'repositories', name: '' }), canonicalJson(state.repositories));
  out.set(entityKey({ kind: 'global', name: '' }), canonicalJson(state.global));
  for (const [name, body] of Object.entries(state.environments)) out.set(entityKey({ kind: 'environment', name }), canonicalJson(body));
  for (const [name, body] of Object.entries(state.roles)) out.set(entityKey({ kind: 'role', name }), canonicalJson(body));
  for (const [name, body] of Object.entries(state.servers)) out.set(entityKey({ kind: 'server', name }), canonicalJson(body));
  return out;
}

/** Sets (body) or removes (null) one entity of a state, in place. */
export function applyEntity(state: State, ref: EntityRef, body: EntityBody | null): void {
  switch (ref.kind) {
    case 'repositories':
      state.repositories = body === null ? [] : (body as RepositoryDefinition[]);
      return;
    case 'global':
      state.global = body === null ? emptyScope() : (body as ScopeDefinitions);
      return;
    case 'environment':
      if (body === null) delete state.environments[ref.name];
      else state.environments[ref.name] = body as ScopeDefinitions;
      return;
    case 'role':
      if (body === null) delete state.roles[ref.name];
      else state.roles[ref.name] = body as RoleDefinition;
      return;
    case 'server':
      if (body === null) delete state.servers[ref.name];
      else state.servers[ref.name] = body as ServerDefinition;
      return;
  }
}

/** One entity of a state, undefined when absent. */
export function getEntity(state: State, ref: EntityRef): EntityBody | undefined {
  switch (ref.kind) {
    case 'repositories':
      return state.repositories;
    case 'global':
      return state.global;
    case 'environment':
      return state.environments[ref.name];
    case 'role':
      return state.roles[ref.name];
    case 'server':
      return state.servers[ref.name];
  }
}

/**
 * Checks the shape of an entity's body as a person or a script sends it (the resolver checks
 * meaning: references, cycles, types). Returns a copy with the defaults filled in.
 */
export function normalizeBody(ref: EntityRef, input: unknown): EntityBody {
  const where = ref.name === '' ? ref.kind : `${ref.kind} ${ref.name}`;
  const fail = (what: string): never => {
    throw new KpkgError('INVALID_INPUT', `${where}: ${what}`);
  };
  const obj = (v: unknown, what: string): Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(`${what} must be a mapping`);
  const strings = (v: unknown, what: string): string[] =>
    v === undefined ? [] : Array.isArray(v) && v.every((s) => typeof s === 'string') ? [...(v)] : fail(`${what} must be a list of strings`);
  if (ref.kind === 'repositories') {
    if (!Array.isArray(input)) fail('must be a list');
    return (input as unknown[]).map((r, i) => {
      const o = obj(r, `repositories[${i}]`);
      if (typeof o.id !== 'string' || !/^[A-Za-z0-9_.:-]+$/.test(o.id)) fail(`repositories[${i}].id must be a repository id`);
      if (typeof o.baseurl !== 'string' || !/^(file|https?):\/\//.test(o.baseurl)) fail(`repositories[${i}].baseurl must be a file://, http:// or https:// URL`);
      const repo: RepositoryDefinition = { id: o.id as string, baseurl: o.baseurl as string };
      if (o.gpgkey !== undefined) repo.gpgkey = typeof o.gpgkey === 'string' ? o.gpgkey : fail(`repositories[${i}].gpgkey must be a URL`);
      if (o.gpgcheck !== undefined) repo.gpgcheck = typeof o.gpgcheck === 'boolean' ? o.gpgcheck : fail(`repositories[${i}].gpgcheck must be true or false`);
      return repo;
    });
  }
  const o = obj(input, where);
  const settingsIn = obj(o.settings ?? {}, 'settings');
  const settings: Record<string, Value | SecretRef> = {};
  for (const [key, value] of Object.entries(settingsIn)) {
    if (!/^[a-z][a-z0-9-]*\.[a-z][a-z0-9_]*$/.test(key)) fail(`setting ${JSON.stringify(key)}: expected <component>.<key>`);
    if (value === null || value === undefined) fail(`setting ${key}: no value (use unset to remove a key)`);
    settings[key] = value as Value | SecretRef;
  }
  const unset = strings(o.unset, 'unset');
  for (const key of unset) if (!/^[a-z][a-z0-9-]*\.[a-z][a-z0-9_]*$/.test(key)) fail(`unset ${JSON.stringify(key)}: expected <component>.<key>`);
  const scope: ScopeDefinitions = { settings, unset: [...new Set(unset)].sort() };
  if (ref.kind === 'role') {
    const components: Record<string, string> = {};
    for (const [c, v] of Object.entries(obj(o.components ?? {}, 'components'))) {
      if (typeof v !== 'string') fail(`components.${c} must be a version-release`);
      components[c] = v as string;
    }
    return { parents: strings(o.parents, 'parents'), components, ...scope } satisfies RoleDefinition;
  }
  if (ref.kind === 'server') {
    if (typeof o.environment !== 'string' || o.environment === '') fail('environment is required');
    return { environment: o.environment as string, roles: strings(o.roles, 'roles'), ...scope } satisfies ServerDefinition;
  }
  return scope;
}

export const isSecretRef = (v: unknown): v is SecretRef =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as { secret?: unknown }).secret === 'string' && Object.keys(v).length === 1;

/** The secret ids an entity body refers to. */
export function secretIds(body: EntityBody | null | undefined): string[] {
  if (!body || Array.isArray(body)) return [];
  return Object.values(body.settings).flatMap((v) => (isSecretRef(v) ? [v.secret] : []));
}
