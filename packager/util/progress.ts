/**
 * Progress on a terminal: one status line on stderr, rewritten in place (`\r`, then erase to the
 * end of the line), at most every `intervalMs`, erased when the command ends so that what it
 * prints on stdout starts on a clean line. Without a terminal (a pipe, a CI log) or with --quiet,
 * nothing: progress is for a person watching, and stdout already says what was done. Lasting
 * notes (waiting for a lock, a signature removed) are printed as lines, terminal or not, unless
 * quiet. Never the `kpkg:` prefix: that is for errors (cli/index.ts).
 */

/** What the packager's commands tell about their progress (all optional to call). */
export interface Progress {
  /** The current status, replacing the previous one (shown at most every `intervalMs`). */
  status(text: string): void;
  /** A line worth keeping (not an error): printed above the status line. */
  note(line: string): void;
  /** Erases the status line; call before printing the result. */
  end(): void;
}

/** The stream written to: process.stderr, or a test's. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** Nothing at all, notes included (--quiet, --json). */
  quiet?: boolean;
  /** Least time between two status lines (default 100 ms). */
  intervalMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/**
 * The commands' reporter, on stderr. A CI job with a terminal is treated as without one: its log
 * would keep every rewritten line.
 */
export function stderrProgress(quiet: boolean): Progress {
  const stderr = process.stderr;
  const stream: ProgressStream = { isTTY: stderr.isTTY && !process.env.CI, write: (text) => stderr.write(text) };
  Object.defineProperty(stream, 'columns', { get: () => stderr.columns, enumerable: true });
  return progressReporter(stream, { quiet });
}

/** A Progress that says nothing. */
export const silentProgress: Progress = { status: () => undefined, note: () => undefined, end: () => undefined };

const ERASE_LINE = '\r\x1b[K';

export function progressReporter(stream: ProgressStream, options: ProgressOptions = {}): Progress {
  if (options.quiet) return silentProgress;
  const note = (line: string) => void stream.write(`${line}\n`);
  if (!stream.isTTY) return { status: () => undefined, note, end: () => undefined };
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 100;
  let shown = ''; // the status line on screen
  let last = -Infinity;
  const fit = (text: string) => {
    // one line, shorter than the terminal: a wrapped line could not be rewritten by \r
    const width = Math.max(20, (stream.columns ?? 80) - 1);
    const flat = text.replace(/[\r\n]+/g, ' ');
    return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
  };
  const draw = (text: string) => {
    shown = fit(text);
    last = now();
    stream.write(`${ERASE_LINE}${shown}`);
  };
  return {
    status(text) {
      if (now() - last >= interval) draw(text);
    },
    note(line) {
      if (shown) stream.write(ERASE_LINE);
      note(line);
      if (shown) stream.write(shown);
    },
    end() {
      if (shown) stream.write(ERASE_LINE);
      shown = '';
      last = -Infinity;
    },
  };
}

/** `1 package`, `2 packages`, `0 packages`. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** A size for people: `512 B`, `1.5 KiB`, `12.3 MiB`, `2.0 GiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u] ?? 'TiB'}`;
}
