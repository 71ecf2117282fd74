import { constants as osConstants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

/**
 * One error class for everything kpkg reports to a user. The `code` is stable (tests and
 * scripts match on it); the exit status is derived from the code in exactly one place.
 */
export type ErrorCode =
  | 'USAGE' // bad command line
  | 'INVALID_DESCRIPTOR' // component.json or its file mapping is wrong
  | 'INVALID_INPUT' // some other input given by the user is wrong
  | 'BAD_PACKAGE' // an RPM that cannot be read: truncated, corrupted, wrong format
  | 'PACKAGE_CONFLICT' // other bytes under an already published name
  | 'IO' // reading or writing failed
  | 'TOOL' // an external program (the component's build script) failed
  | 'LOCK_TIMEOUT' // another publisher held the repository too long
  | 'SIGN' // signing failed (wrong passphrase, unusable key)
  | 'UNAVAILABLE' // a wanted package is in none of the configured repositories (punch)
  | 'APPLY' // a deployment run failed: the transaction or Puppet (punch)
  | 'FETCH' // the back office refused or could not be reached (punch restore)
  | 'CONFLICT' // Geppetto: another publish changed what this change edits (HTTP 409)
  | 'NOT_FOUND' // Geppetto: no such server, changeset, user...
  | 'UNAUTHORIZED' // Geppetto: no or wrong credentials
  | 'FORBIDDEN' // Geppetto: credentials without the right to do this
  | 'RATE_LIMITED' // Geppetto: too many failed logins
  | 'INTERNAL';

const BAD_INPUT: ReadonlySet<ErrorCode> = new Set([
  'USAGE',
  'INVALID_DESCRIPTOR',
  'INVALID_INPUT',
  'BAD_PACKAGE',
  'PACKAGE_CONFLICT',
  'CONFLICT',
  'NOT_FOUND',
]);

export class KpkgError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KpkgError';
    this.code = code;
  }
}

/** The exit codes (docs/decisions.md, "Errors and exit codes"): 2 for bad input, 1 for an operation that failed. */
export function exitCodeFor(err: unknown): 1 | 2 {
  return err instanceof KpkgError && BAD_INPUT.has(err.code) ? 2 : 1;
}

/**
 * A parse error in a binary structure: names the structure, the byte offset, what was
 * expected and what was found.
 */
export class FormatError extends KpkgError {
  readonly structure: string;
  readonly offset: number;

  constructor(structure: string, offset: number, message: string, options?: { cause?: unknown }) {
    super('BAD_PACKAGE', `${structure} at byte ${offset}: ${message}`, options);
    this.name = 'FormatError';
    this.structure = structure;
    this.offset = offset;
  }
}

/**
 * Text for a one-line message: control characters (a newline in a file or field name) become
 * JSON escapes, `a\nb`.
 */
export function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    const escaped = JSON.stringify(c).slice(1, -1);
    return escaped !== c ? escaped : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** What the system says of an errno code, as strerror does: `no space left on device`. */
const DESCRIPTIONS = new Map<string, string>([
  // errors libuv has no name for (Node 20 reports EDQUOT as "Unknown system error -122")
  ['EDQUOT', 'disk quota exceeded'],
  ...[...getSystemErrorMap().values()].map(([code, description]) => [code, description] as [string, string]),
]);
const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

/** The errno name of a system error (ENOSPC), undefined for any other error. */
function systemCode(cause: unknown): string | undefined {
  if (!(cause instanceof Error)) return undefined;
  const { code, errno } = cause as NodeJS.ErrnoException;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
  return typeof errno === 'number' ? ERRNO_NAMES.get(Math.abs(errno)) : undefined;
}

/**
 * Turns a Node system error into a KpkgError that names the file and the cause in words, on one
 * line: `cannot write /srv/repo/repodata/repomd.xml: no space left on device (ENOSPC)`.
 */
export function ioError(action: string, path: string, cause: unknown): KpkgError {
  const code = systemCode(cause);
  const described = code !== undefined ? DESCRIPTIONS.get(code) : undefined;
  const reason = code === undefined ? String(cause instanceof Error ? cause.message : cause) : described ? `${described} (${code})` : code;
  return new KpkgError('IO', `cannot ${action} ${path}: ${reason.split('\n')[0]}`, { cause });
}

/** System errors that say a path names no readable file: the path given is at fault. */
const NOT_A_FILE: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'ELOOP']);

/**
 * An input the user named (a package, a key file) that cannot be read. Where the path names no
 * file (ENOENT, ENOTDIR, EISDIR...), the input is at fault: INVALID_INPUT, exit 2, whichever
 * command was given it. Any other failure (EACCES, EIO) is the IO error of ioError, exit 1.
 */
export function inputError(action: string, path: string, cause: unknown): KpkgError {
  const err = ioError(action, path, cause);
  const code = systemCode(cause);
  return code !== undefined && NOT_A_FILE.has(code) ? new KpkgError('INVALID_INPUT', err.message, { cause }) : err;
}

/**
 * The error as kpkg reports it: a KpkgError as it is; a system error that reached the top without
 * one (an fs call left unwrapped) as the IO error of its call and path; anything else unchanged.
 */
export function asKpkgError(err: unknown): unknown {
  if (err instanceof KpkgError || systemCode(err) === undefined) return err;
  const e = err as NodeJS.ErrnoException & { dest?: string };
  const path = e.path !== undefined ? `${e.path}${e.dest !== undefined ? ` to ${e.dest}` : ''}` : '(no path given)';
  return ioError(e.syscall ?? 'access', path, err);
}
