import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import semver from 'semver';
import { ioError, KpkgError } from '../errors.js';
import { conventionFor } from './conventions.js';
import { parseJson } from './json.js';
import { moduleName, PUPPET_RESERVED_CLASS_NAMES } from './names.js';
import { isSystemDir, normaliseSrc, resolveDest } from './paths.js';
import { got, isSemver, isSemverRange, pointerSegment, validateDescriptor } from './schema.js';
import type { Component, ComponentDescriptor, ConfigKey, ConfigKeyType, FileMapping } from './types.js';

/**
 * Reads a component's descriptor and resolves it: component.json checked against the schema and
 * the rules a schema cannot state, package.json's metadata as defaults, then the conventions of
 * the component's type. Every problem is a KpkgError INVALID_DESCRIPTOR naming the file and the
 * JSON pointer of the field.
 */

export const DESCRIPTOR_FILE = 'component.json';
export const PACKAGE_FILE = 'package.json';

/**
 * The RPM License when neither file gives one. Not an SPDX identifier (SPDX has none for "all
 * rights reserved"), but the value in-house RPMs use and rpm tools display as is; rpmlint only
 * checks licenses against a list when its configuration has one, and a Fedora-configured rpmlint
 * flags any proprietary license whatever it is called.
 */
export const DEFAULT_LICENSE = 'Proprietary';

/** The fields of package.json a component uses. */
export interface PackageJson {
  name?: string;
  version?: string;
  description?: string;
  license?: string | { type?: string };
  homepage?: string;
  repository?: string | { url?: string };
  author?: string | { name?: string; email?: string };
  engines?: { node?: string };
  scripts?: Record<string, string>;
}

/** Reads `<dir>/component.json` and `<dir>/package.json` (optional) and resolves the component. */
export async function loadComponent(dir: string): Promise<Component> {
  const root = resolve(dir);
  const descriptorText = await readText(join(root, DESCRIPTOR_FILE), DESCRIPTOR_FILE, true);
  const descriptor = parseJson(descriptorText!, DESCRIPTOR_FILE);
  const packageText = await readText(join(root, PACKAGE_FILE), PACKAGE_FILE, false);
  const packageJson = packageText === undefined ? undefined : parseJson(packageText, PACKAGE_FILE);
  return resolveComponent({ dir: root, descriptor, packageJson });
}

async function readText(path: string, name: string, required: boolean): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      if (!required) return undefined;
      throw new KpkgError('INVALID_DESCRIPTOR', `${name}: not found in ${resolve(path, '..')} (is this a component directory?)`, { cause: err });
    }
    throw ioError('read', path, err);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new KpkgError('INVALID_DESCRIPTOR', `${name}: is not valid UTF-8`, { cause });
  }
}

function invalid(file: string, pointer: string, message: string): KpkgError {
  return new KpkgError('INVALID_DESCRIPTOR', `${file}: ${pointer ? `${pointer}: ` : ''}${message}`);
}

/**
 * The pure part of loadComponent: validates `descriptor` (parsed component.json) and applies
 * package.json's defaults and the type's conventions.
 */
