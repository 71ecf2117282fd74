/**
 * Inheritance of one kind of definition (settings, or version pins) through the roles, memoized
 * per role and key: a role's entry for a key is its own definition, or what its parents' entries
 * leave once the definitions another one overrides are dropped. Each role is walked once per key,
 * whatever the number of servers and diamonds above it.
 */
import type { RoleGraph } from './graph.js';
import { compareStrings } from './keys.js';
import type { DefinedValue } from './values.js';

/** A definition made by `role`, reached along `path` (from the role or server asking to it). */
export interface RoleDef {
  role: string;
  path: readonly string[];
  value: DefinedValue;
}

/** What a role (or a set of roles) inherits for a key: the winners, and all definitions (winners first). */
export interface Entry {
  winners: readonly RoleDef[];
  all: readonly RoleDef[];
}

/** Shortest path first, then the names in order: the same whatever the order of parents. */
export function comparePaths(a: readonly string[], b: readonly string[]): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) {
    const c = compareStrings(a[i] ?? '', b[i] ?? '');
    if (c !== 0) return c;
  }
  return 0;
}

function byPath(a: RoleDef, b: RoleDef): number {
  return comparePaths(a.path, b.path);
}

export class Layer {
  private readonly memo = new Map<string, Map<string, Entry | null>>();
  private readonly parentLists = new Map<string, readonly string[]>();
  private readonly closureKeys = new Map<string, ReadonlySet<string>>();
  /** One array per distinct path, so a server can share one Source per path across its keys. */
  private readonly paths = new Map<string, readonly string[]>();

  constructor(
    private readonly graph: RoleGraph,
    /** The role's own definition of the key, if it makes one. */
    private readonly own: (role: string, key: string) => DefinedValue | undefined,
    /** The keys the role defines itself. */
    private readonly ownKeys: (role: string) => Iterable<string>,
  ) {}

  /** The role's parents that are not part of a cycle through it (a cycle is reported elsewhere). */
  private parentsOf(role: string): readonly string[] {
    let list = this.parentLists.get(role);
    if (list === undefined) {
      list = this.graph.parents(role).filter((p) => p !== role && !this.graph.descendsFrom(p, role));
      this.parentLists.set(role, list);
    }
    return list;
  }

  /**
   * Every key the role or one of its ancestors defines: a key outside it needs no walk at all,
   * which is what keeps a server's hundreds of keys cheap when few are set on its roles.
   */
  keysOf(role: string): ReadonlySet<string> {
    let set = this.closureKeys.get(role);
    if (set === undefined) {
      const s = new Set<string>(this.ownKeys(role));
      for (const p of this.parentsOf(role)) for (const k of this.keysOf(p)) s.add(k);
      set = s;
      this.closureKeys.set(role, set);
    }
    return set;
  }

  private path(head: string, tail: readonly string[]): readonly string[] {
    const id = tail.length === 0 ? head : `${head}\0${tail.join('\0')}`;
    let p = this.paths.get(id);
    if (p === undefined) {
      p = [head, ...tail];
      this.paths.set(id, p);
    }
    return p;
  }

  /** What `role` holds for `key`: paths start at the role. Undefined when nothing defines it. */
  entry(role: string, key: string): Entry | undefined {
    if (!this.keysOf(role).has(key)) return undefined;
    let perRole = this.memo.get(role);
    if (perRole === undefined) {
      perRole = new Map();
      this.memo.set(role, perRole);
    }
    const known = perRole.get(key);
    if (known !== undefined) return known ?? undefined;
    const value = this.own(role, key);
    const own = value === undefined ? undefined : { role, path: this.path(role, []), value };
    const result = this.combine(this.parentsOf(role), key, role, own) ?? null;
    perRole.set(key, result);
    return result ?? undefined;
  }

  /**
   * What a set of roles inherits together (a server's roles): paths start at each role. With
   * `prefix`, every path gets it in front (the role whose parents these are).
   */
  combine(roles: readonly string[], key: string, prefix?: string, own?: RoleDef): Entry | undefined {
    const sources: Entry[] = [];
    for (const r of roles) {
      if (!this.keysOf(r).has(key)) continue;
      const e = this.entry(r, key);
      if (e !== undefined) sources.push(e);
    }
    const only = sources.length === 1 ? sources[0] : undefined;
    if (own === undefined && only !== undefined) {
      // One way in: same definitions, same order, paths one step longer.
      if (prefix === undefined) return only;
      const map = new Map<RoleDef, RoleDef>();
      const all = only.all.map((d) => {
        const p = { role: d.role, path: this.path(prefix, d.path), value: d.value };
        map.set(d, p);
        return p;
      });
      return { winners: only.winners.map((d) => map.get(d) ?? d), all };
    }
    if (own === undefined && sources.length === 0) return undefined;

    // The best path to each defining role, and the roles that won in some parent.
    const best = new Map<string, RoleDef>();
    const winnerRoles = new Set<string>();
    for (const e of sources) {
      for (const d of e.all) {
        const path = prefix === undefined ? d.path : this.path(prefix, d.path);
        const seen = best.get(d.role);
        if (seen === undefined || comparePaths(path, seen.path) < 0) best.set(d.role, { role: d.role, path, value: d.value });
      }
      for (const w of e.winners) winnerRoles.add(w.role);
    }
    let winners: RoleDef[];
    if (own !== undefined) {
      best.delete(own.role);
      winners = [own];
    } else {
      // A parent's winner loses to another parent's winner that inherits from it (a diamond).
      const candidates = [...winnerRoles];
      winners = candidates
        .filter((r) => !candidates.some((o) => o !== r && this.graph.descendsFrom(o, r)))
        .flatMap((r) => {
          const d = best.get(r);
          return d === undefined ? [] : [d];
        })
        .sort(byPath);
    }
    const winnerSet = new Set(winners.map((w) => w.role));
    const rest = [...best.values()].filter((d) => !winnerSet.has(d.role)).sort(byPath);
    return { winners, all: [...winners, ...rest] };
  }
}
