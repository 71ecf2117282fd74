/**
 * GET /api/openapi.json: an OpenAPI 3.0 document made from the API routes' own JSON Schemas (the
 * ones fastify validates and serializes with), so it cannot drift from what the server does.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { compareStrings } from '../../resolve/keys.js';
import { SESSION_COOKIE } from '../auth.js';

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `/api/v1/nodes/:fqdn/file` -> `/api/v1/nodes/{fqdn}/file` */
export const openapiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** JSON Schema draft-07 as fastify takes it -> OpenAPI 3.0's dialect (`const` becomes a one-value enum, `type: 'null'` and `not: { type: 'null' }` go: 3.0 schemas refuse null unless `nullable`). */
function toOpenapiSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toOpenapiSchema);
  if (!isObj(schema)) return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$id' || k === '$schema') continue;
    // "anything but null": OpenAPI 3.0 has no null type, and its schemas refuse null unless nullable
    if (k === 'not' && isObj(v) && v.type === 'null' && Object.keys(v).length === 1) continue;
    if (k === 'const') out.enum = [v];
    else if (k === 'type' && Array.isArray(v)) {
      const types = v.filter((t) => t !== 'null');
      if (types.length === 1) out.type = types[0];
      if (v.includes('null')) out.nullable = true;
    } else if (k === 'properties' || k === 'patternProperties' || k === 'definitions') {
      out[k] = Object.fromEntries(Object.entries(isObj(v) ? v : {}).map(([p, s]) => [p, toOpenapiSchema(s)]));
    } else out[k] = isObj(v) || Array.isArray(v) ? toOpenapiSchema(v) : v;
  }
  return out;
}

function parameters(where: 'path' | 'query' | 'header', schema: unknown): Json[] {
  if (!isObj(schema) || !isObj(schema.properties)) return [];
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  return Object.entries(schema.properties).map(([name, s]) => {
    const desc = isObj(s) && typeof s.description === 'string' ? { description: s.description } : {};
    return { name, in: where, required: where === 'path' || required.includes(name), ...desc, schema: toOpenapiSchema(s) };
  });
}

function responses(schema: unknown): Json {
  const out: Json = {};
  if (!isObj(schema)) return { 200: { description: 'OK' } };
  for (const [code, s] of Object.entries(schema)) {
    if (!isObj(s)) continue;
    const description = typeof s.description === 'string' ? s.description : Number(code) < 300 ? 'OK' : 'Error';
    if (isObj(s.content)) {
      out[code] = { description, content: Object.fromEntries(Object.entries(s.content).map(([type, c]) => [type, { schema: toOpenapiSchema(isObj(c) ? c.schema : {}) }])) };
    } else if (s.type === 'null') out[code] = { description };
    else {
      const { description: _d, ...body } = s;
      out[code] = { description, content: { 'application/json': { schema: toOpenapiSchema(body) } } };
    }
  }
  return out;
}

/** Builds the document from the routes collected. */
export function openapiDocument(routes: RouteOptions[], version: string): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const schema: Json = isObj(route.schema) ? (route.schema) : {};
    if (schema.hide === true) continue;
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    // an optional last parameter (`/:name?`) is two paths in OpenAPI, where path parameters are required
    const optional = /\/:([A-Za-z0-9_]+)\?$/.exec(route.url);
    const variants = optional ? [{ url: route.url.slice(0, optional.index), without: optional[1] }, { url: route.url.slice(0, -1), without: undefined }] : [{ url: route.url, without: undefined }];
    for (const variant of variants) {
    const path = openapiPath(variant.url);
    for (const method of methods) {
      const op: Json = {
        operationId: `${method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
        ...(typeof schema.summary === 'string' ? { summary: schema.summary } : {}),
        ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
        ...(Array.isArray(schema.tags) ? { tags: schema.tags } : {}),
      };
      const params = [...parameters('path', schema.params).filter((p) => p.name !== variant.without), ...parameters('query', schema.querystring), ...parameters('header', schema.headers)];
      if (params.length > 0) op.parameters = params;
      if (schema.body !== undefined) {
        op.requestBody = { required: true, content: { 'application/json': { schema: toOpenapiSchema(schema.body) } } };
      }
      op.responses = responses(schema.response);
      if (route.config && isObj(route.config) && route.config.public === true) op.security = [];
      (paths[path] ??= {})[method.toLowerCase()] = op;
    }
    }
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Geppetto API',
      version,
      description:
        "Geppetto's configuration back office. Authenticate with `Authorization: Bearer <token>` (an API token from `geppetto token add`, or a server's token from `geppetto server token` for its own file and reports), or with the session cookie of POST /api/v1/login (then every POST, PUT, PATCH and DELETE needs the session's CSRF token in `x-csrf-token`).",
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
      },
    },
    security: [{ bearer: [] }, { session: [] }],
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => compareStrings(a, b))),
  };
}

/**
 * Collects the routes registered on `app` from now on (call before registering them) and serves
 * the document; `done()` closes the list.
 */
export function openapiRoutes(app: FastifyInstance, version = '1'): void {
  const routes: RouteOptions[] = [];
  let doc: string | undefined;
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/')) routes.push(route);
  });
  app.get(
    '/api/openapi.json',
    { config: { public: true }, schema: { hide: true } },
    async (_request, reply) => {
      doc ??= `${JSON.stringify(openapiDocument(routes, version), null, 2)}\n`;
      return reply.type('application/json; charset=utf-8').send(doc);
    },
  );

}
