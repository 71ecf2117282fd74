import { describe } from 'vitest';
import { apiSuite } from './api-suite.js';
import { sqliteHarness } from './sqlite-harness.js';

const sqlite = sqliteHarness('api', { scryptCost: { N: 1024, r: 8, p: 1 } }); // the HTTP layer, not hashing speed

describe('Geppetto HTTP API on SQLite', () => {
  apiSuite(sqlite);
});
