/**
 * The one dnf transaction of a run: dnf 4 reads a `dnf shell` script, dnf 5 gets the same actions
 * as `dnf5 do --action=...` arguments; both carry a comment with the node and the revision, kept in
 * `dnf history`. dnf is isolated from what Punch does not own: its configuration is a file Punch
 * writes, and with repositories in the per-server file, only those (reposdir is Punch's own
 * directory); with --root, --installroot.
 *
 * dnf itself is not trusted to fail: `dnf shell` skips a package it cannot find and exits 0. The
 * preflight (./preflight.ts) checks availability before, rpm checks the result after (verify).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError, KpkgError } from '../packager/errors.js';
import { runTool, toolEnv, type ToolResult } from './child.js';
import type { Repository } from './file.js';
import type { PunchPaths } from './paths.js';
import type { PackageChange } from './plan.js';

export type DnfFlavour = 'dnf4' | 'dnf5';

export interface DnfSettings {
  /** `--releasever` (an image root has no release package to detect it from). */
  releasever?: string;
  /** Extra `--setopt` values, KEY=VALUE (e.g. tsflags=noscripts for an empty root). */
  setopt?: string[];
  /** CA file for repositories over HTTPS (sslcacert). */
  caFile?: string;
}

/** What a package name and an EVR may contain (the schema's patterns): nothing dnf would read as a glob, an option or a separator. */
const NAME_RE = /^[A-Za-z0-9_+][A-Za-z0-9_.+-]*$/;
const EVR_RE = /^(?:[0-9]{1,10}:)?[A-Za-z0-9._+~^]+-[A-Za-z0-9._+~^]+$/;
const ARCH_RE = /^[A-Za-z0-9_]+$/;
const SETOPT_RE = /^[A-Za-z0-9_.]+=[^\n\r\0]*$/;

/** The package spec of a change for dnf: `name-[epoch:]version-release[.arch]`. Refuses anything else. */
export function packageSpec(c: PackageChange): string {
  const evr = c.action === 'remove' ? c.from : c.to;
  if (!NAME_RE.test(c.name) || evr === undefined || !EVR_RE.test(evr) || (c.arch !== undefined && !ARCH_RE.test(c.arch))) {
    throw new KpkgError('INVALID_INPUT', `refusing to hand dnf the package ${JSON.stringify(c.name)} ${JSON.stringify(evr ?? '')}: not a package name and EVR`);
  }
  return `${c.name}-${evr}${c.arch !== undefined ? `.${c.arch}` : ''}`;
}

/** A one-line comment: what dnf history shows for the transaction. */
export function transactionComment(node: string, revision: number | undefined): string {
  return `punch: ${node}${revision !== undefined ? ` revision ${revision}` : ''}`.replace(/[^\x20-\x7e]/g, '?');
}

/** The `dnf shell` script of dnf 4: one command per change, then `run`. */
export function renderShellScript(changes: readonly PackageChange[], comment: string): string {
  const lines = [`# ${comment.replace(/[\r\n]/g, ' ')}`];
  for (const c of changes) lines.push(`${c.action} ${packageSpec(c)}`);
  lines.push('run', '');
  return lines.join('\n');
}

/** The `dnf5 do` arguments: `--action=<a> <spec>...` per action. */
export function doArguments(changes: readonly PackageChange[]): string[] {
  const args: string[] = [];
  let current: string | undefined;
  for (const c of changes) {
    if (c.action !== current) {
      args.push(`--action=${c.action}`);
      current = c.action;
    }
    args.push(packageSpec(c));
  }
  return args;
}

/** The repository file Punch writes for the file's repositories. */
export function renderRepoFile(repos: readonly Repository[], caFile?: string): string {
  const safe = (what: string, v: string) => {
    if (/[\r\n\0]/.test(v)) throw new KpkgError('INVALID_INPUT', `repository ${what} holds a line break`);
    return v;
  };
  const out: string[] = ['# Written by punch from the per-server file: do not edit.'];
  for (const r of repos) {
    const check = r.gpgcheck ?? r.gpgkey !== undefined;
    out.push(
      '',
      `[${safe('id', r.id)}]`,
      `name=${safe('name', r.name ?? r.id)}`,
      `baseurl=${safe('baseurl', r.baseurl)}`,
      'enabled=1',
      `gpgcheck=${check ? 1 : 0}`,
      `repo_gpgcheck=0`,
    );
    if (r.gpgkey !== undefined) out.push(`gpgkey=${safe('gpgkey', r.gpgkey)}`);
    if (caFile !== undefined) out.push(`sslcacert=${safe('CA file', caFile)}`);
  }
  return `${out.join('\n')}\n`;
}

