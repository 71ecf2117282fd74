import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openGeppetto, type Geppetto } from '../../../geppetto/service/index.js';
import { putInCatalog, standardPackages } from './catalog-fixture.js';
import { REPO, SECRET, STATE, serviceSuite } from './service-suite.js';
import { admin, type Harness } from './store-suite.js';

const root = mkdtempSync(join(tmpdir(), 'geppetto-service-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dirs = new WeakMap<Geppetto, string>();
const sqlite: Harness = {
  async open(clock) {
    const dataDir = join(root, `d${n++}`);
    const g = await openGeppetto({ dataDir, ...(clock ? { now: () => clock.now } : {}) });
    dirs.set(g, dataDir);
    return g;
  },
  async reopen(g, clock) {
    const dataDir = dirs.get(g) as string;
    const g2 = await openGeppetto({ dataDir, ...(clock ? { now: () => clock.now } : {}) });
    dirs.set(g2, dataDir);
    return g2;
  },
};

describe('Geppetto service on SQLite', () => {
  serviceSuite(sqlite);

  it('secrets are encrypted at rest: no byte of the database files holds one', async () => {
    const g = await sqlite.open();
    await putInCatalog(g, REPO, await standardPackages(join(root, 'pkgs')));
    await g.importState(admin, STATE);
    await g.nodeFile(admin, 'web01.example.com');
    const dataDir = dirs.get(g) as string;
    await g.close();
    const files = readdirSync(dataDir).filter((f) => f.startsWith('geppetto.db'));
    expect(files).toContain('geppetto.db');
    for (const f of files) expect(readFileSync(join(dataDir, f)).includes(SECRET), f).toBe(false);
  });
});
