import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { initEngine } from '../src/engine/backend.js';
import { runJob } from '../src/engine/job.js';
import type { TrainJob } from '../src/engine/job.js';
import { TrainingPool } from '../src/engine/pool.js';
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
    assert.deepEqual(a.stepLosses, runJob(job(1)).stepLosses);
    assert.deepEqual(b.stepLosses, runJob(job(2)).stepLosses);
    assert.notDeepEqual(a.stepLosses, b.stepLosses);
    assert.ok((a.testAccuracy as number) >= 0.9);
    assert.equal(pool.size, 2);
  });

  it('fails a bad job with its reason and goes on with the others', async () => {
    const bad = job(1);
    bad.architecture = { ...bad.architecture, stages: [['zz_k3']] };
    const [failed, fine] = await Promise.allSettled([pool.run(bad), pool.run(job(3))]);
    assert.equal(failed.status, 'rejected');
    assert.match(String((failed as PromiseRejectedResult).reason), /unknown block type "zz"/);
    assert.equal(fine.status, 'fulfilled');
    const again = await pool.run(job(4));
    assert.equal(again.steps, 2 * 10);
  });
});
