// dnf against a yum repository of our own packages, into an empty --installroot, isolated from the
// machine's configuration: a private dnf.conf, an empty reposdir, the test repository only
// (--repofrompath + --repo), no plugins, no GPG checks, no weak dependencies, no scriptlets.
//
// An empty root cannot satisfy what our application packages require from the system (/bin/sh and
// /usr/sbin/useradd, /usr/sbin/groupadd for the %pre scriptlet, nodejs >= 1:N): the stub package
// kpkg-test-base, written with our own writer, ships those paths as small files (a file path is
// matched against file lists by libsolv and against the file index by rpm) and provides nodejs
// as EL and Fedora do, with epoch 1 (1:20.17.0).
// Scriptlets are not run (tsflags=noscripts): the root has no real shell, libc or useradd.
//
// Debian's rpm keeps its database at %{_dbpath} = $HOME/.rpmdb; inside a root that depends on who
// runs the test. Every dnf and rpm command here runs with a private HOME whose .rpmmacros puts the
// database where EL has it, /var/lib/rpm under the root.
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RPMSENSE_EQUAL } from '../../../packager/rpm/dependency.js';
import { writeRpm } from '../../../packager/rpm/writer.js';
import { packageFileName, type DependencySpec, type PackageFile, type PackageSpec } from '../../../packager/rpm/spec.js';
import { describe, expect, it } from 'vitest';
import { commandLine, describeWithTools, run, runOk, systemTestsRequired, tmpDir, type RunResult } from '../tools.js';

export const BASE_PACKAGE = 'kpkg-test-base';
export const REPO_ID = 'kpkg';

/** Whether dnf can install here: it refuses to change even an installroot unless run as root. */
export const canRunDnf = process.getuid?.() === 0;

/**
 * A suite that installs with dnf (or runs Punch, which does): it needs root and `tools`; without
 * root it is skipped with a message, or fails when system tests are required.
 */
export function describeAsRoot(tools: readonly string[], name: string, fn: () => void): void {
  if (canRunDnf) return describeWithTools(tools, name, fn);
  if (systemTestsRequired) {
    describe(name, () => it('needs root (dnf --installroot)', () => expect.fail('dnf --installroot needs root (KPKG_SYSTEM_TESTS=required)')));
  } else {
    console.warn(`skipping "${name}": dnf --installroot needs root`);
    describe.skip(`${name} [skipped: needs root]`, () => it('needs root', () => {}));
  }
}

let home: string | undefined;

/** The private HOME of every rpm and dnf command of these tests (see the top of this file). */
function rpmHome(): string {
  if (home === undefined) {
    home = tmpDir('rpm-home');
    writeFileSync(join(home, '.rpmmacros'), '%_dbpath /var/lib/rpm\n');
  }
  return home;
}

function rpmEnv(): Record<string, string> {
  return { HOME: rpmHome() };
}

export interface StubOptions {
  name: string;
  /** RPM version (and release, default 1). */
  version: string;
  release?: string;
  epoch?: number;
  provides?: DependencySpec[];
  requires?: DependencySpec[];
  files?: PackageFile[];
}

/** Writes a noarch package with no payload of interest into `dir`; returns its path. */
export async function writeStubPackage(dir: string, o: StubOptions): Promise<string> {
  const spec: PackageSpec = {
    name: o.name,
    version: o.version,
    release: o.release ?? '1',
    ...(o.epoch !== undefined ? { epoch: o.epoch } : {}),
    arch: 'noarch',
    summary: `${o.name}, a stub package of kpkg's system tests`,
    description: `A stub package written by kpkg's system tests.`,
    license: 'Apache-2.0',
    provides: o.provides ?? [],
    requires: o.requires ?? [],
    files: o.files ?? [],
  };
  const path = join(dir, packageFileName(spec));
  await writeRpm(spec, path, { sourceDateEpoch: 1_700_000_000 });
  return path;
}

const STUB_TOOL = '#!/bin/sh\n# stub of kpkg-test-base: scriptlets are not run in the test roots\nexit 0\n';

/** What the stub system provides of nodejs by default: EL's and Fedora's nodejs are `1:20.x`. */
export const BASE_NODEJS = '1:20.17.0';

/**
 * The stub system: /bin/sh, /usr/sbin/useradd and /usr/sbin/groupadd as files, and
 * `nodejs = <nodejs>` (an EVR: `1:20.17.0` by default as EL's nodejs has epoch 1, `20.17.0` for
 * a provider without epoch); `puppet-agent` (what deployment packages require) and `crontabs`
 * (what packages with a cron table require), unless `without` names them.
 */
