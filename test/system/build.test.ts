// `kpkg build` (the compiled CLI) on components of every type, its packages judged by the real
// rpm 4.18, rpm2cpio/cpio and Puppet 7:
//   - each type's conventions show in what rpm reports: launchers running the entry where the
//     file mapping installs it (none when there is no entry), unit and systemd scriptlets of
//     services, the cron table of processing (its `%` escaped), the Nagios plugin link of
//     monitoring (none when the component installs its own plugin), the config and log
//     directories and their owners, the system user, nodejs required with EL's epoch 1, the exact
//     requirement of the deployment package, the module's place;
//   - no devDependency reaches an application package;
//   - the Puppet module taken out of the deployment package passes Puppet's validators and
//     puppet-lint, and `puppet apply` writes config.json with the defaults (hostile ones literally)
//     or the values given;
//   - a failed build (component.json, or a package.json main/bin the package does not install)
//     exits 2 with one line naming the field and leaves the output directory empty;
//   - two builds with the same SOURCE_DATE_EPOCH are byte-identical.
import { readdirSync, readFileSync, existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rpmVersionFromSemver } from '../../packager/assemble/semver-version.js';
import {
  copyComponent,
  editJson,
  EXAMPLES,
  extractRpm,
  FIXTURE_COMPONENTS,
  kpkg,
  kpkgBuild,
  rpmFileText,
  SOURCE_DATE_EPOCH,
  writeTree,
  type Built,
} from './helpers/components.js';
import { puppetApply, puppetSettings } from './helpers/puppet.js';
import { rpmQuery, type QueryResult } from './helpers/rpmq.js';
import { describeWithTools, run, runOk, tmpDir, type RunResult } from './tools.js';

const MODULES = '/etc/puppetlabs/code/modules';
const UNIT_DIR = '/usr/lib/systemd/system';

interface Expect {
  fixture: string;
  name: string;
  module: string;
  /** semver version of the component */
  version: string;
  service: boolean;
  /** `nodejs` requirement as rpm -qpR prints it (EL's nodejs is 1:20.x: bounds carry epoch 1) */
  nodejs: string;
  /** The launcher in <prefix>/bin and the file it runs, relative to the prefix; none without an entry */
  launcher?: { name: string; entry: string };
}

const FIXTURES: Expect[] = [
  // package.json main (dist/server.js, set below) mapped by files to lib
  { fixture: 'shop', name: 'shop', module: 'shop', version: '1.4.0', service: true, nodejs: 'nodejs >= 1:20.17.0', launcher: { name: 'shop', entry: 'lib/server.js' } },
  // no main: the default entry dist/index.js, mapped to lib
  { fixture: 'catalog-api', name: 'catalog-api', module: 'catalog_api', version: '2.0.0-rc.1', service: true, nodejs: 'nodejs', launcher: { name: 'catalog-api', entry: 'lib/index.js' } },
  // package.json main (dist/main.js, set below) mapped to lib: the cron entry without command runs it
  { fixture: 'nightly-import', name: 'nightly-import', module: 'nightly_import', version: '0.3.1', service: false, nodejs: 'nodejs', launcher: { name: 'nightly-import', entry: 'lib/main.js' } },
  // package.json bin orders-schema-migrate: dist/migrate.js, mapped to lib (added below)
  { fixture: 'orders-schema', name: 'orders-schema', module: 'orders_schema', version: '5.0.0', service: false, nodejs: 'nodejs', launcher: { name: 'orders-schema-migrate', entry: 'lib/migrate.js' } },
  // no package.json, no dist/index.js: nothing for node to run, the plugin is the component's own file
  { fixture: 'check-shop', name: 'check-shop', module: 'check_shop', version: '1.0.0', service: false, nodejs: 'nodejs' },
];

/**
 * What the fixtures lack to be the components they stand for. A service (shop) and a cron entry
 * without command (nightly-import) need something to run, and neither has the default entry
 * dist/index.js: their package.json names the main they have. A db-schema ships its migration
 * tool: a bin entry, as a real one declares it.
 */
function completeFixture(fixture: string, dir: string): void {
  if (fixture === 'shop' || fixture === 'nightly-import') {
    editJson(join(dir, 'package.json'), (p) => {
      p.main = fixture === 'shop' ? 'dist/server.js' : 'dist/main.js';
    });
  }
  if (fixture === 'orders-schema') {
    editJson(join(dir, 'package.json'), (p) => {
      p.bin = { 'orders-schema-migrate': 'dist/migrate.js' };
    });
    writeTree(dir, { 'dist/migrate.js': "console.log('migrating orders');\n" });
    editJson(join(dir, 'component.json'), (c) => {
      (c.files as object[]).push({ src: 'dist', dest: 'lib' });
    });
  }
}

