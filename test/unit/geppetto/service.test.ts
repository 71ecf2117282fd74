import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { putInCatalog, standardPackages } from './catalog-fixture.js';
import { REPO, SECRET, STATE, serviceSuite } from './service-suite.js';
import { sqliteHarness } from './sqlite-harness.js';
import { admin } from './store-suite.js';

const sqlite = sqliteHarness('service');
const root = sqlite.root;

describe('Geppetto service on SQLite', () => {
  serviceSuite(sqlite);

  it('secrets are encrypted at rest: no byte of the database files holds one', async () => {
    const g = await sqlite.open();
    await putInCatalog(g, REPO, await standardPackages(join(root, 'pkgs')));
    await g.importState(admin, STATE);
    await g.nodeFile(admin, 'web01.example.com');
    const dataDir = sqlite.dataDir(g);
    await g.close();
    const files = readdirSync(dataDir).filter((f) => f.startsWith('geppetto.db'));
    expect(files).toContain('geppetto.db');
    for (const f of files) expect(readFileSync(join(dataDir, f)).includes(SECRET), f).toBe(false);
  });
});
