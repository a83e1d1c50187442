/**
 * Prediction error by training: each candidate is trained on the task (in a worker-thread pool,
 * one per core, or on machines behind a queue) and its validation error is the error term. A
 * diverged training fails its trial.
 */
import type { SplitOptions } from '../../data/index.js';
import { TrainingPool } from '../../engine/pool.js';
import type { BackendChoice } from '../../engine/backend.js';
import type { TrainOptions } from '../../engine/train.js';
import type { JobResult, JobRunner } from '../../engine/job.js';
import { architectureToData } from '../../space/index.js';
import type { Architecture } from '../../space/index.js';
import type { EvaluationOptions, Evaluator } from '../types.js';

export interface TrainingEvaluatorOptions {
  dataset: string;
  split: SplitOptions;
  training: Partial<Omit<TrainOptions, 'onProgress'>>;
  workers: number;
  backend: BackendChoice;
  /** Where the jobs run; default: a pool of `workers` threads on this machine. */
  runner?: JobRunner;
}

export class TrainingEvaluator implements Evaluator {
  private readonly pool: JobRunner;

  constructor(private readonly options: TrainingEvaluatorOptions) {
    this.pool = options.runner ?? new TrainingPool(options.workers, options.backend);
  }

  /**
   * Trains the candidate and returns its validation error. `images` trains on the first that many
   * of the training images (a lower fidelity; the validation images stay the same); `seed`
   * replaces the training's seed (weight initialisation, shuffling), not the split's: a repeat is
   * judged on the same images.
   */
  async evaluate(architecture: Architecture, options: EvaluationOptions = {}): Promise<{ error: number }> {
    const result = await this.pool.run({
      architecture: architectureToData(architecture),
      dataset: this.options.dataset,
      split: options.images === undefined ? this.options.split : { ...this.options.split, limit: options.images },
      options: options.seed === undefined ? this.options.training : { ...this.options.training, seed: options.seed },
    });
    if (result.stopped === 'diverged') throw new Error('training diverged (the loss became NaN)');
    return { error: result.validationError };
  }

  /**
   * The final training of the architecture a search chose: on the same task, with `overrides`
   * (e.g. more images or epochs); returns its test accuracy and trained weights.
   */
  async finalTraining(architecture: Architecture, overrides: { limit?: number; epochs?: number }): Promise<JobResult> {
    return this.pool.run({
      architecture: architectureToData(architecture),
      dataset: this.options.dataset,
      split: { ...this.options.split, ...(overrides.limit !== undefined ? { limit: overrides.limit } : {}) },
      options: { ...this.options.training, ...(overrides.epochs !== undefined ? { epochs: overrides.epochs } : {}) },
      test: true,
      weights: true,
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
