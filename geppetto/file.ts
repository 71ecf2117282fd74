/**
 * The per-server file (docs/architecture.md, schema/node.schema.json): built from a
 * server's resolution, written as deterministic YAML, cut down to the Puppet ENC answer, and
 * compared between revisions. Secrets are revealed here and only here, into the file of the one
 * server that gets them; `kelkoo.sensitive` tells Punch which parameters to hand to Puppet as
 * Sensitive, and a diff can mask them.
 */
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { KpkgError, oneLine } from '../packager/errors.js';
import type { ParameterDefinition, ResolvedServer, SecretRef, State, Value } from './model.js';
import { ENVIRONMENT_PATTERN, FQDN_PATTERN, compareStrings } from './resolve/keys.js';
import { type FileClass, fileClasses } from './resolve/resolve.js';
import { parsePuppetType, type PuppetType, valueMatches, wantsFloat } from './resolve/puppet-type.js';
import { isSecretRef } from './resolve/values.js';
import { type FloatTree, writeOnce, yamlDocument, type YamlData } from './yaml-emit.js';

/** A repository dnf may install from (schema `definitions.repository`). */
export interface NodeRepository {
  id: string;
  name?: string;
  baseurl: string;
  gpgkey?: string;
  gpgcheck?: boolean;
}

/** A deployment package at an exact `[epoch:]version-release` (schema `definitions.package`). */
export interface NodePackage {
  name: string;
  evr: string;
}

/** Exactly schema/node.schema.json. */
export interface NodeFile {
  /** Puppet environment; default production. */
  environment?: string;
  /** Class -> the parameters set for this server (class defaults are the module's data). */
  classes: Record<string, Record<string, Value>>;
  /** Top-scope variables: kelkoo_node, kelkoo_revision. */
  parameters?: Record<string, Value>;
  kelkoo: {
    node?: string;
    revision?: number;
    repositories?: NodeRepository[];
    packages: NodePackage[];
    /** Class -> parameters Punch hands to Puppet as Sensitive. */
    sensitive?: Record<string, string[]>;
  };
}

/** Class -> parameters whose numbers are Floats (JSON cannot tell 3 from 3.0; Puppet can). */
export type FloatParameters = Record<string, readonly string[]>;

export interface YamlOptions {
  /** From `floatParameters(resolved)`: their integral numbers are written `3.0`. */
  floats?: FloatParameters;
}

function fail(message: string): never {
  throw new KpkgError('INVALID_INPUT', oneLine(message));
}

/**
 * A revealed secret as the parameter's type wants it: the value as stored, or, for text that the
 * type refuses, the JSON it holds (a secret Integer kept as "42").
 */
function revealed(secret: Value, type: string, key: () => string): Value {
  const t = typeOf(type);
  if (t === undefined || valueMatches(secret, t)) return secret;
  if (typeof secret !== 'string') return fail(`${key()}: the secret's value is not a value of type ${type}`);
  const text = secret;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed !== null && parsed !== undefined && valueMatches(parsed as Value, t)) return parsed as Value;
  return fail(`${key()}: the secret's value is not a value of type ${type}`);
}

/** Parameter types, parsed once each (every secret of every file is checked against its type). */
const types = new Map<string, PuppetType | undefined>();

function typeOf(type: string): PuppetType | undefined {
  if (types.has(type)) return types.get(type);
  const t = parsePuppetType(type);
  if (types.size >= 1024) types.clear();
  types.set(type, t);
  return t;
}

/**
 * The settings' keys (`<component>.<parameter>`) of a version's parameters, made once per catalog
 * version rather than for every parameter of every server (10,000 servers share a few hundred
 * versions). Checked against the list's length and component, as the catalog is plain data.
 */
const settingKeys = new WeakMap<readonly ParameterDefinition[], { component: string; keys: string[] }>();

function keysOf(component: string, parameters: readonly ParameterDefinition[]): string[] {
  const known = settingKeys.get(parameters);
  if (known !== undefined && known.component === component && known.keys.length === parameters.length) return known.keys;
  const keys = parameters.map((p) => `${component}.${p.name}`);
  settingKeys.set(parameters, { component, keys });
  return keys;
}

/**
 * The file of one server at `revision`. Throws INVALID_INPUT when the resolution has problems
 * (they block publishing) or names the file's schema refuses. `reveal` turns each secret
 * reference into its value (text, or any value; text a non-String type refuses is read as JSON).
 */
