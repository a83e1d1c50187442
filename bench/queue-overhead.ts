/**
 * What the Redis queue costs: the same training jobs run through the local thread pool and
 * through BullMQ to a `procnas worker` (in this process, same thread count) on a local
 * redis-server that the script starts. Prints the median wall time of a round of jobs both ways,
 * their ratio, and the queue's round trip for a job that trains almost nothing.
 *
 *   node --import tsx bench/queue-overhead.ts [--jobs 8] [--rounds 3] [--threads 2] [--limit 1000]
 */
import { parseArgs } from 'node:util';
import type { TrainJob } from '../src/engine/job.js';
import { TrainingPool } from '../src/engine/pool.js';
import { DEFAULT_INITIAL } from '../src/experiment/config.js';
import { QueueRunner, QueueWorker } from '../src/experiment/queue.js';
import { startRedis } from '../test/redis.js';

const { values } = parseArgs({
  options: { jobs: { type: 'string', default: '8' }, rounds: { type: 'string', default: '3' }, threads: { type: 'string', default: '2' }, limit: { type: 'string', default: '1000' } },
});
const [jobs, rounds, threads, limit] = [values.jobs, values.rounds, values.threads, values.limit].map(Number) as [number, number, number, number];
if (![jobs, rounds, threads, limit].every((n) => Number.isInteger(n) && n > 0)) throw new Error('--jobs, --rounds, --threads and --limit take positive integers');

const job = (seed: number, images: number, validation = 500): TrainJob => ({
  architecture: DEFAULT_INITIAL,
  dataset: 'mnist',
  split: { seed: 0, limit: images, validation },
  options: { epochs: 1, batchSize: 64, seed },
});

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function round(run: (j: TrainJob) => Promise<unknown>, seedBase: number, images: number): Promise<number> {
  const start = performance.now();
  await Promise.all(Array.from({ length: jobs }, (_, i) => run(job(seedBase + i, images))));
  return (performance.now() - start) / 1000;
}

const redis = await startRedis();
const pool = new TrainingPool(threads, 'wasm');
const worker = await QueueWorker.start({ url: redis.url, name: 'bench', threads, backend: 'wasm' });
const runner = await QueueRunner.connect(redis.url, 'bench', `bench${Date.now()}`);
try {
  await pool.ready();
  // Warm-up: every thread loads MNIST once and compiles its kernels.
  await round((j) => pool.run(j), 1000, limit);
  await round((j) => runner.run(j), 2000, limit);
  const local: number[] = [];
  const queued: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Distinct seeds per round: the queue would otherwise hand back the finished job.
    local.push(await round((j) => pool.run(j), 10_000 * (r + 1), limit));
    queued.push(await round((j) => runner.run(j), 10_000 * (r + 1) + 5000, limit));
  }
  // One batch of 64 images and 10 validation images, one at a time: mostly the round trip.
  const trip: number[] = [];
  const tripLocal: number[] = [];
  for (let i = 0; i < 21; i++) {
    let start = performance.now();
    await runner.run(job(90_000 + i, 64, 10));
    if (i > 0) trip.push(performance.now() - start);
    start = performance.now();
    await pool.run(job(90_000 + i, 64, 10));
    if (i > 0) tripLocal.push(performance.now() - start);
  }
  console.log(`${jobs} MNIST trainings of ${DEFAULT_INITIAL.name} (${limit} images, 1 epoch) per round, ${threads} threads, ${rounds} rounds, medians:`);
  console.log(`  local thread pool   ${median(local).toFixed(2)} s`);
  console.log(`  Redis queue         ${median(queued).toFixed(2)} s   (queue / local ${(median(queued) / median(local)).toFixed(3)})`);
  console.log(`  a 64-image job, one at a time: queue ${median(trip).toFixed(1)} ms, local pool ${median(tripLocal).toFixed(1)} ms (queue adds ${(median(trip) - median(tripLocal)).toFixed(1)} ms)`);
} finally {
  await runner.close();
  await worker.close();
  await pool.close();
  await redis.stop();
}
