/**
 * Changesets: made, listed, edited entity by entity (stage, settings), discarded. What they do
 * once published is publish.ts's; what publishing would do, preview.ts's.
 */
import type { Selectable } from 'kysely';
import { KpkgError } from '../../packager/errors.js';
import type { State, Value } from '../model.js';
import type { Database } from '../store/index.js';
import { principalName, requireRole, type Principal } from './access.js';
import { auditEntry } from './audit.js';
import { catalogSecretKeys } from './catalog.js';
import { CHUNK, type Db, type ServiceContext } from './context.js';
import { applyEntity, canonicalJson, checkEntityName, describeRef, getEntity, normalizeBody, parseEntityKey, secretIds, type EntityBody, type EntityRef } from './entities.js';
import { existingSecrets, sealSecretSettings } from './secrets.js';
import { loadState } from './state.js';

export interface ChangesetInfo {
  id: number;
  title: string;
  author: string;
  status: 'open' | 'published' | 'discarded';
  createdAt: string;
  updatedAt: string;
  publishedAt?: string;
  reverts?: number;
  /** The entities it changes: `role:shop-front`, `server:web03.example.com`... */
  entities: { kind: string; name: string; baseVersion: number; deleted: boolean }[];
}

/** One entity a changeset changes: its new body (null: deleted) and its version when first edited. */
export interface Staged {
  ref: EntityRef;
  baseVersion: number;
  body: EntityBody | null;
}

export async function createChangeset(ctx: ServiceContext, actor: Principal, title: string, options: { reverts?: number } = {}): Promise<ChangesetInfo> {
  requireRole(actor, 'editor');
  const t = title.trim();
  if (t === '' || t.length > 200) throw new KpkgError('INVALID_INPUT', 'changeset title: 1 to 200 characters');
  const id = await insertChangeset(ctx, ctx.db, actor, t, options.reverts);
  await auditEntry(ctx, ctx.db, actor, 'changeset-create', `changeset:${id}`, null, { title: t });
  return changeset(ctx.db, id);
}

