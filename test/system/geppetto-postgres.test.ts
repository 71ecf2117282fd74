// The storage, service and catalog refresh tests of test/unit/geppetto, on a real PostgreSQL
// started by this file.
import { refreshSuite } from '../unit/geppetto/refresh-suite.js';
import { serviceSuite } from '../unit/geppetto/service-suite.js';
import { storeSuite } from '../unit/geppetto/store-suite.js';
import { postgresHarness } from './helpers/geppetto-harness.js';
import { POSTGRES_TOOLS } from './helpers/postgres.js';
import { describeWithTools } from './tools.js';

describeWithTools(POSTGRES_TOOLS, 'Geppetto store on PostgreSQL', () => {
  const harness = postgresHarness('g');
  storeSuite(harness);
  serviceSuite(harness);
  refreshSuite(harness);
});
