/**
 * Does every worker stay busy? The search loop with 2, 4 and 8 evaluations in flight, on the
 * NAS-Bench-201 table with an artificial training delay: each candidate "trains" for a time
 * proportional to its MACs (the initial cell, all 3×3 convolutions, takes --delay-ms; cells of
 * skips and zeros take a tenth of it at least), as a real training's time follows its compute.
 * Ideal scaling is W workers never idle: W / (mean delay) trials per second. The loop is run
 * asynchronously (a free worker asks the strategy at once) and behind a barrier that emulates
 * the synchronous loop procnas had before (a batch of W proposed, all of it awaited), and the
 * script prints trials per minute and their share of ideal for both.
 *
 * In-process by default: the delay stands for a training on a worker. With `--redis`, every
 * evaluation goes through BullMQ on a local redis-server the script starts, to a queue worker
 * (in this process, concurrency W) that sleeps the delay: the search's side of a distributed
 * search, queue round trips included. What the queue adds to a real training job is measured by
 * bench/queue-overhead.ts.
 *
 *   node --import tsx bench/search-scaling.ts [--workers 2,4,8] [--delay-ms 100] [--trials 120]
 *        [--strategies local,evolution,random] [--seed 1] [--redis]
 */
import { parseArgs } from 'node:util';
import { estimateCost } from '../src/cost/index.js';
import { createRng } from '../src/data/index.js';
import { presetProcessor } from '../src/processor/index.js';
import type { Processor } from '../src/processor/index.js';
import { DEFAULT_LOSS, Evolution, LocalSearch, Nb201TableEvaluator, RandomSearch, runSearch } from '../src/search/index.js';
import type { Evaluator, Strategy, Trial } from '../src/search/index.js';
import { Nb201Space, lower } from '../src/space/index.js';
import type { Architecture } from '../src/space/index.js';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { connectionOf } from '../src/experiment/queue.js';
import { startRedis } from '../test/redis.js';
import type { RedisServer } from '../test/redis.js';

const { values } = parseArgs({
  options: {
    table: { type: 'string', default: new URL('../../shared/data/nb201/accuracy.json', import.meta.url).pathname },
    workers: { type: 'string', default: '2,4,8' },
    'delay-ms': { type: 'string', default: '100' },
    trials: { type: 'string', default: '120' },
    strategies: { type: 'string', default: 'local,evolution,random' },
    seed: { type: 'string', default: '1' },
    redis: { type: 'boolean', default: false },
  },
});
const workerCounts = values.workers.split(',').map(Number);
const delayMs = Number(values['delay-ms']);
const trials = Number(values.trials);
const seed = Number(values.seed);

const processor = presetProcessor('mobile-npu') as Processor;
const space = new Nb201Space('cifar10');
const table = new Nb201TableEvaluator(space, values.table);
const initial = space.fromDigits('333333');
const macs = (a: Architecture): number => estimateCost(lower(a), processor).macs;
const initialMacs = macs(initial);
const delayOf = (a: Architecture): number => Math.max(0.1, macs(a) / initialMacs) * delayMs;

/** The table's error after sleeping as long as the candidate would train; records the delays. */
class DelayedTable implements Evaluator {
  readonly delays: number[] = [];
  async evaluate(a: Architecture): Promise<{ error: number }> {
    const ms = delayOf(a);
    this.delays.push(ms);
    await new Promise((resolve) => setTimeout(resolve, ms));
    return table.evaluate(a);
  }
}

/** The same, through Redis: each evaluation is a BullMQ job that a queue worker of `workers` slots sleeps through. */
class QueuedDelayedTable implements Evaluator {
  readonly delays: number[] = [];
  private constructor(private readonly queue: Queue, private readonly events: QueueEvents, private readonly worker: Worker) {}
  static async start(url: string, name: string, workers: number): Promise<QueuedDelayedTable> {
    const connection = { ...connectionOf(url), maxRetriesPerRequest: null };
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    const worker = new Worker(name, async (job) => new Promise((resolve) => setTimeout(() => resolve('slept'), (job.data as { ms: number }).ms)), { connection, concurrency: workers });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]);
    return new QueuedDelayedTable(queue, events, worker);
  }
  async evaluate(a: Architecture): Promise<{ error: number }> {
    const ms = delayOf(a);
    this.delays.push(ms);
    const job = await this.queue.add('sleep', { ms }, { removeOnComplete: true });
    await job.waitUntilFinished(this.events);
    return table.evaluate(a);
  }
  async close(): Promise<void> {
    await this.worker.close();
    await this.events.close();
    await this.queue.close();
  }
}

/** The synchronous loop, emulated: proposes only when everything it proposed has landed. */
class Barrier implements Strategy {
  readonly name: string;
  private readonly pending = new Set<string>();
  constructor(private readonly inner: Strategy) {
    this.name = inner.name;
  }
  async propose(slots: number): Promise<Architecture[]> {
    if (this.pending.size > 0) return [];
    const candidates = await this.inner.propose(slots);
    for (const a of candidates) this.pending.add(space.key(a));
    return candidates;
  }
  observe(landed: Trial[]): void {
    for (const t of landed) this.pending.delete(t.key);
    this.inner.observe(landed);
  }
}

const make: Record<string, () => Strategy> = {
  local: () => new LocalSearch(space, initial, createRng(seed)),
  evolution: () => new Evolution(space, initial, createRng(seed)),
  random: () => new RandomSearch(space, initial, createRng(seed)),
};

const redis: RedisServer | undefined = values.redis ? await startRedis() : undefined;
let queues = 0;
console.log(`NAS-Bench-201 table, delay ∝ MACs (${delayMs} ms for cell 333333), ${trials} trials per run${redis ? ', every evaluation a job through Redis (BullMQ)' : ', in-process'}`);
console.log('strategy'.padEnd(10), 'workers'.padStart(7), 'loop'.padStart(12), 'trials/min'.padStart(11), 'ideal'.padStart(8), 'of ideal'.padStart(9));
for (const name of values.strategies.split(',')) {
  for (const w of workerCounts) {
    for (const [loop, strategy] of [['async', make[name]!()], ['synchronous', new Barrier(make[name]!())]] as Array<[string, Strategy]>) {
      const evaluator: DelayedTable | QueuedDelayedTable = redis ? await QueuedDelayedTable.start(redis.url, `scaling-${queues++}`, w) : new DelayedTable();
      const t0 = performance.now();
      const result = await runSearch({ space, strategy, evaluator, processor, initial, loss: DEFAULT_LOSS, stop: { maxEvaluations: trials }, concurrency: w });
      const seconds = (performance.now() - t0) / 1000;
      if (evaluator instanceof QueuedDelayedTable) await evaluator.close();
      const rate = (60 * result.evaluations) / seconds;
      const meanDelayS = evaluator.delays.reduce((s, d) => s + d, 0) / evaluator.delays.length / 1000;
      // The initial trial runs alone (nothing else to do before it lands): ideal counts it as such.
      const idealS = meanDelayS * ((result.evaluations - 1) / w) + (evaluator.delays[0] as number) / 1000;
      const ideal = (60 * result.evaluations) / idealS;
      console.log(name.padEnd(10), String(w).padStart(7), loop.padStart(12), rate.toFixed(0).padStart(11), ideal.toFixed(0).padStart(8), `${((100 * rate) / ideal).toFixed(0)}%`.padStart(9));
    }
  }
}
await redis?.stop();
