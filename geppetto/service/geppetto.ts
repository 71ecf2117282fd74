/**
 * Geppetto's service: everything the CLI and the HTTP layer do, as async methods over the store.
 * Callers pass the acting principal; the service checks roles, writes the audit log, and never
 * returns a secret's value except inside the file served to the server that needs it.
 *
 * This class is the one door callers use; each capability lives in a module of its own, which
 * the methods below hand over to with the shared ServiceContext (context.ts):
 *   changesets.ts      changesets and their edits        preview.ts     what publishing would do
 *   publish.ts         publish, revert                   import-export.ts  the state file
 *   state.ts           the published state, explain      revisions.ts   the published files, read
 *   catalog-refresh.ts the catalog, refreshed            node-files.ts  files built and compared
 *   users.ts           accounts, logins, sessions        tokens.ts      server and API tokens
 *   reports.ts         Punch's reports, server health    audit.ts       the audit log
 *   secrets.ts         secrets stored, revealed, masked  access.ts      principals and roles
 */
import type { Catalog, ResolvedServer, State, Value } from '../model.js';
import { openStore, type Store } from '../store/index.js';
import { authorizeNode, type Principal, type Role } from './access.js';
import { auditLog, type AuditEntry } from './audit.js';
import * as catalogs from './catalog-refresh.js';
import type { RefreshResult } from './catalog-refresh.js';
import * as changesets from './changesets.js';
import type { ChangesetInfo } from './changesets.js';
import { ServiceContext, type Db, type ServiceSettings } from './context.js';
import { loadOrCreateKey } from './crypto.js';
import type { EntityBody, EntityRef } from './entities.js';
import * as stateFile from './import-export.js';
import * as previews from './preview.js';
import type { Preview, ServerPreview } from './preview.js';
import * as publishing from './publish.js';
import type { PublishResult } from './publish.js';
import * as reports from './reports.js';
import type { Report, ServerStatus } from './reports.js';
import * as files from './revisions.js';
import type { ChangesetRevisions, NodeFileAnswer } from './revisions.js';
import * as states from './state.js';
import * as tokens from './tokens.js';
import type { TokenInfo } from './tokens.js';
import * as users from './users.js';
import type { SessionInfo, UserInfo } from './users.js';

export interface GeppettoOptions extends ServiceSettings {
  /** The data directory: `secrets.key`, and `geppetto.db` unless `database` is given. */
  dataDir: string;
  database?: string | undefined;
  busyTimeout?: number;
}

/** Opens the data directory (key file, database, migrations) and returns the service. */
export async function openGeppetto(options: GeppettoOptions): Promise<Geppetto> {
  const key = loadOrCreateKey(options.dataDir);
  const store = await openStore({ dataDir: options.dataDir, database: options.database, ...(options.busyTimeout !== undefined ? { busyTimeout: options.busyTimeout } : {}) });
  return new Geppetto(store, key, options);
}

export class Geppetto {
  private readonly ctx: ServiceContext;

  constructor(store: Store, key: Buffer, options: ServiceSettings) {
    this.ctx = new ServiceContext(store, key, options);
  }

  get store(): Store {
    return this.ctx.store;
  }

  get db(): Db {
    return this.ctx.db;
  }

  close(): Promise<void> {
    return this.ctx.store.close();
  }

  // the published state (state.ts) and the state file (import-export.ts)

  /** The published state; secrets as references. */
  async state(): Promise<State> {
    return (await states.loadState(this.db)).state;
  }

  entity(ref: EntityRef): Promise<{ body: EntityBody | null; version: number }> {
    return states.entity(this.db, ref);
  }

  explain(fqdn: string, key?: string): Promise<{ text: string; resolved: ResolvedServer }> {
    return states.explain(this.db, fqdn, key);
  }

  exportState(actor: Principal, options: { withSecrets?: boolean } = {}): Promise<string> {
    return stateFile.exportState(this.ctx, actor, options);
  }

  importState(actor: Principal, text: string, options: { title?: string } = {}): Promise<PublishResult> {
    return stateFile.importState(this.ctx, actor, text, options);
  }

  // changesets (changesets.ts), preview (preview.ts), publish and revert (publish.ts)

  createChangeset(actor: Principal, title: string, options: { reverts?: number } = {}): Promise<ChangesetInfo> {
    return changesets.createChangeset(this.ctx, actor, title, options);
  }

  changeset(id: number): Promise<ChangesetInfo> {
    return changesets.changeset(this.db, id);
  }

  changesets(options: { status?: ChangesetInfo['status']; limit?: number } = {}): Promise<Omit<ChangesetInfo, 'entities'>[]> {
    return changesets.changesets(this.db, options);
  }

  changesetState(id: number): Promise<State> {
    return changesets.changesetState(this.db, id);
  }

  stage(id: number, actor: Principal, ref: EntityRef, body: unknown, options: { expectedVersion?: number; secretKeys?: readonly string[] } = {}): Promise<ChangesetInfo> {
    return changesets.stage(this.ctx, id, actor, ref, body, options);
  }

  unstage(id: number, actor: Principal, ref: EntityRef): Promise<ChangesetInfo> {
    return changesets.unstage(this.ctx, id, actor, ref);
  }

