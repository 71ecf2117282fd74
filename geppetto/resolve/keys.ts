/**
 * Names in Geppetto's state: a setting key is `<component>.<key>`, where the component is an RPM
 * name without `-deploy` and the key a Puppet parameter name. The patterns match what the
 * per-server file's schema accepts, so anything the state allows can be written to a file.
 */

export const COMPONENT_PATTERN = /^[a-z][a-z0-9-]*$/;
/** schema/node.schema.json `parameterName` */
export const PARAMETER_PATTERN = /^[a-z][a-z0-9_]*$/;
export const SETTING_KEY_PATTERN = /^[a-z][a-z0-9-]*\.[a-z][a-z0-9_]*$/;
/** schema/node.schema.json `environment` */
export const ENVIRONMENT_PATTERN = /^[a-z0-9_]{1,64}$/;
/** schema/node.schema.json `kelkoo.node` (without its 253-character limit, checked apart) */
export const FQDN_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
export const ROLE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
/** schema/node.schema.json `package.evr` */
export const EVR_PATTERN = /^(?:[0-9]{1,10}:)?[A-Za-z0-9._+~^]+-[A-Za-z0-9._+~^]+$/;

export interface ParsedKey {
  component: string;
  key: string;
}

/** `shop.listen_port` -> { component: 'shop', key: 'listen_port' }; undefined when malformed. */
export function parseSettingKey(key: string): ParsedKey | undefined {
  if (!SETTING_KEY_PATTERN.test(key)) return undefined;
  const dot = key.indexOf('.');
  return { component: key.slice(0, dot), key: key.slice(dot + 1) };
}

/** The order of every sorted list Geppetto writes (UTF-16 code units, as JavaScript sorts). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
