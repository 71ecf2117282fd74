/**
 * The `geppetto` commands other than `serve`, as plain async functions over the service: they
 * return what to print and throw KpkgError; only the CLI entry turns that into an exit status.
 */
import { readFile } from 'node:fs/promises';
import { KpkgError, inputError } from '../../packager/errors.js';
import type { Geppetto, Principal, PublishResult, RefreshResult, Role } from '../service/index.js';
import type { ServerDefinition } from '../model.js';

export async function userAdd(g: Geppetto, actor: Principal, name: string, password: string, role: Role): Promise<string> {
  const u = await g.addUser(actor, name, password, role);
  return `user ${u.name} added (${u.role})\n`;
}

/** Adds (or changes) a server: one changeset, published at once. */
export async function serverAdd(g: Geppetto, actor: Principal, fqdn: string, options: { environment: string; roles: string[] }): Promise<string> {
  const current = await g.entity({ kind: 'server', name: fqdn });
  const before = current.body as ServerDefinition | null;
  const body: ServerDefinition = { environment: options.environment, roles: options.roles, settings: before?.settings ?? {}, unset: before?.unset ?? [] };
  const cs = await g.createChangeset(actor, `${before ? 'change' : 'add'} server ${fqdn}`);
  try {
    await g.stage(cs.id, actor, { kind: 'server', name: fqdn }, body, { expectedVersion: current.version });
    return renderPublish(await g.publish(cs.id, actor));
  } catch (err) {
    await g.discard(cs.id, actor).catch(() => undefined);
    throw err;
  }
}

export async function serverToken(g: Geppetto, actor: Principal, fqdn: string): Promise<string> {
  return `${await g.serverToken(actor, fqdn)}\n`;
}

export async function tokenAdd(g: Geppetto, actor: Principal, name: string, role: Role): Promise<string> {
  return `${(await g.createApiToken(actor, name, role)).token}\n`;
}

export async function importFile(g: Geppetto, actor: Principal, file: string, stdin: () => Promise<string>): Promise<string> {
  let text: string;
  if (file === '-') text = await stdin();
  else {
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw inputError('read', file, err);
    }
  }
  return renderPublish(await g.importState(actor, text, { title: `import ${file === '-' ? '(stdin)' : file}` }));
}

export async function exportState(g: Geppetto, actor: Principal, options: { withSecrets?: boolean }): Promise<string> {
  return g.exportState(actor, options);
}

export async function explain(g: Geppetto, fqdn: string, key?: string): Promise<string> {
  const { text } = await g.explain(fqdn, key);
  return text.endsWith('\n') ? text : `${text}\n`;
}

export async function nodeFile(g: Geppetto, actor: Principal, fqdn: string, options: { json?: boolean; revision?: string }): Promise<string> {
  let revision: number | undefined;
  if (options.revision !== undefined) {
    revision = Number(options.revision);
    if (!Number.isInteger(revision) || revision < 1) throw new KpkgError('USAGE', `--revision ${options.revision}: expected a revision number`);
  }
  const answer = await g.nodeFile(actor, fqdn, { format: options.json ? 'json' : 'yaml', ...(revision !== undefined ? { revision } : {}) });
  return answer.body;
}

export async function repoRefresh(g: Geppetto, actor: Principal, options: { caFile?: string; json?: boolean }): Promise<string> {
  const result = await g.refreshCatalog(actor, options.caFile !== undefined ? { caFile: options.caFile } : {});
  const failed = result.repositories.flatMap((r) => r.errors.map((e) => `${r.id}: ${e}`));
  const out = options.json
    ? `${JSON.stringify(result, null, 2)}\n`
    : result.repositories.map((r) => `${r.id}: ${r.packages} deployment package(s), ${r.read} read now${r.errors.length ? `, ${r.errors.length} unreadable` : ''}\n`).join('') +
      failed.map((f) => `  ${f}\n`).join('') +
      renderUnpublished(result);
  if (failed.length > 0) {
    process.stdout.write(out);
    throw new KpkgError('BAD_PACKAGE', `${failed.length} package(s) could not be read: ${failed[0]}`);
  }
  return out;
}

/** Servers named in a line before the rest are counted (the JSON form lists them all). */
const NAMED_SERVERS = 10;

/** What a refresh leaves to publish: the pinned versions changed or gone since the last publish, and their servers. */
export function renderUnpublished(r: RefreshResult): string {
  if (r.unpublished.length === 0) return 'no pinned version changed since the last publish\n';
  const names = (servers: string[]) => `${servers.slice(0, NAMED_SERVERS).join(', ')}${servers.length > NAMED_SERVERS ? `, and ${servers.length - NAMED_SERVERS} more` : ''}`;
  const lines = ['pinned versions changed since the last publish:'];
  for (const v of r.unpublished) {
    const what = v.change === 'removed' ? 'gone from the repositories' : 'changed';
    lines.push(`  ${v.component} ${v.evr}: ${what}; pinned by ${v.roles.join(', ')}; ${v.servers.length} server(s)${v.servers.length > 0 ? `: ${names(v.servers)}` : ''}`);
  }
  lines.push(`${r.servers.length} server(s) pin them: the next publish (an empty changeset will do) builds their files again${r.servers.length > 0 ? `: ${names(r.servers)}` : ''}`);
  if (r.publishBlocked) lines.push('publishing is refused until the roles pinning a version gone from the repositories pin one they have');
  return `${lines.join('\n')}\n`;
}

export async function revert(g: Geppetto, actor: Principal, changeset: string): Promise<string> {
  const id = Number(changeset);
  if (!Number.isInteger(id) || id < 1) throw new KpkgError('USAGE', `${changeset}: expected a changeset number`);
  return renderPublish(await g.revert(id, actor));
}

export function renderPublish(r: PublishResult): string {
  const lines = [`changeset ${r.changeset} published: ${r.revisions.length} server file(s) changed`];
  for (const { fqdn, revision } of r.revisions) lines.push(`  ${fqdn}: ${revision === 0 ? 'removed' : `revision ${revision}`}`);
  return `${lines.join('\n')}\n`;
}
