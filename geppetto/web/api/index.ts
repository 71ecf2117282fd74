/** The JSON API, v1: every route with its JSON Schema; GET /api/openapi.json describes them. */
import type { FastifyInstance } from 'fastify';
import type { Geppetto } from '../../service/index.js';
import type { Auth } from '../auth.js';
import type { RateLimit } from '../server.js';
import { adminRoutes } from './admin.js';
import { changesetRoutes } from './changesets.js';
import { configRoutes } from './config.js';
import { nodeRoutes } from './nodes.js';
import { openapiRoutes } from './openapi.js';
import { serverRoutes } from './servers.js';
import { sessionRoutes } from './session.js';

export interface ApiDeps {
  geppetto: Geppetto;
  auth: Auth;
  loginRateLimit: RateLimit;
  /** CA certificates for https repositories (catalog refresh). */
  caFile?: string;
}

export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  openapiRoutes(app);
  await app.register(sessionRoutes, deps);
  await app.register(nodeRoutes, deps);
  await app.register(serverRoutes, deps);
  await app.register(configRoutes, deps);
  await app.register(changesetRoutes, deps);
  await app.register(adminRoutes, deps);
}
