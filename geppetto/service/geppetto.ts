/**
 * Geppetto's service: everything the CLI and the HTTP layer do, as async methods over the store.
 * Callers pass the acting principal; the service checks roles, writes the audit log, and never
 * returns a secret's value except inside the file served to the server that needs it.
 */
import { hostname, userInfo } from 'node:os';
import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import YAML from 'yaml';
import { KpkgError } from '../../packager/errors.js';
import type { Catalog, Problem, ResolvedServer, SecretRef, State, Value } from '../model.js';
import { nextPublishSeq, openStore, type Database, type Store } from '../store/index.js';
import { readYamlFile } from '../yaml-read.js';
import { catalogChange, readCatalog, recordPublishedCatalog, refreshCatalog, type RefreshResult } from './catalog.js';
import {
  equalDigests,
  hashPassword,
  keyedHasher,
  loadOrCreateKey,
  newToken,
  open,
  packSealed,
  parseToken,
  randomId,
  seal,
  sha256,
  unpackSealed,
  verifyPassword,
} from './crypto.js';
import * as engine from './engine.js';
import { changesetRevisions, type ChangesetRevisions } from './revisions.js';
import type { NodeFile } from './engine.js';
import {
  applyEntity,
  canonicalJson,
  checkEntityName,
  emptyState,
  entityKey,
  getEntity,
  isSecretRef,
  normalizeBody,
  parseEntityKey,
  secretIds,
  stateEntities,
  type EntityBody,
  type EntityRef,
} from './entities.js';

export type Role = 'viewer' | 'editor' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'editor', 'admin'];
const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

/** Who acts: a person (session), a script (API token), the CLI (whoever can read the data directory), a server. */
export type Principal =
  | { kind: 'user'; name: string; role: Role; userId: number }
  | { kind: 'api'; name: string; role: Role; tokenId: string }
  | { kind: 'cli'; name: string; role: 'admin' }
  | { kind: 'server'; fqdn: string; tokenId: string };

export interface GeppettoOptions {
  /** The data directory: `secrets.key`, and `geppetto.db` unless `database` is given. */
  dataDir: string;
  database?: string | undefined;
  /** The clock (tests); default Date.now. */
  now?: () => Date;
  /** A server with no report for this long is silent (default 2 hours). */
  silentAfterMs?: number;
  /** scrypt cost for new passwords (tests lower it); default N=2^17, r=8, p=1. */
  scryptCost?: { N: number; r: number; p: number };
  busyTimeout?: number;
}

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

export interface PublishResult {
  changeset: number;
  publishSeq: number;
  /** Servers that got a new revision (or lost their file), with that revision (0: removed). */
  revisions: { fqdn: string; revision: number }[];
}

export interface NodeFileAnswer {
  fqdn: string;
  revision: number;
  etag: string;
  body: string;
  contentType: 'application/yaml' | 'application/json';
}

export interface ReportInput {
  revision: number;
  status: 'changed' | 'unchanged' | 'failed';
  changes?: number;
  summary?: string;
  at?: string;
}

export type ServerHealth = 'current' | 'behind' | 'failed' | 'silent' | 'never-reported' | 'no-file';

export interface ServerStatus {
  fqdn: string;
  environment: string;
  roles: string[];
  revision: number;
  applied?: number;
  lastReport?: { revision: number; status: string; changes: number; summary: string; at: string; receivedAt: string };
  health: ServerHealth;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

export interface UserInfo {
  id: number;
  name: string;
  role: Role;
  createdAt: string;
  disabled: boolean;
}

export interface SessionInfo {
  user: UserInfo;
  csrfSecret: string;
  expiresAt: string;
}

const SESSION_MS = 12 * 3600_000;
const LOGIN_WINDOW_MS = 15 * 60_000;
const LOGIN_MAX_FAILURES = 10;
const CHUNK = 200;
/** Shown instead of a secret: in previews, audit entries, exports without --with-secrets. */
export const SECRET_MASK = '(secret)';

type Db = Kysely<Database>;

/** Opens the data directory (key file, database, migrations) and returns the service. */
export async function openGeppetto(options: GeppettoOptions): Promise<Geppetto> {
  const key = loadOrCreateKey(options.dataDir);
  const store = await openStore({ dataDir: options.dataDir, database: options.database, ...(options.busyTimeout !== undefined ? { busyTimeout: options.busyTimeout } : {}) });
  return new Geppetto(store, key, options);
}

/** The CLI's principal: the local account running it (it can read the data directory and its key). */
export function cliPrincipal(): Principal {
  let name = 'cli';
  try {
    name = `${userInfo().username}@${hostname()}`;
  } catch {
    // no passwd entry for this uid: keep "cli"
  }
  return { kind: 'cli', name, role: 'admin' };
}

export function principalName(p: Principal): string {
  switch (p.kind) {
    case 'user':
      return p.name;
    case 'api':
      return `token:${p.name}`;
    case 'cli':
      return `cli:${p.name}`;
    case 'server':
      return `server:${p.fqdn}`;
  }
}

function requireRole(p: Principal, role: Role): void {
  if (p.kind === 'server' || RANK[p.role] < RANK[role]) {
    throw new KpkgError('FORBIDDEN', `${principalName(p)} may not do this (needs ${role})`);
  }
}

const problemSummary = (problems: Problem[]): string => {
  const first = problems[0];
  if (!first) return '';
  const where = [first.server, first.key].filter((s) => s !== undefined).join(' ');
  return `${where ? `${where}: ` : ''}${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : ''}`;
};

/** A refused change: the problems that block publishing, the first one in the message. */
export class ProblemsError extends KpkgError {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super('INVALID_INPUT', `cannot publish: ${problemSummary(problems)}`);
    this.name = 'ProblemsError';
    this.problems = problems;
  }
}

interface Staged {
  ref: EntityRef;
  baseVersion: number;
  body: EntityBody | null;
}

export class Geppetto {
  readonly store: Store;
  private readonly key: Buffer;
  private readonly hash: (data: string | Buffer) => string;
  private readonly now: () => Date;
  private readonly silentAfterMs: number;
  private readonly scryptCost: { N: number; r: number; p: number } | undefined;
  private dummyHash: Promise<string> | undefined;

  constructor(store: Store, key: Buffer, options: GeppettoOptions) {
    this.store = store;
    this.key = key;
    this.hash = keyedHasher(key);
    this.now = options.now ?? (() => new Date());
    this.silentAfterMs = options.silentAfterMs ?? 2 * 3600_000;
    this.scryptCost = options.scryptCost;
  }

