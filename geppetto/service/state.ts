/** The published state: read whole (with each entity's version), one entity, or explained for one server. */
import { KpkgError } from '../../packager/errors.js';
import type { ResolvedServer, State } from '../model.js';
import { readCatalog } from './catalog.js';
import type { Db } from './context.js';
import * as engine from './engine.js';
import { applyEntity, emptyState, parseEntityKey, type EntityBody, type EntityRef } from './entities.js';

export interface LoadedState {
  state: State;
  /** `kind:name` -> the entity's version (the publish_seq that last wrote it; deleted ones too). */
  versions: Map<string, number>;
  /** `kind:name` -> the entity's canonical JSON, for the entities that exist. */
  bodies: Map<string, string>;
}

/** The published state; secrets as references. */
export async function loadState(db: Db): Promise<LoadedState> {
  const rows = await db.selectFrom('entities').select(['kind', 'name', 'body', 'version']).execute();
  const state = emptyState();
  const versions = new Map<string, number>();
  const bodies = new Map<string, string>();
  for (const row of rows) {
    const key = `${row.kind}:${row.name}`;
    versions.set(key, row.version);
    if (row.body === null) continue;
    bodies.set(key, row.body);
    applyEntity(state, parseEntityKey(key), JSON.parse(row.body) as EntityBody);
  }
  return { state, versions, bodies };
}

/** One published entity and its version (0: never existed). */
export async function entity(db: Db, ref: EntityRef): Promise<{ body: EntityBody | null; version: number }> {
  const row = await db.selectFrom('entities').select(['body', 'version']).where('kind', '=', ref.kind).where('name', '=', ref.name).executeTakeFirst();
  return { body: row?.body ? (JSON.parse(row.body) as EntityBody) : null, version: row?.version ?? 0 };
}

/** `geppetto explain`: why each setting of a server has its value (secrets as references). */
export async function explain(db: Db, fqdn: string, key?: string): Promise<{ text: string; resolved: ResolvedServer }> {
  const { state } = await loadState(db);
  if (!(fqdn in state.servers)) throw new KpkgError('NOT_FOUND', `server ${fqdn} does not exist`);
  const catalog = await readCatalog(db, state);
  const resolved = engine.resolveServers(state, catalog, [fqdn]).get(fqdn);
  if (!resolved) throw new KpkgError('INTERNAL', `no resolution for ${fqdn}`);
  return { text: engine.explain(resolved, key), resolved };
}
