/**
 * Geppetto's web UI for sysadmins: server-rendered pages (Handlebars), plain forms that POST and
 * redirect, htmx (from /static/) only where a page updates in place. server.ts registers this
 * module as a plugin with the service and auth.ts's helpers; sessions, CSRF checks, rate limits
 * and security headers are server.ts's.
 */
import type { FastifyInstance } from 'fastify';
import { describeError, type UiDeps } from '../server.js';
import { registerAdmin } from './admin.js';
import { registerCatalog } from './catalog.js';
import { registerChangesets } from './changesets.js';
import { pageContext, sendPage, type Ui } from './context.js';
import { loginForm, registerLogin } from './login.js';
import { createRenderer } from './render.js';
import { registerServers } from './servers.js';

export async function registerUi(app: FastifyInstance, deps: UiDeps): Promise<void> {
  const ui: Ui = { ...deps, render: createRenderer() };
  // errors raised before a page's handler (a missing CSRF token, a rate limit) answer as pages too
  app.setErrorHandler((err, request, reply) => {
    const d = describeError(err);
    if (d.status >= 500) request.log.error({ err }, 'page failed');
    if (request.url.startsWith('/login')) return loginForm(ui, reply, { error: d.message }, d.status);
    const ctx = pageContext(ui, request, reply);
    return sendPage(ui, reply, 'error', { ...ctx, title: d.status === 403 ? 'Not allowed' : d.status === 429 ? 'Too many requests' : 'Error', message: d.message, status: d.status }, d.status);
  });
  registerLogin(app, ui);
  registerServers(app, ui);
  registerCatalog(app, ui);
  registerChangesets(app, ui);
  registerAdmin(app, ui);
}
