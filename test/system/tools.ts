// The harness of the system tests: the real tools (rpm, dnf, createrepo_c, Puppet, PostgreSQL...)
// are the oracles. A suite declares the tools it needs; where one is missing the suite is skipped
// with a message naming it, unless KPKG_SYSTEM_TESTS=required (CI), where it fails instead.
import { spawnSync } from 'node:child_process';
import { accessSync, chownSync, constants as fsConstants, lchownSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { afterAll, describe, it } from 'vitest';

/** True when a missing tool must fail the run (CI) rather than skip the suite. */
export const systemTestsRequired = process.env.KPKG_SYSTEM_TESTS === 'required';

const toolPaths = new Map<string, string | undefined>();

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Where `cmd` would be run from: an absolute or relative path is checked as is, a bare name is
 * looked up in PATH as it is now. Cached per process (PATH does not change during a run).
 */
export function toolPath(cmd: string): string | undefined {
  if (toolPaths.has(cmd)) return toolPaths.get(cmd);
  let found: string | undefined;
  if (cmd.includes('/')) {
    const abs = isAbsolute(cmd) ? cmd : resolve(cmd);
    if (isExecutableFile(abs)) found = abs;
  } else {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      if (dir === '') continue;
      const candidate = join(dir, cmd);
      if (isExecutableFile(candidate)) {
        found = candidate;
        break;
      }
    }
  }
  toolPaths.set(cmd, found);
  return found;
}

/** Whether `cmd` (a name looked up in PATH, or a path) can be run. */
export function haveTool(cmd: string): boolean {
  return toolPath(cmd) !== undefined;
}

/** The tools of `tools` that cannot be run, in the order given. */
export function missingTools(tools: readonly string[]): string[] {
  return tools.filter((t) => !haveTool(t));
}

/**
 * PostgreSQL's server programs (initdb, pg_ctl, postgres) are not on PATH on Debian: they live in
 * /usr/lib/postgresql/<major>/bin. Returns the newest one found, else the bare name, so that
 * `describeWithTools([postgresTool('initdb')], ...)` reports `initdb` as the missing tool.
 */
export function postgresTool(name: string): string {
  if (haveTool(name)) return name;
  const root = '/usr/lib/postgresql';
  let majors: string[];
  try {
    majors = readdirSync(root).filter((d) => /^\d+(\.\d+)?$/.test(d));
  } catch {
    return name;
  }
  majors.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  for (const major of majors) {
    const candidate = join(root, major, 'bin', name);
    if (haveTool(candidate)) return candidate;
  }
  return name;
}

/**
 * A `describe` for a suite that needs real tools. All present: a plain `describe`. One missing:
 * the suite is skipped, and its title says which tool is missing; with KPKG_SYSTEM_TESTS=required
 * it contains one failing test instead, naming the tool. `fn` is not called when a tool is missing,
 * so it may run the tools while collecting.
 */
export function describeWithTools(tools: readonly string[], name: string, fn: () => void): void {
  const missing = missingTools(tools);
  if (missing.length === 0) {
    describe(name, fn);
    return;
  }
  const list = missing.join(', ');
  const what = `missing tool${missing.length > 1 ? 's' : ''} ${list}`;
  if (systemTestsRequired) {
    describe(name, () => {
      it(`needs ${list}`, () => {
        throw new Error(`${what} (KPKG_SYSTEM_TESTS=required); .ci/run shows how to install them`);
      });
    });
  } else {
    // The default reporter does not print skipped suites' titles: say it on stderr too.
    console.warn(`skipping "${name}": ${what} (set KPKG_SYSTEM_TESTS=required to fail instead)`);
    describe.skip(`${name} [skipped: ${what}; set KPKG_SYSTEM_TESTS=required to fail instead]`, () => {
      it(`needs ${list}`, () => {});
    });
  }
}

export interface RunOptions {
  cwd?: string;
  /** Added to (not replacing) the environment of this process; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  /** Milliseconds; the process is killed with SIGKILL after that. */
  timeout?: number;
  /** Run as this user/group (needs root), e.g. the unprivileged `kpkgtest` of .ci/run. */
  uid?: number;
  gid?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** The exit status; 128 + N when killed by signal N (as a shell says); 127 when it could not start. */
  status: number;
  signal: NodeJS.Signals | null;
}

export interface RunBufferResult extends Omit<RunResult, 'stdout'> {
  stdout: Buffer;
}

// Tools' output is parsed by the tests: large (rpm -qlv of a big package, rpm2cpio) and in English.
const MAX_BUFFER = 1024 * 1024 * 1024;

