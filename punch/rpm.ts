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

/** The installed packages that provide kelkoo-deployment (several versions of one name after a crashed transaction). */
export async function installedDeployments(paths: PunchPaths): Promise<InstalledPackage[]> {
  const res = await runTool('rpm', rpmArgs(paths, ['-q', '--whatprovides', DEPLOYMENT_CAPABILITY, '--qf', QF]), { env: toolEnv() });
  const found = parseLines(res.stdout);
  if (res.status !== 0 && !(found.length === 0 && /no package provides/.test(res.stdout + res.stderr))) {
    throw new KpkgError('TOOL', `rpm -q --whatprovides ${DEPLOYMENT_CAPABILITY} failed (${res.status}): ${oneLine(res.stderr.trim() || res.stdout.trim())}`);
  }
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
