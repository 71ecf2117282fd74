/**
 * The Puppet half of a run: a Puppet environment Punch generates under <state>/puppet (site.pp
 * including the file's classes, the file's top-scope parameters, Hiera data with every class
 * parameter), then one `puppet apply --detailed-exitcodes`.
 *
 * Class parameters go through Hiera data, never the command line nor the manifest: the data file is
 * written 0600 in a 0700 directory, and the secret ones (the file's `kelkoo.sensitive`, and those
 * the module's kelkoo.json marks secret) are converted to Sensitive by `lookup_options`, so Puppet
 * redacts them in its logs and reports. Strings are escaped for Hiera, which would otherwise
 * interpolate `%{...}`.
 *
 * A dry run (`--noop`) exits 0 with changes pending: what would change is read from the run
 * summary (last_run_summary.yaml) and the JSON log, never from the exit status.
 */
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { hieraText, puppetString, yamlString } from '../packager/puppet/escape.js';
import { ioError, KpkgError, oneLine } from '../packager/errors.js';
import { runTool, toolEnv } from './child.js';
import type { NodeFile, Value } from './file.js';
import { inRoot, type PunchPaths } from './paths.js';

/** One class parameter as a module's kelkoo.json describes it (packager/puppet/module.ts). */
export interface ParameterDescription {
  name: string;
  type: string;
  default?: Value;
  secret: boolean;
  builtin?: boolean;
}

export interface ModuleDescription {
  class: string;
  component?: string;
  parameters: ParameterDescription[];
}

