// A tree of files that exercises everything a package can hold, written to disk so that both our
// writer and the real rpmbuild package the very same bytes, plus the PackageSpec that describes it.
//
// The source tree mirrors the install layout: <root>/opt/kpkg-systest/... is installed at
// /opt/kpkg-systest/..., so rpmbuild's %install is a plain `cp -a <root>/. %{buildroot}/`.
import { createCipheriv, createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  RPMSENSE_EQUAL,
  RPMSENSE_GREATER,
  RPMSENSE_LESS,
  RPMSENSE_SCRIPT_PRE,
} from '../../../packager/rpm/dependency.js';
import type { PackageFile, PackageSpec } from '../../../packager/rpm/spec.js';

export const TREE_PACKAGE = 'kpkg-systest';
export const PREFIX = `/opt/${TREE_PACKAGE}`;
/** The SOURCE_DATE_EPOCH the system tests build with (2023-11-14T22:13:20Z). */
export const SOURCE_DATE_EPOCH = 1_700_000_000;

/** One entry of the tree, as a package should record and install it. */
export interface TreeEntry {
  /** Install path, absolute. */
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  /** Permission bits only. */
  mode: number;
  /** Regular files: body length and SHA-256 (hex). */
  size?: number;
  sha256?: string;
  /** Symlinks: the target as written. */
  target?: string;
  config?: boolean;
  noreplace?: boolean;
  doc?: boolean;
  ghost?: boolean;
}

export interface TestTree {
  /** The source tree on disk (mirrors the install layout). */
  root: string;
  /** Every entry the package holds, sorted by path bytes (as rpm sorts them). */
  entries: TreeEntry[];
  spec: PackageSpec;
}

export interface TreeOptions {
  /** Size of the pseudo-random binary; default 5 MiB. */
  bigFileSize?: number;
}

/** Deterministic pseudo-random bytes: AES-128-CTR of zeros under a fixed key (fast, no state). */
export function pseudoRandomBytes(size: number, seed = 'kpkg-system-tests'): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A name made of several components, each well under NAME_MAX (255 bytes), whose whole path is
 * over 300 characters: exercises long cpio names and long DIRNAMES without hitting a limit.
 */
export const LONG_DIR_COMPONENTS = [
  `long-${'a'.repeat(95)}`,
  `deeper-${'b'.repeat(93)}`,
  `deepest-${'c'.repeat(92)}`,
];
export const LONG_FILE_NAME = `file-${'d'.repeat(90)}.txt`;

/** Names that need care in a spec file, a shell or a cpio archive. */
export const ODD_NAMES = {
  space: 'with space.txt',
  accents: 'café crème.txt',
  cjkDir: '日本語',
  cjkFile: 'ファイル.txt',
  dash: '-leading-dash',
  lua: '%{lua:os.exit(3)}.txt',
  shell: '$(id).txt',
  spaceDir: 'dir with space',
} as const;

export const DESCRIPTION = [
  'A package written by kpkg for the system tests: odd file names (spaces,',
  'café, 日本語, a leading dash, %{lua:os.exit(3)} and $(id)), every kind of',
  'file and of dependency.',
  '',
  'Neither %{name} nor $(rm -rf /) nor `id` may be expanded by a reader.',
].join('\n');

/**
 * Writes the tree under `root` (created) and returns it with its PackageSpec. Every directory of
 * ours is an entry of its own (`dir`), as rpmbuild's `%dir` would list it; the system directories
 * above them (/opt, /etc, /usr/share/doc, /var/log) are not: the filesystem package owns those.
 */
