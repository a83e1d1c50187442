import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { DatasetError } from '../src/data/errors.js';
import { EngineError, initEngine } from '../src/engine/backend.js';
import { runJob } from '../src/engine/job.js';
import type { TrainJob } from '../src/engine/job.js';
import { TrainingPool } from '../src/engine/pool.js';
import { rebuildError, serializeError } from '../src/engine/remote-error.js';
import { ArchitectureError } from '../src/space/errors.js';
import { writeHalvesIdx } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'procnas-pool-'));
writeHalvesIdx(dir);

const job = (seed: number): TrainJob => ({
  architecture: { name: 'halves', input: '8x8x1', classes: 2, stem: ['cn_k3_c8'], stages: [['ir_k3_s2_e2_c8']], head: ['gap', 'fc'] },
  dataset: `idx:${dir}`,
  split: { validation: 100, seed: 0 },
  options: { epochs: 2, batchSize: 32, seed },
  test: true,
});

describe('training pool', () => {
  const pool = new TrainingPool(2, 'wasm');
  after(() => pool.close());

  it('trains jobs in parallel worker threads, with the same results as in-process', async () => {
    const [a, b] = await Promise.all([pool.run(job(1)), pool.run(job(2))]);
    await initEngine('wasm');
    assert.deepEqual(a.stepLosses, (await runJob(job(1))).stepLosses);
    assert.deepEqual(b.stepLosses, (await runJob(job(2))).stepLosses);
    assert.notDeepEqual(a.stepLosses, b.stepLosses);
    assert.ok((a.testAccuracy as number) >= 0.9);
    assert.equal(pool.size, 2);
  });

  it('fails a bad job with its reason and goes on with the others', async () => {
    const bad = job(1);
    bad.architecture = { ...bad.architecture, stages: [['zz_k3']] };
    const [failed, fine] = await Promise.allSettled([pool.run(bad), pool.run(job(3))]);
    assert.equal(failed.status, 'rejected');
    const reason = (failed as PromiseRejectedResult).reason as ArchitectureError;
    assert.match(String(reason), /unknown block type "zz"/);
    assert.ok(reason instanceof ArchitectureError, `${reason.name}`);
    assert.match(reason.issues[0]?.message ?? '', /unknown block type "zz"/);
    assert.equal(fine.status, 'fulfilled');
    const again = await pool.run(job(4));
    assert.equal(again.steps, 2 * 10);
  });

  it('keeps the class of a job\'s error', async () => {
    const missing = { ...job(1), dataset: `idx:${join(dir, 'nope')}` };
    await assert.rejects(pool.run(missing), (e: Error) => e instanceof DatasetError && /nope/.test(e.message));
  });

  it('fails the jobs of a worker that dies, and replaces it', { timeout: 60_000 }, async () => {
    const long = { ...job(5), options: { ...job(5).options, epochs: 500 } };
    const runs = [pool.run(long), pool.run(long)].map((p) => p.then(() => 'finished', (e: Error) => e.message));
    // Kill both threads mid-training (as an out-of-memory or a fault in WASM would).
    await new Promise((resolve) => setTimeout(resolve, 300));
    await Promise.all((pool as unknown as { workers: Worker[] }).workers.map((w) => w.terminate()));
    for (const outcome of await Promise.all(runs)) assert.match(outcome, /the training worker exited/);
    assert.equal((await pool.run(job(6))).steps, 2 * 10);
    assert.equal(pool.size, 2);
  });
});

describe('training pool failures', () => {
  it('rejects a job given after close', { timeout: 30_000 }, async () => {
    const closed = new TrainingPool(1, 'wasm');
    await closed.close();
    await assert.rejects(closed.run(job(1)), /the training pool was closed/);
  });

  it('rejects queued jobs when closed', { timeout: 30_000 }, async () => {
    const pool = new TrainingPool(1, 'wasm');
    const runs = [pool.run(job(1)), pool.run(job(2))].map((p) => p.then(() => 'finished', (e: Error) => e.message));
    await pool.close();
    assert.deepEqual(await Promise.all(runs), ['the training pool was closed', 'the training pool was closed']);
  });

  it('rejects every job, with the reason, when the engine cannot start, even after its workers sat idle', { timeout: 60_000 }, async () => {
    const pool = new TrainingPool(1, 'native');
    try {
      const notInstalled = (e: Error): boolean => e instanceof EngineError && /tfjs-node/.test(e.message);
      await assert.rejects(pool.ready(), notInstalled);
      await assert.rejects(pool.run(job(1)), notInstalled);
      await assert.rejects(pool.run(job(2)), notInstalled);
    } finally {
      await pool.close();
    }
  });
});

describe('errors across threads', () => {
  it('keep their class where it is known, and their name otherwise', () => {
    const architecture = new ArchitectureError([{ path: 'stages[0][0]', message: 'bad' }], 'net.yaml');
    const back = rebuildError(structuredClone(serializeError(architecture)));
    assert.ok(back instanceof ArchitectureError);
    assert.equal(back.message, architecture.message);
    assert.deepEqual((back as ArchitectureError).issues, architecture.issues);
    const dataset = rebuildError(serializeError(new DatasetError('/data', 'not found')));
    assert.ok(dataset instanceof DatasetError);
    assert.equal(dataset.message, '/data: not found');
    assert.equal((dataset as DatasetError).where, '/data');
    assert.ok(rebuildError(serializeError(new EngineError('no backend'))) instanceof EngineError);
    assert.ok(rebuildError(serializeError(new RangeError('too big'))) instanceof RangeError);
    class WeirdError extends Error {
      override name = 'WeirdError';
    }
    const weird = rebuildError(serializeError(new WeirdError('odd')));
    assert.equal(weird.constructor, Error);
    assert.equal(weird.message, 'WeirdError: odd');
    assert.equal(rebuildError(serializeError('a string')).message, 'a string');
  });
});
