/**
 * Publishing: a changeset's entities written and a new revision of every server whose file
 * changed, in one transaction, or nothing at all. Revert and import publish through here too.
 */
import type { Transaction } from 'kysely';
import { KpkgError } from '../../packager/errors.js';
import type { Problem } from '../model.js';
import { compareStrings } from '../resolve/keys.js';
import { nextPublishSeq, type Database } from '../store/index.js';
import { requireRole, type Principal } from './access.js';
import { auditEntry, auditPair } from './audit.js';
import { recordPublishedCatalog } from './catalog.js';
import { insertChangeset, insertStaged, loadStaged, requireOpen, withStaged, type Staged } from './changesets.js';
import { CHUNK, type ServiceContext } from './context.js';
import * as engine from './engine.js';
import { canonicalJson, describeRef, entityKey, getEntity, parseEntityKey, type EntityBody } from './entities.js';
import { affectedFiles, forEachFile, lastRevisions, sealRevision, withRevision } from './node-files.js';
import { ProblemsError } from './problems.js';
import { revealer } from './secrets.js';
import { loadState } from './state.js';

export interface PublishResult {
  changeset: number;
  publishSeq: number;
  /** Servers that got a new revision (or lost their file), with that revision (0: removed). */
  revisions: { fqdn: string; revision: number }[];
}

/**
 * Publishes a changeset: in one transaction, refuses it when an entity it edits was changed by
 * another publish since (CONFLICT) or when the new state has problems (INVALID_INPUT, naming
 * server and key), writes the entities, and a new revision of every server whose file changed.
 */
export async function publish(ctx: ServiceContext, id: number, actor: Principal): Promise<PublishResult> {
  requireRole(actor, 'editor');
  return ctx.db.transaction().execute(async (trx) => {
    const seq = await nextPublishSeq(trx);
    await requireOpen(trx, id);
    const staged = await loadStaged(trx, id);
    return publishIn(ctx, trx, seq, id, actor, staged, 'publish');
  });
}

/**
 * Reverts a published changeset: a new changeset putting back what it changed, published at
 * once. Refused (CONFLICT) when a later publish changed one of the same entities.
 */
export async function revert(ctx: ServiceContext, id: number, actor: Principal): Promise<PublishResult> {
  requireRole(actor, 'editor');
  const original = await ctx.db.selectFrom('changesets').selectAll().where('id', '=', id).executeTakeFirst();
  if (!original) throw new KpkgError('NOT_FOUND', `changeset ${id} does not exist`);
  if (original.status !== 'published' || original.publish_seq === null) throw new KpkgError('CONFLICT', `changeset ${id} is ${original.status}: only a published changeset can be reverted`);
  const publishSeq = original.publish_seq;
  return ctx.db.transaction().execute(async (trx) => {
    const seq = await nextPublishSeq(trx);
    const changes = await trx.selectFrom('changes').selectAll().where('publish_seq', '=', publishSeq).execute();
    const staged: Staged[] = changes.map((c) => ({
      ref: parseEntityKey(`${c.kind}:${c.name}`),
      baseVersion: publishSeq,
      body: c.before === null ? null : (JSON.parse(c.before) as EntityBody),
    }));
    return publishNew(ctx, trx, seq, actor, { title: `revert #${id}: ${original.title}`.slice(0, 200), reverts: id }, staged, 'revert');
  });
}

/** Makes a changeset of `staged` and publishes it, in the caller's transaction (revert, import). */
export async function publishNew(
  ctx: ServiceContext,
  trx: Transaction<Database>,
  seq: number,
  actor: Principal,
  changeset: { title: string; reverts?: number },
  staged: Staged[],
  action: string,
): Promise<PublishResult> {
  const id = await insertChangeset(ctx, trx, actor, changeset.title, changeset.reverts);
  await insertStaged(trx, id, staged);
  return publishIn(ctx, trx, seq, id, actor, staged, action);
}

