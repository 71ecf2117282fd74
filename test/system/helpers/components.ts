// Components for the system tests of `kpkg build`: copies of the example components in temporary
// directories (edited as a test needs), the compiled CLI run on them (`kpkg build --json`), and the
// built packages opened with the real rpm2cpio and cpio.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildResult, BuiltArtifact } from '../../../packager/assemble/build.js';
import { run, runBufferOk, runOk, tmpDir, type RunOptions, type RunResult } from '../tools.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The compiled CLI; `npm run test:system` builds it first (`npm run build`). */
export const KPKG = join(REPO_ROOT, 'dist', 'bin', 'kpkg.js');
export const FIXTURE_COMPONENTS = join(REPO_ROOT, 'test', 'fixtures', 'components');
export const EXAMPLES = join(REPO_ROOT, 'examples');

/** The SOURCE_DATE_EPOCH the builds of these tests use (2023-11-14T22:13:20Z). */
export const SOURCE_DATE_EPOCH = 1_700_000_000;

/** `node dist/bin/kpkg.js ...`; throws when the CLI has not been compiled. */
export function kpkg(args: readonly string[], opts: RunOptions = {}): RunResult {
  if (!existsSync(KPKG)) throw new Error(`${KPKG} is missing: run npm run build first (npm run test:system does)`);
  return run(process.execPath, [KPKG, ...args], { timeout: 120_000, ...opts });
}

/** A copy of the component directory `src` in a new temporary directory, as `<tmp>/<name>`. */
export function copyComponent(src: string, name = src.split('/').pop() ?? 'component'): string {
  const dir = join(tmpDir(`component-${name}`), name);
  cpSync(src, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

export type Json = Record<string, unknown>;

export function readJson(file: string): Json {
  return JSON.parse(readFileSync(file, 'utf8')) as Json;
}

/** Rewrites a JSON file with what `edit` returns (or the object it changed in place). */
export function editJson(file: string, edit: (json: Json) => Json | void): void {
  const json = existsSync(file) ? readJson(file) : {};
  writeFileSync(file, `${JSON.stringify(edit(json) ?? json, null, 2)}\n`);
}

/** Writes files under `dir`: a string is the body, anything else is written as JSON. */
export function writeTree(dir: string, files: Record<string, string | object>): void {
  for (const [rel, body] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`);
  }
}

export interface Built {
  json: BuildResult;
  output: string;
  /** The application RPM, the deployment RPM and the sources tarball (absolute paths). */
  app: string;
  deploy: string;
  sources: string;
}

export interface BuildOptions {
  output?: string;
  skipBuild?: boolean;
  release?: string;
  /** Default SOURCE_DATE_EPOCH above; `null` to build without it. */
  sourceDateEpoch?: number | null;
}

/** `kpkg build <dir> --output <output> --json`; throws unless it exits 0 with one of each artefact. */
export function kpkgBuild(dir: string, opts: BuildOptions = {}): Built {
  const output = opts.output ?? join(tmpDir('build-output'), 'target');
  const args = ['build', dir, '--output', output, '--json'];
  if (opts.skipBuild) args.push('--skip-build');
  if (opts.release !== undefined) args.push('--release', opts.release);
  const epoch = opts.sourceDateEpoch === undefined ? SOURCE_DATE_EPOCH : opts.sourceDateEpoch;
  const res = kpkg(args, { env: { SOURCE_DATE_EPOCH: epoch === null ? undefined : String(epoch) } });
  if (res.status !== 0) throw new Error(`kpkg ${args.join(' ')} exited with ${res.status}\n--- stderr\n${res.stderr}\n--- stdout\n${res.stdout}`);
  const json = JSON.parse(res.stdout) as BuildResult;
  const file = (role: BuiltArtifact['role']) => {
    const found = json.artifacts.filter((a) => a.role === role);
    if (found.length !== 1) throw new Error(`kpkg build --json names ${found.length} ${role} artefacts:\n${res.stdout}`);
    return found[0]!.file;
  };
  return { json, output, app: file('application'), deploy: file('deployment'), sources: file('sources') };
}

/** Extracts every file of `rpm` under `into` (rpm2cpio | cpio -idm); returns `into`. */
export function extractRpm(rpm: string, into = tmpDir('extract')): string {
  const cpio = runBufferOk('rpm2cpio', [rpm]).stdout;
  runOk('cpio', ['-idm', '--quiet', '--no-absolute-filenames'], { cwd: into, input: cpio });
  return into;
}

/** The body of one file of `rpm`, by its install path, as rpm2cpio | cpio prints it. */
export function rpmFileText(rpm: string, path: string): string {
  const cpio = runBufferOk('rpm2cpio', [rpm]).stdout;
  const out = runBufferOk('cpio', ['-i', '--quiet', '--to-stdout', `.${path}`], { input: cpio }).stdout;
  return out.toString('utf8');
}
