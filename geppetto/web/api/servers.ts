/** Servers for people: their status, one server's roles, resolved settings (secrets masked), revisions; explain; server tokens. */
import type { FastifyInstance } from 'fastify';
import { KpkgError } from '../../../packager/errors.js';
import type { Definition, ResolvedServer } from '../../model.js';
import { SECRET_MASK, type Geppetto, type ServerHealth } from '../../service/index.js';
import { principalOf, requireRole } from '../auth.js';
import { anyValue, errorResponses, problemSchema } from './schemas.js';

const fqdnParam = {
  type: 'object',
  required: ['fqdn'],
  properties: { fqdn: { type: 'string', minLength: 1, maxLength: 253 } },
} as const;

/** Servers per page of the list when the request does not say. */
export const SERVERS_LIMIT = 500;

const HEALTH: ServerHealth[] = ['current', 'behind', 'failed', 'silent', 'never-reported', 'no-file'];

const reportSchema = {
  type: 'object',
  properties: { revision: { type: 'integer' }, status: { type: 'string' }, changes: { type: 'integer' }, summary: { type: 'string' }, at: { type: 'string' }, receivedAt: { type: 'string' } },
} as const;

const statusSchema = {
  type: 'object',
  required: ['fqdn', 'environment', 'roles', 'revision', 'health'],
  properties: {
    fqdn: { type: 'string' },
    environment: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    revision: { type: 'integer', description: 'the current revision of its file (0: none)' },
    applied: { type: 'integer', description: 'the revision its last successful report applied' },
    lastReport: reportSchema,
    health: { type: 'string', enum: HEALTH, description: 'behind: the last report applied an older revision; failed: the last run failed; silent: no report for a while' },
  },
} as const;

const definitionSchema = {
  type: 'object',
  properties: {
    source: { type: 'object', properties: { scope: { type: 'string' }, name: { type: 'string' }, path: { type: 'array', items: { type: 'string' } } } },
    value: anyValue,
  },
} as const;

const mask = (d: Definition, secret: boolean): Definition => (secret && !('unset' in (d.value as object)) ? { ...d, value: SECRET_MASK } : d);

/** A resolution for people: secrets' values (and references) replaced by the mask. */
export function maskedResolution(r: ResolvedServer) {
  return {
    components: Object.fromEntries(
      Object.entries(r.components).map(([name, c]) => [name, { evr: c.version.evr, package: c.version.package, class: c.version.class, chain: c.chain }]),
    ),
    settings: Object.values(r.settings)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((s) => {
        const secret = s.secret || (s.value !== undefined && typeof s.value === 'object' && !Array.isArray(s.value) && 'secret' in s.value && Object.keys(s.value).length === 1);
        return {
          key: s.key,
          ...(s.value !== undefined ? { value: secret ? SECRET_MASK : s.value } : {}),
          origin: s.origin,
          secret,
          chain: s.chain.map((d) => mask(d, secret)),
        };
      }),
    problems: r.problems,
  };
}

