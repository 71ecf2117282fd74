/**
 * The application package of a component: its files (code and production dependencies, mapped by
 * the descriptor), launchers in <prefix>/bin, the systemd unit of services, the cron table of
 * processing components, the log directory and the system user. Decides contents only; the bytes
 * are the RPM writer's business.
 */
import { NAGIOS_PLUGIN_DIR, pluginName } from '../descriptor/names.js';
import type { Component } from '../descriptor/types.js';
import { KpkgError } from '../errors.js';
import type { MappedFile } from '../descriptor/files.js';
import { RPMSENSE_SCRIPT_PRE, type Dependency } from '../rpm/dependency.js';
import { semverRangeToRpm } from './semver-range.js';
import type { PackageFile, PackageSpec, Script } from '../rpm/spec.js';
import { renderTemplate } from '../util/templates.js';
import { cronCommand, shellQuote, systemdArg, systemdEnvironment, systemdText } from './escape.js';
import { dependencyList } from './dependencies.js';

export interface Launcher {
  /** File name in <prefix>/bin */
  name: string;
  /** Script to run, relative to the prefix: `dist/index.js` */
  entry: string;
}

export interface ApplicationInput {
  component: Component;
  /** RPM version and release of the package */
  version: string;
  release: string;
  files: MappedFile[];
  launchers: Launcher[];
  /** true when a native addon (.node) is among the files: the package is then arch-specific */
  arch: string;
}

export const SYSTEMD_UNIT_DIR = '/usr/lib/systemd/system';
export const CRON_DIR = '/etc/cron.d';
/**
 * The epoch of the nodejs packages of RHEL, Fedora and their rebuilds (`nodejs-1:20.x`). A bound
 * without epoch is older than any of them, so `nodejs < 21` would never be met and `nodejs >= 20`
 * would be met by 1:18 as well; with the epoch both ends mean what engines.node means.
 */
export const NODEJS_EPOCH = 1;


export function applicationSpec(input: ApplicationInput): PackageSpec {
  const { component: c, version, release } = input;
  const files: PackageFile[] = input.files.map(toPackageFile);
  const owned = new Set(files.map((f) => f.path));
  const add = (f: PackageFile) => {
    if (owned.has(f.path)) return;
    owned.add(f.path);
    files.push(f);
  };

  add({ path: c.prefix, kind: 'dir', mode: 0o755 });
  add({ path: `${c.prefix}/bin`, kind: 'dir', mode: 0o755 });
  for (const launcher of input.launchers) {
    const path = `${c.prefix}/bin/${launcher.name}`;
    if (owned.has(path)) throw new KpkgError('INVALID_DESCRIPTOR', `component.json: /files: a mapped file is installed as ${path}, where the launcher of ${launcher.name} goes`);
    add({ path, kind: 'file', mode: 0o755, content: launcherScript(c, version, launcher) });
  }
  // Conventions win over what the file mapping says of these directories. The configuration
  // (Puppet renders it) is readable by the service's group only; the service writes its logs.
  // A monitoring plugin runs as NRPE's user, outside the group: its directory stays traversable
  // (config.json is 0644 unless it holds a secret).
  setDir(files, { path: c.configDir, kind: 'dir', mode: c.type === 'monitoring' ? 0o755 : 0o750, user: 'root', group: c.group });
  setDir(files, { path: c.logDir, kind: 'dir', mode: 0o750, user: c.user, group: c.group });
  if (c.type === 'processing') for (const dir of processingDirs(c)) setDir(files, { path: dir, kind: 'dir', mode: 0o750, user: c.user, group: c.group });
  for (const f of files) owned.add(f.path);

  let requiresCron = false;
  const scripts: PackageSpec['scripts'] = {
    pre: { body: renderTemplate('runtime/pre-user.sh.hbs', { user: shellQuote(c.user), group: shellQuote(c.group), home: shellQuote(c.prefix), gecos: shellQuote(`${c.name} service`) }) },
  };
  // what the unit and the cron table run: the launcher named after the component, else the first
  const main = input.launchers.find((l) => l.name === c.name) ?? input.launchers[0];
  const mainPath = main ? `${c.prefix}/bin/${main.name}` : undefined;
  if (!mainPath) {
    const needs = "give package.json a main or bin that component.json's files install";
    if (c.service) throw new KpkgError('INVALID_DESCRIPTOR', `package.json: /main: a ${c.type} runs as a service and needs something to run: ${needs}`);
    const bare = c.cron.findIndex((e) => e.command === undefined);
    if (bare >= 0) throw new KpkgError('INVALID_DESCRIPTOR', `component.json: /cron/${bare}/command: without a command the entry runs the component's launcher, and there is none: give a command, or ${needs}`);
  }
  if (c.service) {
    const unit = `${c.name}.service`;
    add({ path: `${SYSTEMD_UNIT_DIR}/${unit}`, kind: 'file', mode: 0o644, content: serviceUnit(c, version, mainPath as string) });
    const ctx = { unit: shellQuote(unit) };
    scripts.post = script('runtime/post-service.sh.hbs', ctx);
    scripts.preun = script('runtime/preun-service.sh.hbs', ctx);
    scripts.postun = script('runtime/postun-service.sh.hbs', ctx);
  }
  if (c.cron.length > 0) {
    // rpmlint's missing-dependency-to-crontabs: /etc/cron.d and the daemon reading it come with crontabs (cronie requires it)
    requiresCron = true;
    add({ path: `${CRON_DIR}/${c.name}`, kind: 'file', mode: 0o644, config: true, noreplace: true, content: cronTable(c, version, mainPath ?? '') });
  }
  // a monitoring component's plugin is where Nagios and NRPE look, unless the component put its own there
  if (c.type === 'monitoring' && !files.some((f) => f.path.startsWith(`${NAGIOS_PLUGIN_DIR}/`))) {
    const plugin = input.launchers.find((l) => l.name.startsWith('check_')) ?? input.launchers[0];
    if (plugin) add({ path: `${NAGIOS_PLUGIN_DIR}/${pluginName(c.module)}`, kind: 'symlink', target: `${c.prefix}/bin/${plugin.name}` });
  }

  const nodeRange = c.nodeEngine ?? '*';
  const requires: Dependency[] = [
    ...dependencyList(c.requires, 'requires'),
    // the %pre scriptlet creates the user with these (shadow-utils on RHEL, passwd on Debian)
    { name: '/usr/sbin/useradd', flags: RPMSENSE_SCRIPT_PRE, version: '' },
    { name: '/usr/sbin/groupadd', flags: RPMSENSE_SCRIPT_PRE, version: '' },
  ];
  requires.push(...semverRangeToRpm('nodejs', nodeRange, { epoch: NODEJS_EPOCH }));
  if (requiresCron) requires.push({ name: 'crontabs', flags: 0, version: '' });

  return {
    name: c.name,
    version,
    release,
    arch: input.arch,
    summary: c.summary,
    description: c.description,
    license: c.license,
    group: 'Applications/Internet',
    ...(c.url ? { url: c.url } : {}),
    ...(c.vendor ? { vendor: c.vendor } : {}),
    ...(c.packager ? { packager: c.packager } : {}),
    requires,
    recommends: dependencyList(c.recommends, 'recommends'),
    conflicts: dependencyList(c.conflicts, 'conflicts'),
    obsoletes: dependencyList(c.obsoletes, 'obsoletes', { rich: false }),
    provides: dependencyList(c.provides, 'provides', { rich: false }),
    scripts,
    files,
  };
}

