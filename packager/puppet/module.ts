/**
 * The Puppet module of a component's deployment package: the class `<module>` with one typed
 * parameter per configuration key, its defaults as module data, the EPP template of config.json,
 * and the Ruby functions the module needs. Pure: a Component in, files (relative to the module
 * root) out. Every user value reaches the files through one escaping function of ./escape.ts,
 * called from the Handlebars templates under templates/deploy/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import semver from 'semver';
import { CONFIG_KEY_TYPES, type Component, type ConfigKey, type ConfigKeyType, type ConfigValue } from '../descriptor/types.js';
import { MODULE_PARAMETERS, NAGIOS_PLUGIN_DIR, pluginName } from '../descriptor/names.js';
import { KpkgError } from '../errors.js';
import { templatesDir } from '../util/paths.js';
import {
  eppText,
  hieraValue,
  jsonString,
  markdownCode,
  markdownText,
  puppetComment,
  puppetString,
  puppetValue,
  rubyString,
  valueHasType,
} from './escape.js';

export interface ModuleFile {
  /** Relative to the module's root, e.g. `manifests/init.pp`. */
  path: string;
  content: string;
  /** Permission bits; absent means 0644. */
  mode?: number;
}


// Names a class parameter cannot have (Puppet refuses them or they would hide a built-in
// variable), and the local variables of init.pp (a parameter cannot be reassigned).
const RESERVED_KEYS: ReadonlySet<string> = new Set([
  ...MODULE_PARAMETERS,
  'name', 'title', // Puppet: "redefines a built in parameter"
  'alias', 'audit', 'before', 'loglevel', 'noop', 'notify', 'require', 'schedule', 'stage', 'subscribe', 'tag', // metaparameters
  'facts', 'trusted', 'server_facts', 'settings', 'module_name', 'caller_module_name', // built-in variables
  'owner_attrs', 'config_dir_mode', 'config_content', 'config_file', // locals of init.pp
]);

// puppet-lint's 140 characters: the longest generated line holding a key name is the epp() hash
// entry of a secret key, about 2 names + 25 characters.
const MAX_KEY_LENGTH = 50;
const MAX_MODULE_LENGTH = 64;

const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
const MODULE_PATTERN = /^[a-z][a-z0-9_]*$/;
const KEY_PATTERN = /^[a-z][a-z0-9_]*$/;
const USER_PATTERN = /^[a-z_][a-z0-9_-]*$/;

interface KeyView {
  name: string;
  type: ConfigKeyType;
  /** The class parameter's type: a secret also accepts a Sensitive value. */
  paramType: string;
  /** The EPP template parameter's type: a secret arrives Sensitive. */
  eppType: string;
  secret: boolean;
  hasDefault: boolean;
  /** The default, when the key has one. */
  value: ConfigValue | undefined;
  description: string | undefined;
}

interface ModuleView {
  module: string;
  name: string;
  version: string;
  /** Where the module comes from, for its header comment. */
  origin: string;
  summary: string;
  description: string;
  user: string;
  group: string;
  prefix: string;
  configDir: string;
  service: boolean;
  monitoring: boolean;
  dbSchema: boolean;
  /** db-schema: the launcher that applies the migrations. */
  migrateCommand: string;
  keys: KeyView[];
  keyWidth: number;
  defaults: { name: string; value: ConfigValue; type: ConfigKeyType }[];
  secretKeys: string[];
  secretLookupKeys: string[];
  hasSecrets: boolean;
  empty: boolean;
  /** The Nagios plugin's file name, also the NRPE command's name. */
  plugin: string;
  checkCommandPrefix: string;
  pluginPath: string;
}

function invalid(field: string, message: string, cause?: unknown): KpkgError {
  return new KpkgError('INVALID_DESCRIPTOR', `${field}: ${message}`, cause === undefined ? undefined : { cause });
}

/** Runs an escape on a descriptor value, naming the field when it refuses the value. */
function escaped<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof KpkgError && err.code === 'INVALID_INPUT') throw invalid(field, err.message, err);
    throw err;
  }
}

function keyView(name: string, key: ConfigKey): KeyView {
  const field = `config.keys.${name}`;
  if (!KEY_PATTERN.test(name)) throw invalid(field, 'a key is a Puppet parameter name, ^[a-z][a-z0-9_]*$');
  if (name.length > MAX_KEY_LENGTH) throw invalid(field, `a key name has at most ${MAX_KEY_LENGTH} characters`);
  if (RESERVED_KEYS.has(name)) throw invalid(field, `"${name}" is reserved (a Puppet built-in or a parameter every module has)`);
  if (!(CONFIG_KEY_TYPES as readonly string[]).includes(key.type)) {
    throw invalid(`${field}.type`, `expected one of ${CONFIG_KEY_TYPES.join(', ')}, found ${JSON.stringify(key.type)}`);
  }
  const hasDefault = key.default !== undefined;
  if (hasDefault) {
    const value = key.default as ConfigValue;
    if (!valueHasType(value, key.type)) throw invalid(`${field}.default`, `not a value of type ${key.type}`);
    // Refuses what no file can carry (NUL), naming the key.
    escaped(`${field}.default`, () => hieraValue(value, key.type));
  }
  if (key.description !== undefined) escaped(`${field}.description`, () => puppetComment(key.description as string));
  const secret = key.secret === true;
  return {
    name,
    type: key.type,
    paramType: secret ? `Variant[${key.type}, Sensitive[${key.type}]]` : key.type,
    eppType: secret ? `Sensitive[${key.type}]` : key.type,
    secret,
    hasDefault,
    // Always present: the templates are compiled strict, where a missing field throws.
    value: key.default,
    description: key.description !== undefined && key.description.trim() !== '' ? key.description : undefined,
  };
}

