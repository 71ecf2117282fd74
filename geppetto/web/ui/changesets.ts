/**
 * Changesets: the list, and one changeset with its staged edits, the forms that stage more (roles,
 * environments, servers, pins, settings, secrets), the preview of every affected server's file
 * with problems and conflicts, and publish / discard / revert. Every form POSTs and redirects back
 * (works without JavaScript); viewers get the pages without the forms, and 403 on the POSTs.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { KpkgError } from '../../../packager/errors.js';
import type { RoleDefinition, ServerDefinition, State } from '../../model.js';
import { componentVersionsView, httpStatusFor, ProblemsError, type ChangesetInfo, type ChangesetRevisions, type EntityKind, type EntityRef, type Preview } from '../../service/index.js';
import { compareStrings } from '../../resolve/keys.js';
import { action, field, isFormRefusal, listField, offsetParam, page, rawField, sendError, sendPage, type PageContext, type Ui } from './context.js';
import { catalogKeys, diffLines, parseFormValue, scopeView, showDefinition } from './values.js';

type Params = { id: string };

function changesetId(text: string): number {
  if (!/^\d{1,9}$/.test(text)) throw new KpkgError('NOT_FOUND', `changeset ${JSON.stringify(text)} does not exist`);
  return Number(text);
}

/** A scope as a form sends it: `global`, `environment:production`, `role:base`, `server:web03.example.com`. */
function scopeRef(text: string): EntityRef {
  if (text === 'global') return { kind: 'global', name: '' };
  const colon = text.indexOf(':');
  const kind = text.slice(0, colon);
  if (colon < 0 || (kind !== 'environment' && kind !== 'role' && kind !== 'server')) throw new KpkgError('INVALID_INPUT', `scope ${JSON.stringify(text)}: expected global, environment:NAME, role:NAME or server:FQDN`);
  return { kind, name: text.slice(colon + 1) };
}

function scopes(state: State): { value: string; label: string }[] {
  const out = [{ value: 'global', label: 'global' }];
  for (const e of Object.keys(state.environments).sort()) out.push({ value: `environment:${e}`, label: `environment ${e}` });
  for (const r of Object.keys(state.roles).sort()) out.push({ value: `role:${r}`, label: `role ${r}` });
  for (const s of Object.keys(state.servers).sort()) out.push({ value: `server:${s}`, label: `server ${s}` });
  return out;
}

/** The body an entity has in the changeset, as people read it (secrets masked). */
function entityView(state: State, e: ChangesetInfo['entities'][number]) {
  const base = { kind: e.kind, name: e.name, label: e.name === '' ? e.kind : `${e.kind} ${e.name}`, deleted: e.deleted, baseVersion: e.baseVersion };
  if (e.deleted) return base;
  switch (e.kind) {
    case 'role': {
      const r = state.roles[e.name];
      return r ? { ...base, parents: r.parents, components: Object.entries(r.components).map(([c, v]) => ({ name: c, evr: v })), ...scopeView(r) } : base;
    }
    case 'server': {
      const s = state.servers[e.name];
      return s ? { ...base, environment: s.environment, roles: s.roles, isServer: true, ...scopeView(s) } : base;
    }
    case 'environment': {
      const s = state.environments[e.name];
      return s ? { ...base, ...scopeView(s) } : base;
    }
    case 'global':
      return { ...base, ...scopeView(state.global) };
    default:
      return { ...base, repositories: state.repositories };
  }
}

