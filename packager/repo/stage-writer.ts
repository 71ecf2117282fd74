/**
 * Writes publish's staged copies (read.ts Candidate.staged) on a thread of their own while this
 * thread goes on reading: creating thousands of files is system time (5,000 took 0.3 s to 2 s
 * here, as they do for `cp`) that a second core can spend while the first parses headers. The
 * bytes go in batches (one message, one buffer) to keep the cost on this thread to a copy.
 * Workers run only from the compiled module; elsewhere, or for a few packages, read.ts writes
 * each copy itself.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ioError } from '../errors.js';

export interface StageBatch {
  id: number;
  files: { tmp: string; length: number; atime: number; mtime: number }[];
  data: ArrayBuffer;
}
export type StageReply = { id: number; failed?: { index: number; code: string; message: string } };

/** A batch is sent when it holds this many files or bytes. */
const BATCH_FILES = 64;
const BATCH_BYTES = 4 << 20;
/** Bytes sent and not yet written, at most (then add() waits): a bound on the memory held. */
const IN_FLIGHT_BYTES = 32 << 20;

interface Pending {
  source: string;
  tmp: string;
  data: Buffer;
  atime: number;
  mtime: number;
}

export class StageWriter {
  private readonly worker: Worker;
  private batch: Pending[] = [];
  private batchBytes = 0;
  private inFlight = new Map<number, { files: Pending[]; bytes: number }>();
  private inFlightBytes = 0;
  private nextId = 0;
  private failure: Error | undefined;
  private closing = false;
  private waiters: (() => void)[] = [];
  private readonly settledAll: Promise<void>;

  constructor(private readonly dir: string) {
    this.worker = new Worker(fileURLToPath(new URL('./stage-worker.js', import.meta.url)), { workerData: { kpkgStageWriter: true } });
    this.worker.on('message', (r: StageReply) => this.onReply(r));
    this.settledAll = new Promise((resolve) => {
      this.worker.once('exit', () => {
        if (!this.closing) this.fail(new Error(`the thread writing into ${dir} stopped`));
        resolve();
      });
    });
    this.worker.once('error', (e) => this.fail(e));
  }

  /** Queues `data` (read from `source`) to be written at `tmp` with the given times (seconds). */
  async add(source: string, tmp: string, data: Buffer, atime: number, mtime: number): Promise<void> {
    this.throwIfFailed();
    this.batch.push({ source, tmp, data, atime, mtime });
    this.batchBytes += data.length;
    if (this.batch.length >= BATCH_FILES || this.batchBytes >= BATCH_BYTES) this.send();
    while (this.inFlightBytes > IN_FLIGHT_BYTES && !this.failure) await this.change();
    this.throwIfFailed();
  }

  /** Waits until every file queued is written; throws the first failure (then stops the worker). */
  async finish(): Promise<void> {
    this.send();
    while (this.inFlight.size > 0 && !this.failure) await this.change();
    await this.close();
    this.throwIfFailed();
  }

  /** Stops the worker once what it is writing is written (nothing is still writing afterwards). */
  async close(): Promise<void> {
    this.batch = [];
    while (this.inFlight.size > 0 && !this.failure) await this.change();
    this.closing = true;
    await this.worker.terminate();
    await this.settledAll;
  }

  private send(): void {
    if (this.batch.length === 0 || this.failure) return;
    const files = this.batch;
    const bytes = this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    const data = new ArrayBuffer(bytes);
    const view = new Uint8Array(data);
    let offset = 0;
    for (const f of files) {
      view.set(f.data, offset);
      offset += f.data.length;
    }
    const id = this.nextId++;
    this.inFlight.set(id, { files, bytes });
    this.inFlightBytes += bytes;
    this.worker.postMessage(
      { id, files: files.map((f) => ({ tmp: f.tmp, length: f.data.length, atime: f.atime, mtime: f.mtime })), data } satisfies StageBatch,
      [data],
    );
  }

  private onReply(r: StageReply): void {
    const sent = this.inFlight.get(r.id);
    if (sent === undefined) return;
    this.inFlight.delete(r.id);
    this.inFlightBytes -= sent.bytes;
    if (r.failed) {
      const f = sent.files[r.failed.index];
      const cause = Object.assign(new Error(r.failed.message), { code: r.failed.code });
      this.fail(ioError(`copy ${f?.source ?? 'a package'} into`, this.dir, cause));
    }
    this.wake();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Resolves at the next reply or failure. */
  private change(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}