function spawnEnv(extra: RunOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C.UTF-8' };
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line as a shell would accept it, for messages. */
export function commandLine(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map(quote).join(' ');
}

function spawn(cmd: string, args: readonly string[], opts: RunOptions, encoding: 'utf8' | 'buffer') {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: spawnEnv(opts.env),
    input: opts.input,
    timeout: opts.timeout,
    killSignal: 'SIGKILL',
    uid: opts.uid,
    gid: opts.gid,
    maxBuffer: MAX_BUFFER,
    encoding,
    shell: false,
  });
  let status: number;
  let stderr = r.stderr === null ? '' : r.stderr.toString();
  if (r.status !== null) {
    status = r.status;
  } else if (r.signal !== null) {
    status = 128 + (osConstants.signals[r.signal] ?? 0);
  } else {
    status = 127;
  }
  if (r.error !== undefined) stderr += `${stderr === '' || stderr.endsWith('\n') ? '' : '\n'}${r.error.message}\n`;
  return { r, status, stderr };
}

/** Runs a program (no shell) and returns what it printed and its exit status. Never throws for a failed command. */
export function run(cmd: string, args: readonly string[] = [], opts: RunOptions = {}): RunResult {
  const { r, status, stderr } = spawn(cmd, args, opts, 'utf8');
  return { stdout: r.stdout === null ? '' : r.stdout.toString(), stderr, status, signal: r.signal };
}

/** As `run`, with stdout as bytes (rpm2cpio, gzip -dc, ...). */
export function runBuffer(cmd: string, args: readonly string[] = [], opts: RunOptions = {}): RunBufferResult {
  const { r, status, stderr } = spawn(cmd, args, opts, 'buffer');
  const stdout = r.stdout === null ? Buffer.alloc(0) : Buffer.isBuffer(r.stdout) ? r.stdout : Buffer.from(r.stdout);
  return { stdout, stderr, status, signal: r.signal };
}

function failure(cmd: string, args: readonly string[], res: { status: number; stderr: string; stdout: string | Buffer }): Error {
  const tail = (s: string) => (s.length > 8000 ? `...${s.slice(-8000)}` : s);
  const out = typeof res.stdout === 'string' && res.stdout.trim() !== '' ? `\n--- stdout\n${tail(res.stdout.trimEnd())}` : '';
  return new Error(
    `command failed with status ${res.status}: ${commandLine(cmd, args)}\n--- stderr\n${tail(res.stderr.trimEnd())}${out}`,
  );
}

/** As `run`, but throws (with the command, its status, stderr and stdout) unless it exits 0. */
export function runOk(cmd: string, args: readonly string[] = [], opts: RunOptions = {}): RunResult {
  const res = run(cmd, args, opts);
  if (res.status !== 0) throw failure(cmd, args, res);
  return res;
}

/** As `runBuffer`, but throws unless the command exits 0. */
export function runBufferOk(cmd: string, args: readonly string[] = [], opts: RunOptions = {}): RunBufferResult {
  const res = runBuffer(cmd, args, opts);
  if (res.status !== 0) throw failure(cmd, args, res);
  return res;
}

// Temporary directories live until the end of the test file that made them. vitest only honours
// an afterAll registered while it collects a file (one registered from a test or a beforeAll is
// silently dropped), so the cleanup is registered once, when the test file imports this module.
// The process exit handler catches what that misses (a module shared between files).
const keepTmp = process.env.KPKG_KEEP_TMP !== undefined && process.env.KPKG_KEEP_TMP !== '';
const tmpDirs = new Set<string>();

function removeTmpDirs(): void {
  if (keepTmp) {
    if (tmpDirs.size > 0) console.log(`KPKG_KEEP_TMP: kept ${[...tmpDirs].join(' ')}`);
  } else {
    for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
  tmpDirs.clear();
}

try {
  afterAll(removeTmpDirs);
} catch {
  // imported outside a test file's collection: the exit handler below still cleans up
}
process.once('exit', removeTmpDirs);

/**
 * A new empty directory under the system temp dir, `kpkg-<prefix>-XXXXXX`, as a canonical path.
 * Removed when the test file finishes, unless KPKG_KEEP_TMP is set (then its path is printed).
 */
export function tmpDir(prefix: string): string {
  const safe = prefix.replace(/[^A-Za-z0-9._-]/g, '_');
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `kpkg-${safe}-`)));
  tmpDirs.add(dir);
  return dir;
}

/** A TCP port free on 127.0.0.1 just now, for a server a test starts. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Gives a tree to `owner` (nothing when undefined); links are changed, not what they point to. */
export function chownTree(path: string, owner: { uid: number; gid: number } | undefined): void {
  if (!owner) return;
  chownSync(path, owner.uid, owner.gid);
  for (const e of readdirSync(path, { withFileTypes: true })) {
    if (e.isDirectory()) chownTree(join(path, e.name), owner);
    else lchownSync(join(path, e.name), owner.uid, owner.gid); // a link may dangle outside an install root
  }
}
