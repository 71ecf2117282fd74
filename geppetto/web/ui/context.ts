/**
 * What every page handler needs: the service, the renderer, the person logged in (auth.ts sets
 * request.principal), their CSRF token, and one way to answer errors as pages.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { KpkgError } from '../../../packager/errors.js';
import { httpStatusFor, type Principal, type Role } from '../../service/index.js';
import type { UiDeps } from '../server.js';
import type { Renderer, TemplateData } from './render.js';

export type UserPrincipal = Extract<Principal, { kind: 'user' }>;

export interface Ui extends UiDeps {
  render: Renderer;
}

/** The person logged in with a session cookie (auth.ts identified them); bearer tokens do not open pages. */
export function userOf(request: FastifyRequest): UserPrincipal | undefined {
  const p = request.principal;
  return p !== undefined && p.kind === 'user' && request.authVia === 'session' ? p : undefined;
}

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

export interface PageContext {
  user: UserPrincipal;
  canEdit: boolean;
  isAdmin: boolean;
  csrf: string;
}

/** The page context of a logged-in request; undefined when nobody is (the caller redirects). */
export function pageContext(ui: Ui, request: FastifyRequest, reply: FastifyReply): PageContext | undefined {
  const user = userOf(request);
  if (!user) return undefined;
  return { user, canEdit: RANK[user.role] >= RANK.editor, isAdmin: user.role === 'admin', csrf: ui.auth.csrfToken(request, reply) ?? '' };
}

/** The path to come back to after logging in: only a local path. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : '/';
}

export function sendPage(ui: Ui, reply: FastifyReply, template: string, data: TemplateData, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(ui.render.page(template, data));
}

export function sendFragment(ui: Ui, reply: FastifyReply, template: string, data: TemplateData): FastifyReply {
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(ui.render.fragment(template, data));
}

/** An error as a page: the message (one line, the service's) and the status the API would use. */
export function sendError(ui: Ui, reply: FastifyReply, ctx: PageContext | undefined, err: unknown): FastifyReply {
  const status = httpStatusFor(err);
  if (status >= 500) reply.log.error({ err }, 'page failed');
  const message = err instanceof KpkgError ? err.message : 'internal error: see the server log';
  return sendPage(ui, reply, 'error', { ...ctx, title: titleFor(status), status, message }, status);
}

/**
 * Whether a form's error is a refusal to show above the form again (bad input, a conflict, a
 * missing entity): a KpkgError other than FORBIDDEN or INTERNAL. Anything else becomes an error
 * page.
 */
export function isFormRefusal(err: unknown): err is KpkgError {
  return err instanceof KpkgError && err.code !== 'FORBIDDEN' && err.code !== 'INTERNAL';
}

function titleFor(status: number): string {
  switch (status) {
    case 400:
    case 422:
      return 'Refused';
    case 403:
      return 'Not allowed';
    case 404:
      return 'Not found';
    case 409:
      return 'Conflict';
    case 429:
      return 'Too many attempts';
    default:
      return 'Error';
  }
}

type Handler<P> = (ctx: PageContext, request: FastifyRequest<{ Params: P; Querystring: Record<string, string | undefined>; Body: Record<string, unknown> }>, reply: FastifyReply) => Promise<FastifyReply>;

/** A GET page: logged-in people only (others go to /login and come back), errors as pages. */
export function page<P = Record<string, string>>(ui: Ui, handler: Handler<P>) {
  return async (request: FastifyRequest<{ Params: P; Querystring: Record<string, string | undefined>; Body: Record<string, unknown> }>, reply: FastifyReply): Promise<FastifyReply> => {
    const ctx = pageContext(ui, request, reply);
    if (!ctx) {
      if (request.headers['hx-request'] === 'true') return reply.code(401).header('hx-redirect', `/login?next=${encodeURIComponent(request.url)}`).send();
      return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
    }
    try {
      return await handler(ctx, request, reply);
    } catch (err) {
      return sendError(ui, reply, ctx, err);
    }
  };
}

/**
 * A form POST that changes something: a logged-in editor with a valid CSRF token; a viewer gets
 * 403 before anything is read from the form.
 */
export function action<P = Record<string, string>>(ui: Ui, handler: Handler<P>) {
  return async (request: FastifyRequest<{ Params: P; Querystring: Record<string, string | undefined>; Body: Record<string, unknown> }>, reply: FastifyReply): Promise<FastifyReply> => {
    // the CSRF token was checked before this (server.ts, for every POST riding on a session)
    const ctx = pageContext(ui, request, reply);
    if (!ctx) return reply.redirect(`/login`, 303);
    if (!ctx.canEdit) return sendError(ui, reply, ctx, new KpkgError('FORBIDDEN', `${ctx.user.name} is a ${ctx.user.role}: only editors and admins change the configuration`));
    try {
      return await handler(ctx, request, reply);
    } catch (err) {
      return sendError(ui, reply, ctx, err);
    }
  };
}

/** An admin's page: others logged in get 403 (managing accounts and tokens is the admin's). */
export function adminPage<P = Record<string, string>>(ui: Ui, handler: Handler<P>) {
  return page<P>(ui, async (ctx, request, reply) => {
    if (!ctx.isAdmin) return sendError(ui, reply, ctx, new KpkgError('FORBIDDEN', `${ctx.user.name} is a ${ctx.user.role}: only admins manage accounts and tokens`));
    return handler(ctx, request, reply);
  });
}

/** An admin's form POST (the CSRF token was checked before, as for every POST): others get 403 before anything is read. */
export function adminAction<P = Record<string, string>>(ui: Ui, handler: Handler<P>) {
  return async (request: FastifyRequest<{ Params: P; Querystring: Record<string, string | undefined>; Body: Record<string, unknown> }>, reply: FastifyReply): Promise<FastifyReply> => {
    const ctx = pageContext(ui, request, reply);
    if (!ctx) return reply.redirect(`/login`, 303);
    if (!ctx.isAdmin) return sendError(ui, reply, ctx, new KpkgError('FORBIDDEN', `${ctx.user.name} is a ${ctx.user.role}: only admins manage accounts and tokens`));
    try {
      return await handler(ctx, request, reply);
    } catch (err) {
      return sendError(ui, reply, ctx, err);
    }
  };
}

/** A form field as a trimmed string ('' when absent or not text). */
export function field(body: unknown, name: string): string {
  const v = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' ? v.trim() : '';
}

/** A form field kept exactly as typed (values, passwords). */
export function rawField(body: unknown, name: string): string | undefined {
  const v = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** A comma- or newline-separated list field, in order, without blanks or repeats. */
export function listField(body: unknown, name: string): string[] {
  const v = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  const parts = (Array.isArray(v) ? v : [v]).flatMap((s) => (typeof s === 'string' ? s.split(/[,\s]+/) : []));
  return [...new Set(parts.map((s) => s.trim()).filter((s) => s !== ''))];
}

/** For a server's or a role's page: the open changesets an editor may continue. */
export async function openChangesets(ui: Ui): Promise<{ id: number; title: string }[]> {
  return (await ui.geppetto.changesets({ status: 'open', limit: 50 })).map((c) => ({ id: c.id, title: c.title }));
}

/** `?offset=N` of a paged list: a whole number, 0 when absent or not one. */
export function offsetParam(v: string | undefined): number {
  return v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : 0;
}
