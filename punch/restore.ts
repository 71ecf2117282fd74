/**
 * The Geppetto client of `punch restore`: GET /api/v1/nodes/{fqdn}/file (JSON, with the server's
 * token, If-None-Match with the ETag of the last file fetched: a 304 reuses it) and POST
 * /api/v1/nodes/{fqdn}/reports. HTTPS with the configured CA file; plain HTTP only to the loopback
 * (tests, a tunnel), since the token would travel in clear.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError, KpkgError, oneLine } from '../packager/errors.js';
import { decodeUtf8, MAX_FILE_BYTES, parseNodeFile, type LoadedFile } from './file.js';
import type { PunchPaths } from './paths.js';
import { ensureStateDir, writeAtomic } from './state.js';

export interface GeppettoClient {
  url: string;
  token: string;
  node: string;
  ca?: Buffer;
  timeoutMs?: number;
}

interface Response {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

function checkUrl(url: URL): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return;
  throw new KpkgError('INVALID_INPUT', `Geppetto URL ${url.href}: must be https:// (plain http only to the loopback)`);
}

function send(client: GeppettoClient, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<Response> {
  const base = new URL(client.url.endsWith('/') ? client.url : `${client.url}/`);
  checkUrl(base);
  const url = new URL(path.replace(/^\//, ''), base);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: { ...headers, Authorization: `Bearer ${client.token}`, 'User-Agent': 'punch', ...(body !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } : {}) },
        timeout: client.timeoutMs ?? 30_000,
        ...(client.ca !== undefined ? { ca: client.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (b: Buffer) => {
          size += b.length;
          if (size > MAX_FILE_BYTES) {
            req.destroy(new Error(`answer larger than ${MAX_FILE_BYTES} bytes`));
            return;
          }
          chunks.push(b);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => reject(new KpkgError('FETCH', `cannot reach Geppetto at ${url.origin}: ${oneLine(e.message)}`, { cause: e })));
    req.end(body);
  });
}

const nodePath = (node: string, what: string) => `api/v1/nodes/${encodeURIComponent(node)}/${what}`;

function refused(res: Response, what: string): KpkgError {
  const detail = oneLine(res.body.toString('utf8').slice(0, 200));
  if (res.status === 401 || res.status === 403) return new KpkgError('FETCH', `Geppetto refused the token (${res.status}) for ${what}`);
  return new KpkgError('FETCH', `Geppetto answered ${res.status} for ${what}${detail ? `: ${detail}` : ''}`);
}

export interface Fetched {
  loaded: LoadedFile;
  /** True when Geppetto answered 304 and the last file fetched was used. */
  notModified: boolean;
  etag?: string;
}

/** The last file fetched, kept with its URL and ETag in one file (written whole, then renamed). */
interface FetchedCache {
  url: string;
  etag?: string;
  at: string;
  text: string;
}

/** The server's file from Geppetto (validated), the last fetched copy on a 304. */
export async function fetchNodeFile(client: GeppettoClient, paths: PunchPaths): Promise<Fetched> {
  await ensureStateDir(paths);
  const cacheFile = join(paths.stateDir, 'fetched.json');
  const url = `${client.url.replace(/\/$/, '')}/${nodePath(client.node, 'file')}`;
  let cache: FetchedCache | undefined;
  try {
    const c = JSON.parse(await readFile(cacheFile, 'utf8')) as FetchedCache;
    if (c.url === url && typeof c.text === 'string') cache = c;
  } catch {
    cache = undefined;
  }
  const etag = cache?.etag;
  // YAML: the bytes Geppetto published, sent as stored (JSON would be converted per request, and
  // parseNodeFile reads either)
  const res = await send(client, 'GET', nodePath(client.node, 'file'), { Accept: 'application/yaml', ...(etag !== undefined ? { 'If-None-Match': etag } : {}) });
  if (res.status === 304 && cache !== undefined) {
    return { loaded: parseNodeFile(cache.text, url), notModified: true, ...(etag !== undefined ? { etag } : {}) };
  }
  if (res.status !== 200) throw refused(res, `the file of ${client.node}`);
  const loaded = parseNodeFile(decodeUtf8(res.body, url), url);
  if (loaded.file.kelkoo.node !== undefined && loaded.file.kelkoo.node.toLowerCase() !== client.node.toLowerCase()) {
    throw new KpkgError('INVALID_INPUT', `${url}: /kelkoo/node: the file is for ${loaded.file.kelkoo.node}, not ${client.node}`);
  }
  const newTag = typeof res.headers.etag === 'string' ? res.headers.etag : undefined;
  const record: FetchedCache = { url, at: new Date().toISOString(), text: loaded.text, ...(newTag !== undefined ? { etag: newTag } : {}) };
  await writeAtomic(cacheFile, `${JSON.stringify(record)}\n`);
  return { loaded, notModified: false, ...(newTag !== undefined ? { etag: newTag } : {}) };
}

/** What Geppetto records of a run (its report route accepts these fields and no others). */
export interface GeppettoReport {
  revision: number;
  status: 'changed' | 'unchanged' | 'failed';
  changes: number;
  summary: string;
  at: string;
}

/** Posts a run's report; throws FETCH when Geppetto does not accept it. The full report stays under var/lib/punch. */
export async function postReport(client: GeppettoClient, report: Omit<GeppettoReport, 'revision'> & { revision?: number }): Promise<void> {
  const body: GeppettoReport = { revision: report.revision ?? 0, status: report.status, changes: report.changes, summary: report.summary, at: report.at };
  const res = await send(client, 'POST', nodePath(client.node, 'reports'), { Accept: 'application/json' }, JSON.stringify(body));
  if (res.status < 200 || res.status >= 300) throw refused(res, 'the report');
}

export async function readCa(path: string | undefined): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path);
  } catch (e) {
    throw ioError('read the CA file', path, e);
  }
}