export function resolveComponent(input: { dir: string; descriptor: unknown; packageJson?: unknown }): Component {
  const d = input.descriptor;
  validateDescriptor(d, DESCRIPTOR_FILE);
  checkDescriptor(d);
  const pkg = checkPackageJson(input.packageJson);
  const name = d.name;
  const convention = conventionFor(d.type, name);

  const version = d.version ?? pkg?.version;
  if (version === undefined) {
    throw invalid(DESCRIPTOR_FILE, '/version', `no version: give "version" in ${DESCRIPTOR_FILE} or in ${PACKAGE_FILE}`);
  }

  const prefix = d.prefix ?? `/opt/kelkoo/${name}`;
  const user = d.user ?? name;
  if (d.user === undefined && user.length > 32) {
    throw invalid(DESCRIPTOR_FILE, '/user', `the default user is the name, which is longer than the 32 characters of a system user name: give a shorter "user"`);
  }
  const summary = d.summary ?? summaryFrom(pkg?.description) ?? `${name} ${d.type} component`;
  const pkgDescription = pkg?.description?.trim();

  const component: Component = {
    dir: resolve(input.dir),
    name,
    type: d.type,
    version,
    summary,
    description: d.description ?? (pkgDescription ? pkgDescription : summary),
    license: d.license ?? licenseFrom(pkg?.license) ?? DEFAULT_LICENSE,
    prefix,
    module: moduleName(name),
    user,
    group: d.group ?? user,
    configDir: `/etc/kelkoo/${name}`,
    logDir: `/var/log/kelkoo/${name}`,
    files: (d.files ?? []).map((m) => resolveMapping(m, prefix)),
    requires: { ...d.requires },
    recommends: { ...d.recommends },
    conflicts: { ...d.conflicts },
    obsoletes: { ...d.obsoletes },
    provides: { ...d.provides },
    cron: (d.cron ?? []).map((c) => ({ ...c })),
    configKeys: mergeConfigKeys(d, convention.configKeys),
    service: convention.service,
    hasBuildScript: typeof pkg?.scripts?.build === 'string' && pkg.scripts.build.trim() !== '',
  };
  const url = d.url ?? urlFrom(pkg);
  if (url !== undefined) component.url = url;
  if (d.vendor !== undefined) component.vendor = d.vendor;
  const packager = packagerFrom(pkg?.author);
  if (packager !== undefined) component.packager = packager;
  if (d.release !== undefined) component.release = d.release;
  if (pkg?.engines?.node !== undefined) component.nodeEngine = pkg.engines.node;
  return component;
}

/** The rules of component.json that JSON Schema cannot state, in the order of its fields. */
function checkDescriptor(d: ComponentDescriptor): void {
  const fail = (pointer: string, message: string) => invalid(DESCRIPTOR_FILE, pointer, message);
  const bad = unwritableText(d, '');
  if (bad) throw fail(bad.pointer, bad.message);
  const module = moduleName(d.name);
  if (PUPPET_RESERVED_CLASS_NAMES.has(module)) {
    throw fail('/name', `"${d.name}" cannot name a Puppet module and class (reserved in Puppet)`);
  }
  if (d.version !== undefined) {
    const reason = rpmVersionProblem(d.version);
    if (reason) throw fail('/version', reason);
  }
  if (d.prefix !== undefined && isSystemDir(d.prefix)) {
    throw fail('/prefix', `must be the component's own directory, not the shared ${d.prefix}`);
  }
  const prefix = d.prefix ?? `/opt/kelkoo/${d.name}`;
  (d.files ?? []).forEach((m, i) => {
    const src = normaliseSrc(m.src);
    if (!src.ok) throw fail(`/files/${i}/src`, `${src.reason}${got(m.src)}`);
    const dest = resolveDest(prefix, m.dest);
    if (!dest.ok) throw fail(`/files/${i}/dest`, `${dest.reason}${got(m.dest)}`);
  });
  if (d.cron !== undefined && d.cron.length > 0 && !conventionFor(d.type, d.name).cron) {
    throw fail('/cron', `only a processing component has cron entries (this one is ${d.type})`);
  }
  const conventional = conventionFor(d.type, d.name).configKeys;
  for (const [key, spec] of Object.entries(d.config?.keys ?? {})) {
    const at = `/config/keys/${pointerSegment(key)}`;
    const convention = conventional[key];
    if (convention && spec.type !== convention.type) {
      throw fail(`${at}/type`, `a ${d.type} component's ${key} is ${convention.type}, as its runtime contract says (got "${spec.type}")`);
    }
    if (convention?.secret && spec.secret === false) {
      throw fail(`${at}/secret`, `a ${d.type} component's ${key} is always secret`);
    }
    if (spec.secret === true && spec.type !== 'String') {
      throw fail(`${at}/secret`, `only a String key can be secret (this one is ${spec.type})`);
    }
    if (spec.default !== undefined) {
      const reason = defaultProblem(spec.type, spec.default);
      if (reason) throw fail(`${at}/default`, reason);
    }
  }
}

