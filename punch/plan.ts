/**
 * The package plan: from the wanted packages (the file) and the installed deployment packages
 * (rpm), what one transaction must do. Pure. Every wanted package ends at its exact EVR (install,
 * upgrade or downgrade); every installed deployment package the file does not want is removed.
 * Several installed versions of one name (a transaction killed halfway) are repaired: the
 * instances that are not wanted are removed by their full name.
 */
import { compareEVR, parseEVR } from '../packager/rpm/version.js';
import type { WantedPackage } from './file.js';
import { evrOf, type InstalledPackage } from './rpm.js';

export type PackageAction = 'install' | 'upgrade' | 'downgrade' | 'remove';

export interface PackageChange {
  action: PackageAction;
  name: string;
  /** The installed EVR (upgrade, downgrade, remove). */
  from?: string;
  /** The wanted EVR (install, upgrade, downgrade). */
  to?: string;
  /** For a remove: the arch of the instance removed. */
  arch?: string;
}

export interface PackagePlan {
  changes: PackageChange[];
  /** Wanted packages already installed at their EVR. */
  unchanged: WantedPackage[];
}

/** Whether two `[epoch:]version-release` strings name the same EVR (`0:1.0-1` is `1.0-1`). */
export function sameEVR(a: string, b: string): boolean {
  return compareEVR(parseEVR(a), parseEVR(b)) === 0;
}

const ORDER: Record<PackageAction, number> = { remove: 0, downgrade: 1, upgrade: 2, install: 3 };

export function computePlan(wanted: readonly WantedPackage[], installed: readonly InstalledPackage[]): PackagePlan {
  const byName = new Map<string, InstalledPackage[]>();
  for (const p of installed) {
    const list = byName.get(p.name);
    if (list) list.push(p);
    else byName.set(p.name, [p]);
  }
  const changes: PackageChange[] = [];
  const unchanged: WantedPackage[] = [];
  const wantedNames = new Set(wanted.map((w) => w.name));
  for (const w of wanted) {
    const have = byName.get(w.name) ?? [];
    if (have.length === 0) {
      changes.push({ action: 'install', name: w.name, to: w.evr });
      continue;
    }
    if (have.length === 1) {
      const only = have[0] as InstalledPackage;
      const from = evrOf(only);
      const order = compareEVR(parseEVR(from), parseEVR(w.evr));
      if (order === 0) unchanged.push(w);
      else changes.push({ action: order < 0 ? 'upgrade' : 'downgrade', name: w.name, from, to: w.evr });
      continue;
    }
    // duplicates: keep the wanted instance if there is one, remove the rest by full name
    const keep = have.find((p) => sameEVR(evrOf(p), w.evr));
    for (const p of have) if (p !== keep) changes.push({ action: 'remove', name: p.name, from: evrOf(p), arch: p.arch });
    if (keep === undefined) changes.push({ action: 'install', name: w.name, to: w.evr });
    else unchanged.push(w);
  }
  for (const [name, have] of byName) {
    if (wantedNames.has(name)) continue;
    for (const p of have) changes.push({ action: 'remove', name, from: evrOf(p), arch: p.arch });
  }
  changes.sort((a, b) => ORDER[a.action] - ORDER[b.action] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { changes, unchanged };
}

/** `install shop-deploy 1.4.0-1`, `upgrade shop-deploy 1.3.0-1 -> 1.4.0-1`, `remove old-deploy 2.0-1`. */
export function describeChange(c: PackageChange): string {
  switch (c.action) {
    case 'install':
      return `install   ${c.name} ${c.to ?? ''}`;
    case 'remove':
      return `remove    ${c.name} ${c.from ?? ''}`;
    default:
      return `${c.action.padEnd(9)} ${c.name} ${c.from ?? ''} -> ${c.to ?? ''}`;
  }
}
