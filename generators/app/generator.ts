import { componentGenerator } from '../lib/base.js';

/** `yo kelkoo`: asks which type, then scaffolds it */
export default componentGenerator(undefined);
