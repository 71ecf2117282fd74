// `punch apply` and `punch plan` with real dnf 4, rpm and Puppet 7, on empty --root directories
// (helpers/punch.ts): a first run installs two components and writes their configuration, a second
// changes nothing; one file upgrades, downgrades, removes and adds at once in one dnf transaction;
// a wanted version missing from the repository changes nothing; plan lists exactly what the run
// then does; a value the class refuses fails the run after the packages, which stay consistent.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { describeAsRoot, writeBasePackage, YumRepo } from './helpers/dnf.js';
import { buildComponent, parseReport, PunchRoot, TOOLS, writeNodeFile } from './helpers/punch.js';
import { tmpDir } from './tools.js';

const SECRET = 'S3CR3T-%{x}-do-not-log';
const HOSTILE = "it's ${x} %{facts.os.family} $(id) \"q\" \\ ü";

describeAsRoot(TOOLS, 'punch apply and plan on an image root', () => {
  let repo: YumRepo;
  let files: string;

  beforeAll(async () => {
    const out = join(tmpDir('punch-builds'), 'target');
    const secret = { db_password: { type: 'String', secret: true } };
    const built = [
      buildComponent('alpha', '1.0.0', out),
      buildComponent('alpha', '2.0.0', out),
      buildComponent('beta', '1.0.0', out, { keys: secret }),
      buildComponent('beta', '2.0.0', out, { keys: secret }),
      buildComponent('gamma', '1.0.0', out),
      buildComponent('delta', '1.0.0', out),
    ];
    repo = new YumRepo();
    repo.add([...built.flatMap((b) => [b.app, b.deploy]), await writeBasePackage(tmpDir('base'))]);
    files = tmpDir('punch-files');
  });

  const file = (name: string, spec: Omit<Parameters<typeof writeNodeFile>[2], 'repo'>) => writeNodeFile(files, name, { ...spec, repo: repo.dir });

  it('installs two components with their configuration, then changes nothing and says so', () => {
    const root = new PunchRoot('first');
    const f = file('first.yaml', {
      classes: { alpha: { listen_port: 9090, greeting: HOSTILE }, beta: { db_password: SECRET } },
      packages: { 'alpha-deploy': '1.0.0-1', 'beta-deploy': '2.0.0-1' },
      sensitive: { beta: ['db_password'] },
    });
    const first = root.punch(['apply', f, '--json']);
    const r1 = parseReport(first);
    expect(first.status, first.stderr).toBe(0);
    expect(r1.packages.changes.map((c) => `${c.action} ${c.name} ${c.to}`)).toEqual(['install alpha-deploy 1.0.0-1', 'install beta-deploy 2.0.0-1']);
    expect(r1.packages.verified).toBe(true);
    expect(root.installed()).toEqual(['alpha-1.0.0-1', 'alpha-deploy-1.0.0-1', 'beta-2.0.0-1', 'beta-deploy-2.0.0-1', 'kpkg-test-base-1.0-1']);
    expect(root.config('alpha')).toEqual({ listen_port: 9090, greeting: HOSTILE });
    expect(root.config('beta')).toMatchObject({ listen_port: 8080, db_password: SECRET });
    expect(statSync(root.path('etc/kelkoo/beta/config.json')).mode & 0o777).toBe(0o640);
    // the secret went through Hiera data 0600, and appears in no log, report or Puppet state
    const data = root.path('var/lib/punch/puppet/environments/production/data/punch.yaml');
    expect(statSync(data).mode & 0o777).toBe(0o600);
    expect(`${first.stdout}${first.stderr}`).not.toContain('S3CR3T');
    for (const dir of ['var/lib/punch/logs', 'var/lib/punch/reports', 'var/lib/punch/puppet/var/state', 'var/lib/punch/puppet/log']) {
      for (const name of readdirSync(root.path(dir))) {
        const p = join(root.path(dir), name);
        if (statSync(p).isFile()) expect(readFileSync(p, 'utf8'), p).not.toContain('S3CR3T');
      }
    }
    const history = root.history();
    expect(history).toHaveLength(1);
    expect(history[0]?.comment).toBe('punch: web03.example.com revision 1');

    const second = root.punch(['apply', f]);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain('nothing to change, the server matches its file');
    const r2 = parseReport(root.punch(['apply', f, '--json']));
    expect(r2).toMatchObject({ exitCode: 0, unchanged: true, packages: { changes: [] }, puppet: { changes: 0, resources: [] } });
    expect(root.history()).toHaveLength(1);
  });

  it('upgrades, downgrades, removes and adds in one dnf transaction, and rewrites the configuration', () => {
    const root = new PunchRoot('everything');
    const before = file('before.yaml', {
      classes: { alpha: { greeting: 'one' }, beta: { db_password: 'p1' }, gamma: {} },
      packages: { 'alpha-deploy': '1.0.0-1', 'beta-deploy': '2.0.0-1', 'gamma-deploy': '1.0.0-1' },
    });
    expect(root.punch(['apply', before, '--quiet']).status).toBe(0);
    const after = file('after.yaml', {
      revision: 2,
      classes: { alpha: { greeting: 'two' }, beta: { db_password: 'p2' }, delta: { listen_port: 7070 } },
      packages: { 'alpha-deploy': '2.0.0-1', 'beta-deploy': '1.0.0-1', 'delta-deploy': '1.0.0-1' },
    });
    const res = root.punch(['apply', after, '--json']);
    expect(res.status, res.stderr).toBe(0);
    const report = parseReport(res);
    expect(report.packages.changes.map((c) => `${c.action} ${c.name}`).sort()).toEqual(['downgrade beta-deploy', 'install delta-deploy', 'remove gamma-deploy', 'upgrade alpha-deploy']);
    expect(root.installed()).toEqual(['alpha-2.0.0-1', 'alpha-deploy-2.0.0-1', 'beta-1.0.0-1', 'beta-deploy-1.0.0-1', 'delta-1.0.0-1', 'delta-deploy-1.0.0-1', 'kpkg-test-base-1.0-1']);
    const history = root.history();
    expect(history).toHaveLength(2);
    expect(history[1]?.comment).toBe('punch: web03.example.com revision 2');
    for (const p of ['alpha-2.0.0-1', 'beta-1.0.0-1', 'gamma-1.0.0-1', 'delta-deploy-1.0.0-1']) expect(history[1]?.actions).toContain(p);
    expect(root.config('alpha')).toMatchObject({ greeting: 'two' });
    expect(root.config('beta')).toMatchObject({ db_password: 'p2' });
    expect(root.config('delta')).toMatchObject({ listen_port: 7070 });

    // status: wanted versus installed, revision applied; rollback applies the previous file again
    const status = JSON.parse(root.punch(['status', '--json']).stdout) as { matches: boolean; applied: { revision: number }; previous: { revision: number } };
    expect(status).toMatchObject({ matches: true, applied: { revision: 2 }, previous: { revision: 1 } });
    const back = root.punch(['rollback', '--json']);
    expect(back.status, back.stderr).toBe(0);
    expect(root.installed()).toEqual(['alpha-1.0.0-1', 'alpha-deploy-1.0.0-1', 'beta-2.0.0-1', 'beta-deploy-2.0.0-1', 'gamma-1.0.0-1', 'gamma-deploy-1.0.0-1', 'kpkg-test-base-1.0-1']);
    expect(root.config('alpha')).toMatchObject({ greeting: 'one' });
  });

  it('refuses a wanted version the repository does not have: exit 1, the package named, nothing changed', () => {
    const root = new PunchRoot('missing');
    const good = file('good.yaml', { classes: { alpha: {} }, packages: { 'alpha-deploy': '1.0.0-1' } });
    expect(root.punch(['apply', good, '--quiet']).status).toBe(0);
    const installed = root.installed();
    const config = readFileSync(root.path('etc/kelkoo/alpha/config.json'), 'utf8');
    const bad = file('bad.yaml', { classes: { alpha: { greeting: 'changed' }, beta: {} }, packages: { 'alpha-deploy': '2.0.0-1', 'beta-deploy': '9.9.9-1' } });
    const res = root.punch(['apply', bad]);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/not available in the repositories test: beta-deploy 9\.9\.9-1; nothing was changed/);
    expect(res.stderr).not.toContain('alpha-deploy 2.0.0-1');
    expect(root.installed()).toEqual(installed);
    expect(readFileSync(root.path('etc/kelkoo/alpha/config.json'), 'utf8')).toBe(config);
    expect(root.history()).toHaveLength(1);
  });

  it('plans exactly the changes the run then makes, changing nothing itself', () => {
    const root = new PunchRoot('plan');
    const v1 = file('plan1.yaml', { classes: { alpha: {}, gamma: {} }, packages: { 'alpha-deploy': '1.0.0-1', 'gamma-deploy': '1.0.0-1' } });
    // packages: a plan into an empty root
    const plan1 = root.punch(['plan', v1, '--json']);
    expect(plan1.status, plan1.stderr).toBe(0);
    expect(parseReport(plan1).packages.changes.map((c) => `${c.action} ${c.name} ${c.to}`)).toEqual(['install alpha-deploy 1.0.0-1', 'install gamma-deploy 1.0.0-1']);
    expect(root.installed()).toEqual([]);
    const run1 = parseReport(root.punch(['apply', v1, '--json']));
    expect(run1.packages.changes).toEqual(parseReport(plan1).packages.changes);

    const v2 = file('plan2.yaml', { classes: { alpha: {}, delta: {} }, packages: { 'alpha-deploy': '2.0.0-1', 'delta-deploy': '1.0.0-1' } });
    const plan2 = parseReport(root.punch(['plan', v2, '--json']));
    const installed = root.installed();
    expect(parseReport(root.punch(['plan', v2, '--json'])).packages.changes).toEqual(plan2.packages.changes);
    expect(root.installed()).toEqual(installed);
    const run2 = parseReport(root.punch(['apply', v2, '--json']));
    expect(run2.packages.changes).toEqual(plan2.packages.changes);

    // configuration only: Puppet --noop names the resources the run then changes
    const v3 = file('plan3.yaml', { classes: { alpha: { greeting: 'planned' }, delta: {} }, packages: { 'alpha-deploy': '2.0.0-1', 'delta-deploy': '1.0.0-1' } });
    const config = readFileSync(root.path('etc/kelkoo/alpha/config.json'), 'utf8');
    const plan3 = root.punch(['plan', v3]);
    expect(plan3.status, plan3.stderr).toBe(0);
    expect(plan3.stdout).toContain(`File[${root.path('etc/kelkoo/alpha/config.json')}]`);
    const plan3json = parseReport(root.punch(['plan', v3, '--json']));
    expect(plan3json.packages.changes).toEqual([]);
    expect(readFileSync(root.path('etc/kelkoo/alpha/config.json'), 'utf8')).toBe(config);
    const run3 = parseReport(root.punch(['apply', v3, '--json']));
    expect(run3.puppet?.resources).toEqual(plan3json.puppet?.resources);
    expect(run3.puppet?.resources).toEqual([`File[${root.path('etc/kelkoo/alpha/config.json')}]`]);
    expect(root.config('alpha')).toMatchObject({ greeting: 'planned' });
    expect(parseReport(root.punch(['plan', v3, '--json']))).toMatchObject({ unchanged: true, packages: { changes: [] }, puppet: { changes: 0, resources: [] } });
  });

  it('reports a value the class refuses: exit 1, the packages at their versions, the configuration as it was', () => {
    const root = new PunchRoot('puppet-failure');
    const good = file('ok.yaml', { classes: { alpha: { listen_port: 8081 } }, packages: { 'alpha-deploy': '1.0.0-1' } });
    expect(root.punch(['apply', good, '--quiet']).status).toBe(0);
    const refused = file('refused.yaml', { classes: { alpha: { listen_port: 'not a port' } }, packages: { 'alpha-deploy': '2.0.0-1' } });
    const res = root.punch(['apply', refused, '--json']);
    expect(res.status).toBe(1);
    const report = parseReport(res);
    expect(report.exitCode).toBe(1);
    expect(report.errors.join('\n')).toMatch(/listen_port.*expects an Integer value, got String/);
    expect(report.leftAsItWas.join(' ')).toMatch(/configuration/);
    expect(report.packages.verified).toBe(true);
    expect(root.installed()).toEqual(['alpha-2.0.0-1', 'alpha-deploy-2.0.0-1', 'kpkg-test-base-1.0-1']);
    expect(root.config('alpha')).toMatchObject({ listen_port: 8081 });
    const status = JSON.parse(root.punch(['status', '--json']).stdout) as { lastRun: { exitCode: number }; applied: { sha256: string } };
    expect(status.lastRun.exitCode).toBe(1);
    // a parameter the class does not have: Hiera would ignore it silently, punch refuses it
    const misspelt = file('misspelt.yaml', { classes: { alpha: { listen_prot: 8082 } }, packages: { 'alpha-deploy': '2.0.0-1' } });
    const typo = root.punch(['apply', misspelt]);
    expect(typo.status).toBe(1);
    expect(typo.stderr).toMatch(/class alpha has no parameter "listen_prot"/);
    expect(root.config('alpha')).toMatchObject({ listen_port: 8081 });
    // the human form names the failure and what was left
    const human = root.punch(['apply', refused]);
    expect(human.status).toBe(1);
    expect(human.stderr).toMatch(/puppet apply failed: .*listen_port/);
    expect(human.stderr).toMatch(/left as it was: configuration/);
  });

  it('refuses a file the schema refuses with exit 2, naming the field, before touching anything', () => {
    const root = new PunchRoot('bad-file');
    const path = join(files, 'invalid.yaml');
    writeFileSync(path, 'classes: {}\nkelkoo:\n  packages:\n    - { name: alpha-deploy, evr: "1.0" }\n');
    const res = root.punch(['apply', path]);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/\/kelkoo\/packages\/0\/evr/);
    expect(readdirSync(root.root)).toEqual([]);
  });
});
