// The storage and account tests, run on SQLite by `npm test` (store.test.ts) and on a real
// PostgreSQL by `npm run test:system` (test/system/geppetto-postgres.test.ts).
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { KpkgError } from '../../../packager/errors.js';
import { cliPrincipal, type Geppetto, type Principal } from '../../../geppetto/service/index.js';
import { SCHEMA_VERSION } from '../../../geppetto/store/migrations.js';

export interface Harness {
  /** A fresh, empty Geppetto (own database), with a clock the test can move. */
  open(clock?: { now: Date }): Promise<Geppetto>;
  /** Another process's view of the same database (a second service on it). */
  reopen(g: Geppetto, clock?: { now: Date }): Promise<Geppetto>;
}

export const admin: Principal = cliPrincipal();

async function rejects(p: Promise<unknown>, code: string, match?: RegExp): Promise<KpkgError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(KpkgError);
  const k = err as KpkgError;
  expect(k.code).toBe(code);
  if (match) expect(k.message).toMatch(match);
  return k;
}

export function storeSuite(h: Harness): void {
  it('migrates once: a second open applies nothing and sees the same schema version', async () => {
    const g = await h.open();
    const g2 = await h.reopen(g);
    const rows = await g2.db.selectFrom('geppetto_schema').select('version').execute();
    expect(rows.map((r) => r.version).sort((a, b) => a - b)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    await g2.close();
    await g.close();
  });

  it('the audit log is append-only, even to SQL typed by hand', async () => {
    const g = await h.open();
    await g.addUser(admin, 'alice', 'correct horse battery', 'editor');
    const [entry] = await g.audit();
    expect(entry?.action).toBe('user-add');
    expect(JSON.stringify(entry)).not.toContain('correct horse');
    await expect(sql`UPDATE audit SET actor = 'mallory'`.execute(g.db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM audit`.execute(g.db)).rejects.toThrow(/append-only/);
    expect((await g.audit())[0]?.actor).toBe(entry?.actor);
    await g.close();
  });

  it('users: scrypt hashes, roles checked, no duplicate, hostile names refused, logins rate-limited', async () => {
    const clock = { now: new Date('2026-01-01T00:00:00Z') };
    const g = await h.open(clock);
    const u = await g.addUser(admin, 'bob', 'a long enough password', 'viewer');
    expect(u).toMatchObject({ name: 'bob', role: 'viewer', disabled: false });
    const row = await g.db.selectFrom('users').select('password_hash').where('name', '=', 'bob').executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$\d+\$8\$1\$/);
    expect(row.password_hash).not.toContain('a long enough password');
    await rejects(g.addUser(admin, 'bob', 'another long password', 'viewer'), 'CONFLICT');
    await rejects(g.addUser(admin, "x'; DROP TABLE users; --", 'a long enough password', 'viewer'), 'INVALID_INPUT');
    await rejects(g.addUser(admin, 'carol', 'short', 'viewer'), 'INVALID_INPUT', /12 characters/);
    await rejects(g.addUser(admin, 'carol', 'a long enough password', 'root' as 'admin'), 'INVALID_INPUT');
    const viewer: Principal = { kind: 'user', name: 'bob', role: 'viewer', userId: u.id };
    await rejects(g.addUser(viewer, 'carol', 'a long enough password', 'admin'), 'FORBIDDEN');

    expect((await g.login('bob', 'a long enough password', '10.0.0.1')).name).toBe('bob');
    await rejects(g.login('bob', 'wrong password!!', '10.0.0.1'), 'UNAUTHORIZED');
    await rejects(g.login('nobody', 'wrong password!!', '10.0.0.1'), 'UNAUTHORIZED');
    for (let i = 0; i < 9; i++) await rejects(g.login('bob', `wrong ${i}`, '10.0.0.2'), 'UNAUTHORIZED');
    // the 10th failure for bob within 15 minutes: refused even with the right password, from anywhere
    await rejects(g.login('bob', 'a long enough password', '10.0.0.3'), 'RATE_LIMITED');
    // another process on the same database counts the same failures
    const g2 = await h.reopen(g, clock);
    await rejects(g2.login('bob', 'a long enough password', '10.0.0.3'), 'RATE_LIMITED');
    clock.now = new Date(clock.now.getTime() + 16 * 60_000);
    expect((await g2.login('bob', 'a long enough password', '10.0.0.3')).name).toBe('bob');
    await g2.close();
    await g.close();
  });

  it('sessions: the cookie value is stored hashed, expires, ends with a password change', async () => {
    const clock = { now: new Date('2026-01-01T00:00:00Z') };
    const g = await h.open(clock);
    const u = await g.addUser(admin, 'dora', 'a long enough password', 'editor');
    const s = await g.createSession(u.id);
    const stored = await g.db.selectFrom('sessions').select('id_hash').execute();
    expect(stored.map((r) => r.id_hash)).not.toContain(s.token);
    expect((await g.session(s.token))?.user.name).toBe('dora');
    expect(await g.session(s.token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')))).toBeUndefined();
    expect(await g.session("' OR 1=1 --")).toBeUndefined();
    const dora: Principal = { kind: 'user', name: 'dora', role: 'editor', userId: u.id };
    await g.updateUser(dora, 'dora', { password: 'a new long password' });
    expect(await g.session(s.token)).toBeUndefined();
    const s2 = await g.createSession(u.id);
    clock.now = new Date(clock.now.getTime() + 13 * 3600_000);
    expect(await g.session(s2.token)).toBeUndefined();
    await g.close();
  });

  it('reports are checked and stored; hostile text round-trips literally', async () => {
    const g = await h.open();
    const hostile = `'); DROP TABLE reports; -- <script>alert(1)</script> \${x} %{y} $(z)`;
    await g.postReport(admin, 'web01.example.com', { revision: 3, status: 'changed', changes: 2, summary: hostile });
    await rejects(g.postReport(admin, 'web01.example.com', { revision: -1, status: 'changed' }), 'INVALID_INPUT');
    await rejects(g.postReport(admin, 'web01.example.com', { revision: 1, status: 'exploded' }), 'INVALID_INPUT');
    const [r] = await g.reports('web01.example.com');
    expect(r).toMatchObject({ revision: 3, status: 'changed', changes: 2, summary: hostile });
    await g.close();
  });
}
