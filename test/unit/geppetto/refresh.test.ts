import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe } from 'vitest';
import { openGeppetto } from '../../../geppetto/service/index.js';
import { refreshSuite } from './refresh-suite.js';

const root = mkdtempSync(join(tmpdir(), 'geppetto-refresh-sqlite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

describe('geppetto repo refresh on SQLite: what is left to publish', () => {
  refreshSuite({
    open: () => openGeppetto({ dataDir: join(root, `d${n++}`), scryptCost: { N: 1024, r: 8, p: 1 } }),
    reopen: () => Promise.reject(new Error('not used by the refresh suite')),
  });
});
