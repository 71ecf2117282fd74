/** The JSON API, v1: every route with its JSON Schema; GET /api/openapi.json describes them. */
import type { FastifyInstance } from 'fastify';
import type { Geppetto } from '../../service/index.js';
import type { Auth } from '../auth.js';
import type { RateLimit } from '../server.js';
import { openapiRoutes } from './openapi.js';
import { sessionRoutes } from './session.js';

export interface ApiDeps {
  geppetto: Geppetto;
  auth: Auth;
  loginRateLimit: RateLimit;
}

export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const collect = openapiRoutes(app);
  await app.register(sessionRoutes, deps);
  collect.done();
}
