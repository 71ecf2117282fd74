// `kpkg build` output served as a yum repository (createrepo_c) and installed by the real dnf 4
// into empty install roots (see helpers/dnf.ts for the isolated invocation):
//   - the --json report names both packages and the sources tarball, with NEVRA, size and a
//     sha256 that match the files;
//   - `dnf install <name>-deploy` pulls the application with it, files land where they should;
//   - `dnf upgrade <name>-deploy` upgrades the application with it (new version, new release), and
//     the deployment package accepts nothing but its own version-release of the application;
//   - engines.node is required of nodejs with EL's epoch 1: met by 1:20.x, not by 1:18 or 1:21,
//     nor by a nodejs without epoch;
//   - a `requires` semver range picks, among the published versions of a dependency, exactly the
//     one npm's semver.maxSatisfying picks.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import semver from 'semver';
import { beforeAll, describe, expect, it } from 'vitest';
import { prereleaseMarker } from '../../packager/assemble/semver-range.js';
import { rpmVersionFromSemver } from '../../packager/assemble/semver-version.js';
import { copyComponent, editJson, EXAMPLES, kpkgBuild, type Built } from './helpers/components.js';
import { BASE_PACKAGE, describeAsRoot, InstallRoot, writeBasePackage, writeStubPackage, YumRepo } from './helpers/dnf.js';
import { runOk, tmpDir } from './tools.js';

const TOOLS = ['rpm', 'createrepo_c', 'dnf', 'tar'];

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A copy of examples/hello at `version`, under another component name when given. */
function hello(version = '1.0.0', name?: string): string {
  const dir = copyComponent(join(EXAMPLES, 'hello'), name ?? 'hello');
  editJson(join(dir, 'package.json'), (p) => {
    p.version = version;
  });
  if (name) {
    editJson(join(dir, 'component.json'), (c) => {
      c.name = name;
    });
  }
  return dir;
}

