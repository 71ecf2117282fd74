// A file of 4 GiB + 1 byte (sparse on disk): the writer must switch to rpm's large-file format
// (LONGFILESIZES, LONGSIZE, the stripped cpio entries "07070X", rpmlib(LargeFiles)) and stream it,
// its memory bounded far below the file's size. Slow (it reads, hashes and compresses 4 GiB),
// so it runs only with KPKG_SLOW_TESTS=1.
//
// The writer runs in a child `node`, from JavaScript compiled here by tsc, so that its peak RSS
// (process.resourceUsage().maxRSS) is the writer's alone, not vitest's.
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageInfo, readRpm, verifyDigests } from '../../packager/rpm/reader.js';
import { payloadManifest } from '../helpers/payload-manifest.js';
import { Tag } from '../../packager/rpm/tags.js';
import type { PackageSpec } from '../../packager/rpm/spec.js';
import { rpmQuery } from './helpers/rpmq.js';
import { describeWithTools, run, runOk, tmpDir } from './tools.js';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const slow = process.env.KPKG_SLOW_TESTS === '1';

const BIG = 4 * 1024 ** 3 + 1; // one byte past what a newc header (8 hex digits) can state
const SDE = 1_700_000_000;
/** Peak RSS allowed to the writing process: a small fraction of the file. */
const MAX_RSS_BYTES = 256 * 1024 ** 2;

function describeSlow(tools: readonly string[], name: string, fn: () => void): void {
  if (slow) describeWithTools(tools, name, fn);
  else describe.skip(`${name} [slow: set KPKG_SLOW_TESTS=1 to run]`, fn);
}

describeSlow(['rpm', 'rpm2cpio'], 'a package with a 4 GiB + 1 byte file', () => {
  let pkg: string;
  let maxRssBytes: number;

  beforeAll(() => {
    const work = tmpDir('rpm-large');
    // the writer and what it imports, compiled to JavaScript (node 20 cannot run TypeScript)
    const out = join(work, 'js');
    const tsc = join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const compiled = run(process.execPath, [
      tsc,
      '--outDir',
      out,
      '--rootDir',
      projectRoot,
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--types',
      'node',
      '--skipLibCheck',
      join(projectRoot, 'packager', 'rpm', 'writer.ts'),
    ]);
    const writerJs = join(out, 'packager', 'rpm', 'writer.js');
    if (run('test', ['-f', writerJs]).status !== 0) throw new Error(`tsc did not compile the writer:\n${compiled.stdout}${compiled.stderr}`);
    writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
    symlinkSync(join(projectRoot, 'node_modules'), join(out, 'node_modules')); // semver, lzma-native...

    // sparse: no disk space used, 4 GiB of zeros to read
    const big = join(work, 'src', 'huge.bin');
    mkdirSync(dirname(big), { recursive: true });
    const fd = openSync(big, 'w');
    ftruncateSync(fd, BIG);
    closeSync(fd);

    const spec: PackageSpec = {
      name: 'kpkg-large',
      version: '1.0.0',
      release: '1',
      summary: 'A 4 GiB + 1 byte file',
      description: 'Large-file format test.',
      license: 'Apache-2.0',
      files: [
        { path: '/opt/kpkg-large', kind: 'dir' },
        { path: '/opt/kpkg-large/huge.bin', kind: 'file', source: big },
        { path: '/opt/kpkg-large/small.txt', kind: 'file', content: 'small\n' },
      ],
    };
    pkg = join(work, 'out', 'kpkg-large-1.0.0-1.noarch.rpm');
    const script = join(out, 'write-large.mjs');
    writeFileSync(
      script,
      [
        `import { writeRpm } from ${JSON.stringify(writerJs)};`,
        `const [spec, outPath] = [JSON.parse(process.argv[2]), process.argv[3]];`,
        // gzip level 1: the test is about the format and memory, not the ratio
        `const written = await writeRpm(spec, outPath, { compression: 'gzip', level: 1, sourceDateEpoch: ${SDE} });`,
        `console.log(JSON.stringify({ written, maxRSS: process.resourceUsage().maxRSS }));`,
      ].join('\n'),
    );
    const res = runOk(process.execPath, [script, JSON.stringify(spec), pkg], { timeout: 600_000 });
    const report = JSON.parse(res.stdout.trim().split('\n').at(-1) as string) as { maxRSS: number };
    maxRssBytes = report.maxRSS * 1024; // maxRSS is in KiB
  }, 900_000);

  it('the writing process stays far below the file size in memory', () => {
    expect(maxRssBytes).toBeGreaterThan(0);
    expect(maxRssBytes).toBeLessThan(MAX_RSS_BYTES);
  });

  it('rpm -K: digests OK', () => {
    expect(runOk('rpm', ['-K', pkg]).stdout).toBe(`${pkg}: digests OK\n`);
  });

  it('rpm -qlvp shows the size; LONGFILESIZES, LONGSIZE and rpmlib(LargeFiles) are there', () => {
    const lines = runOk('rpm', ['-qlvp', pkg]).stdout;
    expect(lines).toMatch(new RegExp(`\\s${BIG}\\s.*/opt/kpkg-large/huge\\.bin\\n`));
    const q = rpmQuery(pkg, ['LONGSIZE', 'SIZE'], ['LONGFILESIZES', 'FILESIZES', 'FILENAMES', 'REQUIRENAME']);
    expect(q.stderr).toBe('');
    expect(q.array('FILENAMES')).toEqual(['/opt/kpkg-large', '/opt/kpkg-large/huge.bin', '/opt/kpkg-large/small.txt']);
    expect(q.array('LONGFILESIZES').slice(1)).toEqual([String(BIG), '6']);
    expect(q.scalar('LONGSIZE')).toBe(String(BIG + 6 + Number(q.array('LONGFILESIZES')[0])));
    expect(q.array('REQUIRENAME')).toContain('rpmlib(LargeFiles)');
  });

  it('the payload is a stripped cpio archive (07070X), as rpm writes it for large files', async () => {
    // rpm2cpio 4.18 knows such a package and refuses it, as it does rpmbuild's
    const r2c = run('rpm2cpio', [pkg]);
    expect(r2c.status).not.toBe(0);
    expect(r2c.stderr).toContain('files over 4GB not supported by cpio, use rpm2archive instead');
    // so the payload's first bytes are read with gzip (head closes the pipe: gzip stops there)
    const { payloadOffset } = await readRpm(pkg);
    const res = runOk('sh', ['-c', 'tail -c +"$2" "$1" | gzip -dc 2>/dev/null | head -c 6', 'sh', pkg, String(payloadOffset + 1)]);
    expect(res.stdout).toBe('07070X');
  });

  it('our reader: the sizes, the digests, and the payload walk of the 4 GiB member', async () => {
    const p = await readRpm(pkg);
    expect(p.header.has(Tag.LONGFILESIZES)).toBe(true);
    expect(p.header.has(Tag.FILESIZES)).toBe(false);
    const info = packageInfo(p);
    expect(info.files.map((f) => f.size).slice(1)).toEqual([BIG, 6]);
    expect((await verifyDigests(p)).ok).toBe(true);
    const manifest = await payloadManifest(p);
    const huge = manifest.find((m) => m.path === '/opt/kpkg-large/huge.bin');
    expect(huge?.size).toBe(BIG);
    expect(huge?.sha256).toBe(info.files[1]?.digest);
  }, 600_000);
});

