/**
 * The servers a change of state can touch, without resolving anything: a changed role reaches the
 * servers that inherit it (before or after the change), a changed environment its members, a
 * changed global scope or repository list every server, a changed server itself. Over-approximate
 * on purpose (a change that resolves to the same file still counts); never under.
 */
import type { State } from '../model.js';
import { RoleGraph } from './graph.js';
import { deepEqual } from './values.js';

function changedNames<T>(a: Record<string, T>, b: Record<string, T>): Set<string> {
  const out = new Set<string>();
  for (const k of Object.keys(a)) if (!Object.prototype.hasOwnProperty.call(b, k) || !deepEqual(a[k], b[k])) out.add(k);
  for (const k of Object.keys(b)) if (!Object.prototype.hasOwnProperty.call(a, k)) out.add(k);
  return out;
}

function touched(state: State, graph: RoleGraph, roles: ReadonlySet<string>, environments: ReadonlySet<string>, out: Set<string>): void {
  for (const [fqdn, server] of Object.entries(state.servers)) {
    if (out.has(fqdn)) continue;
    if (environments.has(server.environment)) {
      out.add(fqdn);
      continue;
    }
    if (roles.size === 0) continue;
    for (const r of server.roles) {
      if (roles.has(r)) {
        out.add(fqdn);
        break;
      }
      let hit = false;
      for (const a of graph.ancestors(r)) {
        if (roles.has(a)) {
          hit = true;
          break;
        }
      }
      if (hit) {
        out.add(fqdn);
        break;
      }
    }
  }
}

/** The servers (of either state) whose file a change from `before` to `after` may change. */
export function affectedServers(before: State, after: State): Set<string> {
  const out = new Set<string>();
  if (!deepEqual(before.global, after.global) || !deepEqual(before.repositories, after.repositories)) {
    for (const s of Object.keys(before.servers)) out.add(s);
    for (const s of Object.keys(after.servers)) out.add(s);
    return out;
  }
  for (const s of changedNames(before.servers, after.servers)) out.add(s);
  const roles = changedNames(before.roles, after.roles);
  const environments = changedNames(before.environments, after.environments);
  if (roles.size === 0 && environments.size === 0) return out;
  touched(before, new RoleGraph(before.roles), roles, environments, out);
  touched(after, new RoleGraph(after.roles), roles, environments, out);
  return out;
}
