/**
 * Trains a network on prepared data and measures its validation error: the prediction-error
 * term of the processor-related loss.
 */
import { augmentBatch, batches, createRng } from '../data/index.js';
import type { Prepared, Splits } from '../data/index.js';
import type { LayerGraph } from '../space/index.js';
import { TRAINING_DEFAULTS } from './defaults.js';
import { Network } from './network.js';
import type { InheritanceCounts } from './network.js';
import { Optimizer } from './optimizer.js';
import type { OptimizerName } from './optimizer.js';
import { tf } from './tf.js';
import type { Weights } from './variables.js';

export type Schedule = 'cosine' | 'step' | 'constant';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  learningRate: number;
  momentum: number;
  weightDecay: number;
  schedule: Schedule;
  /** `step` schedule: multiply the rate by `stepGamma` every `stepEpochs` epochs. */
  stepEpochs: number;
  stepGamma: number;
  labelSmoothing: number;
  /** Random crop (padding 4) and horizontal flip of training images. */
  augment: boolean;
  seed: number;
  /** Stop at the end of the step that crosses this many seconds (the result says so). */
  timeBudgetS?: number;
  onProgress?: (event: ProgressEvent) => void;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { ...TRAINING_DEFAULTS };

export type ProgressEvent =
  | { kind: 'step'; epoch: number; step: number; steps: number; loss: number; imagesPerSecond: number; elapsedS: number }
  | { kind: 'epoch'; epoch: number; epochs: number; trainLoss: number; validationAccuracy: number; elapsedS: number };

export interface TrainResult extends TrainedNetwork {
  /** NaN without validation images; 0 when training diverged. */
  validationAccuracy: number;
  /** 1 - validation accuracy: the error term of the search's loss. */
  validationError: number;
}

/** A training before its final validation (`trainNetwork`): the caller validates as it chooses. */
export interface TrainedNetwork {
  /** Mean training loss of each epoch. */
  epochLosses: number[];
  /** Training loss of every step. */
  stepLosses: number[];
  steps: number;
  /** Training and the validations run so far. */
  wallTimeS: number;
  /** Over the training steps' time alone. */
  trainImagesPerSecond: number;
  /** Why training ended early, if it did. */
  stopped?: 'time budget' | 'diverged';
  /** With a start: how many weight values were inherited, of how many. */
  inherited?: InheritanceCounts;
  network: Network;
}

/** Learning rate at a step, for a schedule over `totalSteps` steps of `stepsPerEpoch`. */
export function learningRateAt(o: TrainOptions, step: number, stepsPerEpoch: number, totalSteps: number): number {
  switch (o.schedule) {
    case 'constant':
      return o.learningRate;
    case 'step':
      return o.learningRate * o.stepGamma ** Math.floor(step / stepsPerEpoch / o.stepEpochs);
    case 'cosine':
      return 0.5 * o.learningRate * (1 + Math.cos((Math.PI * step) / Math.max(1, totalSteps)));
  }
}

/** Top-1 accuracy of a network on a prepared set, evaluated in batches without training statistics. */
export function accuracy(network: Network, data: Prepared, batchSize = 256): number {
  if (data.count === 0) return Number.NaN;
  const { h, w, c } = network.graph.input;
  let correct = 0;
  for (const batch of batches(data, batchSize)) {
    correct += tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.count, h, w, c]);
      const predicted = network.apply(x, false).argMax(1);
      return predicted.equal(tf.tensor1d(batch.y, 'int32')).sum().dataSync()[0] as number;
    });
  }
  return correct / data.count;
}

/**
 * Trains a network of `graph` on `splits` and validates it (in TF.js); with `start`, from a
 * trained network's weights (weight inheritance, `Network.inherit`) instead of only its seeded
 * initialisation.
 */
export function train(graph: LayerGraph, splits: Splits, overrides: Partial<TrainOptions> = {}, start?: Weights): TrainResult {
  const trained = trainNetwork(graph, splits, overrides, start);
  const t = performance.now();
  let validationAccuracy: number;
  try {
    validationAccuracy = trained.stopped === 'diverged' ? 0 : (trained.lastValidation ?? accuracy(trained.network, splits.validation));
  } catch (error) {
    // The caller gets no network to dispose of: nothing may stay behind in the engine.
    trained.network.dispose();
    throw error;
  }
  const { lastValidation: _, ...rest } = trained;
  return { ...rest, validationAccuracy, validationError: 1 - validationAccuracy, wallTimeS: trained.wallTimeS + (performance.now() - t) / 1000 };
}

/**
 * `train` without the final validation, for a caller that validates otherwise (a job, through
 * onnxruntime): the network as trained, and the last epoch's validation accuracy when progress
 * reports asked for one.
 */
