import { describe } from 'vitest';
import { refreshSuite } from './refresh-suite.js';
import { sqliteHarness } from './sqlite-harness.js';

const sqlite = sqliteHarness('refresh', { scryptCost: { N: 1024, r: 8, p: 1 } }); // the refresh, not hashing speed

describe('geppetto repo refresh on SQLite: what is left to publish', () => {
  refreshSuite(sqlite);
});