/** The module's kelkoo.json, undefined when the module has none (not built by kpkg) or is absent. */
export async function readModuleDescription(paths: PunchPaths, className: string): Promise<ModuleDescription | undefined> {
  const module = className.split('::')[0] ?? className;
  const path = join(paths.modulesDir, module, 'kelkoo.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const d = JSON.parse(text) as ModuleDescription;
    return Array.isArray(d.parameters) ? d : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** A number as YAML that Puppet reads with the right type: a Float keeps a dot even when whole. */
function yamlNumber(n: number, float: boolean): string {
  if (!Number.isFinite(n)) throw new KpkgError('INVALID_INPUT', `${n} is not a number Puppet can hold`);
  if (!float && Number.isInteger(n)) return String(n);
  const s = String(n);
  if (/[.]/.test(s)) return s;
  const e = s.indexOf('e');
  return e < 0 ? `${s}.0` : `${s.slice(0, e)}.0${s.slice(e)}`;
}

/** A value as Hiera YAML (flow style): strings double-quoted with `%{` escaped, keys too. */
export function hieraData(value: Value, float = false): string {
  if (typeof value === 'string') return yamlString(hieraText(value));
  if (typeof value === 'number') return yamlNumber(value, float);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map((v) => hieraData(v, float)).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${yamlString(hieraText(k))}: ${hieraData(v, float)}`)
    .join(', ')}}`;
}

/** A value as a Puppet literal (for top-scope variables in site.pp). */
export function puppetLiteral(value: Value): string {
  if (typeof value === 'string') return puppetString(value);
  if (typeof value === 'number') return yamlNumber(value, false);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(puppetLiteral).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${puppetString(k)} => ${puppetLiteral(v)}`)
    .join(', ')}}`;
}

/** The modules' switches Punch turns off with --root (packager/puppet/module.ts names them). */
export const ROOT_OFF = ['manage_user', 'manage_service', 'manage_migrations'] as const;

export interface ClassInput {
  name: string;
  parameters: Record<string, Value>;
  /** Parameters handed over as Sensitive. */
  sensitive: string[];
  /** Parameters whose Puppet type is a Float (a whole number must be written 3.0). */
  floats: string[];
}

/**
 * The classes of the file with what Punch adds: with --root, each class's config_dir inside the
 * root and manage_user / manage_service / manage_migrations false (when the module has them, per
 * its kelkoo.json): users, services and the database belong to the booted system, and a db-schema
 * component's migrations cannot run against an image root.
 */
export async function classInputs(file: NodeFile, paths: PunchPaths): Promise<ClassInput[]> {
  const out: ClassInput[] = [];
  for (const name of Object.keys(file.classes).sort()) {
    const parameters: Record<string, Value> = { ...file.classes[name] };
    const description = await readModuleDescription(paths, name);
    const described = new Map((description?.parameters ?? []).map((p) => [p.name, p]));
    // Hiera would ignore a key the class does not have: a misspelt parameter would go unnoticed
    if (description !== undefined) {
      const unknown = Object.keys(parameters).filter((k) => !described.has(k));
      if (unknown.length > 0) {
        throw new KpkgError('APPLY', `class ${name} has no parameter ${unknown.map((k) => JSON.stringify(k)).join(', ')} (its module's kelkoo.json lists ${[...described.keys()].join(', ')})`);
      }
    }
    if (paths.confined && description !== undefined) {
      const configDir = parameters.config_dir ?? described.get('config_dir')?.default;
      if (typeof configDir === 'string') parameters.config_dir = inRoot(paths, configDir);
      for (const flag of ROOT_OFF) if (described.has(flag)) parameters[flag] = false;
    }
    const sensitive = new Set(file.kelkoo.sensitive?.[name] ?? []);
    for (const p of described.values()) if (p.secret) sensitive.add(p.name);
    const floats = [...described.values()].filter((p) => /\bFloat\b/.test(p.type)).map((p) => p.name);
    out.push({ name, parameters, sensitive: [...sensitive].filter((k) => k in parameters).sort(), floats });
  }
  return out;
}

/** The Hiera data file: every class parameter, and lookup_options making the secret ones Sensitive. */
export function renderHieraData(classes: readonly ClassInput[]): string {
  const lines = ['---', '# Written by punch from the per-server file. Mode 0600: it may hold secrets.'];
  const options: string[] = [];
  for (const c of classes) {
    for (const key of Object.keys(c.parameters).sort()) {
      const value = c.parameters[key] as Value;
      lines.push(`${yamlString(`${c.name}::${key}`)}: ${hieraData(value, c.floats.includes(key))}`);
    }
    for (const key of c.sensitive) options.push(`  ${yamlString(`${c.name}::${key}`)}:`, `    convert_to: "Sensitive"`);
  }
  if (options.length > 0) lines.push('lookup_options:', ...options);
  return `${lines.join('\n')}\n`;
}

/** site.pp: the file's top-scope parameters, then one include per class. */
export function renderSite(file: NodeFile, classes: readonly ClassInput[]): string {
  const lines = ['# Written by punch from the per-server file.'];
  for (const [k, v] of Object.entries(file.parameters ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) lines.push(`$${k} = ${puppetLiteral(v)}`);
  for (const c of classes) lines.push(`include ${puppetString(c.name)}`);
  return `${lines.join('\n')}\n`;
}

const ENV_HIERA = [
  '---',
  '# Written by punch: the per-server file\'s class parameters.',
  'version: 5',
  'defaults:',
  '  datadir: data',
  '  data_hash: yaml_data',
  'hierarchy:',
  '  - name: "The per-server file"',
  '    path: "punch.yaml"',
  '',
].join('\n');

// ---------------------------------------------------------------------------------------------
// Running

export interface PuppetSummary {
  /** Resources changed (a real run) or that would change (noop). */
  changed: number;
  outOfSync: number;
  failed: number;
  total: number;
  /** Events per status: success, failure, noop. */
  events: { success: number; failure: number; noop: number };
}

/** Reads Puppet's last_run_summary.yaml (plain YAML). Undefined when it has no resources section (a compilation that failed). */
export function parseSummary(text: string): PuppetSummary | undefined {
  let data: unknown;
  try {
    data = parseYaml(text, { schema: 'core' });
  } catch {
    return undefined;
  }
  if (data === null || typeof data !== 'object') return undefined;
  const d = data as Record<string, unknown>;
  const section = (name: string): Record<string, unknown> | undefined => {
    const s = d[name];
    return s !== null && typeof s === 'object' ? (s as Record<string, unknown>) : undefined;
  };
  const resources = section('resources');
  if (resources === undefined) return undefined;
  const events = section('events') ?? {};
  const n = (o: Record<string, unknown>, k: string) => (typeof o[k] === 'number' ? (o[k]) : 0);
  return {
    changed: n(resources, 'changed'),
    outOfSync: n(resources, 'out_of_sync'),
    failed: n(resources, 'failed') + n(resources, 'failed_to_restart'),
    total: n(resources, 'total'),
    events: { success: n(events, 'success'), failure: n(events, 'failure'), noop: n(events, 'noop') },
  };
}

export interface LogEntry {
  level: string;
  message: string;
  source?: string;
}

/** Puppet's JSON log (`--logdest file.json`): an array, left unclosed when Puppet was killed. */
export function parseJsonLog(text: string): LogEntry[] {
  const t = text.trim();
  if (t === '') return [];
  for (const candidate of [t, `${t.replace(/,\s*$/, '')}]`]) {
    try {
      const data = JSON.parse(candidate) as unknown;
      if (!Array.isArray(data)) return [];
      return data.filter((e): e is LogEntry => e !== null && typeof e === 'object' && typeof (e as LogEntry).message === 'string' && typeof (e as LogEntry).level === 'string');
    } catch {
      // try the repaired form
    }
  }
  return [];
}

/**
 * The resource a log source names: `/Stage[main]/Shop/File[/etc/shop/config.json]/content` ->
 * `File[/etc/shop/config.json]`. Titles may hold `/` and `]`: the last `Type[` whose bracket
 * closes at the end (after an optional `/property`) wins.
 */
export function resourceOf(source: string): string | undefined {
  const withoutProperty = /\]\/[a-z_]+$/.test(source) ? source.slice(0, source.lastIndexOf('/')) : source;
  if (!withoutProperty.endsWith(']')) return undefined;
  const re = /\/([A-Z][A-Za-z0-9_]*(?:::[A-Z][A-Za-z0-9_]*)*)\[/g;
  let found: string | undefined;
  for (let m = re.exec(withoutProperty); m !== null; m = re.exec(withoutProperty)) {
    if (m[1] === 'Stage' || (m[1] ?? '').startsWith('Class')) continue;
    found = withoutProperty.slice(m.index + 1);
  }
  return found;
}

/** Resources that changed (or would, noop), from the log: each once, in order. */
export function changedResources(entries: readonly LogEntry[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (e.level !== 'notice' || e.source === undefined) continue;
    const r = resourceOf(e.source);
    if (r !== undefined && !out.includes(r)) out.push(r);
  }
  return out;
}

/** Error lines of a run, without Facter's complaints about containers. */
export function errorMessages(entries: readonly LogEntry[]): string[] {
  return entries
    // Facter complains about /proc/1/environ in containers: not an error of the run
    .filter((e) => e.level === 'err' && e.source !== 'Facter' && !/^Facter: /.test(e.message))
    .map((e) => oneLine(`${e.source !== undefined && e.source !== 'Puppet' ? `${e.source}: ` : ''}${e.message}`));
}

export interface PuppetResult {
  status: number;
  noop: boolean;
  summary?: PuppetSummary;
  resources: string[];
  errors: string[];
  /** True when the run applied (or, noop, could evaluate) the catalog without failure. */
  ok: boolean;
  /** Resources changed (real run) or pending (noop). */
  changes: number;
}

export interface PuppetRun {
  /** The command line (without the manifest): also what the bench uses for a bare apply. */
  args: string[];
  manifest: string;
  summaryFile: string;
  logFile: string;
}

/** Writes the environment (site.pp, hiera.yaml, data 0600) and returns the puppet apply invocation. */
export async function preparePuppet(paths: PunchPaths, file: NodeFile): Promise<PuppetRun> {
  const env = file.environment ?? 'production';
  const base = paths.puppetDir;
  const envDir = join(base, 'environments', env);
  const dataDir = join(envDir, 'data');
  try {
    for (const d of ['conf', 'var', 'code', 'log', 'run'].map((s) => join(base, s))) await mkdir(d, { recursive: true, mode: 0o700 });
    await mkdir(join(envDir, 'manifests'), { recursive: true, mode: 0o700 });
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await chmod(dataDir, 0o700);
  } catch (e) {
    throw ioError('create', envDir, e);
  }
  const classes = await classInputs(file, paths);
  const write = async (path: string, text: string, mode: number) => {
    try {
      await writeFile(`${path}.tmp`, text, { mode });
      await chmod(`${path}.tmp`, mode);
      await rename(`${path}.tmp`, path);
    } catch (e) {
      throw ioError('write', path, e);
    }
  };
  await write(join(dataDir, 'punch.yaml'), renderHieraData(classes), 0o600);
  await write(join(envDir, 'hiera.yaml'), ENV_HIERA, 0o644);
  await write(join(envDir, 'environment.conf'), `# Written by punch\nmodulepath = ${paths.modulesDir}\n`, 0o644);
  const manifest = join(envDir, 'manifests', 'site.pp');
  await write(manifest, renderSite(file, classes), 0o644);
  const logFile = join(base, 'log', 'run.json');
  const args = [
    'apply',
    '--detailed-exitcodes',
    '--color=false',
    `--confdir=${join(base, 'conf')}`,
    `--vardir=${join(base, 'var')}`,
    `--codedir=${join(base, 'code')}`,
    `--logdir=${join(base, 'log')}`,
    `--rundir=${join(base, 'run')}`,
    `--environmentpath=${join(base, 'environments')}`,
    `--environment=${env}`,
    `--hiera_config=${join(base, 'conf', 'hiera.yaml')}`,
    // puppet apply writes the summary only where told to (the agent's default is elsewhere)
    `--lastrunfile=${join(base, 'var', 'state', 'last_run_summary.yaml')}`,
    '--logdest=console',
    `--logdest=${logFile}`,
  ];
  return { args, manifest, summaryFile: join(base, 'var', 'state', 'last_run_summary.yaml'), logFile };
}

/** One `puppet apply` (noop for a plan); its console output appended to `consoleLog`. */
export async function applyPuppet(run: PuppetRun, paths: PunchPaths, options: { noop: boolean; consoleLog: string }): Promise<PuppetResult> {
  // a summary or log left by an earlier run must not be read as this one's
  await rm(run.summaryFile, { force: true });
  await rm(run.logFile, { force: true });
  const res = await runTool('puppet', [...run.args, ...(options.noop ? ['--noop'] : []), run.manifest], {
    env: toolEnv(),
    logFile: options.consoleLog,
    ...(options.noop ? {} : { childFile: paths.childFile }),
  });
  const summaryText = await readFile(run.summaryFile, 'utf8').catch(() => undefined);
  const summary = summaryText !== undefined ? parseSummary(summaryText) : undefined;
  const log = parseJsonLog(await readFile(run.logFile, 'utf8').catch(() => ''));
  const errors = errorMessages(log);
  const resources = changedResources(log);
  // --detailed-exitcodes: 0 nothing changed, 2 changes, 4 failures, 6 both, 1 compilation failed
  const statusOk = options.noop ? res.status === 0 || res.status === 2 : res.status === 0 || res.status === 2;
  const ok = statusOk && summary !== undefined && summary.failed === 0 && summary.events.failure === 0;
  const changes = summary === undefined ? 0 : options.noop ? summary.outOfSync : summary.changed;
  if (!ok && errors.length === 0) errors.push(`puppet apply exited with ${res.status}${summary === undefined ? ' without a run summary (the catalog did not compile)' : ''}`);
  return { status: res.status, noop: options.noop, ...(summary !== undefined ? { summary } : {}), resources, errors, ok, changes };
}