export function buildNodeFile(resolved: ResolvedServer, state: State, revision: number, reveal: (ref: SecretRef) => Value): NodeFile {
  const { fqdn } = resolved;
  const first = resolved.problems[0];
  if (first !== undefined) {
    const more = resolved.problems.length - 1;
    fail(`${fqdn}: publishing blocked by ${resolved.problems.length} problem${more > 0 ? 's' : ''}: ${first.message}${more > 0 ? ` (and ${more} more)` : ''}`);
  }
  if (fqdn.length > 253 || !FQDN_PATTERN.test(fqdn)) fail(`server ${JSON.stringify(fqdn)}: not a fully qualified host name`);
  if (!ENVIRONMENT_PATTERN.test(resolved.environment)) fail(`${fqdn}: environment ${JSON.stringify(resolved.environment)} is not a Puppet environment name (^[a-z0-9_]{1,64}$)`);
  if (!Number.isSafeInteger(revision) || revision < 0) fail(`${fqdn}: revision ${revision} is not a whole number >= 0`);

  const classes = dictionary<Record<string, Value>>();
  const sensitive = dictionary<string[]>();
  const packages: NodePackage[] = [];
  const fast = fileClasses(resolved);
  if (fast !== undefined) {
    for (const c of fast) {
      const { version } = c;
      packages.push({ name: version.package, evr: version.evr });
      const { params, secret } = classOf(c, fqdn, reveal);
      classes[version.class] = params;
      // a copy: the list may be shared, the file's is its own
      if (secret.length > 0) sensitive[version.class] = [...secret];
    }
  }
  // A resolution from elsewhere (a copy, a hand-made one): its settings, by key.
  else for (const component of Object.keys(resolved.components).sort(compareStrings)) {
    const version = resolved.components[component]?.version;
    if (version === undefined) continue;
    packages.push({ name: version.package, evr: version.evr });
    const params = dictionary<Value>();
    const secret: string[] = [];
    const keys = keysOf(component, version.parameters);
    for (let i = 0; i < version.parameters.length; i++) {
      const p = version.parameters[i];
      const key = keys[i];
      if (p === undefined || key === undefined) continue;
      const setting = resolved.settings[key];
      if (setting === undefined || setting.origin !== 'definition' || setting.value === undefined) continue;
      const v = setting.value;
      params[p.name] = isSecretRef(v) ? revealed(reveal(v), p.type, () => `${fqdn}: ${key}`) : v;
      if (p.secret) secret.push(p.name);
    }
    classes[version.class] = params;
    if (secret.length > 0) sensitive[version.class] = secret.sort(compareStrings);
  }
  packages.sort((a, b) => compareStrings(a.name, b.name));
  const repositories: NodeRepository[] = state.repositories.map((r) => ({
    id: r.id,
    baseurl: r.baseurl,
    ...(r.gpgkey !== undefined ? { gpgkey: r.gpgkey } : {}),
    ...(r.gpgcheck !== undefined ? { gpgcheck: r.gpgcheck } : {}),
  }));
  return {
    environment: resolved.environment,
    classes,
    parameters: { kelkoo_node: fqdn, kelkoo_revision: revision },
    kelkoo: { node: fqdn, revision, repositories, packages, sensitive },
  };
}

/**
 * An empty mapping in V8's dictionary mode, for the file's mappings whose keys vary from server to
 * server (classes, their parameters, `sensitive`). A class's parameters differ in which are set
 * and in the types of their values (`key_3` a number in one class, text in another): as ordinary
 * objects, V8 made a hidden class for every such shape and moved objects between them as a field
 * changed type, which cost more than the rest of building a file. A null prototype gives a
 * dictionary from the start; `JSON.stringify`, `Object.keys` and spreading see the same keys in
 * the same order.
 */
function dictionary<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** A class's parameters and sensitive ones (sorted; `secret` is read-only, maybe shared). */
interface ClassParams {
  params: Record<string, Value>;
  secret: readonly string[];
}

/**
 * Shared resolutions (fileClasses) make the same class for every server with the same roles and
 * environment: made once, frozen, unless a value is a secret, revealed for each file.
 */
const sharedClasses = new WeakMap<FileClass['defined'], ClassParams>();

/** The class of a component as buildNodeFile's general path makes it, from the values set by definitions. */
function classOf(c: FileClass, fqdn: string, reveal: (ref: SecretRef) => Value): ClassParams {
  if (c.shared) {
    const known = sharedClasses.get(c.defined);
    if (known !== undefined) return known;
  }
  const parameters = c.version.parameters;
  const params = dictionary<Value>();
  const secret: string[] = [];
  let revealedAny = false;
  for (let i = 0; i < parameters.length; i++) {
    const p = parameters[i];
    const v = c.defined[i];
    if (p === undefined || v === undefined) continue;
    if (isSecretRef(v)) {
      revealedAny = true;
      params[p.name] = revealed(reveal(v), p.type, () => `${fqdn}: ${c.component}.${p.name}`);
    } else params[p.name] = v;
    if (p.secret) secret.push(p.name);
  }
  const out = { params, secret: secret.sort(compareStrings) };
  if (c.shared && !revealedAny) {
    Object.freeze(params);
    Object.freeze(secret);
    writeOnce(params);
    sharedClasses.set(c.defined, out);
  }
  return out;
}

