/**
 * Trains candidates in parallel, one per core, on worker threads (TF.js's WASM backend is single
 * threaded in Node: two trainings at once run about 1.7x one). A job that fails (a bad
 * architecture, a crash in training) rejects its own promise; the pool goes on.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BackendChoice } from './backend.js';
import type { JobResult, TrainJob } from './job.js';

interface Pending {
  job: TrainJob;
  resolve: (result: JobResult) => void;
  reject: (error: Error) => void;
}

interface Reply {
  id: number;
  result?: JobResult;
  error?: string;
}

const WORKER = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

export class TrainingPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly running = new Map<number, Pending & { worker: Worker }>();
  private readonly workers: Worker[] = [];
  private nextId = 0;

  private closing = false;
  /** Workers that died in a row without finishing a job: past a limit the pool is broken. */
  private deaths = 0;
  private readonly retired = new Set<Worker>();

  constructor(size = availableParallelism(), private readonly backend: BackendChoice = 'auto') {
    for (let i = 0; i < Math.max(1, size); i++) {
      const worker = this.spawn();
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  run(job: TrainJob): Promise<JobResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    for (const pending of [...this.queue, ...this.running.values()]) pending.reject(new Error('the training pool was closed'));
    this.queue.length = 0;
    this.running.clear();
  }

  private spawn(): Worker {
    const options = { workerData: { backend: this.backend } };
    const worker = WORKER.pathname.endsWith('.ts')
      ? // Running from TypeScript sources (tests, tsx): register tsx's loader inside the thread first.
        new Worker(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
            `.then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER.href)}); })`,
          { eval: true, ...options },
        )
      : new Worker(WORKER, options);
    worker.on('message', (reply: Reply) => this.settle(worker, reply));
    worker.on('error', (error) => this.fail(worker, error));
    // A thread can also end without an error event (process.exit inside it).
    worker.on('exit', (code) => this.fail(worker, new Error(`the training worker exited (code ${code})`)));
    return worker;
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop() as Worker;
      const pending = this.queue.shift() as Pending;
      const id = this.nextId++;
      this.running.set(id, { ...pending, worker });
      worker.postMessage({ id, job: pending.job });
    }
  }

  private settle(worker: Worker, reply: Reply): void {
    const pending = this.running.get(reply.id);
    if (!pending) return;
    this.running.delete(reply.id);
    this.deaths = 0;
    this.idle.push(worker);
    if (reply.error !== undefined) pending.reject(new Error(reply.error));
    else pending.resolve(reply.result as JobResult);
    this.dispatch();
  }

  /** A worker died (out of memory, a fault in WASM): its job fails, a fresh worker takes its place. */
  private fail(worker: Worker, error: Error): void {
    if (this.closing || this.retired.has(worker)) return;
    this.retired.add(worker);
    const idle = this.idle.indexOf(worker);
    if (idle >= 0) this.idle.splice(idle, 1);
    for (const [id, pending] of this.running) {
      if (pending.worker !== worker) continue;
      this.running.delete(id);
      pending.reject(error);
    }
    // Workers that cannot even start (a broken install, limits too tight) would die forever.
    if (++this.deaths > 2 * this.workers.length) {
      this.closing = true;
      for (const pending of this.queue) pending.reject(new Error(`training workers keep dying; the last: ${error.message}`));
      this.queue.length = 0;
      return;
    }
    const replacement = this.spawn();
    this.workers[this.workers.indexOf(worker)] = replacement;
    this.idle.push(replacement);
    this.dispatch();
  }
}
