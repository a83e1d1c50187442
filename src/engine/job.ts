/**
 * A training job as plain data, so that it can cross a thread (or, later, a machine) boundary:
 * the architecture in its file form, the dataset spec, the split and the training options.
 */
import { loadDataset, prepareSplits } from '../data/index.js';
import type { SplitOptions, Splits } from '../data/index.js';
import { exportOnnx, onnxClassifier, quantizeOnnx } from '../export/index.js';
import type { LabelledImages, QuantizeOptions } from '../export/index.js';
import { lower, parseArchitecture } from '../space/index.js';
import type { ArchitectureData, LayerGraph } from '../space/index.js';
import { trainNetwork } from './train.js';
import type { TrainOptions, TrainResult } from './train.js';
import type { Weights } from './variables.js';

export interface TrainJob {
  architecture: ArchitectureData;
  dataset: string;
  split: SplitOptions;
  options: Partial<Omit<TrainOptions, 'onProgress'>>;
  /** Also measure test accuracy. */
  test?: boolean;
  /** Return the trained weights (for export), keyed `<layer name>.<role>`. */
  weights?: boolean;
  /** Start from these trained weights where names and shapes match (weight inheritance). */
  start?: Weights;
  /** Also quantise the trained network to int8 (post-training) and measure it as the float one. */
  int8?: Int8Job;
}

/** Post-training quantisation in a job: the calibration (export/quantize.ts) and its images. */
export interface Int8Job extends QuantizeOptions {
  /** Training images the activation ranges are taken over (evenly spaced over the training set). */
  images: number;
}

/** The int8 network of a job: its QDQ ONNX model and accuracies (test: when the job tests). */
export interface Int8Result {
  model: Uint8Array;
  validationAccuracy: number;
  testAccuracy?: number;
}

export type JobResult = Omit<TrainResult, 'network'> & {
  testAccuracy?: number;
  weights?: Weights;
  /** With the weights: the per-channel statistics the inputs were normalised with (exports record them). */
  statistics?: { mean: number[]; std: number[] };
  int8?: Int8Result;
};

/** Runs training jobs somewhere: worker threads here (TrainingPool), or machines behind a queue. */
export interface JobRunner {
  run(job: TrainJob): Promise<JobResult>;
  close(): Promise<void>;
}

/** What a job run in the caller's own thread (`procnas train`) may add: no need to cross a boundary. */
export interface InProcess {
  /** The job's splits, already prepared by the caller (as `prepareSplits(dataset, job.split)`). */
  splits?: Splits;
  onProgress?: TrainOptions['onProgress'];
}

const splitCache = new Map<string, Splits>();

/** Splits of a dataset, prepared once per process for each (dataset, split) pair. */
function splitsFor(dataset: string, split: SplitOptions): Splits {
  const key = JSON.stringify([dataset, split]);
  let splits = splitCache.get(key);
  if (!splits) {
    splits = prepareSplits(loadDataset(dataset), split);
    splitCache.set(key, splits);
  }
  return splits;
}

/**
 * Trains in the engine, then validates (and tests) the trained network through onnxruntime:
 * the same exporter as `procnas export`, about ten times TF.js's inference speed here (see
 * `export/classify.ts`), with the same accuracy (tested).
 */
export async function runJob(job: TrainJob, here: InProcess = {}): Promise<JobResult> {
  const graph = lower(parseArchitecture(job.architecture));
  const splits = here.splits ?? splitsFor(job.dataset, job.split);
  const options = here.onProgress ? { ...job.options, onProgress: here.onProgress } : job.options;
  const { network, lastValidation, ...trained } = trainNetwork(graph, splits, options, job.start);
  const t = performance.now();
  let weights: Weights;
  try {
    weights = network.weights();
  } finally {
    network.dispose();
  }
  const diverged = trained.stopped === 'diverged';
  const out: JobResult = { ...trained, validationAccuracy: 0, validationError: 1 };
  if (!diverged || job.test) {
    const model = exportOnnx(graph, weights);
    const classifier = await onnxClassifier(model, graph.input);
    try {
      if (!diverged) out.validationAccuracy = lastValidation ?? (await classifier.accuracy(splits.validation));
      if (job.test) out.testAccuracy = await classifier.accuracy(splits.test);
    } finally {
      await classifier.release();
    }
    if (job.int8 && !diverged) out.int8 = await quantised(model, graph, splits, job.int8, job.test ?? false);
  }
  out.validationError = 1 - out.validationAccuracy;
  out.wallTimeS = trained.wallTimeS + (performance.now() - t) / 1000;
  if (job.weights) {
    out.weights = weights;
    out.statistics = { mean: splits.mean, std: splits.std };
  }
  return out;
}

/** Evenly spaced images of a set (all of them when it holds fewer). */
function evenly(set: LabelledImages, count: number, pixels: number): LabelledImages {
  const n = Math.min(count, set.count);
  const x = new Float32Array(n * pixels);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const from = Math.floor((i * set.count) / n);
    x.set(set.x.subarray(from * pixels, (from + 1) * pixels), i * pixels);
    y[i] = set.y[from] as number;
  }
  return { x, y, count: n };
}

/** The trained network in int8: quantised on a few training images, measured as the float one. */
async function quantised(model: Uint8Array, graph: LayerGraph, splits: Splits, o: Int8Job, test: boolean): Promise<Int8Result> {
  const { h, w, c } = graph.input;
  const calibration = evenly(splits.train, o.images, h * w * c);
  const int8 = await quantizeOnnx(model, calibration, graph.input, o);
  const classifier = await onnxClassifier(int8, graph.input);
  try {
    const result: Int8Result = { model: int8, validationAccuracy: await classifier.accuracy(splits.validation) };
    if (test) result.testAccuracy = await classifier.accuracy(splits.test);
    return result;
  } finally {
    await classifier.release();
  }
}
