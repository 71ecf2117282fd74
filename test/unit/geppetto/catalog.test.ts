// The catalog read from a yum repository made by kpkg publish: deployment packages found by their
// capability, their kelkoo.json read once per checksum, unreadable packages named and left out.
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish } from '../../../packager/repo/publish.js';
import { openGeppetto, type Geppetto } from '../../../geppetto/service/index.js';
import { buildDeployment, standardPackages, type BuiltDeployment } from './catalog-fixture.js';
import { admin } from './store-suite.js';

const root = mkdtempSync(join(tmpdir(), 'geppetto-catalog-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let packages: BuiltDeployment[] = [];
beforeAll(async () => {
  packages = await standardPackages(join(root, 'build'));
});

async function withRepository(name: string, files: string[]): Promise<{ g: Geppetto; repo: string }> {
  const repo = join(root, name);
  await publish(files, repo);
  const g = await openGeppetto({ dataDir: join(root, `${name}-data`) });
  await g.importState(admin, `repositories: [{ id: kelkoo, baseurl: "${pathToFileURL(repo).href}" }]\n`);
  return { g, repo };
}

/** Every RPM kpkg build wrote beside a deployment package: the application RPMs too. */
const allRpms = (p: BuiltDeployment) => readdirSync(join(p.file, '..')).filter((f) => f.endsWith('.rpm')).map((f) => join(p.file, '..', f));

describe('geppetto repo refresh on a repository made by kpkg publish', () => {
  it('finds the deployment packages (not the applications), reads each once, keeps their typed keys', async () => {
    const { g } = await withRepository('repo', packages.flatMap(allRpms));
    const first = await g.refreshCatalog(admin);
    expect(first.repositories).toEqual([{ id: 'kelkoo', packages: 3, read: 3, errors: [] }]);
    const catalog = await g.catalog();
    expect(Object.keys(catalog.components).sort()).toEqual(['cache', 'shop']);
    expect(Object.keys(catalog.components.shop ?? {}).sort()).toEqual(['1.4.0-1', '1.5.0-1']);
    const shop = catalog.components.shop?.['1.4.0-1'];
    expect(shop).toMatchObject({ component: 'shop', evr: '1.4.0-1', package: 'shop-deploy', class: 'shop', repository: 'kelkoo' });
    expect(shop?.parameters.find((p) => p.name === 'db_password')).toEqual({ name: 'db_password', type: 'String', secret: true });
    expect(shop?.parameters.find((p) => p.name === 'listen_port')).toMatchObject({ type: 'Integer', default: 8080, secret: false });
    expect(shop?.parameters.find((p) => p.name === 'config_dir')).toMatchObject({ builtin: true });
    // again: nothing new to read
    expect((await g.refreshCatalog(admin)).repositories[0]).toMatchObject({ packages: 3, read: 0 });
    await g.close();
  });

  it('a new version is read alone; a package whose bytes differ from the metadata is named and left out', async () => {
    const { g, repo } = await withRepository('repo2', packages.map((p) => p.file));
    await g.refreshCatalog(admin);
    const next = await buildDeployment(join(root, 'build2'), 'shop', '1.6.0', { listen_port: { type: 'Integer', default: 8081 } });
    const broken = await buildDeployment(join(root, 'build3'), 'cache', '2.1.0', { size_mb: { type: 'Integer', default: 64 } });
    await publish([next.file, broken.file], repo);
    const victim = readdirSync(repo, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('cache-deploy-2.1.0-1.noarch.rpm'));
    expect(victim).toBeDefined();
    appendFileSync(join(repo, victim ?? ''), 'tampered');
    const r = await g.refreshCatalog(admin);
    expect(r.repositories[0]).toMatchObject({ packages: 5, read: 1 });
    expect(r.repositories[0]?.errors).toEqual([expect.stringMatching(/cache-deploy-2\.1\.0-1\.noarch\.rpm.*(size|bytes|sha256)/)]);
    const catalog = await g.catalog();
    expect(Object.keys(catalog.components.shop ?? {}).sort()).toEqual(['1.4.0-1', '1.5.0-1', '1.6.0-1']);
    expect(Object.keys(catalog.components.cache ?? {})).toEqual(['2.0.0-1']);
    await g.close();
  });

  it('an unreachable repository is reported; the catalog keeps what it had', async () => {
    const { g, repo } = await withRepository('repo3', packages.map((p) => p.file));
    await g.refreshCatalog(admin);
    rmSync(join(repo, 'repodata'), { recursive: true });
    const r = await g.refreshCatalog(admin);
    expect(r.repositories[0]?.errors).toEqual([expect.stringMatching(/repomd\.xml/)]);
    expect(Object.keys((await g.catalog()).components).sort()).toEqual(['cache', 'shop']);
    await g.close();
  });
});
