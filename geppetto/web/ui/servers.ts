/** The servers: the list (filters, revision published and applied, last report, health) and one server. */
import type { FastifyInstance } from 'fastify';
import { KpkgError } from '../../../packager/errors.js';
import type { ResolvedServer } from '../../model.js';
import type { ServerHealth, ServerStatus } from '../../service/index.js';
import { compareStrings } from '../../resolve/keys.js';
import { offsetParam, openChangesets, page, sendFragment, sendPage, type Ui, type UserPrincipal } from './context.js';
import { diffLines, showDefinition, showValue } from './values.js';

/** Servers a page of the list shows: 10,000 servers are not one page. */
export const SERVERS_PAGE = 100;

const HEALTH: { value: ServerHealth; label: string }[] = [
  { value: 'current', label: 'current' },
  { value: 'behind', label: 'behind' },
  { value: 'failed', label: 'failed' },
  { value: 'silent', label: 'silent' },
  { value: 'never-reported', label: 'never reported' },
  { value: 'no-file', label: 'no file' },
];

/** The badges of the list: what needs a look first (behind, failed, silent) stands out. */
const attention = (h: ServerHealth): boolean => h === 'behind' || h === 'failed' || h === 'silent';

export function filterServers(servers: ServerStatus[], f: { name?: string; role?: string; environment?: string; health?: string }): ServerStatus[] {
  const name = (f.name ?? '').trim().toLowerCase();
  return servers.filter(
    (s) =>
      (name === '' || s.fqdn.toLowerCase().includes(name)) &&
      (!f.role || s.roles.includes(f.role)) &&
      (!f.environment || s.environment === f.environment) &&
      (!f.health || (f.health === 'attention' ? attention(s.health) : s.health === f.health)),
  );
}

function settingsView(resolved: ResolvedServer) {
  const conflicted = new Set(resolved.problems.filter((p) => p.key !== undefined).map((p) => p.key));
  return Object.values(resolved.settings)
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .map((s) => {
      const defaultValue = resolved.components[s.key.slice(0, s.key.indexOf('.'))]?.version.parameters.find((p) => `${s.key.slice(0, s.key.indexOf('.'))}.${p.name}` === s.key)?.default;
      let value: string;
      if (s.origin === 'definition') value = s.value === undefined ? '(conflict)' : showValue(s.value);
      else if (s.origin === 'default') value = s.secret ? '(secret)' : `${showValue(defaultValue)}`;
      else value = '(none)';
      return {
        key: s.key,
        value,
        origin: s.origin === 'definition' ? 'set' : s.origin === 'default' ? 'class default' : 'unset, no default',
        secret: s.secret,
        problem: conflicted.has(s.key),
        chain: s.chain.map((d, i) => ({ ...showDefinition(d), winner: i === 0 })),
      };
    });
}