const MAIN_CONF = [
  '# Written by punch: the settings of its transactions.',
  '[main]',
  'install_weak_deps=False',
  // a removed component takes its application with it, unless something else needs it
  'clean_requirements_on_remove=True',
  'best=True',
  'skip_if_unavailable=False',
  'keepcache=False',
  '',
].join('\n');

export interface Dnf {
  flavour: DnfFlavour;
  command: string;
  /** The options every dnf invocation of this run gets. */
  baseArgs: string[];
}

/** dnf 4 or 5: `dnf --version` prints `4.14.0` on dnf 4 and `dnf5 version 5.x` on dnf 5. */
export async function detectDnf(): Promise<{ flavour: DnfFlavour; command: string }> {
  const res = await runTool('dnf', ['--version']).catch(() => undefined);
  if (res !== undefined && /^dnf5\b/m.test(res.stdout)) return { flavour: 'dnf5', command: 'dnf' };
  if (res !== undefined && res.status === 0) return { flavour: 'dnf4', command: 'dnf' };
  const five = await runTool('dnf5', ['--version']).catch(() => undefined);
  if (five !== undefined && five.status === 0) return { flavour: 'dnf5', command: 'dnf5' };
  throw new KpkgError('TOOL', 'neither dnf nor dnf5 found on PATH');
}

async function writeAtomic(path: string, text: string, mode = 0o644): Promise<void> {
  try {
    await writeFile(`${path}.tmp`, text, { mode });
    await rename(`${path}.tmp`, path);
  } catch (e) {
    throw ioError('write', path, e);
  }
}

/**
 * Writes Punch's dnf configuration (and the file's repositories, if it lists any) and returns the
 * invocation. With repositories in the file, the system's are not read (reposdir is Punch's).
 */
export async function prepareDnf(paths: PunchPaths, repos: readonly Repository[] | undefined, settings: DnfSettings): Promise<Dnf> {
  const { flavour, command } = await detectDnf();
  const reposDir = join(paths.dnfDir, 'repos.d');
  try {
    await mkdir(reposDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw ioError('create', reposDir, e);
  }
  const conf = join(paths.dnfDir, 'dnf.conf');
  await writeAtomic(conf, MAIN_CONF);
  const args = ['-y', `--config=${conf}`];
  if (repos !== undefined) {
    await writeAtomic(join(reposDir, 'punch.repo'), renderRepoFile(repos, settings.caFile));
    args.push(`--setopt=reposdir=${reposDir}`);
  } else if (paths.confined) {
    throw new KpkgError('INVALID_INPUT', 'with --root, the file must list its repositories (kelkoo.repositories)');
  }
  if (paths.confined) args.push(`--installroot=${paths.root}`, flavour === 'dnf5' ? '--no-plugins' : '--noplugins');
  if (settings.releasever !== undefined) args.push(`--releasever=${settings.releasever}`);
  for (const o of settings.setopt ?? []) {
    if (!SETOPT_RE.test(o)) throw new KpkgError('USAGE', `--dnf-setopt ${JSON.stringify(o)}: expected KEY=VALUE`);
    args.push(`--setopt=${o}`);
  }
  return { flavour, command, baseArgs: args };
}

/**
 * The command line of the one transaction (after `dnf.command`). dnf 4: `dnf [global options]
 * shell SCRIPT`. dnf 5 (its dnf5(8) and dnf5-do(8)): global options (--comment, --refresh,
 * --config, --setopt, --installroot, --no-plugins, --releasever, -y) before the command, then
 * `do`, its own option --allow-downgrade (a downgraded component may need its application
 * downgraded too), then `--action=<a>` before each run of package specs. The specs are NEVRAs
 * checked by packageSpec: never a group (`@`), a path or a glob, so do's default `--type=auto` reads
 * them as packages.
 */
export function transactionArgs(dnf: Pick<Dnf, 'flavour' | 'baseArgs'>, changes: readonly PackageChange[], comment: string, script: string): string[] {
  const common = [...dnf.baseArgs, `--comment=${comment}`, '--refresh'];
  if (dnf.flavour === 'dnf5') return [...common, 'do', '--allow-downgrade', ...doArguments(changes)];
  return [...common, 'shell', script];
}

/**
 * Runs the one transaction of `changes`, its output appended to `logFile`. dnf's exit status
 * decides nothing on its own: verify reads rpm afterwards.
 */
export async function runTransaction(dnf: Dnf, paths: PunchPaths, changes: readonly PackageChange[], comment: string, logFile: string): Promise<ToolResult> {
  const script = join(paths.dnfDir, 'transaction.dnf');
  if (dnf.flavour === 'dnf4') await writeAtomic(script, renderShellScript(changes, comment), 0o600);
  return runTool(dnf.command, transactionArgs(dnf, changes, comment, script), { env: toolEnv(), logFile, childFile: paths.childFile });
}
