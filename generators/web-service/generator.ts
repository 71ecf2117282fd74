import { componentGenerator } from '../lib/base.js';

/** `yo kelkoo:web-service`: scaffolds a web-service component */
export default componentGenerator('web-service');
