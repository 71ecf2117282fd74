// The web UI under test: the real server (buildServer) over a real service on a temporary SQLite
// data directory, its catalog holding a deployment package built by kpkg's build(), and a small
// cookie-keeping client over fastify's inject.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { build } from '../../../packager/assemble/build.js';
import { readDeploymentDescription, setRepositoryPackages, storePackage } from '../../../geppetto/service/catalog.js';
import { cliPrincipal, openGeppetto, type Geppetto, type Role } from '../../../geppetto/service/index.js';
import { buildServer } from '../../../geppetto/web/server.js';

export const admin = cliPrincipal();
export const PASSWORD = 'a long enough password';
export const REPO = { id: 'kelkoo', baseurl: 'file:///srv/yum/kelkoo' };

/** shop-deploy-1.4.0-1: listen_port (Integer), banner (String), catalog_url (String, no default), db_password (secret). */
export async function buildShop(work: string): Promise<{ file: string; bytes: Buffer }> {
  const dir = join(work, 'shop');
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'index.js'), 'console.log("shop");\n');
  const keys = {
    listen_port: { type: 'Integer', default: 8080 },
    banner: { type: 'String', default: 'Welcome', description: 'shown on the front page' },
    catalog_url: { type: 'String', description: 'where the catalog API is' },
    db_password: { type: 'String', secret: true },
  };
  writeFileSync(join(dir, 'component.json'), JSON.stringify({ name: 'shop', version: '1.4.0', type: 'webapp', summary: 'shop', license: 'Apache-2.0', files: [{ src: 'dist', dest: 'lib' }], config: { keys } }));
  const result = await build({ dir, skipBuild: true });
  const deployment = result.artifacts.find((a) => a.role === 'deployment');
  if (!deployment) throw new Error('no deployment package');
  return { file: deployment.file, bytes: readFileSync(deployment.file) };
}

/** Stores a deployment package in the catalog as `geppetto repo refresh` does after reading the repository. */
export async function putInCatalog(g: Geppetto, pkg: { file: string; bytes: Buffer }): Promise<void> {
  const now = new Date().toISOString();
  const checksum = `sha256:${createHash('sha256').update(pkg.bytes).digest('hex')}`;
  await storePackage(g.db, checksum, { name: 'shop-deploy', evr: '1.4.0-1' }, await readDeploymentDescription(pkg.bytes, pkg.file), now);
  await setRepositoryPackages(g.db, REPO, [checksum], now);
}

/** The database password the state file gives (import seals it). */
export const IMPORTED_SECRET = 'imported-Pa55word-value';

export const STATE = `
repositories: [{ id: kelkoo, baseurl: "file:///srv/yum/kelkoo" }]
global: { settings: {} }
environments:
  production: { settings: {} }
roles:
  base: { parents: [], components: { shop: "1.4.0-1" }, settings: { "shop.catalog_url": "http://catalog", "shop.db_password": "${IMPORTED_SECRET}" } }
servers:
  web01.example.com: { environment: production, roles: [base], settings: {} }
  web02.example.com: { environment: production, roles: [base], settings: {} }
`;

export interface Fixture {
  g: Geppetto;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function openFixture(dataDir: string, pkg: { file: string; bytes: Buffer }): Promise<Fixture> {
  const g = await openGeppetto({ dataDir, scryptCost: { N: 1024, r: 8, p: 1 } });
  await putInCatalog(g, pkg);
  await g.importState(admin, STATE);
  for (const [name, role] of [['ada', 'admin'], ['eddie', 'editor'], ['vic', 'viewer']] as [string, Role][]) await g.addUser(admin, name, PASSWORD, role);
  const app = await buildServer(g, { logger: false });
  await app.ready();
  return {
    g,
    app,
    async close() {
      await app.close();
      await g.close();
    },
  };
}

/** A browser's worth of state: its cookies, and the CSRF token of the last page it read. */
/**
 * Registers the hooks of a UI test file: a temporary root, the shop package built once in it, the
 * root removed at the end. The function returned opens a new fixture (its own data directory) each
 * time it is called.
 */
export function uiFixtures(prefix: string): (name?: string) => Promise<Fixture> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  let pkg: { file: string; bytes: Buffer } | undefined;
  let n = 0;
  beforeAll(async () => {
    pkg = await buildShop(join(root, 'pkg'));
  }, 120_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return (name = `d${n++}`) => {
    if (!pkg) throw new Error('uiFixtures: the package is built in beforeAll; open fixtures from tests or later hooks');
    return openFixture(join(root, name), pkg);
  };
}

export class Client {
  cookies = new Map<string, string>();
  csrf = '';
  constructor(private readonly app: FastifyInstance) {}

  private remember(res: LightMyRequestResponse): LightMyRequestResponse {
    for (const c of res.cookies) {
      if (c.value === '' || (c.expires !== undefined && c.expires.getTime() < Date.now())) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    const m = /name="_csrf" value="([^"]+)"/.exec(res.body);
    if (m?.[1]) this.csrf = m[1];
    return res;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.remember(await this.app.inject({ method: 'GET', url, headers: { cookie: this.cookieHeader(), ...headers } }));
  }

  /** A form POST; the CSRF token of the last page read is added unless `_csrf` is given. */
  async post(url: string, form: Record<string, string>, options: { csrf?: boolean } = {}): Promise<LightMyRequestResponse> {
    const fields = options.csrf === false ? form : { _csrf: this.csrf, ...form };
    return this.remember(
      await this.app.inject({ method: 'POST', url, headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() }),
    );
  }

  async login(name: string, password = PASSWORD): Promise<LightMyRequestResponse> {
    await this.get('/login');
    const res = await this.post('/login', { name, password, next: '/' }, { csrf: false });
    await this.get('/');
    return res;
  }
}