export function makeTestTree(root: string, options: TreeOptions = {}): TestTree {
  const entries: TreeEntry[] = [];
  const onDisk = (path: string) => join(root, path);

  const dir = (path: string, mode = 0o755) => {
    mkdirSync(onDisk(path), { recursive: true });
    chmodSync(onDisk(path), mode); // exactly, whatever the umask: rpmbuild reads modes from disk
    entries.push({ path, kind: 'dir', mode });
  };
  const file = (path: string, body: Buffer | string, mode = 0o644, extra: Partial<TreeEntry> = {}) => {
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    mkdirSync(dirname(onDisk(path)), { recursive: true });
    writeFileSync(onDisk(path), data);
    chmodSync(onDisk(path), mode);
    entries.push({ path, kind: 'file', mode, size: data.length, sha256: sha256(data), ...extra });
  };
  const symlink = (path: string, target: string) => {
    mkdirSync(dirname(onDisk(path)), { recursive: true });
    symlinkSync(target, onDisk(path));
    entries.push({ path, kind: 'symlink', mode: 0o777, target });
  };

  const P = PREFIX;
  dir(P);
  dir(`${P}/bin`);
  file(`${P}/bin/${TREE_PACKAGE}`, '#!/bin/sh\n# launcher of the system-test package\necho "kpkg-systest $*"\n', 0o755);
  file(`${P}/bin/helper.sh`, '#!/bin/sh\nexit 0\n', 0o755);
  symlink(`${P}/bin/run`, TREE_PACKAGE); // relative
  dir(`${P}/lib`);
  dir(`${P}/lib/a`);
  dir(`${P}/lib/a/b`);
  dir(`${P}/lib/a/b/c`);
  dir(`${P}/lib/a/b/empty-leaf`); // an empty directory at the bottom of a nested one
  file(`${P}/lib/a/data.json`, '{"answer": 42, "text": "%{name} $(id)"}\n');
  file(`${P}/lib/a/b/c/deep.txt`, 'three levels down\n'.repeat(100));
  dir(`${P}/share`);
  dir(`${P}/share/empty-dir`);
  file(`${P}/share/empty.txt`, '');
  file(`${P}/share/random.bin`, pseudoRandomBytes(options.bigFileSize ?? 5 * 1024 * 1024));
  symlink(`${P}/share/config-link`, `/etc/${TREE_PACKAGE}/app.conf`); // absolute
  symlink(`${P}/share/dangling`, '../nowhere/missing.txt'); // dangling, relative

  dir(`${P}/names`);
  file(`${P}/names/${ODD_NAMES.space}`, 'a space\n');
  file(`${P}/names/${ODD_NAMES.accents}`, 'café crème\n');
  dir(`${P}/names/${ODD_NAMES.cjkDir}`);
  file(`${P}/names/${ODD_NAMES.cjkDir}/${ODD_NAMES.cjkFile}`, 'nihongo\n');
  file(`${P}/names/${ODD_NAMES.dash}`, 'dash\n');
  file(`${P}/names/${ODD_NAMES.lua}`, 'not a macro\n');
  file(`${P}/names/${ODD_NAMES.shell}`, 'not a command substitution\n');
  dir(`${P}/names/${ODD_NAMES.spaceDir}`);
  symlink(`${P}/names/${ODD_NAMES.spaceDir}/lien vers café`, `../${ODD_NAMES.accents}`);
  let long = `${P}/names`;
  for (const part of LONG_DIR_COMPONENTS) {
    long = `${long}/${part}`;
    dir(long);
  }
  file(`${long}/${LONG_FILE_NAME}`, 'a long way down\n');

  const etc = `/etc/${TREE_PACKAGE}`;
  dir(etc);
  file(`${etc}/app.conf`, 'listen_port=8080\ngreeting=%{name} $(id)\n', 0o644, { config: true, noreplace: true });
  file(`${etc}/secret.key`, 'not really a secret\n', 0o600, { config: true });

  const doc = `/usr/share/doc/${TREE_PACKAGE}`;
  dir(doc);
  file(`${doc}/README.md`, '# kpkg-systest\n\nA package for the system tests.\n', 0o644, { doc: true });

  const log = `/var/log/${TREE_PACKAGE}`;
  dir(log, 0o750);
  // %ghost: in the header, never in the payload. rpmbuild wants it in the buildroot, so it is on
  // disk too (empty); our spec gives it no source.
  file(`${log}/app.log`, '', 0o640, { ghost: true });
  const ghost = entries[entries.length - 1] as TreeEntry;
  delete ghost.sha256;
  ghost.size = 0;

  entries.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return { root, entries, spec: specFromTree(root, entries) };
}

/** Sets the atime and mtime of every file and directory on disk (symlinks' own are left alone). */
export function touchTree(tree: Pick<TestTree, 'root' | 'entries'>, seconds: number): void {
  for (const e of tree.entries) {
    if (e.kind === 'symlink') continue;
    utimesSync(join(tree.root, e.path), seconds, seconds);
  }
}

