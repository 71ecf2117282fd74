/**
 * kpkg build: component.json -> the application RPM, the deployment RPM and the sources tarball.
 * Everything is written into a staging directory inside the output directory and renamed into
 * place at the end, so a failed build leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { loadComponent } from '../descriptor/load.js';
import { mapFiles, type MappedFile } from '../descriptor/files.js';
import { pointerSegment } from '../descriptor/schema.js';
import type { Component, FileMapping } from '../descriptor/types.js';
import { KpkgError, ioError } from '../errors.js';
import type { Compression } from '../rpm/compress.js';
import { rpmVersionFromSemver } from './semver-version.js';
import { writeRpm } from '../rpm/writer.js';
import { packageFileName, sourceDateEpochFromEnv, type PackageSpec, type PayloadProgress } from '../rpm/spec.js';
import { applicationSpec, type Launcher } from './application.js';
import { deploymentSpec } from './deployment.js';
import { productionPackages } from './node-deps.js';
import { nativeAddonExcludes } from './native.js';
import { writeSourcesTarball } from './sources.js';
import { removeCreatedDirs, renameAll } from '../util/fs.js';
import { formatBytes, plural, type Progress } from '../util/progress.js';

export interface BuildOptions {
  dir?: string;
  output?: string;
  release?: string;
  skipBuild?: boolean;
  compression?: Compression;
  /** OpenPGP secret key file: both RPMs are signed before they are moved into place */
  signKey?: string;
  /** Progress for a person watching (util/progress.ts); nothing when absent. */
  progress?: Progress;
}

export interface BuiltArtifact {
  role: 'application' | 'deployment' | 'sources';
  file: string;
  name: string;
  nevra?: string;
  size: number;
  sha256: string;
}

export interface BuildResult {
  component: string;
  version: string;
  release: string;
  artifacts: BuiltArtifact[];
}

interface PackageManifest {
  main?: string;
  bin?: string | Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** What a component ships when component.json lists no files: the usual outputs of a Node build. */
const DEFAULT_SOURCES = ['dist', 'lib', 'public', 'views', 'migrations', 'sql', 'package.json'];

const RELEASE_RE = /^[A-Za-z0-9._+~^]+$/;

export async function build(options: BuildOptions = {}): Promise<BuildResult> {
  const dir = resolve(options.dir ?? '.');
  const log = (text: string) => options.progress?.status(text);
  let component = await loadComponent(dir);
  const release = options.release ?? component.release ?? '1';
  if (!RELEASE_RE.test(release)) throw new KpkgError('USAGE', `release ${JSON.stringify(release)}: only letters, digits and . _ + ~ ^ are allowed`);
  const version = rpmVersionFromSemver(component.version);
  // before anything is built, so that a wrong passphrase fails fast; openpgp.js only when needed
  const signer = options.signKey !== undefined ? await import('../sign/index.js') : undefined;
  const signingKey = signer && options.signKey !== undefined ? await signer.loadSigningKey(options.signKey) : undefined;

  if (component.hasBuildScript && !options.skipBuild) {
    log(`running the build script of ${component.name} (npm run build)`);
    await runBuildScript(dir);
    component = await loadComponent(dir);
  }

  const output = resolve(options.output ?? join(dir, 'target'));
  // everything that can reject the component is checked before anything is written
  const { specs } = await planPackages(component, version, release, output);

  let created: string | undefined;
  try {
    created = await mkdir(output, { recursive: true });
  } catch (e) {
    throw ioError('create directory', output, e);
  }
  let staging: string;
  try {
    staging = await mkdtemp(join(output, '.kpkg-build-'));
  } catch (e) {
    await removeCreatedDirs(output, created);
    throw ioError('create a directory in', output, e);
  }
  let done = false;
  try {
    const epoch = sourceDateEpochFromEnv();
    const staged: { role: BuiltArtifact['role']; file: string; name: string; nevra?: string }[] = [];
    for (const [role, spec] of specs) {
      const file = packageFileName(spec);
      log(`writing ${file}`);
      const onProgress = (p: PayloadProgress) =>
        log(`writing ${file}: ${p.files}/${plural(p.totalFiles, 'file')}, ${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)}`);
      const written = await writeRpm(spec, join(staging, file), {
        ...(options.compression ? { compression: options.compression } : {}),
        ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}),
        ...(options.progress ? { onProgress } : {}),
      });
      if (signer && signingKey) {
        log(`signing ${file} with key ${signingKey.keyId}`);
        await signer.signRpm(join(staging, file), signingKey);
      }
      staged.push({ role, file, name: spec.name, nevra: written.nevra });
    }
    const sources = `${component.name}-${component.version}-sources.tar.gz`;
    log(`writing ${sources}`);
    await writeSourcesTarball(dir, `${component.name}-${component.version}`, join(staging, sources), epoch);
    staged.push({ role: 'sources', file: sources, name: component.name });

    const artifacts: BuiltArtifact[] = [];
    for (const s of staged) {
      const from = join(staging, s.file);
      const digest = await sha256File(from);
      artifacts.push({ role: s.role, file: join(output, s.file), name: s.name, ...(s.nevra ? { nevra: s.nevra } : {}), size: (await stat(from)).size, sha256: digest });
    }
    // all written: move them into place together (all or none)
    await renameAll(staged.map((s) => [join(staging, s.file), join(output, s.file)] as const));
    done = true;
    return { component: component.name, version, release, artifacts };
  } finally {
    await rm(staging, { recursive: true, force: true });
    if (!done) await removeCreatedDirs(output, created);
  }
}