export function trainNetwork(graph: LayerGraph, splits: Splits, overrides: Partial<TrainOptions> = {}, start?: Weights): TrainedNetwork & { lastValidation?: number } {
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...overrides };
  const { h, w, c } = graph.input;
  if (splits.shape.h !== h || splits.shape.w !== w || splits.shape.c !== c) {
    throw new Error(`the architecture takes ${h}x${w}x${c} inputs but the dataset has ${splits.shape.h}x${splits.shape.w}x${splits.shape.c} images`);
  }
  if (splits.classes > graph.classes) {
    throw new Error(`the dataset has ${splits.classes} classes but the architecture predicts ${graph.classes}`);
  }
  const network = new Network(graph, { seed: o.seed });
  const inherited = start ? network.inherit(start) : undefined;
  const optimizer = new Optimizer({ name: o.optimizer, momentum: o.momentum, weightDecay: o.weightDecay });
  try {
    const result = fit(network, optimizer, splits, o);
    return inherited ? { ...result, inherited } : result;
  } catch (error) {
    // The caller gets no network to dispose of: nothing may stay behind in the engine.
    network.dispose();
    throw error;
  } finally {
    optimizer.dispose();
  }
}

/** The training loop; the network is the caller's, the optimiser too. */
function fit(network: Network, optimizer: Optimizer, splits: Splits, o: TrainOptions): TrainedNetwork & { lastValidation?: number } {
  const graph = network.graph;
  const { h, w, c } = graph.input;
  const variables = network.trainableVariables();
  const rng = createRng(o.seed);
  const stepsPerEpoch = Math.ceil(splits.train.count / o.batchSize);
  const totalSteps = stepsPerEpoch * o.epochs;
  const start = performance.now();
  const elapsed = (): number => (performance.now() - start) / 1000;
  const stepLosses: number[] = [];
  const epochLosses: number[] = [];
  let images = 0;
  let step = 0;
  let stopped: TrainResult['stopped'];
  // Validation time is kept apart, so that training throughput is training's alone.
  let validationSeconds = 0;
  const trainingSeconds = (): number => elapsed() - validationSeconds;
  const validate = (): number => {
    const t = performance.now();
    const result = accuracy(network, splits.validation);
    validationSeconds += (performance.now() - t) / 1000;
    return result;
  };
  /** Validation accuracy at the end of the last epoch, when progress reports asked for it. */
  let lastValidation: number | undefined;

  for (let epoch = 0; epoch < o.epochs && !stopped; epoch++) {
    let epochLoss = 0;
    let epochSteps = 0;
    for (const batch of batches(splits.train, o.batchSize, rng)) {
      const pixels = o.augment ? augmentBatch(batch.x, batch.count, splits.shape, rng) : batch.x;
      const loss = tf.tidy(() => {
        const x = tf.tensor4d(pixels, [batch.count, h, w, c]);
        const labels = tf.oneHot(tf.tensor1d(batch.y, 'int32'), graph.classes);
        const { value, grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(labels, network.apply(x, true), undefined, o.labelSmoothing) as tf.Scalar,
          variables,
        );
        optimizer.apply(variables, grads, learningRateAt(o, step, stepsPerEpoch, totalSteps));
        return value.dataSync()[0] as number;
      });
      step++;
      images += batch.count;
      stepLosses.push(loss);
      epochLoss += loss;
      epochSteps++;
      o.onProgress?.({ kind: 'step', epoch, step: epochSteps, steps: stepsPerEpoch, loss, imagesPerSecond: images / trainingSeconds(), elapsedS: elapsed() });
      if (!Number.isFinite(loss)) {
        stopped = 'diverged';
        break;
      }
      if (o.timeBudgetS !== undefined && elapsed() >= o.timeBudgetS) {
        stopped = 'time budget';
        break;
      }
    }
    epochLosses.push(epochLoss / Math.max(1, epochSteps));
    if (o.onProgress) {
      lastValidation = validate();
      o.onProgress({ kind: 'epoch', epoch, epochs: o.epochs, trainLoss: epochLoss / Math.max(1, epochSteps), validationAccuracy: lastValidation, elapsedS: elapsed() });
    }
  }
  const trainSeconds = trainingSeconds();
  optimizer.dispose();
  const result: TrainedNetwork & { lastValidation?: number } = {
    epochLosses,
    stepLosses,
    steps: step,
    wallTimeS: elapsed(),
    trainImagesPerSecond: images / trainSeconds,
    network,
  };
  if (stopped) result.stopped = stopped;
  // The last epoch's validation saw the final weights: the caller need not run it again.
  if (lastValidation !== undefined) result.lastValidation = lastValidation;
  return result;
}
