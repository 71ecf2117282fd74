// What yo finds (generators/<name>/index.js); the generator is compiled from generator.ts by
// `npm run build` into dist/ (tsc does not emit beside its sources, and Node cannot load .ts).
export { default } from '../../dist/generators/web-service/generator.js';
