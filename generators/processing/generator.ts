import { componentGenerator } from '../lib/base.js';

/** `yo kelkoo:processing`: scaffolds a processing component */
export default componentGenerator('processing');
