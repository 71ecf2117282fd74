// `geppetto serve` as a user runs it: the built program (npm run build), a real process listening
// on 127.0.0.1, answering a server's file over HTTP, stopping cleanly on SIGTERM and SIGINT.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { packageRoot } from '../../packager/util/paths.js';
import { freePort, tmpDir } from './tools.js';

const GEPPETTO = join(packageRoot(), 'dist', 'bin', 'geppetto.js');

function geppetto(data: string, args: string[], input?: string): string {
  const r = spawnSync(process.execPath, [GEPPETTO, '--data', data, ...args], { encoding: 'utf8', ...(input !== undefined ? { input } : {}), timeout: 120_000 });
  if (r.status !== 0) throw new Error(`geppetto ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Starts `geppetto serve`, resolves once it answers HTTP. */
async function start(data: string, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; base: string; output: () => string; exited: Promise<number | null> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [GEPPETTO, '--data', data, 'serve', '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`geppetto serve exited ${child.exitCode}: ${out}`);
    try {
      await fetch(`${base}/api/openapi.json`);
      return { child, base, output: () => out, exited };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`geppetto serve did not answer: ${out}`);
}

describe('geppetto serve', () => {
  const data = tmpDir('geppetto-serve');
  const stateFile = join(data, '..', `state-${process.pid}.yaml`);
  writeFileSync(
    stateFile,
    YAML.stringify({
      repositories: [{ id: 'kelkoo', baseurl: 'file:///srv/yum/kelkoo' }],
      global: { settings: {} },
      environments: { production: {} },
      roles: { base: {} },
      servers: { 'web01.example.com': { environment: 'production', roles: ['base'] }, 'web02.example.com': { environment: 'production', roles: ['base'] } },
    }),
  );
  geppetto(data, ['import', stateFile]);
  const token = geppetto(data, ['server', 'token', 'web01.example.com']).trim();

  it('answers a server its file over 127.0.0.1 (ETag, 304), refuses others, and stops on SIGTERM with exit 0', async () => {
    const s = await start(data);
    try {
      const r = await fetch(`${s.base}/api/v1/nodes/web01.example.com/file`, { headers: { authorization: `Bearer ${token}` } });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/yaml; charset=utf-8');
      const file = YAML.parse(await r.text()) as { kelkoo: { node: string; revision: number } };
      expect(file.kelkoo).toMatchObject({ node: 'web01.example.com', revision: 1 });
      const etag = r.headers.get('etag') ?? '';
      expect((await fetch(`${s.base}/api/v1/nodes/web01.example.com/file`, { headers: { authorization: `Bearer ${token}`, 'if-none-match': etag } })).status).toBe(304);
      expect((await fetch(`${s.base}/api/v1/nodes/web02.example.com/file`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
      expect((await fetch(`${s.base}/api/v1/nodes/web01.example.com/file`)).status).toBe(401);
      const doc = (await (await fetch(`${s.base}/api/openapi.json`)).json()) as { openapi: string };
      expect(doc.openapi).toMatch(/^3\./);
      // a CLI command on the same database while serve runs: the new token works at once, the old one stops
      const fresh = geppetto(data, ['server', 'token', 'web01.example.com']).trim();
      expect((await fetch(`${s.base}/api/v1/nodes/web01.example.com/file`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
      expect((await fetch(`${s.base}/api/v1/nodes/web01.example.com/file`, { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(200);
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      expect(s.output()).toMatch(/listening/i);
      expect(s.output()).not.toContain(fresh);
      expect(s.output()).not.toContain(token);
      await expect(fetch(`${s.base}/api/openapi.json`)).rejects.toThrow();
    } finally {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
  });

  it('stops on SIGINT too', async () => {
    const s = await start(data);
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
  });

  it('a stop does not wait on a client that stalls: its connection is cut after GEPPETTO_STOP_TIMEOUT', async () => {
    const s = await start(data, { GEPPETTO_STOP_TIMEOUT: '1' });
    const port = Number(new URL(s.base).port);
    // a request whose body never comes: in flight until the server gives up on it
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('POST /api/v1/session HTTP/1.1\r\nHost: geppetto\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":');
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const t0 = Date.now();
      s.child.kill('SIGTERM');
      const deadline = new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 30_000).unref());
      expect(await Promise.race([s.exited, deadline])).toBe(0);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900); // it did wait for the request first
      expect(s.output()).toMatch(/requests still in flight after the stop timeout: closing their connections/);
      await closed;
    } finally {
      socket.destroy();
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
  });

  it('refuses a bad --listen with exit 2', () => {
    const r = spawnSync(process.execPath, [GEPPETTO, '--data', data, 'serve', '--listen', 'nowhere'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--listen "nowhere": expected HOST:PORT/);
  });
});
