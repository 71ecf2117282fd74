import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, posix } from 'node:path';
import picomatch from 'picomatch';
import { ioError, KpkgError } from '../errors.js';
import { hasControlCharacter, isInside, isSystemDir, MAX_PATH_BYTES, normaliseSrc, resolveDest } from './paths.js';
import type { Component, FileMapping } from './types.js';

/**
 * The `files` of a component turned into the list of what its package installs: one entry per
 * file, directory and symbolic link, with the directories the package owns, sorted by install
 * path. Knows nothing of RPM: the builder turns these into headers and a payload.
 */

export interface MappedFile {
  /** Absolute path on disk; absent for directories the package owns without a source. */
  src?: string;
  /** Absolute install path. */
  dest: string;
  kind: 'file' | 'dir' | 'symlink';
  /** Permission bits (0..0o7777), without the file type. */
  mode: number;
  /** A symlink's target exactly as stored on disk. */
  target?: string;
  /** `%config(noreplace)` */
  config?: boolean;
  user?: string;
  group?: string;
}

const DEFAULT_DIR_MODE = 0o755;
const SYMLINK_MODE = 0o777;
/** Never packaged, wherever it is in a directory mapping. */
const ALWAYS_EXCLUDED = new Set(['.git']);
const NAME_MAX_BYTES = 255;

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Owned {
  entry: MappedFile;
  /** The mapping that produced the entry, as a JSON pointer (`/files/2`), for error messages. */
  origin: string;
}

function invalid(pointer: string, message: string): KpkgError {
  return new KpkgError('INVALID_DESCRIPTOR', `component.json: ${pointer}: ${message}`);
}

/** Resolves `component.files` against the disk. Throws KpkgError INVALID_DESCRIPTOR naming `/files/N/...`. */
export async function mapFiles(component: Component): Promise<MappedFile[]> {
  const root = await realpath(component.dir).catch((err: unknown) => {
    throw ioError('read the component directory', component.dir, err);
  });
  const table = new Map<string, Owned>();
  const roots = new Map([
    [component.prefix, 'install root (prefix)'],
    [component.configDir, 'configuration directory'],
    [component.logDir, 'log directory'],
  ]);
  for (const [i, mapping] of component.files.entries()) {
    await mapOne(component, root, mapping, `/files/${i}`, table);
  }
  for (const [path, label] of roots) {
    const owned = table.get(path);
    if (owned && owned.entry.kind !== 'dir') throw invalid(`${owned.origin}/dest`, `${path} is the component's ${label}, it cannot be a ${kindName(owned.entry)}`);
  }
  addParents(table, (entry, dir, existing, origin) =>
    invalid(`${origin}/dest`, `installs ${entry.dest} inside ${dir}, which ${existing.origin} installs as a ${kindName(existing.entry)}`),
  );
  return sortByDest([...table.values()].map((o) => o.entry));
}

