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
  | 'INTERNAL';

const BAD_INPUT: ReadonlySet<ErrorCode> = new Set([
  'USAGE',
  'INVALID_DESCRIPTOR',
  'INVALID_INPUT',
  'BAD_PACKAGE',
  'PACKAGE_CONFLICT',
]);

export class KpkgError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KpkgError';
    this.code = code;
  }
}

/** Exit codes of DESIGN.md: 2 for bad input, 1 for an operation that failed. */
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
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    const escaped = JSON.stringify(c).slice(1, -1);
    return escaped !== c ? escaped : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Turns a Node system error into a KpkgError that names the file. */
export function ioError(action: string, path: string, cause: unknown): KpkgError {
  const reason =
    cause instanceof Error && 'code' in cause && typeof cause.code === 'string'
      ? `${cause.code}: ${(cause as NodeJS.ErrnoException).syscall ?? action}`
      : String(cause instanceof Error ? cause.message : cause);
  return new KpkgError('IO', `cannot ${action} ${path} (${reason})`, { cause });
}
