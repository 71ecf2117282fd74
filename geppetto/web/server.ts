/**
 * Geppetto's HTTP server: the JSON API (geppetto/web/api), the web UI's pages when that module is
 * present (geppetto/web/ui, registered as a plugin), htmx and the UI's CSS, and what every answer
 * shares: who is asking (auth.ts), CSRF, rate limits, security headers, one error mapping, logs
 * without credentials or secrets.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { KpkgError, oneLine } from '../../packager/errors.js';
import { templatesDir } from '../../packager/util/paths.js';
import { httpStatusFor, ProblemsError, type Geppetto } from '../service/index.js';
import { registerApi } from './api/index.js';
import { createAuth, identify, needsCsrf, type Auth } from './auth.js';

export interface RateLimit {
  max: number;
  /** milliseconds */
  timeWindow: number;
}

export interface ServerOptions {
  /**
   * Behind a reverse proxy: trust its X-Forwarded-For/-Proto (fastify's trustProxy: true, a
   * hop count, or the proxies' addresses). Then the client's address keys the login limits and a
   * request that came over HTTPS gets Secure cookies.
   */
  trustProxy?: boolean | string | string[];
  /** Secure cookies even when the request does not look like HTTPS (a TLS proxy that sends no X-Forwarded-Proto). */
  secureCookies?: boolean;
  /** Log lines (pino): false for none; a stream to capture them (tests). Default: info to stdout. */
  logger?: boolean | { level?: string; stream?: { write(line: string): void } };
  /** Login attempts per client address (default 10 a minute); the service adds 10 failures per 15 minutes per account and client. */
  loginRateLimit?: RateLimit;
  /** Requests per client address to the API and pages, servers' file and report routes excepted (default 1,200 a minute). */
  rateLimit?: RateLimit;
  /** Largest request body (default 1 MiB). */
  bodyLimit?: number;
  /** CA certificates for https repositories, for catalog refreshes asked through the API. */
  caFile?: string;
}

/** What the UI's plugin (geppetto/web/ui/index.ts, `registerUi(app, deps)`) is given. */
export interface UiDeps {
  geppetto: Geppetto;
  auth: Auth;
  /** Route config for the login form's POST: `config: { rateLimit: deps.loginRateLimit, csrf: false }`. */
  loginRateLimit: RateLimit;
  options: ServerOptions;
}

export interface UiModule {
  registerUi: (app: FastifyInstance, deps: UiDeps) => Promise<void>;
}

/** The Content-Security-Policy of every answer: scripts and styles from this origin only, no inline ones, no framing. */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

const DEFAULT_LOGIN_LIMIT: RateLimit = { max: 10, timeWindow: 60_000 };
const DEFAULT_RATE_LIMIT: RateLimit = { max: 1200, timeWindow: 60_000 };

/** The path of a URL without its query (queries are not logged: they are the client's to fill). */
const pathOf = (url: string): string => {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
};

/** Where htmx.min.js is: htmx.org's dist directory. */
function htmxDist(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('htmx.org/dist/htmx.min.js'));
}

/** The UI's module, or undefined when this build has none (the API alone is served). */
async function loadUi(): Promise<UiModule | undefined> {
  // by a computed name: the UI is written in parallel and may be absent
  const specifier = ['.', 'ui', 'index.js'].join('/');
  try {
    const mod = (await import(specifier)) as Partial<UiModule>;
    return typeof mod.registerUi === 'function' ? (mod as UiModule) : undefined;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(['ui', 'index'].join('/'))) return undefined;
    if (err instanceof Error && /Failed to load url .*ui\/index\.js/.test(err.message)) return undefined;
    throw err;
  }
}

/** Keys a log line never shows, at its top level or one level down (`{ user: { password } }`). */
const SECRET_LOG_KEYS = new Set(['headers', 'body', 'password', 'token', 'cookie']);
/** Serialized by the serializers below into fields known to be safe. */
const SERIALIZED_LOG_KEYS = new Set(['req', 'res', 'err']);

/**
 * A log line's object with credentials and bodies replaced by `[redacted]`, in case some code logs
 * one: a check of its keys, where pino's `redact` (path matching and a clone per line) cost
 * several microseconds on every request.
 */
