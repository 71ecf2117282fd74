// Issue 4, shown with the real tools: this package packed and installed globally beside yo 7 (as
// `npm install -g` does, into a prefix), then, as an unprivileged user (yo will not run as root),
// for each archetype: `yo kelkoo:<type> <name> --defaults` and `kpkg new <type> <name> --defaults`
// write the same component; `npm install`, `npm test` and `kpkg build` succeed; the application
// RPM holds no devDependency; and the built tree, unpacked with rpm2cpio, runs with
// KELKOO_CONFIG_DIR pointing at a config.json: the webapp and the web-service answer /health, the
// batch runs once and exits 0, the Nagios plugin prints `OK - ...` and exits 0 (3 on a bad option).
// Needs the npm registry (yo, and the generated components' dependencies).
//
// The unpacked db-schema fails clearly (exit 1) with no database at its port.
//
// The install is the README's: `npm install -g --allow-scripts=better-sqlite3 <tarball>` (npm 11
// warns about, or under strict-allow-scripts refuses, an install script nobody approved), into a
// prefix, so the system npmrc is not read (hence --cafile). Before `npm install`, `kpkg build` says the dependencies are missing (not "tsc: not
// found"); `npm test` lints; a file left in dist/ by an earlier build never reaches the RPM; rpmlint
// finds no description line over 79 columns and no cron table without crontabs; the deployment RPM
// requires Puppet, and dnf refuses it on a system that has none.
//
// In a private mount namespace (unshare: the host's /etc, /opt and systemctl stay untouched), the
// installed modules are applied as on a server: monitoring with its user and group, NRPE's command
// reloaded once (systemctl stands in for systemd, which a container lacks), and the command run as
// a user `nrpe` outside the component's group reads its settings; db-schema's exec runs the
// migrations once, a second apply changes nothing, and manage_migrations => false leaves them be.
//
// Then dnf installs each deployment RPM (pulling the application) into an empty root, `puppet
// apply` of the installed module renders config.json, and the installed files run with it: for
// db-schema, the class parameters point at a PostgreSQL started by the test (initdb, pg_ctl, once
// for the file), and the installed <root>/opt/kelkoo/<name>/bin/<name>-migrate applies the
// migrations in order, each recorded in the history table; a second run changes nothing. The
// unpacked tree's launcher is checked the same way against that PostgreSQL (another database).
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { canRunDnf, InstallRoot, writeBasePackage, YumRepo } from './helpers/dnf.js';
import { chownTree, describeWithTools, freePort, missingTools, postgresTool, run, runOk, systemTestsRequired, tmpDir, type RunOptions } from './tools.js';
import { listFiles as files } from '../helpers/files.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TYPES = ['webapp', 'web-service', 'processing', 'db-schema', 'monitoring'] as const;
type Type = (typeof TYPES)[number];

/** Who runs yo and the components: `kpkgtest` (.ci/run creates it) when we are root, else ourselves. */
function testUser(): { uid: number; gid: number } | undefined | 'missing' {
  if (process.getuid?.() !== 0) return undefined;
  const uid = run('id', ['-u', 'kpkgtest']);
  const gid = run('id', ['-g', 'kpkgtest']);
  if (uid.status !== 0 || gid.status !== 0) return 'missing';
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}


/** What config.json holds for a run of `type` in this test: a free port, private directories, thresholds that cannot fire. */
async function settingsFor(type: Type, runDir: string): Promise<Record<string, string | number>> {
  mkdirSync(runDir, { recursive: true });
  switch (type) {
    case 'webapp':
    case 'web-service':
      return { listen_port: await freePort() };
    case 'processing':
      mkdirSync(join(runDir, 'in'));
      writeFileSync(join(runDir, 'in', 'feed.txt'), 'one two three\n');
      return { input_dir: join(runDir, 'in'), output_dir: join(runDir, 'out'), lock_file: join(runDir, 'batch.lock') };
    case 'monitoring':
      return { path: '/', warning: 100, critical: 100 };
    case 'db-schema':
      return { db_host: '127.0.0.1', db_port: await freePort(), db_password: `it's "x"` };
  }
}