export async function writeBasePackage(dir: string, nodejs = BASE_NODEJS, without: readonly ('puppet-agent' | 'crontabs')[] = []): Promise<string> {
  const tool = (path: string): PackageFile => ({ path, kind: 'file', mode: 0o755, content: STUB_TOOL });
  const extra = (['puppet-agent', 'crontabs'] as const).filter((n) => !without.includes(n)).map((name) => ({ name, flags: RPMSENSE_EQUAL, version: '1.0' }));
  // the same file name either way: the variant goes into a directory of its own
  const into = without.length > 0 ? join(dir, `without-${without.join('-')}`) : dir;
  mkdirSync(into, { recursive: true });
  return writeStubPackage(into, {
    name: BASE_PACKAGE,
    version: '1.0',
    provides: [{ name: 'nodejs', flags: RPMSENSE_EQUAL, version: nodejs }, ...extra],
    files: [
      { path: '/bin', kind: 'dir' },
      tool('/bin/sh'),
      { path: '/usr', kind: 'dir' },
      { path: '/usr/sbin', kind: 'dir' },
      tool('/usr/sbin/groupadd'),
      tool('/usr/sbin/useradd'),
    ],
  });
}

/** A yum repository in a directory: packages copied in, metadata by createrepo_c. */
export class YumRepo {
  readonly dir: string;

  constructor(dir = tmpDir('yum-repo')) {
    this.dir = dir;
  }

  /** Copies `rpms` in (unless already there) and (re)writes the metadata (`createrepo_c --update` once it exists). */
  add(rpms: readonly string[]): void {
    for (const rpm of rpms) {
      const to = join(this.dir, basename(rpm));
      if (to !== rpm) copyFileSync(rpm, to);
    }
    const update = existsSync(join(this.dir, 'repodata', 'repomd.xml'));
    runOk('createrepo_c', ['--quiet', ...(update ? ['--update'] : []), this.dir]);
  }

  get packages(): string[] {
    return readdirSync(this.dir).filter((f) => f.endsWith('.rpm')).sort();
  }

  get url(): string {
    return `file://${this.dir}`;
  }
}

/** An empty root that dnf installs into from one YumRepo. */
export class InstallRoot {
  readonly root: string;
  readonly repo: YumRepo;
  private readonly conf: string;

  constructor(repo: YumRepo, name = 'root') {
    this.repo = repo;
    const work = tmpDir(`dnf-${name}`);
    this.root = join(work, 'root');
    const reposdir = join(work, 'repos.d');
    for (const d of [this.root, reposdir]) mkdirSync(d);
    this.conf = join(work, 'dnf.conf');
    writeFileSync(
      this.conf,
      [
        '[main]',
        `reposdir=${reposdir}`,
        // dnf puts cachedir, logdir and persistdir under the installroot itself
        'cachedir=/var/cache/dnf',
        'gpgcheck=0',
        'repo_gpgcheck=0',
        'install_weak_deps=False',
        'tsflags=noscripts',
        // the repository changes between commands (upgrades): never trust cached metadata
        'metadata_expire=0',
        'keepcache=False',
        'best=True',
        'skip_if_unavailable=False',
        'protected_packages=',
        '',
      ].join('\n'),
    );
  }

  /** The dnf command line for `args`, every setting private to this root. */
  dnfArgs(args: readonly string[]): string[] {
    return [
      '-y',
      `--config=${this.conf}`,
      `--installroot=${this.root}`,
      '--releasever=1',
      '--noplugins',
      '--nogpgcheck',
      '--setopt=tsflags=noscripts',
      // metadata_expire=0 is not enough: libdnf expires the cache when its age in whole seconds is
      // above metadata_expire (Repo::Impl::isExpired), so metadata fetched in the same second (an
      // upgrade right after an install and a fast build) would be reused without the new packages
      '--refresh',
      `--repofrompath=${REPO_ID},${this.repo.url}`,
      `--repo=${REPO_ID}`,
      ...args,
    ];
  }

  dnf(args: readonly string[]): RunResult {
    return run('dnf', this.dnfArgs(args), { env: rpmEnv(), timeout: 120_000 });
  }

  /** dnf `args`, throwing with its output unless it exits 0. */
  dnfOk(args: readonly string[]): RunResult {
    const res = this.dnf(args);
    if (res.status !== 0) {
      throw new Error(`dnf failed with status ${res.status}: ${commandLine('dnf', this.dnfArgs(args))}\n--- stderr\n${res.stderr}\n--- stdout\n${res.stdout}`);
    }
    return res;
  }

  install(...names: string[]): RunResult {
    return this.dnfOk(['install', ...names]);
  }

  upgrade(...names: string[]): RunResult {
    return this.dnfOk(['upgrade', ...names]);
  }

  /** `rpm --root <root> <args>` on this root's database. */
  rpm(args: readonly string[]): RunResult {
    return run('rpm', ['--root', this.root, ...args], { env: rpmEnv() });
  }

  /** NEVRA of every installed package, sorted. */
  installed(): string[] {
    const res = this.rpm(['-qa', '--qf', '%{NEVRA}\\n']);
    if (res.status !== 0) throw new Error(`rpm -qa failed in ${this.root}: ${res.stderr}`);
    return res.stdout.split('\n').filter((l) => l !== '').sort();
  }

  /** `[%{EPOCH}:]%{VERSION}-%{RELEASE}` of the installed package `name`, undefined when it is not installed. */
  evr(name: string): string | undefined {
    const res = this.rpm(['-q', '--qf', '%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\n', name]);
    if (res.status !== 0) return undefined;
    return res.stdout.trim();
  }

  /** A path inside the root. */
  path(installPath: string): string {
    return join(this.root, installPath);
  }
}
