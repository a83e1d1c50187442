import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { initEngine } from '../src/engine/backend.js';
import { runJob } from '../src/engine/job.js';
import type { TrainJob } from '../src/engine/job.js';
import { ExperimentStore } from '../src/experiment/store.js';
import { ConfigError } from '../src/experiment/config.js';
import { QueueRunner, QueueWorker, connectionOf, decode, encode } from '../src/experiment/queue.js';
import type { JobResult } from '../src/engine/job.js';
import { writeHalvesIdx } from './fixtures.js';
import { startRedis } from './redis.js';
import type { RedisServer } from './redis.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'procnas-queue-'));
writeHalvesIdx(dir);

const architecture = { name: 'halves', input: '8x8x1', classes: 2, stem: ['cn_k3_c8'], stages: [['ir_k3_s2_e2_c8']], head: ['gap', 'fc'] };
const job = (seed: number, extra: Partial<TrainJob> = {}): TrainJob => ({
  architecture,
  dataset: `idx:${dir}`,
  split: { validation: 100, seed: 0 },
  options: { epochs: 1, batchSize: 32, seed },
  ...extra,
});

/** A `procnas worker` process; resolves once it listens. */
function startWorkerProcess(url: string, queueName: string, ...flags: string[]): Promise<{ child: ChildProcess; log: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'worker', '--queue', url, '--name', queueName, '--threads', '1', '--backend', 'wasm', ...flags], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('procnas worker:')) resolve({ child, log: () => log });
    });
    child.once('exit', (code) => reject(new Error(`procnas worker exited with ${code}: ${log}`)));
  });
}

function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (condition()) resolve();
      else if (Date.now() > end) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(check, 50);
    };
    check();
  });
}

describe('what crosses Redis', () => {
  it('a result keeps its weights, its int8 model (a Buffer, as protobuf makes it) and a NaN loss', () => {
    const result: JobResult = {
      validationAccuracy: 0.5, validationError: 0.5, epochLosses: [Number.NaN, 1.5], stepLosses: [2, 1], steps: 2, wallTimeS: 1, trainImagesPerSecond: 10,
      weights: { 'a.weight': { shape: [2], values: Float32Array.of(1.5, -2) } },
      int8: { model: Buffer.from([0, 1, 255, 128]), validationAccuracy: 0.25, testAccuracy: 0.75 },
    };
    const back = decode<JobResult>(encode(result));
    assert.ok(back.int8?.model instanceof Uint8Array);
    assert.deepEqual([...(back.int8?.model ?? [])], [0, 1, 255, 128]);
    assert.equal(back.int8?.testAccuracy, 0.75);
    assert.deepEqual(back.weights?.['a.weight']?.values, Float32Array.of(1.5, -2));
    assert.ok(Number.isNaN(back.epochLosses[0]));
  });
});

