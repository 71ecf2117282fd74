/**
 * The files of a package as the header records them: paths checked and sorted, modes, sizes,
 * times and flags. Digests are filled in by the payload writer as it streams each body.
 */
import { statSync } from 'node:fs';
import { KpkgError, ioError } from '../errors.js';
import type { PackageFile } from './spec.js';
import { FileFlag } from './tags.js';

/** One file as it will be recorded: everything the header needs, in header order. */
export interface FileRecord {
  file: PackageFile;
  pathBytes: Buffer;
  mode: number;
  size: number;
  mtime: number;
  digest: string;
  linkTo: string;
  flags: number;
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/**
 * FILESIZES of a directory: rpmbuild 4.18 records 0 (test/fixtures/rpmbuild, and
 * test/system/rpm-writer.test.ts compares with it), so directories add nothing to SIZE either.
 */
const DIR_SIZE = 0;

function checkPath(path: string): void {
  const bad = (why: string) => {
    throw new KpkgError('INVALID_INPUT', `file ${JSON.stringify(path)}: ${why}`);
  };
  if (!path.startsWith('/') || path === '/') bad('must be an absolute path below /');
  if (path.endsWith('/')) bad('must not end with /');
  if (/[\x00-\x1f\x7f]/.test(path)) bad('contains a control character');
  for (const part of path.slice(1).split('/')) {
    if (part === '' || part === '.' || part === '..') bad('must be normalised (no empty, . or .. components)');
  }
}

export async function collectFiles(files: PackageFile[], epoch: number | undefined): Promise<FileRecord[]> {
  const seen = new Set<string>();
  const records: FileRecord[] = [];
  for (const file of files) {
    checkPath(file.path);
    if (seen.has(file.path)) throw new KpkgError('INVALID_INPUT', `file ${JSON.stringify(file.path)} is listed twice`);
    seen.add(file.path);
    records.push(await recordOf(file, epoch));
  }
  // rpm keeps file lists sorted by byte value (strcmp); so do the header arrays and the payload
  records.sort((a, b) => Buffer.compare(a.pathBytes, b.pathBytes));
  return records;
}

async function recordOf(file: PackageFile, epoch: number | undefined): Promise<FileRecord> {
  let size = 0;
  // generated entries (content, directories, symlinks) carry the time of the build
  let mtime = file.mtime ?? Math.floor(Date.now() / 1000);
  let typeBits: number;
  let defaultMode: number;
  let linkTo = '';
  switch (file.kind) {
    case 'file': {
      typeBits = S_IFREG;
      defaultMode = 0o644;
      if (file.content !== undefined) {
        size = typeof file.content === 'string' ? Buffer.byteLength(file.content) : file.content.length;
      } else if (file.source !== undefined) {
        // sync: an awaited stat per file is a thread-pool round trip per file
        let st;
        try {
          st = statSync(file.source);
        } catch (e) {
          throw ioError('read', file.source, e);
        }
        if (!st.isFile()) throw new KpkgError('INVALID_INPUT', `file ${file.path}: source ${file.source} is not a regular file`);
        size = st.size;
        if (file.mtime === undefined) mtime = Math.floor(st.mtimeMs / 1000);
      } else if (!file.ghost) {
        throw new KpkgError('INVALID_INPUT', `file ${file.path}: needs a source or a content`);
      }
      if (file.ghost) size = 0;
      break;
    }
    case 'dir':
      typeBits = S_IFDIR;
      defaultMode = 0o755;
      size = DIR_SIZE;
      break;
    case 'symlink':
      typeBits = S_IFLNK;
      defaultMode = 0o777;
      if (!file.target || file.target.includes('\0')) throw new KpkgError('INVALID_INPUT', `symlink ${file.path}: needs a target`);
      linkTo = file.target;
      size = Buffer.byteLength(file.target);
      break;
    default:
      throw new KpkgError('INVALID_INPUT', `file ${file.path}: unknown kind ${String((file).kind)}`);
  }
  const perms = file.mode ?? defaultMode;
  if (!Number.isInteger(perms) || perms < 0 || perms > 0o7777) {
    throw new KpkgError('INVALID_INPUT', `file ${file.path}: mode ${String(file.mode)} is not a permission mode (0..07777)`);
  }
  let flags = 0;
  if (file.config) flags |= FileFlag.CONFIG;
  if (file.noreplace) flags |= FileFlag.CONFIG | FileFlag.NOREPLACE;
  if (file.missingok) flags |= FileFlag.MISSINGOK;
  if (file.doc) flags |= FileFlag.DOC;
  if (file.license) flags |= FileFlag.LICENSE;
  if (file.ghost) flags |= FileFlag.GHOST;
  for (const owner of [file.user, file.group]) {
    if (owner !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(owner)) {
      throw new KpkgError('INVALID_INPUT', `file ${file.path}: ${JSON.stringify(owner)} is not a user or group name`);
    }
  }
  return {
    file,
    pathBytes: Buffer.from(file.path, 'utf8'),
    mode: typeBits | perms,
    size,
    mtime: epoch ?? mtime,
    digest: '',
    linkTo,
    flags,
  };
}
