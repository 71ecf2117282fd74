/**
 * Reading files of a yum repository given by its baseurl, as dnf does: `file://` (or a plain
 * absolute path), `http://` and `https://` (node:https, with an optional CA file replacing the
 * system's roots, as dnf's `sslcacert`). Every read is bounded (a byte cap, an idle timeout, a
 * number of redirects); every failure is a KpkgError IO naming the URL (password hidden) and, for
 * HTTP, the status.
 */
import { open, readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { isAbsolute } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KpkgError, ioError, type ErrorCode } from '../errors.js';

/** Where a repository is. */
export interface RepoSource {
  /** `file://`, `http://` or `https://` URL of the directory holding `repodata/`; a plain absolute path is taken as file://. */
  baseurl: string;
  /** PEM file of the certificate authorities trusted for https (instead of the system's). */
  caFile?: string;
  /** Idle time after which an HTTP request fails (default 30 s). */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
/** dnf (librepo) follows redirects too; more than this is a loop or a misconfiguration. */
export const MAX_REDIRECTS = 5;

/** A repository source made ready: its URL (ending in '/'), its CA bundle read once. */
export interface ResolvedSource {
  base: URL;
  ca: string | undefined;
  timeoutMs: number;
}

/** The URL as it may appear in a message: no password. */
export function displayUrl(url: URL | string): string {
  const u = new URL(typeof url === 'string' ? url : url.href);
  if (u.password !== '') u.password = '***';
  return u.href;
}

/** Checks the baseurl, reads the CA file. INVALID_INPUT for a baseurl we cannot use. */
export async function resolveSource(source: RepoSource): Promise<ResolvedSource> {
  const raw = source.baseurl;
  let base: URL;
  if (isAbsolute(raw) && !/^[a-z][a-z0-9+.-]*:/i.test(raw)) {
    base = pathToFileURL(raw);
  } else {
    try {
      base = new URL(raw);
    } catch {
      throw new KpkgError('INVALID_INPUT', `repository baseurl ${JSON.stringify(raw)}: not a URL nor an absolute path`);
    }
  }
  if (base.protocol !== 'file:' && base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new KpkgError('INVALID_INPUT', `repository baseurl ${displayUrl(base)}: only file://, http:// and https:// are read`);
  }
  if (base.protocol === 'file:' && base.host !== '' && base.host !== 'localhost') {
    throw new KpkgError('INVALID_INPUT', `repository baseurl ${displayUrl(base)}: a file:// URL names no host`);
  }
  base.search = '';
  base.hash = '';
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  let ca: string | undefined;
  if (source.caFile !== undefined) {
    try {
      ca = await readFile(source.caFile, 'utf8');
    } catch (e) {
      throw ioError('read the CA file', source.caFile, e);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new KpkgError('INVALID_INPUT', `${source.caFile}: no PEM certificate in the CA file`);
  }
  const timeoutMs = source.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new KpkgError('INVALID_INPUT', `timeout ${timeoutMs} ms: expected a positive number`);
  return { base, ca, timeoutMs };
}

/**
 * The URL of `href` (a location from repomd.xml or primary.xml) under `base`. Refuses what would
 * leave the repository: an absolute URL or path, `..` above the root, a query: metadata must not
 * make a reader fetch or open anything else (a file:// reader would otherwise read /etc/shadow).
 */
export function locate(base: URL, href: string, what: string): URL {
  if (href === '' || /^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('/') || href.startsWith('\\') || href.includes('\\') || href.includes('?') || href.includes('#')) {
    throw new KpkgError('BAD_PACKAGE', `${what}: location ${JSON.stringify(href)} is not a path inside the repository`);
  }
  const url = new URL(href, base);
  if (url.origin !== base.origin || url.protocol !== base.protocol || !url.pathname.startsWith(base.pathname) || url.pathname === base.pathname) {
    throw new KpkgError('BAD_PACKAGE', `${what}: location ${JSON.stringify(href)} points outside the repository ${displayUrl(base)}`);
  }
  return url;
}

export interface FetchOptions {
  /** Refuse more bytes than this (the body is never read past it). */
  maxBytes: number;
  /** What the caller reads, for messages ("repomd.xml"). */
  what?: string;
  /**
   * The code of the error for more than maxBytes: IO by default; BAD_PACKAGE where the size was
   * declared by metadata (a file larger than its metadata says is not what was described).
   */
  oversizeCode?: ErrorCode;
}

/** The bytes at `url` (file, http or https), at most `maxBytes`. */
export async function fetchBytes(src: ResolvedSource, url: URL, options: FetchOptions): Promise<Buffer> {
  const code = options.oversizeCode ?? 'IO';
  if (url.protocol === 'file:') return readLocal(url, options.maxBytes, code);
  const res = await request(src, url);
  return collect(res.stream, res.url, options.maxBytes, res.length, code);
}

/**
 * A stream of the bytes at `url` and their declared length (Content-Length or the file size),
 * when known. The stream errors with an IO KpkgError past `maxBytes`.
 */
export async function fetchStream(src: ResolvedSource, url: URL, options: FetchOptions): Promise<{ stream: Readable; length: number | undefined }> {
  if (url.protocol === 'file:') {
    const path = fileURLToPath(url);
    let fh;
    try {
      fh = await open(path, 'r');
      const st = await fh.stat();
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
      if (st.size > options.maxBytes) throw new KpkgError(options.oversizeCode ?? 'IO', `${path}: ${st.size} bytes, more than the ${options.maxBytes} expected`);
      return { stream: capped(fh.createReadStream(), url, options.maxBytes, options.oversizeCode ?? 'IO'), length: st.size };
    } catch (e) {
      await fh?.close();
      if (e instanceof KpkgError) throw e;
      throw ioError('read', path, e);
    }
  }
  const res = await request(src, url);
  if (res.length !== undefined && res.length > options.maxBytes) {
    res.stream.destroy();
    throw new KpkgError(options.oversizeCode ?? 'IO', `GET ${displayUrl(res.url)}: Content-Length ${res.length}, more than the ${options.maxBytes} bytes expected`);
  }
  return { stream: capped(res.stream, res.url, options.maxBytes, options.oversizeCode ?? 'IO'), length: res.length };
}

async function readLocal(url: URL, maxBytes: number, code: ErrorCode): Promise<Buffer> {
  const path = fileURLToPath(url);
  let fh;
  try {
    fh = await open(path, 'r');
    const st = await fh.stat();
    if (!st.isFile()) throw new KpkgError('IO', `cannot read ${path}: not a regular file`);
    if (st.size > maxBytes) throw new KpkgError(code, `${path}: ${st.size} bytes, more than the ${maxBytes} expected`);
    // read at most maxBytes + 1: a file growing meanwhile is caught, not read without end
    const buf = Buffer.allocUnsafe(Math.min(st.size, maxBytes) + 1);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got > maxBytes) throw new KpkgError(code, `${path}: more than the ${maxBytes} bytes expected`);
    return buf.subarray(0, got);
  } catch (e) {
    if (e instanceof KpkgError) throw e;
    throw ioError('read', path, e);
  } finally {
    await fh?.close();
  }
}

/** Passes chunks through, failing once more than `maxBytes` went by. */
function capped(stream: Readable, url: URL, maxBytes: number, code: ErrorCode): Readable {
  let seen = 0;
  const out = new Readable({
    read() {
      stream.resume();
    },
    destroy(err, cb) {
      stream.destroy();
      cb(err);
    },
  });
  stream.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > maxBytes) {
      out.destroy(new KpkgError(code, `${displayUrl(url)}: more than the ${maxBytes} bytes expected`));
      return;
    }
    if (!out.push(chunk)) stream.pause();
  });
  stream.once('end', () => out.push(null));
  stream.once('error', (e) => out.destroy(e instanceof KpkgError ? e : new KpkgError('IO', `${displayUrl(url)}: ${e.message}`, { cause: e })));
  return out;
}