  get db(): Db {
    return this.store.db;
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /**
   * A transaction that will write, whatever it reads first. SQLite's deferred transaction that
   * reads, then writes after another process committed, fails at once with SQLITE_BUSY (its
   * snapshot is stale; the busy timeout cannot help): a first write takes the write lock up front,
   * waiting for it as the busy timeout allows. PostgreSQL needs nothing of the kind.
   */
  private writeTransaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      if (this.store.dialect === 'sqlite') await trx.updateTable('meta').set((eb) => ({ publish_seq: eb.ref('publish_seq') })).where('id', '=', 1).execute();
      return fn(trx);
    });
  }

  private iso(): string {
    return this.now().toISOString();
  }

  // -------------------------------------------------------------------------------------------
  // state

  /** The published state; secrets as references. */
  async state(db: Db = this.db): Promise<State> {
    return (await this.loadState(db)).state;
  }

  private async loadState(db: Db): Promise<{ state: State; versions: Map<string, number>; bodies: Map<string, string> }> {
    const rows = await db.selectFrom('entities').select(['kind', 'name', 'body', 'version']).execute();
    const state = emptyState();
    const versions = new Map<string, number>();
    const bodies = new Map<string, string>();
    for (const row of rows) {
      const key = `${row.kind}:${row.name}`;
      versions.set(key, row.version);
      if (row.body === null) continue;
      bodies.set(key, row.body);
      applyEntity(state, parseEntityKey(key), JSON.parse(row.body) as EntityBody);
    }
    return { state, versions, bodies };
  }

  /** One published entity and its version (0: never existed). */
  async entity(ref: EntityRef): Promise<{ body: EntityBody | null; version: number }> {
    const row = await this.db.selectFrom('entities').select(['body', 'version']).where('kind', '=', ref.kind).where('name', '=', ref.name).executeTakeFirst();
    return { body: row?.body ? (JSON.parse(row.body) as EntityBody) : null, version: row?.version ?? 0 };
  }

  /** The whole state as YAML (the state file). Secrets as `{ secret: id }` unless withSecrets. */
  async exportState(actor: Principal, options: { withSecrets?: boolean } = {}): Promise<string> {
    requireRole(actor, options.withSecrets ? 'admin' : 'viewer');
    const state = await this.state();
    if (options.withSecrets) {
      const values = await this.secretValues(this.db, allSecretIds(state));
      forEachSetting(state, (settings, key, value) => {
        if (isSecretRef(value)) settings[key] = { secret: value.secret, value: values.get(value.secret) };
      });
      await this.auditEntry(this.db, actor, 'export-with-secrets', 'state', null, null);
    }
    return engine.stringifyState(state);
  }

  /**
   * `geppetto import`: the state file as one changeset, made and published at once, all or
   * nothing. Secret references must exist here; `{ secret, value }` (an export with secrets)
   * stores the value encrypted.
   */
  async importState(actor: Principal, text: string, options: { title?: string } = {}): Promise<PublishResult> {
    requireRole(actor, 'editor');
    const withValues = new Map<string, Value>();
    let doc: unknown;
    try {
      doc = YAML.parse(text, { maxAliasCount: 100 });
    } catch (err) {
      throw new KpkgError('INVALID_INPUT', `state file: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { cause: err });
    }
    // `{ secret: id, value: v }` from `export --with-secrets`: keep the value aside, pass the reference on
    walkSettings(doc, (settings, key, value) => {
      if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'secret' in value && 'value' in value) {
        const v = value;
        if (typeof v.secret !== 'string') return;
        withValues.set(v.secret, v.value as Value);
        settings[key] = { secret: v.secret };
      }
    });
    const state = engine.parseState(withValues.size > 0 ? YAML.stringify(doc) : text);
    return this.db.transaction().execute(async (trx) => {
      const seq = await nextPublishSeq(trx);
      const { versions, bodies } = await this.loadState(trx);
      const wanted = stateEntities(state);
      const staged: Staged[] = [];
      for (const [key, body] of wanted) {
        const ref = parseEntityKey(key);
        checkEntityName(ref);
        if (bodies.get(key) === body) continue;
        staged.push({ ref, baseVersion: versions.get(key) ?? 0, body: normalizeBody(ref, JSON.parse(body)) });
      }
      for (const key of bodies.keys()) {
        if (!wanted.has(key)) staged.push({ ref: parseEntityKey(key), baseVersion: versions.get(key) ?? 0, body: null });
      }
      // secrets: values given with their id are stored under it (an id already here keeps its value)
      const existing = await this.existingSecrets(trx, [...withValues.keys()]);
      for (const [id, value] of withValues) {
        if (!existing.has(id)) await this.insertSecret(trx, actor, value, id);
      }
      const known = await this.existingSecrets(trx, allSecretIds(state));
      const secretKeys = await this.catalogSecretKeys(trx);
      for (const s of staged) {
        if (s.body === null || Array.isArray(s.body)) continue;
        for (const [key, value] of Object.entries(s.body.settings)) {
          if (isSecretRef(value)) {
            if (!known.has(value.secret)) throw new KpkgError('INVALID_INPUT', `${describeRef(s.ref)}: setting ${key} refers to secret ${value.secret}, which does not exist here`);
          } else if (secretKeys.has(key)) {
            // a plain value for a secret key: stored encrypted, the state keeps the reference
            s.body.settings[key] = { secret: await this.insertSecret(trx, actor, value) };
          }
        }
      }
      const now = this.iso();
      const cs = await trx
        .insertInto('changesets')
        .values({ title: options.title ?? 'import', author: principalName(actor), status: 'open', created_at: now, updated_at: now, published_at: null, publish_seq: null, reverts: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.insertStaged(trx, cs.id, staged);
      return this.publishIn(trx, seq, cs.id, actor, staged, 'import');
    });
  }

  // -------------------------------------------------------------------------------------------
  // changesets

  async createChangeset(actor: Principal, title: string, options: { reverts?: number } = {}): Promise<ChangesetInfo> {
    requireRole(actor, 'editor');
    const t = title.trim();
    if (t === '' || t.length > 200) throw new KpkgError('INVALID_INPUT', 'changeset title: 1 to 200 characters');
    const now = this.iso();
    const row = await this.db
      .insertInto('changesets')
      .values({ title: t, author: principalName(actor), status: 'open', created_at: now, updated_at: now, published_at: null, publish_seq: null, reverts: options.reverts ?? null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await this.auditEntry(this.db, actor, 'changeset-create', `changeset:${row.id}`, null, { title: t });
    return this.changeset(row.id);
  }

  async changeset(id: number): Promise<ChangesetInfo> {
    const row = await this.db.selectFrom('changesets').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new KpkgError('NOT_FOUND', `changeset ${id} does not exist`);
    const entities = await this.db.selectFrom('changeset_entities').select(['kind', 'name', 'base_version', 'body']).where('changeset_id', '=', id).orderBy('kind').orderBy('name').execute();
    return {
      ...changesetSummary(row),
      entities: entities.map((e) => ({ kind: e.kind, name: e.name, baseVersion: e.base_version, deleted: e.body === null })),
    };
  }

  async changesets(options: { status?: ChangesetInfo['status']; limit?: number } = {}): Promise<Omit<ChangesetInfo, 'entities'>[]> {
    let q = this.db.selectFrom('changesets').selectAll().orderBy('id', 'desc').limit(Math.min(options.limit ?? 100, 1000));
    if (options.status) q = q.where('status', '=', options.status);
    return (await q.execute()).map(changesetSummary);
  }

  private async openChangeset(db: Db, id: number): Promise<void> {
    const row = await db.selectFrom('changesets').select('status').where('id', '=', id).executeTakeFirst();
    if (!row) throw new KpkgError('NOT_FOUND', `changeset ${id} does not exist`);
    if (row.status !== 'open') throw new KpkgError('CONFLICT', `changeset ${id} is ${row.status}, not open`);
  }

  /** The state as it would be once the changeset is published; secrets as references. */
  async changesetState(id: number): Promise<State> {
    const { state } = await this.loadState(this.db);
    for (const s of await this.loadStaged(this.db, id)) applyEntity(state, s.ref, s.body);
    return state;
  }

  private async loadStaged(db: Db, id: number): Promise<Staged[]> {
    const rows = await db.selectFrom('changeset_entities').select(['kind', 'name', 'base_version', 'body']).where('changeset_id', '=', id).execute();
    return rows.map((r) => ({ ref: parseEntityKey(`${r.kind}:${r.name}`), baseVersion: r.base_version, body: r.body === null ? null : (JSON.parse(r.body) as EntityBody) }));
  }

  /**
   * Proposes a new body for one entity (null deletes it). The entity's published version is
   * recorded the first time the changeset touches it; `expectedVersion` (from the form the
   * editor saw) refuses the edit at once when someone published a change to it since.
   * Plain values of secret keys are encrypted here and replaced by references.
   */
  async stage(id: number, actor: Principal, ref: EntityRef, body: unknown, options: { expectedVersion?: number; secretKeys?: readonly string[] } = {}): Promise<ChangesetInfo> {
    requireRole(actor, 'editor');
    checkEntityName(ref);
    const normalized = body === null ? null : normalizeBody(ref, body);
    if (normalized === null && (ref.kind === 'global' || ref.kind === 'repositories')) throw new KpkgError('INVALID_INPUT', `${ref.kind} cannot be deleted`);
    await this.writeTransaction(async (trx) => {
      await this.openChangeset(trx, id);
      const current = await trx.selectFrom('entities').select(['version', 'body']).where('kind', '=', ref.kind).where('name', '=', ref.name).executeTakeFirst();
      const currentVersion = current?.version ?? 0;
      if (options.expectedVersion !== undefined && options.expectedVersion !== currentVersion) {
        throw new KpkgError('CONFLICT', `${describeRef(ref)} changed since you read it (version ${options.expectedVersion}, now ${currentVersion}): reload and edit again`);
      }
      if (normalized !== null && !Array.isArray(normalized)) {
        const secretKeys = new Set([...(options.secretKeys ?? []), ...(await this.catalogSecretKeys(trx))]);
        const known = await this.existingSecrets(trx, secretIds(normalized));
        for (const [key, value] of Object.entries(normalized.settings)) {
          if (isSecretRef(value)) {
            if (!known.has(value.secret)) throw new KpkgError('INVALID_INPUT', `${describeRef(ref)}: setting ${key} refers to secret ${value.secret}, which does not exist`);
          } else if (secretKeys.has(key)) {
            normalized.settings[key] = { secret: await this.insertSecret(trx, actor, value) };
          }
        }
      }
      const prior = await trx.selectFrom('changeset_entities').select('base_version').where('changeset_id', '=', id).where('kind', '=', ref.kind).where('name', '=', ref.name).executeTakeFirst();
      const text = normalized === null ? null : canonicalJson(normalized);
      if (prior) {
        await trx.updateTable('changeset_entities').set({ body: text }).where('changeset_id', '=', id).where('kind', '=', ref.kind).where('name', '=', ref.name).execute();
      } else {
        await trx.insertInto('changeset_entities').values({ changeset_id: id, kind: ref.kind, name: ref.name, base_version: options.expectedVersion ?? currentVersion, body: text }).execute();
      }
      await trx.updateTable('changesets').set({ updated_at: this.iso() }).where('id', '=', id).execute();
    });
    return this.changeset(id);
  }

  /** Drops an entity from a changeset (its published version stays as it is). */
  async unstage(id: number, actor: Principal, ref: EntityRef): Promise<ChangesetInfo> {
    requireRole(actor, 'editor');
    await this.openChangeset(this.db, id);
    await this.db.deleteFrom('changeset_entities').where('changeset_id', '=', id).where('kind', '=', ref.kind).where('name', '=', ref.name).execute();
    return this.changeset(id);
  }

  /** Sets one setting at a scope in a changeset (a secret when the catalog says so, or `secret`). */
  async setSetting(id: number, actor: Principal, scope: EntityRef, key: string, value: Value, options: { secret?: boolean; expectedVersion?: number } = {}): Promise<ChangesetInfo> {
    const body = await this.stagedScope(id, scope);
    body.settings[key] = value;
    body.unset = body.unset.filter((k) => k !== key);
    return this.stage(id, actor, scope, body, { ...(options.expectedVersion !== undefined ? { expectedVersion: options.expectedVersion } : {}), ...(options.secret ? { secretKeys: [key] } : {}) });
  }

  /** Makes a scope remove a key (`unset`), or with `remove`, drops the scope's own definition of it. */
  async unsetSetting(id: number, actor: Principal, scope: EntityRef, key: string, options: { remove?: boolean; expectedVersion?: number } = {}): Promise<ChangesetInfo> {
    const body = await this.stagedScope(id, scope);
    delete body.settings[key];
    body.unset = options.remove ? body.unset.filter((k) => k !== key) : [...new Set([...body.unset, key])].sort();
    return this.stage(id, actor, scope, body, options.expectedVersion !== undefined ? { expectedVersion: options.expectedVersion } : {});
  }

  private async stagedScope(id: number, scope: EntityRef): Promise<Exclude<EntityBody, unknown[]>> {
    if (scope.kind === 'repositories') throw new KpkgError('INVALID_INPUT', 'repositories have no settings');
    const state = await this.changesetState(id);
    const body = getEntity(state, scope);
    if (body === undefined || Array.isArray(body)) throw new KpkgError('NOT_FOUND', `${describeRef(scope)} does not exist`);
    return structuredClone(body);
  }

  async discard(id: number, actor: Principal): Promise<void> {
    requireRole(actor, 'editor');
    await this.openChangeset(this.db, id);
    await this.db.updateTable('changesets').set({ status: 'discarded', updated_at: this.iso() }).where('id', '=', id).execute();
    await this.auditEntry(this.db, actor, 'changeset-discard', `changeset:${id}`, null, null);
  }

  /**
   * What publishing would do: the problems that block it, the entities changed by others since
   * (conflicts), and for every server whose file changes, the diff of that file (secrets masked).
   */
  async preview(id: number, options: { diffs?: number } = {}): Promise<Preview> {
    const diffLimit = options.diffs ?? 50;
    await this.openChangeset(this.db, id);
    const { before, after, staged, versions } = await this.changesetStates(this.db, id);
    const conflicts = staged
      .filter((s) => (versions.get(entityKey(s.ref)) ?? 0) !== s.baseVersion)
      .map((s) => ({ kind: s.ref.kind, name: s.ref.name, baseVersion: s.baseVersion, currentVersion: versions.get(entityKey(s.ref)) ?? 0 }));
    const problems = engine.checkState(after);
    const catalog = await readCatalog(this.db, after);
    // servers the edits touch, and those whose pinned versions the catalog changed since the last publish
    const fromCatalog = await catalogChange(this.db, catalog, after);
    const affected = [...new Set([...engine.affectedServers(before, after), ...fromCatalog.servers])].sort();
    const present = affected.filter((f) => f in after.servers);
    const secrets = await this.secretValues(this.db, allSecretIds(after, present));
    const servers: ServerPreview[] = [];
    let omitted = 0;
    await this.forEachFile(this.db, after, catalog, affected, revealer(secrets), async (fqdn, head, next) => {
      if ('problems' in next) {
        problems.push(...next.problems);
        return;
      }
      if (head && next.file && head.hash === next.hash) return;
      if (!head && !next.file) return;
      const from = head?.revision ?? 0;
      const entry: ServerPreview = { fqdn, change: !head ? 'added' : next.file ? 'changed' : 'removed', from, to: next.file ? from + 1 : 0 };
      if (servers.length - omitted < diffLimit) {
        const fileAfter = next.file ? withRevision(next.file, from + 1) : undefined;
        const fileBefore = head ? await this.storedFile(this.db, fqdn, head.revision) : undefined;
        entry.diff = scrub(engine.nodeFileDiff(fileBefore, fileAfter, true), secrets.values());
      } else omitted++;
      servers.push(entry);
    });
    return { changeset: id, problems, servers, conflicts, diffsOmitted: omitted, catalog: fromCatalog.pinned };
  }

  /** The diff of one server's file in a changeset's preview (for those the preview left out). */
  async previewDiff(id: number, fqdn: string): Promise<ServerPreview | undefined> {
    const { before, after } = await this.changesetStates(this.db, id);
    if (!(fqdn in before.servers) && !(fqdn in after.servers)) throw new KpkgError('NOT_FOUND', `server ${fqdn} does not exist`);
    const catalog = await readCatalog(this.db, after);
    const secrets = await this.secretValues(this.db, allSecretIds(after, [fqdn]));
    let out: ServerPreview | undefined;
    await this.forEachFile(this.db, after, catalog, [fqdn], revealer(secrets), async (_f, head, next) => {
      if ('problems' in next) throw new ProblemsError(next.problems);
      if ((head && next.file && head.hash === next.hash) || (!head && !next.file)) return;
      const from = head?.revision ?? 0;
      const fileAfter = next.file ? withRevision(next.file, from + 1) : undefined;
      const fileBefore = head ? await this.storedFile(this.db, fqdn, head.revision) : undefined;
      out = { fqdn, change: !head ? 'added' : next.file ? 'changed' : 'removed', from, to: next.file ? from + 1 : 0, diff: scrub(engine.nodeFileDiff(fileBefore, fileAfter, true), secrets.values()) };
    });
    return out;
  }

  private async changesetStates(db: Db, id: number): Promise<{ before: State; after: State; staged: Staged[]; versions: Map<string, number> }> {
    const { state: before, versions } = await this.loadState(db);
    const staged = await this.loadStaged(db, id);
    const after = structuredClone(before);
    for (const s of staged) applyEntity(after, s.ref, s.body);
    return { before, after, staged, versions };
  }

  /**
   * Resolves servers one by one (the resolver memoizes per role profile, and nothing of a server
   * is kept once its file is built, so memory stays flat on 10,000 servers) and hands each file,
   * built at revision 0 with its keyed hash, to `fn` with the server's head. A server that is
   * not in the state comes with no file; one with problems comes with them.
   */
  private async forEachFile(
    db: Db,
    state: State,
    catalog: Catalog,
    fqdns: string[],
    reveal: (ref: SecretRef) => string,
    fn: (fqdn: string, head: Head | undefined, next: { file?: NodeFile; hash?: string; floats?: engine.FloatParameters } | { problems: Problem[] }) => Promise<void>,
  ): Promise<void> {
    const resolver = new engine.Resolver(state, catalog);
    for (let i = 0; i < fqdns.length; i += 500) {
      const batch = fqdns.slice(i, i + 500);
      const heads = await this.heads(db, batch);
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
        await fn(fqdn, head, { file, floats, hash: this.hash(`${JSON.stringify(file)}\n${JSON.stringify(floats)}`) });
      }
    }
  }

  /** A stored revision of a server's file, decrypted and parsed. */
  private async storedFile(db: Db, fqdn: string, revision: number): Promise<NodeFile | undefined> {
    const row = await db.selectFrom('revisions').select('content').where('fqdn', '=', fqdn).where('revision', '=', revision).executeTakeFirst();
    if (!row) return undefined;
    return YAML.parse(open(this.key, unpackSealed(row.content), `file:${fqdn}:${revision}`).toString('utf8')) as NodeFile;
  }

  /**
   * Publishes a changeset: in one transaction, refuses it when an entity it edits was changed by
   * another publish since (CONFLICT) or when the new state has problems (INVALID_INPUT, naming
   * server and key), writes the entities, and a new revision of every server whose file changed.
   */
  async publish(id: number, actor: Principal): Promise<PublishResult> {
    requireRole(actor, 'editor');
    return this.db.transaction().execute(async (trx) => {
      const seq = await nextPublishSeq(trx);
      await this.openChangeset(trx, id);
      const staged = await this.loadStaged(trx, id);
      return this.publishIn(trx, seq, id, actor, staged, 'publish');
    });
  }

  private async publishIn(trx: Transaction<Database>, seq: number, changesetId: number, actor: Principal, staged: Staged[], action: string): Promise<PublishResult> {
    const { state: before, versions } = await this.loadState(trx);
    for (const s of staged) {
      const current = versions.get(entityKey(s.ref)) ?? 0;
      if (current !== s.baseVersion) {
        throw new KpkgError('CONFLICT', `${describeRef(s.ref)} was changed by another publish since changeset ${changesetId} edited it (version ${s.baseVersion}, now ${current}): nothing was published`);
      }
    }
    const after = structuredClone(before);
    for (const s of staged) applyEntity(after, s.ref, s.body);
    const problems = engine.checkState(after);
    if (problems.length > 0) throw new ProblemsError(problems);
    const catalog = await readCatalog(trx, after);
    const fromCatalog = await catalogChange(trx, catalog, after);
    const affected = [...new Set([...engine.affectedServers(before, after), ...fromCatalog.servers])].sort();
    const present = affected.filter((f) => f in after.servers);
    const reveal = revealer(await this.secretValues(trx, allSecretIds(after, present)));
    const lastRevision = await this.lastRevisions(trx);
    const now = this.iso();
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
    await this.forEachFile(trx, after, catalog, affected, reveal, async (fqdn, head, next) => {
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
        content: packSealed(seal(this.key, body, `file:${fqdn}:${revision}`)),
        hash: next.hash,
        etag: this.etag(body),
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
      await this.auditEntry(trx, actor, s.body === null ? 'delete' : beforeBody === undefined ? 'create' : 'update', describeRef(s.ref), b, a);
    }
    await recordPublishedCatalog(trx, fromCatalog);
    await trx.updateTable('changesets').set({ status: 'published', published_at: now, updated_at: now, publish_seq: seq }).where('id', '=', changesetId).execute();
    // revisions the catalog brought in are explained by the versions it changed
    const catalogNote = fromCatalog.pinned.length > 0 ? { catalog: fromCatalog.pinned.map((v) => `${v.component} ${v.evr} ${v.change}`) } : {};
    await this.auditEntry(trx, actor, action, `changeset:${changesetId}`, null, { revisions: result.length, ...catalogNote });
    result.sort((x, y) => (x.fqdn < y.fqdn ? -1 : x.fqdn > y.fqdn ? 1 : 0));
    return { changeset: changesetId, publishSeq: seq, revisions: result };
  }

  /**
   * Reverts a published changeset: a new changeset putting back what it changed, published at
   * once. Refused (CONFLICT) when a later publish changed one of the same entities.
   */
  async revert(id: number, actor: Principal): Promise<PublishResult> {
    requireRole(actor, 'editor');
    const original = await this.db.selectFrom('changesets').selectAll().where('id', '=', id).executeTakeFirst();
    if (!original) throw new KpkgError('NOT_FOUND', `changeset ${id} does not exist`);
    if (original.status !== 'published' || original.publish_seq === null) throw new KpkgError('CONFLICT', `changeset ${id} is ${original.status}: only a published changeset can be reverted`);
    const publishSeq = original.publish_seq;
    return this.db.transaction().execute(async (trx) => {
      const seq = await nextPublishSeq(trx);
      const changes = await trx.selectFrom('changes').selectAll().where('publish_seq', '=', publishSeq).execute();
      const staged: Staged[] = changes.map((c) => ({
        ref: parseEntityKey(`${c.kind}:${c.name}`),
        baseVersion: publishSeq,
        body: c.before === null ? null : (JSON.parse(c.before) as EntityBody),
      }));
      const now = this.iso();
      const cs = await trx
        .insertInto('changesets')
        .values({ title: `revert #${id}: ${original.title}`.slice(0, 200), author: principalName(actor), status: 'open', created_at: now, updated_at: now, published_at: null, publish_seq: null, reverts: id })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.insertStaged(trx, cs.id, staged);
      return this.publishIn(trx, seq, cs.id, actor, staged, 'revert');
    });
  }

  private async insertStaged(trx: Db, changesetId: number, staged: Staged[]): Promise<void> {
    const rows = staged.map((s) => ({ changeset_id: changesetId, kind: s.ref.kind, name: s.ref.name, base_version: s.baseVersion, body: s.body === null ? null : canonicalJson(s.body) }));
    for (let i = 0; i < rows.length; i += CHUNK) await trx.insertInto('changeset_entities').values(rows.slice(i, i + CHUNK)).execute();
  }

  private async heads(db: Db, fqdns: string[]): Promise<Map<string, Head>> {
    const out = new Map<string, Head>();
    for (let i = 0; i < fqdns.length; i += 500) {
      const rows = await db.selectFrom('heads').select(['fqdn', 'revision', 'hash', 'etag']).where('fqdn', 'in', fqdns.slice(i, i + 500)).execute();
      for (const r of rows) out.set(r.fqdn, r);
    }
    return out;
  }

  /** The last revision of servers without a head (deleted, then made again): numbering goes on. */
  private async lastRevisions(db: Db): Promise<Map<string, number>> {
    const rows = await db
      .selectFrom('revisions')
      .select(['fqdn', (eb) => eb.fn.max<number>('revision').as('revision')])
      .where('fqdn', 'not in', (eb) => eb.selectFrom('heads').select('fqdn'))
      .groupBy('fqdn')
      .execute();
    return new Map(rows.map((r) => [r.fqdn, Number(r.revision)]));
  }

  private etag(body: string): string {
    return `"${this.hash(body)}"`;
  }

  // -------------------------------------------------------------------------------------------
  // files and revisions

  /**
   * A server's current file as served: YAML, or JSON. Only for the server itself (its token) or
   * a person or script with viewer rights or more; the file holds the server's secrets.
   */
  async nodeFile(actor: Principal, fqdn: string, options: { format?: 'yaml' | 'json'; revision?: number } = {}): Promise<NodeFileAnswer> {
    this.authorizeNode(actor, fqdn);
    let revision: number;
    let row: { content: string; etag: string } | undefined;
    if (options.revision === undefined) {
      // the servers' poll: head and content in one prepared read
      const current = await this.store.reads.headFile(fqdn);
      if (!current) throw new KpkgError('NOT_FOUND', `${fqdn} has no published file`);
      ({ revision } = current);
      row = current;
    } else {
      const head = await this.db.selectFrom('heads').select(['revision', 'etag']).where('fqdn', '=', fqdn).executeTakeFirst();
      if (!head) throw new KpkgError('NOT_FOUND', `${fqdn} has no published file`);
      revision = options.revision;
      row = await this.db.selectFrom('revisions').select(['content', 'etag']).where('fqdn', '=', fqdn).where('revision', '=', revision).executeTakeFirst();
    }
    if (!row) throw new KpkgError('NOT_FOUND', `${fqdn} has no revision ${revision}`);
    const yaml = open(this.key, unpackSealed(row.content), `file:${fqdn}:${revision}`).toString('utf8');
    if (options.format === 'json') {
      return { fqdn, revision, etag: `${row.etag.slice(0, -1)}-json"`, body: `${JSON.stringify(readYamlFile(yaml), null, 2)}\n`, contentType: 'application/json' };
    }
    return { fqdn, revision, etag: row.etag, body: yaml, contentType: 'application/yaml' };
  }

  /** The current ETag of a server's file, without reading or decrypting it (for 304s). */
  async nodeFileEtag(actor: Principal, fqdn: string, format: 'yaml' | 'json' = 'yaml'): Promise<string | undefined> {
    this.authorizeNode(actor, fqdn);
    const head = await this.store.reads.head(fqdn);
    if (!head) return undefined;
    return format === 'json' ? `${head.etag.slice(0, -1)}-json"` : head.etag;
  }

  /** The revisions of a server's file, newest first (kept for ever). */
  async revisions(fqdn: string): Promise<{ revision: number; changeset: number; createdAt: string; etag: string }[]> {
    const rows = await this.db.selectFrom('revisions').select(['revision', 'changeset_id', 'created_at', 'etag']).where('fqdn', '=', fqdn).orderBy('revision', 'desc').execute();
    return rows.map((r) => ({ revision: r.revision, changeset: r.changeset_id, createdAt: r.created_at, etag: r.etag }));
  }

  /** The revisions a published changeset made, a page at a time (service/revisions.ts). */
  async changesetRevisions(id: number, page: { limit: number; offset: number }): Promise<ChangesetRevisions> {
    return changesetRevisions(this.db, id, page);
  }

  /** What a revision changed in a server's file, from the revision before it: a unified diff, secrets masked. */
  async revisionDiff(actor: Principal, fqdn: string, revision: number): Promise<string> {
    requireRole(actor, 'viewer');
    const after = await this.storedFile(this.db, fqdn, revision);
    if (!after) throw new KpkgError('NOT_FOUND', `${fqdn} has no revision ${revision}`);
    return engine.nodeFileDiff(revision > 1 ? await this.storedFile(this.db, fqdn, revision - 1) : undefined, after, true);
  }

  /** A revision of a server's file for people: YAML with the Sensitive parameters masked. */
  async maskedFile(actor: Principal, fqdn: string, revision?: number): Promise<{ revision: number; body: string }> {
    requireRole(actor, 'viewer');
    const head = await this.db.selectFrom('heads').select('revision').where('fqdn', '=', fqdn).executeTakeFirst();
    const n = revision ?? head?.revision;
    const file = n !== undefined ? await this.storedFile(this.db, fqdn, n) : undefined;
    if (n === undefined || !file) throw new KpkgError('NOT_FOUND', `${fqdn} has no published file${revision !== undefined ? ` at revision ${revision}` : ''}`);
    return { revision: n, body: engine.nodeFileYaml(maskNodeFile(file)) };
  }

  /**
   * May this principal read this server's file (it holds the server's secrets) or post its
   * reports? The server itself (its token), or an admin; people with less see maskedFile.
   */
  authorizeNode(actor: Principal, fqdn: string): void {
    if (actor.kind === 'server') {
      if (actor.fqdn !== fqdn) throw new KpkgError('FORBIDDEN', `this token belongs to ${actor.fqdn}, not ${fqdn}`);
      return;
    }
    requireRole(actor, 'admin');
  }

  /** `geppetto explain`: why each setting of a server has its value (secrets as references). */
  async explain(fqdn: string, key?: string): Promise<{ text: string; resolved: ResolvedServer }> {
    const state = await this.state();
    if (!(fqdn in state.servers)) throw new KpkgError('NOT_FOUND', `server ${fqdn} does not exist`);
    const catalog = await readCatalog(this.db, state);
    const resolved = engine.resolveServers(state, catalog, [fqdn]).get(fqdn);
    if (!resolved) throw new KpkgError('INTERNAL', `no resolution for ${fqdn}`);
    return { text: engine.explain(resolved, key), resolved };
  }

  // -------------------------------------------------------------------------------------------
  // catalog

  async catalog(): Promise<Catalog> {
    return readCatalog(this.db, await this.state());
  }

  /** Reads the state's repositories: new deployment packages are downloaded once, by checksum. */
  async refreshCatalog(actor: Principal, options: { caFile?: string } = {}): Promise<RefreshResult> {
    requireRole(actor, 'editor');
    const state = await this.state();
    const result = await refreshCatalog(this.db, state.repositories, this.iso(), options);
    await this.auditEntry(this.db, actor, 'catalog-refresh', 'catalog', null, { repositories: result.repositories.map((r) => ({ id: r.id, packages: r.packages, read: r.read })) });
    return result;
  }

  /** `<component>.<key>` of every key some version in the catalog marks secret. */
  private async catalogSecretKeys(db: Db): Promise<Set<string>> {
    const rows = await db.selectFrom('catalog_packages').select(['component', 'description']).execute();
    const out = new Set<string>();
    for (const r of rows) {
      const d = JSON.parse(r.description) as { parameters?: { name: string; secret?: boolean }[] };
      for (const p of d.parameters ?? []) if (p.secret) out.add(`${r.component}.${p.name}`);
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // secrets

  /** Stores a secret's value as text (a non-text value as its JSON, which the file turns back into its type). */
  private async insertSecret(db: Db, actor: Principal, value: Value, id = `s_${randomId()}`): Promise<string> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new KpkgError('INVALID_INPUT', `secret id ${JSON.stringify(id)} is not valid`);
    const sealed = seal(this.key, typeof value === 'string' ? value : JSON.stringify(value), `secret:${id}`);
    await db.insertInto('secrets').values({ id, nonce: sealed.nonce, ciphertext: sealed.ciphertext, created_at: this.iso(), created_by: principalName(actor) }).execute();
    return id;
  }

  private async existingSecrets(db: Db, ids: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await db.selectFrom('secrets').select('id').where('id', 'in', ids.slice(i, i + 500)).execute();
      for (const r of rows) out.add(r.id);
    }
    return out;
  }

  private async secretValues(db: Db, ids: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await db.selectFrom('secrets').selectAll().where('id', 'in', ids.slice(i, i + 500)).execute();
      for (const r of rows) out.set(r.id, open(this.key, r, `secret:${r.id}`).toString('utf8'));
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // audit

  private async auditEntry(db: Db, actor: Principal | string, action: string, target: string, before: unknown, after: unknown): Promise<void> {
    await db
      .insertInto('audit')
      .values({ at: this.iso(), actor: typeof actor === 'string' ? actor : principalName(actor), action, target, before: before === null ? null : JSON.stringify(before), after: after === null ? null : JSON.stringify(after) })
      .execute();
  }

  /** The audit log, newest first; `before` pages back from an entry id. */
  async audit(options: { limit?: number; before?: number; target?: string } = {}): Promise<AuditEntry[]> {
    let q = this.db.selectFrom('audit').selectAll().orderBy('id', 'desc').limit(Math.min(options.limit ?? 100, 1000));
    if (options.before !== undefined) q = q.where('id', '<', options.before);
    if (options.target !== undefined) q = q.where('target', '=', options.target);
    return (await q.execute()).map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      target: r.target,
      before: r.before === null ? null : (JSON.parse(r.before) as unknown),
      after: r.after === null ? null : (JSON.parse(r.after) as unknown),
    }));
  }

  // -------------------------------------------------------------------------------------------
  // users and sessions

  async addUser(actor: Principal, name: string, password: string, role: Role): Promise<UserInfo> {
    requireRole(actor, 'admin');
    checkUserName(name);
    checkRole(role);
    checkPassword(password);
    const hash = await hashPassword(password, this.scryptCost);
    const existing = await this.db.selectFrom('users').select('id').where('name', '=', name).executeTakeFirst();
    if (existing) throw new KpkgError('CONFLICT', `user ${name} already exists`);
    const row = await this.db.insertInto('users').values({ name, role, password_hash: hash, created_at: this.iso(), disabled: 0 }).returning('id').executeTakeFirstOrThrow();
    await this.auditEntry(this.db, actor, 'user-add', `user:${name}`, null, { role, password: 'changed' });
    return this.user(row.id);
  }

  async user(id: number): Promise<UserInfo> {
    const r = await this.db.selectFrom('users').select(['id', 'name', 'role', 'created_at', 'disabled']).where('id', '=', id).executeTakeFirst();
    if (!r) throw new KpkgError('NOT_FOUND', `user ${id} does not exist`);
    return { id: r.id, name: r.name, role: r.role as Role, createdAt: r.created_at, disabled: r.disabled !== 0 };
  }

  async users(): Promise<UserInfo[]> {
    const rows = await this.db.selectFrom('users').select(['id', 'name', 'role', 'created_at', 'disabled']).orderBy('name').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, role: r.role as Role, createdAt: r.created_at, disabled: r.disabled !== 0 }));
  }

  async updateUser(actor: Principal, name: string, changes: { role?: Role; password?: string; disabled?: boolean }): Promise<UserInfo> {
    const self = actor.kind === 'user' && actor.name === name;
    // a person may change their own password; everything else is an admin's
    if (!(self && changes.role === undefined && changes.disabled === undefined)) requireRole(actor, 'admin');
    const row = await this.db.selectFrom('users').select(['id', 'role', 'disabled']).where('name', '=', name).executeTakeFirst();
    if (!row) throw new KpkgError('NOT_FOUND', `user ${name} does not exist`);
    const set: Updateable<Database['users']> = {};
    if (changes.role !== undefined) set.role = checkRole(changes.role);
    if (changes.disabled !== undefined) set.disabled = changes.disabled ? 1 : 0;
    if (changes.password !== undefined) {
      checkPassword(changes.password);
      set.password_hash = await hashPassword(changes.password, this.scryptCost);
    }
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set(set).where('id', '=', row.id).execute();
      // a new password or a disabled account ends every session of that account
      if (changes.password !== undefined || changes.disabled) await trx.deleteFrom('sessions').where('user_id', '=', row.id).execute();
      await this.auditEntry(
        trx,
        actor,
        'user-update',
        `user:${name}`,
        { role: row.role, disabled: row.disabled !== 0 },
        { ...(changes.role !== undefined ? { role: changes.role } : {}), ...(changes.disabled !== undefined ? { disabled: changes.disabled } : {}), ...(changes.password !== undefined ? { password: 'changed' } : {}) },
      );
    });
    return this.user(row.id);
  }

  /**
   * Checks a password. Refuses (RATE_LIMITED) after 10 failures in 15 minutes for the account or
   * for the client (`clientKey`, e.g. its address), whichever comes first, across processes.
   * An unknown name costs the same scrypt as a known one.
   */
  async login(name: string, password: string, clientKey: string): Promise<UserInfo> {
    const since = new Date(this.now().getTime() - LOGIN_WINDOW_MS).toISOString();
    const keys = [`user:${name}`, `client:${clientKey}`];
    for (const key of keys) {
      const row = await this.db.selectFrom('login_attempts').select((eb) => eb.fn.countAll<number>().as('n')).where('key', '=', key).where('at', '>', since).executeTakeFirst();
      if (Number(row?.n ?? 0) >= LOGIN_MAX_FAILURES) throw new KpkgError('RATE_LIMITED', 'too many failed logins: try again in 15 minutes');
    }
    const user = await this.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    this.dummyHash ??= hashPassword(randomId(), this.scryptCost);
    const ok = await verifyPassword(password, user?.password_hash ?? (await this.dummyHash));
    if (!user || !ok || user.disabled !== 0) {
      const at = this.iso();
      await this.db.insertInto('login_attempts').values(keys.map((key) => ({ key, at }))).execute();
      await this.auditEntry(this.db, `client:${clientKey}`, 'login-failed', `user:${name}`, null, null);
      throw new KpkgError('UNAUTHORIZED', 'wrong name or password');
    }
    await this.db.deleteFrom('login_attempts').where('key', '=', `user:${name}`).execute();
    return { id: user.id, name: user.name, role: user.role as Role, createdAt: user.created_at, disabled: false };
  }

  /** A session for a logged-in user: the cookie value (stored only as its hash) and a CSRF secret. */
  async createSession(userId: number): Promise<{ token: string; csrfSecret: string; expiresAt: string }> {
    const token = randomId(32);
    const csrfSecret = randomId(24);
    const expiresAt = new Date(this.now().getTime() + SESSION_MS).toISOString();
    await this.db.insertInto('sessions').values({ id_hash: sha256(token), user_id: userId, csrf_secret: csrfSecret, created_at: this.iso(), expires_at: expiresAt }).execute();
    await this.db.deleteFrom('sessions').where('expires_at', '<', this.iso()).execute();
    return { token, csrfSecret, expiresAt };
  }

  async session(token: string): Promise<SessionInfo | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const row = await this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select(['users.id', 'users.name', 'users.role', 'users.created_at', 'users.disabled', 'sessions.csrf_secret', 'sessions.expires_at'])
      .where('sessions.id_hash', '=', sha256(token))
      .executeTakeFirst();
    if (!row || row.disabled !== 0 || row.expires_at <= this.iso()) return undefined;
    return { user: { id: row.id, name: row.name, role: row.role as Role, createdAt: row.created_at, disabled: false }, csrfSecret: row.csrf_secret, expiresAt: row.expires_at };
  }

  async deleteSession(token: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', sha256(token)).execute();
  }

  // -------------------------------------------------------------------------------------------
  // tokens

  /** A new token for a server (printed once); its previous tokens stop working. */
  async serverToken(actor: Principal, fqdn: string): Promise<string> {
    requireRole(actor, 'admin');
    const state = await this.state();
    if (!(fqdn in state.servers)) throw new KpkgError('NOT_FOUND', `server ${fqdn} does not exist`);
    const t = newToken();
    await this.db.transaction().execute(async (trx) => {
      const now = this.iso();
      await trx.updateTable('tokens').set({ revoked_at: now }).where('kind', '=', 'server').where('fqdn', '=', fqdn).where('revoked_at', 'is', null).execute();
      await trx.insertInto('tokens').values({ id: t.id, hash: t.hash, kind: 'server', fqdn, name: fqdn, role: 'server', created_by: principalName(actor), created_at: now, revoked_at: null }).execute();
      await this.auditEntry(trx, actor, 'token-issue', `server:${fqdn}`, null, { token: t.id });
    });
    return t.token;
  }

  /** A token for CI and scripts, acting with `role`. */
  async createApiToken(actor: Principal, name: string, role: Role): Promise<{ id: string; token: string }> {
    requireRole(actor, 'admin');
    checkRole(role);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/.test(name)) throw new KpkgError('INVALID_INPUT', `token name ${JSON.stringify(name)} is not valid`);
    const t = newToken();
    await this.db.insertInto('tokens').values({ id: t.id, hash: t.hash, kind: 'api', fqdn: null, name, role, created_by: principalName(actor), created_at: this.iso(), revoked_at: null }).execute();
    await this.auditEntry(this.db, actor, 'token-issue', `token:${name}`, null, { token: t.id, role });
    return { id: t.id, token: t.token };
  }

  async tokens(): Promise<{ id: string; kind: string; name: string; role: string; fqdn: string | null; createdAt: string; createdBy: string; revokedAt: string | null }[]> {
    const rows = await this.db.selectFrom('tokens').select(['id', 'kind', 'name', 'role', 'fqdn', 'created_at', 'created_by', 'revoked_at']).orderBy('created_at', 'desc').execute();
    return rows.map((r) => ({ id: r.id, kind: r.kind, name: r.name, role: r.role, fqdn: r.fqdn, createdAt: r.created_at, createdBy: r.created_by, revokedAt: r.revoked_at }));
  }

  async revokeToken(actor: Principal, id: string): Promise<void> {
    requireRole(actor, 'admin');
    const r = await this.db.updateTable('tokens').set({ revoked_at: this.iso() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new KpkgError('NOT_FOUND', `no live token ${id}`);
    await this.auditEntry(this.db, actor, 'token-revoke', `token:${id}`, null, null);
  }

  /** The principal of a bearer token, undefined when it is unknown, revoked or malformed. */
  async authenticateToken(bearer: string): Promise<Principal | undefined> {
    const parsed = parseToken(bearer);
    if (!parsed) return undefined;
    // a prepared read, no cache: a revocation is seen by the next request, in every process
    const row = await this.store.reads.token(parsed.id);
    if (!row || row.revoked_at !== null || !equalDigests(row.hash, sha256(parsed.secret))) return undefined;
    if (row.kind === 'server' && row.fqdn !== null) return { kind: 'server', fqdn: row.fqdn, tokenId: row.id };
    if (row.kind === 'api' && (ROLES as readonly string[]).includes(row.role)) return { kind: 'api', name: row.name, role: row.role as Role, tokenId: row.id };
    return undefined;
  }

  // -------------------------------------------------------------------------------------------
  // reports and status

  /** Punch's report of a run on `fqdn`. */
  async postReport(actor: Principal, fqdn: string, input: unknown): Promise<void> {
    this.authorizeNode(actor, fqdn);
    const r = parseReport(input);
    await this.db
      .insertInto('reports')
      .values({ fqdn, revision: r.revision, status: r.status, changes: r.changes ?? 0, summary: r.summary ?? '', at: r.at ?? this.iso(), received_at: this.iso() })
      .execute();
  }

  async reports(fqdn: string, limit = 50): Promise<{ revision: number; status: string; changes: number; summary: string; at: string; receivedAt: string }[]> {
    const rows = await this.db.selectFrom('reports').selectAll().where('fqdn', '=', fqdn).orderBy('id', 'desc').limit(Math.min(limit, 1000)).execute();
    return rows.map((r) => ({ revision: r.revision, status: r.status, changes: r.changes, summary: r.summary, at: r.at, receivedAt: r.received_at }));
  }

  /** Every server with its revision, the revision its last report applied, and its health. */
  async serverStatus(): Promise<ServerStatus[]> {
    const state = await this.state();
    const heads = await this.db.selectFrom('heads').select(['fqdn', 'revision']).execute();
    const head = new Map(heads.map((h) => [h.fqdn, h.revision]));
    const latest = await this.db
      .selectFrom('reports')
      .innerJoin(this.db.selectFrom('reports').select(['fqdn', (eb) => eb.fn.max<number>('id').as('last')]).groupBy('fqdn').as('m'), 'm.last', 'reports.id')
      .selectAll('reports')
      .execute();
    const report = new Map(latest.map((r) => [r.fqdn, r]));
    const silentBefore = new Date(this.now().getTime() - this.silentAfterMs).toISOString();
    return Object.entries(state.servers)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([fqdn, def]) => {
        const revision = head.get(fqdn) ?? 0;
        const r = report.get(fqdn);
        let health: ServerHealth;
        if (revision === 0) health = 'no-file';
        else if (!r) health = 'never-reported';
        else if (r.status === 'failed') health = 'failed';
        else if (r.received_at < silentBefore) health = 'silent';
        else if (r.revision < revision) health = 'behind';
        else health = 'current';
        return {
          fqdn,
          environment: def.environment,
          roles: def.roles,
          revision,
          ...(r ? { applied: r.status === 'failed' ? undefined : r.revision, lastReport: { revision: r.revision, status: r.status, changes: r.changes, summary: r.summary, at: r.at, receivedAt: r.received_at } } : {}),
          health,
        } as ServerStatus;
      });
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

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

export function describeRef(ref: EntityRef): string {
  return ref.name === '' ? ref.kind : `${ref.kind} ${ref.name}`;
}

function checkUserName(name: string): void {
  if (!/^[a-z][a-z0-9._-]{0,63}$/.test(name)) throw new KpkgError('INVALID_INPUT', `user name ${JSON.stringify(name)}: lower-case letters, digits, . _ -, starting with a letter`);
}

function checkRole(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role)) throw new KpkgError('INVALID_INPUT', `role ${JSON.stringify(role)}: expected viewer, editor or admin`);
  return role as Role;
}

