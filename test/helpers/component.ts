/** A resolved component for tests that render from one without a descriptor on disk. */
import type { Component } from '../../packager/descriptor/types.js';

/**
 * The webapp `shop-front` (or `overrides.name`, its paths following), declaring nothing: no
 * files, dependencies, cron entries or configuration keys. Tests add what they look at.
 */
export function sampleComponent(overrides: Partial<Component> = {}): Component {
  const name = overrides.name ?? 'shop-front';
  return {
    dir: `/src/${name}`,
    name,
    type: 'webapp',
    version: '1.4.0',
    summary: 'The shop front',
    description: 'Serves the shop.',
    license: 'Apache-2.0',
    prefix: `/opt/kelkoo/${name}`,
    module: name.replace(/-/g, '_'),
    user: name,
    group: name,
    configDir: `/etc/kelkoo/${name}`,
    logDir: `/var/log/kelkoo/${name}`,
    files: [],
    requires: {},
    recommends: {},
    conflicts: {},
    obsoletes: {},
    provides: {},
    cron: [],
    configKeys: {},
    service: true,
    hasBuildScript: false,
    ...overrides,
  };
}
