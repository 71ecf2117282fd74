/**
 * The pure functions the service calls: resolution and the per-server file (geppetto/resolve,
 * geppetto/file.ts, geppetto/state-file.ts) and the repository metadata reader
 * (packager/repo/read-metadata.ts). They are gathered here so the service has one seam to them.
 */
import type { Catalog, Problem, ResolvedServer, SecretRef, State, Value } from '../model.js';

/** The per-server file as an object (schema/node.schema.json). */
export type NodeFile = Record<string, unknown>;

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

export interface Engine {
  checkState(state: State): Problem[];
  resolveServers(state: State, catalog: Catalog, servers?: Iterable<string>): ResolvedServer[];
  explain(resolved: ResolvedServer, key?: string): string;
  affectedServers(before: State, after: State): Iterable<string>;
  buildNodeFile(resolved: ResolvedServer, state: State, revision: number, reveal: (ref: SecretRef) => Value): NodeFile;
  nodeFileYaml(file: NodeFile): string;
  nodeFileDiff(before: NodeFile | undefined, after: NodeFile | undefined, mask: (ref: SecretRef) => Value): string;
  parseState(text: string): State;
  stringifyState(state: State): string;
}

export interface RepositoryReader {
  readRepositoryMetadata(options: { baseurl: string; caFile?: string }): Promise<{ packages: RepoPackageEntry[] }>;
  openRepositoryPackage(source: { baseurl: string; caFile?: string }, entry: RepoPackageEntry): Promise<Buffer>;
}

// The modules are loaded by name while they are being written in parallel; once they are on main
// these become static imports.
async function load<T>(specifier: string): Promise<T> {
  return (await import(specifier)) as T;
}

let engine: Promise<Engine> | undefined;
export function loadEngine(): Promise<Engine> {
  engine ??= Promise.all([
    load<Pick<Engine, 'checkState' | 'resolveServers' | 'explain' | 'affectedServers'>>('../resolve/index.js'),
    load<Pick<Engine, 'buildNodeFile' | 'nodeFileYaml' | 'nodeFileDiff'>>('../file.js'),
    load<Pick<Engine, 'parseState' | 'stringifyState'>>('../state-file.js'),
  ]).then(([resolve, file, stateFile]) => ({ ...resolve, ...file, ...stateFile }));
  return engine;
}

export function loadRepositoryReader(): Promise<RepositoryReader> {
  return load<RepositoryReader>('../../packager/repo/read-metadata.js');
}
