/**
 * Validating a trained candidate, on the main job's initial MNIST net and its 2000 validation
 * images, one thread each; medians of several rounds:
 * - TF.js's forward pass (wasm, as `accuracy()` runs it): the way before jobs used onnxruntime;
 * - procnas's onnxruntime evaluation (`onnxClassifier`, as a search's jobs run it), with its
 *   export and session, and its runs alone (session loaded);
 * - raw onnxruntime, the peer: `session.run` on the same model, batch and thread count, on NCHW
 *   tensors made before timing, no accuracy counted;
 * then what share of a default job (one epoch on 8000 images, then its validation) evaluation
 * takes each way, from the training throughput measured in the same run.
 *
 *   node --import tsx bench/evaluation.ts [--rounds 5] [--validation 2000]
 */
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadDataset, prepareSplits } from '../src/data/index.js';
import { initEngine } from '../src/engine/backend.js';
import { TRAINING_DEFAULTS } from '../src/engine/defaults.js';
import { Network } from '../src/engine/network.js';
import { accuracy, trainNetwork } from '../src/engine/train.js';
import { DEFAULT_INITIAL } from '../src/experiment/config.js';
import { DEFAULT_CLASSIFIER, exportOnnx, onnxClassifier, toNchw } from '../src/export/index.js';
import { lower, parseArchitecture } from '../src/space/index.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, validation: { type: 'string', default: '2000' } } });
const rounds = Number(values.rounds);
await initEngine('wasm');
const dataset = loadDataset('mnist');
const graph = lower(parseArchitecture({ ...DEFAULT_INITIAL, input: `${dataset.shape.h}x${dataset.shape.w}x${dataset.shape.c}`, classes: dataset.classes }));
const TRAIN_IMAGES = 8000;
const splits = prepareSplits(dataset, { seed: 0, limit: TRAIN_IMAGES, validation: Number(values.validation) });
const images = splits.validation;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

// A trained network (one default epoch), so that the evaluation is of what a job evaluates.
const trained = trainNetwork(graph, splits, {});
const network: Network = trained.network;
const trainingS = TRAIN_IMAGES / trained.trainImagesPerSecond;
const model = exportOnnx(graph, network.weights());
const { batch } = DEFAULT_CLASSIFIER;
const { h, w, c } = graph.input;

// The peer's inputs: NCHW batches made once, before any timing.
const pixels = h * w * c;
const peerInputs: ort.Tensor[] = [];
for (let first = 0; first < images.count; first += batch) {
  const count = Math.min(batch, images.count - first);
  const data = Float32Array.from(toNchw(images.x.subarray(first * pixels, (first + count) * pixels), count, { h, w, c }, new Float32Array(count * pixels)));
  peerInputs.push(new ort.Tensor('float32', data, [count, c, h, w]));
}
const peer = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });

const tfjs: number[] = [];
const whole: number[] = [];
const runs: number[] = [];
const raw: number[] = [];
for (let round = 0; round < rounds; round++) {
  let t = performance.now();
  const a = accuracy(network, images);
  tfjs.push((performance.now() - t) / 1000);

  t = performance.now();
  const classifier = await onnxClassifier(exportOnnx(graph, network.weights()), graph.input);
  const b = await classifier.accuracy(images);
  whole.push((performance.now() - t) / 1000);
  t = performance.now();
  const again = await classifier.accuracy(images);
  runs.push((performance.now() - t) / 1000);
  await classifier.release();
  if (a !== b || b !== again) throw new Error(`accuracies differ: TF.js ${a}, onnxruntime ${b} and ${again}`);

  t = performance.now();
  for (const x of peerInputs) (await peer.run({ [peer.inputNames[0] as string]: x }))[peer.outputNames[0] as string]!.dispose();
  raw.push((performance.now() - t) / 1000);
}
await peer.release();
network.dispose();

const rate = (s: number): string => `${(images.count / s).toFixed(0).padStart(6)} images/s`;
console.log(`${images.count} validation images, ${graph.params} parameters, batch ${batch}, one thread, median of ${rounds} rounds`);
console.log(`TF.js (wasm) forward pass:                      ${median(tfjs).toFixed(3)} s ${rate(median(tfjs))}`);
console.log(`procnas through onnxruntime, export + session:  ${median(whole).toFixed(3)} s ${rate(median(whole))}`);
console.log(`procnas through onnxruntime, runs alone:        ${median(runs).toFixed(3)} s ${rate(median(runs))}`);
console.log(`raw onnxruntime (peer), session.run alone:      ${median(raw).toFixed(3)} s ${rate(median(raw))}`);
console.log(`procnas's evaluation / raw onnxruntime, throughput: ${(median(raw) / median(runs)).toFixed(2)} (runs alone), ${(median(raw) / median(whole)).toFixed(2)} (with export and session)`);
const share = (s: number): string => `${((100 * s) / (s + trainingS)).toFixed(1)}%`;
console.log(`a default job (${TRAIN_IMAGES} images, ${TRAINING_DEFAULTS.epochs} epoch: training ${trainingS.toFixed(2)} s here): validation is ${share(median(tfjs))} of it in TF.js, ${share(median(whole))} through onnxruntime`);
