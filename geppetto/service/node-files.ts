/**
 * The servers' files as the publisher sees them: built from a state and a catalog one server at
 * a time, each with its keyed hash, beside the head (current revision) and the stored revisions
 * it is compared with.
 */
import YAML from 'yaml';
import { KpkgError } from '../../packager/errors.js';
import type { Catalog, Problem, SecretRef, State } from '../model.js';
import { catalogChange, readCatalog, type CatalogChange } from './catalog.js';
import type { Db, ServiceContext } from './context.js';
import { open, packSealed, seal, unpackSealed } from './crypto.js';
import * as engine from './engine.js';
import type { NodeFile } from './engine.js';
import { allSecretIds, secretValues } from './secrets.js';

/** A server's current revision: the keyed hash of its file (revision aside) and its ETag. */
export interface Head {
  revision: number;
  hash: string;
  etag: string;
}

/** What forEachFile hands on for one server: its file, or the problems that keep it from having one (nothing: not in the state). */
export type NextFile = { file?: NodeFile; hash?: string; floats?: engine.FloatParameters } | { problems: Problem[] };

/** The servers whose files a change from `before` to `after` may change, and what building their files needs. */
export interface AffectedFiles {
  /** The catalog of `after`'s repositories. */
  catalog: Catalog;
  /** What the catalog changed since the last publish (publish records it). */
  fromCatalog: CatalogChange;
  /** The servers the edits touch and those pinning a version the catalog changed, sorted. */
  affected: string[];
  /** The values of the secrets those servers' files hold. */
  secrets: Map<string, string>;
}

export async function affectedFiles(ctx: ServiceContext, db: Db, before: State, after: State): Promise<AffectedFiles> {
  const catalog = await readCatalog(db, after);
  const fromCatalog = await catalogChange(db, catalog, after);
  const affected = [...new Set([...engine.affectedServers(before, after), ...fromCatalog.servers])].sort();
  const present = affected.filter((f) => f in after.servers);
  return { catalog, fromCatalog, affected, secrets: await secretValues(ctx, db, allSecretIds(after, present)) };
}

/**
 * Resolves servers one by one (the resolver memoizes per role profile, and nothing of a server
 * is kept once its file is built, so memory stays flat on 10,000 servers) and hands each file,
 * built at revision 0 with its keyed hash, to `fn` with the server's head. A server that is
 * not in the state comes with no file; one with problems comes with them.
 */
export async function forEachFile(
  ctx: ServiceContext,
  db: Db,
  state: State,
  catalog: Catalog,
  fqdns: string[],
  reveal: (ref: SecretRef) => string,
  fn: (fqdn: string, head: Head | undefined, next: NextFile) => Promise<void>,
): Promise<void> {
  const resolver = new engine.Resolver(state, catalog);
  for (let i = 0; i < fqdns.length; i += 500) {
    const batch = fqdns.slice(i, i + 500);
    const heads = await readHeads(db, batch);
    for (const fqdn of batch) {
      const head = heads.get(fqdn);
      if (!(fqdn in state.servers)) {
        await fn(fqdn, head, {});
        continue;
      }
      const r = resolver.resolve(fqdn);
      if (r.problems.length > 0) {
        await fn(fqdn, head, { problems: r.problems.map((p) => ({ ...p, server: p.server ?? fqdn })) });
        continue;
      }
      let file: NodeFile;
      try {
        file = engine.buildNodeFile(r, state, 0, reveal);
      } catch (err) {
        if (!(err instanceof KpkgError)) throw err;
        // the message names server and key; a secret's value never reaches it (file.ts)
        await fn(fqdn, head, { problems: [{ kind: 'malformed', server: fqdn, message: err.message }] });
        continue;
      }
      const floats = engine.floatParameters(r);
      await fn(fqdn, head, { file, floats, hash: ctx.hash(`${JSON.stringify(file)}\n${JSON.stringify(floats)}`) });
    }
  }
}

/** The heads of these servers (those that have a file). */
export async function readHeads(db: Db, fqdns: string[]): Promise<Map<string, Head>> {
  const out = new Map<string, Head>();
  for (let i = 0; i < fqdns.length; i += 500) {
    const rows = await db.selectFrom('heads').select(['fqdn', 'revision', 'hash', 'etag']).where('fqdn', 'in', fqdns.slice(i, i + 500)).execute();
    for (const r of rows) out.set(r.fqdn, r);
  }
  return out;
}

/** The last revision of servers without a head (deleted, then made again): numbering goes on. */
export async function lastRevisions(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('revisions')
    .select(['fqdn', (eb) => eb.fn.max<number>('revision').as('revision')])
    .where('fqdn', 'not in', (eb) => eb.selectFrom('heads').select('fqdn'))
    .groupBy('fqdn')
    .execute();
  return new Map(rows.map((r) => [r.fqdn, Number(r.revision)]));
}

/** A revision's YAML as stored: encrypted, the server and revision bound to it (a row moved elsewhere does not open). */
export function sealRevision(ctx: ServiceContext, fqdn: string, revision: number, yaml: string): string {
  return packSealed(seal(ctx.key, yaml, `file:${fqdn}:${revision}`));
}

/** A stored revision's YAML, decrypted. */
export function openRevision(ctx: ServiceContext, fqdn: string, revision: number, content: string): string {
  return open(ctx.key, unpackSealed(content), `file:${fqdn}:${revision}`).toString('utf8');
}

/** A stored revision of a server's file, decrypted and parsed. */
export async function storedFile(ctx: ServiceContext, db: Db, fqdn: string, revision: number): Promise<NodeFile | undefined> {
  const row = await db.selectFrom('revisions').select('content').where('fqdn', '=', fqdn).where('revision', '=', revision).executeTakeFirst();
  if (!row) return undefined;
  return YAML.parse(openRevision(ctx, fqdn, revision, row.content)) as NodeFile;
}

/** The file at `revision`: the two places the file carries it (file.ts's buildNodeFile). */
export function withRevision(file: NodeFile, revision: number): NodeFile {
  return { ...file, parameters: { ...file.parameters, kelkoo_revision: revision }, kelkoo: { ...file.kelkoo, revision } };
}
