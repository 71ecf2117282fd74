import { realpathSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addParentDirectories, compareBytes, exclusionMatcher, mapFiles, type MappedFile } from '../../../packager/descriptor/files.js';
import { resolveComponent } from '../../../packager/descriptor/load.js';
import { SYSTEM_DIRS } from '../../../packager/descriptor/paths.js';
import type { Component } from '../../../packager/descriptor/types.js';
import { expectInvalid, FIXTURES, tempDir, writeTree, type Tree } from './helpers.js';

let root: string;
let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir: root, cleanup } = await tempDir());
  // the component sits in its own directory, so "outside" has somewhere to be
  dir = join(root, 'shop');
  await mkdir(dir);
});
afterEach(() => cleanup());

function component(descriptor: Record<string, unknown>): Component {
  return resolveComponent({ dir, descriptor: { name: 'shop', type: 'webapp', version: '1.0.0', ...descriptor } });
}

async function mapped(tree: Tree, descriptor: Record<string, unknown>): Promise<MappedFile[]> {
  await writeTree(dir, tree);
  return mapFiles(component(descriptor));
}

/** One line per entry, like `ls -l` but terse: `d 755 /x`, `f 644 /x/a`, `l 777 /x/b -> a`. */
function lines(entries: MappedFile[]): string[] {
  return entries.map((e) => {
    const extra = [e.config ? 'config' : '', e.user ? `user=${e.user}` : '', e.group ? `group=${e.group}` : ''].filter(Boolean).join(' ');
    const base = `${{ file: 'f', dir: 'd', symlink: 'l' }[e.kind]} ${e.mode.toString(8)} ${e.dest}${e.target !== undefined ? ` -> ${e.target}` : ''}`;
    return extra ? `${base} ${extra}` : base;
  });
}

