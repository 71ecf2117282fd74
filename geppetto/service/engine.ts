/**
 * The pure functions the service calls: resolution and the per-server file (geppetto/resolve,
 * geppetto/file.ts, geppetto/state-file.ts), and the repository metadata reader
 * (packager/repo/read-metadata.ts), gathered so the service has one seam to them.
 */
export { affectedServers, checkState, explain, resolveServers, Resolver } from '../resolve/index.js';
export { buildNodeFile, floatParameters, nodeFileDiff, nodeFileYaml, type FloatParameters, type NodeFile } from '../file.js';
export { parseState, stringifyState } from '../state-file.js';

export { entryEVR, openRepositoryPackage, readRepositoryMetadata, type RepoPackageEntry, type RepoSource } from '../../packager/repo/read-metadata.js';
