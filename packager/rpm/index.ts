export * from './spec.js';
export * from './writer.js';
export * from './reader.js';
export * from './payload-reader.js';
export * from './version.js';
export * from './dependency.js';
export { type Compression } from './compress.js';
