/** The catalog as the service offers it: read for the published state, and refreshed from the repositories. */
import type { Catalog } from '../model.js';
import { requireRole, type Principal } from './access.js';
import { auditEntry } from './audit.js';
import { readCatalog, refreshCatalog as readRepositories, type RefreshResult } from './catalog.js';
import type { ServiceContext } from './context.js';
import { loadState } from './state.js';

/** The catalog of the published state's repositories. */
export async function catalog(ctx: ServiceContext): Promise<Catalog> {
  return readCatalog(ctx.db, (await loadState(ctx.db)).state);
}

/** Reads the state's repositories: new deployment packages are downloaded once, by checksum. */
export async function refreshCatalog(ctx: ServiceContext, actor: Principal, options: { caFile?: string } = {}): Promise<RefreshResult> {
  requireRole(actor, 'editor');
  const { state } = await loadState(ctx.db);
  const result = await readRepositories(ctx.db, state.repositories, ctx.iso(), options);
  await auditEntry(ctx, ctx.db, actor, 'catalog-refresh', 'catalog', null, { repositories: result.repositories.map((r) => ({ id: r.id, packages: r.packages, read: r.read })) });
  return result;
}
