/**
 * The published revisions of the servers' files, read: as served to a server (and its ETag), as
 * people see them (masked), their list and diffs, and what a published changeset made.
 */
import type { Kysely } from 'kysely';
import { KpkgError } from '../../packager/errors.js';
import type { Database } from '../store/index.js';
import { readYamlFile } from '../yaml-read.js';
import { authorizeNode, requireRole, type Principal } from './access.js';
import type { ServiceContext } from './context.js';
import * as engine from './engine.js';
import type { NodeFile } from './engine.js';
import { openRevision, storedFile } from './node-files.js';
import { SECRET_MASK } from './secrets.js';

export interface NodeFileAnswer {
  fqdn: string;
  revision: number;
  etag: string;
  body: string;
  contentType: 'application/yaml' | 'application/json';
}

export interface ChangesetRevisions {
  /** How many server files got a new revision in all. */
  total: number;
  /** This page of them, by server name. */
  revisions: { fqdn: string; revision: number; createdAt: string }[];
  /** Servers the changeset deleted: their file went away (no revision). */
  removed: string[];
}

/** The JSON form's ETag: the YAML's, marked, so a cache never mixes the two. */
const jsonEtag = (etag: string): string => `${etag.slice(0, -1)}-json"`;

/**
 * A server's current file as served: YAML, or JSON. Only for the server itself (its token) or
 * an admin; the file holds the server's secrets.
 */
export async function nodeFile(ctx: ServiceContext, actor: Principal, fqdn: string, options: { format?: 'yaml' | 'json'; revision?: number } = {}): Promise<NodeFileAnswer> {
  authorizeNode(actor, fqdn);
  let revision: number;
  let row: { content: string; etag: string } | undefined;
  if (options.revision === undefined) {
    // the servers' poll: head and content in one prepared read
    const current = await ctx.store.reads.headFile(fqdn);
    if (!current) throw new KpkgError('NOT_FOUND', `${fqdn} has no published file`);
    ({ revision } = current);
    row = current;
  } else {
    const head = await ctx.db.selectFrom('heads').select(['revision', 'etag']).where('fqdn', '=', fqdn).executeTakeFirst();
    if (!head) throw new KpkgError('NOT_FOUND', `${fqdn} has no published file`);
    revision = options.revision;
    row = await ctx.db.selectFrom('revisions').select(['content', 'etag']).where('fqdn', '=', fqdn).where('revision', '=', revision).executeTakeFirst();
  }
  if (!row) throw new KpkgError('NOT_FOUND', `${fqdn} has no revision ${revision}`);
  const yaml = openRevision(ctx, fqdn, revision, row.content);
  if (options.format === 'json') {
    return { fqdn, revision, etag: jsonEtag(row.etag), body: `${JSON.stringify(readYamlFile(yaml), null, 2)}\n`, contentType: 'application/json' };
  }
  return { fqdn, revision, etag: row.etag, body: yaml, contentType: 'application/yaml' };
}

/** The current ETag of a server's file, without reading or decrypting it (for 304s). */
export async function nodeFileEtag(ctx: ServiceContext, actor: Principal, fqdn: string, format: 'yaml' | 'json' = 'yaml'): Promise<string | undefined> {
  authorizeNode(actor, fqdn);
  const head = await ctx.store.reads.head(fqdn);
  if (!head) return undefined;
  return format === 'json' ? jsonEtag(head.etag) : head.etag;
}

/** The revisions of a server's file, newest first (kept for ever). */
export async function revisions(db: Kysely<Database>, fqdn: string): Promise<{ revision: number; changeset: number; createdAt: string; etag: string }[]> {
  const rows = await db.selectFrom('revisions').select(['revision', 'changeset_id', 'created_at', 'etag']).where('fqdn', '=', fqdn).orderBy('revision', 'desc').execute();
  return rows.map((r) => ({ revision: r.revision, changeset: r.changeset_id, createdAt: r.created_at, etag: r.etag }));
}

/** What a revision changed in a server's file, from the revision before it: a unified diff, secrets masked. */
export async function revisionDiff(ctx: ServiceContext, actor: Principal, fqdn: string, revision: number): Promise<string> {
  requireRole(actor, 'viewer');
  const after = await storedFile(ctx, ctx.db, fqdn, revision);
  if (!after) throw new KpkgError('NOT_FOUND', `${fqdn} has no revision ${revision}`);
  return engine.nodeFileDiff(revision > 1 ? await storedFile(ctx, ctx.db, fqdn, revision - 1) : undefined, after, true);
}

/** A revision of a server's file for people: YAML with the Sensitive parameters masked. */
export async function maskedFile(ctx: ServiceContext, actor: Principal, fqdn: string, revision?: number): Promise<{ revision: number; body: string }> {
  requireRole(actor, 'viewer');
  const head = await ctx.db.selectFrom('heads').select('revision').where('fqdn', '=', fqdn).executeTakeFirst();
  const n = revision ?? head?.revision;
  const file = n !== undefined ? await storedFile(ctx, ctx.db, fqdn, n) : undefined;
  if (n === undefined || !file) throw new KpkgError('NOT_FOUND', `${fqdn} has no published file${revision !== undefined ? ` at revision ${revision}` : ''}`);
  return { revision: n, body: engine.nodeFileYaml(maskNodeFile(file)) };
}

/** A file with its Sensitive parameters (kelkoo.sensitive) replaced by the mask. */
export function maskNodeFile(file: NodeFile): NodeFile {
  const out = structuredClone(file);
  const kelkoo = out.kelkoo as { sensitive?: Record<string, string[]> } | undefined;
  const classes = out.classes as Record<string, Record<string, unknown>> | undefined;
  for (const [cls, params] of Object.entries(kelkoo?.sensitive ?? {})) {
    const c = classes?.[cls];
    if (!c) continue;
    for (const p of params) if (p in c) c[p] = SECRET_MASK;
  }
  return out;
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
