// `punch apply` over a repository served on https by a CA of its own (test/fixtures/tls): the CA
// file given by --ca-file, or punch.conf's ca_file, is what dnf and Punch's preflight trust; without
// it, the run stops before anything changes. Also the cache of the repository's primary
// (var/lib/punch/cache/repos): kept after a run, not trusted once the repository changes, and a
// damaged one is read again from the repository.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { serveDirectory, type TestServer } from '../unit/repo/http-server.js';
import { describeAsRoot, writeBasePackage, YumRepo } from './helpers/dnf.js';
import { buildComponent, exited, PunchRoot, TOOLS, writeNodeFile } from './helpers/punch.js';
import { REPO_ROOT } from './helpers/components.js';
import { tmpDir } from './tools.js';

const TLS = join(REPO_ROOT, 'test', 'fixtures', 'tls');
const CA = join(TLS, 'localhost.crt');

describeAsRoot(TOOLS, 'punch apply from a repository on https', () => {
  let repo: YumRepo;
  let server: TestServer;
  let files: string;
  let out: string;

  beforeAll(async () => {
    out = join(tmpDir('punch-builds'), 'target');
    const built = buildComponent('alpha', '1.0.0', out);
    repo = new YumRepo();
    repo.add([built.app, built.deploy, await writeBasePackage(tmpDir('base'))]);
    server = await serveDirectory(repo.dir, undefined, { key: readFileSync(join(TLS, 'localhost.key'), 'utf8'), cert: readFileSync(CA, 'utf8') });
    files = tmpDir('punch-files');
  });

  afterAll(async () => {
    await server.close();
  });

  /** A per-server file whose repository is the https server. */
  function httpsFile(name: string, evr: string): string {
    const path = writeNodeFile(files, name, { classes: { alpha: { greeting: 'over https' } }, packages: { 'alpha-deploy': evr }, repo: repo.dir });
    const data = parse(readFileSync(path, 'utf8')) as { kelkoo: { repositories: { baseurl: string }[] } };
    data.kelkoo.repositories[0]!.baseurl = `${server.url}/`;
    writeFileSync(path, stringify(data));
    return path;
  }

  it('without the CA: exit 1 naming the repository, nothing changed', async () => {
    const root = new PunchRoot('https-no-ca');
    const res = await exited(root.spawnPunch(['apply', httpsFile('no-ca.yaml', '1.0.0-1')]));
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/cannot read the repository test \(https:\/\/127\.0\.0\.1:\d+\/\).*certificate.*nothing was changed/);
    expect(root.installed()).toEqual([]);
  });

  it('with --ca-file: installs; primary is fetched again only when the repository changed or its cache is damaged', async () => {
    const root = new PunchRoot('https-ca');
    const f = httpsFile('ca.yaml', '1.0.0-1');
    const first = await exited(root.spawnPunch(['apply', f, '--ca-file', CA]));
    expect(first.code, first.stderr).toBe(0);
    expect(root.installed()).toContain('alpha-deploy-1.0.0-1');
    expect(root.config('alpha')).toMatchObject({ greeting: 'over https' });
    expect(readFileSync(root.path('var/lib/punch/dnf/repos.d/punch.repo'), 'utf8')).toContain(`sslcacert=${CA}`);
    const cached = readdirSync(root.path('var/lib/punch/cache/repos'));
    expect(cached).toHaveLength(1);

    // the repository changes (alpha 2.0.0 published): the cache is not trusted, the new version is found
    const primaries = () => server.requests.filter((p) => /primary\.xml/.test(p)).length;
    const before = primaries();
    const v2 = buildComponent('alpha', '2.0.0', out);
    repo.add([v2.app, v2.deploy]);
    const upgrade = await exited(root.spawnPunch(['plan', httpsFile('v2.yaml', '2.0.0-1'), '--ca-file', CA, '--json']));
    expect(upgrade.code, upgrade.stderr).toBe(0);
    expect((JSON.parse(upgrade.stdout) as { packages: { changes: unknown[] } }).packages.changes).toEqual([{ action: 'upgrade', name: 'alpha-deploy', from: '1.0.0-1', to: '2.0.0-1' }]);
    expect(primaries()).toBe(before + 1);

    // the same plan again: primary is not fetched again, the cache answers
    const again = await exited(root.spawnPunch(['plan', httpsFile('v2.yaml', '2.0.0-1'), '--ca-file', CA, '--json']));
    expect(again.code, again.stderr).toBe(0);
    expect(primaries()).toBe(before + 1);

    // a damaged cache file is read again from the repository
    const cacheFile = root.path(`var/lib/punch/cache/repos/${cached[0]!}`);
    writeFileSync(cacheFile, '{"format":1,"packages":[');
    const damaged = await exited(root.spawnPunch(['plan', httpsFile('v2.yaml', '2.0.0-1'), '--ca-file', CA, '--json']));
    expect(damaged.code, damaged.stderr).toBe(0);
    expect(primaries()).toBe(before + 2);
    expect(() => JSON.parse(readFileSync(cacheFile, 'utf8')) as unknown).not.toThrow();
  });

  it("with punch.conf's ca_file: the same trust restore gives the repositories", async () => {
    const root = new PunchRoot('https-conf');
    mkdirSync(root.path('etc/punch'), { recursive: true });
    writeFileSync(root.path('etc/punch/punch.conf'), `ca_file = ${CA}\n`);
    const res = await exited(root.spawnPunch(['apply', httpsFile('conf.yaml', '1.0.0-1')]));
    expect(res.code, res.stderr).toBe(0);
    expect(root.installed()).toContain('alpha-deploy-1.0.0-1');
  });
});
