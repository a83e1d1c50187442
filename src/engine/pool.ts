/**
 * Trains candidates in parallel, one per core, on worker threads (TF.js's WASM backend is single
 * threaded in Node: two trainings at once run about 1.7x one). A job that fails (a bad
 * architecture, a crash in training) rejects its own promise, with an error of the class the
 * worker threw; the pool goes on. A pool whose engine cannot start, whose workers keep dying, or
 * that was closed rejects every job it holds and every later one, with the reason.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BackendChoice } from './backend.js';
import type { JobResult, JobRunner, TrainJob } from './job.js';
import { rebuildError } from './remote-error.js';
import type { RemoteError } from './remote-error.js';

interface Pending {
  job: TrainJob;
  resolve: (result: JobResult) => void;
  reject: (error: Error) => void;
}

/** A job's outcome, or (without an id) whether the worker's engine started. */
type Reply = { id: number; result?: JobResult; error?: RemoteError } | { id?: undefined; ready: boolean; error?: RemoteError };

const WORKER = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

export class TrainingPool implements JobRunner {
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly running = new Map<number, Pending & { worker: Worker }>();
  private readonly workers: Worker[] = [];
  private nextId = 0;

  /** Why the pool takes no more jobs (closed, or broken), once it does not. */
  private stopped: Error | undefined;
  /** Workers that died in a row without finishing a job: past a limit the pool is broken. */
  private deaths = 0;
  private readonly retired = new Set<Worker>();
  /** Workers of the first set whose engine started; `started` settles when all have. */
  private readyCount = 0;
  private readonly started: Promise<void>;
  private settleStarted!: { resolve: () => void; reject: (error: Error) => void };

  constructor(size = availableParallelism(), private readonly backend: BackendChoice = 'auto') {
    this.started = new Promise<void>((resolve, reject) => {
      this.settleStarted = { resolve, reject };
    });
    // Nobody has to wait for start-up: a failure also reaches every job.
    this.started.catch(() => undefined);
    for (let i = 0; i < Math.max(1, size); i++) {
      const worker = this.spawn();
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Resolves once every worker's engine has started; rejects with the reason if one cannot. */
  ready(): Promise<void> {
    return this.started;
  }

  run(job: TrainJob): Promise<JobResult> {
    return new Promise((resolve, reject) => {
      if (this.stopped) {
        reject(this.stopped);
        return;
      }
      this.queue.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  /** Rejects the jobs still queued or running, then ends the workers. */
  async close(): Promise<void> {
    this.stop(this.stopped ?? new Error('the training pool was closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** No more jobs: everything held and every later job is rejected with `reason`. */
  private stop(reason: Error): void {
    if (this.stopped) return;
    this.stopped = reason;
    this.settleStarted.reject(reason);
    for (const pending of [...this.queue, ...this.running.values()]) pending.reject(reason);
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
    worker.on('message', (reply: Reply) => this.receive(worker, reply));
    // A worker that cannot even load its module (a broken install) ends with an error event.
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

  private receive(worker: Worker, reply: Reply): void {
    if (reply.id === undefined) {
      // Every worker starts the same engine the same way: one that cannot, none can.
      if (!reply.ready) this.stop(rebuildError(reply.error ?? { name: 'Error', message: 'the training engine did not start' }));
      else if (++this.readyCount === this.workers.length) this.settleStarted.resolve();
      return;
    }
    const pending = this.running.get(reply.id);
    if (!pending) return;
    this.running.delete(reply.id);
    this.deaths = 0;
    if (!this.retired.has(worker)) this.idle.push(worker);
    if (reply.error !== undefined) pending.reject(rebuildError(reply.error));
    else pending.resolve(reply.result as JobResult);
    this.dispatch();
  }

  /** A worker died (out of memory, a fault in WASM): its job fails, a fresh worker takes its place. */
  private fail(worker: Worker, error: Error): void {
    if (this.retired.has(worker)) return;
    this.retired.add(worker);
    const idle = this.idle.indexOf(worker);
    if (idle >= 0) this.idle.splice(idle, 1);
    for (const [id, pending] of this.running) {
      if (pending.worker !== worker) continue;
      this.running.delete(id);
      pending.reject(error);
    }
    if (this.stopped) return;
    // Workers that cannot even start (a broken install, limits too tight) would die forever.
    if (++this.deaths > 2 * this.workers.length) {
      this.stop(new Error(`training workers keep dying; the last: ${error.message}`));
      return;
    }
    const replacement = this.spawn();
    this.workers[this.workers.indexOf(worker)] = replacement;
    this.idle.push(replacement);
    this.dispatch();
  }
}
