/**
 * Who acts and what they may do: the principals (person, script, CLI, server), their roles, and
 * the checks every service operation makes before it reads or writes.
 */
import { hostname, userInfo } from 'node:os';
import { KpkgError } from '../../packager/errors.js';

export type Role = 'viewer' | 'editor' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'editor', 'admin'];
const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

/** Who acts: a person (session), a script (API token), the CLI (whoever can read the data directory), a server. */
export type Principal =
  | { kind: 'user'; name: string; role: Role; userId: number }
  | { kind: 'api'; name: string; role: Role; tokenId: string }
  | { kind: 'cli'; name: string; role: 'admin' }
  | { kind: 'server'; fqdn: string; tokenId: string };

/** The CLI's principal: the local account running it (it can read the data directory and its key). */
export function cliPrincipal(): Principal {
  let name = 'cli';
  try {
    name = `${userInfo().username}@${hostname()}`;
  } catch {
    // no passwd entry for this uid: keep "cli"
  }
  return { kind: 'cli', name, role: 'admin' };
}

/** How a principal appears in the audit log and as a changeset's author. */
export function principalName(p: Principal): string {
  switch (p.kind) {
    case 'user':
      return p.name;
    case 'api':
      return `token:${p.name}`;
    case 'cli':
      return `cli:${p.name}`;
    case 'server':
      return `server:${p.fqdn}`;
  }
}

export function requireRole(p: Principal, role: Role): void {
  if (p.kind === 'server' || RANK[p.role] < RANK[role]) {
    throw new KpkgError('FORBIDDEN', `${principalName(p)} may not do this (needs ${role})`);
  }
}

/**
 * May this principal read this server's file (it holds the server's secrets) or post its
 * reports? The server itself (its token), or an admin; people with less see maskedFile.
 */
export function authorizeNode(actor: Principal, fqdn: string): void {
  if (actor.kind === 'server') {
    if (actor.fqdn !== fqdn) throw new KpkgError('FORBIDDEN', `this token belongs to ${actor.fqdn}, not ${fqdn}`);
    return;
  }
  requireRole(actor, 'admin');
}

/** A role named by a caller (CLI option, form, API body). */
export function checkRole(role: string): Role {
  const r = asRole(role);
  if (r === undefined) throw new KpkgError('INVALID_INPUT', `role ${JSON.stringify(role)}: expected viewer, editor or admin`);
  return r;
}

/** The role a string names, or undefined when it names none. */
export function asRole(role: string): Role | undefined {
  return (ROLES as readonly string[]).includes(role) ? (role as Role) : undefined;
}