/** A cron entry with everything cron would misread: `%` (a newline to cron) and quotes. */
const PERCENT_CRON = { schedule: '0 */4 * * *', command: `date +'%F %H' >> /var/log/kelkoo/nightly-import/"runs-%Y".log`, user: 'batch' };

const FILE_TAGS = ['FILENAMES', 'FILEMODES:perms', 'FILEUSERNAME', 'FILEGROUPNAME', 'FILELINKTOS', 'FILEFLAGS:fflags'];

interface FileInfo {
  perms: string;
  user: string;
  group: string;
  link: string;
  flags: string;
}

function filesOf(q: QueryResult): Map<string, FileInfo> {
  const names = q.array('FILENAMES');
  const col = (t: string) => q.array(t);
  const [perms, users, groups, links, flags] = FILE_TAGS.slice(1).map(col) as [string[], string[], string[], string[], string[]];
  return new Map(names.map((n, i) => [n, { perms: perms[i]!, user: users[i]!, group: groups[i]!, link: links[i]!, flags: flags[i]! }]));
}

function lines(r: RunResult): string[] {
  return r.stdout.split('\n').filter((l) => l !== '');
}

describeWithTools(['rpm', 'rpm2cpio', 'cpio'], 'kpkg build: the conventions of each type, as rpm sees them', () => {
  const built = new Map<string, Built>();

  beforeAll(() => {
    for (const f of FIXTURES) {
      const dir = copyComponent(join(FIXTURE_COMPONENTS, f.fixture));
      completeFixture(f.fixture, dir);
      if (f.fixture === 'nightly-import') {
        editJson(join(dir, 'component.json'), (c) => {
          (c.cron as object[]).push(PERCENT_CRON);
        });
      }
      // the fixtures' build scripts would need npm install: package what is there
      built.set(f.fixture, kpkgBuild(dir, { skipBuild: true }));
    }
  });

  describe.each(FIXTURES)('$fixture ($name)', (f) => {
    const rpmVersion = rpmVersionFromSemver(f.version);
    const prefix = `/opt/kelkoo/${f.name}`;
    let b: Built;
    let app: QueryResult;
    let files: Map<string, FileInfo>;

    beforeAll(() => {
      b = built.get(f.fixture)!;
      app = rpmQuery(b.app, ['NAME', 'VERSION', 'RELEASE', 'ARCH', 'PREIN', 'PREINPROG', 'POSTIN', 'PREUN', 'POSTUN'], FILE_TAGS);
      files = filesOf(app);
    });

    it('names the packages <name>[-deploy]-<version>-<release>.noarch.rpm, rpm reading them without a word on stderr', () => {
      expect(b.app).toBe(join(b.output, `${f.name}-${rpmVersion}-1.noarch.rpm`));
      expect(b.deploy).toBe(join(b.output, `${f.name}-deploy-${rpmVersion}-1.noarch.rpm`));
      expect([app.scalar('NAME'), app.scalar('VERSION'), app.scalar('RELEASE'), app.scalar('ARCH')]).toEqual([f.name, rpmVersion, '1', 'noarch']);
      expect(app.stderr).toBe('');
      const qplv = runOk('rpm', ['-qplv', b.app, b.deploy]);
      expect(qplv.stderr).toBe('');
      expect(qplv.stdout).toMatch(new RegExp(`^drwxr-xr-x .* ${prefix}/bin$`, 'm'));
    });

    if (f.launcher) {
      const { name, entry } = f.launcher;
      it(`has the launcher <prefix>/bin/${name}, 0755, running node on ${entry}, a file the package installs`, () => {
        expect([...files.keys()].filter((p) => p.startsWith(`${prefix}/bin/`))).toEqual([`${prefix}/bin/${name}`]);
        expect(files.get(`${prefix}/bin/${name}`)).toMatchObject({ perms: '-rwxr-xr-x', user: 'root', group: 'root' });
        const script = rpmFileText(b.app, `${prefix}/bin/${name}`);
        expect(script.startsWith('#!/bin/sh\n')).toBe(true);
        expect(script).toMatch(/^exec node "\$root"\/'[^']+' "\$@"$/m);
        expect(/^exec node "\$root"\/'([^']+)'/m.exec(script)?.[1]).toBe(entry);
        expect(files.get(`${prefix}/${entry}`)).toMatchObject({ perms: '-rw-r--r--' });
        expect(script).toContain(`KELKOO_CONFIG_DIR='/etc/kelkoo/${f.name}'`);
      });
    } else {
      it('has no launcher: no package.json main or bin, no dist/index.js, nothing in <prefix>/bin', () => {
        expect(files.get(`${prefix}/bin`)).toMatchObject({ perms: 'drwxr-xr-x' });
        expect([...files.keys()].filter((p) => p.startsWith(`${prefix}/bin/`))).toEqual([]);
      });
    }

    it('owns its config directory as root:<group> 0750 (0755 for monitoring: NRPE runs the plugin as its own user) and its log directory as the service user 0750, and creates that user in %pre with useradd -r', () => {
      const configPerms = f.fixture === 'check-shop' ? 'drwxr-xr-x' : 'drwxr-x---';
      expect(files.get(`/etc/kelkoo/${f.name}`)).toMatchObject({ perms: configPerms, user: 'root', group: f.name });
      expect(files.get(`/var/log/kelkoo/${f.name}`)).toMatchObject({ perms: 'drwxr-x---', user: f.name, group: f.name });
      expect(app.scalar('PREINPROG')).toBe('/bin/sh');
      const pre = app.scalar('PREIN');
      expect(pre).toMatch(new RegExp(`^getent group '${f.name}' >/dev/null \\|\\| groupadd -r '${f.name}'$`, 'm'));
      expect(pre).toMatch(new RegExp(`^getent passwd '${f.name}' >/dev/null \\|\\| useradd -r -g '${f.name}' -d '${prefix}' -s /sbin/nologin .*'${f.name}'$`, 'm'));
      // what the scriptlet runs is required for %pre, and node at run time
      const reqs = lines(runOk('rpm', ['-qp', '--qf', '[%{REQUIRENAME} %{REQUIREFLAGS:deptype}\\n]', b.app]));
      expect(reqs).toEqual(expect.arrayContaining(['/usr/sbin/useradd pre', '/usr/sbin/groupadd pre', '/bin/sh pre,interp']));
      expect(lines(runOk('rpm', ['-qpR', b.app]))).toContain(f.nodejs);
    });

    it(f.service ? 'is a systemd service: unit and systemd scriptlets' : 'has no systemd unit and no service scriptlets', () => {
      const unit = `${UNIT_DIR}/${f.name}.service`;
      const units = [...files.keys()].filter((p) => p.startsWith(`${UNIT_DIR}/`));
      if (!f.service) {
        expect(units).toEqual([]);
        for (const s of ['POSTIN', 'PREUN', 'POSTUN']) expect(app.scalar(s)).toBe('(none)');
        return;
      }
      expect(units).toEqual([unit]);
      expect(files.get(unit)).toMatchObject({ perms: '-rw-r--r--', user: 'root' });
      const text = rpmFileText(b.app, unit);
      expect(text).toMatch(new RegExp(`^ExecStart="?${prefix}/bin/${f.name}"?$`, 'm'));
      expect(text).toMatch(new RegExp(`^User=${f.name}$`, 'm'));
      expect(text).toMatch(/^WantedBy=multi-user\.target$/m);
      const scripts = runOk('rpm', ['-qp', '--scripts', b.app]).stdout;
      for (const s of ['preinstall', 'postinstall', 'preuninstall', 'postuninstall']) expect(scripts).toContain(`${s} scriptlet (using /bin/sh):`);
      expect(app.scalar('POSTIN')).toMatch(/systemctl daemon-reload/);
      expect(app.scalar('POSTIN')).toContain(`preset '${f.name}.service'`);
      expect(app.scalar('PREUN')).toMatch(new RegExp(`"\\$1" -eq 0 .*\\n.*disable --now '${f.name}\\.service'`));
      expect(app.scalar('POSTUN')).toContain(`try-restart '${f.name}.service'`);
    });

    it('has the deployment package require the application at exactly its version-release, and the module under the modulepath', () => {
      expect(lines(runOk('rpm', ['-qpR', b.deploy])).filter((l) => !l.startsWith('rpmlib('))).toEqual(['(puppet-agent or puppet)', `${f.name} = ${rpmVersion}-1`]);
      const deployFiles = lines(runOk('rpm', ['-qpl', b.deploy]));
      const root = `${MODULES}/${f.module}`;
      expect(deployFiles.every((p) => p === root || p.startsWith(`${root}/`))).toBe(true);
      expect(deployFiles).toEqual(expect.arrayContaining(['manifests/init.pp', 'metadata.json', 'hiera.yaml', 'data/common.yaml', 'templates/config.json.epp'].map((p) => `${root}/${p}`)));
      expect(lines(runOk('rpm', ['-qp', '--provides', b.deploy]))).toContain(`${f.name}-deploy = ${rpmVersion}-1`);
    });
  });

  it('processing: /etc/cron.d/<name>, %config(noreplace), with schedule, user and command, % escaped', () => {
    const b = built.get('nightly-import')!;
    const files = filesOf(rpmQuery(b.app, [], FILE_TAGS));
    expect(files.get('/etc/cron.d/nightly-import')).toMatchObject({ perms: '-rw-r--r--', user: 'root', group: 'root' });
    expect(files.get('/etc/cron.d/nightly-import')!.flags).toMatch(/^(?=.*c)(?=.*n)[a-z]+$/);
    const table = rpmFileText(b.app, '/etc/cron.d/nightly-import').split('\n');
    expect(table).toContain(`30 2 * * mon-fri nightly-import '/opt/kelkoo/nightly-import/bin/nightly-import'`);
    expect(table).toContain('@weekly nightly-import /opt/kelkoo/nightly-import/bin/nightly-import --full');
    expect(table).toContain(`0 */4 * * * batch date +'\\%F \\%H' >> /var/log/kelkoo/nightly-import/"runs-\\%Y".log`);
    // every % of a command line is escaped: an unescaped one would end the command there
    for (const l of table.filter((l) => /^[^#A-Z]/.test(l))) expect(l).not.toMatch(/(^|[^\\])%/);
    expect(table.filter((l) => /^(SHELL|PATH)=/.test(l))).toEqual(['SHELL=/bin/sh', 'PATH=/usr/local/bin:/usr/bin:/bin']);
    expect(table.at(-1)).toBe(''); // cron ignores a last line without a newline
    // rpmlint's missing-dependency-to-crontabs: /etc/cron.d and its daemon come with crontabs
    expect(lines(runOk('rpm', ['-qpR', b.app]))).toContain('crontabs');
  });

  it('monitoring: a component that maps its own plugin into /usr/lib64/nagios/plugins gets no plugin link', () => {
    const b = built.get('check-shop')!;
    const files = filesOf(rpmQuery(b.app, [], FILE_TAGS));
    const plugins = [...files.keys()].filter((p) => p.startsWith('/usr/lib64/nagios/plugins/'));
    expect(plugins).toEqual(['/usr/lib64/nagios/plugins/check_shop']);
    // the component's own plugin, mapped by component.json: a file, not a link; no check_check_shop
    expect(files.get('/usr/lib64/nagios/plugins/check_shop')).toMatchObject({ perms: '-rwxr-xr-x', link: '' });
    expect(rpmFileText(b.app, '/usr/lib64/nagios/plugins/check_shop')).toBe(readFileSync(join(FIXTURE_COMPONENTS, 'check-shop', 'bin', 'check_shop'), 'utf8'));
    expect(files.has('/usr/lib64/nagios/plugins/check_check_shop')).toBe(false);
    expect(files.has('/etc/cron.d/check-shop')).toBe(false);
  });

  it('monitoring: a plugin installed under the prefix is linked as /usr/lib64/nagios/plugins/<module> when the module is check_..., to its launcher', () => {
    const dir = copyComponent(join(FIXTURE_COMPONENTS, 'check-shop'));
    editJson(join(dir, 'component.json'), (c) => {
      c.files = [
        { src: 'bin/check_shop', dest: 'lib/check_shop' },
        { src: 'nrpe/check_shop.cfg', dest: '/etc/nrpe.d/', config: true },
      ];
    });
    editJson(join(dir, 'package.json'), () => ({ name: 'check-shop', bin: { check_shop: 'bin/check_shop' } }));
    const b = kpkgBuild(dir, { skipBuild: true });
    const files = filesOf(rpmQuery(b.app, [], FILE_TAGS));
    const plugins = [...files.keys()].filter((p) => p.startsWith('/usr/lib64/nagios/plugins/'));
    // the module check_shop already starts with check_: not check_check_shop
    expect(plugins).toEqual(['/usr/lib64/nagios/plugins/check_shop']);
    expect(files.get('/usr/lib64/nagios/plugins/check_shop')).toMatchObject({ perms: 'lrwxrwxrwx', link: '/opt/kelkoo/check-shop/bin/check_shop' });
    // the link's target: the launcher of the bin entry, running the plugin where files put it
    expect(files.get('/opt/kelkoo/check-shop/bin/check_shop')).toMatchObject({ perms: '-rwxr-xr-x', link: '' });
    expect(rpmFileText(b.app, '/opt/kelkoo/check-shop/bin/check_shop')).toMatch(/^exec node "\$root"\/'lib\/check_shop' "\$@"$/m);
    expect(files.has('/opt/kelkoo/check-shop/lib/check_shop')).toBe(true);
  });

  it('webapp with a file mapped into its config directory: the directory is still root:shop 0750, the file as mapped', () => {
    const files = filesOf(rpmQuery(built.get('shop')!.app, [], FILE_TAGS));
    expect(files.get('/etc/kelkoo/shop')).toMatchObject({ perms: 'drwxr-x---', user: 'root', group: 'shop' });
    expect(files.get('/etc/kelkoo/shop/shop.yaml')).toMatchObject({ perms: '-rw-r-----', user: 'root', group: 'shop' });
    expect(files.get('/etc/kelkoo/shop/shop.yaml')!.flags).toMatch(/c/);
    expect(files.get('/var/log/kelkoo/shop')).toMatchObject({ perms: 'drwxr-x---', user: 'shop', group: 'shop' });
  });

  it('db-schema: its launcher (package.json bin) and its migrations, no cron table, no unit', () => {
    const b = built.get('orders-schema')!;
    const files = filesOf(rpmQuery(b.app, [], FILE_TAGS));
    expect(files.get('/opt/kelkoo/orders-schema/bin/orders-schema-migrate')).toMatchObject({ perms: '-rwxr-xr-x' });
    expect(files.has('/opt/kelkoo/orders-schema/bin/orders-schema')).toBe(false);
    expect([...files.keys()].filter((p) => p.startsWith('/opt/kelkoo/orders-schema/migrations/'))).toEqual([
      '/opt/kelkoo/orders-schema/migrations/001-create-orders.sql',
      '/opt/kelkoo/orders-schema/migrations/002-add-total.sql',
    ]);
    expect([...files.keys()].some((p) => p.startsWith('/etc/cron.d/'))).toBe(false);
  });

  it('db-schema without bin: the default entry dist/index.js launched as <name>-migrate; without it, no launcher', () => {
    const plain = copyComponent(join(FIXTURE_COMPONENTS, 'orders-schema'));
    const none = filesOf(rpmQuery(kpkgBuild(plain, { skipBuild: true }).app, [], FILE_TAGS));
    expect([...none.keys()].filter((p) => p.startsWith('/opt/kelkoo/orders-schema/bin/'))).toEqual([]);
    expect(none.has('/opt/kelkoo/orders-schema/migrations/001-create-orders.sql')).toBe(true);

    const dir = copyComponent(join(FIXTURE_COMPONENTS, 'orders-schema'));
    writeTree(dir, { 'dist/index.js': "console.log('migrating orders');\n" });
    editJson(join(dir, 'component.json'), (c) => {
      (c.files as object[]).push({ src: 'dist', dest: 'dist' });
    });
    const b = kpkgBuild(dir, { skipBuild: true });
    const files = filesOf(rpmQuery(b.app, [], FILE_TAGS));
    expect([...files.keys()].filter((p) => p.startsWith('/opt/kelkoo/orders-schema/bin/'))).toEqual(['/opt/kelkoo/orders-schema/bin/orders-schema-migrate']);
    expect(rpmFileText(b.app, '/opt/kelkoo/orders-schema/bin/orders-schema-migrate')).toMatch(/^exec node "\$root"\/'dist\/index\.js' "\$@"$/m);
    expect(files.has('/opt/kelkoo/orders-schema/dist/index.js')).toBe(true);
  });

  it('webapp, web-service: no cron table', () => {
    for (const fixture of ['shop', 'catalog-api']) {
      const files = filesOf(rpmQuery(built.get(fixture)!.app, [], FILE_TAGS));
      expect([...files.keys()].some((p) => p.startsWith('/etc/cron.d/'))).toBe(false);
    }
  });
});

describeWithTools(['rpm'], 'kpkg build: the release', () => {
  it("is component.json's release unless --release is given; the deployment package requires that release", () => {
    const dir = copyComponent(join(EXAMPLES, 'hello'));
    editJson(join(dir, 'component.json'), (c) => {
      c.release = '3';
    });
    for (const [release, expected] of [[undefined, '3'], ['7.el9', '7.el9']] as const) {
      const b = kpkgBuild(dir, release === undefined ? {} : { release });
      expect(b.json.release).toBe(expected);
      expect(b.app).toBe(join(b.output, `hello-1.0.0-${expected}.noarch.rpm`));
      expect(runOk('rpm', ['-qp', '--qf', '%{RELEASE}', b.app]).stdout).toBe(expected);
      expect(lines(runOk('rpm', ['-qpR', b.deploy]))).toContain(`hello = 1.0.0-${expected}`);
    }
    const bad = kpkg(['build', dir, '--output', join(tmpDir('bad-release'), 'target'), '--release', '1 2']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});

// The launcher runs package.json's main (or bin) where component.json's `files` installs it, not
// where it is in the source tree (`dist` -> `lib`: lib/server.js).
describeWithTools(['rpm', 'rpm2cpio', 'cpio'], 'kpkg build: launchers', () => {
  it('run a file the package installs when files maps dist to lib', () => {
    const dir = copyComponent(join(FIXTURE_COMPONENTS, 'shop'));
    editJson(join(dir, 'package.json'), (p) => {
      p.main = 'dist/server.js';
    });
    const b = kpkgBuild(dir, { skipBuild: true });
    const script = rpmFileText(b.app, '/opt/kelkoo/shop/bin/shop');
    const entry = /^exec node "\$root"\/'([^']+)'/m.exec(script)?.[1];
    expect(entry).toBe('lib/server.js');
    const installed = lines(runOk('rpm', ['-qpl', b.app]));
    expect(installed).toContain(`/opt/kelkoo/shop/${entry}`);
    expect(installed).not.toContain('/opt/kelkoo/shop/dist/server.js');
  });
});

describeWithTools(['rpm', 'tar'], 'kpkg build: production dependencies only', () => {
  it('ships the dependencies and their own dependencies, never a devDependency, from an installed node_modules and its lockfile', () => {
    const dir = copyComponent(join(EXAMPLES, 'hello'));
    editJson(join(dir, 'package.json'), (p) => {
      p.dependencies = { 'left-pad': '^1.3.0' };
      p.devDependencies = { devtool: '^2.0.0' };
    });
    const pkg = (name: string, version: string, deps: Record<string, string> = {}) => ({
      [`node_modules/${name}/package.json`]: { name: name.split('/node_modules/').pop(), version, main: 'index.js', dependencies: deps },
      [`node_modules/${name}/index.js`]: `module.exports = ${JSON.stringify(name)};\n`,
    });
    writeTree(dir, {
      ...pkg('left-pad', '1.3.0', { wordwrap: '^1.0.0', inner: '^3.0.0' }),
      ...pkg('wordwrap', '1.0.0'),
      // a second version, nested under the package that needs it
      ...pkg('left-pad/node_modules/inner', '3.0.1'),
      ...pkg('inner', '1.0.0'),
      ...pkg('devtool', '2.0.0', { 'dev-helper': '^1.0.0', inner: '^1.0.0' }),
      ...pkg('dev-helper', '1.0.0'),
      'node_modules/.bin/devtool': '#!/usr/bin/env node\n',
      'node_modules/.package-lock.json': { lockfileVersion: 3 },
      'package-lock.json': {
        name: 'hello',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: 'hello', version: '1.0.0', license: 'Apache-2.0', dependencies: { 'left-pad': '^1.3.0' }, devDependencies: { devtool: '^2.0.0' } },
          'node_modules/dev-helper': { version: '1.0.0', resolved: 'https://registry.npmjs.org/dev-helper/-/dev-helper-1.0.0.tgz', dev: true },
          'node_modules/devtool': { version: '2.0.0', resolved: 'https://registry.npmjs.org/devtool/-/devtool-2.0.0.tgz', dev: true, dependencies: { 'dev-helper': '^1.0.0', inner: '^1.0.0' }, bin: { devtool: 'cli.js' } },
          'node_modules/inner': { version: '1.0.0', resolved: 'https://registry.npmjs.org/inner/-/inner-1.0.0.tgz', dev: true },
          'node_modules/left-pad': { version: '1.3.0', resolved: 'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz', dependencies: { inner: '^3.0.0', wordwrap: '^1.0.0' } },
          'node_modules/left-pad/node_modules/inner': { version: '3.0.1', resolved: 'https://registry.npmjs.org/inner/-/inner-3.0.1.tgz' },
          'node_modules/wordwrap': { version: '1.0.0', resolved: 'https://registry.npmjs.org/wordwrap/-/wordwrap-1.0.0.tgz' },
        },
      },
    });
    const b = kpkgBuild(dir);
    const files = lines(runOk('rpm', ['-qpl', b.app]));
    const modules = files.filter((p) => p.includes('/node_modules'));
    const nm = '/opt/kelkoo/hello/node_modules';
    expect(modules).toEqual(
      expect.arrayContaining([
        `${nm}/left-pad/index.js`,
        `${nm}/left-pad/package.json`,
        `${nm}/left-pad/node_modules/inner/index.js`,
        `${nm}/left-pad/node_modules/inner/package.json`,
        `${nm}/wordwrap/index.js`,
        `${nm}/wordwrap/package.json`,
      ]),
    );
    const offending = modules.filter((p) => /\/(devtool|dev-helper|\.bin|\.package-lock\.json)(\/|$)/.test(p) || p.startsWith(`${nm}/inner`));
    expect(offending).toEqual([]);
    // the sources are sources: no node_modules at all
    expect(runOk('tar', ['-tzf', b.sources]).stdout).not.toContain('node_modules');
  });
});

const HOSTILE = "it's ${x} %{facts.os.family} $(id)";

describeWithTools(['rpm2cpio', 'cpio', 'puppet', 'puppet-lint'], 'kpkg build: the Puppet module of the deployment package, applied by Puppet 7', () => {
  let modulepath: string;
  let moduleDir: string;

  beforeAll(() => {
    const dir = copyComponent(join(EXAMPLES, 'hello'));
    editJson(join(dir, 'component.json'), (c) => {
      const keys = (c.config as { keys: Record<string, object> }).keys;
      keys.motto = { type: 'String', default: HOSTILE, description: `Hostile: ${HOSTILE}` };
      keys.tags = { type: 'Array[String]', default: ['a', HOSTILE] };
    });
    const b = kpkgBuild(dir);
    modulepath = join(extractRpm(b.deploy), MODULES);
    moduleDir = join(modulepath, 'hello');
  });

  it('is a whole module: manifest, data, Hiera configuration, templates, metadata', () => {
    expect(readdirSync(modulepath)).toEqual(['hello']);
    for (const f of ['manifests/init.pp', 'data/common.yaml', 'hiera.yaml', 'templates/config.json.epp', 'metadata.json']) {
      expect(existsSync(join(moduleDir, f)), f).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(moduleDir, 'metadata.json'), 'utf8'))).toMatchObject({ version: '1.0.0' });
  });

  it('passes puppet parser validate, puppet epp validate and puppet-lint --fail-on-warnings', () => {
    const settings = puppetSettings(modulepath);
    const manifests = readdirSync(join(moduleDir, 'manifests')).map((f) => join(moduleDir, 'manifests', f));
    const parser = run('puppet', ['parser', 'validate', ...settings, ...manifests]);
    expect(parser.status, parser.stderr).toBe(0);
    const templates = readdirSync(join(moduleDir, 'templates')).map((f) => join(moduleDir, 'templates', f));
    const epp = run('puppet', ['epp', 'validate', ...settings, ...templates]);
    expect(epp.status, epp.stderr).toBe(0);
    const lint = run('puppet-lint', ['--fail-on-warnings', '--with-filename', moduleDir]);
    expect(lint.status, `${lint.stdout}\n${lint.stderr}`).toBe(0);
  });

  it('puppet apply writes config.json with the defaults, a hostile one literally', () => {
    const out = tmpDir('config-defaults');
    puppetApply(modulepath, `class { 'hello': config_dir => '${out}', manage_service => false, manage_user => false }`);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toEqual({
      listen_port: 8080,
      greeting: 'Hello from kpkg',
      motto: HOSTILE,
      tags: ['a', HOSTILE],
    });
  });

  it('puppet apply writes the values given to the class instead of the defaults', () => {
    const out = tmpDir('config-given');
    writeFileSync(join(out, 'config.json'), '{"stale": true}\n');
    puppetApply(modulepath, `class { 'hello': config_dir => '${out}', manage_service => false, manage_user => false, listen_port => 9090, greeting => 'Bonjour' }`);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toEqual({
      listen_port: 9090,
      greeting: 'Bonjour',
      motto: HOSTILE,
      tags: ['a', HOSTILE],
    });
  });
});