export function registerServers(app: FastifyInstance, ui: Ui): void {
  const g = ui.geppetto;

  app.get(
    '/',
    page(ui, async (ctx, request, reply) => {
      const q = request.query;
      const [all, state] = await Promise.all([g.serverStatus(), g.state()]);
      const servers = filterServers(all, { name: q.name ?? '', role: q.role ?? '', environment: q.environment ?? '', health: q.health ?? '' });
      const counts = HEALTH.map((h) => ({ ...h, count: all.filter((s) => s.health === h.value).length })).filter((h) => h.count > 0);
      const offset = Math.min(offsetParam(q.offset), Math.max(0, servers.length - 1));
      const shown = servers.slice(offset, offset + SERVERS_PAGE);
      // the pages' links keep the filter
      const filterQuery = (['name', 'role', 'environment', 'health'] as const)
        .filter((k) => (q[k] ?? '') !== '')
        .map((k) => `${k}=${encodeURIComponent(q[k] ?? '')}`)
        .join('&');
      const pageHref = (o: number) => `/?${filterQuery}${filterQuery ? '&' : ''}offset=${o}`;
      return sendPage(ui, reply, 'servers', {
        ...ctx,
        title: 'Servers',
        nav: 'servers',
        filter: { name: q.name ?? '', role: q.role ?? '', environment: q.environment ?? '', health: q.health ?? '' },
        roles: Object.keys(state.roles).sort().map((r) => ({ name: r, selected: r === q.role })),
        environments: Object.keys(state.environments).sort().map((e) => ({ name: e, selected: e === q.environment })),
        healths: [{ value: 'attention', label: 'needs attention' }, ...HEALTH].map((h) => ({ ...h, selected: h.value === q.health })),
        counts,
        total: all.length,
        matching: servers.length,
        first: shown.length > 0 ? offset + 1 : 0,
        last: offset + shown.length,
        previousHref: offset > 0 ? pageHref(Math.max(0, offset - SERVERS_PAGE)) : undefined,
        nextHref: offset + shown.length < servers.length ? pageHref(offset + shown.length) : undefined,
        servers: shown.map((s) => ({
          ...s,
          attention: attention(s.health),
          healthLabel: HEALTH.find((h) => h.value === s.health)?.label ?? s.health,
          applied: s.applied ?? (s.lastReport ? '—' : ''),
        })),
      });
    }),
  );

  app.get(
    '/servers/:fqdn',
    page<{ fqdn: string }>(ui, async (ctx, request, reply) => {
      const { fqdn } = request.params;
      const data = await serverData(ui, ctx.user, fqdn, revisionParam(request.query.revision));
      return sendPage(ui, reply, 'server', { ...ctx, title: fqdn, nav: 'servers', ...data, scope: `server:${fqdn}`, openChangesets: ctx.canEdit ? await openChangesets(ui) : [] });
    }),
  );

  // what one revision changed in the file, from the revision before it (secrets masked)
  app.get(
    '/servers/:fqdn/diff',
    page<{ fqdn: string }>(ui, async (ctx, request, reply) => {
      const { fqdn } = request.params;
      const revision = revisionParam(request.query.revision);
      if (revision === undefined) throw new KpkgError('INVALID_INPUT', 'revision: expected a revision number');
      const diff = await g.revisionDiff(ctx.user, fqdn, revision);
      const made = (await g.revisions(fqdn)).find((r) => r.revision === revision);
      return sendPage(ui, reply, 'revision-diff', { ...ctx, title: `${fqdn} revision ${revision}`, nav: 'servers', fqdn, revision, previous: revision > 1 ? revision - 1 : undefined, changeset: made?.changeset, createdAt: made?.createdAt, lines: diffLines(diff) });
    }),
  );

  // the file preview alone: htmx swaps it in place when another revision is picked
  app.get(
    '/servers/:fqdn/file',
    page<{ fqdn: string }>(ui, async (ctx, request, reply) => {
      const { fqdn } = request.params;
      const file = await fileView(ui, ctx.user, fqdn, revisionParam(request.query.revision));
      const revisions = (await ui.geppetto.revisions(fqdn)).map((r) => ({ ...r, shown: file?.revision === r.revision }));
      return sendFragment(ui, reply, 'server-file', { fqdn, file, revisions });
    }),
  );
}

function revisionParam(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new KpkgError('INVALID_INPUT', `revision ${JSON.stringify(v)}: expected a revision number`);
  return n;
}

async function fileView(ui: Ui, user: UserPrincipal, fqdn: string, revision: number | undefined) {
  try {
    return await ui.geppetto.maskedFile(user, fqdn, revision);
  } catch (err) {
    if (err instanceof KpkgError && err.code === 'NOT_FOUND' && revision === undefined) return undefined;
    throw err;
  }
}

async function serverData(ui: Ui, user: UserPrincipal, fqdn: string, revision: number | undefined) {
  const g = ui.geppetto;
  const { resolved } = await g.explain(fqdn);
  const [state, status, revisions, reports] = await Promise.all([g.state(), g.serverStatus(), g.revisions(fqdn), g.reports(fqdn, 20)]);
  const def = state.servers[fqdn];
  const st = status.find((s) => s.fqdn === fqdn);
  const file = await fileView(ui, user, fqdn, revision);
  return {
    fqdn,
    environment: def?.environment ?? resolved.environment,
    roles: def?.roles ?? [],
    status: st ? { ...st, healthLabel: st.health.replace('-', ' '), attention: attention(st.health) } : undefined,
    components: Object.entries(resolved.components)
      .sort(([a], [b]) => compareStrings(a, b))
      .map(([name, c]) => ({ name, evr: c.version.evr, package: c.version.package, chain: c.chain.map(showDefinition) })),
    settings: settingsView(resolved),
    problems: resolved.problems.map((p) => ({ ...p, definitions: (p.definitions ?? []).map(showDefinition) })),
    file,
    revisions: revisions.map((r) => ({ ...r, shown: file?.revision === r.revision })),
    reports,
  };
}
