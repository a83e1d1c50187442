/**
 * Trials on several machines: the search enqueues each training job on Redis through BullMQ, and
 * `procnas worker` processes on any number of machines train them in their own thread pools. The
 * search's store stays the single source of truth; Redis holds only jobs in flight and their
 * results for a week.
 *
 * A job's id is the run's id plus a hash of the job, so a resumed search that enqueues a job it
 * had enqueued before its crash gets that job's result (or waits for the worker still on it)
 * instead of training it twice. A worker that dies mid-job loses its lock, and BullMQ hands the
 * job to another worker.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { Queue, QueueEvents, Worker } from 'bullmq';
import type { ConnectionOptions, Job } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { absoluteDatasetSpec } from '../data/index.js';
import { TrainingPool } from '../engine/pool.js';
import type { BackendChoice, JobResult, JobRunner, TrainJob } from '../engine/index.js';
import { notationOf, parseArchitecture } from '../space/index.js';
import { ConfigError } from './config.js';

export const DEFAULT_QUEUE_NAME = 'procnas';

/** BullMQ's default lock: a dead worker's job moves on within about a minute. */
export const DEFAULT_LOCK_MS = 30_000;

/** Finished jobs stay in Redis this long, so that a resumed search finds their results. */
const KEEP_FINISHED_S = 7 * 24 * 3600;

