/**
 * Running the tools Punch drives (rpm, dnf, puppet), found on PATH.
 *
 * The two that change the system (dnf's transaction, puppet apply) write into a log file rather
 * than a pipe, and their pid is recorded in <state>/child.json while they run: when Punch itself
 * is killed (kill -9), they are not killed by a broken pipe halfway through an rpm transaction,
 * they finish, and the next run waits for them before it reads what is installed.
 */
import { spawn } from 'node:child_process';
import { open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { KpkgError } from '../packager/errors.js';
import { processStart } from '../packager/repo/lock.js';

export interface ToolResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface ToolOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Write stdout and stderr to this file (appending) instead of capturing them. */
  logFile?: string;
  /** Record the child's pid here while it runs (see the top of this file). */
  childFile?: string;
}

/** The environment of every tool: this process's, in English (their output is parsed). */
export function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8', ...extra };
}

/** Runs `cmd` (no shell); resolves with its status (128+N for signal N). Throws TOOL when it cannot start. */
export async function runTool(cmd: string, args: readonly string[], options: ToolOptions = {}): Promise<ToolResult> {
  const log = options.logFile !== undefined ? await open(options.logFile, 'a', 0o600) : undefined;
  try {
    const child = spawn(cmd, args, {
      env: options.env ?? toolEnv(),
      stdio: [options.input !== undefined ? 'pipe' : 'ignore', log ? log.fd : 'pipe', log ? log.fd : 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    if (options.input !== undefined) child.stdin?.end(options.input);
    const started = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const done = new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)));
    });
    // when the program cannot start, `done` rejects too: that rejection is the one reported below
    done.catch(() => undefined);
    try {
      await started;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new KpkgError('TOOL', code === 'ENOENT' ? `${cmd} not found on PATH` : `cannot run ${cmd}: ${String(e)}`, { cause: e });
    }
    if (options.childFile !== undefined && child.pid !== undefined) await recordChild(options.childFile, cmd, child.pid);
    const status = await done;
    if (options.childFile !== undefined) await unlink(options.childFile).catch(() => undefined);
    return { status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
  } finally {
    await log?.close();
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return osConstants.signals[signal] ?? 0;
}

interface ChildRecord {
  cmd: string;
  pid: number;
  start?: number;
}

async function recordChild(path: string, cmd: string, pid: number): Promise<void> {
  const start = processStart(pid);
  const record: ChildRecord = { cmd, pid, ...(start !== undefined ? { start } : {}) };
  await writeFile(`${path}.tmp`, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/**
 * Waits for a tool a killed run left running (its record in `path`) to finish. Returns the
 * command it waited for, or undefined when there was none.
 */
export async function waitForOrphan(path: string, onWait?: (cmd: string, pid: number) => void): Promise<string | undefined> {
  let record: ChildRecord;
  try {
    record = JSON.parse(await readFile(path, 'utf8')) as ChildRecord;
  } catch {
    await unlink(path).catch(() => undefined);
    return undefined;
  }
  const alive = () => {
    try {
      process.kill(record.pid, 0);
    } catch {
      return false;
    }
    const start = processStart(record.pid);
    return record.start === undefined || start === undefined || start === record.start;
  };
  let told = false;
  while (alive()) {
    if (!told) onWait?.(record.cmd, record.pid);
    told = true;
    await new Promise((r) => setTimeout(r, 200));
  }
  await unlink(path).catch(() => undefined);
  return told ? record.cmd : undefined;
}
