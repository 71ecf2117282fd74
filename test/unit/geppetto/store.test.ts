import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openGeppetto } from '../../../geppetto/service/index.js';
import { migrate } from '../../../geppetto/store/migrations.js';
import { sqliteHarness } from './sqlite-harness.js';
import { admin, storeSuite } from './store-suite.js';

// low scrypt cost: these tests are about storage, not hashing speed (the last one checks the real cost)
const sqlite = sqliteHarness('store', { scryptCost: { N: 1024, r: 8, p: 1 } });
const root = sqlite.root;

describe('Geppetto store on SQLite', () => {
  storeSuite(sqlite);

  it('the database is WAL with synchronous FULL; the key file is made 0600', async () => {
    const g = await sqlite.open();
    const dataDir = sqlite.dataDir(g);
    expect(statSync(join(dataDir, 'secrets.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'secrets.key')).size).toBe(32);
    const { sql } = await import('kysely');
    expect((await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(g.db)).rows[0]?.journal_mode).toBe('wal');
    expect((await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(g.db)).rows[0]?.synchronous).toBe(2);
    await g.close();
  });

  it('refuses a key file others can read, and a key of the wrong size', async () => {
    const dataDir = join(root, 'loose');
    const g = await openGeppetto({ dataDir });
    await g.close();
    chmodSync(join(dataDir, 'secrets.key'), 0o644);
    await expect(openGeppetto({ dataDir })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/secrets\.key: mode 0644/) });
    writeFileSync(join(dataDir, 'secrets.key'), 'short', { mode: 0o600 });
    chmodSync(join(dataDir, 'secrets.key'), 0o600);
    await expect(openGeppetto({ dataDir })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/expected 32 bytes/) });
  });

  it('refuses a database migrated by a newer Geppetto', async () => {
    const g = await sqlite.open();
    await g.db.insertInto('geppetto_schema').values({ version: 999, name: 'future', applied_at: 'x' }).execute();
    await expect(migrate(g.db, 'sqlite')).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/version 999, newer/) });
    await g.close();
  });

  it('hashes passwords with scrypt N=2^17 by default (maxmem raised for Node 20)', async () => {
    const g = await sqlite.open();
    const g2 = await openGeppetto({ dataDir: sqlite.dataDir(g) });
    await g2.addUser(admin, 'erin', 'a long enough password', 'admin');
    const row = await g2.db.selectFrom('users').select('password_hash').where('name', '=', 'erin').executeTakeFirstOrThrow();
    expect(row.password_hash.startsWith('scrypt$131072$8$1$')).toBe(true);
    expect((await g2.login('erin', 'a long enough password', 'x')).role).toBe('admin');
    await g2.close();
    await g.close();
  });
});