function checkPassword(password: string): void {
  if ([...password].length < 12) throw new KpkgError('INVALID_INPUT', 'password: at least 12 characters');
  if (password.length > 1024) throw new KpkgError('INVALID_INPUT', 'password: at most 1024 characters');
}

function parseReport(input: unknown): ReportInput {
  const o = input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : undefined;
  if (!o) throw new KpkgError('INVALID_INPUT', 'report: expected an object');
  if (!Number.isInteger(o.revision) || (o.revision as number) < 0 || (o.revision as number) > 2 ** 31 - 1) throw new KpkgError('INVALID_INPUT', 'report.revision: expected a revision number');
  if (o.status !== 'changed' && o.status !== 'unchanged' && o.status !== 'failed') throw new KpkgError('INVALID_INPUT', 'report.status: expected changed, unchanged or failed');
  if (o.changes !== undefined && (!Number.isInteger(o.changes) || (o.changes as number) < 0 || (o.changes as number) > 2 ** 31 - 1)) throw new KpkgError('INVALID_INPUT', 'report.changes: expected a count');
  if (o.summary !== undefined && (typeof o.summary !== 'string' || o.summary.length > 65536)) throw new KpkgError('INVALID_INPUT', 'report.summary: expected text up to 64 KiB');
  if (o.at !== undefined && (typeof o.at !== 'string' || Number.isNaN(Date.parse(o.at)))) throw new KpkgError('INVALID_INPUT', 'report.at: expected an ISO-8601 time');
  return {
    revision: o.revision as number,
    status: o.status,
    ...(o.changes !== undefined ? { changes: o.changes as number } : {}),
    ...(o.summary !== undefined ? { summary: o.summary } : {}),
    ...(o.at !== undefined ? { at: new Date(o.at).toISOString() } : {}),
  };
}