/** Per catalog version, its Float parameters (parsing every type of every server's file costs). */
const floatNames = new WeakMap<readonly ParameterDefinition[], { length: number; names: readonly string[] }>();

/** The parameters of a server's classes whose numbers must be written as Floats. */
export function floatParameters(resolved: ResolvedServer): FloatParameters {
  const out = dictionary<readonly string[]>();
  for (const { version } of fileClasses(resolved) ?? Object.values(resolved.components)) {
    let known = floatNames.get(version.parameters);
    if (known === undefined || known.length !== version.parameters.length) {
      const names = version.parameters
        .filter((p) => {
          const t = parsePuppetType(p.type);
          return t !== undefined && wantsFloat(t);
        })
        .map((p) => p.name);
      known = { length: version.parameters.length, names };
      floatNames.set(version.parameters, known);
    }
    if (known.names.length > 0) out[version.class] = known.names;
  }
  return out;
}

/** A class's Float subtree, one per list of names (floatParameters shares them): the YAML of a shared class is kept per subtree (yaml-emit.ts writeOnce). */
const classFloats = new WeakMap<readonly string[], FloatTree>();

function floatTree(floats: FloatParameters | undefined): FloatTree | undefined {
  if (floats === undefined) return undefined;
  const classes = new Map<string, FloatTree | true>();
  for (const [cls, params] of Object.entries(floats)) {
    let tree = classFloats.get(params);
    if (tree === undefined) {
      tree = new Map(params.map((p) => [p, true as const]));
      classFloats.set(params, tree);
    }
    classes.set(cls, tree);
  }
  return new Map([['classes', classes]]);
}

function yamlOf(doc: Record<string, unknown>, options: YamlOptions | undefined): string {
  return yamlDocument(doc as { [key: string]: YamlData }, floatTree(options?.floats));
}

/**
 * The file as YAML: keys sorted, strings quoted wherever a YAML 1.1 or 1.2 reader could misread
 * them, `%{` and `${` kept literally (nothing reads this file as Hiera data). The same file gives
 * the same bytes.
 */
export function nodeFileYaml(file: NodeFile, options?: YamlOptions): string {
  return yamlOf({ ...file }, options);
}

/** The Puppet ENC answer: environment, classes and parameters only. */
export function encYaml(file: NodeFile, options?: YamlOptions): string {
  const enc: Record<string, unknown> = { classes: file.classes };
  if (file.environment !== undefined) enc.environment = file.environment;
  if (file.parameters !== undefined) enc.parameters = file.parameters;
  return yamlOf(enc, options);
}

const MASK = '(sensitive)';
const MASK_CHANGED = '(sensitive, changed)';

/** The file with its sensitive parameters' values replaced: `changed` says which differ from `other`. */
function masked(file: NodeFile, other: NodeFile | undefined): NodeFile {
  const classes: NodeFile['classes'] = {};
  for (const [cls, params] of Object.entries(file.classes)) {
    const secret = new Set(file.kelkoo.sensitive?.[cls] ?? []);
    for (const p of other?.kelkoo.sensitive?.[cls] ?? []) secret.add(p);
    if (secret.size === 0) {
      classes[cls] = params;
      continue;
    }
    const copy: Record<string, Value> = { ...params };
    for (const p of secret) {
      if (!Object.prototype.hasOwnProperty.call(params, p)) continue;
      const before = other?.classes[cls];
      const same = before !== undefined && Object.prototype.hasOwnProperty.call(before, p) && JSON.stringify(before[p]) === JSON.stringify(params[p]);
      copy[p] = same || other === undefined ? MASK : MASK_CHANGED;
    }
    classes[cls] = copy;
  }
  return { ...file, classes };
}

/**
 * A unified diff (`--- a/<node>.yaml` / `+++ b/<node>.yaml`) of two revisions of a file, empty
 * when they are the same; `undefined` is no file. With `mask`, secret values read `(sensitive)`,
 * and `(sensitive, changed)` on the side where the value changed: a reviewer sees that a secret
 * changed, never what it is.
 */
export function nodeFileDiff(before: NodeFile | undefined, after: NodeFile | undefined, mask: boolean): string {
  const node = after?.kelkoo.node ?? before?.kelkoo.node ?? 'node';
  const a = before === undefined ? '' : nodeFileYaml(mask ? masked(before, undefined) : before);
  const b = after === undefined ? '' : nodeFileYaml(mask ? masked(after, before) : after);
  if (a === b) return '';
  const patch = createTwoFilesPatch(
    before === undefined ? '/dev/null' : `a/${node}.yaml`,
    after === undefined ? '/dev/null' : `b/${node}.yaml`,
    a,
    b,
    undefined,
    undefined,
    { context: 3, headerOptions: FILE_HEADERS_ONLY },
  );
  return patch;
}
