// The Harness of the Geppetto store, service and API suites (test/unit/geppetto/*-suite.ts) on a
// real PostgreSQL started for the calling file: one database per opened service.
import { afterAll, beforeAll } from 'vitest';
import { openGeppetto, type Geppetto } from '../../../geppetto/service/index.js';
import type { Harness } from '../../unit/geppetto/store-suite.js';
import { tmpDir } from '../tools.js';
import { startPostgres, type Postgres } from './postgres.js';

/** Call inside the file's describe block: starts the cluster before its tests, stops it after. */
export function postgresHarness(prefix: string): Harness {
  let postgres: Postgres | undefined;
  beforeAll(async () => {
    postgres = await startPostgres();
  });
  afterAll(() => postgres?.stop());
  let n = 0;
  const where = new WeakMap<Geppetto, { dataDir: string; database: string }>();
  const cost = { N: 1024, r: 8, p: 1 };
  return {
    async open(clock) {
      if (!postgres) throw new Error('PostgreSQL did not start');
      const database = await postgres.createDatabase(`${prefix}${n++}`);
      const dataDir = tmpDir(`geppetto-${prefix}-pg`);
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
}