function specFromTree(root: string, entries: TreeEntry[]): PackageSpec {
  const files: PackageFile[] = entries.map((e) => {
    const f: PackageFile = { path: e.path, kind: e.kind, mode: e.mode, user: 'root', group: 'root' };
    if (e.kind === 'file' && !e.ghost) f.source = join(root, e.path);
    if (e.kind === 'symlink') f.target = e.target as string;
    if (e.config) f.config = true;
    if (e.noreplace) f.noreplace = true;
    if (e.doc) f.doc = true;
    if (e.ghost) f.ghost = true;
    return f;
  });
  // changelog times at 12:00 UTC, as rpmbuild turns a `%changelog` date into a time
  const day = (iso: string) => Date.parse(`${iso}T12:00:00Z`) / 1000;
  return {
    name: TREE_PACKAGE,
    epoch: 3,
    version: '1.2.3',
    release: '4.kpkg',
    arch: 'noarch',
    summary: 'System-test package: odd names, every kind of file and dependency',
    description: DESCRIPTION,
    license: 'Apache-2.0',
    url: 'https://systest.kelkoo.invalid/kpkg-systest',
    vendor: 'Kelkoo',
    packager: 'Kelkoo system tests <systest@kelkoo.invalid>',
    group: 'Applications/System',
    buildHost: 'systest.kelkoo',
    requires: [
      { name: 'bash', flags: RPMSENSE_GREATER | RPMSENSE_EQUAL, version: '4.0' },
      { name: '(foo >= 1.0 with foo < 2.0)' },
      { name: '/usr/sbin/useradd', flags: RPMSENSE_SCRIPT_PRE },
      { name: 'coreutils' },
    ],
    provides: [
      { name: 'kpkg-systest-api', flags: RPMSENSE_EQUAL, version: '1.2' },
      { name: 'greeting(en)' },
    ],
    conflicts: [{ name: 'kpkg-systest-legacy', flags: RPMSENSE_LESS, version: '1.0' }],
    obsoletes: [{ name: 'kpkg-systest-old', flags: RPMSENSE_LESS | RPMSENSE_EQUAL, version: '1.1.9' }],
    recommends: [{ name: 'kpkg-systest-docs', flags: RPMSENSE_GREATER | RPMSENSE_EQUAL, version: '1.2.3' }],
    suggests: [{ name: 'kpkg-systest-extras' }, { name: '(bash-completion if bash)' }],
    scripts: {
      pre: 'getent passwd kpkgsys >/dev/null || useradd -r -d /opt/kpkg-systest -s /sbin/nologin kpkgsys || :\n',
      post: 'echo "kpkg-systest installed (count $1), literally: %{name} $(id)"\n',
      preun: 'if [ "$1" -eq 0 ]; then echo "kpkg-systest removed"; fi\n',
      postun: { body: 'if [ "$1" -ge 1 ]; then echo "kpkg-systest upgraded"; fi\n', interpreter: '/bin/bash' },
    },
    changelog: [
      {
        time: day('2023-11-14'),
        author: 'Kelkoo System Tests <systest@kelkoo.invalid> - 3:1.2.3-4.kpkg',
        text: '- Odd names: %{lua:os.exit(3)}, $(id), café, 日本語\n- A 5 MiB binary',
      },
      {
        time: day('2023-01-02'),
        author: 'Kelkoo System Tests <systest@kelkoo.invalid> - 1.0.0-1',
        text: '- First version',
      },
    ],
    files,
  };
}

export interface CompareOptions {
  /** Every file and directory must have this mtime (seconds). */
  mtime?: number;
  /** Check directories' mtimes too (default true). */
  dirMtimes?: boolean;
  /** Check symlinks' own mtimes too (lutimes). */
  symlinkMtimes?: boolean;
}

/**
 * Compares what is on disk under `dir` (an extracted payload, an installed root) with the entries
 * of a tree: same paths, types, permission bits, bodies (SHA-256), symlink targets and, when
 * asked, mtimes; %ghost entries absent. Directories the tree owns may hold nothing else; the
 * directories above them (/opt, /etc, /var/log...) may (an installed root has /var/lib/rpm).
 * Returns one line per difference: `[]` means identical.
 */
