/**
 * The pure functions the service calls: resolution and the per-server file (geppetto/resolve,
 * geppetto/file.ts, geppetto/state-file.ts), and the repository metadata reader
 * (packager/repo/read-metadata.ts), gathered so the service has one seam to them.
 */
export { affectedServers, checkState, explain, resolveServers } from '../resolve/index.js';
export { buildNodeFile, floatParameters, nodeFileDiff, nodeFileYaml, type NodeFile } from '../file.js';
export { parseState, stringifyState } from '../state-file.js';

export interface RepoPackageEntry {
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  href: string;
  checksum: { type: string; value: string } | string;
  provides: { name: string }[];
}

export interface RepositorySource {
  baseurl: string;
  caFile?: string;
}

export interface RepositoryReader {
  readRepositoryMetadata(options: RepositorySource): Promise<{ packages: RepoPackageEntry[] }>;
  openRepositoryPackage(source: RepositorySource, entry: RepoPackageEntry): Promise<Buffer>;
}

/**
 * The repository metadata reader, loaded by name while it is being written in parallel (it lands
 * as packager/repo/read-metadata.ts); a static import once it is on main.
 */
export async function loadRepositoryReader(): Promise<RepositoryReader> {
  const specifier = ['..', '..', 'packager', 'repo', 'read-metadata.js'].join('/');
  return (await import(specifier)) as RepositoryReader;
}
