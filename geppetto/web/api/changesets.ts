/**
 * Changesets: an editor opens one, stages entity edits (each naming the version it was read at:
 * 409 when someone published a change since), previews per-server diffs and problems, publishes
 * (422 with the problems when blocked, 409 on a conflict), discards or reverts.
 */
import type { FastifyInstance } from 'fastify';
import { KpkgError } from '../../../packager/errors.js';
import type { Value } from '../../model.js';
import type { EntityKind, EntityRef, Geppetto } from '../../service/index.js';
import { getEntity } from '../../service/entities.js';
import { principalOf, requireRole } from '../auth.js';
import { catalogChangeProperties, errorResponses, problemSchema } from './schemas.js';

const KINDS: EntityKind[] = ['global', 'repositories', 'environment', 'role', 'server'];

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1, maximum: 2147483647 } } } as const;
const entityParams = {
  type: 'object',
  required: ['id', 'kind'],
  properties: {
    id: { type: 'integer', minimum: 1, maximum: 2147483647 },
    kind: { type: 'string', enum: KINDS },
    name: { type: 'string', maxLength: 253, description: 'the role, environment or server; none for global and repositories' },
  },
} as const;

const summarySchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    title: { type: 'string' },
    author: { type: 'string' },
    status: { type: 'string', enum: ['open', 'published', 'discarded'] },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    publishedAt: { type: 'string' },
    reverts: { type: 'integer' },
  },
} as const;

const changesetSchema = {
  type: 'object',
  properties: {
    ...summarySchema.properties,
    entities: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          kind: { type: 'string' },
          name: { type: 'string' },
          baseVersion: { type: 'integer', description: 'the published version this changeset edits' },
          deleted: { type: 'boolean' },
          definition: { type: 'object', additionalProperties: true, nullable: true, description: 'the staged definition (secrets as references)' },
        },
      },
    },
  },
} as const;

const publishSchema = {
  type: 'object',
  properties: {
    changeset: { type: 'integer' },
    publishSeq: { type: 'integer' },
    revisions: { type: 'array', items: { type: 'object', properties: { fqdn: { type: 'string' }, revision: { type: 'integer', description: '0: the server lost its file' } } } },
  },
} as const;

const scopeSchema = {
  type: 'object',
  required: ['kind'],
  additionalProperties: false,
  properties: { kind: { type: 'string', enum: ['global', 'environment', 'role', 'server'] }, name: { type: 'string', maxLength: 253, default: '' } },
} as const;

function refOf(kind: EntityKind, name: string | undefined): EntityRef {
  return { kind, name: name ?? '' };
}

