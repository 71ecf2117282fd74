/**
 * The catalog as the service offers it: read for the published state, and refreshed from the
 * repositories, with what the refresh leaves to publish.
 */
import type { Catalog } from '../model.js';
import { requireRole, type Principal } from './access.js';
import { auditEntry } from './audit.js';
import { catalogChange, pinning, readCatalog, readRepositories, type RepositoriesRead } from './catalog.js';
import type { ServiceContext } from './context.js';
import { loadState } from './state.js';

/** A pinned component version the published files were built from, changed or gone since. */
export interface UnpublishedVersion {
  component: string;
  evr: string;
  /** `changed`: rebuilt, or now from another repository; `removed`: no repository has it any more. */
  change: 'changed' | 'removed';
  /** The roles that pin it themselves. */
  roles: string[];
  /** The servers whose roles, or the roles they inherit, pin it. */
  servers: string[];
}

export interface RefreshResult extends RepositoriesRead {
  /**
   * The pinned versions the catalog changed or removed since the last publish (by this refresh
   * or an earlier one): the next preview and publish cover their servers, whatever the
   * changeset edits.
   */
  unpublished: UnpublishedVersion[];
  /** Every server of `unpublished`, once: those whose files the next publish builds again. */
  servers: string[];
  /** A pinned version is gone: publishing is refused until its roles pin a version the repositories have. */
  publishBlocked: boolean;
}

/** The catalog of the published state's repositories. */
export async function catalog(ctx: ServiceContext): Promise<Catalog> {
  return readCatalog(ctx.db, (await loadState(ctx.db)).state);
}

/**
 * Reads the state's repositories (new deployment packages are downloaded once, by checksum),
 * then compares the catalog with the one the published files were built from.
 */
export async function refreshCatalog(ctx: ServiceContext, actor: Principal, options: { caFile?: string } = {}): Promise<RefreshResult> {
  requireRole(actor, 'editor');
  const { state } = await loadState(ctx.db);
  const read = await readRepositories(ctx.db, state.repositories, ctx.iso(), options);
  const change = await catalogChange(ctx.db, await readCatalog(ctx.db, state), state);
  const pins = pinning(state, new Set(change.pinned.map((v) => `${v.component}@${v.evr}`)));
  const unpublished = change.pinned.map((v) => ({ ...v, ...(pins.get(`${v.component}@${v.evr}`) ?? { roles: [], servers: [] }) }));
  const servers = [...new Set(unpublished.flatMap((v) => v.servers))].sort();
  const result: RefreshResult = { ...read, unpublished, servers, publishBlocked: unpublished.some((v) => v.change === 'removed') };
  const note = unpublished.length > 0 ? { unpublished: unpublished.map((v) => `${v.component} ${v.evr} ${v.change}`), servers: servers.length } : {};
  await auditEntry(ctx, ctx.db, actor, 'catalog-refresh', 'catalog', null, { repositories: read.repositories.map((r) => ({ id: r.id, packages: r.packages, read: r.read })), ...note });
  return result;
}
