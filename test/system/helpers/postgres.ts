// A private PostgreSQL cluster for one test file: initdb into a temporary directory, pg_ctl start
// on a free loopback port with its socket in that directory, scram-sha-256 passwords. PostgreSQL
// refuses to run as root: as root, the cluster runs as the unprivileged user kpkgtest.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { chownTree, freePort, postgresTool, run, runOk, tmpDir, type RunOptions } from '../tools.js';

export const POSTGRES_TOOLS = [postgresTool('initdb'), postgresTool('pg_ctl')];

export interface Postgres {
  port: number;
  /** A new empty database, returned as its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): void;
}

/** The uid/gid to run PostgreSQL as: ours, or kpkgtest's when we are root. */
function serverUser(): RunOptions {
  if (process.getuid?.() !== 0) return {};
  const uid = run('id', ['-u', 'kpkgtest']);
  const gid = run('id', ['-g', 'kpkgtest']);
  if (uid.status !== 0 || gid.status !== 0) throw new Error('running as root needs the user kpkgtest for PostgreSQL (useradd --create-home kpkgtest, as .ci/run does)');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startPostgres(): Promise<Postgres> {
  const [initdb, pgCtl] = POSTGRES_TOOLS as [string, string];
  const dir = tmpDir('geppetto-pg');
  const as = serverUser();
  const password = 'pw-geppetto-test';
  writeFileSync(join(dir, 'pw'), `${password}\n`);
  mkdirSync(join(dir, 'run'));
  if (as.uid !== undefined && as.gid !== undefined) chownTree(dir, { uid: as.uid, gid: as.gid });
  const data = join(dir, 'data');
  const port = await freePort();
  const env = { HOME: dir };
  runOk(initdb, ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${join(dir, 'pw')}`, '--no-sync', '-E', 'UTF8', '--locale=C'], { env, ...as, cwd: dir, timeout: 120_000 });
  runOk(pgCtl, ['-D', data, '-w', '-t', '60', '-l', join(dir, 'log'), '-o', `-p ${port} -k ${join(dir, 'run')} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on`, 'start'], { env, ...as, cwd: dir, timeout: 120_000 });
  const url = (db: string) => `postgres://postgres:${password}@127.0.0.1:${port}/${db}`;
  return {
    port,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop() {
      run(pgCtl, ['-D', data, '-m', 'immediate', 'stop'], { env, ...as, cwd: dir, timeout: 60_000 });
    },
  };
}