function previewView(p: Preview, staged: number) {
  const blockers: string[] = [];
  // an empty changeset still publishes what a catalog refresh changed in the files
  if (staged === 0 && p.servers.length === 0) blockers.push('nothing is staged yet, and no server file changes');
  if (p.conflicts.length > 0) blockers.push(`${p.conflicts.length} entit${p.conflicts.length > 1 ? 'ies were' : 'y was'} changed by another publish since this changeset edited ${p.conflicts.length > 1 ? 'them' : 'it'}`);
  if (p.problems.length > 0) blockers.push(`${p.problems.length} problem${p.problems.length > 1 ? 's' : ''} must be solved first`);
  return {
    problems: p.problems.map((pr) => ({
      ...pr,
      isConflict: pr.kind === 'conflict' || pr.kind === 'version-conflict',
      definitions: (pr.definitions ?? []).map(showDefinition),
    })),
    conflicts: p.conflicts.map((c) => ({ ...c, label: c.name === '' ? c.kind : `${c.kind} ${c.name}` })),
    catalog: p.catalog,
    servers: p.servers.map((s) => ({ ...s, lines: s.diff !== undefined ? diffLines(s.diff) : [], diffOmitted: s.diff === undefined, removed: s.change === 'removed' })),
    blockers,
    canPublish: blockers.length === 0,
  };
}

/** Revisions listed a page at a time on a published changeset's page (a publish may touch 10,000 servers). */
export const REVISIONS_PAGE = 100;

function revisionsView(r: ChangesetRevisions, offset: number) {
  const end = offset + r.revisions.length;
  return {
    total: r.total,
    first: r.revisions.length > 0 ? offset + 1 : 0,
    last: end,
    revisions: r.revisions.map((x) => ({ ...x, fqdnQ: encodeURIComponent(x.fqdn) })),
    removed: r.removed,
    // text, so that offset 0 still counts as a link in the template
    previous: offset > 0 ? String(Math.max(0, offset - REVISIONS_PAGE)) : undefined,
    next: end < r.total ? String(end) : undefined,
  };
}

function serverForm(state: State, fqdn: string) {
  const s = state.servers[fqdn];
  return { fqdn, environment: s?.environment ?? '', roles: (s?.roles ?? []).join(', ') };
}

function roleForm(state: State, name: string) {
  const r = state.roles[name];
  return { name, parents: (r?.parents ?? []).join(', ') };
}

