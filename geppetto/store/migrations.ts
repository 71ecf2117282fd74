/**
 * Versioned schema migrations: ordered code modules, each applied once, in a transaction, and
 * recorded in `geppetto_schema`. Several processes may start at once on one PostgreSQL: the first
 * statement of the migrating transaction takes a lock the others wait for, then they see the
 * versions already applied and do nothing.
 */
import { sql, type Kysely } from 'kysely';
import { KpkgError } from '../../packager/errors.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  name: string;
  statements: (dialect: Dialect) => string[];
}

/** `id` column of a table whose rows are numbered by the database. */
const serial = (d: Dialect) => (d === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'SERIAL PRIMARY KEY');

/** Refuses UPDATE and DELETE on a table: the audit log is append-only, even to SQL typed by hand. */
function appendOnly(d: Dialect, table: string): string[] {
  if (d === 'sqlite') {
    return ['UPDATE', 'DELETE'].map(
      (op) => `CREATE TRIGGER ${table}_no_${op.toLowerCase()} BEFORE ${op} ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`,
    );
  }
  return [
    `CREATE FUNCTION ${table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${table} is append-only'; END $$`,
    `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${table}_append_only()`,
  ];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'state, changesets, revisions, catalog, users, tokens, reports, audit',
    statements: (d) => [
      'CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), publish_seq INTEGER NOT NULL)',
      'INSERT INTO meta (id, publish_seq) VALUES (1, 0)',
      `CREATE TABLE entities (kind TEXT NOT NULL, name TEXT NOT NULL, body TEXT, version INTEGER NOT NULL,
        PRIMARY KEY (kind, name))`,
      `CREATE TABLE secrets (id TEXT PRIMARY KEY, nonce TEXT NOT NULL, ciphertext TEXT NOT NULL,
        created_at TEXT NOT NULL, created_by TEXT NOT NULL)`,
      `CREATE TABLE changesets (id ${serial(d)}, title TEXT NOT NULL, author TEXT NOT NULL,
        status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, published_at TEXT,
        publish_seq INTEGER, reverts INTEGER)`,
      'CREATE INDEX changesets_status ON changesets (status, id)',
      `CREATE TABLE changeset_entities (changeset_id INTEGER NOT NULL REFERENCES changesets (id),
        kind TEXT NOT NULL, name TEXT NOT NULL, base_version INTEGER NOT NULL, body TEXT,
        PRIMARY KEY (changeset_id, kind, name))`,
      `CREATE TABLE changes (publish_seq INTEGER NOT NULL, changeset_id INTEGER NOT NULL, kind TEXT NOT NULL,
        name TEXT NOT NULL, before TEXT, after TEXT, version_before INTEGER NOT NULL,
        PRIMARY KEY (publish_seq, kind, name))`,
      'CREATE INDEX changes_changeset ON changes (changeset_id)',
      `CREATE TABLE revisions (fqdn TEXT NOT NULL, revision INTEGER NOT NULL, changeset_id INTEGER NOT NULL,
        publish_seq INTEGER NOT NULL, created_at TEXT NOT NULL, content TEXT NOT NULL, hash TEXT NOT NULL,
        etag TEXT NOT NULL, PRIMARY KEY (fqdn, revision))`,
      'CREATE INDEX revisions_publish ON revisions (publish_seq)',
      `CREATE TABLE heads (fqdn TEXT PRIMARY KEY, revision INTEGER NOT NULL, hash TEXT NOT NULL,
        etag TEXT NOT NULL, publish_seq INTEGER NOT NULL)`,
      `CREATE TABLE catalog_packages (checksum TEXT PRIMARY KEY, name TEXT NOT NULL, evr TEXT NOT NULL,
        component TEXT NOT NULL, description TEXT NOT NULL, read_at TEXT NOT NULL)`,
      `CREATE TABLE catalog_repositories (repository TEXT PRIMARY KEY, baseurl TEXT NOT NULL,
        checksums TEXT NOT NULL, refreshed_at TEXT NOT NULL)`,
      `CREATE TABLE users (id ${serial(d)}, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
        password_hash TEXT NOT NULL, created_at TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0)`,
      `CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id),
        csrf_secret TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL)`,
      `CREATE TABLE tokens (id TEXT PRIMARY KEY, hash TEXT NOT NULL, kind TEXT NOT NULL, fqdn TEXT,
        name TEXT NOT NULL, role TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)`,
      'CREATE INDEX tokens_fqdn ON tokens (fqdn)',
      `CREATE TABLE login_attempts (id ${serial(d)}, key TEXT NOT NULL, at TEXT NOT NULL)`,
      'CREATE INDEX login_attempts_key ON login_attempts (key, at)',
      `CREATE TABLE reports (id ${serial(d)}, fqdn TEXT NOT NULL, revision INTEGER NOT NULL, status TEXT NOT NULL,
        changes INTEGER NOT NULL, summary TEXT NOT NULL, at TEXT NOT NULL, received_at TEXT NOT NULL)`,
      'CREATE INDEX reports_fqdn ON reports (fqdn, id)',
      `CREATE TABLE audit (id ${serial(d)}, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        target TEXT NOT NULL, before TEXT, after TEXT)`,
      ...appendOnly(d, 'audit'),
    ],
  },
  {
    version: 2,
    name: 'the catalog the published files were built from',
    statements: () => ['CREATE TABLE catalog_published (component TEXT NOT NULL, evr TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (component, evr))'],
  },
];

/** The schema version this code reads and writes. */
export const SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/**
 * Applies the migrations not yet applied, in order. Refuses a database whose schema is newer than
 * this code (a newer Geppetto migrated it): reading it would misread it.
 */
export async function migrate(db: Kysely<Database>, dialect: Dialect): Promise<number[]> {
  await sql.raw('CREATE TABLE IF NOT EXISTS geppetto_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)').execute(db);
  return db.transaction().execute(async (trx) => {
    // serialises migrating processes: PostgreSQL's transaction lock, SQLite's write lock
    if (dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(4242001)`.execute(trx);
    else await sql`UPDATE geppetto_schema SET version = version WHERE version < 0`.execute(trx);
    const rows = await trx.selectFrom('geppetto_schema').select('version').execute();
    const applied = new Set(rows.map((r) => r.version));
    const newest = Math.max(0, ...applied);
    if (newest > SCHEMA_VERSION) {
      throw new KpkgError('INVALID_INPUT', `the database's schema is version ${newest}, newer than this Geppetto's (${SCHEMA_VERSION}): upgrade Geppetto`);
    }
    const done: number[] = [];
    for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      for (const statement of m.statements(dialect)) await sql.raw(statement).execute(trx);
      await trx.insertInto('geppetto_schema').values({ version: m.version, name: m.name, applied_at: new Date().toISOString() }).execute();
      done.push(m.version);
    }
    return done;
  });
}
