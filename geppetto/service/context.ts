/**
 * What every part of the service shares: the store, the secrets key and the keyed hash made from
 * it, the clock, and the write transaction. The Geppetto facade makes one and hands it to each part.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database, Store } from '../store/index.js';
import { keyedHasher } from './crypto.js';

export type Db = Kysely<Database>;

/** Rows written per INSERT statement by the bulk writes (well under both databases' parameter limits). */
export const CHUNK = 200;

export interface ServiceSettings {
  /** The clock (tests); default Date.now. */
  now?: () => Date;
  /** A server with no report for this long is silent (default 2 hours). */
  silentAfterMs?: number;
  /** scrypt cost for new passwords (tests lower it); default N=2^17, r=8, p=1. */
  scryptCost?: { N: number; r: number; p: number };
}

export class ServiceContext {
  readonly store: Store;
  /** The secrets key: seals secrets and stored files. */
  readonly key: Buffer;
  /** HMAC under a key derived from the secrets key: file hashes and ETags. */
  readonly hash: (data: string | Buffer) => string;
  readonly now: () => Date;
  readonly silentAfterMs: number;
  readonly scryptCost: { N: number; r: number; p: number } | undefined;

  constructor(store: Store, key: Buffer, settings: ServiceSettings) {
    this.store = store;
    this.key = key;
    this.hash = keyedHasher(key);
    this.now = settings.now ?? (() => new Date());
    this.silentAfterMs = settings.silentAfterMs ?? 2 * 3600_000;
    this.scryptCost = settings.scryptCost;
  }

  get db(): Db {
    return this.store.db;
  }

  iso(): string {
    return this.now().toISOString();
  }

  etag(body: string): string {
    return `"${this.hash(body)}"`;
  }

  /**
   * A transaction that will write, whatever it reads first. SQLite's deferred transaction that
   * reads, then writes after another process committed, fails at once with SQLITE_BUSY (its
   * snapshot is stale; the busy timeout cannot help): a first write takes the write lock up front,
   * waiting for it as the busy timeout allows. PostgreSQL needs nothing of the kind.
   */
  writeTransaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      if (this.store.dialect === 'sqlite') await trx.updateTable('meta').set((eb) => ({ publish_seq: eb.ref('publish_seq') })).where('id', '=', 1).execute();
      return fn(trx);
    });
  }
}