describe('mapFiles: directories', () => {
  it('maps a directory\'s contents recursively, sorted, owning the directories between prefix and files', async () => {
    const entries = await mapped(
      {
        'dist/server.js': 'x',
        'dist/b/z.js': 'x',
        'dist/a/deep/er/y.js': 'x',
        'dist/empty/': null,
        'dist/run.sh': { mode: 0o700, content: '#!/bin/sh' },
        'dist/tool': { mode: 0o751, content: 'x' },
        'dist/readonly.txt': { mode: 0o400, content: 'x' },
      },
      { files: [{ src: 'dist', dest: 'lib' }] },
    );
    expect(lines(entries)).toEqual([
      'd 755 /opt/kelkoo/shop',
      'd 755 /opt/kelkoo/shop/lib',
      'd 755 /opt/kelkoo/shop/lib/a',
      'd 755 /opt/kelkoo/shop/lib/a/deep',
      'd 755 /opt/kelkoo/shop/lib/a/deep/er',
      'f 644 /opt/kelkoo/shop/lib/a/deep/er/y.js',
      'd 755 /opt/kelkoo/shop/lib/b',
      'f 644 /opt/kelkoo/shop/lib/b/z.js',
      'd 755 /opt/kelkoo/shop/lib/empty',
      'f 644 /opt/kelkoo/shop/lib/readonly.txt',
      'f 755 /opt/kelkoo/shop/lib/run.sh',
      'f 644 /opt/kelkoo/shop/lib/server.js',
      'f 755 /opt/kelkoo/shop/lib/tool',
    ]);
    expect(entries.find((e) => e.dest.endsWith('/server.js'))?.src).toBe(join(realpathSync(dir), 'dist/server.js'));
    expect(entries.find((e) => e.dest === '/opt/kelkoo/shop')?.src).toBeUndefined();
  });

  it('leaves out excluded paths and .git wherever it is', async () => {
    const entries = await mapped(
      {
        'dist/.git/config': 'x',
        'dist/sub/.git': 'gitdir: ../x',
        'dist/sub/keep.js': 'x',
        'dist/a.js': 'x',
        'dist/a.js.map': 'x',
        'dist/deep/b.js.map': 'x',
        'dist/test/t.js': 'x',
        'dist/deep/test/t.js': 'x',
        'dist/test.js': 'x',
        'dist/docs/x/y.md': 'x',
        'dist/deep/docs/keep.md': 'x',
        'dist/top.txt': 'x',
        'dist/deep/top.txt': 'x',
        'dist/.env': 'x',
      },
      { files: [{ src: 'dist', dest: 'lib', exclude: ['*.map', 'test/', 'docs/**', '/top.txt', '.env'] }] },
    );
    expect(lines(entries).map((l) => l.slice(6).replace('/opt/kelkoo/shop/lib', ''))).toEqual([
      '/opt/kelkoo/shop',
      '',
      '/a.js',
      '/deep',
      '/deep/docs',
      '/deep/docs/keep.md',
      '/deep/top.txt',
      '/sub',
      '/sub/keep.js',
      '/test.js',
    ]);
  });

  it('maps the whole component with src "." but never .git', async () => {
    const entries = await mapped({ '.git/HEAD': 'ref', 'a.txt': 'x' }, { files: [{ src: '.', dest: 'share' }] });
    expect(lines(entries)).toEqual(['d 755 /opt/kelkoo/shop', 'd 755 /opt/kelkoo/shop/share', 'f 644 /opt/kelkoo/shop/share/a.txt']);
  });

  it('applies mode, config, user and group of a directory mapping', async () => {
    const entries = await mapped(
      { 'conf/a.yaml': 'x', 'conf/sub/b.yaml': { mode: 0o755, content: 'x' }, 'conf/link': { symlink: 'a.yaml' } },
      { files: [{ src: 'conf', dest: '/etc/kelkoo/shop', mode: '0640', config: true, user: 'root', group: 'shop' }] },
    );
    expect(lines(entries)).toEqual([
      'd 755 /etc/kelkoo/shop user=root group=shop',
      'f 640 /etc/kelkoo/shop/a.yaml config user=root group=shop',
      'l 777 /etc/kelkoo/shop/link -> a.yaml user=root group=shop',
      'd 755 /etc/kelkoo/shop/sub user=root group=shop',
      'f 640 /etc/kelkoo/shop/sub/b.yaml config user=root group=shop',
    ]);
  });

  it('lets two mappings fill one directory, and refuses owners that disagree', async () => {
    await writeTree(dir, { 'a/x.js': 'x', 'b/y.js': 'x' });
    const entries = await mapFiles(component({ files: [{ src: 'a', dest: 'lib' }, { src: 'b', dest: 'lib', user: 'shop' }] }));
    expect(lines(entries)).toEqual(['d 755 /opt/kelkoo/shop', 'd 755 /opt/kelkoo/shop/lib user=shop', 'f 644 /opt/kelkoo/shop/lib/x.js', 'f 644 /opt/kelkoo/shop/lib/y.js user=shop']);
    await expectInvalid(
      () => mapFiles(component({ files: [{ src: 'a', dest: 'lib', user: 'root' }, { src: 'b', dest: 'lib', user: 'shop' }] })),
      'component.json: /files/1/user:',
      '/files/0',
    );
  });

  it('owns what a directory mapping installs into a system directory, never the system directories', async () => {
    const entries = await mapped(
      { 'root/usr/bin/shopctl': { mode: 0o755, content: 'x' }, 'root/usr/share/doc/shop/README': 'x', 'root/etc/cron.d/shop': 'x', 'plugins/check_shop': { mode: 0o755, content: 'x' } },
      { files: [{ src: 'root', dest: '/' }, { src: 'plugins', dest: '/usr/lib64/nagios/plugins' }] },
    );
    expect(lines(entries)).toEqual([
      'f 644 /etc/cron.d/shop',
      'f 755 /usr/bin/shopctl',
      'f 755 /usr/lib64/nagios/plugins/check_shop',
      'd 755 /usr/share/doc/shop',
      'f 644 /usr/share/doc/shop/README',
    ]);
  });

  it('refuses a file where the tree has a system directory', async () => {
    await expectInvalid(() => mapped({ 'root/etc': 'x' }, { files: [{ src: 'root', dest: '/' }] }), 'component.json: /files/0/src:', 'system directory /etc');
  });
});

