/**
 * Prediction error by training: each candidate is trained on the task (in a worker-thread pool,
 * one per core, or on machines behind a queue) and its validation error is the error term. A
 * diverged training fails its trial. With inheritance on, each candidate starts from the trained
 * network it shares the most weights with (Parents) instead of from its seeded initialisation.
 */
import type { SplitOptions } from '../../data/index.js';
import { TrainingPool } from '../../engine/pool.js';
import type { BackendChoice } from '../../engine/backend.js';
import type { TrainOptions } from '../../engine/train.js';
import type { JobResult, JobRunner } from '../../engine/job.js';
import { graphVariables } from '../../engine/variables.js';
import { architectureToData, lower, notationOf } from '../../space/index.js';
import type { Architecture } from '../../space/index.js';
import type { EvaluationOptions, Evaluator, Inheritance } from '../types.js';
import { Parents } from './parents.js';

export interface TrainingEvaluatorOptions {
  dataset: string;
  split: SplitOptions;
  training: Partial<Omit<TrainOptions, 'onProgress'>>;
  workers: number;
  backend: BackendChoice;
  /** Where the jobs run; default: a pool of `workers` threads on this machine. */
  runner?: JobRunner;
  /** Weight inheritance: candidates start from the trained network they share the most with. */
  inherit?: boolean;
}

export class TrainingEvaluator implements Evaluator {
  private readonly pool: JobRunner;
  /** The trained networks candidates inherit from (inheritance on). */
  private readonly parents: Parents | undefined;

  constructor(private readonly options: TrainingEvaluatorOptions) {
    this.pool = options.runner ?? new TrainingPool(options.workers, options.backend);
    this.parents = options.inherit ? new Parents() : undefined;
  }

  /**
   * Trains the candidate and returns its validation error. `images` trains on the first that many
   * of the training images (a lower fidelity; the validation images stay the same); `seed`
   * replaces the training's seed (weight initialisation, shuffling), not the split's: a repeat is
   * judged on the same images. With inheritance on, the training starts from the kept network it
   * shares the most with (unless `scratch`), and is kept in turn for the candidates after it.
   */
  async evaluate(architecture: Architecture, options: EvaluationOptions = {}): Promise<{ error: number; inherited?: Inheritance }> {
    const parents = options.scratch ? undefined : this.parents;
    const parent = parents?.parentFor(graphVariables(lower(architecture)));
    const result = await this.pool.run({
      architecture: architectureToData(architecture),
      dataset: this.options.dataset,
      split: options.images === undefined ? this.options.split : { ...this.options.split, limit: options.images },
      options: options.seed === undefined ? this.options.training : { ...this.options.training, seed: options.seed },
      ...(parents ? { weights: true } : {}),
      ...(parent ? { start: parent.weights } : {}),
    });
    if (result.stopped === 'diverged') throw new Error('training diverged (the loss became NaN)');
    if (parents && result.weights) parents.add(notationOf(architecture), result.weights);
    const inherited = parent && result.inherited && result.inherited.inherited > 0 ? { from: parent.name, fraction: result.inherited.inherited / result.inherited.of } : undefined;
    return { error: result.validationError, ...(inherited ? { inherited } : {}) };
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
