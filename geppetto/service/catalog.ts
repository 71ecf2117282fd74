/**
 * The catalog: what the repositories offer. A refresh reads each repository's metadata, keeps the
 * packages that provide `kelkoo-deployment`, and reads the class description (kelkoo.json) of
 * those it has not read before: packages are immutable, so one read per checksum is enough.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { KpkgError } from '../../packager/errors.js';
import { walkPayload } from '../../packager/rpm/payload-reader.js';
import { bufferSource, packageInfo, readRpmFrom } from '../../packager/rpm/reader.js';
import type { Catalog, ComponentVersion, ParameterDefinition, RepositoryDefinition, State, Value } from '../model.js';
import { RoleGraph } from '../resolve/graph.js';
import { compareStrings } from '../resolve/keys.js';
import type { Database } from '../store/index.js';
import { entryEVR, openRepositoryPackage, readRepositoryMetadata, type RepoPackageEntry } from './engine.js';

export const DEPLOYMENT_CAPABILITY = 'kelkoo-deployment';
const DESCRIPTION_PATH = /^\.?\/?etc\/puppetlabs\/code\/modules\/([a-z][a-z0-9_]*)\/kelkoo\.json$/;
const MAX_DESCRIPTION = 4 << 20;

/** What reading the repositories found, repository by repository. */
export interface RepositoriesRead {
  repositories: {
    id: string;
    /** Deployment packages the repository holds. */
    packages: number;
    /** Of those, how many were downloaded and read now (the others were known by checksum). */
    read: number;
    /** Packages that could not be read, each named; they are left out of the catalog. */
    errors: string[];
  }[];
}

/** What a deployment package tells of itself, as stored. */
interface StoredDescription {
  package: string;
  class: string;
  parameters: ParameterDefinition[];
}

/** The catalog of the state's repositories, from what the last refresh stored. */
export async function readCatalog(db: Kysely<Database>, state: Pick<State, 'repositories'>): Promise<Catalog> {
  const catalog: Catalog = { components: {} };
  const repos = await db.selectFrom('catalog_repositories').selectAll().execute();
  const byId = new Map(repos.map((r) => [r.repository, r]));
  const wanted = new Map<string, string>();
  for (const repo of state.repositories) {
    const row = byId.get(repo.id);
    if (!row || row.baseurl !== repo.baseurl) continue;
    for (const checksum of JSON.parse(row.checksums) as string[]) if (!wanted.has(checksum)) wanted.set(checksum, repo.id);
  }
  const checksums = [...wanted.keys()];
  for (let i = 0; i < checksums.length; i += 500) {
    const rows = await db.selectFrom('catalog_packages').selectAll().where('checksum', 'in', checksums.slice(i, i + 500)).execute();
    for (const row of rows) {
      const d = JSON.parse(row.description) as StoredDescription;
      const versions = (catalog.components[row.component] ??= {});
      const repository = wanted.get(row.checksum) ?? '';
      const existing = versions[row.evr];
      // the first repository listed wins, as dnf's priority order would
      if (existing && state.repositories.findIndex((r) => r.id === existing.repository) <= state.repositories.findIndex((r) => r.id === repository)) continue;
      versions[row.evr] = { component: row.component, evr: row.evr, package: d.package, class: d.class, parameters: d.parameters, repository } satisfies ComponentVersion;
    }
  }
  return catalog;
}

/**
 * What a catalog change does to the published files. The files were built from the catalog as it
 * was at the last publish (`catalog_published`: a digest of every component version then); a
 * refresh since may have removed a version, or replaced one (a package rebuilt at the same
 * version-release, or found first in another repository) with other keys, types or defaults.
 * The servers whose roles pin such a version must be resolved again by the next preview and
 * publish, whatever the changeset edits: their file changes, or they have a problem to show (a
 * pinned version gone from the repositories).
 */