export async function changesetRoutes(app: FastifyInstance, opts: { geppetto: Geppetto }): Promise<void> {
  const g = opts.geppetto;

  /** A changeset with the definitions it stages. */
  async function withDefinitions(id: number) {
    const cs = await g.changeset(id);
    const state = cs.status === 'open' ? await g.changesetState(id) : undefined;
    return {
      ...cs,
      entities: cs.entities.map((e) => {
        const body = state && !e.deleted ? getEntity(state, refOf(e.kind as EntityKind, e.name)) : undefined;
        return { ...e, definition: body === undefined ? null : Array.isArray(body) ? { repositories: body } : body };
      }),
    };
  }

  app.get<{ Querystring: { status?: 'open' | 'published' | 'discarded'; limit?: number } }>(
    '/api/v1/changesets',
    {
      onRequest: requireRole('viewer'),
      schema: {
        summary: 'Changesets, newest first',
        tags: ['changesets'],
        querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['open', 'published', 'discarded'] }, limit: { type: 'integer', minimum: 1, maximum: 1000 } } },
        response: { 200: { type: 'object', properties: { changesets: { type: 'array', items: summarySchema } } }, ...errorResponses(401, 403) },
      },
    },
    async (request) => ({ changesets: await g.changesets(request.query) }),
  );

  app.post<{ Body: { title: string } }>(
    '/api/v1/changesets',
    {
      onRequest: requireRole('editor'),
      schema: {
        summary: 'Open a changeset',
        tags: ['changesets'],
        body: { type: 'object', required: ['title'], additionalProperties: false, properties: { title: { type: 'string', minLength: 1, maxLength: 200 } } },
        response: { 201: changesetSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => reply.code(201).send(await withDefinitions((await g.createChangeset(principalOf(request), request.body.title)).id)),
  );

  app.get<{ Params: { id: number } }>(
    '/api/v1/changesets/:id',
    {
      onRequest: requireRole('viewer'),
      schema: { summary: 'A changeset and the definitions it stages', tags: ['changesets'], params: idParam, response: { 200: changesetSchema, ...errorResponses(401, 403, 404) } },
    },
    async (request) => withDefinitions(request.params.id),
  );

  app.put<{ Params: { id: number; kind: EntityKind; name?: string }; Body: { definition: unknown; expectedVersion?: number } }>(
    '/api/v1/changesets/:id/entities/:kind/:name?',
    {
      onRequest: requireRole('editor'),
      schema: {
        summary: "Stage an entity's new definition (the whole of it)",
        description:
          'expectedVersion is the version the editor read (GET /api/v1/roles/{name}...; 0 for a new entity): 409 when another publish changed it since. Plain values of keys the catalog marks secret are stored encrypted and replaced by references.',
        tags: ['changesets'],
        params: entityParams,
        body: {
          type: 'object',
          required: ['definition'],
          additionalProperties: false,
          properties: {
            definition: { description: 'role: { parents, components, settings, unset }; server: { environment, roles, settings, unset }; environment and global: { settings, unset }; repositories: a list' },
            expectedVersion: { type: 'integer', minimum: 0 },
          },
        },
        response: { 200: changesetSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { id, kind, name } = request.params;
      if (request.body.definition === null) throw new KpkgError('INVALID_INPUT', 'definition: use DELETE to remove an entity');
      await g.stage(id, principalOf(request), refOf(kind, name), request.body.definition, request.body.expectedVersion !== undefined ? { expectedVersion: request.body.expectedVersion } : {});
      return withDefinitions(id);
    },
  );

  app.delete<{ Params: { id: number; kind: EntityKind; name?: string }; Querystring: { expectedVersion?: number; unstage?: boolean } }>(
    '/api/v1/changesets/:id/entities/:kind/:name?',
    {
      onRequest: requireRole('editor'),
      schema: {
        summary: 'Stage the removal of an entity, or with unstage=true drop it from the changeset',
        tags: ['changesets'],
        params: entityParams,
        querystring: { type: 'object', additionalProperties: false, properties: { expectedVersion: { type: 'integer', minimum: 0 }, unstage: { type: 'boolean' } } },
        response: { 200: changesetSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { id, kind, name } = request.params;
      const actor = principalOf(request);
      if (request.query.unstage) await g.unstage(id, actor, refOf(kind, name));
      else await g.stage(id, actor, refOf(kind, name), null, request.query.expectedVersion !== undefined ? { expectedVersion: request.query.expectedVersion } : {});
      return withDefinitions(id);
    },
  );

  app.post<{ Params: { id: number }; Body: { scope: { kind: EntityKind; name?: string }; key: string; value: Value; secret?: boolean; expectedVersion?: number } }>(
    '/api/v1/changesets/:id/settings',
    {
      onRequest: requireRole('editor'),
      schema: {
        summary: 'Set one setting at a scope',
        description: 'secret: true stores the value encrypted (keys the catalog marks secret always are); it is never shown again, only served in the files of the servers that use it.',
        tags: ['changesets'],
        params: idParam,
        body: {
          type: 'object',
          required: ['scope', 'key', 'value'],
          additionalProperties: false,
          properties: {
            scope: scopeSchema,
            key: { type: 'string', pattern: '^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$', description: '<component>.<key>' },
            value: { description: 'any JSON value but null', not: { type: 'null' } },
            secret: { type: 'boolean' },
            expectedVersion: { type: 'integer', minimum: 0 },
          },
        },
        response: { 200: changesetSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { scope, key, value, secret, expectedVersion } = request.body;
      await g.setSetting(request.params.id, principalOf(request), refOf(scope.kind, scope.name), key, value, {
        ...(secret !== undefined ? { secret } : {}),
        ...(expectedVersion !== undefined ? { expectedVersion } : {}),
      });
      return withDefinitions(request.params.id);
    },
  );

  app.post<{ Params: { id: number }; Body: { scope: { kind: EntityKind; name?: string }; key: string; remove?: boolean; expectedVersion?: number } }>(
    '/api/v1/changesets/:id/unset',
    {
      onRequest: requireRole('editor'),
      schema: {
        summary: 'Unset a key at a scope (it stops inheriting it), or with remove: true drop the scope\'s own definition of it',
        tags: ['changesets'],
        params: idParam,
        body: {
          type: 'object',
          required: ['scope', 'key'],
          additionalProperties: false,
          properties: { scope: scopeSchema, key: { type: 'string', pattern: '^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$' }, remove: { type: 'boolean' }, expectedVersion: { type: 'integer', minimum: 0 } },
        },
        response: { 200: changesetSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { scope, key, remove, expectedVersion } = request.body;
      await g.unsetSetting(request.params.id, principalOf(request), refOf(scope.kind, scope.name), key, {
        ...(remove !== undefined ? { remove } : {}),
        ...(expectedVersion !== undefined ? { expectedVersion } : {}),
      });
      return withDefinitions(request.params.id);
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/v1/changesets/:id/preview',
    {
      onRequest: requireRole('viewer'),
      schema: {
        summary: 'What publishing would do: problems that block it, entities changed by others since (conflicts), and each affected server\'s diff (secrets masked)',
        tags: ['changesets'],
        params: idParam,
        response: {
          200: {
            type: 'object',
            properties: {
              changeset: { type: 'integer' },
              problems: { type: 'array', items: problemSchema },
              servers: {
                type: 'array',
                items: { type: 'object', properties: { fqdn: { type: 'string' }, change: { type: 'string', enum: ['added', 'changed', 'removed'] }, from: { type: 'integer' }, to: { type: 'integer' }, diff: { type: 'string' } } },
              },
              conflicts: { type: 'array', items: { type: 'object', properties: { kind: { type: 'string' }, name: { type: 'string' }, baseVersion: { type: 'integer' }, currentVersion: { type: 'integer' } } } },
              catalog: {
                type: 'array',
                description: 'pinned component versions a catalog refresh changed or removed since the last publish: the servers pinning them are in the preview too',
                items: { type: 'object', properties: catalogChangeProperties },
              },
            },
          },
          ...errorResponses(401, 403, 404, 409),
        },
      },
    },
    async (request) => g.preview(request.params.id),
  );

  app.post<{ Params: { id: number } }>(
    '/api/v1/changesets/:id/publish',
    {
      onRequest: requireRole('editor'),
      schema: {
        summary: 'Publish: new revisions of the files that change; 422 with the problems when blocked, 409 when someone else published a change to the same entities',
        tags: ['changesets'],
        params: idParam,
        response: { 200: publishSchema, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request) => g.publish(request.params.id, principalOf(request)),
  );

  app.post<{ Params: { id: number } }>(
    '/api/v1/changesets/:id/discard',
    {
      onRequest: requireRole('editor'),
      schema: { summary: 'Discard an open changeset', tags: ['changesets'], params: idParam, response: { 204: { type: 'null', description: 'Discarded' }, ...errorResponses(401, 403, 404, 409) } },
    },
    async (request, reply) => {
      await g.discard(request.params.id, principalOf(request));
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: number } }>(
    '/api/v1/changesets/:id/revert',
    {
      onRequest: requireRole('editor'),
      schema: {
        summary: 'Revert a published changeset: a new changeset putting back what it changed, published at once (409 when a later publish changed the same entities)',
        tags: ['changesets'],
        params: idParam,
        response: { 200: publishSchema, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request) => g.revert(request.params.id, principalOf(request)),
  );
}
