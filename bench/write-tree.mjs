#!/usr/bin/env node
// Packages a directory tree with kpkg's writer, as one fresh process (the bench times the whole
// process, startup included, as it does for rpmbuild and tar).
//
//   node bench/write-tree.mjs <src-dir> <out.rpm> [--prefix /opt/kelkoo/bench/node_modules] [--level N]
//
// Every entry below <src-dir> becomes <prefix>/<relative path>, with its own permission bits;
// the parents of <prefix> up to /opt/kelkoo are not owned, like rpmbuild's `%files /opt/kelkoo/bench`.
// Prints one JSON line on stdout: the package size, the entry count, the phase times and the
// process's peak RSS (process.resourceUsage().maxRSS, KiB).
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const t0 = performance.now();
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    prefix: { type: 'string', default: '/opt/kelkoo/bench/node_modules' },
    level: { type: 'string' },
  },
});
if (positionals.length !== 2) {
  process.stderr.write('usage: write-tree.mjs <src-dir> <out.rpm> [--prefix P] [--level N]\n');
  process.exit(2);
}
const [src, out] = positionals.map((p) => resolve(p));
const prefix = values.prefix.replace(/\/+$/, '');

const here = dirname(fileURLToPath(import.meta.url));
const { writeRpm } = await import(pathToFileURL(join(here, '..', 'dist', 'packager', 'rpm', 'index.js')).href);
const tImport = performance.now();

/** Depth-first walk; the writer sorts the records itself, so the order here does not matter. */
function walk(dir, dest, files) {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const from = join(dir, ent.name);
    const to = `${dest}/${ent.name}`;
    if (ent.isDirectory()) {
      files.push({ path: to, kind: 'dir', mode: lstatSync(from).mode & 0o7777 });
      walk(from, to, files);
    } else if (ent.isSymbolicLink()) {
      files.push({ path: to, kind: 'symlink', target: readlinkSync(from) });
    } else if (ent.isFile()) {
      files.push({ path: to, kind: 'file', source: from, mode: lstatSync(from).mode & 0o7777 });
    } else {
      throw new Error(`${from}: not a file, directory or symlink`);
    }
  }
  return files;
}

const files = [];
// the directories rpmbuild's `%files /opt/kelkoo/bench` owns above the tree
for (let p = prefix; p.split('/').length > 3; p = p.slice(0, p.lastIndexOf('/'))) {
  files.push({ path: p, kind: 'dir', mode: 0o755 });
}
walk(src, prefix, files);
const tWalk = performance.now();

const written = await writeRpm(
  {
    name: 'kelkoo-bench',
    version: '1.0.0',
    release: '1',
    arch: 'noarch',
    summary: 'kpkg benchmark tree',
    description: 'A node_modules tree, packaged to compare kpkg with rpmbuild and tar.',
    license: 'MIT',
    files,
  },
  out,
  values.level === undefined ? {} : { level: Number(values.level) },
);
const tWrite = performance.now();

process.stdout.write(
  `${JSON.stringify({
    size: written.size,
    archiveSize: written.archiveSize,
    payloadSize: written.payloadSize,
    entries: files.length,
    ms: { import: Math.round(tImport - t0), walk: Math.round(tWalk - tImport), write: Math.round(tWrite - tWalk) },
    maxRSSKiB: process.resourceUsage().maxRSS,
  })}\n`,
);
