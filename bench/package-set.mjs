// The package sets of the repository benches (repo.mjs, repo-read.mjs): N small packages written
// once by kpkg's writer (dist/ must be built) into a cache directory under bench/.work/, only those
// missing written again. Each bench describes its own packages (`spec`); the writing is here.
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * Writes into `dir` the packages 0..count-1 not there yet: package i is `spec(i)` (writeRpm's
 * input) written as `fileOf(i)`, with a fixed SOURCE_DATE_EPOCH so that the bytes are the same
 * on every machine. `log` is told once when something is written.
 */
export async function writePackageSet({ dir, count, fileOf, spec, log = () => undefined }) {
  mkdirSync(dir, { recursive: true });
  const have = new Set(readdirSync(dir));
  const missing = [];
  for (let i = 0; i < count; i++) if (!have.has(fileOf(i))) missing.push(i);
  if (missing.length === 0) return;
  log(`writing ${missing.length} packages into ${dir} (once)`);
  const { writeRpm } = await import(pathToFileURL(join(ROOT, 'dist', 'packager', 'rpm', 'writer.js')).href);
  for (const i of missing) await writeRpm(spec(i), join(dir, fileOf(i)), { sourceDateEpoch: 1_700_000_000 });
}
