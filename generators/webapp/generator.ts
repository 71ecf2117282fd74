import { componentGenerator } from '../lib/base.js';

/** `yo kelkoo:webapp`: scaffolds a webapp component */
export default componentGenerator('webapp');
