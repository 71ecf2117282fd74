/**
 * Secrets: values stored encrypted under the secrets key, referred to from the state as
 * `{ secret: id }`, turned back into values only for the file of a server that needs them, and
 * masked everywhere people look.
 */
import { KpkgError } from '../../packager/errors.js';
import type { SecretRef, State, Value } from '../model.js';
import { principalName, type Principal } from './access.js';
import type { Db, ServiceContext } from './context.js';
import { open, randomId, seal } from './crypto.js';
import { describeRef, isSecretRef, type EntityBody, type EntityRef } from './entities.js';

/** Shown instead of a secret: in previews, audit entries, exports without --with-secrets. */
export const SECRET_MASK = '(secret)';

/** Stores a secret's value as text (a non-text value as its JSON, which the file turns back into its type). */
export async function insertSecret(ctx: ServiceContext, db: Db, actor: Principal, value: Value, id = `s_${randomId()}`): Promise<string> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new KpkgError('INVALID_INPUT', `secret id ${JSON.stringify(id)} is not valid`);
  const sealed = seal(ctx.key, typeof value === 'string' ? value : JSON.stringify(value), `secret:${id}`);
  await db.insertInto('secrets').values({ id, nonce: sealed.nonce, ciphertext: sealed.ciphertext, created_at: ctx.iso(), created_by: principalName(actor) }).execute();
  return id;
}

/** Which of these secret ids exist. */
export async function existingSecrets(db: Db, ids: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db.selectFrom('secrets').select('id').where('id', 'in', ids.slice(i, i + 500)).execute();
    for (const r of rows) out.add(r.id);
  }
  return out;
}

/** The values of these secrets, decrypted. */
export async function secretValues(ctx: ServiceContext, db: Db, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db.selectFrom('secrets').selectAll().where('id', 'in', ids.slice(i, i + 500)).execute();
    for (const r of rows) out.set(r.id, open(ctx.key, r, `secret:${r.id}`).toString('utf8'));
  }
  return out;
}

/**
 * Makes an entity's settings safe to store: a secret reference must name a secret that exists
 * (`known`); a plain value of a key in `secretKeys` is stored encrypted and replaced by its
 * reference. Changes `body` in place.
 */
export async function sealSecretSettings(ctx: ServiceContext, db: Db, actor: Principal, ref: EntityRef, body: EntityBody, known: ReadonlySet<string>, secretKeys: ReadonlySet<string>): Promise<void> {
  if (Array.isArray(body)) return;
  for (const [key, value] of Object.entries(body.settings)) {
    if (isSecretRef(value)) {
      if (!known.has(value.secret)) throw new KpkgError('INVALID_INPUT', `${describeRef(ref)}: setting ${key} refers to secret ${value.secret}, which does not exist here`);
    } else if (secretKeys.has(key)) {
      body.settings[key] = { secret: await insertSecret(ctx, db, actor, value) };
    }
  }
}

type Settings = Record<string, Value | SecretRef>;

/** Every setting of the state (of the global, environment and role scopes, and of `servers` or all servers). */
export function forEachSetting(state: State, fn: (settings: Settings, key: string, value: Value | SecretRef) => void, servers?: string[]): void {
  const scopes = [state.global, ...Object.values(state.environments), ...Object.values(state.roles)];
  if (servers) for (const f of servers) scopes.push(...(state.servers[f] ? [state.servers[f]] : []));
  else scopes.push(...Object.values(state.servers));
  for (const scope of scopes) for (const [key, value] of Object.entries(scope.settings)) fn(scope.settings, key, value);
}

/** The secrets the state refers to (those `servers` can reach, when given). */
export function allSecretIds(state: State, servers?: string[]): string[] {
  const ids = new Set<string>();
  forEachSetting(state, (_s, _k, v) => (isSecretRef(v) ? void ids.add(v.secret) : undefined), servers);
  return [...ids];
}

/** Turns a secret reference into its value, for the file of the server that needs it. */
export function revealer(values: Map<string, string>): (ref: SecretRef) => string {
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
export function scrub(text: string, values: Iterable<string>): string {
  let out = text;
  for (const v of values) if (v.length >= 4) out = out.split(v).join(SECRET_MASK);
  return out;
}
