/** The published configuration, entity by entity, each with its version (what an edit names as expectedVersion). */
import type { FastifyInstance } from 'fastify';
import { KpkgError } from '../../../packager/errors.js';
import type { Geppetto } from '../../service/index.js';
import { requireRole } from '../auth.js';
import { errorResponses } from './schemas.js';

const entityAnswer = {
  type: 'object',
  required: ['name', 'version', 'definition'],
  properties: {
    name: { type: 'string' },
    version: { type: 'integer', description: 'pass it as expectedVersion when staging an edit (0: does not exist yet)' },
    definition: { type: 'object', additionalProperties: true, description: 'settings (secrets as { secret: id }), unset, and for roles parents and components' },
  },
} as const;

const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 253 } } } as const;

export async function configRoutes(app: FastifyInstance, opts: { geppetto: Geppetto }): Promise<void> {
  const g = opts.geppetto;
  for (const [kind, plural] of [
    ['role', 'roles'],
    ['environment', 'environments'],
  ] as const) {
    app.get(
      `/api/v1/${plural}`,
      {
        onRequest: requireRole('viewer'),
        schema: { summary: `Every ${kind}, with its definition and version`, tags: ['config'], response: { 200: { type: 'object', properties: { [plural]: { type: 'array', items: entityAnswer } } }, ...errorResponses(401, 403) } },
      },
      async () => {
        const state = await g.state();
        const names = Object.keys(kind === 'role' ? state.roles : state.environments).sort();
        const items = await Promise.all(names.map(async (name) => ({ name, ...(await g.entity({ kind, name })) })));
        return { [plural]: items.map((e) => ({ name: e.name, version: e.version, definition: e.body })) };
      },
    );
    app.get<{ Params: { name: string } }>(
      `/api/v1/${plural}/:name`,
      {
        onRequest: requireRole('viewer'),
        schema: { summary: `One ${kind}: its definition and version`, tags: ['config'], params: nameParam, response: { 200: entityAnswer, ...errorResponses(401, 403, 404) } },
      },
      async (request) => {
        const e = await g.entity({ kind, name: request.params.name });
        if (e.body === null) throw new KpkgError('NOT_FOUND', `${kind} ${request.params.name} does not exist`);
        return { name: request.params.name, version: e.version, definition: e.body };
      },
    );
  }

  app.get(
    '/api/v1/global',
    {
      onRequest: requireRole('viewer'),
      schema: { summary: 'The global scope: settings every server inherits', tags: ['config'], response: { 200: entityAnswer, ...errorResponses(401, 403) } },
    },
    async () => {
      const e = await g.entity({ kind: 'global', name: '' });
      return { name: '', version: e.version, definition: e.body ?? { settings: {}, unset: [] } };
    },
  );

  app.get(
    '/api/v1/repositories',
    {
      onRequest: requireRole('viewer'),
      schema: {
        summary: 'The yum repositories servers install from (and the catalog is read from)',
        tags: ['config'],
        response: {
          200: {
            type: 'object',
            properties: {
              version: { type: 'integer' },
              repositories: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, baseurl: { type: 'string' }, gpgkey: { type: 'string' }, gpgcheck: { type: 'boolean' } } } },
            },
          },
          ...errorResponses(401, 403),
        },
      },
    },
    async () => {
      const e = await g.entity({ kind: 'repositories', name: '' });
      return { version: e.version, repositories: Array.isArray(e.body) ? e.body : [] };
    },
  );
}