/** Where a processing component keeps its data: `/var/lib/kelkoo/<name>`. */
export function stateDir(c: Component): string {
  return `/var/lib/kelkoo/${c.name}`;
}

/**
 * The directories a processing component works in, which its package creates for its user: the
 * state directory, and each `*_dir` setting whose default lies under it (the archetype's
 * input_dir and output_dir). A setting pointed elsewhere names a directory ops provide.
 */
export function processingDirs(c: Component): string[] {
  const state = stateDir(c);
  const dirs = new Set<string>([state]);
  for (const [key, spec] of Object.entries(c.configKeys)) {
    const value = spec.default;
    if (!key.endsWith('_dir') || typeof value !== 'string' || !value.startsWith(`${state}/`)) continue;
    const parts = value.slice(state.length + 1).split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) continue;
    for (let i = 1; i <= parts.length; i++) dirs.add(`${state}/${parts.slice(0, i).join('/')}`);
  }
  return [...dirs].sort();
}

function setDir(files: PackageFile[], dir: PackageFile): void {
  const i = files.findIndex((f) => f.path === dir.path);
  if (i >= 0) files[i] = dir;
  else files.push(dir);
}

function script(template: string, ctx: object): Script {
  return { body: renderTemplate(template, ctx) };
}

export function toPackageFile(f: MappedFile): PackageFile {
  const out: PackageFile = { path: f.dest, kind: f.kind, mode: f.mode };
  if (f.src !== undefined && f.kind === 'file') out.source = f.src;
  if (f.target !== undefined) out.target = f.target;
  if (f.config) {
    out.config = true;
    out.noreplace = true;
  }
  if (f.user) out.user = f.user;
  if (f.group) out.group = f.group;
  return out;
}

export function launcherScript(c: Component, version: string, launcher: Launcher): string {
  return renderTemplate('runtime/launcher.sh.hbs', {
    comment: `${launcher.name}: launcher of ${c.name} ${version}`.replace(/[\r\n]/g, ' '),
    entryText: launcher.entry.replace(/[\r\n]/g, ' '),
    configDir: shellQuote(c.configDir),
    entry: shellQuote(launcher.entry),
  });
}

function serviceUnit(c: Component, version: string, launcher: string): string {
  return renderTemplate('runtime/service.hbs', {
    name: systemdText(c.name),
    version: systemdText(version),
    description: systemdText(c.summary),
    user: systemdText(c.user),
    group: systemdText(c.group),
    environment: systemdEnvironment('KELKOO_CONFIG_DIR', c.configDir),
    workingDirectory: systemdText(c.prefix),
    execStart: systemdArg(launcher),
  });
}

function cronTable(c: Component, version: string, launcher: string): string {
  return renderTemplate('runtime/cron.hbs', {
    name: cronCommand(c.name),
    version: cronCommand(version),
    entries: c.cron.map((e) => ({
      schedule: e.schedule,
      user: e.user ?? c.user,
      command: cronCommand(e.command ?? shellQuote(launcher)),
    })),
  });
}