export function compareWithDisk(dir: string, entries: readonly TreeEntry[], options: CompareOptions = {}): string[] {
  const problems: string[] = [];
  const expected = new Map(entries.filter((e) => !e.ghost).map((e) => [e.path, e]));
  const ghosts = entries.filter((e) => e.ghost).map((e) => e.path);
  const ancestors = new Set<string>();
  for (const path of expected.keys()) {
    for (let p = dirname(path); p !== '/'; p = dirname(p)) if (!expected.has(p)) ancestors.add(p);
  }
  const seen = new Set<string>();
  const walk = (path: string) => {
    for (const name of readdirSync(join(dir, path))) {
      const child = `${path === '/' ? '' : path}/${name}`;
      if (expected.has(child)) {
        seen.add(child);
        const e = expected.get(child) as TreeEntry;
        problems.push(...compareEntry(join(dir, child), e, options));
        if (e.kind === 'dir' && lstatSync(join(dir, child)).isDirectory()) walk(child);
      } else if (ancestors.has(child)) {
        walk(child);
      } else if (path !== '/' && !ancestors.has(path)) {
        problems.push(`${child}: not in the package`);
      }
    }
  };
  walk('/');
  for (const path of expected.keys()) if (!seen.has(path)) problems.push(`${path}: missing`);
  for (const path of ghosts) if (existsSync(join(dir, path))) problems.push(`${path}: a %ghost file, must not be created`);
  return problems;
}

function compareEntry(diskPath: string, e: TreeEntry, options: CompareOptions): string[] {
  const problems: string[] = [];
  const st = lstatSync(diskPath);
  const kind = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  if (kind !== e.kind) return [`${e.path}: a ${kind}, expected a ${e.kind}`];
  if (e.kind !== 'symlink' && (st.mode & 0o7777) !== e.mode) {
    problems.push(`${e.path}: mode ${(st.mode & 0o7777).toString(8)}, expected ${e.mode.toString(8)}`);
  }
  if (e.kind === 'file') {
    const body = readFileSync(diskPath);
    if (body.length !== e.size) problems.push(`${e.path}: ${body.length} bytes, expected ${e.size}`);
    else if (sha256(body) !== e.sha256) problems.push(`${e.path}: other bytes (sha256 ${sha256(body)}, expected ${e.sha256})`);
  }
  if (e.kind === 'symlink') {
    const target = readlinkSync(diskPath);
    if (target !== e.target) problems.push(`${e.path}: links to ${JSON.stringify(target)}, expected ${JSON.stringify(e.target)}`);
  }
  const checkMtime = e.kind === 'symlink' ? options.symlinkMtimes === true : e.kind === 'dir' ? options.dirMtimes !== false : true;
  if (options.mtime !== undefined && checkMtime) {
    const mtime = Math.floor(st.mtimeMs / 1000);
    if (mtime !== options.mtime) problems.push(`${e.path}: mtime ${mtime}, expected ${options.mtime}`);
  }
  return problems;
}

/** `ls -l`'s permission string, as rpm's `:perms` format prints it. */
export function permsString(e: Pick<TreeEntry, 'kind' | 'mode'>): string {
  const type = e.kind === 'dir' ? 'd' : e.kind === 'symlink' ? 'l' : '-';
  const m = e.mode;
  const triplet = (shift: number, special: number, ch: string) => {
    const r = m & (4 << shift) ? 'r' : '-';
    const w = m & (2 << shift) ? 'w' : '-';
    const x = m & (1 << shift);
    const xs = m & special ? (x ? ch : ch.toUpperCase()) : x ? 'x' : '-';
    return r + w + xs;
  };
  return type + triplet(6, 0o4000, 's') + triplet(3, 0o2000, 's') + triplet(0, 0o1000, 't');
}

/** The full st_mode rpm records: type bits and permission bits. */
export function fullMode(e: Pick<TreeEntry, 'kind' | 'mode'>): number {
  return (e.kind === 'dir' ? 0o040000 : e.kind === 'symlink' ? 0o120000 : 0o100000) | e.mode;
}
