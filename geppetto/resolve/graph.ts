/**
 * The roles' inheritance graph: each role's ancestors (memoized, so a diamond is walked once) and
 * the cycles, each named by one path around it. A cycle's back edge is ignored when ancestors are
 * computed, so resolution always terminates; the cycle itself is a problem that blocks publishing.
 */
import type { RoleDefinition } from '../model.js';
import { compareStrings } from './keys.js';

export class RoleGraph {
  private readonly ancestorSets = new Map<string, ReadonlySet<string>>();
  private readonly parentLists = new Map<string, readonly string[]>();

  constructor(readonly roles: Readonly<Record<string, RoleDefinition>>) {}

  has(role: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.roles, role);
  }

  /** The role's existing parents, without duplicates, sorted (parent order never matters). */
  parents(role: string): readonly string[] {
    let list = this.parentLists.get(role);
    if (list === undefined) {
      const def = this.has(role) ? this.roles[role] : undefined;
      list = def === undefined ? [] : [...new Set(def.parents)].filter((p) => this.has(p)).sort(compareStrings);
      this.parentLists.set(role, list);
    }
    return list;
  }

  /** Every role `role` inherits from, itself excluded (unless a cycle leads back to it). */
  ancestors(role: string): ReadonlySet<string> {
    const known = this.ancestorSets.get(role);
    if (known !== undefined) return known;
    // Iterative depth-first walk: a role's set is the union of its parents' sets and the parents.
    const stack: { role: string; next: number; parents: readonly string[] }[] = [{ role, next: 0, parents: this.parents(role) }];
    const onStack = new Set<string>([role]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top === undefined) break;
      const parent = top.parents[top.next];
      if (parent !== undefined) {
        top.next++;
        if (!this.ancestorSets.has(parent) && !onStack.has(parent)) {
          onStack.add(parent);
          stack.push({ role: parent, next: 0, parents: this.parents(parent) });
        }
        continue;
      }
      const set = new Set<string>();
      for (const p of top.parents) {
        set.add(p);
        const pa = this.ancestorSets.get(p);
        if (pa !== undefined) for (const a of pa) set.add(a);
      }
      this.ancestorSets.set(top.role, set);
      onStack.delete(top.role);
      stack.pop();
    }
    return this.ancestorSets.get(role) ?? new Set();
  }

  /** Whether `a` inherits (transitively) from `b`. */
  descendsFrom(a: string, b: string): boolean {
    return this.ancestors(a).has(b);
  }

  /**
   * The cycles: one per strongly connected component that loops (Tarjan), each as the path from
   * its smallest role around to itself, e.g. ['a', 'b', 'c', 'a'].
   */
  cycles(): string[][] {
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const onStack = new Set<string>();
    const stack: string[] = [];
    const components: string[][] = [];
    let counter = 0;
    const names = Object.keys(this.roles).sort(compareStrings);
    for (const start of names) {
      if (index.has(start)) continue;
      // Iterative Tarjan: frames of (role, next parent index).
      const frames: { role: string; next: number; parents: readonly string[] }[] = [];
      const visit = (r: string) => {
        index.set(r, counter);
        low.set(r, counter);
        counter++;
        stack.push(r);
        onStack.add(r);
        frames.push({ role: r, next: 0, parents: this.parents(r) });
      };
      visit(start);
      while (frames.length > 0) {
        const f = frames[frames.length - 1];
        if (f === undefined) break;
        const p = f.parents[f.next];
        if (p !== undefined) {
          f.next++;
          if (!index.has(p)) visit(p);
          else if (onStack.has(p)) low.set(f.role, Math.min(low.get(f.role) ?? 0, index.get(p) ?? 0));
          continue;
        }
        frames.pop();
        const parentFrame = frames[frames.length - 1];
        if (parentFrame !== undefined) low.set(parentFrame.role, Math.min(low.get(parentFrame.role) ?? 0, low.get(f.role) ?? 0));
        if (low.get(f.role) === index.get(f.role)) {
          const comp: string[] = [];
          for (;;) {
            const r = stack.pop();
            if (r === undefined) break;
            onStack.delete(r);
            comp.push(r);
            if (r === f.role) break;
          }
          const first = comp[0];
          const loops = comp.length > 1 || (first !== undefined && this.parents(first).includes(first));
          if (loops) components.push(comp.sort(compareStrings));
        }
      }
    }
    return components.map((comp) => this.loopThrough(comp)).sort((a, b) => compareStrings(a.join('>'), b.join('>')));
  }

  /** The shortest path from the component's smallest role back to itself, inside the component. */
  private loopThrough(comp: string[]): string[] {
    const members = new Set(comp);
    const start = comp[0] ?? '';
    const from = new Map<string, string>();
    let frontier = [start];
    while (frontier.length > 0) {
      const next: string[] = [];
      for (const r of frontier) {
        for (const p of this.parents(r)) {
          if (!members.has(p)) continue;
          if (p === start) {
            const path = [start];
            for (let at: string | undefined = r; at !== undefined && at !== start; at = from.get(at)) path.splice(1, 0, at);
            path.push(start);
            return path;
          }
          if (!from.has(p)) {
            from.set(p, r);
            next.push(p);
          }
        }
      }
      frontier = next;
    }
    return [start, start];
  }
}
