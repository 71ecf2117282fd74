/**
 * The reads of the servers' hot path (a token, a server's head, its current file), as statements
 * prepared once per store instead of queries Kysely builds and compiles per request: building a
 * query costs more than running these indexed reads. The SQL is written once here for both
 * dialects, differing only in placeholders.
 *
 * SQLite: a read-only connection of its own, in WAL mode, so each read sees the last committed
 * state. Not the Kysely connection: a transaction of this process (a publish) holds that one across
 * awaits, and a read run on it in the meantime would see the publish's uncommitted rows (and would
 * have to wait for the whole publish). PostgreSQL: named prepared statements (`pg` prepares a name
 * once per pooled connection), on the pool Kysely uses; each read is its own statement, so it sees
 * committed rows only.
 *
 * Nothing is cached between calls: a revoked token or a new revision is seen by the next read, in
 * this process and in any other on the same database.
 */
import BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import type { Database } from './schema.js';

/** A token's row as authentication needs it. */
export type TokenRow = Pick<Database['tokens'], 'id' | 'hash' | 'kind' | 'fqdn' | 'name' | 'role' | 'revoked_at'>;

/** The current revision of a server's file and its ETag. */
export interface HeadRow {
  revision: number;
  etag: string;
}

/** The current revision with its stored content (sealed, see service/crypto.ts). */
export interface HeadFileRow extends HeadRow {
  content: string;
}

export interface HotReads {
  /** The token with this id, revoked or not; undefined when there is none. */
  token(id: string): Promise<TokenRow | undefined>;
  /** The head of a server's file; undefined when it has none. */
  head(fqdn: string): Promise<HeadRow | undefined>;
  /** The head of a server's file with that revision's content, read in one statement (one snapshot). */
  headFile(fqdn: string): Promise<HeadFileRow | undefined>;
  close(): void;
}

type Query = 'token' | 'head' | 'headFile';

const SQL: Record<Query, (p: (n: number) => string) => string> = {
  token: (p) => `SELECT id, hash, kind, fqdn, name, role, revoked_at FROM tokens WHERE id = ${p(1)}`,
  head: (p) => `SELECT revision, etag FROM heads WHERE fqdn = ${p(1)}`,
  headFile: (p) => `SELECT r.revision, r.etag, r.content FROM heads h JOIN revisions r ON r.fqdn = h.fqdn AND r.revision = h.revision WHERE h.fqdn = ${p(1)}`,
};

/**
 * SQLite: the statements on a read-only connection to `file`, opened at the first read (CLI
 * commands that never serve a file never open it).
 */
export function sqliteReads(file: string, busyTimeout: number): HotReads {
  let handle: BetterSqlite3.Database | undefined;
  let statements: Record<Query, BetterSqlite3.Statement<[string]>> | undefined;
  const prepared = (): Record<Query, BetterSqlite3.Statement<[string]>> => {
    if (statements) return statements;
    const h = new BetterSqlite3(file, { readonly: true, fileMustExist: true, timeout: busyTimeout });
    handle = h;
    const prepare = (q: Query) => h.prepare<[string]>(SQL[q](() => '?'));
    statements = { token: prepare('token'), head: prepare('head'), headFile: prepare('headFile') };
    return statements;
  };
  // better-sqlite3 is synchronous: each read is a few microseconds of indexed lookup
  const get = <T>(q: Query, arg: string): Promise<T | undefined> => {
    try {
      return Promise.resolve(prepared()[q].get(arg) as T | undefined);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return {
    token: (id) => get<TokenRow>('token', id),
    head: (fqdn) => get<HeadRow>('head', fqdn),
    headFile: (fqdn) => get<HeadFileRow>('headFile', fqdn),
    close() {
      handle?.close();
      handle = undefined;
      statements = undefined;
    },
  };
}

/** PostgreSQL: named prepared statements on `pool`. */
export function postgresReads(pool: pg.Pool): HotReads {
  const texts = { token: SQL.token((n) => `$${n}`), head: SQL.head((n) => `$${n}`), headFile: SQL.headFile((n) => `$${n}`) };
  const get = async <T extends pg.QueryResultRow>(q: Query, arg: string): Promise<T | undefined> => {
    const result = await pool.query<T>({ name: `geppetto_${q}`, text: texts[q], values: [arg] });
    return result.rows[0];
  };
  return {
    token: (id) => get<TokenRow & pg.QueryResultRow>('token', id),
    head: (fqdn) => get<HeadRow & pg.QueryResultRow>('head', fqdn),
    headFile: (fqdn) => get<HeadFileRow & pg.QueryResultRow>('headFile', fqdn),
    close() {
      // the pool is Kysely's: it ends it
    },
  };
}