function moduleView(component: Component): ModuleView {
  const { name, module } = component;
  if (!NAME_PATTERN.test(name)) throw invalid('name', `expected ^[a-z][a-z0-9-]*$, found ${JSON.stringify(name)}`);
  if (module !== name.replace(/-/g, '_') || !MODULE_PATTERN.test(module)) {
    throw new KpkgError('INTERNAL', `module name ${JSON.stringify(module)} is not the name ${name} with - as _`);
  }
  if (module.length > MAX_MODULE_LENGTH) throw invalid('name', `a name has at most ${MAX_MODULE_LENGTH} characters`);
  if (semver.valid(component.version) === null) throw invalid('version', `not a semantic version: ${JSON.stringify(component.version)}`);
  for (const field of ['user', 'group'] as const) {
    if (!USER_PATTERN.test(component[field]) || component[field].length > 32) {
      throw invalid(field, `not a system ${field} name (^[a-z_][a-z0-9_-]*$, at most 32 characters): ${JSON.stringify(component[field])}`);
    }
  }
  for (const field of ['prefix', 'configDir'] as const) {
    const path = component[field];
    if (!path.startsWith('/') || /\p{Cc}/u.test(path)) throw invalid(field, `expected an absolute path on one line, found ${JSON.stringify(path)}`);
  }
  escaped('summary', () => puppetComment(component.summary));
  escaped('description', () => puppetComment(component.description));

  const keys = Object.entries(component.configKeys).map(([k, v]) => keyView(k, v));
  const secretKeys = keys.filter((k) => k.secret).map((k) => k.name);
  const defaults = keys.filter((k) => k.hasDefault).map((k) => ({ name: k.name, value: k.value as ConfigValue, type: k.type }));
  const plugin = pluginName(module);
  return {
    module,
    name,
    version: component.version,
    origin: `Written by kpkg from the component.json of ${name} ${component.version}.`,
    summary: component.summary,
    description: component.description.trim() === component.summary.trim() ? '' : component.description,
    user: component.user,
    group: component.group,
    prefix: component.prefix,
    configDir: component.configDir,
    service: component.service,
    monitoring: component.type === 'monitoring',
    dbSchema: component.type === 'db-schema',
    migrateCommand: `${component.prefix}/bin/${name}-migrate`,
    keys,
    keyWidth: Math.max(0, ...keys.map((k) => puppetString(k.name).length)),
    defaults,
    secretKeys,
    secretLookupKeys: secretKeys.map((k) => `${module}::${k}`),
    hasSecrets: secretKeys.length > 0,
    empty: defaults.length === 0 && secretKeys.length === 0,
    plugin,
    checkCommandPrefix: `command[${plugin}]=/usr/bin/env KELKOO_CONFIG_DIR=`,
    pluginPath: `${NAGIOS_PLUGIN_DIR}/${plugin}`,
  };
}

// One Handlebars environment whose helpers are the escaping functions: templates output user
// values only through them, with triple-stash so Handlebars' HTML escaping stays out of it.
const hbs = Handlebars.create();
hbs.registerHelper({
  puppetString: (s: string) => puppetString(s),
  puppetValue: (v: ConfigValue, type: ConfigKeyType) => puppetValue(v, type),
  puppetComment: (s: string, prefix: unknown) => puppetComment(s, typeof prefix === 'string' ? prefix : '# '),
  /** A quoted hash key padded to `width`, so puppet-lint's arrow alignment holds. */
  puppetKey: (s: string, width: number) => puppetString(s).padEnd(width),
  hieraValue: (v: ConfigValue, type: ConfigKeyType) => hieraValue(v, type),
  eppText: (s: string) => eppText(s),
  jsonString: (s: string) => jsonString(s),
  rubyString: (s: string) => rubyString(s),
  markdownText: (s: string) => markdownText(s),
  markdownCode: (s: string) => markdownCode(s),
});

/** The escaping helpers templates may call (the template test checks they call nothing else). */
export const TEMPLATE_HELPERS: readonly string[] = Object.keys(hbs.helpers);

const compiled = new Map<string, Handlebars.TemplateDelegate<ModuleView>>();

