/**
 * Geppetto's storage: one Kysely query layer over SQLite (better-sqlite3; a file in the data
 * directory, for one `serve` process plus CLI commands) or PostgreSQL (`pg`; several processes
 * behind a load balancer). The service writes its queries once, for both.
 */
import { closeSync, constants as fsConstants, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import { KpkgError, ioError } from '../../packager/errors.js';
import { migrate, type Dialect } from './migrations.js';
import { postgresReads, sqliteReads, type HotReads } from './reads.js';
import type { Database } from './schema.js';

export type { Database } from './schema.js';
export type { Dialect } from './migrations.js';
export type { HeadFileRow, HeadRow, HotReads, TokenRow } from './reads.js';

export interface StoreOptions {
  /** The data directory: holds `geppetto.db` when no database URL is given. */
  dataDir: string;
  /** `postgres://...` (or `postgresql://`); absent: SQLite in the data directory. */
  database?: string | undefined;
  /** Milliseconds a SQLite writer waits for another process's write lock (default 30 s). */
  busyTimeout?: number;
}

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The servers' hot reads (token, head, current file), prepared once: see reads.ts. */
  reads: HotReads;
  /** Where it is, for messages: the SQLite file, or the PostgreSQL URL without its password. */
  location: string;
  close(): Promise<void>;
}

export const SQLITE_FILE = 'geppetto.db';

/** Opens (creating and migrating as needed) the database. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const { dataDir, database } = options;
  let store: Store;
  if (database !== undefined && database !== '') {
    if (!/^postgres(ql)?:\/\//.test(database)) {
      throw new KpkgError('USAGE', `--database: expected a postgres://... URL, got ${JSON.stringify(redact(database))}`);
    }
    // 64-bit integers come back as text by default; ours all fit in 32 bits (see schema.ts)
    const pool = new pg.Pool({ connectionString: database, max: 4 });
    store = { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres', reads: postgresReads(pool), location: redact(database), close: () => Promise.resolve() };
    try {
      const client = await pool.connect();
      client.release();
    } catch (err) {
      await pool.end();
      throw new KpkgError('IO', `cannot connect to ${redact(database)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  } else {
    try {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw ioError('create', dataDir, err);
    }
    const file = join(dataDir, SQLITE_FILE);
    let handle: BetterSqlite3.Database;
    try {
      // password hashes and sealed secrets: the file is the owner's alone (SQLite gives its -wal
      // and -shm files the database file's mode)
      closeSync(openSync(file, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o600));
      handle = new BetterSqlite3(file, { timeout: options.busyTimeout ?? 30_000 });
      // WAL: readers never wait for the writer; FULL: a committed publish survives a power cut
      handle.pragma('journal_mode = WAL');
      handle.pragma('synchronous = FULL');
      handle.pragma('foreign_keys = ON');
    } catch (err) {
      throw new KpkgError('IO', `cannot open ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    store = {
      db: new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(handle) }) }),
      dialect: 'sqlite',
      reads: sqliteReads(file, options.busyTimeout ?? 30_000),
      location: file,
      close: () => Promise.resolve(),
    };
  }
  const { db, reads } = store;
  store.close = async () => {
    reads.close();
    await db.destroy();
  };
  try {
    await migrate(db, store.dialect);
  } catch (err) {
    await db.destroy();
    if (err instanceof KpkgError) throw err;
    throw new KpkgError('IO', `cannot migrate the database at ${store.location}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return store;
}

/**
 * better-sqlite3 with its prepared statements kept by SQL text: Kysely prepares every query it
 * runs, and preparing costs more than running the small indexed reads a server's file needs.
 * Kysely runs one query at a time on the connection, so a statement is never in use twice.
 */
function withStatementCache(handle: BetterSqlite3.Database, max = 500): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => handle.close(),
    prepare(text: string) {
      let statement = cache.get(text);
      if (statement) return statement;
      statement = handle.prepare(text);
      // queries with `in (...)` lists make many texts: drop the oldest beyond max
      if (cache.size >= max) {
        const oldest = cache.keys().next();
        if (!oldest.done) cache.delete(oldest.value);
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

/** A PostgreSQL URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@]*@/i, '$1:***@');
}

/** Takes the publish lock of this transaction and returns the next publish number. */
export async function nextPublishSeq(trx: Kysely<Database>): Promise<number> {
  // the first statement writes: PostgreSQL locks the row until commit, SQLite takes its write lock
  const row = await sql<{ publish_seq: number }>`UPDATE meta SET publish_seq = publish_seq + 1 WHERE id = 1 RETURNING publish_seq`.execute(trx);
  const seq = row.rows[0]?.publish_seq;
  if (seq === undefined) throw new KpkgError('INTERNAL', 'the meta row is missing');
  return seq;
}

/**
 * A database error as a user should read it: SQLite's busy (another process held the write lock
 * longer than the busy timeout, e.g. a long publish) as LOCK_TIMEOUT; anything else unchanged.
 */
export function storeError(err: unknown): unknown {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new KpkgError('LOCK_TIMEOUT', 'the database is busy (another process is writing, e.g. publishing): try again', { cause: err });
  }
  return err;
}