export interface CatalogChange {
  /** `component@evr` of the versions that are new, changed or gone since the last publish. */
  versions: string[];
  /** The servers of the state whose roles (or their ancestors) pin one of those versions. */
  servers: string[];
  /** Of those versions, the ones a role pins: `changed` (rebuilt, or from another repository) or `removed`. */
  pinned: { component: string; evr: string; change: 'changed' | 'removed' }[];
  /** The digests to record once the files are published from this catalog. */
  upsert: { component: string; evr: string; digest: string }[];
  remove: { component: string; evr: string }[];
}

/** What of a component version goes into a server's file. */
function versionDigest(v: ComponentVersion): string {
  return createHash('sha256').update(JSON.stringify([v.package, v.class, v.repository, v.parameters])).digest('base64url');
}

/** The catalog now against the one the published files were built from. */
export async function catalogChange(db: Kysely<Database>, catalog: Catalog, state: Pick<State, 'roles' | 'servers'>): Promise<CatalogChange> {
  const published = new Map<string, { component: string; evr: string; digest: string }>();
  for (const row of await db.selectFrom('catalog_published').selectAll().execute()) published.set(`${row.component}@${row.evr}`, row);
  // a database that never recorded its catalog (published before the record existed) has nothing to compare
  // with: its pinned servers are resolved again, but no version can be named as changed
  const recorded = published.size > 0;
  const changed = new Set<string>();
  const upsert: CatalogChange['upsert'] = [];
  for (const [component, versions] of Object.entries(catalog.components)) {
    for (const [evr, v] of Object.entries(versions)) {
      const key = `${component}@${evr}`;
      const digest = versionDigest(v);
      if (published.get(key)?.digest !== digest) {
        changed.add(key);
        upsert.push({ component, evr, digest });
      }
      published.delete(key);
    }
  }
  const remove = [...published.values()].map(({ component, evr }) => ({ component, evr }));
  for (const r of remove) changed.add(`${r.component}@${r.evr}`);
  const pins = new Set(Object.values(state.roles).flatMap((r) => Object.entries(r.components).map(([c, evr]) => `${c}@${evr}`)));
  const removed = new Set(remove.map((r) => `${r.component}@${r.evr}`));
  const pinned = [...changed]
    .filter((k) => recorded && pins.has(k))
    .sort()
    .map((k) => {
      const at = k.indexOf('@');
      return { component: k.slice(0, at), evr: k.slice(at + 1), change: removed.has(k) ? ('removed' as const) : ('changed' as const) };
    });
  return { versions: [...changed].sort(), servers: serversPinning(state, changed), pinned, upsert, remove };
}

/** Servers whose roles, or the roles they inherit, pin one of `versions` (`component@evr`). */
export function serversPinning(state: Pick<State, 'roles' | 'servers'>, versions: ReadonlySet<string>): string[] {
  const servers = new Set<string>();
  for (const p of pinning(state, versions).values()) for (const fqdn of p.servers) servers.add(fqdn);
  return [...servers].sort();
}

/**
 * Of `versions` (`component@evr`), those some role pins: each with the roles that pin it
 * themselves and the servers whose roles, or the roles they inherit, do (both sorted).
 */
export function pinning(state: Pick<State, 'roles' | 'servers'>, versions: ReadonlySet<string>): Map<string, { roles: string[]; servers: string[] }> {
  const out = new Map<string, { roles: string[]; servers: string[] }>();
  if (versions.size === 0) return out;
  const pinsOf = new Map<string, string[]>();
  for (const [name, r] of Object.entries(state.roles).sort(([a], [b]) => compareStrings(a, b))) {
    const pins = Object.entries(r.components)
      .map(([c, evr]) => `${c}@${evr}`)
      .filter((k) => versions.has(k));
    if (pins.length === 0) continue;
    pinsOf.set(name, pins);
    for (const k of pins) {
      let p = out.get(k);
      if (!p) out.set(k, (p = { roles: [], servers: [] }));
      p.roles.push(name);
    }
  }
  if (out.size === 0) return out;
  const graph = new RoleGraph(state.roles);
  const reached = new Map<string, readonly string[]>();
  const reaches = (role: string): readonly string[] => {
    let r = reached.get(role);
    if (r === undefined) {
      r = [role, ...graph.ancestors(role)].flatMap((a) => pinsOf.get(a) ?? []);
      reached.set(role, r);
    }
    return r;
  };
  for (const [fqdn, s] of Object.entries(state.servers).sort(([a], [b]) => compareStrings(a, b))) {
    for (const k of new Set(s.roles.flatMap(reaches))) out.get(k)?.servers.push(fqdn);
  }
  return out;
}