/** host, port, credentials and database of a redis:// URL, as ioredis takes them. */
export function connectionOf(url: string): { host: string; port: number; username?: string; password?: string; db?: number; tls?: object } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`queue "${url}": not a URL; write redis://host:port (or rediss:// for TLS)`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(`queue "${url}": the scheme must be redis:// or rediss://, not ${parsed.protocol}//`);
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isInteger(db)) throw new ConfigError(`queue "${url}": the path must be a database number, e.g. redis://host:6379/2`);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db !== undefined ? { db } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** Fails fast, with the URL and the reason, when Redis cannot be reached (ioredis would retry forever). */
async function checkReachable(url: string): Promise<void> {
  const client = new Redis({ ...connectionOf(url), lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // The socket's own error (ECONNREFUSED, ENOTFOUND) says more than connect()'s "Connection is closed".
  let cause: Error | undefined;
  client.on('error', (error: Error) => {
    cause ??= error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new ConfigError(`queue ${url}: cannot reach Redis: ${(cause ?? (error as Error)).message}`);
  } finally {
    client.disconnect();
  }
}

function bullConnection(url: string): ConnectionOptions {
  // BullMQ's blocking connections need ioredis to retry requests for as long as it reconnects.
  return { ...connectionOf(url), maxRetriesPerRequest: null };
}

// Jobs and their results cross Redis as JSON: weights and int8 models as base64, and NaN (a diverged loss) kept as NaN.
export function encode(result: JobResult | TrainJob): string {
  return JSON.stringify(result, function (this: Record<string, unknown>, key: string, value: unknown) {
    // The value before its toJSON: a Buffer (protobuf's encoder makes them) would be a list of numbers.
    const raw = this[key];
    if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
    if (value instanceof Float32Array) return { $float32: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
    if (raw instanceof Uint8Array) return { $uint8: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') };
    return value;
  });
}

export function decode<T extends JobResult | TrainJob>(text: string): T {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value && typeof value === 'object' && '$number' in value) return Number((value as { $number: string }).$number);
    if (value && typeof value === 'object' && '$uint8' in value) return new Uint8Array(Buffer.from((value as { $uint8: string }).$uint8, 'base64'));
    if (value && typeof value === 'object' && '$float32' in value) {
      const bytes = Buffer.from((value as { $float32: string }).$float32, 'base64');
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }
    return value;
  }) as T;
}

/** A job as it arrives from Redis; the architecture itself is validated when the job lowers it. */
const TrainJobSchema = z.object({
  architecture: z.record(z.string(), z.unknown()),
  dataset: z.string(),
  split: z.object({ validation: z.number().optional(), seed: z.number().optional(), limit: z.number().optional() }).strict(),
  options: z.record(z.string(), z.unknown()),
  test: z.boolean().optional(),
  weights: z.boolean().optional(),
  int8: z.object({ images: z.number().int().positive(), calibration: z.enum(['minmax', 'percentile']), percentile: z.number().gt(50).max(100) }).strict().optional(),
  start: z.record(z.string(), z.object({ shape: z.array(z.number().int().nonnegative()), values: z.instanceof(Float32Array) })).optional(),
});

/** The search's side: runs each job on whichever worker takes it first. */
export class QueueRunner implements JobRunner {
  private constructor(
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly runId: string,
  ) {}

  /** Connects to the queue `name` on Redis at `url`; jobs get ids under `runId`. */
  static async connect(url: string, name: string, runId: string): Promise<QueueRunner> {
    await checkReachable(url);
    const connection = bullConnection(url);
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    // Redis may go away mid-search: ioredis reconnects, and waiting jobs simply wait.
    queue.on('error', () => undefined);
    events.on('error', () => undefined);
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new QueueRunner(queue, events, runId);
  }

  /** How many `procnas worker` processes are listening now. */
  workerCount(): Promise<number> {
    return this.queue.getWorkersCount();
  }

  async run(job: TrainJob): Promise<JobResult> {
    const data: TrainJob = { ...job, dataset: absoluteDatasetSpec(job.dataset) };
    // Weights (a start to inherit from) travel as base64, as results do.
    const wire = encode(data);
    const id = `${this.runId}-${createHash('sha256').update(wire).digest('hex').slice(0, 20)}`;
    const queued = await this.queue.add('train', JSON.parse(wire) as object, {
      jobId: id,
      removeOnComplete: { age: KEEP_FINISHED_S },
      removeOnFail: { age: KEEP_FINISHED_S },
    });
    const result: unknown = await queued.waitUntilFinished(this.events);
    if (typeof result !== 'string') throw new Error(`job ${id}: a worker returned no result; is it a procnas worker of this version?`);
    return decode<JobResult>(result);
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
  }
}

export interface WorkerOptions {
  url: string;
  name: string;
  /** Trainings at once on this machine (threads). */
  threads: number;
  backend: BackendChoice;
  /**
   * How long a job stays locked to this worker without a renewal: a crashed worker's jobs go to
   * another worker after about this long (also how often this worker looks for such jobs).
   */
  lockMs?: number;
  onJob?(event: { id: string; notation: string; state: 'started' | 'done' | 'failed'; detail?: string }): void;
  onConnectionError?(error: Error): void;
}

/** The worker's side: takes jobs from the queue and trains them in a local thread pool. */
export class QueueWorker {
  private constructor(
    private readonly worker: Worker,
    private readonly pool: TrainingPool,
  ) {}

  static async start(options: WorkerOptions): Promise<QueueWorker> {
    await checkReachable(options.url);
    const pool = new TrainingPool(options.threads, options.backend);
    try {
      await pool.ready();
    } catch (error) {
      await pool.close();
      throw error;
    }
    const host = hostname();
    const processor = async (job: Job): Promise<string> => {
      const parsed = TrainJobSchema.safeParse(decode<TrainJob>(JSON.stringify(job.data)));
      if (!parsed.success) throw new Error(`${host}: job ${job.id} is not a procnas training job: ${parsed.error.issues[0]?.message ?? ''}`);
      const data = parsed.data as unknown as TrainJob;
      let notation: string;
      try {
        notation = notationOf(parseArchitecture(data.architecture));
      } catch (error) {
        throw new Error(`${host}: job ${job.id}: ${(error as Error).message}`);
      }
      if (data.test) notation = `${notation} (final training)`;
      options.onJob?.({ id: String(job.id), notation, state: 'started' });
      try {
        const result = await pool.run(data);
        options.onJob?.({ id: String(job.id), notation, state: 'done', detail: `validation error ${(100 * result.validationError).toFixed(2)}%` });
        return encode(result);
      } catch (error) {
        const message = `${host}: ${(error as Error).message}`;
        options.onJob?.({ id: String(job.id), notation, state: 'failed', detail: message });
        throw new Error(message);
      }
    };
    const lockMs = options.lockMs ?? DEFAULT_LOCK_MS;
    const worker = new Worker(options.name, processor, { connection: bullConnection(options.url), concurrency: options.threads, lockDuration: lockMs, stalledInterval: lockMs });
    worker.on('error', (error) => options.onConnectionError?.(error));
    await worker.waitUntilReady();
    return new QueueWorker(worker, pool);
  }

  /** Finishes the jobs in hand, then disconnects. */
  async close(): Promise<void> {
    await this.worker.close();
    await this.pool.close();
  }
}