type Settings = Record<string, Value | SecretRef>;

function forEachSetting(state: State, fn: (settings: Settings, key: string, value: Value | SecretRef) => void, servers?: string[]): void {
  const scopes = [state.global, ...Object.values(state.environments), ...Object.values(state.roles)];
  if (servers) for (const f of servers) scopes.push(...(state.servers[f] ? [state.servers[f]] : []));
  else scopes.push(...Object.values(state.servers));
  for (const scope of scopes) for (const [key, value] of Object.entries(scope.settings)) fn(scope.settings, key, value);
}

function allSecretIds(state: State, servers?: string[]): string[] {
  const ids = new Set<string>();
  forEachSetting(state, (_s, _k, v) => (isSecretRef(v) ? void ids.add(v.secret) : undefined), servers);
  return [...ids];
}

/** Walks the settings of a parsed (unchecked) state document. */
function walkSettings(doc: unknown, fn: (settings: Record<string, unknown>, key: string, value: unknown) => void): void {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(doc)) return;
  const scopes: unknown[] = [doc.global];
  for (const group of [doc.environments, doc.roles, doc.servers]) if (isObj(group)) scopes.push(...Object.values(group));
  for (const scope of scopes) {
    if (!isObj(scope) || !isObj(scope.settings)) continue;
    for (const [key, value] of Object.entries(scope.settings)) fn(scope.settings, key, value);
  }
}