export function redactLogObject(o: Record<string, unknown>): Record<string, unknown> {
  let out = o;
  const set = (k: string, v: unknown) => {
    if (out === o) out = { ...o };
    out[k] = v;
  };
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (SECRET_LOG_KEYS.has(k)) set(k, '[redacted]');
    else if (v !== null && typeof v === 'object' && !SERIALIZED_LOG_KEYS.has(k) && !Array.isArray(v)) {
      const inner = v as Record<string, unknown>;
      if (Object.keys(inner).some((ik) => SECRET_LOG_KEYS.has(ik))) {
        set(k, Object.fromEntries(Object.entries(inner).map(([ik, iv]) => [ik, SECRET_LOG_KEYS.has(ik) ? '[redacted]' : iv])));
      }
    }
  }
  return out;
}

/**
 * Log lines to a file descriptor (stdout), the lines of one turn of the event loop written together:
 * under load one write(2) for many requests instead of one each, the cost pino's synchronous
 * default has. The lines still pending are written when the process exits (also on an uncaught
 * exception) and when the server closes; a kill -9 loses at most the current turn's.
 */
export class BatchedLines {
  private pending: string[] = [];
  private scheduled = false;
  constructor(private readonly out: { write(text: string): unknown } = process.stdout) {
    process.once('exit', this.flush);
  }
  write(line: string): void {
    this.pending.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.out.write(text);
  };
  close(): void {
    this.flush();
    process.off('exit', this.flush);
  }
}

function loggerOptions(logger: ServerOptions['logger'], stdout: BatchedLines | undefined): Exclude<FastifyServerOptions['logger'], undefined> {
  if (logger === false) return false;
  const o = typeof logger === 'object' ? logger : {};
  const stream = o.stream ?? stdout;
  return {
    level: o.level ?? 'info',
    ...(stream ? { stream } : {}),
    // only what an operator needs to follow a request: never headers (Authorization, Cookie), bodies or queries
    serializers: {
      req: (req: { method: string; url: string; ip?: string | undefined; routeOptions?: { url?: string | undefined } }) => ({ method: req.method, url: pathOf(req.url), ...(req.ip !== undefined ? { remoteAddress: req.ip } : {}) }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: (err: Error & { code?: unknown }) => ({ type: err.name, code: err.code, message: oneLine(err.message), stack: err.stack ?? '' }),
    },
    // in case some code logs a request's headers, a body or a credential anyway
    // (a child logger's bindings are not checked: pino gives children no formatter, and no code makes one)
    formatters: { log: redactLogObject },
  };
}

/** One log line per request, when it is answered (fastify writes two: incoming and completed). */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const ms = Math.round(reply.elapsedTime * 10) / 10;
    if (error) reply.log.error({ req: request, res: reply, err: error, ms }, 'request errored');
    else reply.log.info({ req: request, res: reply, ms }, 'request');
  }
}

