// The HTTP API tests of test/unit/geppetto/api-suite.ts, on a real PostgreSQL started by this file.
import { afterAll, beforeAll } from 'vitest';
import { openGeppetto, type Geppetto } from '../../geppetto/service/index.js';
import { apiSuite } from '../unit/geppetto/api-suite.js';
import type { Harness } from '../unit/geppetto/store-suite.js';
import { POSTGRES_TOOLS, startPostgres, type Postgres } from './helpers/postgres.js';
import { describeWithTools, tmpDir } from './tools.js';

describeWithTools(POSTGRES_TOOLS, 'Geppetto HTTP API on PostgreSQL', () => {
  let postgres: Postgres | undefined;
  beforeAll(async () => {
    postgres = await startPostgres();
  });
  afterAll(() => postgres?.stop());
  let n = 0;
  const where = new WeakMap<Geppetto, { dataDir: string; database: string }>();
  const cost = { N: 1024, r: 8, p: 1 };
  const harness: Harness = {
    async open(clock) {
      if (!postgres) throw new Error('PostgreSQL did not start');
      const database = await postgres.createDatabase(`api${n++}`);
      const dataDir = tmpDir('geppetto-api-pg');
      const g = await openGeppetto({ dataDir, database, scryptCost: cost, ...(clock ? { now: () => clock.now } : {}) });
      where.set(g, { dataDir, database });
      return g;
    },
    async reopen(g, clock) {
      const w = where.get(g);
      if (!w) throw new Error('unknown Geppetto');
      const g2 = await openGeppetto({ ...w, scryptCost: cost, ...(clock ? { now: () => clock.now } : {}) });
      where.set(g2, w);
      return g2;
    },
  };
  apiSuite(harness);
});