describe('mapFiles: single files and parents', () => {
  it('owns the directories below system ones and the prefix, not the shared roots', async () => {
    const entries = await mapped(
      { 'README.md': 'x', 'shop.yaml': 'x', 'bin/check': { mode: 0o755, content: 'x' }, 'lib/x.js': 'x' },
      {
        files: [
          { src: 'README.md', dest: '/usr/share/doc/shop/README.md' },
          { src: 'shop.yaml', dest: '/etc/kelkoo/shop/', config: true },
          { src: 'bin/check', dest: '/usr/lib64/nagios/plugins/check_shop' },
          { src: 'lib/x.js', dest: 'lib/deep/x.js', mode: 493 },
          { src: 'README.md', dest: '/var/lib/kelkoo/shop/data/README' },
        ],
      },
    );
    expect(lines(entries)).toEqual([
      'd 755 /etc/kelkoo/shop',
      'f 644 /etc/kelkoo/shop/shop.yaml config',
      'd 755 /opt/kelkoo/shop',
      'd 755 /opt/kelkoo/shop/lib',
      'd 755 /opt/kelkoo/shop/lib/deep',
      'f 755 /opt/kelkoo/shop/lib/deep/x.js',
      'f 755 /usr/lib64/nagios/plugins/check_shop',
      'd 755 /usr/share/doc/shop',
      'f 644 /usr/share/doc/shop/README.md',
      'd 755 /var/lib/kelkoo/shop',
      'd 755 /var/lib/kelkoo/shop/data',
      'f 644 /var/lib/kelkoo/shop/data/README',
    ]);
    for (const e of entries) expect(SYSTEM_DIRS.has(e.dest), e.dest).toBe(false);
  });

  it('owns a custom prefix but not the directory above it when that is a system one', async () => {
    const entries = await mapped({ 'a.js': 'x' }, { prefix: '/srv/shop', files: [{ src: 'a.js', dest: 'a.js' }] });
    expect(lines(entries)).toEqual(['d 755 /srv/shop', 'f 644 /srv/shop/a.js']);
  });

  it('keeps a file\'s name when dest ends with /', async () => {
    const entries = await mapped({ 'cfg/app.yaml': 'x' }, { files: [{ src: 'cfg/app.yaml', dest: 'etc/' }] });
    expect(entries.at(-1)?.dest).toBe('/opt/kelkoo/shop/etc/app.yaml');
  });

  it('refuses a file installed as a system directory or as the prefix', async () => {
    await writeTree(dir, { check: 'x' });
    await expectInvalid(() => mapFiles(component({ files: [{ src: 'check', dest: '/usr/lib64/nagios/plugins' }] })), 'component.json: /files/0/dest:', 'shared system directory', 'end dest with "/"');
    await expectInvalid(() => mapFiles(component({ files: [{ src: 'check', dest: '.' }] })), 'component.json: /files/0/dest:', "component's install root");
    await expectInvalid(() => mapFiles(component({ files: [{ src: 'check', dest: '/etc/kelkoo/shop' }] })), 'component.json: /files/0/dest:', 'configuration directory');
  });

  it('refuses exclude on a file and mode on a symbolic link', async () => {
    await writeTree(dir, { a: 'x', l: { symlink: 'a' } });
    await expectInvalid(() => mapFiles(component({ files: [{ src: 'a', dest: 'a', exclude: ['x'] }] })), 'component.json: /files/0/exclude:', 'only applies when src is a directory');
    await expectInvalid(() => mapFiles(component({ files: [{ src: 'l', dest: 'l', mode: '0755' }] })), 'component.json: /files/0/mode:', 'symbolic link');
  });

  it('is deterministic and sorted by the bytes of the path', async () => {
    const tree: Tree = { 'd/B': 'x', 'd/é': 'x', 'd/Z': 'x', 'd/a-b': 'x', 'd/a/c': 'x', 'd/😀': 'x', 'd/\uFFFD': 'x' };
    const first = await mapped(tree, { files: [{ src: 'd', dest: 'd' }] });
    const second = await mapFiles(component({ files: [{ src: 'd', dest: 'd' }] }));
    expect(second).toEqual(first);
    const dests = first.map((e) => e.dest);
    expect([...dests].sort(compareBytes)).toEqual(dests);
    // '-' (0x2d) sorts before '/' (0x2f); UTF-8 bytes, not UTF-16 units: U+FFFD before U+1F600
    expect(dests.slice(2).map((d) => d.replace('/opt/kelkoo/shop/d/', ''))).toEqual(['B', 'Z', 'a', 'a-b', 'a/c', 'é', '\uFFFD', '😀']);
  });
});

