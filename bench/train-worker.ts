/**
 * One procnas training measurement for bench/train-throughput.ts: trains a benchmark net on
 * random data with the real `train()` and prints one JSON line with images/s per round.
 *   node --import tsx bench/train-worker.ts STEPS ROUNDS [cifar|mnist]
 */
import type { Splits } from '../src/data/index.js';
import { initEngine } from '../src/engine/backend.js';
import { kernelBuild } from '../src/engine/kernels/module.js';
import { train } from '../src/engine/train.js';
import { MNIST_MBCONV, lower, parseArchitecture } from '../src/space/index.js';
import type { ArchitectureData } from '../src/space/index.js';

/** The MobileNetV2-like CIFAR net of shared/notes/engine.md (93,258 parameters). */
export const BENCH_NET: ArchitectureData = {
  name: 'engine-bench',
  input: '32x32x3',
  classes: 10,
  act: 'relu6',
  stem: ['cn_k3_s1_c16'],
  stages: [['ir_k3_s1_e3_c16'], ['ir_k3_s2_e6_c24'], ['ir_k5_s1_e6_c24'], ['ir_k5_s2_e6_c40'], ['ir_k7_s1_e6_c40'], ['ir_k3_s2_e6_c64']],
  head: ['gap', 'fc'],
};

/** The benchmark's nets: the CIFAR one above and the main job's default initial (MNIST, 37,658 parameters). */
export const BENCH_NETS: Record<string, ArchitectureData> = { cifar: BENCH_NET, mnist: MNIST_MBCONV };

const BATCH = 64;

function randomSplits(images: number, shape: { h: number; w: number; c: number }): Splits {
  const size = shape.h * shape.w * shape.c;
  const x = new Float32Array(images * size);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 12.9898) * 2;
  const y = Int32Array.from({ length: images }, (_, i) => i % 10);
  const set = { x, y, count: images };
  const empty = { x: new Float32Array(0), y: new Int32Array(0), count: 0 };
  const mean = new Array<number>(shape.c).fill(0);
  const std = new Array<number>(shape.c).fill(1);
  return { train: set, validation: { ...set, count: BATCH, x: x.subarray(0, BATCH * size), y: y.subarray(0, BATCH) }, test: empty, mean, std, shape, classes: 10, indices: { train: new Int32Array(0), validation: new Int32Array(0), test: new Int32Array(0) } };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [steps = 20, rounds = 3] = process.argv.slice(2, 4).map(Number);
  const net = BENCH_NETS[process.argv[4] ?? 'cifar'];
  if (!net) throw new Error(`unknown net ${process.argv[4]}: cifar or mnist`);
  const backend = await initEngine('wasm');
  const graph = lower(parseArchitecture(net));
  const splits = randomSplits(steps * BATCH, graph.input);
  const rates: number[] = [];
  train(graph, randomSplits(3 * BATCH, graph.input), { epochs: 1, batchSize: BATCH, learningRate: 0.01, schedule: 'constant' }).network.dispose();
  for (let r = 0; r < rounds; r++) {
    const result = train(graph, splits, { epochs: 1, batchSize: BATCH, learningRate: 0.01, schedule: 'constant', seed: r });
    result.network.dispose();
    rates.push(result.trainImagesPerSecond);
  }
  console.log(JSON.stringify({ backend, kernels: kernelBuild(), params: graph.params, rates }));
}
