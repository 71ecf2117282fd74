/**
 * /login and /logout: forms over auth.ts's session helpers. The login form has no session yet,
 * hence no CSRF token: auth.login refuses cross-site requests by their Origin / Sec-Fetch-Site,
 * and the route has the login rate limit.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { KpkgError } from '../../../packager/errors.js';
import { field, rawField, safeNext, sendPage, userOf, type Ui } from './context.js';

export function loginForm(ui: Ui, reply: FastifyReply, data: { name?: string; next?: string; error?: string }, status = 200): FastifyReply {
  return sendPage(ui, reply, 'login', { title: 'Log in', next: '/', ...data }, status);
}

export function registerLogin(app: FastifyInstance, ui: Ui): void {
  app.get<{ Querystring: { next?: string } }>('/login', async (request, reply) => {
    const next = safeNext(request.query.next);
    if (userOf(request)) return reply.redirect(next, 303);
    return loginForm(ui, reply, { next });
  });

  app.post<{ Body: Record<string, unknown> }>(
    '/login',
    { config: { csrf: false, rateLimit: { max: ui.loginRateLimit.max, timeWindow: ui.loginRateLimit.timeWindow } } },
    async (request, reply) => {
      const name = field(request.body, 'name');
      const password = rawField(request.body, 'password') ?? '';
      const next = safeNext(field(request.body, 'next'));
      try {
        await ui.auth.login(request, reply, name, password);
      } catch (err) {
        if (err instanceof KpkgError && ['UNAUTHORIZED', 'RATE_LIMITED', 'INVALID_INPUT', 'FORBIDDEN'].includes(err.code)) {
          const status = { UNAUTHORIZED: 401, RATE_LIMITED: 429, FORBIDDEN: 403 }[err.code as string] ?? 400;
          return loginForm(ui, reply, { name, next, error: err.message }, status);
        }
        throw err;
      }
      return reply.redirect(next, 303);
    },
  );

  app.post('/logout', async (request, reply) => {
    await ui.auth.logout(request, reply);
    return reply.redirect('/login', 303);
  });
}
