/**
 * Checks of the state alone, before any resolution: role cycles (each named by its path),
 * references to roles, parents and environments that do not exist, malformed setting keys and
 * version pins, and a key both set and unset by one scope. Each problem is tied to the scope that
 * holds the fault, so resolution can hand a server exactly the problems of its own scopes.
 */
import type { Problem, ScopeDefinitions, Source, State } from '../model.js';
import { RoleGraph } from './graph.js';
import { COMPONENT_PATTERN, compareStrings, EVR_PATTERN, SETTING_KEY_PATTERN } from './keys.js';

export interface ScopedProblem {
  scope: Source['scope'];
  /** The role, environment or server; `global` for the global scope. */
  name: string;
  problem: Problem;
}

function has(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

function checkDefinitions(where: string, defs: ScopeDefinitions, out: (p: Problem) => void): void {
  for (const key of Object.keys(defs.settings).sort(compareStrings)) {
    if (!SETTING_KEY_PATTERN.test(key)) {
      out({ kind: 'malformed', key, message: `${where}: settings: ${JSON.stringify(key)} is not a setting key <component>.<key> (e.g. shop.listen_port)` });
    }
  }
  const unset = new Set<string>();
  for (const key of defs.unset) {
    if (!SETTING_KEY_PATTERN.test(key)) {
      out({ kind: 'malformed', key, message: `${where}: unset: ${JSON.stringify(key)} is not a setting key <component>.<key> (e.g. shop.listen_port)` });
    } else if (has(defs.settings, key) && !unset.has(key)) {
      out({ kind: 'conflict', key, message: `${where}: ${key} is both set and unset` });
    }
    unset.add(key);
  }
}

/** Every problem of the state, each with the scope it belongs to, in a stable order. */
export function checkScopes(state: State, graph = new RoleGraph(state.roles)): ScopedProblem[] {
  const found: ScopedProblem[] = [];
  const add = (scope: Source['scope'], name: string) => (problem: Problem) => found.push({ scope, name, problem });

  checkDefinitions('global', state.global, add('global', 'global'));
  for (const env of Object.keys(state.environments).sort(compareStrings)) {
    const defs = state.environments[env];
    if (defs !== undefined) checkDefinitions(`environment ${env}`, defs, add('environment', env));
  }

  for (const cycle of graph.cycles()) {
    const problem: Problem = { kind: 'cycle', message: `roles inherit from themselves: ${cycle.join(' > ')}` };
    for (const role of new Set(cycle)) found.push({ scope: 'role', name: role, problem });
  }

  for (const name of Object.keys(state.roles).sort(compareStrings)) {
    const role = state.roles[name];
    if (role === undefined) continue;
    const out = add('role', name);
    for (const parent of role.parents) {
      if (!graph.has(parent)) out({ kind: 'unknown-reference', message: `role ${name}: parent ${JSON.stringify(parent)} is not a role` });
    }
    for (const [component, evr] of Object.entries(role.components).sort(([a], [b]) => compareStrings(a, b))) {
      if (!COMPONENT_PATTERN.test(component)) {
        out({ kind: 'malformed', message: `role ${name}: components: ${JSON.stringify(component)} is not a component name (^[a-z][a-z0-9-]*$)` });
      } else if (!EVR_PATTERN.test(evr)) {
        out({ kind: 'malformed', message: `role ${name}: components.${component}: ${JSON.stringify(evr)} is not a version-release (e.g. 1.4.0-1)` });
      }
    }
    checkDefinitions(`role ${name}`, role, out);
  }

  for (const fqdn of Object.keys(state.servers).sort(compareStrings)) {
    const server = state.servers[fqdn];
    if (server === undefined) continue;
    const out = (p: Problem) => found.push({ scope: 'server', name: fqdn, problem: { ...p, server: fqdn } });
    if (!has(state.environments, server.environment)) {
      out({ kind: 'unknown-reference', message: `server ${fqdn}: environment ${JSON.stringify(server.environment)} is not an environment` });
    }
    for (const role of server.roles) {
      if (!graph.has(role)) out({ kind: 'unknown-reference', message: `server ${fqdn}: role ${JSON.stringify(role)} is not a role` });
    }
    checkDefinitions(`server ${fqdn}`, server, out);
  }
  return found;
}

/**
 * What makes the state itself unpublishable, whatever the catalog: cycles among roles (each named
 * with its path), unknown roles, parents and environments, malformed setting keys and pins.
 */
export function checkState(state: State): Problem[] {
  const seen = new Set<Problem>();
  const out: Problem[] = [];
  for (const { problem } of checkScopes(state)) {
    // A cycle is one problem held by each of its roles: reported once.
    if (!seen.has(problem)) {
      seen.add(problem);
      out.push(problem);
    }
  }
  return out;
}