async function collect(stream: Readable, url: URL, maxBytes: number, length: number | undefined, code: ErrorCode): Promise<Buffer> {
  if (length !== undefined && length > maxBytes) {
    stream.destroy();
    throw new KpkgError(code, `GET ${displayUrl(url)}: Content-Length ${length}, more than the ${maxBytes} bytes expected`);
  }
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > maxBytes) {
        stream.destroy();
        throw new KpkgError(code, `GET ${displayUrl(url)}: more than the ${maxBytes} bytes expected`);
      }
      parts.push(b);
    }
  } catch (e) {
    if (e instanceof KpkgError) throw e;
    throw new KpkgError('IO', `GET ${displayUrl(url)}: ${(e as Error).message}`, { cause: e });
  }
  if (length !== undefined && size !== length) throw new KpkgError('IO', `GET ${displayUrl(url)}: ${size} bytes received, Content-Length said ${length}`);
  return Buffer.concat(parts, size);
}

interface Response {
  stream: http.IncomingMessage;
  url: URL;
  length: number | undefined;
}

/** GET `url`, following redirects (same or stronger scheme), answering the 200 response. */
async function request(src: ResolvedSource, first: URL): Promise<Response> {
  let url = first;
  for (let hop = 0; ; hop++) {
    const res = await get(src, url);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location !== undefined) {
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new KpkgError('IO', `GET ${displayUrl(first)}: more than ${MAX_REDIRECTS} redirects`);
      let next: URL;
      try {
        next = new URL(res.headers.location, url);
      } catch {
        throw new KpkgError('IO', `GET ${displayUrl(url)}: HTTP ${status} to an invalid Location ${JSON.stringify(res.headers.location)}`);
      }
      if (next.protocol !== 'https:' && (next.protocol !== 'http:' || url.protocol === 'https:')) {
        throw new KpkgError('IO', `GET ${displayUrl(url)}: HTTP ${status} redirects to ${displayUrl(next)}, refused (${url.protocol === 'https:' ? 'a redirect may not leave https' : 'only http and https are followed'})`);
      }
      url = next;
      continue;
    }
    if (status !== 200) {
      res.resume();
      throw new KpkgError('IO', `GET ${displayUrl(url)}: HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`);
    }
    const header = res.headers['content-length'];
    const length = header !== undefined && /^[0-9]+$/.test(header) ? Number(header) : undefined;
    const encoding = res.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      res.resume();
      throw new KpkgError('IO', `GET ${displayUrl(url)}: Content-Encoding ${encoding} was not asked for`);
    }
    return { stream: res, url, length };
  }
}

function get(src: ResolvedSource, url: URL): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = {
      method: 'GET',
      headers: { 'user-agent': 'kpkg', accept: '*/*', 'accept-encoding': 'identity' },
      timeout: src.timeoutMs,
    };
    if (url.protocol === 'https:' && src.ca !== undefined) options.ca = src.ca;
    if (url.username !== '' || url.password !== '') options.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    const target = new URL(url.href);
    target.username = '';
    target.password = '';
    const req = (url.protocol === 'https:' ? https : http).request(target, options, (res) => {
      // the idle timeout keeps running while the body is read
      res.setTimeout(src.timeoutMs, () => res.destroy(new Error(`no data for ${src.timeoutMs} ms`)));
      resolve(res);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${src.timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      const reason = e.code !== undefined && !e.message.includes(e.code) ? `${e.message} (${e.code})` : e.message;
      reject(new KpkgError('IO', `GET ${displayUrl(url)}: ${reason}`, { cause: e }));
    });
    req.end();
  });
}
