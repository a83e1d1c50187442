/**
 * Validating a trained candidate: TF.js's forward pass (wasm, as `accuracy()` runs it) against
 * onnxruntime (`onnxClassifier`, as a search's jobs run it: export, session and runs included),
 * on the main job's initial MNIST net and its 2000 validation images, one thread each; medians
 * of several rounds, and their ratio. The peer is TF.js in the same run.
 *
 *   node --import tsx bench/evaluation.ts [--rounds 5] [--validation 2000]
 */
import { parseArgs } from 'node:util';
import { loadDataset, prepareSplits } from '../src/data/index.js';
import { initEngine } from '../src/engine/backend.js';
import { Network } from '../src/engine/network.js';
import { accuracy } from '../src/engine/train.js';
import { DEFAULT_INITIAL } from '../src/experiment/config.js';
import { exportOnnx, onnxClassifier } from '../src/export/index.js';
import { lower, parseArchitecture } from '../src/space/index.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, validation: { type: 'string', default: '2000' } } });
await initEngine('wasm');
const dataset = loadDataset('mnist');
const graph = lower(parseArchitecture({ ...DEFAULT_INITIAL, input: `${dataset.shape.h}x${dataset.shape.w}x${dataset.shape.c}`, classes: dataset.classes }));
const splits = prepareSplits(dataset, { seed: 0, limit: 889, validation: Number(values.validation) });
const network = new Network(graph, { seed: 1 });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const tfjs: number[] = [];
const onnx: number[] = [];
for (let round = 0; round < Number(values.rounds); round++) {
  let t = performance.now();
  const a = accuracy(network, splits.validation);
  tfjs.push((performance.now() - t) / 1000);
  t = performance.now();
  const classifier = await onnxClassifier(exportOnnx(graph, network.weights()), graph.input);
  const b = await classifier.accuracy(splits.validation);
  await classifier.release();
  onnx.push((performance.now() - t) / 1000);
  if (a !== b) throw new Error(`accuracies differ: TF.js ${a}, onnxruntime ${b}`);
}
network.dispose();
console.log(`${splits.validation.count} validation images, ${graph.params} parameters, median of ${values.rounds} rounds`);
console.log(`TF.js (wasm):                        ${median(tfjs).toFixed(3)} s`);
console.log(`onnxruntime (export, session, runs): ${median(onnx).toFixed(3)} s`);
console.log(`onnxruntime is ${(median(tfjs) / median(onnx)).toFixed(1)}× faster`);
