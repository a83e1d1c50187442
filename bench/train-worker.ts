/**
 * One procnas training measurement for bench/train-throughput.ts: trains the benchmark net on
 * random data with the real `train()` and prints one JSON line with images/s per round.
 *   node --import tsx bench/train-worker.ts STEPS ROUNDS
 */
import type { Splits } from '../src/data/index.js';
import { initEngine } from '../src/engine/backend.js';
import { train } from '../src/engine/train.js';
import { lower, parseArchitecture } from '../src/space/index.js';

/** The MobileNetV2-like CIFAR net of shared/notes/engine.md (93,258 parameters). */
export const BENCH_NET = {
  name: 'engine-bench',
  input: '32x32x3',
  classes: 10,
  act: 'relu6',
  stem: ['cn_k3_s1_c16'],
  stages: [['ir_k3_s1_e3_c16'], ['ir_k3_s2_e6_c24'], ['ir_k5_s1_e6_c24'], ['ir_k5_s2_e6_c40'], ['ir_k7_s1_e6_c40'], ['ir_k3_s2_e6_c64']],
  head: ['gap', 'fc'],
};

const BATCH = 64;

function randomSplits(images: number): Splits {
  const x = new Float32Array(images * 32 * 32 * 3);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 12.9898) * 2;
  const y = Int32Array.from({ length: images }, (_, i) => i % 10);
  const set = { x, y, count: images };
  const empty = { x: new Float32Array(0), y: new Int32Array(0), count: 0 };
  return { train: set, validation: { ...set, count: BATCH, x: x.subarray(0, BATCH * 3072), y: y.subarray(0, BATCH) }, test: empty, mean: [0, 0, 0], std: [1, 1, 1], shape: { h: 32, w: 32, c: 3 }, classes: 10, indices: { train: new Int32Array(0), validation: new Int32Array(0), test: new Int32Array(0) } };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [steps = 20, rounds = 3] = process.argv.slice(2).map(Number);
  const backend = await initEngine('wasm');
  const graph = lower(parseArchitecture(BENCH_NET));
  const splits = randomSplits(steps * BATCH);
  const rates: number[] = [];
  train(graph, randomSplits(3 * BATCH), { epochs: 1, batchSize: BATCH, learningRate: 0.01, schedule: 'constant' }).network.dispose();
  for (let r = 0; r < rounds; r++) {
    const result = train(graph, splits, { epochs: 1, batchSize: BATCH, learningRate: 0.01, schedule: 'constant', seed: r });
    result.network.dispose();
    rates.push(result.trainImagesPerSecond);
  }
  console.log(JSON.stringify({ backend, params: graph.params, rates }));
}
