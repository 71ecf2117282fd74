// Hostile but valid text (test/helpers/hostile.ts: rpm macros, shell substitutions, Handlebars,
// EPP, Puppet and Hiera interpolations, quotes, backslashes, non-ASCII) built by the compiled
// `kpkg build` and judged by the real tools: rpm prints it literally, `puppet apply` of the
// deployment module writes it literally into config.json, the unit, launcher and cron table taken
// out with rpm2cpio hold it escaped, bash accepts the launcher and runs it with the hostile entry
// as one argument. Every command in the text touches a marker file, which never appears.
import { existsSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { cronCommand, systemdText } from '../../packager/assemble/escape.js';
import { hostileComponent, type HostileComponent } from '../helpers/hostile.js';
import { extractRpm, kpkgBuild, type Built } from './helpers/components.js';
import { puppetApply } from './helpers/puppet.js';
import { describeWithTools, run, runOk, tmpDir } from './tools.js';

describeWithTools(['rpm', 'rpm2cpio', 'cpio', 'puppet', 'bash'], 'hostile text in a component, through rpm, Puppet and the shell', () => {
  const marker = join(tmpDir('hostile-marker'), 'pwned');
  let webapp: { c: HostileComponent; b: Built };
  let processing: { c: HostileComponent; b: Built };

  beforeAll(() => {
    for (const type of ['webapp', 'processing'] as const) {
      const c = hostileComponent(tmpDir(`hostile-${type}`), type, marker);
      const built = { c, b: kpkgBuild(c.dir, { skipBuild: true }) };
      if (type === 'webapp') webapp = built;
      else processing = built;
    }
  });

  it('rpm -qp --qf prints summary, description, URL, vendor, license and packager literally', () => {
    const { c, b } = webapp;
    const q = runOk('rpm', ['-qp', '--qf', '%{SUMMARY}\n%{DESCRIPTION}', b.app]);
    expect(q.stdout).toBe(`${c.summary}\n${c.description}`);
    expect(q.stderr).toBe('');
    // one line each (none of them can hold a line break)
    const fields = runOk('rpm', ['-qp', '--qf', '%{URL}\n%{VENDOR}\n%{LICENSE}\n%{PACKAGER}', b.app]).stdout.split('\n');
    expect(fields).toEqual([c.url, c.vendor, c.license, c.packager]);
    const deploy = runOk('rpm', ['-qp', '--qf', '%{DESCRIPTION}', b.deploy]).stdout;
    // the generated description is wrapped at 79 columns (rpmlint): the summary is in it, line breaks aside
    expect(deploy.replace(/\s+/g, ' ')).toContain(`(${c.summary.replace(/\s+/g, ' ')})`);
  });

  it('puppet apply of the deployment module writes config.json with the literal defaults', () => {
    for (const { c, b } of [webapp, processing]) {
      const modulepath = join(extractRpm(b.deploy), 'etc/puppetlabs/code/modules');
      const out = tmpDir('hostile-config');
      puppetApply(modulepath, `class { 'shop': config_dir => '${out}', manage_service => false, manage_user => false }`);
      expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toEqual(c.defaults);
    }
  });

  it('the unit holds the summary escaped for systemd; bash accepts the launcher, which runs node on the hostile entry as one argument', () => {
    const { c, b } = webapp;
    const root = extractRpm(b.app);
    const unit = readFileSync(join(root, 'usr/lib/systemd/system/shop.service'), 'utf8').split('\n');
    expect(unit.filter((l) => l.includes('touch'))).toEqual([`Description=${systemdText(c.summary)}`]);

    const launcher = join(root, 'opt/kelkoo/shop/bin/shop');
    const syntax = run('bash', ['-n', launcher]);
    expect(syntax.status, syntax.stderr).toBe(0);
    // a `node` that prints its arguments, NUL-separated, in place of the real one
    const bin = tmpDir('fake-node');
    writeFileSync(join(bin, 'node'), "#!/bin/sh\nfor a; do printf '%s\\0' \"$a\"; done\n", { mode: 0o755 });
    const cwd = tmpDir('launcher-cwd');
    const res = runOk('bash', [launcher, '$(touch pwned)', "it's"], { cwd, env: { PATH: `${bin}:${process.env.PATH ?? ''}` } });
    const prefix = realpathSync(join(root, 'opt/kelkoo/shop'));
    expect(res.stdout.split('\0').slice(0, -1)).toEqual([`${prefix}/${c.entry}`, '$(touch pwned)', "it's"]);
    expect(existsSync(`${prefix}/${c.entry}`)).toBe(true);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('the cron table holds the command with % escaped, which cron gives /bin/sh as it was written', () => {
    const { c, b } = processing;
    const table = readFileSync(join(extractRpm(b.app), 'etc/cron.d/shop'), 'utf8').split('\n');
    expect(table.filter((l) => l.includes('touch'))).toEqual([`@daily shop ${cronCommand(c.cronCommand!)}`]);
  });

  it('never runs any of it', () => {
    expect(existsSync(marker)).toBe(false);
  });
});
