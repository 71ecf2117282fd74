/**
 * What a package is made of, as the writer takes it: the package's metadata, its dependencies,
 * scripts, changelog and files; and the checks a spec must pass before anything is written.
 */
import { KpkgError } from '../errors.js';
import type { Compression } from './compress.js';
import { validateDependency } from './dependency.js';
import { DEPENDENCY_KINDS } from './tags.js';

const UINT32_MAX = 0xffffffff;

export type FileKind = 'file' | 'dir' | 'symlink';

export interface PackageFile {
  /** Absolute install path, normalised: `/opt/kelkoo/shop/bin/shop`. */
  path: string;
  kind: FileKind;
  /** Permission bits (07777). Defaults: 0644 files, 0755 directories, 0777 symlinks. */
  mode?: number;
  user?: string;
  group?: string;
  /** Seconds since the epoch; replaced by SOURCE_DATE_EPOCH when that is set. */
  mtime?: number;
  /** For `file`: where to read the body from... */
  source?: string;
  /** ...or the body itself (small generated files: launchers, units). */
  content?: Buffer | string;
  /** For `symlink`: the target, kept as written. */
  target?: string;
  config?: boolean;
  noreplace?: boolean;
  missingok?: boolean;
  doc?: boolean;
  license?: boolean;
  ghost?: boolean;
  lang?: string;
}

export interface DependencySpec {
  name: string;
  flags?: number;
  version?: string;
}

export type ScriptName = 'pretrans' | 'pre' | 'post' | 'preun' | 'postun' | 'posttrans';

export interface Script {
  body: string;
  /** Default `/bin/sh`. */
  interpreter?: string;
}

export interface ChangelogEntry {
  /** Seconds since the epoch. */
  time: number;
  /** `Name <email> - version-release`, as in a spec file. */
  author: string;
  text: string;
}

export interface PackageSpec {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  arch?: string;
  os?: string;
  summary: string;
  description: string;
  license: string;
  group?: string;
  url?: string;
  vendor?: string;
  packager?: string;
  distribution?: string;
  bugUrl?: string;
  buildHost?: string;
  sourceRpm?: string;
  prefixes?: string[];
  provides?: DependencySpec[];
  requires?: DependencySpec[];
  conflicts?: DependencySpec[];
  obsoletes?: DependencySpec[];
  recommends?: DependencySpec[];
  suggests?: DependencySpec[];
  supplements?: DependencySpec[];
  enhances?: DependencySpec[];
  scripts?: Partial<Record<ScriptName, Script | string>>;
  changelog?: ChangelogEntry[];
  files: PackageFile[];
}

export interface WriteOptions {
  compression?: Compression;
  level?: number;
  /** Seconds; defaults to the SOURCE_DATE_EPOCH environment variable when set. */
  sourceDateEpoch?: number;
  /**
   * A package with a file of this many bytes or more is written in rpm's large-file format
   * (stripped cpio entries, LONGFILESIZES, rpmlib(LargeFiles)). Default: what a cpio newc header
   * cannot state (NEWC_MAX_SIZE, 4 GiB - 1), as rpmbuild decides. Lowered only by tests, so that
   * the large-file path runs without writing 4 GiB; rpm reads either format for any size.
   */
  largeFileThreshold?: number;
  /** Told after each file goes into the payload (files and bytes so far, of the totals). */
  onProgress?: (p: PayloadProgress) => void;
}

export interface PayloadProgress {
  files: number;
  totalFiles: number;
  bytes: number;
  totalBytes: number;
}

export interface WrittenPackage {
  path: string;
  fileName: string;
  size: number;
  nevra: string;
  payloadSize: number;
  archiveSize: number;
}

export function packageFileName(spec: Pick<PackageSpec, 'name' | 'version' | 'release' | 'arch'>): string {
  return `${spec.name}-${spec.version}-${spec.release}.${spec.arch ?? 'noarch'}.rpm`;
}

export function nevraOf(spec: Pick<PackageSpec, 'name' | 'version' | 'release' | 'arch' | 'epoch'>): string {
  const e = spec.epoch ? `${spec.epoch}:` : '';
  return `${spec.name}-${e}${spec.version}-${spec.release}.${spec.arch ?? 'noarch'}`;
}

export function sourceDateEpochFromEnv(): number | undefined {
  const raw = process.env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new KpkgError('INVALID_INPUT', `SOURCE_DATE_EPOCH must be a number of seconds, found ${JSON.stringify(raw)}`);
  return Number(raw);
}

const NAME_RE = /^[A-Za-z0-9_+][A-Za-z0-9._+-]*$/;
const VERSION_RE = /^[A-Za-z0-9._+~^]+$/;

export function validateSpec(spec: PackageSpec): void {
  const bad = (field: string, why: string) => {
    throw new KpkgError('INVALID_INPUT', `package ${field}: ${why}`);
  };
  if (!NAME_RE.test(spec.name)) bad('name', `${JSON.stringify(spec.name)} is not a valid RPM name`);
  if (!VERSION_RE.test(spec.version)) bad('version', `${JSON.stringify(spec.version)} may only contain letters, digits and . _ + ~ ^`);
  if (!VERSION_RE.test(spec.release)) bad('release', `${JSON.stringify(spec.release)} may only contain letters, digits and . _ + ~ ^`);
  if (spec.epoch !== undefined && (!Number.isInteger(spec.epoch) || spec.epoch < 0 || spec.epoch > UINT32_MAX)) bad('epoch', 'must be a non-negative integer');
  if (spec.arch !== undefined && !/^[A-Za-z0-9_]+$/.test(spec.arch)) bad('arch', `${JSON.stringify(spec.arch)} is not an architecture`);
  for (const field of ['summary', 'license'] as const) {
    if (!spec[field] || /[\0\n\r]/.test(spec[field])) bad(field, 'must be one non-empty line');
  }
  if (spec.description.includes('\0')) bad('description', 'may not contain NUL');
  for (const kind of DEPENDENCY_KINDS) {
    for (const dep of spec[kind] ?? []) {
      try {
        validateDependency({ name: dep.name, flags: dep.flags ?? 0, version: dep.version ?? '' });
      } catch (e) {
        bad(kind, e instanceof Error ? e.message : String(e));
      }
    }
  }
}
