/** Punch's reports of its runs, and each server's health drawn from them. */
import { KpkgError } from '../../packager/errors.js';
import { compareStrings } from '../resolve/keys.js';
import { authorizeNode, type Principal } from './access.js';
import type { ServiceContext } from './context.js';
import { loadState } from './state.js';

export interface ReportInput {
  revision: number;
  status: 'changed' | 'unchanged' | 'failed';
  changes?: number;
  summary?: string;
  at?: string;
}

export interface Report {
  revision: number;
  status: string;
  changes: number;
  summary: string;
  at: string;
  receivedAt: string;
}

export type ServerHealth = 'current' | 'behind' | 'failed' | 'silent' | 'never-reported' | 'no-file';

export interface ServerStatus {
  fqdn: string;
  environment: string;
  roles: string[];
  revision: number;
  applied?: number;
  lastReport?: Report;
  health: ServerHealth;
}

/** A reports row as the service gives it. */
const report = (r: { revision: number; status: string; changes: number; summary: string; at: string; received_at: string }): Report => ({
  revision: r.revision,
  status: r.status,
  changes: r.changes,
  summary: r.summary,
  at: r.at,
  receivedAt: r.received_at,
});

/** Punch's report of a run on `fqdn`. */
export async function postReport(ctx: ServiceContext, actor: Principal, fqdn: string, input: unknown): Promise<void> {
  authorizeNode(actor, fqdn);
  const r = parseReport(input);
  await ctx.db
    .insertInto('reports')
    .values({ fqdn, revision: r.revision, status: r.status, changes: r.changes ?? 0, summary: r.summary ?? '', at: r.at ?? ctx.iso(), received_at: ctx.iso() })
    .execute();
}

/** A server's reports, newest first. */
export async function reports(ctx: ServiceContext, fqdn: string, limit = 50): Promise<Report[]> {
  const rows = await ctx.db.selectFrom('reports').selectAll().where('fqdn', '=', fqdn).orderBy('id', 'desc').limit(Math.min(limit, 1000)).execute();
  return rows.map(report);
}

/** Every server with its revision, the revision its last report applied, and its health. */
export async function serverStatus(ctx: ServiceContext): Promise<ServerStatus[]> {
  const db = ctx.db;
  const { state } = await loadState(db);
  const heads = await db.selectFrom('heads').select(['fqdn', 'revision']).execute();
  const head = new Map(heads.map((h) => [h.fqdn, h.revision]));
  const latest = await db
    .selectFrom('reports')
    .innerJoin(db.selectFrom('reports').select(['fqdn', (eb) => eb.fn.max<number>('id').as('last')]).groupBy('fqdn').as('m'), 'm.last', 'reports.id')
    .selectAll('reports')
    .execute();
  const last = new Map(latest.map((r) => [r.fqdn, r]));
  const silentBefore = new Date(ctx.now().getTime() - ctx.silentAfterMs).toISOString();
  return Object.entries(state.servers)
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([fqdn, def]) => {
      const revision = head.get(fqdn) ?? 0;
      const r = last.get(fqdn);
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
        ...(r ? { applied: r.status === 'failed' ? undefined : r.revision, lastReport: report(r) } : {}),
        health,
      } as ServerStatus;
    });
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