/** An error as the API answers it: status, stable code, one-line message. */
export function describeError(err: unknown): { status: number; code: string; message: string; problems?: unknown[] } {
  if (err instanceof KpkgError) {
    return { status: httpStatusFor(err), code: err.code, message: oneLine(err.message), ...(err instanceof ProblemsError ? { problems: err.problems } : {}) };
  }
  const e = err as Partial<FastifyError> & { statusCode?: number };
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  if (e.validation) return { status: 400, code: 'INVALID_INPUT', message: oneLine(e.message ?? 'invalid request') };
  if (typeof e.code === 'string' && e.code.startsWith('FST_CSRF_')) return { status: 403, code: 'FORBIDDEN', message: 'missing or invalid CSRF token (send the x-csrf-token header or the _csrf field)' };
  switch (status) {
    case 400:
      // a JSON parse error quotes the body: never echo it (it may hold a password)
      if (err instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return { status, code: 'INVALID_INPUT', message: 'request body is not valid JSON' };
      return { status, code: 'INVALID_INPUT', message: oneLine(e.message ?? 'bad request') };
    case 401:
      return { status, code: 'UNAUTHORIZED', message: oneLine(e.message ?? 'unauthorized') };
    case 403:
      return { status, code: 'FORBIDDEN', message: oneLine(e.message ?? 'forbidden') };
    case 404:
      return { status, code: 'NOT_FOUND', message: oneLine(e.message ?? 'not found') };
    case 405:
    case 406:
    case 411:
    case 413:
    case 414:
    case 415:
    case 431:
      return { status, code: 'INVALID_INPUT', message: oneLine(e.message ?? 'bad request') };
    case 429:
      return { status, code: 'RATE_LIMITED', message: oneLine(e.message ?? 'too many requests') };
    case 503:
      return { status, code: 'INTERNAL', message: 'the server is shutting down' };
    default:
      return { status: status >= 500 ? status : 400, code: status >= 500 ? 'INTERNAL' : 'INVALID_INPUT', message: status >= 500 ? 'internal error (see the server log)' : oneLine(e.message ?? 'bad request') };
  }
}

const isApi = (request: FastifyRequest): boolean => request.url.startsWith('/api/') || request.url === '/api';

function securityHeaders(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('content-security-policy', CSP);
  reply.header('x-frame-options', 'DENY');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('cross-origin-resource-policy', 'same-origin');
  reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=()');
  if (request.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000');
  // answers hold configuration: no shared cache keeps them (the file route sets its own: private, revalidated)
  if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
}

/**
 * The server, not yet listening (`app.listen`, or `app.inject` in tests). The UI's pages are
 * registered when geppetto/web/ui exists; the API always.
 */
export async function buildServer(geppetto: Geppetto, options: ServerOptions = {}): Promise<FastifyInstance> {
  // stdout, batched: unless the caller gives a stream (tests) or wants no log
  const stdout = options.logger === false || (typeof options.logger === 'object' && options.logger.stream) ? undefined : new BatchedLines();
  const app = Fastify({
    logger: loggerOptions(options.logger, stdout),
    trustProxy: options.trustProxy ?? false,
    bodyLimit: options.bodyLimit ?? 1 << 20,
    // a client-chosen request id would let it forge log correlation
    requestIdHeader: false,
    return503OnClosing: true,
    logController: new OneLinePerRequest(),
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });
  const loginRateLimit = options.loginRateLimit ?? DEFAULT_LOGIN_LIMIT;
  const auth = createAuth(geppetto, options.secureCookies !== undefined ? { secureCookies: options.secureCookies } : {});

  if (stdout) app.addHook('onClose', (_instance, done) => {
    stdout.close();
    done();
  });
  app.decorateRequest('principal', undefined);
  app.decorateRequest('authVia', undefined);
  app.decorateRequest('sessionInfo', undefined);
  app.decorateRequest('session', undefined as unknown as { _csrf?: string });

  app.setErrorHandler((err, request, reply) => {
    const d = describeError(err);
    if (d.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: d.code, statusCode: d.status }, 'request refused');
    if (d.status === 401) reply.header('www-authenticate', 'Bearer realm="geppetto"');
    if (isApi(request) || request.headers.accept?.includes('application/json')) {
      return reply.code(d.status).type('application/json; charset=utf-8').send({ error: { code: d.code, message: d.message, ...(d.problems ? { problems: d.problems } : {}) } });
    }
    return reply.code(d.status).type('text/plain; charset=utf-8').send(`${d.status} ${d.message}\n`);
  });
  app.setNotFoundHandler((request, reply) => {
    const message = `no route ${request.method} ${pathOf(request.url)}`;
    if (isApi(request)) return reply.code(404).type('application/json; charset=utf-8').send({ error: { code: 'NOT_FOUND', message: oneLine(message) } });
    return reply.code(404).type('text/plain; charset=utf-8').send('404 not found\n');
  });

  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  // the secret lives with the session (service.createSession); the plugin reads it from request.session._csrf
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/session', sessionKey: '_csrf' });
  await app.register(fastifyRateLimit, {
    global: true,
    max: (options.rateLimit ?? DEFAULT_RATE_LIMIT).max,
    timeWindow: (options.rateLimit ?? DEFAULT_RATE_LIMIT).timeWindow,
    errorResponseBuilder: (_req, ctx) => new KpkgError('RATE_LIMITED', `too many requests: try again in ${ctx.after}`),
  });

  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/static/')) return;
    await identify(geppetto, request);
  });
  // after parsing (the token may be a form field), before validation and the handler
  app.addHook('preValidation', (request, reply, done) => {
    if (!needsCsrf(request)) return done();
    app.csrfProtection(request, reply, done);
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    securityHeaders(request, reply);
    done(null, payload);
  });

  const htmx = htmxDist();
  const uiStatic = templatesDir('geppetto', 'static');
  const roots = existsSync(uiStatic) ? [uiStatic, htmx] : [htmx];
  await app.register(fastifyStatic, {
    root: roots,
    prefix: '/static/',
    index: false,
    dotfiles: 'deny',
    maxAge: 3600_000,
    // of htmx's directory, htmx.min.js only
    allowedPath: (pathName, root) => root !== htmx || pathName === '/htmx.min.js',
  });

  await app.register(registerApi, { geppetto, auth, loginRateLimit, ...(options.caFile !== undefined ? { caFile: options.caFile } : {}) });

  const ui = await loadUi();
  if (ui) {
    const deps: UiDeps = { geppetto, auth, loginRateLimit, options };
    await app.register(ui.registerUi, deps);
  }
  return app;
}