describe('mapFiles: symbolic links', () => {
  it('keeps links as links, inside or outside, and never descends a linked directory', async () => {
    await writeTree(root, { 'outside/secret.txt': 'x', 'outside/dir/f': 'x' });
    const entries = await mapped(
      {
        'dist/lib/a.js': 'x',
        'dist/current': { symlink: 'lib' },
        'dist/a-link.js': { symlink: 'lib/a.js' },
        'dist/etc-link': { symlink: '/etc' },
        'dist/up': { symlink: '../../outside/dir' },
        'dist/secret': { symlink: '../../outside/secret.txt' },
        'dist/dangling': { symlink: 'nowhere/at all' },
        'dist/self': { symlink: 'self' },
      },
      { files: [{ src: 'dist', dest: 'lib' }] },
    );
    expect(lines(entries)).toEqual([
      'd 755 /opt/kelkoo/shop',
      'd 755 /opt/kelkoo/shop/lib',
      'l 777 /opt/kelkoo/shop/lib/a-link.js -> lib/a.js',
      'l 777 /opt/kelkoo/shop/lib/current -> lib',
      'l 777 /opt/kelkoo/shop/lib/dangling -> nowhere/at all',
      'l 777 /opt/kelkoo/shop/lib/etc-link -> /etc',
      'd 755 /opt/kelkoo/shop/lib/lib',
      'f 644 /opt/kelkoo/shop/lib/lib/a.js',
      'l 777 /opt/kelkoo/shop/lib/secret -> ../../outside/secret.txt',
      'l 777 /opt/kelkoo/shop/lib/self -> self',
      'l 777 /opt/kelkoo/shop/lib/up -> ../../outside/dir',
    ]);
  });

  it('packages a src that is itself a link inside the component as a link', async () => {
    const entries = await mapped({ 'lib/a.js': 'x', current: { symlink: 'lib' } }, { files: [{ src: 'current', dest: 'current' }] });
    expect(lines(entries)).toEqual(['d 755 /opt/kelkoo/shop', 'l 777 /opt/kelkoo/shop/current -> lib']);
  });

  it('refuses a src that resolves outside the component', async () => {
    await writeTree(root, { 'outside/f.txt': 'x' });
    await writeTree(dir, { 'link-to-etc': { symlink: '/etc' }, 'link-out': { symlink: '../outside' }, dangling: { symlink: 'nope' }, loop: { symlink: 'loop' } });
    await expectInvalid(() => mapFiles(component({ files: [{ src: 'link-to-etc', dest: 'etc' }] })), 'component.json: /files/0/src: "link-to-etc" resolves to /etc, outside the component directory');
    await expectInvalid(() => mapFiles(component({ files: [{ src: 'link-out/f.txt', dest: 'f' }] })), 'component.json: /files/0/src:', 'outside the component');
    await expectInvalid(() => mapFiles(component({ files: [{ src: 'dangling', dest: 'd' }] })), 'component.json: /files/0/src: "dangling" is a symbolic link to "nope", which does not exist');
    await expectInvalid(() => mapFiles(component({ files: [{ src: 'loop', dest: 'd' }] })), 'component.json: /files/0/src: "loop" is a loop of symbolic links');
  });

  it('works when the component directory itself is reached through a link', async () => {
    await writeTree(dir, { 'a.js': 'x' });
    await symlink(dir, join(root, 'shop-link'));
    const c = resolveComponent({ dir: join(root, 'shop-link'), descriptor: { name: 'shop', type: 'webapp', version: '1.0.0', files: [{ src: 'a.js', dest: 'a.js' }, { src: '.', dest: 'all' }] } });
    expect(lines(await mapFiles(c))).toEqual(['d 755 /opt/kelkoo/shop', 'f 644 /opt/kelkoo/shop/a.js', 'd 755 /opt/kelkoo/shop/all', 'f 644 /opt/kelkoo/shop/all/a.js']);
  });
});

