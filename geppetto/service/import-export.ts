/**
 * The state file (`geppetto export`, `geppetto import`): the whole configuration as YAML, secrets
 * as references unless asked; an import is one changeset made and published at once.
 */
import YAML from 'yaml';
import { KpkgError } from '../../packager/errors.js';
import type { Value } from '../model.js';
import { nextPublishSeq } from '../store/index.js';
import { requireRole, type Principal } from './access.js';
import { auditEntry } from './audit.js';
import { catalogSecretKeys } from './catalog.js';
import type { Staged } from './changesets.js';
import type { ServiceContext } from './context.js';
import * as engine from './engine.js';
import { checkEntityName, isSecretRef, normalizeBody, parseEntityKey, stateEntities } from './entities.js';
import { publishNew, type PublishResult } from './publish.js';
import { allSecretIds, existingSecrets, forEachSetting, insertSecret, sealSecretSettings, secretValues } from './secrets.js';
import { loadState } from './state.js';

/** The whole state as YAML (the state file). Secrets as `{ secret: id }` unless withSecrets. */
export async function exportState(ctx: ServiceContext, actor: Principal, options: { withSecrets?: boolean } = {}): Promise<string> {
  requireRole(actor, options.withSecrets ? 'admin' : 'viewer');
  const { state } = await loadState(ctx.db);
  if (options.withSecrets) {
    const values = await secretValues(ctx, ctx.db, allSecretIds(state));
    forEachSetting(state, (settings, key, value) => {
      if (isSecretRef(value)) settings[key] = { secret: value.secret, value: values.get(value.secret) };
    });
    await auditEntry(ctx, ctx.db, actor, 'export-with-secrets', 'state', null, null);
  }
  return engine.stringifyState(state);
}

/**
 * `geppetto import`: the state file as one changeset, made and published at once, all or
 * nothing. Secret references must exist here; `{ secret, value }` (an export with secrets)
 * stores the value encrypted.
 */
export async function importState(ctx: ServiceContext, actor: Principal, text: string, options: { title?: string } = {}): Promise<PublishResult> {
  requireRole(actor, 'editor');
  const withValues = new Map<string, Value>();
  let doc: unknown;
  try {
    doc = YAML.parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new KpkgError('INVALID_INPUT', `state file: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { cause: err });
  }
  // `{ secret: id, value: v }` from `export --with-secrets`: keep the value aside, pass the reference on
  walkSettings(doc, (settings, key, value) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'secret' in value && 'value' in value) {
      const v = value;
      if (typeof v.secret !== 'string') return;
      withValues.set(v.secret, v.value as Value);
      settings[key] = { secret: v.secret };
    }
  });
  const state = engine.parseState(withValues.size > 0 ? YAML.stringify(doc) : text);
  return ctx.db.transaction().execute(async (trx) => {
    const seq = await nextPublishSeq(trx);
    const { versions, bodies } = await loadState(trx);
    const wanted = stateEntities(state);
    const staged: Staged[] = [];
    for (const [key, body] of wanted) {
      const ref = parseEntityKey(key);
      checkEntityName(ref);
      if (bodies.get(key) === body) continue;
      staged.push({ ref, baseVersion: versions.get(key) ?? 0, body: normalizeBody(ref, JSON.parse(body)) });
    }
    for (const key of bodies.keys()) {
      if (!wanted.has(key)) staged.push({ ref: parseEntityKey(key), baseVersion: versions.get(key) ?? 0, body: null });
    }
    // secrets: values given with their id are stored under it (an id already here keeps its value)
    const existing = await existingSecrets(trx, [...withValues.keys()]);
    for (const [id, value] of withValues) {
      if (!existing.has(id)) await insertSecret(ctx, trx, actor, value, id);
    }
    const known = await existingSecrets(trx, allSecretIds(state));
    const secretKeys = await catalogSecretKeys(trx);
    // a plain value for a secret key: stored encrypted, the state keeps the reference
    for (const s of staged) if (s.body !== null) await sealSecretSettings(ctx, trx, actor, s.ref, s.body, known, secretKeys);
    return publishNew(ctx, trx, seq, actor, { title: options.title ?? 'import' }, staged, 'import');
  });
}

/** Walks the settings of a parsed (unchecked) state document. */
function walkSettings(doc: unknown, fn: (settings: Record<string, unknown>, key: string, value: unknown) => void): void {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(doc)) return;
  const scopes: unknown[] = [doc.global];
  for (const group of [doc.environments, doc.roles, doc.servers]) if (isObj(group)) scopes.push(...Object.values(group));
  for (const scope of scopes) {
    if (!isObj(scope) || !isObj(scope.settings)) continue;
    for (const [key, value] of Object.entries(scope.settings)) fn(scope.settings, key, value);
  }
}