describe('kpkg build: a failed build leaves nothing behind', () => {
  function failedBuild(edit: (c: Record<string, unknown>) => void, field: string, editDir?: (dir: string) => void): { output: string; dir: string } {
    const dir = copyComponent(join(EXAMPLES, 'hello'));
    editJson(join(dir, 'component.json'), edit);
    editDir?.(dir);
    const output = join(tmpDir('failed-output'), 'target');
    mkdirSync(output);
    const res = kpkg(['build', dir, '--output', output, '--json'], { env: { SOURCE_DATE_EPOCH: String(SOURCE_DATE_EPOCH) } });
    expect(res.status, res.stderr).toBe(2);
    expect(res.stdout).toBe('');
    const message = res.stderr.split('\n').filter((l) => l !== '');
    expect(message, res.stderr).toHaveLength(1);
    expect(message[0]).toContain(field);
    expect(message[0]).not.toMatch(/\bat .*\(.*:\d+:\d+\)/); // no stack trace
    expect(readdirSync(output)).toEqual([]);
    return { output, dir };
  }

  it.each([
    { pointer: '/main', fields: { main: 'dist/server.js' } },
    { pointer: '/bin/hello-admin', fields: { bin: { hello: 'lib/server.js', 'hello-admin': 'bin/admin.js' } } },
  ])('a package.json entry the files mapping does not install: exit 2, one line naming package.json: $pointer, nothing written', ({ pointer, fields }) => {
    failedBuild(
      () => undefined,
      `package.json: ${pointer}`,
      (dir) => {
        // the entry exists in the source tree, but component.json's files do not map it
        writeTree(dir, { 'dist/server.js': '', 'bin/admin.js': '' });
        editJson(join(dir, 'package.json'), (p) => ({ ...p, ...fields }));
      },
    );
  });

  it('a service with nothing to run (no main or bin, no dist/index.js): exit 2, nothing written', () => {
    failedBuild(
      () => undefined,
      'main or bin',
      (dir) => {
        editJson(join(dir, 'package.json'), (p) => {
          delete p.main;
        });
      },
    );
  });

  it('an invalid component.json: exit 2, one line naming the field, nothing written', () => {
    const { dir } = failedBuild((c) => {
      c.type = 'webap';
    }, '/type');
    expect(existsSync(join(dir, 'target'))).toBe(false);
  });

  it('a range that matches no version (found while the packages are being staged): no staging directory left', () => {
    failedBuild((c) => {
      c.requires = { libdep: '>=3.0.0 <2.0.0' };
    }, '/requires/libdep');
  });
});

