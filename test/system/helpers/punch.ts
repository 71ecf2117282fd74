// Punch's system tests: components built once per test file with the real `kpkg build` (copies of
// examples/hello under other names and versions), a yum repository made by createrepo_c, and the
// compiled `punch` run with --root on an empty directory, so dnf --installroot, rpm --root and
// puppet apply do the work without touching this machine. Scriptlets are off (tsflags=noscripts):
// the root has no shell (see helpers/dnf.ts, whose stub base package this extends).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { stringify } from 'yaml';
import { copyComponent, editJson, EXAMPLES, kpkgBuild, REPO_ROOT, type Built } from './components.js';
import { run, runOk, tmpDir, type RunResult } from '../tools.js';

export const PUNCH = join(REPO_ROOT, 'dist', 'bin', 'punch.js');
export const TOOLS = ['rpm', 'dnf', 'createrepo_c', 'puppet'];

let home: string | undefined;
/** A HOME whose .rpmmacros puts the rpm database where EL has it (Debian's rpm uses ~/.rpmdb). */
export function rpmHome(): string {
  if (home === undefined) {
    home = tmpDir('punch-home');
    writeFileSync(join(home, '.rpmmacros'), '%_dbpath /var/lib/rpm\n');
  }
  return home;
}

export interface ComponentOptions {
  /** Extra config keys, e.g. a secret one. */
  keys?: Record<string, unknown>;
}

/** `kpkg build` of examples/hello renamed `name` at `version` into `output`. */
export function buildComponent(name: string, version: string, output: string, options: ComponentOptions = {}): Built {
  const dir = copyComponent(join(EXAMPLES, 'hello'), name);
  editJson(join(dir, 'package.json'), (p) => {
    p.name = name;
    p.version = version;
  });
  editJson(join(dir, 'component.json'), (c) => {
    c.name = name;
    const config = c.config as { keys: Record<string, unknown> };
    Object.assign(config.keys, options.keys ?? {});
  });
  return kpkgBuild(dir, { output, skipBuild: true });
}

/** The flags every test run gives punch: an empty root has no release package and no shell. */
export const ROOT_FLAGS = ['--releasever', '1', '--dnf-setopt', 'tsflags=noscripts'];

export interface NodeFileSpec {
  classes: Record<string, Record<string, unknown>>;
  packages: Record<string, string>;
  revision?: number;
  repo: string;
  sensitive?: Record<string, string[]>;
}

/** Writes a per-server file (YAML) for the test repository; returns its path. */
export function writeNodeFile(dir: string, name: string, spec: NodeFileSpec): string {
  const path = join(dir, name);
  const file = {
    environment: 'production',
    classes: spec.classes,
    parameters: { kelkoo_node: 'web03.example.com', kelkoo_revision: spec.revision ?? 1 },
    kelkoo: {
      node: 'web03.example.com',
      revision: spec.revision ?? 1,
      repositories: [{ id: 'test', baseurl: `file://${spec.repo}` }],
      packages: Object.entries(spec.packages).map(([n, evr]) => ({ name: n, evr })),
      ...(spec.sensitive ? { sensitive: spec.sensitive } : {}),
    },
  };
  writeFileSync(path, stringify(file));
  return path;
}

/** A root punch works on, with what rpm and dnf say about it. */
export class PunchRoot {
  readonly root: string;

  constructor(name = 'root') {
    this.root = join(tmpDir(`punch-${name}`), 'root');
    mkdirSync(this.root);
  }

  /**
   * Points the root's Punch at Geppetto: the token in etc/punch/token (0600), and punch.conf naming
   * the URL, the token file and the node; `preamble` goes first (a comment, to show it is read past).
   */
  configure(geppetto: { url: string; token: string; node: string }, preamble = ''): void {
    mkdirSync(this.path('etc/punch'), { recursive: true });
    writeFileSync(this.path('etc/punch/token'), `${geppetto.token}\n`, { mode: 0o600 });
    writeFileSync(this.path('etc/punch/punch.conf'), `${preamble}url = ${geppetto.url}\ntoken_file = ${this.path('etc/punch/token')}\nnode = ${geppetto.node}\n`);
  }

  /** `punch <args> --root <root>` (synchronously). */
  punch(args: readonly string[], env: Record<string, string> = {}): RunResult {
    return run(process.execPath, [PUNCH, ...args, '--root', this.root, ...ROOT_FLAGS], { env: { HOME: rpmHome(), ...env }, timeout: 240_000 });
  }

  /** The same, started in the background. */
  spawnPunch(args: readonly string[]): ChildProcess {
    return spawn(process.execPath, [PUNCH, ...args, '--root', this.root, ...ROOT_FLAGS], { env: { ...process.env, HOME: rpmHome(), LC_ALL: 'C.UTF-8' }, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  rpm(args: readonly string[]): RunResult {
    return run('rpm', ['--root', this.root, ...args], { env: { HOME: rpmHome() } });
  }

  /** `name-version-release` of every installed package, sorted. */
  installed(): string[] {
    if (!existsSync(join(this.root, 'var/lib/rpm'))) return [];
    const res = this.rpm(['-qa', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}\\n']);
    return res.stdout.split('\n').filter((l) => l !== '').sort();
  }

  /** dnf history of the root: [id, comment] of each transaction, oldest first. */
  history(): { id: number; comment: string; actions: string }[] {
    const conf = join(tmpDir('dnf-conf'), 'dnf.conf');
    writeFileSync(conf, '[main]\n');
    const base = ['-q', `--config=${conf}`, '--setopt=reposdir=', `--installroot=${this.root}`, '--releasever=1', '--noplugins'];
    const list = runOk('dnf', [...base, 'history', 'list'], { env: { HOME: rpmHome() } }).stdout;
    const ids = list
      .split('\n')
      .map((l) => /^\s*(\d+)\s*\|/.exec(l)?.[1])
      .filter((x): x is string => x !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    return ids.map((id) => {
      const info = runOk('dnf', [...base, 'history', 'info', String(id)], { env: { HOME: rpmHome() } }).stdout;
      return { id, comment: /^Comment\s*:\s*(.*)$/m.exec(info)?.[1]?.trim() ?? '', actions: info };
    });
  }

  config(component: string): Record<string, unknown> {
    return JSON.parse(readFileSync(join(this.root, 'etc/kelkoo', component, 'config.json'), 'utf8')) as Record<string, unknown>;
  }

  path(p: string): string {
    return join(this.root, p);
  }
}

/** What a background punch printed, and its exit status (null when killed). */
export function exited(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

export interface PunchJson {
  exitCode: number;
  unchanged: boolean;
  revision?: number;
  locked?: string;
  finished: string;
  packages: { changes: { action: string; name: string; from?: string; to?: string }[]; verified?: boolean };
  puppet?: { changes: number; resources: string[]; errors: string[]; deferred?: boolean };
  errors: string[];
  leftAsItWas: string[];
}

export function parseReport(res: RunResult): PunchJson {
  try {
    return JSON.parse(res.stdout) as PunchJson;
  } catch {
    throw new Error(`punch did not print a JSON report (status ${res.status})\n--- stderr\n${res.stderr}\n--- stdout\n${res.stdout}`);
  }
}