async function publishIn(ctx: ServiceContext, trx: Transaction<Database>, seq: number, changesetId: number, actor: Principal, staged: Staged[], action: string): Promise<PublishResult> {
  const { state: before, versions } = await loadState(trx);
  for (const s of staged) {
    const current = versions.get(entityKey(s.ref)) ?? 0;
    if (current !== s.baseVersion) {
      throw new KpkgError('CONFLICT', `${describeRef(s.ref)} was changed by another publish since changeset ${changesetId} edited it (version ${s.baseVersion}, now ${current}): nothing was published`);
    }
  }
  const after = withStaged(before, staged);
  const problems = engine.checkState(after);
  if (problems.length > 0) throw new ProblemsError(problems);
  const { catalog, fromCatalog, affected, secrets } = await affectedFiles(ctx, trx, before, after);
  const reveal = revealer(secrets);
  const lastRevision = await lastRevisions(trx);
  const now = ctx.iso();
  const blocking: Problem[] = [];
  const result: PublishResult['revisions'] = [];
  const gone: string[] = [];
  let rows: Database['revisions'][] = [];
  const flush = async () => {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      await trx.insertInto('revisions').values(chunk).execute();
      await trx
        .insertInto('heads')
        .values(chunk.map((r) => ({ fqdn: r.fqdn, revision: r.revision, hash: r.hash, etag: r.etag, publish_seq: seq })))
        .onConflict((oc) => oc.column('fqdn').doUpdateSet((eb) => ({ revision: eb.ref('excluded.revision'), hash: eb.ref('excluded.hash'), etag: eb.ref('excluded.etag'), publish_seq: eb.ref('excluded.publish_seq') })))
        .execute();
    }
    rows = [];
  };
  await forEachFile(ctx, trx, after, catalog, affected, reveal, async (fqdn, head, next) => {
    if ('problems' in next) {
      blocking.push(...next.problems);
      return;
    }
    if (blocking.length > 0) return;
    if (!next.file || next.hash === undefined) {
      if (head) gone.push(fqdn);
      return;
    }
    if (head && head.hash === next.hash) return;
    // a server deleted and made again goes on from its last revision
    const revision = (head?.revision ?? lastRevision.get(fqdn) ?? 0) + 1;
    const body = engine.nodeFileYaml(withRevision(next.file, revision), { floats: next.floats ?? {} });
    rows.push({
      fqdn,
      revision,
      changeset_id: changesetId,
      publish_seq: seq,
      created_at: now,
      content: sealRevision(ctx, fqdn, revision, body),
      hash: next.hash,
      etag: ctx.etag(body),
    });
    result.push({ fqdn, revision });
    if (rows.length >= 1000) await flush();
  });
  if (blocking.length > 0) throw new ProblemsError(blocking);
  await flush();
  for (let i = 0; i < gone.length; i += CHUNK) await trx.deleteFrom('heads').where('fqdn', 'in', gone.slice(i, i + CHUNK)).execute();
  for (const fqdn of gone) result.push({ fqdn, revision: 0 });
  // the entities, their history, the audit
  for (const s of staged) {
    const key = entityKey(s.ref);
    const beforeBody = getEntity(before, s.ref);
    const text = s.body === null ? null : canonicalJson(s.body);
    await trx
      .insertInto('entities')
      .values({ kind: s.ref.kind, name: s.ref.name, body: text, version: seq })
      .onConflict((oc) => oc.columns(['kind', 'name']).doUpdateSet({ body: text, version: seq }))
      .execute();
    await trx
      .insertInto('changes')
      .values({ publish_seq: seq, changeset_id: changesetId, kind: s.ref.kind, name: s.ref.name, before: beforeBody === undefined ? null : canonicalJson(beforeBody), after: text, version_before: versions.get(key) ?? 0 })
      .execute();
    const [b, a] = auditPair(beforeBody ?? null, s.body);
    await auditEntry(ctx, trx, actor, s.body === null ? 'delete' : beforeBody === undefined ? 'create' : 'update', describeRef(s.ref), b, a);
  }
  await recordPublishedCatalog(trx, fromCatalog);
  await trx.updateTable('changesets').set({ status: 'published', published_at: now, updated_at: now, publish_seq: seq }).where('id', '=', changesetId).execute();
  // revisions the catalog brought in are explained by the versions it changed
  const catalogNote = fromCatalog.pinned.length > 0 ? { catalog: fromCatalog.pinned.map((v) => `${v.component} ${v.evr} ${v.change}`) } : {};
  await auditEntry(ctx, trx, actor, action, `changeset:${changesetId}`, null, { revisions: result.length, ...catalogNote });
  result.sort((x, y) => compareStrings(x.fqdn, y.fqdn));
  return { changeset: changesetId, publishSeq: seq, revisions: result };
}
