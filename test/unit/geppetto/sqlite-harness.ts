// The Harness of the Geppetto store, service and API suites (test/unit/geppetto/*-suite.ts) on
// SQLite: one data directory per opened service, under a temporary folder the calling file removes
// when it is done. The PostgreSQL one is test/system/helpers/geppetto-harness.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openGeppetto, type Geppetto, type GeppettoOptions } from '../../../geppetto/service/index.js';
import type { Harness } from './store-suite.js';

export interface SqliteHarness extends Harness {
  /** The temporary folder the data directories are made in, for a test's other files too. */
  root: string;
  /** The data directory a service opened by this harness works in. */
  dataDir(g: Geppetto): string;
}

/** Call at the top of the file; `scryptCost` low where a file's tests are not about hashing. */
export function sqliteHarness(prefix: string, options: Pick<GeppettoOptions, 'scryptCost'> = {}): SqliteHarness {
  const root = mkdtempSync(join(tmpdir(), `geppetto-${prefix}-`));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const dirs = new WeakMap<Geppetto, string>();
  const dataDir = (g: Geppetto): string => {
    const dir = dirs.get(g);
    if (dir === undefined) throw new Error('a Geppetto this harness did not open');
    return dir;
  };
  const openIn = async (dir: string, clock?: { now: Date }): Promise<Geppetto> => {
    const g = await openGeppetto({ dataDir: dir, ...options, ...(clock ? { now: () => clock.now } : {}) });
    dirs.set(g, dir);
    return g;
  };
  return {
    open: (clock) => openIn(join(root, `d${n++}`), clock),
    reopen: (g, clock) => openIn(dataDir(g), clock),
    dataDir,
    root,
  };
}
