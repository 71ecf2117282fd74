/**
 * The tables, as Kysely sees them. Both dialects store the same shapes: times as ISO-8601 text,
 * JSON as text, binary (ciphertext) as base64 text, so a row reads back the same from SQLite and
 * from PostgreSQL. Integers stay within `integer` (32 bits on PostgreSQL, so `pg` returns numbers).
 */
import type { Generated } from 'kysely';

export interface Database {
  geppetto_schema: { version: number; name: string; applied_at: string };
  /** One row: the publish sequence, the counter every publish raises (and locks). */
  meta: { id: number; publish_seq: number };
  /**
   * The published state, one row per entity: kind `global` (name ''), `repositories` (name ''),
   * `environment`, `role`, `server`. `version` is the publish_seq of the publish that last wrote
   * it, so a deleted then recreated entity never gets an old version back; a deletion leaves a
   * tombstone (body null).
   */
  entities: { kind: string; name: string; body: string | null; version: number };
  secrets: { id: string; nonce: string; ciphertext: string; created_at: string; created_by: string };
  changesets: {
    id: Generated<number>;
    title: string;
    author: string;
    status: string;
    created_at: string;
    updated_at: string;
    published_at: string | null;
    publish_seq: number | null;
    /** The changeset this one reverts. */
    reverts: number | null;
  };
  /** What a changeset proposes for one entity, and the entity's version when it was first edited. */
  changeset_entities: { changeset_id: number; kind: string; name: string; base_version: number; body: string | null };
  /** What each publish changed, entity by entity: the history revert works from. */
  changes: {
    publish_seq: number;
    changeset_id: number;
    kind: string;
    name: string;
    before: string | null;
    after: string | null;
    version_before: number;
  };
  /** Every published revision of every server's file; content is the served YAML, encrypted. */
  revisions: {
    fqdn: string;
    revision: number;
    changeset_id: number;
    publish_seq: number;
    created_at: string;
    content: string;
    hash: string;
    etag: string;
  };
  /** The current revision of each server's file (none: the server has no file). */
  heads: { fqdn: string; revision: number; hash: string; etag: string; publish_seq: number };
  /** Deployment packages read from repositories, by checksum: read once, kept. */
  catalog_packages: {
    checksum: string;
    name: string;
    evr: string;
    component: string;
    description: string;
    read_at: string;
  };
  /** What each repository held at its last refresh. */
  catalog_repositories: { repository: string; baseurl: string; checksums: string; refreshed_at: string };
  /** A digest of every component version as the last publish saw it: what the files were built from. */
  catalog_published: { component: string; evr: string; digest: string };
  users: { id: Generated<number>; name: string; role: string; password_hash: string; created_at: string; disabled: number };
  sessions: { id_hash: string; user_id: number; csrf_secret: string; created_at: string; expires_at: string };
  tokens: {
    id: string;
    hash: string;
    kind: string;
    fqdn: string | null;
    name: string;
    role: string;
    created_by: string;
    created_at: string;
    revoked_at: string | null;
  };
  login_attempts: { id: Generated<number>; key: string; at: string };
  reports: {
    id: Generated<number>;
    fqdn: string;
    revision: number;
    status: string;
    changes: number;
    summary: string;
    at: string;
    received_at: string;
  };
  audit: {
    id: Generated<number>;
    at: string;
    actor: string;
    action: string;
    target: string;
    before: string | null;
    after: string | null;
  };
}
