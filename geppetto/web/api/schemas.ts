/**
 * JSON Schemas the API's routes share. Fastify validates requests with them and serializes answers
 * with them (a property not in an answer's schema is not sent); the OpenAPI document is made of them.
 */

declare module 'fastify' {
  interface FastifySchema {
    /** OpenAPI: the operation's summary, description and tags; hide leaves it out of the document. */
    summary?: string;
    description?: string;
    tags?: string[];
    hide?: boolean;
  }
  interface FastifyContextConfig {
    /** OpenAPI: the route needs no credentials. */
    public?: boolean;
  }
}

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'stable: INVALID_INPUT, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, RATE_LIMITED, INTERNAL...' },
        message: { type: 'string' },
        problems: { type: 'array', items: { type: 'object', additionalProperties: true }, description: 'what blocks publishing (422)' },
      },
    },
  },
} as const;

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input',
  401: 'No or invalid credentials',
  403: 'Not allowed (role, another server, or a missing CSRF token)',
  404: 'Not found',
  409: 'Conflict: changed by someone else since',
  422: 'Refused: problems block publishing',
  429: 'Too many requests',
};

/** Error answers for a route's `response`, all `{ error: { code, message } }`. */
export function errorResponses(...codes: number[]): Record<number, typeof errorSchema & { description: string }> {
  const out: Record<number, typeof errorSchema & { description: string }> = {};
  for (const c of codes) out[c] = { ...errorSchema, description: ERROR_TEXT[c] ?? 'Error' };
  return out;
}

export const userSchema = {
  type: 'object',
  required: ['id', 'name', 'role', 'createdAt', 'disabled'],
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    role: { type: 'string', enum: ['viewer', 'editor', 'admin'] },
    createdAt: { type: 'string' },
    disabled: { type: 'boolean' },
  },
} as const;

/** Any JSON value (settings' values, entity bodies): passed through as is. */
export const anyValue = {} as const;

/** Something that blocks publishing: kind, server, key, message, the competing definitions. */
export const problemSchema = {
  type: 'object',
  required: ['kind', 'message'],
  properties: {
    kind: { type: 'string' },
    server: { type: 'string' },
    key: { type: 'string' },
    message: { type: 'string' },
    definitions: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
} as const;

/** A pinned component version the catalog changed or removed since the last publish (preview, refresh). */
export const catalogChangeProperties = {
  component: { type: 'string' },
  evr: { type: 'string' },
  change: { type: 'string', enum: ['changed', 'removed'], description: '`changed`: rebuilt, or now from another repository; `removed`: no repository has it any more' },
} as const;
