/** People: accounts and their roles, logins (rate-limited across processes), sessions. */
import type { Updateable } from 'kysely';
import { KpkgError } from '../../packager/errors.js';
import type { Database } from '../store/index.js';
import { checkRole, requireRole, type Principal, type Role } from './access.js';
import { auditEntry } from './audit.js';
import type { ServiceContext } from './context.js';
import { hashPassword, randomId, sha256, verifyPassword } from './crypto.js';

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

/** A user row as the service reports it. */
const userInfo = (r: { id: number; name: string; role: string; created_at: string; disabled: number }): UserInfo => ({ id: r.id, name: r.name, role: r.role as Role, createdAt: r.created_at, disabled: r.disabled !== 0 });

/** Per service, the hash an unknown name is checked against, so that it costs what a known one does. */
const dummyHashes = new WeakMap<ServiceContext, Promise<string>>();

export async function addUser(ctx: ServiceContext, actor: Principal, name: string, password: string, role: Role): Promise<UserInfo> {
  requireRole(actor, 'admin');
  checkUserName(name);
  checkRole(role);
  checkPassword(password);
  const hash = await hashPassword(password, ctx.scryptCost);
  const existing = await ctx.db.selectFrom('users').select('id').where('name', '=', name).executeTakeFirst();
  if (existing) throw new KpkgError('CONFLICT', `user ${name} already exists`);
  const row = await ctx.db.insertInto('users').values({ name, role, password_hash: hash, created_at: ctx.iso(), disabled: 0 }).returning('id').executeTakeFirstOrThrow();
  await auditEntry(ctx, ctx.db, actor, 'user-add', `user:${name}`, null, { role, password: 'changed' });
  return user(ctx, row.id);
}

export async function user(ctx: ServiceContext, id: number): Promise<UserInfo> {
  const r = await ctx.db.selectFrom('users').select(['id', 'name', 'role', 'created_at', 'disabled']).where('id', '=', id).executeTakeFirst();
  if (!r) throw new KpkgError('NOT_FOUND', `user ${id} does not exist`);
  return userInfo(r);
}

export async function users(ctx: ServiceContext): Promise<UserInfo[]> {
  const rows = await ctx.db.selectFrom('users').select(['id', 'name', 'role', 'created_at', 'disabled']).orderBy('name').execute();
  return rows.map(userInfo);
}

export async function updateUser(ctx: ServiceContext, actor: Principal, name: string, changes: { role?: Role; password?: string; disabled?: boolean }): Promise<UserInfo> {
  const self = actor.kind === 'user' && actor.name === name;
  // a person may change their own password; everything else is an admin's
  if (!(self && changes.role === undefined && changes.disabled === undefined)) requireRole(actor, 'admin');
  const row = await ctx.db.selectFrom('users').select(['id', 'role', 'disabled']).where('name', '=', name).executeTakeFirst();
  if (!row) throw new KpkgError('NOT_FOUND', `user ${name} does not exist`);
  const set: Updateable<Database['users']> = {};
  if (changes.role !== undefined) set.role = checkRole(changes.role);
  if (changes.disabled !== undefined) set.disabled = changes.disabled ? 1 : 0;
  if (changes.password !== undefined) {
    checkPassword(changes.password);
    set.password_hash = await hashPassword(changes.password, ctx.scryptCost);
  }
  await ctx.db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set(set).where('id', '=', row.id).execute();
    // a new password or a disabled account ends every session of that account
    if (changes.password !== undefined || changes.disabled) await trx.deleteFrom('sessions').where('user_id', '=', row.id).execute();
    await auditEntry(
      ctx,
      trx,
      actor,
      'user-update',
      `user:${name}`,
      { role: row.role, disabled: row.disabled !== 0 },
      { ...(changes.role !== undefined ? { role: changes.role } : {}), ...(changes.disabled !== undefined ? { disabled: changes.disabled } : {}), ...(changes.password !== undefined ? { password: 'changed' } : {}) },
    );
  });
  return user(ctx, row.id);
}