// The same format with the threshold lowered (WriteOptions.largeFileThreshold), so that it runs in
// every CI run: a 3 MiB file takes the large-file path, and rpm must read and install it.
describeWithTools(['rpm'], 'the large-file format at a lowered threshold, read and installed by rpm', () => {
  const work = tmpDir('rpm-large-lowered');
  const pkg = join(work, 'kpkg-lowered-1.0.0-1.noarch.rpm');
  const body = Buffer.alloc(3 * 1024 * 1024 + 5, 0x61);

  beforeAll(async () => {
    const { writeRpm } = await import('../../packager/rpm/writer.js');
    const source = join(work, 'body.bin');
    writeFileSync(source, body);
    const spec: PackageSpec = {
      name: 'kpkg-lowered',
      version: '1.0.0',
      release: '1',
      summary: 'The large-file format, small',
      description: 'Large-file format test at a lowered threshold.',
      license: 'Apache-2.0',
      files: [
        { path: '/opt/kpkg-lowered', kind: 'dir' },
        { path: '/opt/kpkg-lowered/body.bin', kind: 'file', source },
        { path: '/opt/kpkg-lowered/small.txt', kind: 'file', content: 'small\n' },
      ],
    };
    await writeRpm(spec, pkg, { sourceDateEpoch: SDE, largeFileThreshold: 1024 * 1024 });
  });

  it('rpm -K: digests OK; LONGFILESIZES and rpmlib(LargeFiles) are there', () => {
    expect(runOk('rpm', ['-K', pkg]).stdout).toBe(`${pkg}: digests OK\n`);
    const q = rpmQuery(pkg, [], ['LONGFILESIZES', 'FILENAMES', 'REQUIRENAME']);
    expect(q.stderr).toBe('');
    expect(q.array('LONGFILESIZES').slice(1)).toEqual([String(body.length), '6']);
    expect(q.array('REQUIRENAME')).toContain('rpmlib(LargeFiles)');
  });

  it('rpm installs it into a root: every byte where it belongs', () => {
    const root = join(work, 'root');
    mkdirSync(root, { recursive: true });
    runOk('rpm', ['--root', root, '--nodeps', '--noscripts', '-i', pkg]);
    expect(readFileSync(join(root, 'opt/kpkg-lowered/body.bin')).equals(body)).toBe(true);
    expect(readFileSync(join(root, 'opt/kpkg-lowered/small.txt'), 'utf8')).toBe('small\n');
  });
});
