/**
 * Which packages satisfy a dependency, as rpm decides (lib/rpmds.c rpmdsCompare, lib/rpmds.c
 * rpmrichParse's evaluation): the oracle the dependency tests check the semver translation with.
 */
import { dependencyExpr, type Dependency, type DependencyExpr } from '../../packager/rpm/dependency.js';
import { RPMSENSE_SENSEMASK } from '../../packager/rpm/sense.js';
import { evrOverlap, parseEVR } from '../../packager/rpm/version.js';

export { evrOverlap };

/** Whether a Provides entry satisfies a plain dependency (lib/rpmds.c rpmdsCompareIndex). */
export function provideMatches(provide: Dependency, dep: Dependency): boolean {
  if (provide.name !== dep.name) return false;
  if (!(provide.flags & RPMSENSE_SENSEMASK) || !(dep.flags & RPMSENSE_SENSEMASK)) return true;
  if (provide.version === '' || dep.version === '') return true;
  return evrOverlap(parseEVR(provide.version), provide.flags, parseEVR(dep.version), dep.flags);
}

/** A package as the evaluator sees it: what it provides (its own `name = E:V-R` included). */
export interface ProvidingPackage {
  provides: readonly Dependency[];
}

function evaluate(expr: DependencyExpr, pkgs: readonly ProvidingPackage[]): boolean {
  if (expr.kind === 'simple') return pkgs.some((p) => p.provides.some((pr) => provideMatches(pr, expr)));
  const [a, b, c] = expr.operands;
  switch (expr.op) {
    case 'single':
      return evaluate(a!, pkgs);
    case 'and':
      return expr.operands.every((o) => evaluate(o, pkgs));
    case 'or':
      return expr.operands.some((o) => evaluate(o, pkgs));
    case 'if':
      return evaluate(b!, pkgs) ? evaluate(a!, pkgs) : c === undefined || evaluate(c, pkgs);
    case 'unless':
      return evaluate(b!, pkgs) ? c === undefined || evaluate(c, pkgs) : evaluate(a!, pkgs);
    case 'with':
      // One package must satisfy every operand.
      return pkgs.some((p) => expr.operands.every((o) => evaluate(o, [p])));
    case 'without':
      return pkgs.some((p) => evaluate(a!, [p]) && !evaluate(b!, [p]));
  }
}

/**
 * Whether the given packages (think: what is installed) satisfy a dependency, plain or rich, as
 * rpm and libsolv read it. `with` and `without` are about one package; the other operators about
 * the set.
 */
export function dependencySatisfied(dep: Dependency | DependencyExpr, pkgs: readonly ProvidingPackage[]): boolean {
  const expr = 'kind' in dep ? dep : dependencyExpr(dep);
  return evaluate(expr, pkgs);
}
