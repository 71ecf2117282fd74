/**
 * The entry point of the worker thread that writes publish's staged copies (stage-writer.ts):
 * batches of files arrive with their bytes; each is created, written and given its times, then
 * the batch is acknowledged. Loaded only as a worker, from the compiled module.
 */
import { closeSync, futimesSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { StageBatch, StageReply } from './stage-writer.js';

const port = parentPort;
if (port !== null && (workerData as { kpkgStageWriter?: boolean } | undefined)?.kpkgStageWriter === true) {
  port.on('message', (batch: StageBatch) => {
    const data = Buffer.from(batch.data);
    let offset = 0;
    for (const [i, f] of batch.files.entries()) {
      try {
        const fd = openSync(f.tmp, 'wx', 0o644);
        try {
          for (let done = 0; done < f.length; ) done += writeSync(fd, data, offset + done, f.length - done);
          futimesSync(fd, f.atime, f.mtime);
        } finally {
          closeSync(fd);
        }
      } catch (e) {
        try {
          unlinkSync(f.tmp);
        } catch {
          // not created
        }
        port.postMessage({ id: batch.id, failed: { index: i, code: (e as NodeJS.ErrnoException).code ?? '', message: e instanceof Error ? e.message : String(e) } } satisfies StageReply);
        return;
      }
      offset += f.length;
    }
    port.postMessage({ id: batch.id } satisfies StageReply);
  });
}
