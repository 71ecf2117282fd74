import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe } from 'vitest';
import { openGeppetto, type Geppetto } from '../../../geppetto/service/index.js';
import { apiSuite } from './api-suite.js';
import type { Harness } from './store-suite.js';

const root = mkdtempSync(join(tmpdir(), 'geppetto-api-db-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dirs = new WeakMap<Geppetto, string>();
// low scrypt cost: these tests are about the HTTP layer, not hashing speed
const cost = { N: 1024, r: 8, p: 1 };
const sqlite: Harness = {
  async open(clock) {
    const dataDir = join(root, `d${n++}`);
    const g = await openGeppetto({ dataDir, scryptCost: cost, ...(clock ? { now: () => clock.now } : {}) });
    dirs.set(g, dataDir);
    return g;
  },
  async reopen(g, clock) {
    const dataDir = dirs.get(g) as string;
    const g2 = await openGeppetto({ dataDir, scryptCost: cost, ...(clock ? { now: () => clock.now } : {}) });
    dirs.set(g2, dataDir);
    return g2;
  },
};

describe('Geppetto HTTP API on SQLite', () => {
  apiSuite(sqlite);
});
