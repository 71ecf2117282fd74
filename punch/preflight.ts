/**
 * Preflight: every package the transaction must install (new, upgrade, downgrade) is available at
 * its exact EVR in the configured repositories, else the run stops before anything changes,
 * naming each missing package. (`dnf shell` would skip it and exit 0.)
 */
import { KpkgError, oneLine } from '../packager/errors.js';
import { runTool, toolEnv } from './child.js';
import type { Dnf } from './dnf.js';
import type { PackageChange } from './plan.js';
import { sameEVR } from './plan.js';
import { evrOf } from './rpm.js';

export interface AvailablePackage {
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  /** The repository it was found in. */
  repo?: string;
}

/** The changes whose wanted EVR is not among `available`. */
export function missingPackages(changes: readonly PackageChange[], available: readonly AvailablePackage[]): PackageChange[] {
  const byName = new Map<string, AvailablePackage[]>();
  for (const p of available) {
    const list = byName.get(p.name);
    if (list) list.push(p);
    else byName.set(p.name, [p]);
  }
  return changes.filter((c) => {
    if (c.action === 'remove' || c.to === undefined) return false;
    const to = c.to;
    return !(byName.get(c.name) ?? []).some((p) => sameEVR(evrOf(p), to));
  });
}

/** The message of a failed preflight: each missing package, and that nothing changed. */
export function unavailableError(missing: readonly PackageChange[], where: string): KpkgError {
  const list = missing.map((c) => `${c.name} ${c.to ?? ''}`).join(', ');
  return new KpkgError('UNAVAILABLE', `not available in ${where}: ${list}; nothing was changed`);
}

/**
 * What the system's repositories offer of `names`, asked of dnf (the file lists no repositories,
 * so only dnf knows the system's configuration).
 */
export async function availableFromDnf(dnf: Dnf, names: readonly string[]): Promise<AvailablePackage[]> {
  if (names.length === 0) return [];
  const qf = '%{name}\\t%{epoch}\\t%{version}\\t%{release}\\t%{arch}\\t%{repoid}\\n';
  const args = [...dnf.baseArgs, '--refresh', '-q', 'repoquery', '--available', '--queryformat', qf, '--', ...names];
  const res = await runTool(dnf.command, args, { env: toolEnv() });
  if (res.status !== 0) throw new KpkgError('TOOL', `dnf repoquery failed (${res.status}): ${oneLine(res.stderr.trim().split('\n').slice(-1)[0] ?? '')}`);
  const out: AvailablePackage[] = [];
  for (const line of res.stdout.split('\n')) {
    const f = line.split('\t');
    if (f.length !== 6) continue;
    const [name, epoch, version, release, arch, repo] = f as [string, string, string, string, string, string];
    out.push({ name, epoch: Number(epoch) || 0, version, release, arch, repo });
  }
  return out;
}
