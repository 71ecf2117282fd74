// component.json's service.launcher: which launcher the systemd unit of a service runs.
import { describe, expect, it } from 'vitest';
import { applicationSpec } from '../../../packager/assemble/application.js';
import { resolveComponent } from '../../../packager/descriptor/load.js';
import { KpkgError } from '../../../packager/errors.js';
import { sampleComponent } from '../../helpers/component.js';

const launchers = [
  { name: 'geppetto', entry: 'dist/bin/geppetto.js' },
  { name: 'geppetto-service', entry: 'dist/bin/geppetto-service.js' },
  { name: 'punch', entry: 'dist/bin/punch.js' },
];
const unitOf = (serviceLauncher?: string) => {
  const component = sampleComponent({ name: 'geppetto', prefix: '/opt/kelkoo/geppetto', ...(serviceLauncher !== undefined ? { serviceLauncher } : {}) });
  const spec = applicationSpec({ component, version: '1.0.0', release: '1', files: [], launchers, arch: 'noarch' });
  const unit = spec.files.find((f) => f.path === '/usr/lib/systemd/system/geppetto.service');
  return String(unit?.content ?? '');
};

describe('service.launcher', () => {
  it('runs the launcher named after the component by default', () => {
    expect(unitOf()).toMatch(/^ExecStart="?\/opt\/kelkoo\/geppetto\/bin\/geppetto"?$/m);
  });

  it('runs the named launcher instead', () => {
    expect(unitOf('geppetto-service')).toMatch(/^ExecStart="?\/opt\/kelkoo\/geppetto\/bin\/geppetto-service"?$/m);
  });

  it('refuses a launcher the package does not have, naming the field', () => {
    expect(() => unitOf('nope')).toThrow(KpkgError);
    expect(() => unitOf('nope')).toThrow(/component\.json: \/service\/launcher: "nope" is not a launcher of the package \(geppetto, geppetto-service, punch\)/);
  });

  it('is read from component.json, and only a service may have it', () => {
    const dir = '/tmp/component';
    expect(resolveComponent({ dir, descriptor: { name: 'g', type: 'web-service', version: '1.0.0', service: { launcher: 'g-service' } } }).serviceLauncher).toBe('g-service');
    expect(() => resolveComponent({ dir, descriptor: { name: 'g', type: 'processing', version: '1.0.0', service: { launcher: 'g' } } })).toThrow(/\/service: only a webapp or a web-service runs as a service/);
    expect(() => resolveComponent({ dir, descriptor: { name: 'g', type: 'webapp', version: '1.0.0', service: { launcher: 'a b' } } })).toThrow(/\/service\/launcher/);
    expect(() => resolveComponent({ dir, descriptor: { name: 'g', type: 'webapp', version: '1.0.0', service: { user: 'x' } } })).toThrow(/\/service/);
  });
});