/** Records the catalog the files were just published from (in the publish's transaction). */
export async function recordPublishedCatalog(db: Kysely<Database>, change: CatalogChange): Promise<void> {
  for (const r of change.remove) await db.deleteFrom('catalog_published').where('component', '=', r.component).where('evr', '=', r.evr).execute();
  for (let i = 0; i < change.upsert.length; i += 200) {
    await db
      .insertInto('catalog_published')
      .values(change.upsert.slice(i, i + 200))
      .onConflict((oc) => oc.columns(['component', 'evr']).doUpdateSet((eb) => ({ digest: eb.ref('excluded.digest') })))
      .execute();
  }
}

/** `<component>.<key>` of every key some version in the catalog marks secret. */
export async function catalogSecretKeys(db: Kysely<Database>): Promise<Set<string>> {
  const rows = await db.selectFrom('catalog_packages').select(['component', 'description']).execute();
  const out = new Set<string>();
  for (const r of rows) {
    const d = JSON.parse(r.description) as { parameters?: { name: string; secret?: boolean }[] };
    for (const p of d.parameters ?? []) if (p.secret) out.add(`${r.component}.${p.name}`);
  }
  return out;
}

const checksumText = (c: RepoPackageEntry['checksum']): string => `${c.type === 'sha' ? 'sha1' : c.type}:${c.value.toLowerCase()}`;

