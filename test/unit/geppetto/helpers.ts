/** Small builders for Geppetto states and catalogs in tests. */
import type { Catalog, ComponentVersion, ParameterDefinition, RoleDefinition, ServerDefinition, State } from '../../../geppetto/model.js';

export type Params = Record<string, Omit<ParameterDefinition, 'name' | 'secret'> & { secret?: boolean }>;

/** A component version as a deployment package's kelkoo.json describes it (plus the module's builtin parameters). */
export function version(component: string, evr: string, params: Params): ComponentVersion {
  const parameters: ParameterDefinition[] = Object.entries(params).map(([name, p]) => ({ name, secret: false, ...p }));
  parameters.push(
    { name: 'config_dir', type: 'String', default: `/etc/kelkoo/${component}`, secret: false, builtin: true },
    { name: 'manage_service', type: 'Boolean', default: true, secret: false, builtin: true },
    { name: 'manage_user', type: 'Boolean', default: true, secret: false, builtin: true },
  );
  return { component, evr, package: `${component}-deploy`, class: component.replace(/-/g, '_'), parameters, repository: 'kelkoo' };
}

export function catalog(...versions: ComponentVersion[]): Catalog {
  const components: Catalog['components'] = {};
  for (const v of versions) (components[v.component] ??= {})[v.evr] = v;
  return { components };
}

export function role(r: Partial<RoleDefinition> = {}): RoleDefinition {
  return { parents: [], components: {}, settings: {}, unset: [], ...r };
}

export function server(s: Partial<ServerDefinition> = {}): ServerDefinition {
  return { environment: 'production', roles: [], settings: {}, unset: [], ...s };
}

export function state(s: Partial<State> = {}): State {
  return {
    repositories: [{ id: 'kelkoo', baseurl: 'https://yum.example.com/kelkoo', gpgkey: 'https://yum.example.com/RPM-GPG-KEY' }],
    global: { settings: {}, unset: [] },
    environments: { production: { settings: {}, unset: [] } },
    roles: {},
    servers: {},
    ...s,
  };
}

/** The shop component the DESIGN's examples use. */
export const SHOP = version('shop', '1.4.0-1', {
  listen_port: { type: 'Integer', default: 8080 },
  banner: { type: 'String', default: 'Welcome' },
  catalog_url: { type: 'String' },
  features: { type: 'Array[String]', default: [] },
  labels: { type: 'Hash[String, String]', default: {} },
  ratio: { type: 'Float', default: 0.5 },
  db_password: { type: 'String', secret: true },
  motto: { type: 'Optional[String]' },
});
export const SHOP_15 = version('shop', '1.5.0-1', {
  listen_port: { type: 'Integer', default: 8080 },
  banner: { type: 'String', default: 'Welcome' },
  catalog_url: { type: 'String', default: 'http://catalog' },
  db_password: { type: 'String', secret: true, default: 'x' },
});
export const CACHE = version('cache', '2.0.0-3', { size_mb: { type: 'Integer', default: 64 }, peers: { type: 'Array[String]', default: [] } });

/** The value, or a failed test naming what was missing (instead of a non-null assertion). */
export function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is missing`);
  return value;
}