export interface PackagePlan {
  /** What the application package installs from the component (its mapping, or the default sources, and its production dependencies). */
  files: MappedFile[];
  launchers: Launcher[];
  specs: [BuiltArtifact['role'], PackageSpec][];
}

/**
 * The two packages of `component`, decided but not written: the file mapping against the disk,
 * the launchers, the application and deployment specs. Throws what `kpkg build` would reject,
 * so `kpkg validate` uses it too.
 */
export async function planPackages(component: Component, version: string, release: string, output: string): Promise<PackagePlan> {
  const dir = component.dir;
  const manifest = readManifest(dir);
  // a native addon ships its binary for this target only (native.ts)
  const dependencies = productionPackages(dir, manifest).map<FileMapping>((path) => ({ src: path, dest: path, exclude: ['node_modules', ...nativeAddonExcludes(join(dir, path))] }));
  const own = component.files.length > 0 ? component.files : DEFAULT_SOURCES.filter((s) => existsSync(join(dir, s))).map((s) => ({ src: s, dest: s }));
  const files = await mapFiles({ ...component, files: [...own.map((m) => excludeOutput(dir, m, output)), ...dependencies] });
  const launchers = launchersOf(component, manifest, files);
  const arch = files.some((f) => f.dest.endsWith('.node')) ? rpmArch() : 'noarch';
  return {
    files,
    launchers,
    specs: [
      ['application', applicationSpec({ component, version, release, files, launchers, arch })],
      ['deployment', deploymentSpec(component, version, release)],
    ],
  };
}

/** A mapping whose directory holds the output directory (`src: "."`) must not package earlier builds. */
function excludeOutput(dir: string, mapping: FileMapping, output: string): FileMapping {
  const rel = relative(resolve(dir, mapping.src), output);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return mapping;
  return { ...mapping, exclude: [...(mapping.exclude ?? []), `/${rel.split(sep).join('/')}`] };
}

function readManifest(dir: string): PackageManifest {
  const path = join(dir, 'package.json');
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PackageManifest;
  } catch (e) {
    throw new KpkgError('INVALID_DESCRIPTOR', `${path}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * One launcher per `bin` entry of package.json, else one for `main` named after the component
 * (`<name>-migrate` for a db-schema). The launcher runs the entry where the file mapping installs
 * it. A declared entry that the package does not contain is an error; the default entry
 * (`dist/index.js`) missing just means the component has nothing for node to launch.
 */
export function launchersOf(c: Component, manifest: PackageManifest, files: MappedFile[]): Launcher[] {
  const declared: [string, string, string][] = []; // name, entry, JSON pointer in package.json
  if (typeof manifest.bin === 'string') declared.push([c.name, manifest.bin, '/bin']);
  else for (const [name, entry] of Object.entries(manifest.bin ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) declared.push([name, entry, `/bin/${pointerSegment(name)}`]);
  if (declared.length === 0 && manifest.main) declared.push([c.name, manifest.main, '/main']);
  const explicit = declared.length > 0;
  if (!explicit) declared.push([c.type === 'db-schema' ? `${c.name}-migrate` : c.name, 'dist/index.js', '/main']);

  const installed = new Map(files.filter((f) => f.src !== undefined && f.kind === 'file').map((f) => [f.src as string, f.dest]));
  const launchers: Launcher[] = [];
  for (const [name, entry, pointer] of declared) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name)) throw new KpkgError('INVALID_DESCRIPTOR', `package.json: ${pointer}: ${JSON.stringify(name)} is not a usable command name`);
    const dest = installed.get(resolve(c.dir, entry));
    if (dest === undefined) {
      if (!explicit) continue;
      throw new KpkgError('INVALID_DESCRIPTOR', `package.json: ${pointer}: ${entry} is not in the package; map it in component.json's files`);
    }
    if (!dest.startsWith(`${c.prefix}/`)) throw new KpkgError('INVALID_DESCRIPTOR', `package.json: ${pointer}: ${entry} is installed as ${dest}, outside the prefix ${c.prefix}`);
    launchers.push({ name, entry: dest.slice(c.prefix.length + 1) });
  }
  return launchers;
}

function rpmArch(): string {
  const map: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ppc64: 'ppc64le', s390x: 's390x', ia32: 'i686' };
  return map[process.arch] ?? process.arch;
}

async function runBuildScript(dir: string): Promise<void> {
  // the build script's tools (tsc...) are among them: without them it fails with "tsc: not found"
  const manifest = readManifest(dir);
  const declared = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
  if (declared.length > 0 && !existsSync(join(dir, 'node_modules'))) {
    throw new KpkgError('TOOL', `the dependencies of ${dir} are not installed (no node_modules): run npm install (or npm ci) there first; --skip-build packages what is there without building`);
  }
  // the build's own output goes to stderr, so that stdout stays clean for --json
  const child = spawn('npm', ['run', 'build'], { cwd: dir, stdio: ['ignore', 2, 2] });
  const code = await new Promise<number | null>((resolvePromise, reject) => {
    child.on('error', (e) => reject(new KpkgError('TOOL', `cannot run npm run build in ${dir} (${e.message})`, { cause: e })));
    child.on('close', resolvePromise);
  });
  if (code !== 0) throw new KpkgError('TOOL', `the build script of ${dir} failed (npm run build exited with ${code ?? 'a signal'}); use --skip-build to package what is there`);
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
