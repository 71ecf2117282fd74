/**
 * `geppetto serve`: opens the service, builds the server, listens on HOST:PORT, and closes
 * cleanly on SIGTERM or SIGINT (stops accepting, lets requests in flight finish, closes the
 * database). Resolves once closed. A client that stops reading an answer keeps its request in
 * flight: after the stop timeout its connection is cut, so that a stop never waits on a client.
 */
import { KpkgError } from '../../packager/errors.js';
import { openGeppetto } from '../service/index.js';
import { buildServer, type ServerOptions } from './server.js';

export interface ServeOptions {
  dataDir: string;
  database?: string;
  /** HOST:PORT; [::1]:PORT for IPv6. */
  listen: string;
  server?: ServerOptions;
  /** Called once listening, with the address (tests and the CLI's message). */
  onListening?: (address: string) => void;
  /** How long a stop waits for requests in flight before cutting their connections (ms); default from the environment (stopTimeoutFromEnv). */
  stopTimeoutMs?: number;
}

/** The default stop timeout; GEPPETTO_STOP_TIMEOUT (seconds) changes it. */
export const STOP_TIMEOUT_MS = 10_000;

/** GEPPETTO_STOP_TIMEOUT=SECONDS (a number, 0 included), or the default. */
export function stopTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.GEPPETTO_STOP_TIMEOUT;
  if (v === undefined || v === '') return STOP_TIMEOUT_MS;
  const seconds = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !Number.isFinite(seconds)) throw new KpkgError('USAGE', `GEPPETTO_STOP_TIMEOUT=${v}: expected a number of seconds`);
  return Math.round(seconds * 1000);
}

/** Parses HOST:PORT (IPv6 in brackets). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen.trim());
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535) throw new KpkgError('USAGE', `--listen ${JSON.stringify(listen)}: expected HOST:PORT, e.g. 127.0.0.1:8420`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/**
 * Server options from the environment: GEPPETTO_TRUST_PROXY (true, or the proxies' addresses),
 * GEPPETTO_SECURE_COOKIES=1, GEPPETTO_CA_FILE, GEPPETTO_LOG_LEVEL (info; warn leaves out the line
 * per request).
 */
export function serverOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ServerOptions {
  const out: ServerOptions = {};
  const trust = env.GEPPETTO_TRUST_PROXY;
  if (trust !== undefined && trust !== '' && trust !== 'false' && trust !== '0') out.trustProxy = trust === 'true' || trust === '1' ? true : trust.split(',').map((s) => s.trim());
  if (env.GEPPETTO_SECURE_COOKIES === '1' || env.GEPPETTO_SECURE_COOKIES === 'true') out.secureCookies = true;
  if (env.GEPPETTO_CA_FILE) out.caFile = env.GEPPETTO_CA_FILE;
  const level = env.GEPPETTO_LOG_LEVEL;
  if (level !== undefined && level !== '') {
    if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) throw new KpkgError('USAGE', `GEPPETTO_LOG_LEVEL=${level}: expected fatal, error, warn, info, debug, trace or silent`);
    out.logger = { level };
  }
  return out;
}

export async function serve(options: ServeOptions): Promise<void> {
  const { host, port } = parseListen(options.listen);
  const timeoutMs = options.stopTimeoutMs ?? stopTimeoutFromEnv();
  const geppetto = await openGeppetto({ dataDir: options.dataDir, ...(options.database !== undefined ? { database: options.database } : {}) });
  let app;
  try {
    app = await buildServer(geppetto, options.server ?? serverOptionsFromEnv());
    await app.listen({ host, port });
  } catch (err) {
    await app?.close().catch(() => undefined);
    await geppetto.close();
    const code = (err as { code?: unknown }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new KpkgError('IO', `cannot listen on ${options.listen}: ${code}`, { cause: err });
    throw err;
  }
  const server = app;
  const address = server.server.address();
  const where = typeof address === 'object' && address !== null ? `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : String(address);
  options.onListening?.(where);
  await new Promise<void>((resolve, reject) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      server.log.info({ signal }, 'stopping');
      const cut = setTimeout(() => {
        server.log.warn({ timeoutMs }, 'requests still in flight after the stop timeout: closing their connections');
        server.server.closeAllConnections();
      }, timeoutMs);
      server
        .close()
        .finally(() => clearTimeout(cut))
        .then(() => geppetto.close())
        .then(resolve, reject);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
