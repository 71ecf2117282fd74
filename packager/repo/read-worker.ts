/**
 * The entry point of a worker thread that reads packages for read.ts's readMany: it reads its share
 * and posts the result back. Loaded only as a worker, from the compiled module.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { KpkgError } from '../errors.js';
import { readHere, type ReadJob, type ReadReply } from './read.js';

const port = parentPort;
const job = workerData as ReadJob | undefined;
if (port !== null && job?.kpkgReadPackages === true) {
  readHere(job.items, job.compress, 1, job.stage).then(
    (r) => port.postMessage({ ok: true, ...r } satisfies ReadReply),
    (e: unknown) => port.postMessage({ ok: false, code: e instanceof KpkgError ? e.code : 'INTERNAL', message: e instanceof Error ? e.message : String(e) } satisfies ReadReply),
  );
}