describe('distributed queue (real Redis, BullMQ)', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
    await initEngine('wasm');
  });
  after(() => redis.stop());

  /** A worker in this process and a runner on queue `name`, closed after `body`. */
  async function withQueue(name: string, runId: string, body: (runner: QueueRunner) => Promise<void>): Promise<void> {
    const worker = await QueueWorker.start({ url: redis.url, name, threads: 1, backend: 'wasm' });
    const runner = await QueueRunner.connect(redis.url, name, runId);
    try {
      await body(runner);
    } finally {
      await runner.close();
      await worker.close();
    }
  }

  it('a queue worker trains a job to exactly the result of a local training, weights and NaN included', () =>
    withQueue('same', 'run-a', async (runner) => {
      assert.equal(await runner.workerCount(), 1);
      const remote = await runner.run(job(4, { test: true, weights: true }));
      const local = await runJob(job(4, { test: true, weights: true }));
      assert.deepEqual(remote.stepLosses, local.stepLosses);
      assert.equal(remote.validationError, local.validationError);
      assert.equal(remote.testAccuracy, local.testAccuracy);
      const names = Object.keys(local.weights ?? {});
      assert.ok(names.length > 5);
      assert.deepEqual(Object.keys(remote.weights ?? {}), names);
      for (const name of names) {
        const r = remote.weights?.[name];
        assert.ok(r?.values instanceof Float32Array, name);
        assert.deepEqual(r, local.weights?.[name], name);
      }
      // A job that starts from trained weights (inheritance) takes them across Redis intact.
      const start = local.weights ?? {};
      const inheritedRemote = await runner.run({ ...job(5), start });
      const inheritedLocal = await runJob({ ...job(5), start });
      assert.ok(inheritedLocal.inherited && inheritedLocal.inherited.inherited === inheritedLocal.inherited.of, JSON.stringify(inheritedLocal.inherited));
      assert.deepEqual(inheritedRemote.inherited, inheritedLocal.inherited);
      assert.deepEqual(inheritedRemote.stepLosses, inheritedLocal.stepLosses);
      // No validation images: the accuracy is NaN, and stays NaN across Redis (JSON would make it null).
      const noValidation = await runner.run(job(4, { split: { validation: 0, seed: 0 } }));
      assert.ok(Number.isNaN(noValidation.validationAccuracy));
    }));

  it('a job that fails on a worker rejects with the worker host and the reason', () =>
    withQueue('fail', 'run-b', async (runner) => {
      const missing = join(dir, 'no-such-folder');
      await assert.rejects(runner.run(job(1, { dataset: `idx:${missing}` })), (error: Error) => {
        assert.ok(error.message.startsWith(`${hostname()}: `), error.message);
        assert.match(error.message, /no-such-folder/);
        return true;
      });
      // The worker goes on.
      assert.ok(Number.isFinite((await runner.run(job(2))).validationError));
    }));

  it('a resumed run gets the result of a job it had enqueued, with no worker left to train it', async () => {
    const worker = await QueueWorker.start({ url: redis.url, name: 'resume', threads: 1, backend: 'wasm' });
    const first = await QueueRunner.connect(redis.url, 'resume', 'run-c');
    const before = await first.run(job(5));
    await first.close();
    await worker.close();
    const again = await QueueRunner.connect(redis.url, 'resume', 'run-c');
    try {
      assert.equal(await again.workerCount(), 0);
      assert.deepEqual(await again.run(job(5)), before);
      // A relative dataset folder names the same job as its absolute form.
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        assert.deepEqual(await again.run(job(5, { dataset: 'idx:.' })), before);
      } finally {
        process.chdir(cwd);
      }
    } finally {
      await again.close();
    }
  });

  it('a job whose worker is killed mid-training is finished by another worker', async () => {
    const slow = job(6, { options: { epochs: 40, batchSize: 8, seed: 6 } });
    const dying = await startWorkerProcess(redis.url, 'crash', '--lock-timeout', '2s');
    const runner = await QueueRunner.connect(redis.url, 'crash', 'run-d');
    let survivor: QueueWorker | undefined;
    try {
      const result = runner.run(slow);
      await until(() => dying.log().includes('started'), 'the first worker to start the job');
      dying.child.kill('SIGKILL');
      survivor = await QueueWorker.start({ url: redis.url, name: 'crash', threads: 1, backend: 'wasm', lockMs: 2000 });
      assert.deepEqual((await result).stepLosses, (await runJob(slow)).stepLosses);
    } finally {
      await runner.close();
      await survivor?.close();
    }
  });

  it('procnas search --queue runs its trials on a procnas worker and stores them', async () => {
    const worker = await startWorkerProcess(redis.url, 'cli');
    try {
      const out = join(mkdtempSync(join(tmpdir(), 'procnas-queue-run-')), 'run');
      const config = join(dir, 'queue.yaml');
      writeFileSync(
        config,
        [
          `dataset: idx:${dir}`,
          'initial: { name: halves, input: 8x8x1, classes: 2, stem: [cn_k3_c8], stages: [[ir_k3_s2_e2_c8]], head: [gap, fc] }',
          'stop: { maxEvals: 6 }',
          'fidelity: { rungs: 2, eta: 2 }',
          'prune: false',
          'workers: 2',
          'training: { epochs: 1, batch: 32, validation: 100, limit: 300 }',
          'final: { enabled: false }',
          `queue: { redis: "${redis.url}", name: cli }`,
          'backend: wasm',
        ].join('\n'),
      );
      const run = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'search', '-c', config, '-o', out], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stderr, new RegExp(`queue cli on ${redis.url}, procnas workers listening: 1`));
      const store = new ExperimentStore(join(out, 'experiment.sqlite'));
      try {
        const trials = store.trials();
        assert.ok(trials.length >= 6);
        assert.ok(trials.every((t) => t.status === 'done'));
        // Local search under multi-fidelity inherits by default: full trainings' weights came back from the worker, and went to it again.
        const inherited = trials.filter((t) => t.inherited);
        assert.ok(inherited.length > 0 && inherited.every((t) => t.rung === 0 && (t.inherited?.fraction ?? 0) > 0), JSON.stringify(trials.map((t) => [t.rung, t.inherited])));
        // Every trial was trained by the worker process, none here.
        await until(() => (worker.log().match(/ done /g) ?? []).length >= trials.length, 'the worker log of every trial');
        for (const t of trials) assert.ok(worker.log().includes(`done ${t.key}:`), t.key);
      } finally {
        store.close();
      }
    } finally {
      worker.child.kill('SIGTERM');
    }
  });

  it('refuses an unreachable Redis and a bad URL at once, naming them', async () => {
    await assert.rejects(QueueRunner.connect('redis://127.0.0.1:1', 'x', 'r'), (error: Error) => error instanceof ConfigError && /redis:\/\/127\.0\.0\.1:1: cannot reach Redis/.test(error.message));
    assert.throws(() => connectionOf('http://host:6379'), /scheme must be redis:\/\/ or rediss:\/\//);
    assert.deepEqual(connectionOf('rediss://u:p%40ss@h:7000/3'), { host: 'h', port: 7000, username: 'u', password: 'p@ss', db: 3, tls: {} });
    const run = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'search', '--queue', 'redis://127.0.0.1:1', '--max-evals', '1', '-o', join(dir, 'unreachable')], { encoding: 'utf8' });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /procnas: queue redis:\/\/127\.0\.0\.1:1: cannot reach Redis: connect ECONNREFUSED/);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'search', '--queue', 'http://x', '-o', join(dir, 'bad')], { encoding: 'utf8' });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /queue\.redis: write a Redis URL/);
    const table = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'search', '--queue', redis.url, '--table', join(dir, 'table.json'), '-o', join(dir, 'table-run')], { encoding: 'utf8' });
    assert.equal(table.status, 2, table.stderr);
    assert.match(table.stderr, /queue: only trained evaluations go through a queue/);
  });
});
