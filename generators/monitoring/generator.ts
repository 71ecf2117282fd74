import { componentGenerator } from '../lib/base.js';

/** `yo kelkoo:monitoring`: scaffolds a monitoring component */
export default componentGenerator('monitoring');
