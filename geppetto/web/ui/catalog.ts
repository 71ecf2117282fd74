/** Roles, environments and components: what the configuration is made of, read-only pages. */
import type { FastifyInstance } from 'fastify';
import { KpkgError } from '../../../packager/errors.js';
import { componentVersionsView } from '../../service/index.js';
import type { State } from '../../model.js';
import { compareStrings } from '../../resolve/keys.js';
import { openChangesets, page, sendPage, type Ui } from './context.js';
import { scopeView, showValue } from './values.js';

function childrenOf(state: State, role: string): string[] {
  return Object.entries(state.roles)
    .filter(([, r]) => r.parents.includes(role))
    .map(([n]) => n)
    .sort();
}

function serversWithRole(state: State, role: string): string[] {
  return Object.entries(state.servers)
    .filter(([, s]) => s.roles.includes(role))
    .map(([n]) => n)
    .sort();
}

/** The page of what an audit entry is about: `changeset:3`, `role base`, `server web03...`. */
function targetHref(target: string): string | undefined {
  const cs = /^changeset:(\d+)$/.exec(target);
  if (cs) return `/changesets/${cs[1]}`;
  const m = /^(role|server) (\S+)$/.exec(target);
  if (m?.[1] === 'role') return `/roles/${encodeURIComponent(m[2] ?? '')}`;
  if (m?.[1] === 'server') return `/servers/${encodeURIComponent(m[2] ?? '')}`;
  return undefined;
}

export function registerCatalog(app: FastifyInstance, ui: Ui): void {
  const g = ui.geppetto;

  app.get(
    '/roles',
    page(ui, async (ctx, _request, reply) => {
      const state = await g.state();
      const roles = Object.entries(state.roles)
        .sort(([a], [b]) => compareStrings(a, b))
        .map(([name, r]) => ({
          name,
          parents: r.parents,
          children: childrenOf(state, name),
          components: Object.entries(r.components).map(([c, v]) => ({ name: c, evr: v })),
          settings: Object.keys(r.settings).length,
          unset: r.unset.length,
          servers: serversWithRole(state, name).length,
        }));
      return sendPage(ui, reply, 'roles', { ...ctx, title: 'Roles', nav: 'roles', roles });
    }),
  );

  app.get(
    '/roles/:name',
    page<{ name: string }>(ui, async (ctx, request, reply) => {
      const { name } = request.params;
      const state = await g.state();
      const r = state.roles[name];
      if (!r) throw new KpkgError('NOT_FOUND', `role ${name} does not exist`);
      return sendPage(ui, reply, 'role', {
        ...ctx,
        title: `Role ${name}`,
        nav: 'roles',
        scope: `role:${name}`,
        openChangesets: ctx.canEdit ? await openChangesets(ui) : [],
        name,
        parents: r.parents,
        children: childrenOf(state, name),
        components: Object.entries(r.components)
          .sort(([a], [b]) => compareStrings(a, b))
          .map(([c, v]) => ({ name: c, evr: v })),
        ...scopeView(r),
        servers: serversWithRole(state, name),
      });
    }),
  );

  app.get(
    '/environments',
    page(ui, async (ctx, _request, reply) => {
      const state = await g.state();
      const environments = Object.entries(state.environments)
        .sort(([a], [b]) => compareStrings(a, b))
        .map(([name, e]) => ({ name, ...scopeView(e), servers: Object.values(state.servers).filter((s) => s.environment === name).length }));
      return sendPage(ui, reply, 'environments', {
        ...ctx,
        title: 'Environments',
        nav: 'environments',
        global: scopeView(state.global),
        environments,
        repositories: state.repositories,
      });
    }),
  );

  app.get(
    '/components',
    page(ui, async (ctx, _request, reply) => {
      const [catalog, state] = await Promise.all([g.catalog(), g.state()]);
      const components = Object.entries(catalog.components)
        .sort(([a], [b]) => compareStrings(a, b))
        .map(([name, versions]) => ({
          name,
          versions: componentVersionsView(versions)
            .map((v) => v.evr)
            .reverse(),
          pinnedBy: Object.entries(state.roles)
            .filter(([, r]) => name in r.components)
            .map(([n, r]) => ({ role: n, evr: r.components[name] })),
        }));
      return sendPage(ui, reply, 'components', { ...ctx, title: 'Components', nav: 'components', components });
    }),
  );

  app.get(
    '/components/:name',
    page<{ name: string }>(ui, async (ctx, request, reply) => {
      const { name } = request.params;
      const [catalog, state] = await Promise.all([g.catalog(), g.state()]);
      const versions = catalog.components[name];
      if (!versions) throw new KpkgError('NOT_FOUND', `component ${name} is not in the catalog (geppetto repo refresh reads the repositories)`);
      return sendPage(ui, reply, 'component', {
        ...ctx,
        title: `Component ${name}`,
        nav: 'components',
        name,
        // newest first; a key's default shown as typed, a secret's masked
        versions: componentVersionsView(versions)
          .reverse()
          .map((v) => ({ ...v, keys: v.keys.map((k) => ({ ...k, hasDefault: k.default !== undefined, default: k.default === undefined ? '' : showValue(k.default) })) })),
        pinnedBy: Object.entries(state.roles)
          .filter(([, r]) => name in r.components)
          .map(([n, r]) => ({ role: n, evr: r.components[name] })),
      });
    }),
  );

  app.get(
    '/audit',
    page(ui, async (ctx, request, reply) => {
      const PAGE = 50;
      const beforeText = request.query.before;
      const before = beforeText !== undefined && /^\d{1,12}$/.test(beforeText) ? Number(beforeText) : undefined;
      const target = (request.query.target ?? '').trim();
      const entries = await g.audit({ limit: PAGE + 1, ...(before !== undefined ? { before } : {}), ...(target !== '' ? { target } : {}) });
      const shown = entries.slice(0, PAGE);
      const last = shown[shown.length - 1];
      return sendPage(ui, reply, 'audit', {
        ...ctx,
        title: 'Audit log',
        nav: 'audit',
        target,
        targetQuery: target !== '' ? `&target=${encodeURIComponent(target)}` : '',
        entries: shown.map((e) => ({
          ...e,
          href: targetHref(e.target),
          before: e.before === null ? '' : JSON.stringify(e.before, null, 1),
          after: e.after === null ? '' : JSON.stringify(e.after, null, 1),
        })),
        older: entries.length > PAGE && last ? last.id : undefined,
        paged: before !== undefined,
      });
    }),
  );
}