describeAsRoot(TOOLS, 'kpkg build, published with createrepo_c, installed by dnf', () => {
  let v1: Built;
  let base: string;

  beforeAll(async () => {
    v1 = kpkgBuild(hello('1.0.0'));
    base = await writeBasePackage(tmpDir('base'));
  });

  it('reports both packages and the sources tarball as JSON, with NEVRA, size and sha256 of each file', () => {
    const { json, output } = v1;
    expect(json).toMatchObject({ component: 'hello', version: '1.0.0', release: '1' });
    expect(json.artifacts.map((a) => a.role).sort()).toEqual(['application', 'deployment', 'sources']);
    const expected = {
      application: { name: 'hello', nevra: 'hello-1.0.0-1.noarch', file: 'hello-1.0.0-1.noarch.rpm' },
      deployment: { name: 'hello-deploy', nevra: 'hello-deploy-1.0.0-1.noarch', file: 'hello-deploy-1.0.0-1.noarch.rpm' },
      sources: { name: 'hello', nevra: undefined, file: 'hello-1.0.0-sources.tar.gz' },
    };
    for (const a of json.artifacts) {
      const e = expected[a.role];
      expect(a.file).toBe(join(output, e.file));
      expect(a.name).toBe(e.name);
      expect(a.nevra).toBe(e.nevra);
      expect(a.size).toBe(statSync(a.file).size);
      expect(a.sha256).toBe(sha256(a.file));
      if (a.nevra) {
        // rpm agrees on what the package is, and says nothing else
        const q = runOk('rpm', ['-qp', '--qf', '%{NEVRA} %{NAME}', a.file]);
        expect(q.stdout).toBe(`${a.nevra} ${a.name}`);
        expect(q.stderr).toBe('');
      }
    }
    // the output directory holds exactly what was reported: no staging directory, no temporary file
    expect(readdirSync(output).sort()).toEqual(Object.values(expected).map((e) => e.file).sort());

    const listing = runOk('tar', ['-tzf', v1.sources]).stdout.split('\n').filter((l) => l !== '');
    expect(listing.every((l) => l === 'hello-1.0.0/' || l.startsWith('hello-1.0.0/'))).toBe(true);
    expect(listing).toEqual(expect.arrayContaining(['hello-1.0.0/component.json', 'hello-1.0.0/package.json', 'hello-1.0.0/lib/server.js']));
    expect(listing.some((l) => /\/(target|node_modules)\//.test(l))).toBe(false);
  });

  it('dnf install <name>-deploy into an empty root pulls the application with it', () => {
    const repo = new YumRepo();
    repo.add([base, v1.app, v1.deploy]);
    const r = new InstallRoot(repo, 'install');
    // engines.node >=20, with the epoch of the base package's nodejs (1:20.17.0)
    expect(runOk('rpm', ['-qpR', v1.app]).stdout.split('\n')).toContain('nodejs >= 1:20.0.0');
    r.install('hello-deploy');

    expect(r.installed()).toEqual([`${BASE_PACKAGE}-1.0-1.noarch`, 'hello-1.0.0-1.noarch', 'hello-deploy-1.0.0-1.noarch'].sort());
    expect(r.rpm(['-q', 'hello', 'hello-deploy']).status).toBe(0);

    const launcher = r.path('/opt/kelkoo/hello/bin/hello');
    expect(statSync(launcher).mode & 0o7777).toBe(0o755);
    const script = readFileSync(launcher, 'utf8');
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    // the launcher runs package.json's main, which is installed
    expect(script).toContain(`"$root"/'lib/server.js'`);
    expect(statSync(r.path('/opt/kelkoo/hello/lib/server.js')).isFile()).toBe(true);
    expect(statSync(r.path('/opt/kelkoo/hello/public/index.html')).isFile()).toBe(true);
    expect(readFileSync(r.path('/usr/lib/systemd/system/hello.service'), 'utf8')).toMatch(/^ExecStart="?\/opt\/kelkoo\/hello\/bin\/hello"?$/m);
    for (const f of ['manifests/init.pp', 'metadata.json', 'data/common.yaml', 'hiera.yaml', 'templates/config.json.epp']) {
      expect(statSync(r.path(`/etc/puppetlabs/code/modules/hello/${f}`)).isFile()).toBe(true);
    }
    expect(statSync(r.path('/var/log/kelkoo/hello')).isDirectory()).toBe(true);
    // rpm's own view of the installed files agrees
    expect(r.rpm(['-ql', 'hello']).stdout.split('\n')).toContain('/opt/kelkoo/hello/bin/hello');
  });

  it('dnf upgrade <name>-deploy upgrades the application with it (new version, then new release)', () => {
    const repo = new YumRepo();
    repo.add([base, v1.app, v1.deploy]);
    const r = new InstallRoot(repo, 'upgrade');
    r.install('hello-deploy');
    expect(r.evr('hello')).toBe('1.0.0-1');

    const v11 = kpkgBuild(hello('1.1.0'));
    repo.add([v11.app, v11.deploy]);
    r.upgrade('hello-deploy');
    expect(r.evr('hello-deploy')).toBe('1.1.0-1');
    expect(r.evr('hello')).toBe('1.1.0-1');
    expect(readFileSync(r.path('/opt/kelkoo/hello/bin/hello'), 'utf8')).toContain('launcher of hello 1.1.0');
    expect(r.installed()).toHaveLength(3);

    const rel2 = kpkgBuild(hello('1.1.0'), { release: '2' });
    expect(basename(rel2.app)).toBe('hello-1.1.0-2.noarch.rpm');
    repo.add([rel2.app, rel2.deploy]);
    r.upgrade('hello-deploy');
    expect(r.evr('hello-deploy')).toBe('1.1.0-2');
    expect(r.evr('hello')).toBe('1.1.0-2');
    expect(repo.packages).toHaveLength(7);
  });

  it('the deployment package accepts its own version-release of the application only', async () => {
    // hello-deploy 1.2.0-1 next to hello 1.1.0-1 and hello 1.2.0-2: nothing provides hello = 1.2.0-1
    const dir = tmpDir('exact');
    const deploy = kpkgBuild(hello('1.2.0'), { output: join(dir, 'a') }).deploy;
    const other = kpkgBuild(hello('1.2.0'), { output: join(dir, 'b'), release: '2' }).app;
    const older = kpkgBuild(hello('1.1.0'), { output: join(dir, 'c') }).app;
    const repo = new YumRepo();
    repo.add([base, deploy, other, older]);
    const r = new InstallRoot(repo, 'exact');
    const res = r.dnf(['install', 'hello-deploy']);
    expect(res.status).not.toBe(0);
    expect(`${res.stdout}\n${res.stderr}`).toContain('hello = 1.2.0-1');
    expect(r.installed()).toEqual([]);
  });

  describe('semver ranges of component.json requires, resolved by dnf as npm resolves them', () => {
    const PUBLISHED = ['0.9.0', '1.2.0', '1.4.5', '1.9.0', '1.10.0', '2.0.0-rc.1', '2.0.0'];
    const RANGES = ['^1.2.0', '~1.4.0', '>=1.2.0 <1.9.0', '1.x || >=2.0.0', '<2.0.0', '>=2.0.0-rc.1 <2.0.0', '1.2.0 - 1.9.0', '^0.9.0', '=1.2.0'];
    let repo: YumRepo;
    const consumers = new Map<string, Built>();

    beforeAll(async () => {
      repo = new YumRepo();
      const libs = tmpDir('libdep');
      const files = [base];
      for (const v of PUBLISHED) {
        const pre = semver.prerelease(v) !== null;
        files.push(
          await writeStubPackage(libs, {
            name: 'libdep',
            version: rpmVersionFromSemver(v),
            provides: pre ? [{ name: prereleaseMarker('libdep') }] : [],
            files: [{ path: `/usr/share/libdep/${v}`, kind: 'file', content: `${v}\n` }],
          }),
        );
      }
      RANGES.forEach((range, i) => {
        const dir = hello('1.0.0', `uses-libdep-${i}`);
        editJson(join(dir, 'component.json'), (c) => {
          c.requires = { libdep: range };
        });
        const built = kpkgBuild(dir);
        consumers.set(range, built);
        files.push(built.app);
      });
      repo.add(files);
    });

    it.each(RANGES)('requires libdep %s', (range) => {
      const expected = semver.maxSatisfying(PUBLISHED, range);
      expect(expected, `npm satisfies ${range} with one of ${PUBLISHED.join(', ')}`).not.toBeNull();
      const built = consumers.get(range)!;
      const name = built.json.component;
      const requires = runOk('rpm', ['-qpR', built.app]).stdout;
      expect(requires).toMatch(/libdep/);

      const r = new InstallRoot(repo, name);
      r.install(name);
      expect(r.evr('libdep'), `${range}: rpm -qpR says\n${requires}`).toBe(`${rpmVersionFromSemver(expected!)}-1`);
      expect(readFileSync(r.path(`/usr/share/libdep/${expected}`), 'utf8')).toBe(`${expected}\n`);
    });
  });

  // The nodejs requirement from engines.node carries epoch 1, the epoch of EL's and Fedora's
  // nodejs (NODEJS_EPOCH in application.ts): a bound without epoch is compared as epoch 0, so an
  // upper bound would never be met by 1:20.x and a lower bound always would be, whatever the
  // version.
  describe('the nodejs requirement against an EL nodejs (epoch 1)', () => {
    async function tryInstall(engines: string | undefined, nodejs: string): Promise<{ status: number; output: string; requires: string[]; root: InstallRoot }> {
      const dir = hello('1.0.0');
      editJson(join(dir, 'package.json'), (p) => {
        if (engines === undefined) delete p.engines;
        else p.engines = { node: engines };
      });
      const built = kpkgBuild(dir);
      const requires = runOk('rpm', ['-qpR', built.app]).stdout.split('\n').filter((l) => l.startsWith('nodejs') || l.startsWith('(nodejs'));
      const repo = new YumRepo();
      repo.add([await writeBasePackage(tmpDir('base-epoch'), nodejs), built.app]);
      const root = new InstallRoot(repo, 'epoch');
      const res = root.dnf(['install', 'hello']);
      return { status: res.status, output: `${res.stdout}\n${res.stderr}`, requires, root };
    }

    it('^20.17.0 installs against nodejs = 1:20.17.0', async () => {
      const { status, output, requires, root } = await tryInstall('^20.17.0', '1:20.17.0');
      expect(requires).toEqual(['(nodejs >= 1:20.17.0 with nodejs < 1:21.0.0~~)']);
      expect(status, output).toBe(0);
      expect(root.evr('hello')).toBe('1.0.0-1');
    });

    it('>=20.17 is refused by nodejs = 1:18.0.0', async () => {
      const { status, output, requires, root } = await tryInstall('>=20.17', '1:18.0.0');
      expect(requires).toEqual(['nodejs >= 1:20.17.0']);
      expect(status).not.toBe(0);
      expect(output).toContain('nodejs >= 1:20.17.0');
      expect(root.evr('hello')).toBeUndefined();
    });

    it('^20.17.0 is refused by nodejs = 1:21.0.0 (the upper bound is met by 1:20.x only)', async () => {
      const { status, root } = await tryInstall('^20.17.0', '1:21.0.0');
      expect(status).not.toBe(0);
      expect(root.evr('hello')).toBeUndefined();
    });

    // A provider without epoch is epoch 0, older than any 1:20.x: nodejs = 20.17.0 (not how EL or
    // Fedora ship it) does not meet nodejs >= 1:20.17.0. The requirement is written for EL's nodejs.
    it('^20.17.0 is refused by nodejs = 20.17.0 without epoch (0:20.17.0 < 1:20.17.0)', async () => {
      const { status, output, root } = await tryInstall('^20.17.0', '20.17.0');
      expect(status).not.toBe(0);
      expect(output).toContain('nodejs >= 1:20.17.0');
      expect(root.evr('hello')).toBeUndefined();
    });

    it('no engines.node: an unversioned nodejs, met by any provider', async () => {
      const { status, output, requires } = await tryInstall(undefined, '20.17.0');
      expect(requires).toEqual(['nodejs']);
      expect(status, output).toBe(0);
    });
  });
});
