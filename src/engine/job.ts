/**
 * A training job as plain data, so that it can cross a thread (or, later, a machine) boundary:
 * the architecture in its file form, the dataset spec, the split and the training options.
 */
import { loadDataset, prepareSplits } from '../data/index.js';
import type { SplitOptions, Splits } from '../data/index.js';
import { exportOnnx, onnxClassifier } from '../export/index.js';
import { lower, parseArchitecture } from '../space/index.js';
import type { ArchitectureData } from '../space/index.js';
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
}

export type JobResult = Omit<TrainResult, 'network'> & {
  testAccuracy?: number;
  weights?: Weights;
  /** With the weights: the per-channel statistics the inputs were normalised with (exports record them). */
  statistics?: { mean: number[]; std: number[] };
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
    const classifier = await onnxClassifier(exportOnnx(graph, weights), graph.input);
    try {
      if (!diverged) out.validationAccuracy = lastValidation ?? (await classifier.accuracy(splits.validation));
      if (job.test) out.testAccuracy = await classifier.accuracy(splits.test);
    } finally {
      await classifier.release();
    }
  }
  out.validationError = 1 - out.validationAccuracy;
  out.wallTimeS = trained.wallTimeS + (performance.now() - t) / 1000;
  if (job.weights) {
    out.weights = weights;
    out.statistics = { mean: splits.mean, std: splits.std };
  }
  return out;
}