/**
 * An entity's before and after for the audit log: a secret appears as "(secret)", or as
 * "changed" where this change gave it a new value.
 */
function auditPair(before: EntityBody | null, after: EntityBody | null): [unknown, unknown] {
  const mask = (body: EntityBody | null, other: EntityBody | null): unknown => {
    if (body === null || Array.isArray(body)) return body;
    const otherSettings = other !== null && !Array.isArray(other) ? other.settings : {};
    const settings: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body.settings)) {
      if (!isSecretRef(v)) settings[k] = v;
      else {
        const o = otherSettings[k];
        settings[k] = isSecretRef(o) && o.secret === v.secret ? SECRET_MASK : 'changed';
      }
    }
    return { ...body, settings };
  };
  return [mask(before, after), mask(after, before)];
}

interface Head {
  revision: number;
  hash: string;
  etag: string;
}

/** The file at `revision`: the two places the file carries it (file.ts's buildNodeFile). */
function withRevision(file: NodeFile, revision: number): NodeFile {
  return { ...file, parameters: { ...file.parameters, kelkoo_revision: revision }, kelkoo: { ...file.kelkoo, revision } };
}

/** Turns a secret reference into its value, for the file of the server that needs it. */
function revealer(values: Map<string, string>): (ref: SecretRef) => string {
  return (ref) => {
    const v = values.get(ref.secret);
    if (v === undefined) throw new KpkgError('INVALID_INPUT', `secret ${ref.secret} does not exist`);
    return v;
  };
}

/**
 * Masks any secret value left in text meant for people. The diff already masks the parameters
 * the catalog marks secret; this catches a secret reference set on a key it does not mark.
 */
function scrub(text: string, values: Iterable<string>): string {
  let out = text;
  for (const v of values) if (v.length >= 4) out = out.split(v).join(SECRET_MASK);
  return out;
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

