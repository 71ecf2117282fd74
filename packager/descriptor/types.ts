/**
 * The component descriptor, `component.json`: the shape users write (ComponentDescriptor) and the
 * resolved form every other part works from (Component), with defaults from package.json and the
 * conventions of the component's type applied. Knows nothing of RPM bytes or Puppet syntax.
 */

export const COMPONENT_TYPES = ['webapp', 'web-service', 'processing', 'db-schema', 'monitoring'] as const;
export type ComponentType = (typeof COMPONENT_TYPES)[number];

/** Puppet data types a config key may have (the class parameter's type). */
export const CONFIG_KEY_TYPES = ['String', 'Integer', 'Float', 'Boolean', 'Array[String]', 'Hash[String, String]'] as const;
export type ConfigKeyType = (typeof CONFIG_KEY_TYPES)[number];
export type ConfigValue = string | number | boolean | string[] | Record<string, string>;

export interface ConfigKey {
  type: ConfigKeyType;
  default?: ConfigValue;
  /** Kept Sensitive in Puppet, never logged; makes the configuration file 0640. */
  secret?: boolean;
  description?: string;
}

export interface FileMapping {
  /** A file or directory inside the component (relative to its root). */
  src: string;
  /** Absolute, or relative to `prefix`. A directory `src` maps its contents here. */
  dest: string;
  /** Octal string ("0755") or number; for a directory `src`, applies to the files in it. */
  mode?: string | number;
  /** `%config(noreplace)` */
  config?: boolean;
  /** Glob patterns (relative to `src`) left out of a directory mapping. */
  exclude?: string[];
  user?: string;
  group?: string;
}

export interface CronEntry {
  /** Five cron fields, e.g. `*\/5 * * * *`, or a nickname like `@daily`. */
  schedule: string;
  /** The command cron runs (by /bin/sh); default the launcher `<prefix>/bin/<name>`. */
  command?: string;
  /** Runs as this user; default the component's user. */
  user?: string;
}

/** Dependencies as `{ capability: semver range }`. */
export type DependencyMap = Record<string, string>;

/** What users write in component.json (every field optional but name and type). */
export interface ComponentDescriptor {
  $schema?: string;
  name: string;
  version?: string;
  type: ComponentType;
  summary?: string;
  description?: string;
  license?: string;
  url?: string;
  vendor?: string;
  release?: string;
  prefix?: string;
  user?: string;
  group?: string;
  files?: FileMapping[];
  requires?: DependencyMap;
  recommends?: DependencyMap;
  conflicts?: DependencyMap;
  obsoletes?: DependencyMap;
  provides?: DependencyMap;
  cron?: CronEntry[];
  service?: { launcher?: string };
  config?: { keys?: Record<string, ConfigKey> };
}

/** The resolved descriptor: defaults applied, validated, paths absolute. */
export interface Component {
  /** Absolute path of the component's directory. */
  dir: string;
  name: string;
  type: ComponentType;
  /** semver, e.g. `1.3.0-rc.2` */
  version: string;
  summary: string;
  description: string;
  license: string;
  url?: string;
  vendor?: string;
  /** rpm's Packager tag, `Name <email>`: package.json's author, when given */
  packager?: string;
  /** The descriptor's RPM release, when given (`kpkg build --release` overrides it) */
  release?: string;
  /** Install root, default `/opt/kelkoo/<name>` */
  prefix: string;
  /** Puppet module and class name: `name` with `-` as `_` */
  module: string;
  /** System user and group the service runs as; default the name. */
  user: string;
  group: string;
  /** Configuration directory on servers: `/etc/kelkoo/<name>` */
  configDir: string;
  /** Log directory: `/var/log/kelkoo/<name>` */
  logDir: string;
  files: FileMapping[];
  requires: DependencyMap;
  recommends: DependencyMap;
  conflicts: DependencyMap;
  obsoletes: DependencyMap;
  provides: DependencyMap;
  /** `engines.node` of package.json, when given */
  nodeEngine?: string;
  cron: CronEntry[];
  configKeys: Record<string, ConfigKey>;
  /** webapp and web-service run as a systemd service */
  service: boolean;
  /** The launcher the service's unit runs (component.json's service.launcher), when given */
  serviceLauncher?: string;
  /** package.json has a `build` script */
  hasBuildScript: boolean;
}