/** Reads every repository's metadata and the deployment packages not read before. */
export async function readRepositories(db: Kysely<Database>, repositories: RepositoryDefinition[], now: string, options: { caFile?: string } = {}): Promise<RepositoriesRead> {
  const result: RepositoriesRead = { repositories: [] };
  for (const repo of repositories) {
    const source = { baseurl: repo.baseurl, ...(options.caFile !== undefined ? { caFile: options.caFile } : {}) };
    let deployments: RepoPackageEntry[];
    try {
      deployments = (await readRepositoryMetadata(source)).packages.filter((p) => p.provides.some((c) => c.name === DEPLOYMENT_CAPABILITY));
    } catch (err) {
      // this repository keeps what its last refresh found; the others are read
      result.repositories.push({ id: repo.id, packages: 0, read: 0, errors: [err instanceof Error ? err.message : String(err)] });
      continue;
    }
    const all = deployments.map((p) => checksumText(p.checksum));
    const known = new Set<string>();
    for (let i = 0; i < all.length; i += 500) {
      const rows = await db.selectFrom('catalog_packages').select('checksum').where('checksum', 'in', all.slice(i, i + 500)).execute();
      for (const r of rows) known.add(r.checksum);
    }
    const errors: string[] = [];
    const present: string[] = [];
    let read = 0;
    for (const entry of deployments) {
      const checksum = checksumText(entry.checksum);
      if (known.has(checksum)) {
        present.push(checksum);
        continue;
      }
      try {
        // size and checksum checked against primary by the reader
        const bytes = await openRepositoryPackage(source, entry);
        const description = await readDeploymentDescription(bytes, entry.href);
        read++;
        await storePackage(db, checksum, { name: entry.name, evr: entryEVR(entry) }, description, now);
        present.push(checksum);
      } catch (err) {
        errors.push(`${entry.href}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    await setRepositoryPackages(db, repo, present, now);
    result.repositories.push({ id: repo.id, packages: deployments.length, read, errors });
  }
  return result;
}

/** Records a deployment package read from a repository (once per checksum: packages are immutable). */
export async function storePackage(db: Kysely<Database>, checksum: string, pkg: { name: string; evr: string }, description: DeploymentDescription, now: string): Promise<void> {
  await db
    .insertInto('catalog_packages')
    .values({ checksum, name: pkg.name, evr: pkg.evr, component: description.component, description: JSON.stringify(description.stored), read_at: now })
    .onConflict((oc) => oc.column('checksum').doNothing())
    .execute();
}

/** Records which packages (by checksum) a repository holds now. */
export async function setRepositoryPackages(db: Kysely<Database>, repo: RepositoryDefinition, checksums: string[], now: string): Promise<void> {
  const text = JSON.stringify(checksums);
  await db
    .insertInto('catalog_repositories')
    .values({ repository: repo.id, baseurl: repo.baseurl, checksums: text, refreshed_at: now })
    .onConflict((oc) => oc.column('repository').doUpdateSet({ baseurl: repo.baseurl, checksums: text, refreshed_at: now }))
    .execute();
}

/**
 * The class description a deployment package carries at
 * /etc/puppetlabs/code/modules/<module>/kelkoo.json (packager/puppet/module.ts).
 */
export interface DeploymentDescription {
  component: string;
  stored: StoredDescription;
}

export async function readDeploymentDescription(bytes: Buffer, where: string): Promise<DeploymentDescription> {
  const src = bufferSource(bytes);
  const pkg = await readRpmFrom(src, where);
  const info = packageInfo(pkg);
  let text: Buffer | undefined;
  let collecting = false;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const ev of walkPayload(src, pkg, info.files)) {
    if (ev.type === 'entry') {
      if (collecting) break;
      collecting = DESCRIPTION_PATH.test(ev.path);
      if (collecting && ev.size > MAX_DESCRIPTION) throw new KpkgError('BAD_PACKAGE', `${ev.path}: ${ev.size} bytes, more than a class description should be`);
    } else if (ev.type === 'data' && collecting) {
      chunks.push(ev.chunk);
      size += ev.chunk.length;
    } else if (ev.type === 'end') break;
  }
  if (chunks.length > 0 || collecting) text = Buffer.concat(chunks, size);
  if (text === undefined) throw new KpkgError('BAD_PACKAGE', `no /etc/puppetlabs/code/modules/*/kelkoo.json in the package`);
  let doc: unknown;
  try {
    doc = JSON.parse(text.toString('utf8'));
  } catch (err) {
    throw new KpkgError('BAD_PACKAGE', `kelkoo.json: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return { component: descriptionField(doc, 'component'), stored: { package: info.name, class: descriptionField(doc, 'class'), parameters: parameters(doc) } };
}

function descriptionField(doc: unknown, field: 'component' | 'class'): string {
  const v = doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>)[field] : undefined;
  if (typeof v !== 'string' || !/^[a-z][a-z0-9_-]*$/.test(v)) throw new KpkgError('BAD_PACKAGE', `kelkoo.json: ${field} must be a name`);
  return v;
}

function parameters(doc: unknown): ParameterDefinition[] {
  const d = doc as { format?: unknown; parameters?: unknown };
  if (d.format !== 1) throw new KpkgError('BAD_PACKAGE', `kelkoo.json: format ${JSON.stringify(d.format)} is not 1`);
  if (!Array.isArray(d.parameters)) throw new KpkgError('BAD_PACKAGE', 'kelkoo.json: parameters must be a list');
  return d.parameters.map((p: unknown, i) => {
    const o = (p ?? {}) as Record<string, unknown>;
    if (typeof o.name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(o.name)) throw new KpkgError('BAD_PACKAGE', `kelkoo.json: parameters[${i}].name must be a parameter name`);
    if (typeof o.type !== 'string' || o.type === '') throw new KpkgError('BAD_PACKAGE', `kelkoo.json: parameters[${i}].type must be a Puppet type`);
    const def: ParameterDefinition = { name: o.name, type: o.type, secret: o.secret === true };
    if ('default' in o && o.default !== null && o.default !== undefined) def.default = o.default as Value;
    if (typeof o.description === 'string') def.description = o.description;
    if (o.builtin === true) def.builtin = true;
    return def;
  });
}
