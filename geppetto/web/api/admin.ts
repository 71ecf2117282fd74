/** The catalog, the audit log, users and API tokens. */
import type { FastifyInstance } from 'fastify';
import { componentVersionsView, type Geppetto, type Role } from '../../service/index.js';
import { principalOf, requireAuthenticated, requireRole } from '../auth.js';
import { anyValue, catalogChangeProperties, errorResponses, userSchema } from './schemas.js';

const ROLE = { type: 'string', enum: ['viewer', 'editor', 'admin'] } as const;

export async function adminRoutes(app: FastifyInstance, opts: { geppetto: Geppetto; caFile?: string }): Promise<void> {
  const g = opts.geppetto;

  app.get(
    '/api/v1/components',
    {
      onRequest: requireRole('viewer'),
      schema: {
        summary: 'The catalog: every component, its versions (deployment packages) and their configuration keys',
        tags: ['catalog'],
        response: {
          200: {
            type: 'object',
            properties: {
              components: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    name: { type: 'string' },
                    versions: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          evr: { type: 'string' },
                          package: { type: 'string' },
                          class: { type: 'string' },
                          repository: { type: 'string' },
                          keys: {
                            type: 'array',
                            items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' }, default: anyValue, secret: { type: 'boolean' }, description: { type: 'string' } } },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          ...errorResponses(401, 403),
        },
      },
    },
    async () => {
      const catalog = await g.catalog();
      const components = Object.keys(catalog.components)
        .sort()
        .map((name) => ({
          name,
          // builtins: the module's own parameters, not configuration keys: left out here as before
          versions: componentVersionsView(catalog.components[name] ?? {}).map(({ builtins: _builtins, ...v }) => v),
        }));
      return { components };
    },
  );

  app.post(
    '/api/v1/catalog/refresh',
    {
      onRequest: requireRole('editor'),
      schema: {
        summary: "Read the repositories' metadata and the new deployment packages' descriptions",
        tags: ['catalog'],
        response: {
          200: {
            type: 'object',
            properties: {
              repositories: {
                type: 'array',
                items: { type: 'object', properties: { id: { type: 'string' }, packages: { type: 'integer' }, read: { type: 'integer' }, errors: { type: 'array', items: { type: 'string' } } } },
              },
              unpublished: {
                type: 'array',
                description: 'pinned component versions changed or removed since the last publish (by this refresh or an earlier one): the next publish, even of an empty changeset, builds their servers\' files again',
                items: {
                  type: 'object',
                  properties: {
                    ...catalogChangeProperties,
                    roles: { type: 'array', items: { type: 'string' }, description: 'the roles pinning it themselves' },
                    servers: { type: 'array', items: { type: 'string' }, description: 'the servers whose roles, or the roles they inherit, pin it' },
                  },
                },
              },
              servers: { type: 'array', items: { type: 'string' }, description: 'every server of `unpublished`, once' },
              publishBlocked: { type: 'boolean', description: 'a pinned version is gone from the repositories: publishing is refused until its roles pin another' },
            },
          },
          ...errorResponses(401, 403),
        },
      },
    },
    async (request) => g.refreshCatalog(principalOf(request), opts.caFile !== undefined ? { caFile: opts.caFile } : {}),
  );

  app.get<{ Querystring: { limit?: number; before?: number; target?: string } }>(
    '/api/v1/audit',
    {
      onRequest: requireRole('viewer'),
      schema: {
        summary: 'The audit log, newest first (secrets appear as "(secret)" or "changed")',
        tags: ['audit'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 }, before: { type: 'integer', minimum: 1, description: 'entries older than this id' }, target: { type: 'string', maxLength: 300 } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              entries: {
                type: 'array',
                items: { type: 'object', properties: { id: { type: 'integer' }, at: { type: 'string' }, actor: { type: 'string' }, action: { type: 'string' }, target: { type: 'string' }, before: anyValue, after: anyValue } },
              },
            },
          },
          ...errorResponses(401, 403),
        },
      },
    },
    async (request) => ({ entries: await g.audit(request.query) }),
  );

  app.get(
    '/api/v1/users',
    {
      onRequest: requireRole('admin'),
      schema: { summary: 'Accounts', tags: ['users'], response: { 200: { type: 'object', properties: { users: { type: 'array', items: userSchema } } }, ...errorResponses(401, 403) } },
    },
    async () => ({ users: await g.users() }),
  );

  app.post<{ Body: { name: string; password: string; role: Role } }>(
    '/api/v1/users',
    {
      onRequest: requireRole('admin'),
      schema: {
        summary: 'Add an account',
        tags: ['users'],
        body: {
          type: 'object',
          required: ['name', 'password', 'role'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 12, maxLength: 1024 }, role: ROLE },
        },
        response: { 201: userSchema, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(await g.addUser(principalOf(request), request.body.name, request.body.password, request.body.role)),
  );

  app.patch<{ Params: { name: string }; Body: { role?: Role; password?: string; disabled?: boolean } }>(
    '/api/v1/users/:name',
    {
      // an admin changes anything; a person their own password (the service decides)
      onRequest: requireAuthenticated,
      schema: {
        summary: "Change an account's role, password or disabled flag (a new password or disabling ends its sessions); anyone may change their own password",
        tags: ['users'],
        params: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 64 } } },
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { role: ROLE, password: { type: 'string', minLength: 12, maxLength: 1024 }, disabled: { type: 'boolean' } },
        },
        response: { 200: userSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => g.updateUser(principalOf(request), request.params.name, request.body),
  );

  const tokenSchema = {
    type: 'object',
    properties: {
      id: { type: 'string' },
      kind: { type: 'string', enum: ['api', 'server'] },
      name: { type: 'string' },
      role: { type: 'string' },
      fqdn: { type: 'string', nullable: true },
      createdAt: { type: 'string' },
      createdBy: { type: 'string' },
      revokedAt: { type: 'string', nullable: true },
    },
  } as const;

  app.get(
    '/api/v1/tokens',
    {
      onRequest: requireRole('admin'),
      schema: { summary: 'API and server tokens (never their secret part)', tags: ['tokens'], response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: tokenSchema } } }, ...errorResponses(401, 403) } },
    },
    async () => ({ tokens: await g.tokens() }),
  );

  app.post<{ Body: { name: string; role: Role } }>(
    '/api/v1/tokens',
    {
      onRequest: requireRole('admin'),
      schema: {
        summary: 'A new API token acting with a role (shown once)',
        tags: ['tokens'],
        body: { type: 'object', required: ['name', 'role'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, role: ROLE } },
        response: { 201: { type: 'object', properties: { id: { type: 'string' }, token: { type: 'string' } } }, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => reply.code(201).send(await g.createApiToken(principalOf(request), request.body.name, request.body.role)),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/tokens/:id',
    {
      onRequest: requireRole('admin'),
      schema: {
        summary: 'Revoke a token',
        tags: ['tokens'],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } },
        response: { 204: { type: 'null', description: 'Revoked' }, ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await g.revokeToken(principalOf(request), request.params.id);
      return reply.code(204).send();
    },
  );
}
