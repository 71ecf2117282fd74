/**
 * Accounts and tokens, for admins: people with their roles (add one, change a role, disable or
 * enable), API tokens for CI and scripts, and the servers' tokens (issue, revoke). A token's value
 * is on the page that made it and nowhere else: the list shows what it is, never its secret. The
 * service audits every change; viewers and editors get 403 on the pages and the forms.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { KpkgError } from '../../../packager/errors.js';
import { httpStatusFor, ROLES, type Role } from '../../service/index.js';
import { adminAction, adminPage, field, isFormRefusal, offsetParam, rawField, sendPage, type PageContext, type Ui } from './context.js';

/** Server tokens a page of /tokens lists. */
export const SERVER_TOKENS_PAGE = 100;

function roleField(body: unknown): Role {
  const role = field(body, 'role');
  const r = ROLES.find((x) => x === role);
  if (!r) throw new KpkgError('INVALID_INPUT', `role ${JSON.stringify(role)}: expected viewer, editor or admin`);
  return r;
}

export function registerAdmin(app: FastifyInstance, ui: Ui): void {
  const g = ui.geppetto;

  async function usersPage(ctx: PageContext, reply: FastifyReply, notice?: string, status = 200, error?: string): Promise<FastifyReply> {
    const users = await g.users();
    return sendPage(
      ui,
      reply,
      'users',
      {
        ...ctx,
        title: 'Users',
        nav: 'users',
        notice,
        error,
        users: users.map((u) => ({ ...u, self: u.name === ctx.user.name, roles: ROLES.map((r) => ({ value: r, selected: r === u.role })) })),
        roles: ROLES,
      },
      status,
    );
  }

  app.get(
    '/users',
    adminPage(ui, async (ctx, _request, reply) => usersPage(ctx, reply)),
  );

  app.post(
    '/users',
    adminAction(ui, async (ctx, request, reply) => {
      try {
        const user = await g.addUser(ctx.user, field(request.body, 'name'), rawField(request.body, 'password') ?? '', roleField(request.body));
        return await usersPage(ctx, reply, `${user.name} can log in now, as ${user.role}.`, 201);
      } catch (err) {
        // a refused account shows the list again with the reason above the form
        if (!isFormRefusal(err)) throw err;
        return usersPage(ctx, reply, undefined, httpStatusFor(err), err.message);
      }
    }),
  );

  // one account: its role, or disabled / enabled again (disabling ends its sessions)
  app.post(
    '/users/:name',
    adminAction<{ name: string }>(ui, async (ctx, request, reply) => {
      const { name } = request.params;
      const change = field(request.body, 'change');
      // an admin does not lock themself out from here: another admin, or the CLI, does that
      if (name === ctx.user.name) throw new KpkgError('INVALID_INPUT', 'your own role and account are changed by another admin or with the geppetto command');
      if (change === 'role') await g.updateUser(ctx.user, name, { role: roleField(request.body) });
      else if (change === 'disable' || change === 'enable') await g.updateUser(ctx.user, name, { disabled: change === 'disable' });
      else throw new KpkgError('INVALID_INPUT', `change ${JSON.stringify(change)}: expected role, disable or enable`);
      return reply.redirect('/users', 303);
    }),
  );

  async function tokensPage(ctx: PageContext, reply: FastifyReply, created?: { label: string; token: string }, status = 200, error?: string, list: { server?: string; offset?: number } = {}): Promise<FastifyReply> {
    const tokens = await g.tokens();
    const view = tokens.map((t) => ({ ...t, live: t.revokedAt === null }));
    // a fleet has a token per server (and the revoked ones): those are filtered and paged
    const filter = (list.server ?? '').trim().toLowerCase();
    const serverTokens = view.filter((t) => t.kind === 'server' && (filter === '' || (t.fqdn ?? '').toLowerCase().includes(filter)));
    const offset = Math.min(list.offset ?? 0, Math.max(0, serverTokens.length - 1));
    const shown = serverTokens.slice(offset, offset + SERVER_TOKENS_PAGE);
    const href = (o: number) => `/tokens?${filter !== '' ? `server=${encodeURIComponent(filter)}&` : ''}offset=${o}#server-tokens`;
    return sendPage(
      ui,
      reply,
      'tokens',
      {
        ...ctx,
        title: 'Tokens',
        nav: 'tokens',
        created,
        error,
        apiTokens: view.filter((t) => t.kind === 'api'),
        serverTokens: shown,
        serverFilter: filter,
        serverTokensCount: serverTokens.length,
        first: shown.length > 0 ? offset + 1 : 0,
        last: offset + shown.length,
        previousHref: offset > 0 ? href(Math.max(0, offset - SERVER_TOKENS_PAGE)) : undefined,
        nextHref: offset + shown.length < serverTokens.length ? href(offset + shown.length) : undefined,
        roles: ROLES,
      },
      status,
    );
  }

  app.get(
    '/tokens',
    adminPage(ui, async (ctx, request, reply) => tokensPage(ctx, reply, undefined, 200, undefined, { server: request.query.server ?? '', offset: offsetParam(request.query.offset) })),
  );

  // the new token is on this answer only (no redirect: it would have to carry it)
  app.post(
    '/tokens',
    adminAction(ui, async (ctx, request, reply) => {
      const name = field(request.body, 'name');
      try {
        const t = await g.createApiToken(ctx.user, name, roleField(request.body));
        return await tokensPage(ctx, reply, { label: `API token ${name}`, token: t.token }, 201);
      } catch (err) {
        if (!isFormRefusal(err)) throw err;
        return tokensPage(ctx, reply, undefined, httpStatusFor(err), err.message);
      }
    }),
  );

  app.post(
    '/tokens/server',
    adminAction(ui, async (ctx, request, reply) => {
      const fqdn = field(request.body, 'fqdn');
      try {
        const token = await g.serverToken(ctx.user, fqdn);
        return await tokensPage(ctx, reply, { label: `token of server ${fqdn} (its previous token no longer works)`, token }, 201);
      } catch (err) {
        if (!isFormRefusal(err)) throw err;
        return tokensPage(ctx, reply, undefined, httpStatusFor(err), err.message);
      }
    }),
  );

  app.post(
    '/tokens/:id/revoke',
    adminAction<{ id: string }>(ui, async (ctx, request, reply) => {
      await g.revokeToken(ctx.user, request.params.id);
      return reply.redirect('/tokens', 303);
    }),
  );
}
