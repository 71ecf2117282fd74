// What Punch hands dnf: the dnf shell script and dnf5 do arguments (hostile names refused, never
// passed through), the repository file (no INI injection), the transaction comment.
import { describe, expect, it } from 'vitest';
import { doArguments, packageSpec, renderRepoFile, renderShellScript, transactionArgs, transactionComment } from '../../../punch/dnf.js';
import type { PackageChange } from '../../../punch/plan.js';

const CHANGES: PackageChange[] = [
  { action: 'remove', name: 'old-deploy', from: '1.0-1', arch: 'noarch' },
  { action: 'downgrade', name: 'b-deploy', from: '2.0-1', to: '1.0-1' },
  { action: 'upgrade', name: 'a-deploy', from: '1.0-1', to: '1:2.0~rc.1-1' },
  { action: 'install', name: 'c_deploy+x', to: '1.0^git1-1.el9' },
];

describe('dnf input', () => {
  it('renders one dnf shell command per change, then run', () => {
    expect(renderShellScript(CHANGES, 'punch: web03 revision 42')).toBe(
      ['# punch: web03 revision 42', 'remove old-deploy-1.0-1.noarch', 'downgrade b-deploy-1.0-1', 'upgrade a-deploy-1:2.0~rc.1-1', 'install c_deploy+x-1.0^git1-1.el9', 'run', ''].join('\n'),
    );
  });

  it('renders dnf5 do arguments, one --action per run of changes', () => {
    expect(doArguments(CHANGES)).toEqual(['--action=remove', 'old-deploy-1.0-1.noarch', '--action=downgrade', 'b-deploy-1.0-1', '--action=upgrade', 'a-deploy-1:2.0~rc.1-1', '--action=install', 'c_deploy+x-1.0^git1-1.el9']);
  });

  // dnf5 is not installable on the machines that run these tests: the command line is checked
  // against dnf5(8) and dnf5-do(8) here, not run (docs/punch.md)
  it('gives dnf5 global options before `do`, do\'s own options after it, --action before each run of specs', () => {
    const base = ['-y', '--config=/r/var/lib/punch/dnf/dnf.conf', '--setopt=reposdir=/r/var/lib/punch/dnf/repos.d', '--installroot=/r', '--no-plugins', '--releasever=9'];
    const args = transactionArgs({ flavour: 'dnf5', baseArgs: base }, CHANGES, 'punch: web03 revision 42', '/unused');
    const at = args.indexOf('do');
    expect(args.slice(0, at)).toEqual([...base, '--comment=punch: web03 revision 42', '--refresh']);
    expect(args.slice(at + 1)).toEqual(['--allow-downgrade', ...doArguments(CHANGES)]);
    // every spec follows an --action, and no global option comes after the command
    expect(args[at + 2]).toMatch(/^--action=/);
    expect(args.slice(at + 1).filter((a) => a.startsWith('--') && !a.startsWith('--action='))).toEqual(['--allow-downgrade']);
    expect(args).not.toContain('shell');
  });

  it('gives dnf 4 its shell command and the script, no dnf5 option', () => {
    const base = ['-y', '--config=/c', '--noplugins'];
    expect(transactionArgs({ flavour: 'dnf4', baseArgs: base }, CHANGES, 'punch: web03', '/r/t.dnf')).toEqual([...base, '--comment=punch: web03', '--refresh', 'shell', '/r/t.dnf']);
  });

  it.each([
    ['a newline in the name', { action: 'install', name: 'a\nrun\ninstall evil', to: '1-1' }],
    ['a space in the name', { action: 'install', name: 'a b', to: '1-1' }],
    ['an option for a name', { action: 'install', name: '-y', to: '1-1' }],
    ['a glob', { action: 'remove', name: '*', from: '1-1' }],
    ['a shell metacharacter', { action: 'install', name: 'a;reboot', to: '1-1' }],
    ['a newline in the EVR', { action: 'install', name: 'a', to: '1-1\nrun' }],
    ['an EVR without release', { action: 'install', name: 'a', to: '1' }],
    ['a hostile arch', { action: 'remove', name: 'a', from: '1-1', arch: 'noarch run' }],
    ['a missing EVR', { action: 'install', name: 'a' }],
  ] as [string, PackageChange][])('refuses %s', (_what, change) => {
    expect(() => packageSpec(change)).toThrow(/refusing to hand dnf/);
    expect(() => renderShellScript([change], 'c')).toThrow(/refusing to hand dnf/);
    expect(() => doArguments([change])).toThrow(/refusing to hand dnf/);
    expect(() => transactionArgs({ flavour: 'dnf5', baseArgs: [] }, [change], 'c', '/s')).toThrow(/refusing to hand dnf/);
  });

  it('keeps the comment on one printable line', () => {
    expect(transactionComment('web03\nrun', 42)).toBe('punch: web03?run revision 42');
    expect(renderShellScript([], 'a\nrun')).toBe('# a run\nrun\n');
  });

  it('writes the repositories, gpgcheck on with a key and off when asked, and refuses line breaks', () => {
    expect(renderRepoFile([{ id: 'kelkoo', baseurl: 'https://yum/k', gpgkey: 'https://yum/key' }, { id: 'dev', baseurl: 'file:///srv/dev', gpgcheck: false }], '/etc/punch/ca.pem')).toBe(
      [
        '# Written by punch from the per-server file: do not edit.',
        '',
        '[kelkoo]',
        'name=kelkoo',
        'baseurl=https://yum/k',
        'enabled=1',
        'gpgcheck=1',
        'repo_gpgcheck=0',
        'gpgkey=https://yum/key',
        'sslcacert=/etc/punch/ca.pem',
        '',
        '[dev]',
        'name=dev',
        'baseurl=file:///srv/dev',
        'enabled=1',
        'gpgcheck=0',
        'repo_gpgcheck=0',
        'sslcacert=/etc/punch/ca.pem',
        '',
      ].join('\n'),
    );
    expect(() => renderRepoFile([{ id: 'x', baseurl: 'https://a\n[evil]' }])).toThrow(/line break/);
  });
});
