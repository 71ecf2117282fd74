/**
 * Who is asking, and may they: the session cookie of a person logged in through the web UI, or an
 * `Authorization: Bearer` token (an API token for scripts, a server's token for Punch).
 *
 * CSRF: a request carrying a session cookie is a browser's; every state-changing one must carry
 * the token made from its session's secret (stored with the session by the service, so it ends
 * with the session). Bearer requests are exempt: browsers never add that header on their own.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { KpkgError } from '../../packager/errors.js';
import type { Geppetto, Principal, Role, SessionInfo, UserInfo } from '../service/index.js';

export const SESSION_COOKIE = 'geppetto_session';
/** Where a form or htmx puts the CSRF token: the `_csrf` field or the `x-csrf-token` header. */
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking; undefined when the request carries no valid credentials. */
    principal: Principal | undefined;
    /** How they proved it. */
    authVia: 'session' | 'token' | undefined;
    /** The session behind the cookie, when authVia is 'session'. */
    sessionInfo: SessionInfo | undefined;
    /**
     * Read by @fastify/csrf-protection (in its `@fastify/session` mode) for the CSRF secret: here
     * the secret of the session the cookie names, never one made up per request.
     */
    session: { _csrf?: string };
  }
  interface FastifyContextConfig {
    /** false: this route does its own CSRF defence (the login form: no session yet). */
    csrf?: boolean;
  }
}

/** The client's key for login rate limits: its address (the proxy's client when trustProxy is set). */
export const clientKey = (request: FastifyRequest): string => request.ip;

/** A bearer token from the Authorization header, undefined when there is none or it is not Bearer. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(h);
  return m?.[1];
}

/**
 * Fills request.principal. A bearer header wins over a cookie (and then no CSRF applies: the
 * header cannot be forged cross-site). An invalid credential leaves the request anonymous: routes
 * that need someone answer 401.
 */
export async function identify(geppetto: Geppetto, request: FastifyRequest): Promise<void> {
  request.session = {};
  const bearer = bearerToken(request);
  if (bearer !== undefined) {
    const p = await geppetto.authenticateToken(bearer);
    if (p) {
      request.principal = p;
      request.authVia = 'token';
    }
    return;
  }
  if (request.headers.authorization !== undefined) return;
  const cookie = request.cookies[SESSION_COOKIE];
  if (cookie === undefined || cookie === '') return;
  const s = await geppetto.session(cookie);
  if (!s) return;
  request.principal = { kind: 'user', name: s.user.name, role: s.user.role, userId: s.user.id };
  request.authVia = 'session';
  request.sessionInfo = s;
  request.session = { _csrf: s.csrfSecret };
}

/** Whether a principal has at least `min` (a server's token has no role: never). */
export function hasRole(p: Principal | undefined, min: Role): boolean {
  return p !== undefined && p.kind !== 'server' && RANK[p.role] >= RANK[min];
}

/** A route hook: 401 without credentials, 403 below `min` (and for server tokens). */
export function requireRole(min: Role): onRequestAsyncHookHandler {
  return async (request) => {
    const p = request.principal;
    if (!p) throw unauthorized();
    if (!hasRole(p, min)) throw new KpkgError('FORBIDDEN', `${p.kind === 'server' ? `the token of ${p.fqdn}` : p.name} may not do this (needs ${min})`);
  };
}

/** A route hook: anyone with valid credentials (server tokens included; the route checks which server). */
export const requireAuthenticated: onRequestAsyncHookHandler = async (request) => {
  if (!request.principal) throw unauthorized();
};

export function unauthorized(): KpkgError {
  return new KpkgError('UNAUTHORIZED', 'log in, or send Authorization: Bearer <token>');
}

/** The principal of a request already checked by requireRole/requireAuthenticated. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized();
  return request.principal;
}

/** Whether this request must pass the CSRF check: it changes state and rides on a session cookie. */
export function needsCsrf(request: FastifyRequest): boolean {
  return request.authVia === 'session' && !SAFE_METHODS.has(request.method) && request.routeOptions.config.csrf !== false;
}

/**
 * Refuses a request that a page of another site made the browser send: for the login form, which
 * has no session (hence no CSRF secret) yet. Browsers send Origin on every cross-origin POST and
 * Sec-Fetch-Site on every request; scripts (curl) send neither and are let through.
 */
export function checkSameOrigin(request: FastifyRequest): void {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') throw new KpkgError('FORBIDDEN', 'cross-site request refused');
  // A browser that says same-origin is believed (pages cannot set Sec-Fetch-*): with
  // Referrer-Policy no-referrer, Chromium sends `Origin: null` on a same-origin form POST.
  if (site === 'same-origin') return;
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let same: boolean;
  try {
    // both through URL: the default port (:80, :443) is dropped the same way on each side
    same = new URL(origin).origin === new URL(`${request.protocol}://${request.host}`).origin;
  } catch {
    same = false;
  }
  if (!same) throw new KpkgError('FORBIDDEN', 'cross-site request refused');
}

export interface AuthOptions {
  /** Secure cookies even over plain HTTP (default: only when the request came over HTTPS, as trustProxy tells). */
  secureCookies?: boolean;
}

export interface LoginResult {
  user: UserInfo;
  /** The CSRF token for the new session (forms put it in `_csrf`, htmx in `x-csrf-token`). */
  csrfToken: string;
  expiresAt: string;
}

/** Login and logout as the UI's forms and the JSON API call them. */
export interface Auth {
  /**
   * Checks name and password (the service counts failures per account and per client), opens a
   * session and sets its cookie. Throws UNAUTHORIZED, RATE_LIMITED, FORBIDDEN (cross-site).
   */
  login(request: FastifyRequest, reply: FastifyReply, name: string, password: string): Promise<LoginResult>;
  /** Ends the request's session (if any) and clears the cookie. */
  logout(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** The CSRF token for the request's session (undefined without one). */
  csrfToken(request: FastifyRequest, reply: FastifyReply): string | undefined;
}

export function createAuth(geppetto: Geppetto, options: AuthOptions = {}): Auth {
  const cookieOptions = (request: FastifyRequest, expires: Date) => ({
    path: '/',
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: options.secureCookies === true || request.protocol === 'https',
    expires,
  });
  return {
    async login(request, reply, name, password) {
      checkSameOrigin(request);
      const user = await geppetto.login(name, password, clientKey(request));
      const old = request.cookies[SESSION_COOKIE];
      if (old) await geppetto.deleteSession(old);
      const s = await geppetto.createSession(user.id);
      reply.setCookie(SESSION_COOKIE, s.token, cookieOptions(request, new Date(s.expiresAt)));
      request.principal = { kind: 'user', name: user.name, role: user.role, userId: user.id };
      request.authVia = 'session';
      request.session = { _csrf: s.csrfSecret };
      return { user, csrfToken: reply.generateCsrf(), expiresAt: s.expiresAt };
    },
    async logout(request, reply) {
      const cookie = request.cookies[SESSION_COOKIE];
      if (cookie) await geppetto.deleteSession(cookie);
      reply.clearCookie(SESSION_COOKIE, { ...cookieOptions(request, new Date(0)) });
      request.principal = undefined;
      request.authVia = undefined;
      request.sessionInfo = undefined;
      request.session = {};
    },
    csrfToken(request, reply) {
      return request.authVia === 'session' && request.session._csrf !== undefined ? reply.generateCsrf() : undefined;
    },
  };
}
