// The package plan: exact versions (new, upgrade, downgrade by rpm's order), removals of unwanted
// deployment packages, and the repair of duplicates a killed transaction leaves.
import { describe, expect, it } from 'vitest';
import { computePlan, sameEVR } from '../../../punch/plan.js';
import { missingPackages } from '../../../punch/preflight.js';
import { verifyInstalled } from '../../../punch/run.js';
import type { InstalledPackage } from '../../../punch/rpm.js';

const pkg = (name: string, evr: string, arch = 'noarch'): InstalledPackage => {
  const m = /^(?:(\d+):)?(.+)-([^-]+)$/.exec(evr);
  if (!m) throw new Error(evr);
  return { name, epoch: Number(m[1] ?? 0), version: m[2] ?? '', release: m[3] ?? '', arch };
};

describe('computePlan', () => {
  it('installs, upgrades and downgrades to the exact EVR, by rpm order not string order', () => {
    const plan = computePlan(
      [
        { name: 'new-deploy', evr: '1.0.0-1' },
        { name: 'up-deploy', evr: '1.10.0-1' },
        { name: 'down-deploy', evr: '2.0.0~rc.1-1' },
        { name: 'same-deploy', evr: '0:3.0-1' },
      ],
      [pkg('up-deploy', '1.9.0-1'), pkg('down-deploy', '2.0.0-1'), pkg('same-deploy', '3.0-1')],
    );
    expect(plan.changes).toEqual([
      { action: 'downgrade', name: 'down-deploy', from: '2.0.0-1', to: '2.0.0~rc.1-1' },
      { action: 'upgrade', name: 'up-deploy', from: '1.9.0-1', to: '1.10.0-1' },
      { action: 'install', name: 'new-deploy', to: '1.0.0-1' },
    ]);
    expect(plan.unchanged).toEqual([{ name: 'same-deploy', evr: '0:3.0-1' }]);
  });

  it('an epoch wins over the version: 1:1.0 is an upgrade from 2.0', () => {
    expect(computePlan([{ name: 'a', evr: '1:1.0-1' }], [pkg('a', '2.0-1')]).changes[0]?.action).toBe('upgrade');
  });

  it('removes installed deployment packages the file does not want, and nothing else', () => {
    const plan = computePlan([{ name: 'a', evr: '1-1' }], [pkg('a', '1-1'), pkg('old', '2-1')]);
    expect(plan.changes).toEqual([{ action: 'remove', name: 'old', from: '2-1', arch: 'noarch' }]);
  });

  it('repairs duplicates left by a killed transaction: the unwanted instances go by full name', () => {
    expect(computePlan([{ name: 'a', evr: '2-1' }], [pkg('a', '1-1'), pkg('a', '2-1')]).changes).toEqual([{ action: 'remove', name: 'a', from: '1-1', arch: 'noarch' }]);
    expect(computePlan([{ name: 'a', evr: '3-1' }], [pkg('a', '1-1'), pkg('a', '2-1')]).changes).toEqual([
      { action: 'remove', name: 'a', from: '1-1', arch: 'noarch' },
      { action: 'remove', name: 'a', from: '2-1', arch: 'noarch' },
      { action: 'install', name: 'a', to: '3-1' },
    ]);
  });

  it('nothing installed, nothing wanted: an empty plan', () => {
    expect(computePlan([], [])).toEqual({ changes: [], unchanged: [] });
  });

  it('sameEVR reads a missing epoch as 0', () => {
    expect(sameEVR('0:1.0-1', '1.0-1')).toBe(true);
    expect(sameEVR('1:1.0-1', '1.0-1')).toBe(false);
  });
});

describe('preflight and verify', () => {
  const available = [
    { name: 'a', epoch: 0, version: '1.0', release: '1', arch: 'noarch' },
    { name: 'a', epoch: 0, version: '2.0', release: '1', arch: 'noarch' },
  ];
  it('names each wanted EVR the repositories lack, ignoring removals', () => {
    const missing = missingPackages(
      [
        { action: 'upgrade', name: 'a', from: '1.0-1', to: '2.0-1' },
        { action: 'install', name: 'b', to: '1-1' },
        { action: 'downgrade', name: 'a', from: '2.0-1', to: '0.9-1' },
        { action: 'remove', name: 'c', from: '1-1' },
      ],
      available,
    );
    expect(missing.map((c) => `${c.name} ${c.to}`)).toEqual(['b 1-1', 'a 0.9-1']);
  });

  it('verify: every wanted package once at its EVR, every removal done', () => {
    const after = new Map([
      ['a', [pkg('a', '2.0-1')]],
      ['b', [pkg('b', '1-1'), pkg('b', '2-1')]],
      ['c', [pkg('c', '1-1')]],
      ['d', []],
    ]);
    expect(
      verifyInstalled(
        [
          { name: 'a', evr: '2.0-1' },
          { name: 'b', evr: '2-1' },
          { name: 'd', evr: '1-1' },
        ],
        [{ action: 'remove', name: 'c', from: '1-1' }],
        after,
      ),
    ).toEqual(['b is installed at 1-1, 2-1 (wanted 2-1)', 'd is not installed (wanted 1-1)', 'c 1-1 is still installed (to be removed)']);
  });
});
