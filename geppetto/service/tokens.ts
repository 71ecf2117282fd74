/** Bearer tokens: one per server (its file, its reports) and API tokens for CI and scripts. */
import { KpkgError } from '../../packager/errors.js';
import { asRole, checkRole, principalName, requireRole, type Principal, type Role } from './access.js';
import { auditEntry } from './audit.js';
import type { ServiceContext } from './context.js';
import { equalDigests, newToken, parseToken, sha256 } from './crypto.js';
import { entity } from './state.js';

export interface TokenInfo {
  id: string;
  kind: string;
  name: string;
  role: string;
  fqdn: string | null;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
}

/** A new token for a server (printed once); its previous tokens stop working. */
export async function serverToken(ctx: ServiceContext, actor: Principal, fqdn: string): Promise<string> {
  requireRole(actor, 'admin');
  if ((await entity(ctx.db, { kind: 'server', name: fqdn })).body === null) throw new KpkgError('NOT_FOUND', `server ${fqdn} does not exist`);
  const t = newToken();
  await ctx.db.transaction().execute(async (trx) => {
    const now = ctx.iso();
    await trx.updateTable('tokens').set({ revoked_at: now }).where('kind', '=', 'server').where('fqdn', '=', fqdn).where('revoked_at', 'is', null).execute();
    await trx.insertInto('tokens').values({ id: t.id, hash: t.hash, kind: 'server', fqdn, name: fqdn, role: 'server', created_by: principalName(actor), created_at: now, revoked_at: null }).execute();
    await auditEntry(ctx, trx, actor, 'token-issue', `server:${fqdn}`, null, { token: t.id });
  });
  return t.token;
}

/** A token for CI and scripts, acting with `role`. */
export async function createApiToken(ctx: ServiceContext, actor: Principal, name: string, role: Role): Promise<{ id: string; token: string }> {
  requireRole(actor, 'admin');
  checkRole(role);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/.test(name)) throw new KpkgError('INVALID_INPUT', `token name ${JSON.stringify(name)} is not valid`);
  const t = newToken();
  await ctx.db.insertInto('tokens').values({ id: t.id, hash: t.hash, kind: 'api', fqdn: null, name, role, created_by: principalName(actor), created_at: ctx.iso(), revoked_at: null }).execute();
  await auditEntry(ctx, ctx.db, actor, 'token-issue', `token:${name}`, null, { token: t.id, role });
  return { id: t.id, token: t.token };
}

export async function tokens(ctx: ServiceContext): Promise<TokenInfo[]> {
  const rows = await ctx.db.selectFrom('tokens').select(['id', 'kind', 'name', 'role', 'fqdn', 'created_at', 'created_by', 'revoked_at']).orderBy('created_at', 'desc').execute();
  return rows.map((r) => ({ id: r.id, kind: r.kind, name: r.name, role: r.role, fqdn: r.fqdn, createdAt: r.created_at, createdBy: r.created_by, revokedAt: r.revoked_at }));
}

export async function revokeToken(ctx: ServiceContext, actor: Principal, id: string): Promise<void> {
  requireRole(actor, 'admin');
  const r = await ctx.db.updateTable('tokens').set({ revoked_at: ctx.iso() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw new KpkgError('NOT_FOUND', `no live token ${id}`);
  await auditEntry(ctx, ctx.db, actor, 'token-revoke', `token:${id}`, null, null);
}

/** The principal of a bearer token, undefined when it is unknown, revoked or malformed. */
export async function authenticateToken(ctx: ServiceContext, bearer: string): Promise<Principal | undefined> {
  const parsed = parseToken(bearer);
  if (!parsed) return undefined;
  // a prepared read, no cache: a revocation is seen by the next request, in every process
  const row = await ctx.store.reads.token(parsed.id);
  if (!row || row.revoked_at !== null || !equalDigests(row.hash, sha256(parsed.secret))) return undefined;
  if (row.kind === 'server' && row.fqdn !== null) return { kind: 'server', fqdn: row.fqdn, tokenId: row.id };
  const role = asRole(row.role);
  if (row.kind === 'api' && role !== undefined) return { kind: 'api', name: row.name, role, tokenId: row.id };
  return undefined;
}