describe('mapFiles: names', () => {
  it('maps names with spaces, accents, emoji, quotes and glob characters', async () => {
    const names = ['with space.txt', 'é-nfc.txt', 'e\u0301-nfd.txt', '日本語.txt', '😀.txt', "quote'\"s.txt", 'star*[?].txt', '%{macro}.txt', '-dash.txt', 'back\\slash.txt'];
    const tree: Tree = {};
    for (const n of names) tree[`d/${n}`] = 'x';
    const entries = await mapped(tree, { files: [{ src: 'd', dest: 'share dir' }] });
    const got = entries.filter((e) => e.kind === 'file').map((e) => e.dest.replace('/opt/kelkoo/shop/share dir/', ''));
    expect(new Set(got)).toEqual(new Set(names));
  });

  it('maps a path of 300 characters and more', async () => {
    const segment = 'x'.repeat(100);
    const rel = `d/${segment}/${segment}/${segment}/file.txt`;
    const entries = await mapped({ [rel]: 'x' }, { files: [{ src: 'd', dest: 'lib' }] });
    const file = entries.find((e) => e.kind === 'file')!;
    expect(file.dest.length).toBeGreaterThan(300);
    expect(file.dest).toBe(`/opt/kelkoo/shop/lib/${segment}/${segment}/${segment}/file.txt`);
    expect(entries.filter((e) => e.kind === 'dir')).toHaveLength(5);
  });

  it('refuses a name with a newline or another control character, naming the mapping', async () => {
    await writeTree(dir, { 'd/ok.txt': 'x', 'd/bad\nname.txt': 'x' });
    await expectInvalid(() => mapFiles(component({ files: [{ src: 'd', dest: 'lib' }] })), 'component.json: /files/0/src: "d/bad\\nname.txt" has a control character');
    await writeTree(dir, { 'e/sub/tab\there': 'x' });
    await expectInvalid(() => mapFiles(component({ files: [{ src: 'd', dest: 'lib', exclude: ['bad*'] }, { src: 'e', dest: 'e' }] })), 'component.json: /files/1/src: "e/sub/tab\\there"');
  });

  it('refuses a name that is not UTF-8 and a link whose target has a newline', async () => {
    await mkdir(join(dir, 'd'));
    await writeFile(Buffer.concat([Buffer.from(join(dir, 'd/')), Buffer.from([0x66, 0xe9, 0x2e, 0x74])]), 'x');
    await expectInvalid(() => mapFiles(component({ files: [{ src: 'd', dest: 'lib' }] })), 'component.json: /files/0/src:', 'not valid UTF-8');
    await writeTree(dir, { 'l/link': { symlink: 'a\nb' } });
    await expectInvalid(() => mapFiles(component({ files: [{ src: 'l', dest: 'l' }] })), 'component.json: /files/0/src: "l/link" is a symbolic link whose target has a control character');
  });

  it('refuses a socket', async () => {
    await mkdir(join(dir, 'd'));
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(dir, 'd/sock'), resolve));
    try {
      await expectInvalid(() => mapFiles(component({ files: [{ src: 'd', dest: 'lib' }] })), 'component.json: /files/0/src: "d/sock" is a socket');
    } finally {
      server.close();
    }
  });
});

describe('mapFiles: mistakes', () => {
  it('names a src that does not exist', async () => {
    await writeTree(dir, { 'a.txt': 'x' });
    await expectInvalid(() => mapFiles(component({ files: [{ src: 'a.txt', dest: 'a' }, { src: 'dist', dest: 'lib' }] })), `component.json: /files/1/src: "dist" does not exist in ${dir}`);
    await expectInvalid(() => mapFiles(component({ files: [{ src: 'a.txt/x', dest: 'a' }] })), 'component.json: /files/0/src: "a.txt/x" does not exist');
  });

  it('names both mappings that install the same path', async () => {
    await writeTree(dir, { 'a.txt': 'x', 'b.txt': 'x', 'd/a.txt': 'x' });
    await expectInvalid(
      () => mapFiles(component({ files: [{ src: 'a.txt', dest: 'x.txt' }, { src: 'b.txt', dest: 'y' }, { src: 'b.txt', dest: 'x.txt' }] })),
      'component.json: /files/2/dest: installs /opt/kelkoo/shop/x.txt (a file), which /files/0 installs too',
    );
    await expectInvalid(
      () => mapFiles(component({ files: [{ src: 'd', dest: 'lib' }, { src: 'a.txt', dest: 'lib/a.txt' }] })),
      'component.json: /files/1/dest:',
      '/opt/kelkoo/shop/lib/a.txt',
      '/files/0',
    );
  });

  it('names a file where another mapping needs a directory', async () => {
    await writeTree(dir, { 'a.txt': 'x', 'd/b.txt': 'x' });
    await expectInvalid(
      () => mapFiles(component({ files: [{ src: 'a.txt', dest: 'lib' }, { src: 'd', dest: 'lib/sub' }] })),
      'component.json: /files/',
      'inside /opt/kelkoo/shop/lib',
      'as a file',
    );
  });

  it('refuses what a hand-made Component could hold: absolute src, escaping dest, bad mode', async () => {
    await writeTree(dir, { 'a.txt': 'x' });
    const base = component({});
    const withFiles = (files: Component['files']): Component => ({ ...base, files });
    await expectInvalid(() => mapFiles(withFiles([{ src: '/etc/passwd', dest: 'x' }])), 'component.json: /files/0/src:', 'not absolute');
    await expectInvalid(() => mapFiles(withFiles([{ src: '../shop/a.txt', dest: 'x' }])), 'component.json: /files/0/src:', 'inside the component');
    await expectInvalid(() => mapFiles(withFiles([{ src: 'a.txt', dest: '../x' }])), 'component.json: /files/0/dest: must stay inside the prefix');
    await expectInvalid(() => mapFiles(withFiles([{ src: 'a.txt', dest: 'x', mode: '9' }])), 'component.json: /files/0/mode:');
    await expectInvalid(() => mapFiles(withFiles([{ src: 'a.txt', dest: `${'n'.repeat(256)}` }])), 'component.json: /files/0/dest:', 'longer than 255 bytes');
  });
});

