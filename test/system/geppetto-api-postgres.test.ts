// The HTTP API tests of test/unit/geppetto/api-suite.ts, on a real PostgreSQL started by this file.
import { apiSuite } from '../unit/geppetto/api-suite.js';
import { postgresHarness } from './helpers/geppetto-harness.js';
import { POSTGRES_TOOLS } from './helpers/postgres.js';
import { describeWithTools } from './tools.js';

describeWithTools(POSTGRES_TOOLS, 'Geppetto HTTP API on PostgreSQL', () => {
  apiSuite(postgresHarness('api'));
});