/** Runs what was installed under `prefix` with its settings in `configDir`, and checks the runtime contract. */
async function exercise(type: Type, prefix: string, configDir: string, settings: Record<string, string | number>, opts: RunOptions): Promise<void> {
  const name = `demo-${type}`;
  if (type === 'webapp' || type === 'web-service') {
    const port = settings.listen_port as number;
    const child = spawn(join(prefix, 'bin', name), [], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}) });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      let health: Response | undefined;
      for (let i = 0; i < 100 && !health; i++) {
        health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
        if (!health) await new Promise((r) => setTimeout(r, 100));
      }
      expect(health?.status, output).toBe(200);
      if (type === 'webapp') {
        const page = await fetch(`http://127.0.0.1:${port}/`);
        expect(page.headers.get('content-type')).toMatch(/text\/html/);
        expect(await page.text()).toMatch(/<h1>Welcome<\/h1>/);
        expect((await fetch(`http://127.0.0.1:${port}/static/style.css`)).status).toBe(200);
      } else {
        const doc = (await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).json()) as { openapi: string };
        expect(doc.openapi).toMatch(/^3\./);
        const created = await fetch(`http://127.0.0.1:${port}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x","quantity":1}' });
        expect(created.status).toBe(201);
      }
      expect(output).toContain(`listening on port ${port} (settings from ${configDir})`);
    } finally {
      child.kill('SIGTERM');
    }
  } else if (type === 'processing') {
    const r = run(join(prefix, 'bin', name), [], { ...opts, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(settings.output_dir as string, 'feed.txt.json'), 'utf8'))).toMatchObject({ words: 3 });
    expect(existsSync(settings.lock_file as string)).toBe(false);
  } else if (type === 'monitoring') {
    const plugin = join(prefix, 'bin', 'check_demo_monitoring');
    const ok = run(plugin, [], { ...opts, timeout: 60_000 });
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout.split('\n')[0]).toMatch(/^OK - [\d.]+% of \/ used \| used=[\d.]+%;100;100;0;100$/);
    const bad = run(plugin, ['--bogus'], { ...opts, timeout: 60_000 });
    expect(bad.status).toBe(3);
    expect(bad.stdout).toMatch(/^UNKNOWN - unknown option "--bogus"/);
  } else {
    // no database at this port: a clear one-line failure, exit 1 (checkMigrations migrates for real)
    const r = run(join(prefix, 'bin', `${name}-migrate`), [], { ...opts, timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${name}-migrate: .*ECONNREFUSED`));
  }
}

/** The PostgreSQL started by this file (as the test user), its migrating role, and SQL as either role. */
interface Postgres {
  port: number;
  /** Runs `command` in `db` with psql, as `postgres` or as the role the migrations run as; stdout trimmed. */
  sql: (db: string, command: string, as?: 'postgres' | 'owner') => string;
  /** Creates an empty database owned by the role, for one check's own first run. */
  createDatabase: (db: string) => void;
}

const PG_ROLE = 'demo_db_schema';
const PG_ROLE_PASSWORD = `it's "secret"`;

/**
 * Runs `migrate` (a <name>-migrate launcher) twice with KELKOO_CONFIG_DIR in `opts.env`, against the
 * empty database `db`: the first run applies 001 then 002, each recorded in schema_history; the
 * second exits 0, says up to date, and leaves the history rows (applied_at included) unchanged.
 */
function checkMigrations(pg: Postgres, migrate: string, db: string, opts: RunOptions): void {
  const first = run(migrate, [], { ...opts, timeout: 60_000 });
  expect(first.status, first.stdout + first.stderr).toBe(0);
  expect(first.stdout).toMatch(/applied 001-create-example\.sql\napplied 002-example-label-index\.sql\n/);
  expect(first.stdout).toContain(`${db}: 2 migration(s) applied`);
  const history = () => pg.sql(db, 'SELECT version, file FROM schema_history ORDER BY version', 'owner');
  const rows = () => pg.sql(db, 'SELECT version, file, applied_at FROM schema_history ORDER BY version', 'owner');
  expect(history()).toBe('1|001-create-example.sql\n2|002-example-label-index.sql');
  expect(pg.sql(db, "SELECT indexname FROM pg_indexes WHERE tablename = 'example' AND indexname = 'example_label'")).toBe('example_label');
  const before = rows();

  const second = run(migrate, [], { ...opts, timeout: 60_000 });
  expect(second.status, second.stdout + second.stderr).toBe(0);
  expect(second.stdout).toMatch(new RegExp(`^${db}: up to date$`, 'm'));
  expect(second.stdout).not.toMatch(/applied/);
  expect(rows()).toBe(before);
}

/** Single-quoted for sh. */
const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** `puppet apply` with its state under `dir` and `modulepath`, as a shell command line (the manifest to follow). */
function puppetApply(dir: string, modulepath: string): string {
  const pd = join(dir, 'puppet');
  for (const d of ['conf', 'var', 'code', 'log', 'run']) mkdirSync(join(pd, d), { recursive: true });
  return ['puppet', 'apply', '--color=false', '--detailed-exitcodes', `--confdir=${pd}/conf`, `--vardir=${pd}/var`, `--codedir=${pd}/code`, `--logdir=${pd}/log`, `--rundir=${pd}/run`, `--modulepath=${modulepath}`].map(sq).join(' ');
}

