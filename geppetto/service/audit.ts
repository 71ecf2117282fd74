/** The audit log: who did what, on which target, before and after; append-only (store triggers). */
import { principalName, type Principal } from './access.js';
import type { Db, ServiceContext } from './context.js';
import { isSecretRef, type EntityBody } from './entities.js';
import { SECRET_MASK } from './secrets.js';

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

/** Appends an entry, in `db`: the caller's transaction when the change it records has one. */
export async function auditEntry(ctx: ServiceContext, db: Db, actor: Principal | string, action: string, target: string, before: unknown, after: unknown): Promise<void> {
  await db
    .insertInto('audit')
    .values({ at: ctx.iso(), actor: typeof actor === 'string' ? actor : principalName(actor), action, target, before: before === null ? null : JSON.stringify(before), after: after === null ? null : JSON.stringify(after) })
    .execute();
}

/** The audit log, newest first; `before` pages back from an entry id. */
export async function auditLog(db: Db, options: { limit?: number; before?: number; target?: string } = {}): Promise<AuditEntry[]> {
  let q = db.selectFrom('audit').selectAll().orderBy('id', 'desc').limit(Math.min(options.limit ?? 100, 1000));
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

/**
 * An entity's before and after for the audit log: a secret appears as "(secret)", or as
 * "changed" where this change gave it a new value.
 */
export function auditPair(before: EntityBody | null, after: EntityBody | null): [unknown, unknown] {
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