function render(template: string, view: ModuleView): string {
  let fn = compiled.get(template);
  if (fn === undefined) {
    const file = join(templatesDir(), 'deploy', `${template}.hbs`);
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch (err) {
      throw new KpkgError('INTERNAL', `cannot read the template ${file}`, { cause: err });
    }
    fn = hbs.compile<ModuleView>(source, { strict: true });
    compiled.set(template, fn);
  }
  return fn(view);
}

function metadata(component: Component): string {
  const data = {
    name: `kelkoo-${component.module}`,
    version: component.version,
    author: component.vendor ?? 'kelkoo',
    summary: component.summary,
    license: component.license,
    source: component.url ?? '',
    dependencies: [],
    requirements: [{ name: 'puppet', version_requirement: '>= 7.0.0' }],
  };
  return `${JSON.stringify(data, null, 2)}\n`;
}

/** The module's machine-readable description of its class, read by Geppetto and Punch. */
export const DESCRIPTION_FILE = 'kelkoo.json';

/** One class parameter as `kelkoo.json` describes it. */
export interface ParameterDescription {
  name: string;
  type: string;
  /** Absent: the value must be given per server (Hiera or the classification). */
  default?: ConfigValue;
  secret: boolean;
  description?: string;
  /** A parameter of the module itself (config_dir, manage_service...), not a configuration key. */
  builtin?: true;
}

/** The content of `kelkoo.json` (`format` 1): see docs/ and schema/deployment.schema.json. */
export interface DeploymentDescription {
  format: 1;
  component: string;
  type: Component['type'];
  class: string;
  version: string;
  parameters: ParameterDescription[];
}

function describeParameters(component: Component, view: ModuleView): string {
  const parameters: ParameterDescription[] = view.keys.map((k) => ({
    name: k.name,
    type: k.type,
    ...(k.hasDefault ? { default: k.value as ConfigValue } : {}),
    secret: k.secret,
    ...(k.description !== undefined ? { description: k.description } : {}),
  }));
  const builtin = (name: string, type: string, value: ConfigValue, description: string): ParameterDescription =>
    ({ name, type, default: value, secret: false, description, builtin: true });
  parameters.push(
    builtin('config_dir', 'String', component.configDir, 'The directory of config.json, managed by this class.'),
    builtin('manage_service', 'Boolean', true, 'Whether to keep the service running and enabled (no effect without a service).'),
    builtin('manage_user', 'Boolean', true, 'Whether to ensure the system user and group exist.'),
  );
  if (view.monitoring) {
    parameters.push(
      builtin('manage_nrpe', 'Boolean', true, 'Whether to write the NRPE command into nrpe_config_dir.'),
      builtin('nrpe_config_dir', 'String', '/etc/nrpe.d', 'The directory NRPE reads command definitions from.'),
      builtin('nrpe_service', 'String', 'nrpe', 'The systemd unit of NRPE, reloaded when the command changes (with manage_service).'),
    );
  }
  if (view.dbSchema) {
    parameters.push(builtin('manage_migrations', 'Boolean', true, `Whether to run ${view.migrateCommand} when migrations are pending; false leaves them to a person.`));
  }
  const data: DeploymentDescription = {
    format: 1,
    component: component.name,
    type: component.type,
    class: component.module,
    version: component.version,
    parameters,
  };
  return `${JSON.stringify(data, null, 2)}\n`;
}

/**
 * The files of the Puppet module `kelkoo-<module>` deploying `component`, sorted by path.
 * Throws INVALID_DESCRIPTOR naming the field when a value cannot be carried (NUL, a reserved or
 * malformed key, a default not of its key's type).
 */
export function renderPuppetModule(component: Component): ModuleFile[] {
  const view = moduleView(component);
  const fnDir = `lib/puppet/functions/${view.module}`;
  const files: ModuleFile[] = [
    { path: 'manifests/init.pp', content: render('manifests/init.pp', view) },
    { path: 'data/common.yaml', content: render('data/common.yaml', view) },
    { path: 'hiera.yaml', content: render('hiera.yaml', view) },
    { path: 'templates/config.json.epp', content: render('templates/config.json.epp', view) },
    { path: `${fnDir}/to_json.rb`, content: render('lib/puppet/functions/to_json.rb', view) },
    { path: 'metadata.json', content: metadata(component) },
    { path: 'README.md', content: render('README.md', view) },
    { path: DESCRIPTION_FILE, content: describeParameters(component, view) },
  ];
  if (view.hasSecrets) files.push({ path: `${fnDir}/sensitive_yaml_data.rb`, content: render('lib/puppet/functions/sensitive_yaml_data.rb', view) });
  if (view.monitoring) {
    files.push({ path: 'templates/nrpe.cfg.epp', content: render('templates/nrpe.cfg.epp', view) });
    files.push({ path: `${fnDir}/shell_quote.rb`, content: render('lib/puppet/functions/shell_quote.rb', view) });
  }
  for (const f of files) f.mode = 0o644;
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