export async function serverRoutes(app: FastifyInstance, opts: { geppetto: Geppetto }): Promise<void> {
  const g = opts.geppetto;

  app.get<{ Querystring: { health?: ServerHealth; limit?: number; cursor?: string } }>(
    '/api/v1/servers',
    {
      onRequest: requireRole('viewer'),
      schema: {
        summary: 'Servers by name, a page at a time, with their revision, the revision they last applied, and their health',
        description: `At most \`limit\` servers (default ${SERVERS_LIMIT}); when more follow, \`nextCursor\`: pass it as \`cursor\` (with the same filter) for the next page.`,
        tags: ['servers'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            health: { type: 'string', enum: HEALTH },
            limit: { type: 'integer', minimum: 1, maximum: 1000, description: `servers per page (default ${SERVERS_LIMIT})` },
            cursor: { type: 'string', minLength: 1, maxLength: 253, description: "the previous page's nextCursor: the page starts after that server" },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['servers'],
            properties: { servers: { type: 'array', items: statusSchema }, nextCursor: { type: 'string', description: 'present when more servers follow' } },
          },
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { health, limit = SERVERS_LIMIT, cursor } = request.query;
      // serverStatus() is sorted by fqdn: the cursor is the last name of the page before
      const matching = (await g.serverStatus()).filter((s) => (!health || s.health === health) && (cursor === undefined || s.fqdn > cursor));
      const servers = matching.slice(0, limit);
      const last = servers[servers.length - 1];
      return { servers, ...(matching.length > limit && last ? { nextCursor: last.fqdn } : {}) };
    },
  );

  app.get<{ Params: { fqdn: string } }>(
    '/api/v1/servers/:fqdn',
    {
      onRequest: requireRole('viewer'),
      schema: {
        summary: 'One server: its definition (and version, for edits), status, resolved components and settings with their source chains (secrets masked), revisions and last reports',
        tags: ['servers'],
        params: fqdnParam,
        response: {
          200: {
            type: 'object',
            properties: {
              fqdn: { type: 'string' },
              version: { type: 'integer', description: 'pass it as expectedVersion when staging an edit' },
              definition: { type: 'object', additionalProperties: true },
              status: statusSchema,
              resolved: {
                type: 'object',
                properties: {
                  components: { type: 'object', additionalProperties: { type: 'object', properties: { evr: { type: 'string' }, package: { type: 'string' }, class: { type: 'string' }, chain: { type: 'array', items: definitionSchema } } } },
                  settings: {
                    type: 'array',
                    items: { type: 'object', properties: { key: { type: 'string' }, value: anyValue, origin: { type: 'string' }, secret: { type: 'boolean' }, chain: { type: 'array', items: definitionSchema } } },
                  },
                  problems: { type: 'array', items: problemSchema },
                },
              },
              revisions: { type: 'array', items: { type: 'object', properties: { revision: { type: 'integer' }, changeset: { type: 'integer' }, createdAt: { type: 'string' }, etag: { type: 'string' } } } },
              reports: { type: 'array', items: reportSchema },
            },
          },
          ...errorResponses(401, 403, 404),
        },
      },
    },
    async (request) => {
      const { fqdn } = request.params;
      const entity = await g.entity({ kind: 'server', name: fqdn });
      if (entity.body === null) throw new KpkgError('NOT_FOUND', `server ${fqdn} does not exist`);
      const [{ resolved }, status, revisions, reports] = await Promise.all([g.explain(fqdn), g.serverStatus(), g.revisions(fqdn), g.reports(fqdn, 20)]);
      return { fqdn, version: entity.version, definition: entity.body, status: status.find((s) => s.fqdn === fqdn), resolved: maskedResolution(resolved), revisions, reports };
    },
  );

  app.get<{ Params: { fqdn: string }; Querystring: { key?: string } }>(
    '/api/v1/servers/:fqdn/explain',
    {
      onRequest: requireRole('viewer'),
      schema: {
        summary: "Why a server's settings have their values, scope by scope (as `geppetto explain`)",
        tags: ['servers'],
        params: fqdnParam,
        querystring: { type: 'object', additionalProperties: false, properties: { key: { type: 'string', maxLength: 200, description: '<component>.<key>' } } },
        response: { 200: { type: 'object', properties: { fqdn: { type: 'string' }, text: { type: 'string' } } }, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const { text } = await g.explain(request.params.fqdn, request.query.key);
      return { fqdn: request.params.fqdn, text };
    },
  );

  app.post<{ Params: { fqdn: string } }>(
    '/api/v1/servers/:fqdn/token',
    {
      onRequest: requireRole('admin'),
      schema: {
        summary: "A new token for the server (shown once); its previous token stops working",
        tags: ['servers', 'tokens'],
        params: fqdnParam,
        response: { 201: { type: 'object', properties: { fqdn: { type: 'string' }, token: { type: 'string' } } }, ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const token = await g.serverToken(principalOf(request), request.params.fqdn);
      return reply.code(201).send({ fqdn: request.params.fqdn, token });
    },
  );
}
