/**
 * Names a descriptor may not use because the Puppet module made from it would not compile or
 * would mean something else. The schema's `config.keys` propertyNames list is the same set
 * (a unit test keeps them equal).
 */

/** Puppet language reserved words (Puppet 7 "Reserved words and acceptable names"). */
export const PUPPET_RESERVED_WORDS = [
  'and', 'application', 'attr', 'case', 'class', 'component', 'consumes', 'default', 'define', 'else',
  'elsif', 'environment', 'false', 'function', 'if', 'import', 'in', 'inherits', 'node', 'or',
  'private', 'produces', 'site', 'true', 'type', 'undef', 'unit', 'unless',
] as const;

/** Variables Puppet sets itself: a class parameter cannot have these names. */
export const PUPPET_RESERVED_VARIABLES = ['name', 'title', 'facts', 'trusted', 'server_facts', 'module_name', 'caller_module_name'] as const;

/** Metaparameters every resource and class accepts. */
export const PUPPET_METAPARAMETERS = [
  'alias', 'audit', 'before', 'consume', 'export', 'loglevel', 'noop', 'notify', 'require',
  'schedule', 'stage', 'subscribe', 'tag',
] as const;

/** Parameters the generated module defines for itself (docs/architecture.md, "Component types and the runtime contract"). */
export const MODULE_PARAMETERS = ['config_dir', 'manage_service', 'manage_user', 'manage_nrpe', 'nrpe_config_dir', 'nrpe_service', 'manage_migrations'] as const;

/** Every name a config key cannot have. */
export const RESERVED_KEY_NAMES: ReadonlySet<string> = new Set<string>([
  ...PUPPET_RESERVED_WORDS,
  ...PUPPET_RESERVED_VARIABLES,
  ...PUPPET_METAPARAMETERS,
  ...MODULE_PARAMETERS,
]);

/** Class names Puppet keeps for itself besides the reserved words. */
export const PUPPET_RESERVED_CLASS_NAMES: ReadonlySet<string> = new Set<string>([...PUPPET_RESERVED_WORDS, 'main', 'settings']);

/** Puppet module and class name of a component: its name with '-' as '_'. */
export function moduleName(name: string): string {
  return name.replace(/-/g, '_');
}

/** Where Nagios and NRPE find plugins (docs/architecture.md, "Component types and the runtime contract"). */
export const NAGIOS_PLUGIN_DIR = '/usr/lib64/nagios/plugins';

/**
 * The Nagios plugin of a monitoring component: `check_<module>`, or the module itself when it is
 * already named check_... The application package installs it under this name and the Puppet
 * module's NRPE command runs it.
 */
export function pluginName(module: string): string {
  return module.startsWith('check_') ? module : `check_${module}`;
}