describeWithTools(['rpm'], 'kpkg build: reproducible', () => {
  it('two builds with the same SOURCE_DATE_EPOCH, from copies touched at other times, are byte-identical', () => {
    const a = copyComponent(join(FIXTURE_COMPONENTS, 'shop'));
    const b = copyComponent(join(FIXTURE_COMPONENTS, 'shop'));
    for (const dir of [a, b]) completeFixture('shop', dir);
    const touch = (dir: string, when: Date) => {
      for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) utimesSync(join(e.parentPath, e.name), when, when);
    };
    touch(a, new Date('2001-02-03T04:05:06Z'));
    touch(b, new Date('2024-05-06T07:08:09Z'));
    const first = kpkgBuild(a, { skipBuild: true });
    const second = kpkgBuild(b, { skipBuild: true });
    expect(second.json.artifacts.map((x) => [x.role, x.sha256, x.size])).toEqual(first.json.artifacts.map((x) => [x.role, x.sha256, x.size]));
    for (const k of ['app', 'deploy', 'sources'] as const) expect(readFileSync(second[k]).equals(readFileSync(first[k])), k).toBe(true);
    expect(runOk('rpm', ['-qp', '--qf', '%{BUILDTIME}', first.app]).stdout).toBe(String(SOURCE_DATE_EPOCH));

    // and the epoch is what made them equal: another one gives other bytes
    const other = kpkgBuild(a, { skipBuild: true, sourceDateEpoch: SOURCE_DATE_EPOCH + 86_400 });
    expect(other.json.artifacts.find((x) => x.role === 'application')!.sha256).not.toBe(first.json.artifacts.find((x) => x.role === 'application')!.sha256);
  });
});
