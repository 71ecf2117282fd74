/**
 * What publishing a changeset would do, without doing it: the problems that block it, the entities
 * changed by others since, and for each server whose file changes, the diff of that file.
 */
import { KpkgError } from '../../packager/errors.js';
import type { Problem } from '../model.js';
import { readCatalog } from './catalog.js';
import { changesetStates, requireOpen } from './changesets.js';
import type { Db, ServiceContext } from './context.js';
import * as engine from './engine.js';
import { entityKey } from './entities.js';
import { affectedFiles, forEachFile, storedFile, withRevision, type Head, type NextFile } from './node-files.js';
import { ProblemsError } from './problems.js';
import { allSecretIds, revealer, scrub, secretValues } from './secrets.js';

export interface ServerPreview {
  fqdn: string;
  change: 'added' | 'changed' | 'removed';
  /** The revision now (0: none) and the one publishing would make (0: the file goes away). */
  from: number;
  to: number;
  /** Unified diff of the file, secrets masked; left out beyond the preview's `diffs` (see previewDiff). */
  diff?: string;
}

export interface Preview {
  changeset: number;
  problems: Problem[];
  servers: ServerPreview[];
  /** Entities another publish changed since this changeset first edited them: publishing is refused. */
  conflicts: { kind: string; name: string; baseVersion: number; currentVersion: number }[];
  /** Servers listed without their diff (beyond the `diffs` asked for). */
  diffsOmitted: number;
  /** Pinned component versions a catalog refresh changed or removed since the last publish: their servers are previewed too. */
  catalog: { component: string; evr: string; change: 'changed' | 'removed' }[];
}

/**
 * What publishing would do: the problems that block it, the entities changed by others since
 * (conflicts), and for every server whose file changes, the diff of that file (secrets masked).
 */
export async function preview(ctx: ServiceContext, id: number, options: { diffs?: number } = {}): Promise<Preview> {
  const db = ctx.db;
  const diffLimit = options.diffs ?? 50;
  await requireOpen(db, id);
  const { before, after, staged, versions } = await changesetStates(db, id);
  const conflicts = staged
    .filter((s) => (versions.get(entityKey(s.ref)) ?? 0) !== s.baseVersion)
    .map((s) => ({ kind: s.ref.kind, name: s.ref.name, baseVersion: s.baseVersion, currentVersion: versions.get(entityKey(s.ref)) ?? 0 }));
  const problems = engine.checkState(after);
  // servers the edits touch, and those whose pinned versions the catalog changed since the last publish
  const { catalog, fromCatalog, affected, secrets } = await affectedFiles(ctx, db, before, after);
  const servers: ServerPreview[] = [];
  let omitted = 0;
  await forEachFile(ctx, db, after, catalog, affected, revealer(secrets), async (fqdn, head, next) => {
    if ('problems' in next) {
      problems.push(...next.problems);
      return;
    }
    const withDiff = servers.length - omitted < diffLimit;
    const entry = await serverPreview(ctx, db, fqdn, head, next, withDiff ? secrets : undefined);
    if (!entry) return;
    if (!withDiff) omitted++;
    servers.push(entry);
  });
  return { changeset: id, problems, servers, conflicts, diffsOmitted: omitted, catalog: fromCatalog.pinned };
}

/** The diff of one server's file in a changeset's preview (for those the preview left out). */
export async function previewDiff(ctx: ServiceContext, id: number, fqdn: string): Promise<ServerPreview | undefined> {
  const db = ctx.db;
  const { before, after } = await changesetStates(db, id);
  if (!(fqdn in before.servers) && !(fqdn in after.servers)) throw new KpkgError('NOT_FOUND', `server ${fqdn} does not exist`);
  const catalog = await readCatalog(db, after);
  const secrets = await secretValues(ctx, db, allSecretIds(after, [fqdn]));
  let out: ServerPreview | undefined;
  await forEachFile(ctx, db, after, catalog, [fqdn], revealer(secrets), async (_f, head, next) => {
    if ('problems' in next) throw new ProblemsError(next.problems);
    out = await serverPreview(ctx, db, fqdn, head, next, secrets);
  });
  return out;
}

/**
 * One server's entry in a preview, undefined when its file stays as it is; with the diff of the
 * file (secret values scrubbed) when `secrets` is given.
 */
async function serverPreview(ctx: ServiceContext, db: Db, fqdn: string, head: Head | undefined, next: Exclude<NextFile, { problems: unknown }>, secrets: Map<string, string> | undefined): Promise<ServerPreview | undefined> {
  if ((head && next.file && head.hash === next.hash) || (!head && !next.file)) return undefined;
  const from = head?.revision ?? 0;
  const entry: ServerPreview = { fqdn, change: !head ? 'added' : next.file ? 'changed' : 'removed', from, to: next.file ? from + 1 : 0 };
  if (secrets) {
    const fileAfter = next.file ? withRevision(next.file, from + 1) : undefined;
    const fileBefore = head ? await storedFile(ctx, db, fqdn, head.revision) : undefined;
    entry.diff = scrub(engine.nodeFileDiff(fileBefore, fileAfter, true), secrets.values());
  }
  return entry;
}