async function mapOne(
  component: Component,
  root: string,
  m: FileMapping,
  at: string,
  table: Map<string, Owned>,
): Promise<void> {
  const src = normaliseSrc(m.src);
  if (!src.ok) throw invalid(`${at}/src`, `${src.reason} (got ${JSON.stringify(m.src)})`);
  const dest = resolveDest(component.prefix, m.dest);
  if (!dest.ok) throw invalid(`${at}/dest`, `${dest.reason} (got ${JSON.stringify(m.dest)})`);
  const mode = parseMode(m.mode, `${at}/mode`);
  // from the resolved directory: with src "." and a component directory reached through a link,
  // lstat must see the directory, not the link
  const abs = src.path === '.' ? root : join(root, src.path);
  const shown = JSON.stringify(m.src);

  let st: Stats;
  try {
    st = await lstat(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw invalid(`${at}/src`, `${shown} does not exist in ${component.dir}`);
    throw ioError('read', abs, err);
  }
  let real: string;
  try {
    real = await realpath(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw invalid(`${at}/src`, `${shown} is a symbolic link to ${JSON.stringify(await readlink(abs).catch(() => '?'))}, which does not exist`);
    if (code === 'ELOOP') throw invalid(`${at}/src`, `${shown} is a loop of symbolic links`);
    throw ioError('resolve', abs, err);
  }
  if (!isInside(real, root)) {
    throw invalid(`${at}/src`, `${shown} resolves to ${real}, outside the component directory (only files of the component can be packaged)`);
  }
  checkDestLength(dest.path, `${at}/dest`);
  const owner = ownerOf(m);
  const add = (entry: MappedFile) => addEntry(table, { entry, origin: at });

  if (st.isDirectory()) {
    if (!isSystemDir(dest.path)) add({ src: abs, dest: dest.path, kind: 'dir', mode: DEFAULT_DIR_MODE, ...owner });
    const excluded = exclusionMatcher(m.exclude ?? [], `${at}/exclude`);
    await walk({ dir: abs, dest: dest.path, rel: '', at, srcShown: src.path, excluded, mode, config: m.config === true, owner, add });
    return;
  }
  if (m.exclude !== undefined && m.exclude.length > 0) throw invalid(`${at}/exclude`, `only applies when src is a directory (${shown} is not)`);
  const finalDest = dest.intoDirectory ? posix.join(dest.path, posix.basename(src.path)) : dest.path;
  checkDestLength(finalDest, `${at}/dest`);
  if (isSystemDir(finalDest)) {
    throw invalid(`${at}/dest`, `${finalDest} is a shared system directory: give the file's full path, or end dest with "/" to keep its name`);
  }
  if (st.isSymbolicLink()) {
    if (m.mode !== undefined) throw invalid(`${at}/mode`, `${shown} is a symbolic link, which has no mode of its own`);
    add({ src: abs, dest: finalDest, kind: 'symlink', mode: SYMLINK_MODE, target: await linkTarget(abs, src.path, `${at}/src`), ...owner });
  } else if (st.isFile()) {
    add(fileEntry(abs, finalDest, st, mode, m.config === true, owner));
  } else {
    throw invalid(`${at}/src`, `${shown} is ${specialKind(st)}; only files, directories and symbolic links can be packaged`);
  }
}

interface WalkContext {
  dir: string;
  dest: string;
  /** Path relative to the mapping's src, '' at its root. */
  rel: string;
  at: string;
  srcShown: string;
  excluded: (rel: string, isDir: boolean) => boolean;
  mode: number | undefined;
  config: boolean;
  owner: { user?: string; group?: string };
  add: (entry: MappedFile) => void;
}

/** Maps a directory's contents; symbolic links are entries, never followed. */
async function walk(ctx: WalkContext): Promise<void> {
  let raw: Buffer[];
  try {
    raw = await readdir(ctx.dir, { encoding: 'buffer' });
  } catch (err) {
    throw ioError('read the directory', ctx.dir, err);
  }
  raw.sort((a, b) => Buffer.compare(a, b));
  const stats = await Promise.all(
    raw.map((bytes) => {
      const path = Buffer.concat([Buffer.from(`${ctx.dir}/`), bytes]);
      return lstat(path).catch((err: unknown) => {
        throw ioError('read', path.toString(), err);
      });
    }),
  );
  for (const [i, bytes] of raw.entries()) {
    const st = stats[i]!;
    // a name excluded from the package may be anything; one packaged must survive rpm's file lists
    const lossy = bytes.toString('utf8');
    const lossyRel = ctx.rel ? `${ctx.rel}/${lossy}` : lossy;
    if (ALWAYS_EXCLUDED.has(lossy) || ctx.excluded(lossyRel, st.isDirectory())) continue;
    const name = decodeName(bytes, ctx);
    const rel = ctx.rel ? `${ctx.rel}/${name}` : name;
    const abs = join(ctx.dir, name);
    const dest = ctx.dest === '/' ? `/${name}` : `${ctx.dest}/${name}`;
    const shown = JSON.stringify(posix.join(ctx.srcShown, rel));
    checkDestLength(dest, `${ctx.at}/src`, shown);
    if (st.isSymbolicLink()) {
      const target = await linkTarget(abs, posix.join(ctx.srcShown, rel), `${ctx.at}/src`);
      ctx.add({ src: abs, dest, kind: 'symlink', mode: SYMLINK_MODE, target, ...ctx.owner });
    } else if (st.isDirectory()) {
      if (!isSystemDir(dest)) ctx.add({ src: abs, dest, kind: 'dir', mode: DEFAULT_DIR_MODE, ...ctx.owner });
      await walk({ ...ctx, dir: abs, dest, rel });
    } else if (st.isFile()) {
      if (isSystemDir(dest)) throw invalid(`${ctx.at}/src`, `${shown} would replace the system directory ${dest}`);
      ctx.add(fileEntry(abs, dest, st, ctx.mode, ctx.config, ctx.owner));
    } else {
      throw invalid(`${ctx.at}/src`, `${shown} is ${specialKind(st)}; only files, directories and symbolic links can be packaged`);
    }
  }
}

function fileEntry(src: string, dest: string, st: Stats, mode: number | undefined, config: boolean, owner: { user?: string; group?: string }): MappedFile {
  // like rpmbuild's defattr(-,...) in spirit, but reproducible: only the executable bit comes from disk
  const entry: MappedFile = { src, dest, kind: 'file', mode: mode ?? (st.mode & 0o111 ? 0o755 : 0o644), ...owner };
  if (config) entry.config = true;
  return entry;
}

function ownerOf(m: FileMapping): { user?: string; group?: string } {
  const owner: { user?: string; group?: string } = {};
  if (m.user !== undefined) owner.user = m.user;
  if (m.group !== undefined) owner.group = m.group;
  return owner;
}

function parseMode(mode: string | number | undefined, pointer: string): number | undefined {
  if (mode === undefined) return undefined;
  const value = typeof mode === 'number' ? mode : /^[0-7]{3,4}$/.test(mode) ? parseInt(mode, 8) : NaN;
  if (!Number.isInteger(value) || value < 0 || value > 0o7777) throw invalid(pointer, `must be an octal mode like "0755" (got ${JSON.stringify(mode)})`);
  return value;
}

/** rpm file lists, cpio names and most tools reading paths cannot hold control characters. */
function decodeName(bytes: Buffer, ctx: WalkContext): string {
  let name: string;
  try {
    name = utf8.decode(bytes);
  } catch {
    const shown = posix.join(ctx.srcShown, ctx.rel, bytes.toString('latin1'));
    throw invalid(`${ctx.at}/src`, `${JSON.stringify(shown)} has a name that is not valid UTF-8; rename it`);
  }
  if (hasControlCharacter(name)) {
    const shown = JSON.stringify(posix.join(ctx.srcShown, ctx.rel, name));
    throw invalid(`${ctx.at}/src`, `${shown} has a control character (such as a newline) in its name, which a package file list cannot hold; rename it`);
  }
  return name;
}

async function linkTarget(abs: string, shownPath: string, pointer: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readlink(abs, { encoding: 'buffer' });
  } catch (err) {
    throw ioError('read the symbolic link', abs, err);
  }
  let target: string;
  try {
    target = utf8.decode(bytes);
  } catch {
    throw invalid(pointer, `${JSON.stringify(shownPath)} is a symbolic link whose target is not valid UTF-8`);
  }
  if (hasControlCharacter(target)) {
    throw invalid(pointer, `${JSON.stringify(shownPath)} is a symbolic link whose target has a control character (${JSON.stringify(target)})`);
  }
  return target;
}

function checkDestLength(dest: string, pointer: string, shown?: string): void {
  const what = shown ? `${shown} installs as ${dest}, which` : dest;
  if (Buffer.byteLength(dest) > MAX_PATH_BYTES) throw invalid(pointer, `${what} is longer than the ${MAX_PATH_BYTES} bytes a path may have`);
  for (const segment of dest.split('/')) {
    if (Buffer.byteLength(segment) > NAME_MAX_BYTES) throw invalid(pointer, `${what} has a name longer than ${NAME_MAX_BYTES} bytes`);
  }
}

function specialKind(st: Stats): string {
  if (st.isSocket()) return 'a socket';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * Exclusion globs (picomatch) relative to a directory mapping's src. A pattern without '/'
 * matches a name at any depth, as in .gitignore; a leading '/' anchors it to src; a final '/'
 * matches directories only. (picomatch's own `basename` option mishandles patterns with a
 * slash, hence the split here.)
 */
export function exclusionMatcher(patterns: string[], pointer = '/files/0/exclude'): (rel: string, isDir: boolean) => boolean {
  const matchers = patterns.map((raw, i) => {
    let pattern = raw;
    const dirOnly = pattern.endsWith('/');
    if (dirOnly) pattern = pattern.replace(/\/+$/, '');
    const anchored = pattern.startsWith('/');
    if (anchored) pattern = pattern.replace(/^\/+/, '');
    if (pattern === '') throw invalid(`${pointer}/${i}`, `is not a usable pattern (got ${JSON.stringify(raw)})`);
    const onName = !anchored && !pattern.includes('/');
    const isMatch = picomatch(pattern, { dot: true });
    return (rel: string, isDir: boolean) => (!dirOnly || isDir) && isMatch(onName ? posix.basename(rel) : rel);
  });
  return (rel, isDir) => matchers.some((m) => m(rel, isDir));
}

function addEntry(table: Map<string, Owned>, owned: Owned): void {
  const { entry, origin } = owned;
  const existing = table.get(entry.dest);
  if (!existing) {
    table.set(entry.dest, owned);
    return;
  }
  if (existing.entry.kind === 'dir' && entry.kind === 'dir') {
    // two mappings may fill the same directory; it keeps one owner
    for (const f of ['user', 'group'] as const) {
      const a = existing.entry[f];
      const b = entry[f];
      if (a !== undefined && b !== undefined && a !== b) {
        throw invalid(`${origin}/${f}`, `directory ${entry.dest} gets ${f} ${JSON.stringify(b)} here but ${JSON.stringify(a)} from ${existing.origin}`);
      }
      if (a === undefined && b !== undefined) existing.entry[f] = b;
    }
    if (existing.entry.src === undefined && entry.src !== undefined) existing.entry.src = entry.src;
    return;
  }
  const same = existing.origin === origin ? 'this mapping' : existing.origin;
  throw invalid(`${origin}/dest`, `installs ${entry.dest} (a ${kindName(entry)}), which ${same} installs too (as a ${kindName(existing.entry)})`);
}

function kindName(e: MappedFile): string {
  return e.kind === 'dir' ? 'directory' : e.kind === 'symlink' ? 'symbolic link' : 'file';
}

type ParentConflict = (entry: MappedFile, dir: string, existing: Owned, origin: string) => KpkgError;

/**
 * Adds a `dir` entry for every directory between an entry and the nearest system directory
 * above it, so the package owns the directories it creates and only those.
 */
function addParents(table: Map<string, Owned>, conflict: ParentConflict): void {
  for (const { entry, origin } of [...table.values()]) {
    for (let dir = posix.dirname(entry.dest); dir !== '/' && !isSystemDir(dir); dir = posix.dirname(dir)) {
      const existing = table.get(dir);
      if (existing) {
        if (existing.entry.kind !== 'dir') throw conflict(entry, dir, existing, origin);
        // its own parents are (or will be) added when it is visited
        break;
      }
      table.set(dir, { entry: { dest: dir, kind: 'dir', mode: DEFAULT_DIR_MODE }, origin });
    }
  }
}

/**
 * For the builder: `entries` (mapped files plus what it generates: launcher, unit, cron file)
 * with the parent directories the package owns added, sorted. A path installed twice (but for
 * a directory), or a file where a directory is needed, is an error naming the path.
 */
export function addParentDirectories(entries: MappedFile[]): MappedFile[] {
  const table = new Map<string, Owned>();
  for (const entry of entries) {
    const existing = table.get(entry.dest);
    if (existing && !(existing.entry.kind === 'dir' && entry.kind === 'dir')) {
      throw new KpkgError('INVALID_DESCRIPTOR', `${entry.dest} is installed twice (as a ${kindName(existing.entry)} and as a ${kindName(entry)})`);
    }
    if (!existing) table.set(entry.dest, { entry: { ...entry }, origin: entry.dest });
  }
  addParents(table, (entry, dir, existing) =>
    new KpkgError('INVALID_DESCRIPTOR', `${entry.dest} is inside ${dir}, which is installed as a ${kindName(existing.entry)}`),
  );
  return sortByDest([...table.values()].map((o) => o.entry));
}

/** Byte order of the UTF-8 paths, as strcmp (and so rpm) sorts them. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function sortByDest(entries: MappedFile[]): MappedFile[] {
  return entries
    .map((e) => ({ e, key: Buffer.from(e.dest) }))
    .sort((x, y) => Buffer.compare(x.key, y.key))
    .map((x) => x.e);
}