/**
 * The first string (value or property name) no file kpkg writes can hold: one with a NUL, or with
 * a lone UTF-16 surrogate (JSON can spell one as "\ud800", UTF-8 cannot encode it). The schema
 * refuses control characters in most fields; this covers the free ones (config key defaults and
 * descriptions) and the surrogates everywhere.
 */
function unwritableText(value: unknown, pointer: string): { pointer: string; message: string } | undefined {
  if (typeof value === 'string') {
    if (value.includes('\0')) return { pointer, message: `must not contain NUL characters${got(value)}` };
    const lone = /\p{Cs}/u.exec(value);
    if (lone) return { pointer, message: `contains a lone UTF-16 surrogate (at index ${lone.index}), which UTF-8 cannot hold` };
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, v] of Object.entries(value)) {
    const at = `${pointer}/${pointerSegment(key)}`;
    const problem = unwritableText(key, at) ?? unwritableText(v, at);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * Why a semver cannot become an RPM version, if it cannot: the prerelease becomes `~prerelease`
 * and build metadata stays `+build`, and RPM versions cannot hold '-'.
 */
export function rpmVersionProblem(version: string): string | undefined {
  const parsed = semver.parse(version);
  if (!parsed) return `must be a semantic version like 1.4.0${got(version)}`;
  const pre = parsed.prerelease.join('.');
  if (pre.includes('-')) return `prerelease "${pre}" contains '-', which an RPM version cannot hold (write it with '.', like "${pre.replace(/-/g, '.')}")`;
  const build = parsed.build.join('.');
  if (build.includes('-')) return `build metadata "${build}" contains '-', which an RPM version cannot hold`;
  return undefined;
}

const TYPE_CHECKS: Record<ConfigKeyType, { ok: (v: unknown) => boolean; what: string }> = {
  String: { ok: (v) => typeof v === 'string', what: 'a string' },
  Integer: { ok: (v) => typeof v === 'number' && Number.isSafeInteger(v), what: 'an integer' },
  Float: { ok: (v) => typeof v === 'number' && Number.isFinite(v), what: 'a number' },
  Boolean: { ok: (v) => typeof v === 'boolean', what: 'true or false' },
  'Array[String]': { ok: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'), what: 'an array of strings' },
  'Hash[String, String]': {
    ok: (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string'),
    what: 'an object of string values',
  },
};

function defaultProblem(type: ConfigKeyType, value: unknown): string | undefined {
  const check = TYPE_CHECKS[type];
  if (check.ok(value)) return undefined;
  return `must be ${check.what} to match the key's type ${type}${got(value)}`;
}

function mergeConfigKeys(d: ComponentDescriptor, conventional: Record<string, ConfigKey>): Record<string, ConfigKey> {
  const own = d.config?.keys ?? {};
  const keys: Record<string, ConfigKey> = {};
  for (const [key, spec] of Object.entries(conventional)) keys[key] = { ...spec, ...own[key] };
  for (const [key, spec] of Object.entries(own)) if (!(key in keys)) keys[key] = { ...spec };
  return keys;
}

function resolveMapping(m: FileMapping, prefix: string): FileMapping {
  const src = normaliseSrc(m.src);
  const dest = resolveDest(prefix, m.dest);
  /* c8 ignore next */
  if (!src.ok || !dest.ok) throw new KpkgError('INTERNAL', 'file mapping not checked');
  const resolved: FileMapping = {
    ...m,
    src: src.path,
    // a final '/' keeps its meaning: "into this directory, under the file's own name"
    dest: dest.intoDirectory && dest.path !== '/' ? `${dest.path}/` : dest.path,
  };
  if (m.mode !== undefined) resolved.mode = typeof m.mode === 'number' ? m.mode : parseInt(m.mode, 8);
  return resolved;
}

/** The first line of package.json's description, as rpm's one-line summary. */
function summaryFrom(description: string | undefined): string | undefined {
  const line = description?.trim().split(/\r?\n/)[0]?.trim();
  // rpmlint: summary-ended-with-dot
  const summary = line?.replace(/\.$/, '').trim();
  return summary ? summary : undefined;
}

/** npm's license field as an RPM License: "UNLICENSED" and "SEE LICENSE IN ..." are proprietary. */
function licenseFrom(license: PackageJson['license']): string | undefined {
  const value = typeof license === 'string' ? license : license?.type;
  if (value === undefined || value.trim() === '') return undefined;
  if (value === 'UNLICENSED' || /^SEE LICEN[CS]E IN /i.test(value)) return DEFAULT_LICENSE;
  return value.trim();
}

function urlFrom(pkg: PackageJson | undefined): string | undefined {
  if (pkg?.homepage) return pkg.homepage;
  const repo = typeof pkg?.repository === 'string' ? pkg.repository : pkg?.repository?.url;
  // git+https://host/x.git -> https://host/x; other forms (shorthands, ssh) are not URLs rpm shows
  const https = repo?.replace(/^git\+/, '').replace(/\.git$/, '');
  return https && /^https?:\/\/\S+$/.test(https) ? https : undefined;
}

/** package.json's author as rpm's Packager: "Name <email>". */
function packagerFrom(author: PackageJson['author']): string | undefined {
  if (typeof author === 'string') return author.trim() || undefined;
  if (!author?.name) return undefined;
  return author.email ? `${author.name} <${author.email}>` : author.name;
}

/** The package.json fields used, checked enough that a wrong one is named rather than misused. */
function checkPackageJson(data: unknown): PackageJson | undefined {
  if (data === undefined) return undefined;
  const fail = (pointer: string, message: string) => invalid(PACKAGE_FILE, pointer, message);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw fail('', `must be a JSON object${got(data)}`);
  const pkg = data as Record<string, unknown>;
  const oneLine = /^[^\u0000-\u001f\u007f]*$/;
  for (const field of ['version', 'description', 'homepage'] as const) {
    if (pkg[field] !== undefined && typeof pkg[field] !== 'string') throw fail(`/${field}`, `must be a string${got(pkg[field])}`);
  }
  if (typeof pkg.version === 'string') {
    if (!isSemver(pkg.version)) throw fail('/version', `must be a semantic version like 1.4.0${got(pkg.version)}`);
    const reason = rpmVersionProblem(pkg.version);
    if (reason) throw fail('/version', reason);
  }
  if (typeof pkg.description === 'string' && pkg.description.includes('\u0000')) throw fail('/description', 'must not contain NUL characters');
  if (typeof pkg.homepage === 'string' && !/^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+$/.test(pkg.homepage)) {
    throw fail('/homepage', `must be a URL${got(pkg.homepage)}`);
  }
  const license = typeof pkg.license === 'object' && pkg.license !== null ? (pkg.license as { type?: unknown }).type : pkg.license;
  if (license !== undefined && (typeof license !== 'string' || !oneLine.test(license))) {
    throw fail('/license', `must be one line of text${got(license)}`);
  }
  const author = pkg.author;
  if (typeof author === 'string') {
    if (!oneLine.test(author)) throw fail('/author', `must be one line of text${got(author)}`);
  } else if (typeof author === 'object' && author !== null && !Array.isArray(author)) {
    for (const f of ['name', 'email'] as const) {
      const v = (author as Record<string, unknown>)[f];
      if (v !== undefined && (typeof v !== 'string' || !oneLine.test(v))) throw fail(`/author/${f}`, `must be one line of text${got(v)}`);
    }
  } else if (author !== undefined) {
    throw fail('/author', `must be a string or an object with name and email${got(author)}`);
  }
  const engines = pkg.engines;
  if (engines !== undefined) {
    if (typeof engines !== 'object' || engines === null || Array.isArray(engines)) throw fail('/engines', `must be a JSON object${got(engines)}`);
    const node = (engines as Record<string, unknown>).node;
    if (node !== undefined && (typeof node !== 'string' || !isSemverRange(node))) {
      throw fail('/engines/node', `must be a semver range like ">=20.17"${got(node)}`);
    }
  }
  const scripts = pkg.scripts;
  if (scripts !== undefined && (typeof scripts !== 'object' || scripts === null || Array.isArray(scripts))) {
    throw fail('/scripts', `must be a JSON object${got(scripts)}`);
  }
  return pkg;
}