/**
 * Checks a password. Refuses (RATE_LIMITED) after 10 failures in 15 minutes for the account or
 * for the client (`clientKey`, e.g. its address), whichever comes first, across processes.
 * An unknown name costs the same scrypt as a known one.
 */
export async function login(ctx: ServiceContext, name: string, password: string, clientKey: string): Promise<UserInfo> {
  const since = new Date(ctx.now().getTime() - LOGIN_WINDOW_MS).toISOString();
  const keys = [`user:${name}`, `client:${clientKey}`];
  for (const key of keys) {
    const row = await ctx.db.selectFrom('login_attempts').select((eb) => eb.fn.countAll<number>().as('n')).where('key', '=', key).where('at', '>', since).executeTakeFirst();
    if (Number(row?.n ?? 0) >= LOGIN_MAX_FAILURES) throw new KpkgError('RATE_LIMITED', 'too many failed logins: try again in 15 minutes');
  }
  const found = await ctx.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
  let dummy = dummyHashes.get(ctx);
  if (!dummy) dummyHashes.set(ctx, (dummy = hashPassword(randomId(), ctx.scryptCost)));
  const ok = await verifyPassword(password, found?.password_hash ?? (await dummy));
  if (!found || !ok || found.disabled !== 0) {
    const at = ctx.iso();
    await ctx.db.insertInto('login_attempts').values(keys.map((key) => ({ key, at }))).execute();
    await auditEntry(ctx, ctx.db, `client:${clientKey}`, 'login-failed', `user:${name}`, null, null);
    throw new KpkgError('UNAUTHORIZED', 'wrong name or password');
  }
  await ctx.db.deleteFrom('login_attempts').where('key', '=', `user:${name}`).execute();
  return userInfo(found);
}

/** A session for a logged-in user: the cookie value (stored only as its hash) and a CSRF secret. */
export async function createSession(ctx: ServiceContext, userId: number): Promise<{ token: string; csrfSecret: string; expiresAt: string }> {
  const token = randomId(32);
  const csrfSecret = randomId(24);
  const expiresAt = new Date(ctx.now().getTime() + SESSION_MS).toISOString();
  await ctx.db.insertInto('sessions').values({ id_hash: sha256(token), user_id: userId, csrf_secret: csrfSecret, created_at: ctx.iso(), expires_at: expiresAt }).execute();
  await ctx.db.deleteFrom('sessions').where('expires_at', '<', ctx.iso()).execute();
  return { token, csrfSecret, expiresAt };
}

export async function session(ctx: ServiceContext, token: string): Promise<SessionInfo | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const row = await ctx.db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['users.id', 'users.name', 'users.role', 'users.created_at', 'users.disabled', 'sessions.csrf_secret', 'sessions.expires_at'])
    .where('sessions.id_hash', '=', sha256(token))
    .executeTakeFirst();
  if (!row || row.disabled !== 0 || row.expires_at <= ctx.iso()) return undefined;
  return { user: userInfo(row), csrfSecret: row.csrf_secret, expiresAt: row.expires_at };
}

export async function deleteSession(ctx: ServiceContext, token: string): Promise<void> {
  await ctx.db.deleteFrom('sessions').where('id_hash', '=', sha256(token)).execute();
}

function checkUserName(name: string): void {
  if (!/^[a-z][a-z0-9._-]{0,63}$/.test(name)) throw new KpkgError('INVALID_INPUT', `user name ${JSON.stringify(name)}: lower-case letters, digits, . _ -, starting with a letter`);
}

function checkPassword(password: string): void {
  if ([...password].length < 12) throw new KpkgError('INVALID_INPUT', 'password: at least 12 characters');
  if (password.length > 1024) throw new KpkgError('INVALID_INPUT', 'password: at most 1024 characters');
}
