/** Geppetto's pure core: the state checked, resolved per server, explained; what a change touches. */
export { checkState } from './check.js';
export { resolveServers, Resolver } from './resolve.js';
export { explain } from './explain.js';
export { affectedServers } from './affected.js';
export { parsePuppetType, valueMatches, wantsFloat, type PuppetType } from './puppet-type.js';
export { isSecretRef, deepEqual, UNSET } from './values.js';
export { parseSettingKey } from './keys.js';
