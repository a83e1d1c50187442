/**
 * Where a procnas training step goes: a benchmark net of bench/train-throughput.ts (`cifar`, the
 * default, or `mnist`) trained by the real `train()` on random data under `tf.profile`, kernel time summed by kernel name and
 * by kernel and shape, per step. Time outside kernels (tape, gradient bookkeeping, tidy,
 * the optimiser's many small ops' dispatch) is the step's wall time minus the kernels' sum.
 *
 *   node --import tsx bench/train-profile.ts [--steps 10] [--top 15] [--net cifar|mnist]
 */
import { parseArgs } from 'node:util';
import type { Splits } from '../src/data/index.js';
import { initEngine } from '../src/engine/backend.js';
import { tf } from '../src/engine/tf.js';
import { train } from '../src/engine/train.js';
import { lower, parseArchitecture } from '../src/space/index.js';
import { BENCH_NETS } from './train-worker.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '10' }, top: { type: 'string', default: '15' }, net: { type: 'string', default: 'cifar' } } });
const net = BENCH_NETS[values.net];
if (!net) throw new Error(`--net: unknown net ${values.net} (cifar, mnist)`);
const steps = Number(values.steps);
const top = Number(values.top);
if (!(Number.isInteger(steps) && steps > 0 && Number.isInteger(top) && top > 0)) throw new Error('--steps and --top take positive integers');
const BATCH = 64;

function randomSplits(images: number): Splits {
  const { h, w, c } = graph.input;
  const x = Float32Array.from({ length: images * h * w * c }, () => Math.random() * 2 - 1);
  const y = Int32Array.from({ length: images }, (_, i) => i % 10);
  const none = { x: new Float32Array(0), y: new Int32Array(0), count: 0 };
  const noIndices = { train: new Int32Array(0), validation: new Int32Array(0), test: new Int32Array(0) };
  // An empty validation set keeps `accuracy()` out of the profile.
  return { train: { x, y, count: images }, validation: none, test: none, mean: new Array<number>(c).fill(0), std: new Array<number>(c).fill(1), shape: { h, w, c }, classes: 10, indices: noIndices };
}

const backend = await initEngine('wasm');
const graph = lower(parseArchitecture(net));
const options = { epochs: 1, batchSize: BATCH, learningRate: 0.01, schedule: 'constant' as const };
const splits = randomSplits(steps * BATCH);
// Warm-up, then an unprofiled run for the reference step time.
train(graph, randomSplits(3 * BATCH), options).network.dispose();
const plain = train(graph, splits, options);
plain.network.dispose();
const plainStepMs = (BATCH * 1000) / plain.trainImagesPerSecond;

let profiledStepMs = 0;
const info = await tf.profile(() => {
  const result = train(graph, splits, options);
  profiledStepMs = (BATCH * 1000) / result.trainImagesPerSecond;
  result.network.dispose();
});

interface Entry {
  ms: number;
  calls: number;
}
function add(map: Map<string, Entry>, key: string, ms: number): void {
  const e = map.get(key) ?? { ms: 0, calls: 0 };
  e.ms += ms;
  e.calls++;
  map.set(key, e);
}
const byName = new Map<string, Entry>();
const byShape = new Map<string, Entry>();
const wrappers = new Map<string, Entry>();
let kernelMs = 0;
for (const k of info.kernels) {
  const ms = k.kernelTimeMs as number;
  // customGrad scopes ('forward', 'softmaxCrossEntropy__op') are profiled as well as the
  // kernels they run: listed apart, never summed.
  if (!tf.getKernel(k.name, backend)) {
    add(wrappers, k.name, ms);
    continue;
  }
  kernelMs += ms;
  add(byName, k.name, ms);
  add(byShape, `${k.name} ${k.inputShapes.map((s) => `[${s?.join(',') ?? ''}]`).join(' ')}`, ms);
}

function print(title: string, map: Map<string, Entry>, limit: number): void {
  console.log(title);
  const rows = [...map.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, limit);
  for (const [key, e] of rows) {
    const perStep = e.ms / steps;
    console.log(`  ${perStep.toFixed(1).padStart(7)} ms ${((100 * perStep) / profiledStepMs).toFixed(1).padStart(5)}%  ${(e.calls / steps).toFixed(0).padStart(4)} calls  ${key}`);
  }
}

console.log(`${net.name}, ${graph.params} parameters, batch ${BATCH}, ${steps} steps on ${backend}`);
console.log(`step time: ${plainStepMs.toFixed(1)} ms unprofiled, ${profiledStepMs.toFixed(1)} ms profiled; kernels ${(kernelMs / steps).toFixed(1)} ms, outside kernels ${(profiledStepMs - kernelMs / steps).toFixed(1)} ms; ${(info.kernels.length / steps).toFixed(0)} kernel calls a step`);
print('per step, by kernel:', byName, top);
print('per step, by kernel and input shapes:', byShape, top);
print('per step, custom-gradient scopes (their kernels are counted above):', wrappers, top);
