/** Login, logout and the current session, as JSON (the UI's forms call the same helpers of auth.ts). */
import type { FastifyInstance } from 'fastify';
import { KpkgError } from '../../../packager/errors.js';
import { requireAuthenticated, type Auth } from '../auth.js';
import type { RateLimit } from '../server.js';
import { errorResponses, userSchema } from './schemas.js';

export async function sessionRoutes(app: FastifyInstance, opts: { auth: Auth; loginRateLimit: RateLimit }): Promise<void> {
  const { auth } = opts;
  const sessionAnswer = {
    type: 'object',
    required: ['user', 'csrfToken', 'expiresAt'],
    properties: { user: userSchema, csrfToken: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } },
  } as const;

  app.post<{ Body: { name: string; password: string } }>(
    '/api/v1/login',
    {
      // no session yet, so no CSRF token: auth.login checks the request's origin instead
      config: { csrf: false, rateLimit: { max: opts.loginRateLimit.max, timeWindow: opts.loginRateLimit.timeWindow } },
      schema: {
        summary: 'Log in: sets the geppetto_session cookie (HttpOnly, SameSite=Strict) and returns the CSRF token of the session',
        tags: ['session'],
        body: {
          type: 'object',
          required: ['name', 'password'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
        },
        response: { 200: sessionAnswer, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => auth.login(request, reply, request.body.name, request.body.password),
  );

  app.post(
    '/api/v1/logout',
    {
      schema: { summary: 'Log out: ends the session and clears its cookie (with a session, needs its CSRF token)', tags: ['session'], response: { 204: { type: 'null' }, ...errorResponses(403) } },
    },
    async (request, reply) => {
      await auth.logout(request, reply);
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/session',
    {
      onRequest: requireAuthenticated,
      schema: { summary: 'The session of the cookie: its user and CSRF token', tags: ['session'], response: { 200: sessionAnswer, ...errorResponses(401, 404) } },
    },
    async (request, reply) => {
      const s = request.sessionInfo;
      const token = auth.csrfToken(request, reply);
      if (!s || token === undefined) throw new KpkgError('NOT_FOUND', 'this request has no session (it used a token)');
      return { user: s.user, csrfToken: token, expiresAt: s.expiresAt };
    },
  );
}
