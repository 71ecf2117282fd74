/** The revisions a publish made: what a published changeset's page lists, a page at a time. */
import type { Kysely } from 'kysely';
import { KpkgError } from '../../packager/errors.js';
import type { Database } from '../store/index.js';

export interface ChangesetRevisions {
  /** How many server files got a new revision in all. */
  total: number;
  /** This page of them, by server name. */
  revisions: { fqdn: string; revision: number; createdAt: string }[];
  /** Servers the changeset deleted: their file went away (no revision). */
  removed: string[];
}

/** The revisions made by a published changeset (none for one not published), `limit` from `offset`. */
export async function changesetRevisions(db: Kysely<Database>, id: number, page: { limit: number; offset: number }): Promise<ChangesetRevisions> {
  const cs = await db.selectFrom('changesets').select(['publish_seq']).where('id', '=', id).executeTakeFirst();
  if (!cs) throw new KpkgError('NOT_FOUND', `changeset ${id} does not exist`);
  if (cs.publish_seq === null) return { total: 0, revisions: [], removed: [] };
  // by publish_seq, which is indexed: one publish, one changeset
  const seq = cs.publish_seq;
  const count = await db.selectFrom('revisions').select((eb) => eb.fn.countAll<number>().as('n')).where('publish_seq', '=', seq).executeTakeFirst();
  const rows = await db
    .selectFrom('revisions')
    .select(['fqdn', 'revision', 'created_at'])
    .where('publish_seq', '=', seq)
    .orderBy('fqdn')
    .limit(Math.max(1, Math.min(page.limit, 1000)))
    .offset(Math.max(0, page.offset))
    .execute();
  const removed = await db.selectFrom('changes').select('name').where('publish_seq', '=', seq).where('kind', '=', 'server').where('after', 'is', null).orderBy('name').execute();
  return { total: Number(count?.n ?? 0), revisions: rows.map((r) => ({ fqdn: r.fqdn, revision: r.revision, createdAt: r.created_at })), removed: removed.map((r) => r.name) };
}
