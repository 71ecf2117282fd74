#!/usr/bin/env node
// One cold read of a repository's metadata, as Punch and Geppetto do it at start: a fresh process,
// dist/ loaded, readRepositoryMetadata timed; then the same read again (warm), and the stages of
// a third read (fetch and verify, decompress, decode, parse). Prints one JSON line.
//
//   node bench/repo-read-once.mjs <baseurl>
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const baseurl = process.argv[2];
if (!baseurl) {
  process.stderr.write('usage: node bench/repo-read-once.mjs <baseurl>\n');
  process.exit(2);
}
const t0 = performance.now();
const m = await import(join(ROOT, 'dist', 'packager', 'repo', 'read-metadata.js'));
const f = await import(join(ROOT, 'dist', 'packager', 'repo', 'fetch.js'));
const loaded = performance.now();
const cold = await m.readRepositoryMetadata({ baseurl });
const coldMs = performance.now() - loaded;
const t1 = performance.now();
const warm = await m.readRepositoryMetadata({ baseurl });
const warmMs = performance.now() - t1;
if (warm.packages.length !== cold.packages.length) throw new Error('two reads differ');

// the stages, warm
const s0 = performance.now();
const src = await f.resolveSource({ baseurl });
const repomd = await m.readRepomd(src);
const { data, url } = await m.readMetadataFile(src, repomd, 'primary');
const s1 = performance.now();
const text = m.decodeUtf8(data, url.href);
const s2 = performance.now();
const parsed = m.parsePrimary(text, url.href);
const s3 = performance.now();
// the fetch stage also decompresses; time that alone
const packed = await f.fetchBytes(src, new URL(repomd.data.find((d) => d.type === 'primary').href, src.base), { maxBytes: 1 << 30 });
const d0 = performance.now();
await m.decompressMetadata(packed, 'primary', 1 << 30);
const decompressMs = performance.now() - d0;

process.stdout.write(
  `${JSON.stringify({
    packages: cold.packages.length,
    primaryBytes: data.length,
    loadMs: loaded - t0,
    coldMs,
    warmMs,
    fetchVerifyDecompressMs: s1 - s0,
    decompressMs,
    decodeMs: s2 - s1,
    parseMs: s3 - s2,
    parsedPackages: parsed.packages.length,
  })}\n`,
);
