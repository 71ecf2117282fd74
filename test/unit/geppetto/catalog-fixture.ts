// Real deployment packages for Geppetto's tests: components built by `kpkg build` (the packager's
// build(), --skip-build), their kelkoo.json read back by the catalog's reader and stored as a
// refresh stores them.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from '../../../packager/assemble/build.js';
import { readDeploymentDescription, setRepositoryPackages, storePackage } from '../../../geppetto/service/catalog.js';
import type { Geppetto } from '../../../geppetto/service/index.js';

export interface KeySpec {
  type: string;
  default?: unknown;
  secret?: boolean;
  description?: string;
}

export interface BuiltDeployment {
  component: string;
  evr: string;
  file: string;
  bytes: Buffer;
}

/** Builds `<name>-deploy-<version>-1.noarch.rpm` for a webapp with these configuration keys. */
export async function buildDeployment(work: string, name: string, version: string, keys: Record<string, KeySpec>): Promise<BuiltDeployment> {
  const dir = join(work, `${name}-${version}`);
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'index.js'), 'console.log("hello");\n');
  writeFileSync(
    join(dir, 'component.json'),
    JSON.stringify({ name, version, type: 'webapp', summary: `${name} for tests`, license: 'Apache-2.0', files: [{ src: 'dist', dest: 'lib' }], config: { keys } }, null, 2),
  );
  const result = await build({ dir, skipBuild: true });
  const deployment = result.artifacts.find((a) => a.role === 'deployment');
  if (!deployment) throw new Error(`no deployment package built for ${name}`);
  return { component: name, evr: `${result.version}-${result.release}`, file: deployment.file, bytes: readFileSync(deployment.file) };
}

/** Puts packages into the catalog of repository `id` as `geppetto repo refresh` would. */
export async function putInCatalog(g: Geppetto, repo: { id: string; baseurl: string }, packages: BuiltDeployment[]): Promise<void> {
  const now = new Date().toISOString();
  const checksums: string[] = [];
  for (const p of packages) {
    const checksum = `sha256:${createHash('sha256').update(p.bytes).digest('hex')}`;
    const description = await readDeploymentDescription(p.bytes, p.file);
    await storePackage(g.db, checksum, { name: `${p.component}-deploy`, evr: p.evr }, description, now);
    checksums.push(checksum);
  }
  await setRepositoryPackages(g.db, repo, checksums, now);
}

/** The components the service tests use: shop at two versions, cache. */
export async function standardPackages(work: string): Promise<BuiltDeployment[]> {
  const shopKeys: Record<string, KeySpec> = {
    listen_port: { type: 'Integer', default: 8080 },
    banner: { type: 'String', default: 'Welcome' },
    catalog_url: { type: 'String', description: 'where the catalog API is' },
    db_password: { type: 'String', secret: true },
  };
  return [
    await buildDeployment(work, 'shop', '1.4.0', shopKeys),
    await buildDeployment(work, 'shop', '1.5.0', { ...shopKeys, catalog_url: { type: 'String', default: 'http://catalog' } }),
    await buildDeployment(work, 'cache', '2.0.0', { size_mb: { type: 'Integer', default: 64 } }),
  ];
}