  setSetting(id: number, actor: Principal, scope: EntityRef, key: string, value: Value, options: { secret?: boolean; expectedVersion?: number } = {}): Promise<ChangesetInfo> {
    return changesets.setSetting(this.ctx, id, actor, scope, key, value, options);
  }

  unsetSetting(id: number, actor: Principal, scope: EntityRef, key: string, options: { remove?: boolean; expectedVersion?: number } = {}): Promise<ChangesetInfo> {
    return changesets.unsetSetting(this.ctx, id, actor, scope, key, options);
  }

  discard(id: number, actor: Principal): Promise<void> {
    return changesets.discard(this.ctx, id, actor);
  }

  preview(id: number, options: { diffs?: number } = {}): Promise<Preview> {
    return previews.preview(this.ctx, id, options);
  }

  previewDiff(id: number, fqdn: string): Promise<ServerPreview | undefined> {
    return previews.previewDiff(this.ctx, id, fqdn);
  }

  publish(id: number, actor: Principal): Promise<PublishResult> {
    return publishing.publish(this.ctx, id, actor);
  }

  revert(id: number, actor: Principal): Promise<PublishResult> {
    return publishing.revert(this.ctx, id, actor);
  }

  // the published files (revisions.ts)

  nodeFile(actor: Principal, fqdn: string, options: { format?: 'yaml' | 'json'; revision?: number } = {}): Promise<NodeFileAnswer> {
    return files.nodeFile(this.ctx, actor, fqdn, options);
  }

  nodeFileEtag(actor: Principal, fqdn: string, format: 'yaml' | 'json' = 'yaml'): Promise<string | undefined> {
    return files.nodeFileEtag(this.ctx, actor, fqdn, format);
  }

  revisions(fqdn: string): Promise<{ revision: number; changeset: number; createdAt: string; etag: string }[]> {
    return files.revisions(this.db, fqdn);
  }

  changesetRevisions(id: number, page: { limit: number; offset: number }): Promise<ChangesetRevisions> {
    return files.changesetRevisions(this.db, id, page);
  }

  revisionDiff(actor: Principal, fqdn: string, revision: number): Promise<string> {
    return files.revisionDiff(this.ctx, actor, fqdn, revision);
  }

  maskedFile(actor: Principal, fqdn: string, revision?: number): Promise<{ revision: number; body: string }> {
    return files.maskedFile(this.ctx, actor, fqdn, revision);
  }

  // the catalog (catalog-refresh.ts)

  catalog(): Promise<Catalog> {
    return catalogs.catalog(this.ctx);
  }

  refreshCatalog(actor: Principal, options: { caFile?: string } = {}): Promise<RefreshResult> {
    return catalogs.refreshCatalog(this.ctx, actor, options);
  }

  // the audit log (audit.ts)

  audit(options: { limit?: number; before?: number; target?: string } = {}): Promise<AuditEntry[]> {
    return auditLog(this.db, options);
  }

  // people (users.ts) and machines (tokens.ts)

  addUser(actor: Principal, name: string, password: string, role: Role): Promise<UserInfo> {
    return users.addUser(this.ctx, actor, name, password, role);
  }

  user(id: number): Promise<UserInfo> {
    return users.user(this.ctx, id);
  }

  users(): Promise<UserInfo[]> {
    return users.users(this.ctx);
  }

  updateUser(actor: Principal, name: string, changes: { role?: Role; password?: string; disabled?: boolean }): Promise<UserInfo> {
    return users.updateUser(this.ctx, actor, name, changes);
  }

  login(name: string, password: string, clientKey: string): Promise<UserInfo> {
    return users.login(this.ctx, name, password, clientKey);
  }

  createSession(userId: number): Promise<{ token: string; csrfSecret: string; expiresAt: string }> {
    return users.createSession(this.ctx, userId);
  }

  session(token: string): Promise<SessionInfo | undefined> {
    return users.session(this.ctx, token);
  }

  deleteSession(token: string): Promise<void> {
    return users.deleteSession(this.ctx, token);
  }

  serverToken(actor: Principal, fqdn: string): Promise<string> {
    return tokens.serverToken(this.ctx, actor, fqdn);
  }

  createApiToken(actor: Principal, name: string, role: Role): Promise<{ id: string; token: string }> {
    return tokens.createApiToken(this.ctx, actor, name, role);
  }

  tokens(): Promise<TokenInfo[]> {
    return tokens.tokens(this.ctx);
  }

  revokeToken(actor: Principal, id: string): Promise<void> {
    return tokens.revokeToken(this.ctx, actor, id);
  }

  authenticateToken(bearer: string): Promise<Principal | undefined> {
    return tokens.authenticateToken(this.ctx, bearer);
  }

  // reports and status (reports.ts)

  postReport(actor: Principal, fqdn: string, input: unknown): Promise<void> {
    return reports.postReport(this.ctx, actor, fqdn, input);
  }

  reports(fqdn: string, limit = 50): Promise<Report[]> {
    return reports.reports(this.ctx, fqdn, limit);
  }

  serverStatus(): Promise<ServerStatus[]> {
    return reports.serverStatus(this.ctx);
  }

  /** Throws unless this principal may read this server's file or post its reports (access.ts). */
  authorizeNode(actor: Principal, fqdn: string): void {
    authorizeNode(actor, fqdn);
  }
}