/**
 * Runs the bash `script` as root in a private mount namespace (unshare -m): what it mounts over
 * /etc, /opt or /usr/bin/systemctl is seen by it alone and gone when it exits. `vars` reach it as
 * environment variables.
 */
function inNamespace(script: string, vars: Record<string, string>) {
  return run('unshare', ['--mount', '--propagation', 'private', 'bash', '-eu', '-c', script], { env: vars, timeout: 600_000 });
}

const user = testUser();

if (user === 'missing') {
  describe('archetypes end to end', () => {
    it.skipIf(!systemTestsRequired)('needs the unprivileged user kpkgtest (yo will not run as root): .ci/run creates it', () => {
      throw new Error('no user kpkgtest (KPKG_SYSTEM_TESTS=required): useradd --create-home kpkgtest, as .ci/run does');
    });
  });
} else {
  describeWithTools(['npm', 'node', 'rpm2cpio', 'cpio'], 'archetypes end to end: yo 7 and kpkg new, npm install, npm test, kpkg build, run', () => {
    const asUser: RunOptions = user ? { uid: user.uid, gid: user.gid } : {};
    let work = '';
    let env: Record<string, string> = {};
    let kpkg = '';
    const built = new Map<Type, { dir: string; app: string }>();
    const roots = new Map<Type, InstallRoot>();

    const [initdb, pgCtl, psql] = [postgresTool('initdb'), postgresTool('pg_ctl'), postgresTool('psql')];
    const pgTools = [initdb, pgCtl, psql];
    let pgData = '';
    let postgres: Postgres | undefined;
    /** Starts PostgreSQL once for the file (initdb with scram-sha-256, as the test user) with the migrating role. */
    const startPostgres = async (): Promise<Postgres> => {
      if (postgres) return postgres;
      const pgDir = join(work, 'pg');
      mkdirSync(pgDir);
      writeFileSync(join(pgDir, 'pw'), 'superpass\n');
      chownTree(pgDir, user);
      const data = join(pgDir, 'data');
      const port = await freePort();
      runOk(initdb, ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${join(pgDir, 'pw')}`, '--no-sync'], { env, ...asUser, timeout: 120_000 });
      pgData = data;
      runOk(pgCtl, ['-D', data, '-w', '-t', '60', '-l', join(pgDir, 'log'), '-o', `-p ${port} -k ${pgDir} -c listen_addresses=127.0.0.1`, 'start'], { env, ...asUser, timeout: 120_000 });
      const sql = (db: string, command: string, as: 'postgres' | 'owner' = 'postgres') =>
        runOk(psql, ['-h', '127.0.0.1', '-p', String(port), '-U', as === 'postgres' ? 'postgres' : PG_ROLE, '-d', db, '-v', 'ON_ERROR_STOP=1', '-At', '-c', command], { env: { ...env, PGPASSWORD: as === 'postgres' ? 'superpass' : PG_ROLE_PASSWORD }, ...asUser, timeout: 60_000 }).stdout.trim();
      sql('postgres', `CREATE ROLE ${PG_ROLE} LOGIN PASSWORD '${PG_ROLE_PASSWORD.replace(/'/g, "''")}'`);
      postgres = { port, sql, createDatabase: (db) => void sql('postgres', `CREATE DATABASE ${db} OWNER ${PG_ROLE}`) };
      return postgres;
    };
    afterAll(() => {
      if (pgData) run(pgCtl, ['-D', pgData, '-m', 'immediate', 'stop'], { env, ...asUser, timeout: 60_000 });
    });

    beforeAll(() => {
      work = tmpDir('archetypes');
      const prefix = join(work, 'prefix');
      for (const d of ['home', 'cache', 'yo', 'new', 'prefix']) mkdirSync(join(work, d));
      // --ignore-scripts: test:system built dist/ already; no rebuild under other suites' feet
      runOk('npm', ['pack', ROOT, '--pack-destination', work, '--ignore-scripts', '--silent'], { cwd: work, timeout: 120_000 });
      const tarball = readdirSync(work).find((f) => /^generator-kelkoo-.*\.tgz$/.test(f));
      expect(tarball).toBeDefined();
      chownTree(work, user);
      env = {
        HOME: join(work, 'home'),
        PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`,
        npm_config_cache: join(work, 'cache'),
        npm_config_update_notifier: 'false',
        npm_config_fund: 'false',
        npm_config_audit: 'false',
        NO_UPDATE_NOTIFIER: '1',
      };
      // the README's install (one install: it compiles better-sqlite3, a minute or several on a loaded machine), with yo 7
      const cafile = '/etc/ssl/certs/ca-certificates.crt';
      runOk('npm', ['install', '--global', '--prefix', prefix, '--allow-scripts=better-sqlite3', ...(existsSync(cafile) ? ['--cafile', cafile] : []), join(work, tarball!), 'yo@7'], { cwd: work, env, ...asUser, timeout: 1_200_000 });
      kpkg = join(prefix, 'bin', 'kpkg');
      const help = runOk(kpkg, ['--help'], { cwd: work, env, ...asUser, timeout: 60_000 });
      expect(help.stdout).toMatch(/^Usage: kpkg /);
      expect(help.stdout).toMatch(/^ {2}new \[options\] <type> <name>/m);
      // better-sqlite3's install script ran: its native module opens a database
      const sqlite = join(prefix, 'lib', 'node_modules', 'generator-kelkoo', 'node_modules', 'better-sqlite3');
      const opened = runOk('node', ['-e', `const D = require(${JSON.stringify(sqlite)}); console.log(new D(':memory:').prepare('SELECT 41 + 1 AS x').get().x)`], { env, ...asUser, timeout: 60_000 });
      expect(opened.stdout.trim()).toBe('42');
      const generators = runOk('yo', ['--generators', '--no-insight'], { cwd: work, env, ...asUser, timeout: 60_000 }).stdout;
      for (const t of TYPES) expect(generators).toContain(t);
    }, 1_500_000);

    it('yo kelkoo (the menu) with --type and --defaults scaffolds that type', () => {
      runOk('yo', ['kelkoo', 'menu-pick', '--type', 'processing', '--defaults', '--no-insight'], { cwd: join(work, 'yo'), env, ...asUser, timeout: 120_000, input: '' });
      expect(JSON.parse(readFileSync(join(work, 'yo', 'menu-pick', 'component.json'), 'utf8'))).toMatchObject({ name: 'menu-pick', type: 'processing' });
    });

    describe.each(TYPES)('%s', (type) => {
      const name = `demo-${type}`;

      it('yo kelkoo:<type> and kpkg new <type> write the same component, as a non-root user with no terminal', () => {
        runOk('yo', [`kelkoo:${type}`, name, '--defaults', '--no-insight'], { cwd: join(work, 'yo'), env, ...asUser, timeout: 120_000, input: '' });
        runOk(kpkg, ['new', type, name, '--defaults'], { cwd: join(work, 'new'), env, ...asUser, timeout: 120_000, input: '' });
        const a = join(work, 'yo', name);
        const b = join(work, 'new', name);
        expect(files(a)).toEqual(files(b));
        for (const f of files(a)) expect(readFileSync(join(a, f), 'utf8'), f).toBe(readFileSync(join(b, f), 'utf8'));
        expect(files(a)).toEqual(expect.arrayContaining(['package.json', 'component.json', 'component.schema.json', 'README.md', '.gitignore', '.yo-rc.json', 'Jenkinsfile', '.github/workflows/ci.yml', 'eslint.config.js']));
        // $schema names a file that is there, with nothing installed
        const schema = (JSON.parse(readFileSync(join(b, 'component.json'), 'utf8')) as { $schema: string }).$schema;
        expect(existsSync(join(b, schema)), schema).toBe(true);
        // a fresh scaffold, dependencies not installed: said so, and no "tsc: not found"
        const fresh = run(kpkg, ['build'], { cwd: b, env, ...asUser, timeout: 120_000 });
        expect(fresh.status).toBe(1);
        expect(fresh.stderr).toBe(`kpkg: the dependencies of ${b} are not installed (no node_modules): run npm install (or npm ci) there first; --skip-build packages what is there without building\n`);
      });

      it('npm install, npm test and kpkg build succeed; the application RPM holds no devDependency', () => {
        const dir = join(work, 'yo', name);
        runOk('npm', ['install'], { cwd: dir, env, ...asUser, timeout: 600_000 });
        const test = runOk('npm', ['test'], { cwd: dir, env, ...asUser, timeout: 300_000 });
        expect(test.stdout).toMatch(/# fail 0/);
        expect(test.stdout).toContain('> eslint .');
        // left by an earlier build, its source long gone: the build kpkg runs empties dist/ first
        writeFileSync(join(dir, 'dist', 'src', 'removed.js'), 'export {};\n');
        chownTree(join(dir, 'dist'), user);
        const result = JSON.parse(runOk(kpkg, ['build', '--json'], { cwd: dir, env, ...asUser, timeout: 300_000 }).stdout) as { artifacts: { role: string; file: string }[] };
        const app = result.artifacts.find((x) => x.role === 'application')!.file;
        expect(result.artifacts.find((x) => x.role === 'deployment')?.file).toMatch(new RegExp(`${name}-deploy-0\\.1\\.0-1\\.noarch\\.rpm$`));
        const listing = runOk('sh', ['-c', 'rpm2cpio "$1" | cpio -t --quiet', 'sh', app], { timeout: 60_000 }).stdout;
        expect(listing).not.toMatch(/node_modules\/(typescript|@types)\//);
        expect(listing).toContain(`./opt/kelkoo/${name}/package.json`);
        if (type === 'db-schema') expect(listing).toContain(`./opt/kelkoo/${name}/node_modules/pg/package.json`);
        expect(listing).not.toContain('removed.js');
        built.set(type, { dir, app });
        const deploy = result.artifacts.find((x) => x.role === 'deployment')!.file;
        if (missingTools(['rpmlint']).length === 0) {
          const lint = run('rpmlint', [app, deploy], { timeout: 120_000 });
          const checks = [...lint.stdout.matchAll(/^\S+: [EW]: (\S+)/gm)].map((m) => m[1]);
          expect(checks.length, lint.stdout).toBeGreaterThan(0); // it did check something
          expect(checks, lint.stdout).not.toContain('description-line-too-long');
          expect(checks, lint.stdout).not.toContain('missing-dependency-to-crontabs');
        } else expect(systemTestsRequired, 'rpmlint').toBe(false);
        if (type === 'processing') expect(runOk('rpm', ['-qpR', app]).stdout.split('\n')).toContain('crontabs');
      });

      it('runs from the unpacked application RPM with KELKOO_CONFIG_DIR', async () => {
        const b = built.get(type);
        expect(b, 'built by the previous test').toBeDefined();
        const tree = join(work, `tree-${type}`);
        mkdirSync(tree);
        runOk('sh', ['-c', 'rpm2cpio "$1" | cpio -idm --quiet --no-absolute-filenames', 'sh', b!.app], { cwd: tree, timeout: 60_000 });
        const configDir = join(work, `config-${type}`);
        mkdirSync(configDir);
        const settings = await settingsFor(type, join(work, `run-${type}`));
        writeFileSync(join(configDir, 'config.json'), JSON.stringify(settings));
        chownTree(tree, user);
        chownTree(configDir, user);
        chownTree(join(work, `run-${type}`), user);
        await exercise(type, join(tree, 'opt', 'kelkoo', name), configDir, settings, { ...asUser, env: { ...env, KELKOO_CONFIG_DIR: configDir } });
      });
    });

    it("webapp: the GitHub Actions workflow's steps, run in order as on a push to main, test, build and publish", () => {
      const b = built.get('webapp');
      expect(b, 'built by the webapp tests above').toBeDefined();
      const workflow = parseYaml(readFileSync(join(b!.dir, '.github', 'workflows', 'ci.yml'), 'utf8')) as { jobs: { build: { steps: { name?: string; run?: string; if?: string }[] } } };
      // kpkg is installed already (the same command, from the same tarball, in beforeAll)
      const steps = workflow.jobs.build.steps.filter((st) => st.run !== undefined && st.name !== 'kpkg');
      expect(steps.map((st) => st.name)).toEqual(['Install', 'Test', 'Package', 'Publish']);
      const repo = join(work, 'ci-repo');
      mkdirSync(repo);
      chownTree(repo, user);
      for (const st of steps) {
        const r = run('sh', ['-ec', st.run!], { cwd: b!.dir, env: { ...env, KPKG_REPO: repo }, ...asUser, timeout: 600_000 });
        expect(r.status, `${st.name}: ${st.run}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`).toBe(0);
      }
      expect(readdirSync(join(repo, 'repodata'))).toContain('repomd.xml');
      expect(files(repo).filter((f) => f.endsWith('.rpm')).map((f) => f.split('/').pop()).sort()).toEqual(['demo-webapp-0.1.0-1.noarch.rpm', 'demo-webapp-deploy-0.1.0-1.noarch.rpm']);
    });

    describeWithTools(['dnf', 'createrepo_c', 'puppet'], 'dnf installs each deployment RPM into an empty root; puppet apply renders config.json; the installed files run with it', () => {
      let base = '';
      beforeAll(async () => {
        if (!canRunDnf) return;
        base = await writeBasePackage(tmpDir('archetypes-base'));
      });

      it('the deployment RPM requires Puppet: dnf refuses it on a system without', async () => {
        if (!canRunDnf) {
          expect(systemTestsRequired, 'dnf needs root to install into an installroot').toBe(false);
          return;
        }
        const b = built.get('webapp');
        expect(b, 'built by the tests above').toBeDefined();
        const deploy = b!.app.replace('demo-webapp-0.1.0-1.noarch.rpm', 'demo-webapp-deploy-0.1.0-1.noarch.rpm');
        expect(runOk('rpm', ['-qpR', deploy]).stdout.split('\n')).toContain('(puppet-agent or puppet)');
        const repo = new YumRepo();
        repo.add([await writeBasePackage(tmpDir('archetypes-base-nopuppet'), undefined, ['puppet-agent']), b!.app, deploy]);
        const refused = new InstallRoot(repo, 'archetype-nopuppet').dnf(['install', 'demo-webapp-deploy']);
        expect(refused.status).not.toBe(0);
        expect(refused.stdout + refused.stderr).toMatch(/nothing provides \(puppet-agent or puppet\) needed by demo-webapp-deploy-0\.1\.0-1/);
      });

      it.each(TYPES)('%s', async (type) => {
        if (!canRunDnf) {
          expect(systemTestsRequired, 'dnf needs root to install into an installroot').toBe(false);
          return;
        }
        const b = built.get(type);
        expect(b, 'built by the tests above').toBeDefined();
        const name = `demo-${type}`;
        const module = name.replace(/-/g, '_');
        const deploy = b!.app.replace(`${name}-0.1.0-1.noarch.rpm`, `${name}-deploy-0.1.0-1.noarch.rpm`);
        const repo = new YumRepo();
        repo.add([base, b!.app, deploy]);
        const root = new InstallRoot(repo, `archetype-${type}`);
        root.install(`${name}-deploy`);
        expect(root.installed()).toEqual(expect.arrayContaining([`${name}-0.1.0-1.noarch`, `${name}-deploy-0.1.0-1.noarch`]));
        roots.set(type, root);
        if (type === 'processing') {
          // the batch's default directories exist, its user's (rpm records the owner; the %pre that creates the user does not run here)
          const listing = root.rpm(['-q', '--qf', '[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILENAMES}\\n]', name]).stdout.split('\n');
          for (const d of ['', '/input', '/output']) expect(listing, listing.join('\n')).toContain(`drwxr-x--- ${name} ${name} /var/lib/kelkoo/${name}${d}`);
          expect(root.rpm(['-qR', name]).stdout.split('\n')).toContain('crontabs');
        }

        let settings: Record<string, string | number>;
        let pg: Postgres | undefined;
        if (type === 'db-schema') {
          const missing = missingTools(pgTools);
          if (missing.length > 0) {
            expect(systemTestsRequired, `the installed db-schema migrates a real PostgreSQL: missing ${missing.join(', ')}`).toBe(false);
            console.warn(`skipping the installed db-schema: missing ${missing.join(', ')}`);
            return;
          }
          pg = await startPostgres();
          pg.createDatabase('demo_db_schema_installed');
          // every connection key as a class parameter, the password a plain string (the module makes it Sensitive)
          settings = { db_host: '127.0.0.1', db_port: pg.port, db_name: 'demo_db_schema_installed', db_user: PG_ROLE, db_password: PG_ROLE_PASSWORD };
        } else {
          settings = await settingsFor(type, tmpDir(`archetype-run-${type}`));
        }
        const configDir = join(tmpDir(`archetype-config-${type}`), 'etc');
        const params = Object.entries(settings).map(([k, v]) => `${k} => ${typeof v === 'string' ? `'${v.replace(/[\\']/g, (c) => `\\${c}`)}'` : String(v)}`);
        const nrpeDir = tmpDir(`archetype-nrpe-${type}`);
        if (type === 'monitoring') params.push(`nrpe_config_dir => '${nrpeDir}'`);
        // the migrations left to a person: the checks below run them (the exec is shown in its own test)
        if (type === 'db-schema') params.push('manage_migrations => false');
        const manifest = `class { '${module}': config_dir => '${configDir}', manage_service => false, manage_user => false, ${params.join(', ')} }`;
        const pd = tmpDir('archetype-puppet');
        for (const d of ['conf', 'var', 'code', 'log', 'run']) mkdirSync(join(pd, d));
        const applied = run('puppet', ['apply', '--color=false', `--confdir=${pd}/conf`, `--vardir=${pd}/var`, `--codedir=${pd}/code`, `--logdir=${pd}/log`, `--rundir=${pd}/run`, `--modulepath=${root.path('/etc/puppetlabs/code/modules')}`, '--detailed-exitcodes', '-e', manifest], { timeout: 180_000 });
        const errors = `${applied.stdout}\n${applied.stderr}`.split('\n').filter((l) => /^Error: /.test(l) && !/^Error: Facter: /.test(l));
        expect([0, 2], `${manifest}\n${errors.join('\n')}\n${applied.stderr.slice(-3000)}`).toContain(applied.status);
        expect(errors).toEqual([]);
        const rendered = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as Record<string, unknown>;
        expect(rendered).toMatchObject(settings);
        if (type === 'monitoring') {
          // the NRPE command runs the plugin where the application package links it
          expect(readFileSync(join(nrpeDir, `${name}.cfg`), 'utf8')).toMatch(/^command\[check_demo_monitoring\]=.*\/usr\/lib64\/nagios\/plugins\/check_demo_monitoring$/m);
          expect(readlinkSync(root.path('/usr/lib64/nagios/plugins/check_demo_monitoring'))).toBe('/opt/kelkoo/demo-monitoring/bin/check_demo_monitoring');
        }
        // as root: the installed files belong to root, and only yo minds being root
        if (pg) {
          // the installed launcher, under the install root: it finds its tree from its own location
          checkMigrations(pg, root.path(`/opt/kelkoo/${name}/bin/${name}-migrate`), settings.db_name as string, { env: { ...env, KELKOO_CONFIG_DIR: configDir } });
        } else {
          await exercise(type, root.path(`/opt/kelkoo/${name}`), configDir, settings, { env: { ...env, KELKOO_CONFIG_DIR: configDir } });
        }
      });
    });

    describeWithTools(['unshare', 'setpriv', 'puppet', 'dnf'], 'the installed modules applied as on a server, in a private mount namespace', () => {
      it('monitoring: config_dir readable by NRPE; NRPE reloaded once when its command changes; the command runs as nrpe, outside the group', () => {
        const root = roots.get('monitoring');
        if (!root) {
          expect(systemTestsRequired && canRunDnf, 'installed by the dnf tests above').toBe(false);
          return;
        }
        const t = tmpDir('archetype-nrpe-server');
        mkdirSync(join(t, 'nrpe.d'));
        // the unprivileged nrpe reaches the plugin link through the install root
        chmodSync(dirname(root.root), 0o755);
        const manifest = `class { 'demo_monitoring': nrpe_config_dir => '${t}/nrpe.d', warning => 100, critical => 100 }`;
        const r = inNamespace(
          `cp -a /etc "$T/etc"; mount --bind "$T/etc" /etc
mount --bind "$ROOT/opt" /opt
# what the application package made (its configuration directory), as on the server
cp -a "$ROOT/etc/kelkoo" /etc/kelkoo
printf '#!/bin/sh\\necho "$*" >> %s\\n' "$T/systemctl.log" > "$T/systemctl"; chmod 755 "$T/systemctl"
mount --bind "$T/systemctl" /usr/bin/systemctl
id nrpe >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin nrpe
set +e
${puppetApply(t, root.path('/etc/puppetlabs/code/modules'))} -e "$MANIFEST"; echo "apply1=$?"
echo "reloads1=$(wc -l < "$T/systemctl.log") $(cat "$T/systemctl.log")"
${puppetApply(t, root.path('/etc/puppetlabs/code/modules'))} -e "$MANIFEST"; echo "apply2=$?"
echo "reloads2=$(wc -l < "$T/systemctl.log")"
stat -c 'configdir=%a %U %G' /etc/kelkoo/demo-monitoring
stat -c 'configfile=%a %U %G' /etc/kelkoo/demo-monitoring/config.json
echo "groups=$(id -Gn nrpe)"
cmd=$(grep '^command' "$T/nrpe.d/demo-monitoring.cfg" | cut -d= -f2-)
echo "cmd=$cmd"
P=/usr/lib64/nagios/plugins/; cmd=\${cmd//$P/$ROOT$P}
out=$(cd / && setpriv --reuid=nrpe --regid=nrpe --init-groups env -i PATH=/usr/bin:/bin sh -c "$cmd" 2>&1); echo "plugin=$? $out"`,
          { T: t, ROOT: root.root, MANIFEST: manifest },
        );
        const value = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(r.stdout)?.[1];
        const context = `${r.stdout.slice(-4000)}\n${r.stderr.slice(-3000)}`;
        expect(value('apply1'), context).toBe('2');
        expect(value('reloads1'), context).toBe('1 try-reload-or-restart nrpe');
        expect(value('apply2'), context).toBe('0'); // nothing changed: no reload
        expect(value('reloads2'), context).toBe('1');
        expect(value('configdir')).toBe('755 root demo-monitoring');
        expect(value('configfile')).toBe('644 root demo-monitoring');
        expect(value('groups')?.split(' ')).not.toContain('demo-monitoring');
        expect(value('cmd')).toBe('/usr/bin/env KELKOO_CONFIG_DIR=/etc/kelkoo/demo-monitoring /usr/lib64/nagios/plugins/check_demo_monitoring');
        // thresholds of 100 come from config.json (the archetype's defaults are 90 and 95)
        expect(value('plugin'), context).toMatch(/^0 OK - [\d.]+% of \/ used \| used=[\d.]+%;100;100;0;100$/);
      });

      it('db-schema: the exec runs the pending migrations once; a second apply changes nothing; manage_migrations => false leaves them', async () => {
        const root = roots.get('db-schema');
        const missing = missingTools(pgTools);
        if (!root || missing.length > 0) {
          expect(systemTestsRequired && canRunDnf, `installed by the dnf tests above, and PostgreSQL (missing: ${missing.join(', ')})`).toBe(false);
          return;
        }
        const pg = await startPostgres();
        pg.createDatabase('demo_db_schema_exec');
        pg.createDatabase('demo_db_schema_manual');
        const t = tmpDir('archetype-db-server');
        const klass = (db: string, extra: string) =>
          `class { 'demo_db_schema': config_dir => '${t}/${db}', manage_service => false, manage_user => false, db_host => '127.0.0.1', db_port => ${pg.port}, db_name => '${db}', db_user => '${PG_ROLE}', db_password => '${PG_ROLE_PASSWORD.replace(/[\\']/g, (c) => `\\${c}`)}'${extra} }`;
        const apply = puppetApply(t, root.path('/etc/puppetlabs/code/modules'));
        const r = inNamespace(
          `mount --bind "$ROOT/opt" /opt
set +e
${apply} -e "$M1"; echo "apply1=$?"
${apply} -e "$M1"; echo "apply2=$?"
${apply} -e "$M2"; echo "apply3=$?"`,
          { T: t, ROOT: root.root, M1: klass('demo_db_schema_exec', ''), M2: klass('demo_db_schema_manual', ', manage_migrations => false') },
        );
        const value = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(r.stdout)?.[1];
        const context = `${r.stdout.slice(-4000)}\n${r.stderr.slice(-3000)}`;
        expect(value('apply1'), context).toBe('2');
        expect(r.stdout).toMatch(/Exec\[demo_db_schema: migrate\]\/returns: applied 001-create-example\.sql/);
        expect(pg.sql('demo_db_schema_exec', 'SELECT version, file FROM schema_history ORDER BY version', 'owner')).toBe('1|001-create-example.sql\n2|002-example-label-index.sql');
        expect(value('apply2'), context).toBe('0'); // --check found nothing pending: no change at all
        expect(value('apply3'), context).toBe('2'); // config.json written, nothing migrated
        expect(pg.sql('demo_db_schema_manual', "SELECT coalesce(to_regclass('schema_history')::text, 'none')", 'owner')).toBe('none');
        expect(r.stdout + r.stderr).not.toContain(PG_ROLE_PASSWORD);
      });
    });

    describeWithTools(pgTools, 'db-schema against a real PostgreSQL', () => {
      it('<name>-migrate of the unpacked RPM applies the migrations in order, each recorded in the history table; a second run changes nothing', async () => {
        const b = built.get('db-schema');
        expect(b, 'built by the db-schema tests above').toBeDefined();
        const name = 'demo-db-schema';
        const pg = await startPostgres();
        pg.createDatabase('demo_db_schema');
        const configDir = join(work, 'config-db-schema-pg');
        mkdirSync(configDir);
        // as Puppet renders it: every key, the password in clear inside the 0640 file
        writeFileSync(join(configDir, 'config.json'), JSON.stringify({ db_host: '127.0.0.1', db_port: pg.port, db_name: 'demo_db_schema', db_user: PG_ROLE, db_password: PG_ROLE_PASSWORD }));
        chownTree(configDir, user);
        checkMigrations(pg, join(work, 'tree-db-schema', 'opt', 'kelkoo', name, 'bin', `${name}-migrate`), 'demo_db_schema', { env: { ...env, KELKOO_CONFIG_DIR: configDir }, ...asUser });
      });
    });
  });
}
