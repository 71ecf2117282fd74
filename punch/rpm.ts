/**
 * What rpm says is installed: the managed components (the packages that provide
 * kelkoo-deployment) before planning, and the wanted packages after the transaction (verify).
 * `rpm --root DIR` with --root; rpm found on PATH.
 */
import { KpkgError, oneLine } from '../packager/errors.js';
import { formatEVR, type EVR } from '../packager/rpm/version.js';
import { runTool, toolEnv } from './child.js';
import type { PunchPaths } from './paths.js';

/** The capability every deployment package provides (kpkg build). */
export const DEPLOYMENT_CAPABILITY = 'kelkoo-deployment';

export interface InstalledPackage {
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
}

/** `[epoch:]version-release`, the epoch only when it is not 0 (as the per-server file writes it). */
export function evrOf(p: { epoch: number; version: string; release: string }): string {
  const evr: EVR = { version: p.version, release: p.release };
  if (p.epoch !== 0) evr.epoch = p.epoch;
  return formatEVR(evr);
}

const QF = '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n';

function rpmArgs(paths: PunchPaths, args: readonly string[]): string[] {
  return [...(paths.confined ? ['--root', paths.root] : []), ...args];
}

function parseLines(stdout: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const line of stdout.split('\n')) {
    const f = line.split('\t');
    if (f.length !== 5) continue;
    const [name, epoch, version, release, arch] = f as [string, string, string, string, string];
    out.push({ name, epoch: Number(epoch), version, release, arch });
  }
  return out;
}

/** The installed instances of each of `names` (absent names map to []). */
export async function installedVersions(paths: PunchPaths, names: readonly string[]): Promise<Map<string, InstalledPackage[]>> {
  const map = new Map<string, InstalledPackage[]>(names.map((n) => [n, []]));
  if (names.length === 0) return map;
  // `--` so that no name is read as an option (the schema already forbids a leading '-')
  const res = await runTool('rpm', rpmArgs(paths, ['-q', '--qf', QF, '--', ...names]), { env: toolEnv() });
  for (const p of parseLines(res.stdout)) map.get(p.name)?.push(p);
  return map;
}

/** One line per package: its NEVRA, then its provides, space-separated (a capability holds no space). */
const QF_PROVIDES = '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t[%{PROVIDENAME} ]\\n';

/**
 * What planning needs in one rpm process: the installed deployment packages and every installed
 * instance of `names`. One `rpm -q --whatprovides kelkoo-deployment NAME...`: rpm makes every
 * package provide its own name, so a name finds its package; a package found only because it
 * provides a wanted name under another name is left out, as `rpm -q NAME` would.
 */
export async function installedForPlan(paths: PunchPaths, names: readonly string[]): Promise<{ deployments: InstalledPackage[]; byName: Map<string, InstalledPackage[]> }> {
  const wanted = new Set(names);
  const res = await runTool('rpm', rpmArgs(paths, ['-q', '--qf', QF_PROVIDES, '--whatprovides', '--', DEPLOYMENT_CAPABILITY, ...names]), { env: toolEnv() });
  const deployments = new Map<string, InstalledPackage>();
  const byName = new Map<string, InstalledPackage[]>(names.map((n) => [n, []]));
  const seen = new Set<string>();
  const unexpected: string[] = [];
  for (const line of res.stdout.split('\n')) {
    if (line === '') continue;
    const f = line.split('\t');
    if (f.length !== 6) {
      // rpm says so of a wanted name that is not installed; anything else is a failure
      if (!/^no package provides \S+$/.test(line)) unexpected.push(line);
      continue;
    }
    const [name, epoch, version, release, arch, provides] = f as [string, string, string, string, string, string];
    const p: InstalledPackage = { name, epoch: Number(epoch), version, release, arch };
    const key = `${name}\0${epoch}\0${version}\0${release}\0${arch}`;
    if (provides.split(' ').includes(DEPLOYMENT_CAPABILITY)) deployments.set(key, p);
    if (wanted.has(name) && !seen.has(key)) byName.get(name)?.push(p);
    seen.add(key);
  }
  if (res.status !== 0 && (res.stderr.trim() !== '' || unexpected.length > 0)) {
    throw new KpkgError('TOOL', `rpm -q --whatprovides ${DEPLOYMENT_CAPABILITY} failed (${res.status}): ${oneLine(res.stderr.trim() || unexpected.join('; '))}`);
  }
  return { deployments: [...deployments.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), byName };
}
