import { describe, expect, it } from 'vitest';
import { KpkgError } from '../../../packager/errors.js';
import { parseListen, serverOptionsFromEnv, STOP_TIMEOUT_MS, stopTimeoutFromEnv } from '../../../geppetto/web/serve.js';
import { etagMatches, wantsJson } from '../../../geppetto/web/api/nodes.js';

describe('geppetto serve options', () => {
  it('--listen: HOST:PORT, [IPv6]:PORT, :PORT (loopback); anything else is a usage error', () => {
    expect(parseListen('127.0.0.1:8420')).toEqual({ host: '127.0.0.1', port: 8420 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen('geppetto.example.com:443')).toEqual({ host: 'geppetto.example.com', port: 443 });
    expect(parseListen(':8420')).toEqual({ host: '127.0.0.1', port: 8420 });
    for (const bad of ['8420', 'host:', 'host:65536', '::1:80', 'a:b', '[::1]', 'host:80:90']) {
      expect(() => parseListen(bad), bad).toThrow(KpkgError);
    }
  });

  it('environment: trusted proxies, secure cookies, log level (refused when unknown)', () => {
    expect(serverOptionsFromEnv({})).toEqual({});
    expect(serverOptionsFromEnv({ GEPPETTO_TRUST_PROXY: 'true', GEPPETTO_SECURE_COOKIES: '1', GEPPETTO_LOG_LEVEL: 'warn' })).toEqual({ trustProxy: true, secureCookies: true, logger: { level: 'warn' } });
    expect(serverOptionsFromEnv({ GEPPETTO_TRUST_PROXY: '10.0.0.1, 10.0.0.2' })).toEqual({ trustProxy: ['10.0.0.1', '10.0.0.2'] });
    expect(serverOptionsFromEnv({ GEPPETTO_TRUST_PROXY: 'false' })).toEqual({});
    expect(() => serverOptionsFromEnv({ GEPPETTO_LOG_LEVEL: 'loud' })).toThrow(/GEPPETTO_LOG_LEVEL/);
  });

  it('GEPPETTO_STOP_TIMEOUT: seconds (fractions and 0 allowed), the default when unset; anything else is a usage error', () => {
    expect(stopTimeoutFromEnv({})).toBe(STOP_TIMEOUT_MS);
    expect(stopTimeoutFromEnv({ GEPPETTO_STOP_TIMEOUT: '' })).toBe(STOP_TIMEOUT_MS);
    expect(stopTimeoutFromEnv({ GEPPETTO_STOP_TIMEOUT: '30' })).toBe(30_000);
    expect(stopTimeoutFromEnv({ GEPPETTO_STOP_TIMEOUT: '0.5' })).toBe(500);
    expect(stopTimeoutFromEnv({ GEPPETTO_STOP_TIMEOUT: '0' })).toBe(0);
    for (const bad of ['-1', '1e3', 'ten', '5s', 'Infinity']) expect(() => stopTimeoutFromEnv({ GEPPETTO_STOP_TIMEOUT: bad }), bad).toThrow(/GEPPETTO_STOP_TIMEOUT=.*expected a number of seconds/);
  });

  it('content negotiation and If-None-Match as HTTP has them', () => {
    expect(wantsJson(undefined)).toBe(false);
    expect(wantsJson('application/json')).toBe(true);
    expect(wantsJson('application/yaml, application/json;q=0.5')).toBe(true);
    expect(wantsJson('application/json;q=0')).toBe(false);
    expect(wantsJson('*/*')).toBe(false);
    expect(etagMatches('"a"', '"a"')).toBe(true);
    expect(etagMatches('W/"a"', '"a"')).toBe(true);
    expect(etagMatches('"b", "a"', '"a"')).toBe(true);
    expect(etagMatches('*', '"a"')).toBe(true);
    expect(etagMatches('"b"', '"a"')).toBe(false);
    expect(etagMatches('a', '"a"')).toBe(false);
    expect(etagMatches(undefined, '"a"')).toBe(false);
  });
});
