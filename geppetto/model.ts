/**
 * Geppetto's model: what ops define (the state), what the repository offers (the catalog), and
 * what resolution makes of them for one server. The state's shape is the YAML of `geppetto
 * export`/`import` (docs/geppetto.md); storage, the resolver, the API and
 * the UI all speak these types.
 */

/** A setting's value: JSON without null (an absent key is expressed with `unset`). */
export type Value = string | number | boolean | Value[] | { [key: string]: Value };

/** A setting is addressed as `<component>.<key>`, e.g. `shop.listen_port`. */
export type SettingKey = string;

/** A secret stored in Geppetto: only its reference leaves the storage layer (never the value). */
export interface SecretRef {
  secret: string;
}

/** A scope's definitions: values set, and keys it explicitly removes (stopping inheritance). */
export interface ScopeDefinitions {
  settings: Record<SettingKey, Value | SecretRef>;
  unset: SettingKey[];
}

export interface RoleDefinition extends ScopeDefinitions {
  /** Ordered, but the order never breaks a tie: two parents that disagree are a conflict. */
  parents: string[];
  /** component -> version-release of its deployment package, e.g. `{ shop: "1.4.0-1" }`. */
  components: Record<string, string>;
}

export interface ServerDefinition extends ScopeDefinitions {
  environment: string;
  roles: string[];
}

export interface RepositoryDefinition {
  id: string;
  baseurl: string;
  gpgkey?: string;
  gpgcheck?: boolean;
}

/** The whole configuration, as `geppetto export` writes it. */
export interface State {
  repositories: RepositoryDefinition[];
  global: ScopeDefinitions;
  environments: Record<string, ScopeDefinitions>;
  roles: Record<string, RoleDefinition>;
  servers: Record<string, ServerDefinition>;
}

/** One class parameter of a component version, as its deployment package's kelkoo.json says. */
export interface ParameterDefinition {
  name: string;
  /** Puppet type: String, Integer, Float, Boolean, Array[String], Hash[String, String]... */
  type: string;
  default?: Value;
  secret: boolean;
  description?: string;
  /** A parameter of the module itself (config_dir, manage_service...), not a configuration key. */
  builtin?: boolean;
}

/** One version of a component: a deployment package in a repository. */
export interface ComponentVersion {
  component: string;
  /** `version-release` (with `epoch:` in front when the epoch is not 0). */
  evr: string;
  /** The deployment package's name, `<component>-deploy`. */
  package: string;
  /** The Puppet class the package's module defines. */
  class: string;
  parameters: ParameterDefinition[];
  /** The repository it was found in. */
  repository: string;
}

/** What the repositories offer: component -> evr -> version. */
export interface Catalog {
  components: Record<string, Record<string, ComponentVersion>>;
}

/** Where a definition was made. `path` is the inheritance path from the server, e.g. [web03, shop-front, base]. */
export interface Source {
  scope: 'global' | 'environment' | 'role' | 'server';
  /** The scope's name: the role, the environment, the server; `global` for the global scope. */
  name: string;
  path: string[];
}

/** A definition of a key at a scope: a value, or an explicit unset. */
export interface Definition {
  source: Source;
  value: Value | SecretRef | { unset: true };
}

/** A resolved setting with the chain of definitions that produced it: winners first, then those they override. */
export interface ResolvedSetting {
  key: SettingKey;
  /** Absent when the key is unset, only the class default applies, or the winners conflict. */
  value?: Value | SecretRef;
  /** `definition`: set by a scope (value absent: a conflict); `default`: the class default; `unset`: removed, no default. */
  origin: 'definition' | 'default' | 'unset';
  secret: boolean;
  chain: Definition[];
}

export type ProblemKind =
  | 'conflict' // two definitions neither overrides, with different values
  | 'version-conflict' // a component pinned differently by roles neither overrides
  | 'missing' // a key without default that resolves to no value
  | 'type' // a value not of its key's type
  | 'unknown-component' // a pin to a component or version the catalog does not have
  | 'unknown-key' // a setting for a key the component's version does not have
  | 'cycle' // roles that inherit from themselves
  | 'unknown-reference' // a role, environment or parent that does not exist
  | 'malformed'; // a setting key, component name or version not in its form (`<component>.<key>`...)

/** Something that blocks publishing a server's file, named with everything a person needs. */
export interface Problem {
  kind: ProblemKind;
  server?: string;
  key?: string;
  message: string;
  /** For conflicts: the competing definitions, each with its path. */
  definitions?: Definition[];
}

/**
 * A server's resolution: the components at their versions, every parameter of them as a setting
 * with its chain (keyed `<component>.<key>`), and problems. Read-only: parts are shared between
 * servers (a key only its class default sets is one frozen object for all). From the Resolver,
 * `components` and `settings` are made when first read (each setting's `chain` too): publishing
 * reads neither, it builds the file from `fileClasses` (resolve/resolve.ts). Both are still own
 * enumerable properties, so spread, JSON and structuredClone see them as in a plain object.
 */
export interface ResolvedServer {
  fqdn: string;
  environment: string;
  components: Record<string, { version: ComponentVersion; chain: Definition[] }>;
  settings: Record<SettingKey, ResolvedSetting>;
  problems: Problem[];
}