export function registerChangesets(app: FastifyInstance, ui: Ui): void {
  const g = ui.geppetto;

  app.get(
    '/changesets',
    page(ui, async (ctx, request, reply) => {
      const status = request.query.status;
      const filter = status === 'open' || status === 'published' || status === 'discarded' ? status : undefined;
      const list = await g.changesets({ limit: 200, ...(filter ? { status: filter } : {}) });
      return sendPage(ui, reply, 'changesets', {
        ...ctx,
        title: 'Changesets',
        nav: 'changesets',
        status: filter ?? '',
        statuses: ['open', 'published', 'discarded'].map((s) => ({ value: s, selected: s === filter })),
        changesets: list.map((c) => ({ ...c, isOpen: c.status === 'open' })),
      });
    }),
  );

  app.post(
    '/changesets',
    action(ui, async (ctx, request, reply) => {
      const cs = await g.createChangeset(ctx.user, field(request.body, 'title'));
      return reply.redirect(`/changesets/${cs.id}`, 303);
    }),
  );

  /** The changeset page, with an error from a form above the forms (the form's status). */
  async function changesetPage(ctx: PageContext, reply: FastifyReply, id: number, error?: { status: number; message: string; problems?: ProblemsError['problems'] }, focus = '', offset = 0) {
    const info = await g.changeset(id);
    const open = info.status === 'open';
    const published = info.status === 'published' ? await g.changesetRevisions(id, { limit: REVISIONS_PAGE, offset }) : undefined;
    const [state, catalog] = await Promise.all([open ? g.changesetState(id) : g.state(), g.catalog()]);
    const preview = open ? previewView(await g.preview(id), info.entities.length) : undefined;
    const keys = [...catalogKeys(catalog).entries()].sort(([a], [b]) => compareStrings(a, b)).map(([key, p]) => ({ key, type: p.type, secret: p.secret, builtin: p.builtin === true }));
    return sendPage(
      ui,
      reply,
      'changeset',
      {
        ...ctx,
        title: `Changeset #${id}`,
        nav: 'changesets',
        cs: { ...info, isOpen: open, isPublished: info.status === 'published' },
        published: published ? revisionsView(published, offset) : undefined,
        entities: open ? info.entities.map((e) => entityView(state, e)) : info.entities.map((e) => ({ ...e, label: e.name === '' ? e.kind : `${e.kind} ${e.name}` })),
        preview,
        edit: ctx.canEdit && open,
        error: error ? { ...error, problems: (error.problems ?? []).map((p) => ({ ...p, definitions: (p.definitions ?? []).map(showDefinition) })) } : undefined,
        scopes: scopes(state).map((sc) => ({ ...sc, selected: sc.value === focus })),
        // the entity the editor came from (a server's or a role's page): its forms filled in
        focusServer: focus.startsWith('server:') ? serverForm(state, focus.slice(7)) : undefined,
        focusRole: focus.startsWith('role:') ? roleForm(state, focus.slice(5)) : undefined,
        roles: Object.keys(state.roles).sort(),
        environments: Object.keys(state.environments).sort(),
        servers: Object.keys(state.servers).sort(),
        keys: keys.filter((k) => !k.secret),
        secretKeys: keys.filter((k) => k.secret),
        allKeys: keys,
        components: Object.entries(catalog.components)
          .sort(([a], [b]) => compareStrings(a, b))
          .map(([name, versions]) => ({ name, versions: componentVersionsView(versions).map((v) => v.evr).reverse() })),
      },
      error?.status ?? 200,
    );
  }

  // "change it in a changeset" from a server's or a role's page: to that changeset's forms, filled in
  app.get(
    '/changesets/edit',
    page(ui, async (_ctx, request, reply) => {
      const id = changesetId(request.query.changeset ?? '');
      const scope = request.query.scope ?? '';
      return reply.redirect(`/changesets/${id}?scope=${encodeURIComponent(scope)}#stage`, 303);
    }),
  );

  app.get(
    '/changesets/:id',
    page<Params>(ui, async (ctx, request, reply) => changesetPage(ctx, reply, changesetId(request.params.id), undefined, request.query.scope ?? '', offsetParam(request.query.offset))),
  );

  /** A staging form: runs `fn`, then back to the changeset; a refusal shows the page with the message. */
  function edit(path: string, fn: (ctx: PageContext, id: number, body: Record<string, unknown>) => Promise<void>): void {
    app.post(
      `/changesets/:id/${path}`,
      action<Params>(ui, async (ctx, request, reply) => {
        const id = changesetId(request.params.id);
        try {
          await fn(ctx, id, request.body);
        } catch (err) {
          if (!isFormRefusal(err)) throw err;
          try {
            return await changesetPage(ctx, reply, id, { status: httpStatusFor(err), message: err.message, ...(err instanceof ProblemsError ? { problems: err.problems } : {}) });
          } catch (pageErr) {
            return sendError(ui, reply, ctx, pageErr);
          }
        }
        return reply.redirect(`/changesets/${id}${path === 'publish' ? '' : '#stage'}`, 303);
      }),
    );
  }

  const required = (body: unknown, name: string, what: string): string => {
    const v = field(body, name);
    if (v === '') throw new KpkgError('INVALID_INPUT', `${what} is required`);
    return v;
  };

  // a role: made with its parents, or its parents changed (settings, pins and unsets kept)
  edit('role', async (ctx, id, body) => {
    const name = required(body, 'name', 'role name');
    const state = await g.changesetState(id);
    const current = state.roles[name];
    const next: RoleDefinition = { parents: listField(body, 'parents'), components: current?.components ?? {}, settings: current?.settings ?? {}, unset: current?.unset ?? [] };
    await g.stage(id, ctx.user, { kind: 'role', name }, next);
  });

  edit('environment', async (ctx, id, body) => {
    const name = required(body, 'name', 'environment name');
    const state = await g.changesetState(id);
    if (state.environments[name]) throw new KpkgError('INVALID_INPUT', `environment ${name} already exists`);
    await g.stage(id, ctx.user, { kind: 'environment', name }, { settings: {}, unset: [] });
  });

  // a server: its environment and its roles, in order (settings kept)
  edit('server', async (ctx, id, body) => {
    const fqdn = required(body, 'fqdn', 'server name');
    const state = await g.changesetState(id);
    const current = state.servers[fqdn];
    const next: ServerDefinition = { environment: field(body, 'environment') || (current?.environment ?? ''), roles: listField(body, 'roles'), settings: current?.settings ?? {}, unset: current?.unset ?? [] };
    await g.stage(id, ctx.user, { kind: 'server', name: fqdn }, next);
  });

  // a component pinned by a role at a version-release ('' removes the pin)
  edit('pin', async (ctx, id, body) => {
    const roleName = required(body, 'role', 'role');
    const component = required(body, 'component', 'component');
    const version = field(body, 'version');
    const state = await g.changesetState(id);
    const r = state.roles[roleName];
    if (!r) throw new KpkgError('NOT_FOUND', `role ${roleName} does not exist`);
    const components = { ...r.components };
    if (version === '') delete components[component];
    else components[component] = version;
    await g.stage(id, ctx.user, { kind: 'role', name: roleName }, { ...r, components });
  });

  // a value at a scope; a secret's value comes from a password field and is never shown again
  edit('set', async (ctx, id, body) => {
    const scope = scopeRef(required(body, 'scope', 'scope'));
    const key = required(body, 'key', 'key');
    const secret = field(body, 'secret') !== '';
    const text = rawField(body, 'value') ?? '';
    if (text === '' && secret) throw new KpkgError('INVALID_INPUT', `${key}: the secret's value is empty`);
    const param = catalogKeys(await g.catalog()).get(key);
    const value = parseFormValue(key, text, param?.type);
    await g.setSetting(id, ctx.user, scope, key, value, { secret: secret || param?.secret === true });
  });

  edit('unset', async (ctx, id, body) => {
    const scope = scopeRef(required(body, 'scope', 'scope'));
    const key = required(body, 'key', 'key');
    await g.unsetSetting(id, ctx.user, scope, key, { remove: field(body, 'mode') === 'remove' });
  });

  // drops the changeset's edit of one entity
  edit('unstage', async (ctx, id, body) => {
    const kind = field(body, 'kind');
    const known: readonly EntityKind[] = ['global', 'repositories', 'environment', 'role', 'server'];
    const k = known.find((x) => x === kind);
    if (!k) throw new KpkgError('INVALID_INPUT', `kind ${JSON.stringify(kind)} is not a kind of entity`);
    await g.unstage(id, ctx.user, { kind: k, name: field(body, 'name') });
  });

  // deletes a role, environment or server
  edit('delete', async (ctx, id, body) => {
    const ref = scopeRef(required(body, 'scope', 'what to delete'));
    if (ref.kind === 'global') throw new KpkgError('INVALID_INPUT', 'the global scope cannot be deleted');
    await g.stage(id, ctx.user, ref, null);
  });

  edit('publish', async (ctx, id) => {
    await g.publish(id, ctx.user);
  });

  app.post(
    '/changesets/:id/discard',
    action<Params>(ui, async (ctx, request, reply) => {
      const id = changesetId(request.params.id);
      await g.discard(id, ctx.user);
      return reply.redirect(`/changesets/${id}`, 303);
    }),
  );

  app.post(
    '/changesets/:id/revert',
    action<Params>(ui, async (ctx, request, reply) => {
      const id = changesetId(request.params.id);
      const result = await g.revert(id, ctx.user);
      return reply.redirect(`/changesets/${result.changeset}`, 303);
    }),
  );
}
