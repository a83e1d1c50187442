/**
 * The training every command shares unless told otherwise: a search's candidates, its final
 * training and `procnas train`, so that `procnas train` with a trial's seed, images and
 * validation count trains that trial again. Plain values, without TF.js, so that the search
 * configuration can read them without loading the engine.
 */
export const TRAINING_DEFAULTS = {
  epochs: 1,
  batchSize: 64,
  optimizer: 'sgd',
  /** The main job's rate: at 0.05, one epoch of the default initial on 8000 MNIST images lags. */
  learningRate: 0.1,
  momentum: 0.9,
  weightDecay: 5e-4,
  schedule: 'cosine',
  stepEpochs: 30,
  stepGamma: 0.1,
  labelSmoothing: 0,
  augment: false,
  seed: 0,
} as const;