/** A new open changeset's row (import and revert make theirs inside the publish's transaction). */
export async function insertChangeset(ctx: ServiceContext, db: Db, actor: Principal, title: string, reverts?: number): Promise<number> {
  const now = ctx.iso();
  const row = await db
    .insertInto('changesets')
    .values({ title, author: principalName(actor), status: 'open', created_at: now, updated_at: now, published_at: null, publish_seq: null, reverts: reverts ?? null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function changeset(db: Db, id: number): Promise<ChangesetInfo> {
  const row = await db.selectFrom('changesets').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new KpkgError('NOT_FOUND', `changeset ${id} does not exist`);
  const entities = await db.selectFrom('changeset_entities').select(['kind', 'name', 'base_version', 'body']).where('changeset_id', '=', id).orderBy('kind').orderBy('name').execute();
  return {
    ...changesetSummary(row),
    entities: entities.map((e) => ({ kind: e.kind, name: e.name, baseVersion: e.base_version, deleted: e.body === null })),
  };
}

export async function changesets(db: Db, options: { status?: ChangesetInfo['status']; limit?: number } = {}): Promise<Omit<ChangesetInfo, 'entities'>[]> {
  let q = db.selectFrom('changesets').selectAll().orderBy('id', 'desc').limit(Math.min(options.limit ?? 100, 1000));
  if (options.status) q = q.where('status', '=', options.status);
  return (await q.execute()).map(changesetSummary);
}

/** Refuses a changeset that does not exist or is no longer open. */
export async function requireOpen(db: Db, id: number): Promise<void> {
  const row = await db.selectFrom('changesets').select('status').where('id', '=', id).executeTakeFirst();
  if (!row) throw new KpkgError('NOT_FOUND', `changeset ${id} does not exist`);
  if (row.status !== 'open') throw new KpkgError('CONFLICT', `changeset ${id} is ${row.status}, not open`);
}

/** The state as it would be once the changeset is published; secrets as references. */
export async function changesetState(db: Db, id: number): Promise<State> {
  const { state } = await loadState(db);
  for (const s of await loadStaged(db, id)) applyEntity(state, s.ref, s.body);
  return state;
}

/** The published state, the state the changeset would make, its staged entities, and the published versions. */
export async function changesetStates(db: Db, id: number): Promise<{ before: State; after: State; staged: Staged[]; versions: Map<string, number> }> {
  const { state: before, versions } = await loadState(db);
  const staged = await loadStaged(db, id);
  return { before, after: withStaged(before, staged), staged, versions };
}

/** A copy of `state` with the staged entities applied (`state` stays as it is). */
export function withStaged(state: State, staged: readonly Staged[]): State {
  const after = structuredClone(state);
  for (const s of staged) applyEntity(after, s.ref, s.body);
  return after;
}

export async function loadStaged(db: Db, id: number): Promise<Staged[]> {
  const rows = await db.selectFrom('changeset_entities').select(['kind', 'name', 'base_version', 'body']).where('changeset_id', '=', id).execute();
  return rows.map((r) => ({ ref: parseEntityKey(`${r.kind}:${r.name}`), baseVersion: r.base_version, body: r.body === null ? null : (JSON.parse(r.body) as EntityBody) }));
}

export async function insertStaged(db: Db, changesetId: number, staged: Staged[]): Promise<void> {
  const rows = staged.map((s) => ({ changeset_id: changesetId, kind: s.ref.kind, name: s.ref.name, base_version: s.baseVersion, body: s.body === null ? null : canonicalJson(s.body) }));
  for (let i = 0; i < rows.length; i += CHUNK) await db.insertInto('changeset_entities').values(rows.slice(i, i + CHUNK)).execute();
}

/**
 * Proposes a new body for one entity (null deletes it). The entity's published version is
 * recorded the first time the changeset touches it; `expectedVersion` (from the form the
 * editor saw) refuses the edit at once when someone published a change to it since.
 * Plain values of secret keys are encrypted here and replaced by references.
 */
export async function stage(ctx: ServiceContext, id: number, actor: Principal, ref: EntityRef, body: unknown, options: { expectedVersion?: number; secretKeys?: readonly string[] } = {}): Promise<ChangesetInfo> {
  requireRole(actor, 'editor');
  checkEntityName(ref);
  const normalized = body === null ? null : normalizeBody(ref, body);
  if (normalized === null && (ref.kind === 'global' || ref.kind === 'repositories')) throw new KpkgError('INVALID_INPUT', `${ref.kind} cannot be deleted`);
  await ctx.writeTransaction(async (trx) => {
    await requireOpen(trx, id);
    const current = await trx.selectFrom('entities').select(['version', 'body']).where('kind', '=', ref.kind).where('name', '=', ref.name).executeTakeFirst();
    const currentVersion = current?.version ?? 0;
    if (options.expectedVersion !== undefined && options.expectedVersion !== currentVersion) {
      throw new KpkgError('CONFLICT', `${describeRef(ref)} changed since you read it (version ${options.expectedVersion}, now ${currentVersion}): reload and edit again`);
    }
    if (normalized !== null) {
      const secretKeys = new Set([...(options.secretKeys ?? []), ...(await catalogSecretKeys(trx))]);
      await sealSecretSettings(ctx, trx, actor, ref, normalized, await existingSecrets(trx, secretIds(normalized)), secretKeys);
    }
    const prior = await trx.selectFrom('changeset_entities').select('base_version').where('changeset_id', '=', id).where('kind', '=', ref.kind).where('name', '=', ref.name).executeTakeFirst();
    const text = normalized === null ? null : canonicalJson(normalized);
    if (prior) {
      await trx.updateTable('changeset_entities').set({ body: text }).where('changeset_id', '=', id).where('kind', '=', ref.kind).where('name', '=', ref.name).execute();
    } else {
      await trx.insertInto('changeset_entities').values({ changeset_id: id, kind: ref.kind, name: ref.name, base_version: options.expectedVersion ?? currentVersion, body: text }).execute();
    }
    await trx.updateTable('changesets').set({ updated_at: ctx.iso() }).where('id', '=', id).execute();
  });
  return changeset(ctx.db, id);
}

/** Drops an entity from a changeset (its published version stays as it is). */
export async function unstage(ctx: ServiceContext, id: number, actor: Principal, ref: EntityRef): Promise<ChangesetInfo> {
  requireRole(actor, 'editor');
  await requireOpen(ctx.db, id);
  await ctx.db.deleteFrom('changeset_entities').where('changeset_id', '=', id).where('kind', '=', ref.kind).where('name', '=', ref.name).execute();
  return changeset(ctx.db, id);
}

/** Sets one setting at a scope in a changeset (a secret when the catalog says so, or `secret`). */
export async function setSetting(ctx: ServiceContext, id: number, actor: Principal, scope: EntityRef, key: string, value: Value, options: { secret?: boolean; expectedVersion?: number } = {}): Promise<ChangesetInfo> {
  const body = await stagedScope(ctx.db, id, scope);
  body.settings[key] = value;
  body.unset = body.unset.filter((k) => k !== key);
  return stage(ctx, id, actor, scope, body, { ...(options.expectedVersion !== undefined ? { expectedVersion: options.expectedVersion } : {}), ...(options.secret ? { secretKeys: [key] } : {}) });
}

/** Makes a scope remove a key (`unset`), or with `remove`, drops the scope's own definition of it. */
export async function unsetSetting(ctx: ServiceContext, id: number, actor: Principal, scope: EntityRef, key: string, options: { remove?: boolean; expectedVersion?: number } = {}): Promise<ChangesetInfo> {
  const body = await stagedScope(ctx.db, id, scope);
  delete body.settings[key];
  body.unset = options.remove ? body.unset.filter((k) => k !== key) : [...new Set([...body.unset, key])].sort();
  return stage(ctx, id, actor, scope, body, options.expectedVersion !== undefined ? { expectedVersion: options.expectedVersion } : {});
}

/** A scope's body as the changeset would leave it, to edit. */
async function stagedScope(db: Db, id: number, scope: EntityRef): Promise<Exclude<EntityBody, unknown[]>> {
  if (scope.kind === 'repositories') throw new KpkgError('INVALID_INPUT', 'repositories have no settings');
  const body = getEntity(await changesetState(db, id), scope);
  if (body === undefined || Array.isArray(body)) throw new KpkgError('NOT_FOUND', `${describeRef(scope)} does not exist`);
  return structuredClone(body);
}

export async function discard(ctx: ServiceContext, id: number, actor: Principal): Promise<void> {
  requireRole(actor, 'editor');
  await requireOpen(ctx.db, id);
  await ctx.db.updateTable('changesets').set({ status: 'discarded', updated_at: ctx.iso() }).where('id', '=', id).execute();
  await auditEntry(ctx, ctx.db, actor, 'changeset-discard', `changeset:${id}`, null, null);
}

/** A changeset's row as the service reports it (without its entities). */
function changesetSummary(row: Selectable<Database['changesets']>): Omit<ChangesetInfo, 'entities'> {
  return {
    id: row.id,
    title: row.title,
    author: row.author,
    status: row.status as ChangesetInfo['status'],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.published_at !== null ? { publishedAt: row.published_at } : {}),
    ...(row.reverts !== null ? { reverts: row.reverts } : {}),
  };
}
