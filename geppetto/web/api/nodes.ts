/**
 * What servers call: their file and their reports. The file is the stored revision, served as it
 * was published (no resolution here): the ETag comes from the head row, so a 304 costs one token
 * lookup and one indexed read. These routes have no global rate limit: a fleet behind one NAT
 * address fetches often, and each request needs a valid token anyway.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KpkgError } from '../../../packager/errors.js';
import type { Geppetto } from '../../service/index.js';
import { readYamlFile } from '../../yaml-read.js';
import { hasRole, principalOf, requireAuthenticated } from '../auth.js';
import { errorResponses } from './schemas.js';

const fqdnParam = {
  type: 'object',
  required: ['fqdn'],
  properties: { fqdn: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.-]+$', description: "the server's fully qualified name" } },
} as const;

/** Whether the client asked for JSON rather than YAML. */
export function wantsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    return type?.trim() === 'application/json' && !params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p));
  });
}

/** Whether If-None-Match names this ETag (a list, weak forms, or `*`). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const strong = etag.replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === strong;
  });
}

function sendFile(request: FastifyRequest, reply: FastifyReply, etag: string, body: string | undefined, json: boolean): FastifyReply {
  // private: it may hold secrets; no-cache: revalidate with the ETag every time
  reply.header('etag', etag).header('cache-control', 'private, no-cache').header('vary', 'Accept, Authorization, Cookie');
  if (body === undefined || etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
  return reply.type(json ? 'application/json; charset=utf-8' : 'application/yaml; charset=utf-8').send(body);
}

export async function nodeRoutes(app: FastifyInstance, opts: { geppetto: Geppetto }): Promise<void> {
  const g = opts.geppetto;

  app.get<{ Params: { fqdn: string }; Querystring: { revision?: number } }>(
    '/api/v1/nodes/:fqdn/file',
    {
      onRequest: requireAuthenticated,
      config: { rateLimit: false },
      schema: {
        summary: "A server's file: YAML, or JSON with Accept: application/json",
        description:
          "With the server's own token: the file as published, secrets included (what Punch applies). With a person's session or an API token (viewer or more): the same file with its Sensitive parameters masked. ETag on every answer; If-None-Match gives 304 when the file did not change.",
        tags: ['nodes'],
        params: fqdnParam,
        querystring: { type: 'object', additionalProperties: false, properties: { revision: { type: 'integer', minimum: 1, description: 'an older revision (people only)' } } },
        headers: { type: 'object', properties: { 'if-none-match': { type: 'string', description: 'the ETag of the copy the client has' } } },
        response: {
          200: {
            description: 'The file',
            content: {
              'application/yaml': { schema: { type: 'string', description: 'schema/node.schema.json, as YAML' } },
              'application/json': { schema: { type: 'object', additionalProperties: true, description: 'schema/node.schema.json' } },
            },
          },
          304: { description: 'Not modified', type: 'null' },
          ...errorResponses(401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const { fqdn } = request.params;
      const json = wantsJson(request.headers.accept);
      if (p.kind === 'server') {
        if (request.query.revision !== undefined) throw new KpkgError('FORBIDDEN', 'a server reads its current file only');
        // the service refuses another server's token (authorizeNode)
        const ifNoneMatch = request.headers['if-none-match'];
        if (ifNoneMatch !== undefined) {
          // the usual poll: the head row's ETag alone, the file is neither read nor decrypted
          const etag = await g.nodeFileEtag(p, fqdn, json ? 'json' : 'yaml');
          if (etag === undefined) throw new KpkgError('NOT_FOUND', `${fqdn} has no published file`);
          if (etagMatches(ifNoneMatch, etag)) return sendFile(request, reply, etag, undefined, json);
        }
        const answer = await g.nodeFile(p, fqdn, { format: json ? 'json' : 'yaml' });
        return sendFile(request, reply, answer.etag, answer.body, json);
      }
      if (!hasRole(p, 'viewer')) throw new KpkgError('FORBIDDEN', 'needs viewer');
      // people see it masked: a secret's value only ever goes to its own server
      const masked = await g.maskedFile(p, fqdn, request.query.revision);
      const body = json ? `${JSON.stringify(readYamlFile(masked.body), null, 2)}\n` : masked.body;
      const etag = `"m${masked.revision}-${createHash('sha256').update(body).digest('base64url').slice(0, 22)}${json ? '-json' : ''}"`;
      return sendFile(request, reply, etag, body, json);
    },
  );

  app.post<{ Params: { fqdn: string }; Body: { revision: number; status: 'changed' | 'unchanged' | 'failed'; changes?: number; summary?: string; at?: string } }>(
    '/api/v1/nodes/:fqdn/reports',
    {
      onRequest: requireAuthenticated,
      config: { rateLimit: false },
      schema: {
        summary: "Punch's report of a run, with the server's own token",
        tags: ['nodes'],
        params: fqdnParam,
        body: {
          type: 'object',
          required: ['revision', 'status'],
          additionalProperties: false,
          properties: {
            revision: { type: 'integer', minimum: 0, maximum: 2147483647, description: 'the revision of the file the run applied' },
            status: { type: 'string', enum: ['changed', 'unchanged', 'failed'] },
            changes: { type: 'integer', minimum: 0, maximum: 2147483647 },
            summary: { type: 'string', maxLength: 65536 },
            at: { type: 'string', format: 'date-time' },
          },
        },
        response: { 204: { description: 'Recorded', type: 'null' }, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      if (p.kind !== 'server') throw new KpkgError('FORBIDDEN', "reports come from the server's own token");
      await g.postReport(p, request.params.fqdn, request.body);
      return reply.code(204).send();
    },
  );
}
