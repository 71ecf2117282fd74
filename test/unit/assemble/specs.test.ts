// What the two packages of a component declare, decided by packager/assemble/application.ts and
// deployment.ts (the bytes are the RPM writer's, checked by rpm and rpmlint in test/system).
import { describe, expect, it } from 'vitest';
import { applicationSpec } from '../../../packager/assemble/application.js';
import { deploymentSpec, PUPPET_REQUIREMENT, wrapText } from '../../../packager/assemble/deployment.js';
import { parseDependency } from '../../../packager/rpm/dependency.js';
import { sampleComponent } from '../../helpers/component.js';

const launcher = { name: 'job', entry: 'dist/src/index.js' };

describe('the deployment package', () => {
  it('requires the application at its exact version-release, and Puppet', () => {
    const spec = deploymentSpec(sampleComponent(), '1.4.0', '3');
    expect(spec.requires).toEqual([
      { name: 'shop-front', flags: expect.any(Number), version: '1.4.0-3' },
      { name: '(puppet-agent or puppet)', flags: 0, version: '' },
    ]);
    // a rich dependency rpm accepts as it is
    expect(() => parseDependency(PUPPET_REQUIREMENT)).not.toThrow();
  });

  it('wraps its description at 79 columns, whatever the summary (rpmlint description-line-too-long)', () => {
    const summary = 'A very long summary of what this component does, which goes on and on about prices, stocks and more';
    const spec = deploymentSpec(sampleComponent({ summary }), '1.4.0', '1');
    const lines = spec.description.split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(79);
    expect(lines.join(' ')).toBe(`The Puppet module shop_front: class shop_front installs and configures shop-front 1.4.0-1 (${summary}).`);
  });

  it('wrapText only turns spaces into newlines, and leaves a word longer than the width on its own line', () => {
    expect(wrapText('a b c', 3)).toBe('a b\nc');
    expect(wrapText(`${'x'.repeat(90)} y`, 79)).toBe(`${'x'.repeat(90)}\ny`);
    const odd = `  spaced   out\ttext ${'w'.repeat(30)}  $(x) "q" 'q' %{y} ${'z'.repeat(40)}`;
    const wrapped = wrapText(odd, 20);
    expect(wrapped.replace(/\n/g, ' ')).toBe(odd);
    for (const line of wrapped.split('\n')) expect(line.length <= 20 || !line.includes(' ')).toBe(true);
  });
});

describe('the application package', () => {
  it('of a processing component requires crontabs for its /etc/cron.d file, and creates its default directories for its user', () => {
    const c = sampleComponent({
      name: 'feed',
      type: 'processing',
      service: false,
      cron: [{ schedule: '*/5 * * * *' }],
      configKeys: {
        input_dir: { type: 'String', default: '/var/lib/kelkoo/feed/input' },
        output_dir: { type: 'String', default: '/var/lib/kelkoo/feed/out/today' },
        archive_dir: { type: 'String', default: '/srv/archive' }, // elsewhere: ops' to create
        escape_dir: { type: 'String', default: '/var/lib/kelkoo/feed/../../../etc' },
        lock_file: { type: 'String', default: '/var/lib/kelkoo/feed/lock' },
      },
    });
    const spec = applicationSpec({ component: c, version: '1.0.0', release: '1', files: [], launchers: [{ ...launcher, name: 'feed' }], arch: 'noarch' });
    expect(spec.requires?.map((d) => d.name)).toContain('crontabs');
    const dirs = spec.files.filter((f) => f.path.startsWith('/var/lib/kelkoo/'));
    expect(dirs.map((f) => f.path).sort()).toEqual(['/var/lib/kelkoo/feed', '/var/lib/kelkoo/feed/input', '/var/lib/kelkoo/feed/out', '/var/lib/kelkoo/feed/out/today']);
    for (const d of dirs) expect(d).toMatchObject({ kind: 'dir', mode: 0o750, user: 'feed', group: 'feed' });
  });

  it('of a component without cron entries requires no crontabs', () => {
    const spec = applicationSpec({ component: sampleComponent(), version: '1.0.0', release: '1', files: [], launchers: [{ ...launcher, name: 'shop-front' }], arch: 'noarch' });
    expect(spec.requires?.map((d) => d.name)).not.toContain('crontabs');
    expect(spec.files.some((f) => f.path.startsWith('/var/lib/'))).toBe(false);
  });

  it('keeps the configuration directory of a monitoring component traversable by NRPE, others 0750', () => {
    const dirMode = (type: 'monitoring' | 'webapp') => {
      const c = sampleComponent({ name: 'disk', type, service: type === 'webapp' });
      const spec = applicationSpec({ component: c, version: '1.0.0', release: '1', files: [], launchers: [{ ...launcher, name: type === 'webapp' ? 'disk' : 'check_disk' }], arch: 'noarch' });
      return spec.files.find((f) => f.path === '/etc/kelkoo/disk');
    };
    expect(dirMode('monitoring')).toMatchObject({ mode: 0o755, user: 'root', group: 'disk' });
    expect(dirMode('webapp')).toMatchObject({ mode: 0o750, user: 'root', group: 'disk' });
  });
});