describe('mapFiles on the example components', () => {
  it('maps shop: excludes source maps, config file 0640', async () => {
    const c = resolveComponent({
      dir: join(FIXTURES, 'shop'),
      descriptor: JSON.parse((await import('node:fs')).readFileSync(join(FIXTURES, 'shop/component.json'), 'utf8')),
      packageJson: { version: '1.4.0' },
    });
    expect(lines(await mapFiles(c))).toEqual([
      'd 755 /etc/kelkoo/shop',
      'f 640 /etc/kelkoo/shop/shop.yaml config group=shop',
      'd 755 /opt/kelkoo/shop',
      'd 755 /opt/kelkoo/shop/lib',
      'd 755 /opt/kelkoo/shop/lib/public',
      'f 644 /opt/kelkoo/shop/lib/public/index.html',
      'f 644 /opt/kelkoo/shop/lib/server.js',
    ]);
  });
});

describe('exclusionMatcher', () => {
  it('matches names at any depth, paths from src, anchored and directory-only patterns', () => {
    const m = exclusionMatcher(['*.map', 'docs/**', '/only-top', 'cache/', '**/fixtures/*.json']);
    expect(m('a.js.map', false)).toBe(true);
    expect(m('x/y/a.js.map', false)).toBe(true);
    expect(m('docs', true)).toBe(true);
    expect(m('docs/a/b', false)).toBe(true);
    expect(m('x/docs/a', false)).toBe(false);
    expect(m('only-top', false)).toBe(true);
    expect(m('x/only-top', false)).toBe(false);
    expect(m('cache', true)).toBe(true);
    expect(m('cache', false)).toBe(false);
    expect(m('a/b/fixtures/x.json', false)).toBe(true);
    expect(m('a.js', false)).toBe(false);
  });
});

describe('addParentDirectories', () => {
  it('adds what the builder\'s own files need and refuses duplicates', () => {
    const out = addParentDirectories([
      { dest: '/opt/kelkoo/shop/bin/shop', kind: 'file', mode: 0o755 },
      { dest: '/usr/lib/systemd/system/shop.service', kind: 'file', mode: 0o644 },
      { dest: '/opt/kelkoo/shop', kind: 'dir', mode: 0o755, user: 'root' },
    ]);
    expect(lines(out)).toEqual(['d 755 /opt/kelkoo/shop user=root', 'd 755 /opt/kelkoo/shop/bin', 'f 755 /opt/kelkoo/shop/bin/shop', 'f 644 /usr/lib/systemd/system/shop.service']);
    expect(() => addParentDirectories([{ dest: '/x/a', kind: 'file', mode: 0o644 }, { dest: '/x/a', kind: 'symlink', mode: 0o777, target: 'b' }])).toThrow(/\/x\/a is installed twice/);
    expect(() => addParentDirectories([{ dest: '/x/a', kind: 'file', mode: 0o644 }, { dest: '/x/a/b', kind: 'file', mode: 0o644 }])).toThrow(/inside \/x\/a/);
  });
});
