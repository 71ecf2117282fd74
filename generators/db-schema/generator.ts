import { componentGenerator } from '../lib/base.js';

/** `yo kelkoo:db-schema`: scaffolds a db-schema component */
export default componentGenerator('db-schema');
