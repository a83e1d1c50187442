/**
 * Prediction error by training: each candidate is trained on the task (in a worker-thread pool,
 * one per core, or on machines behind a queue) and its validation error is the error term. A
 * diverged training fails its trial. Weight inheritance, when the search asks for it: a child
 * starts from the kept parent it shares the most weights with (Parents), not from its seeded
 * initialisation.
 */
import type { SplitOptions } from '../../data/index.js';
import { TrainingPool } from '../../engine/pool.js';
import type { BackendChoice } from '../../engine/backend.js';
import type { TrainOptions } from '../../engine/train.js';
import type { Int8Job, JobResult, JobRunner } from '../../engine/job.js';
import { graphVariables } from '../../engine/variables.js';
import type { Weights } from '../../engine/variables.js';
import { architectureToData, lower, notationOf } from '../../space/index.js';
import type { Architecture } from '../../space/index.js';
import type { EvaluationOptions, Evaluator, Inheritance, Trial } from '../types.js';
import { Parents } from './parents.js';

export interface TrainingEvaluatorOptions {
  dataset: string;
  split: SplitOptions;
  training: Partial<Omit<TrainOptions, 'onProgress'>>;
  workers: number;
  backend: BackendChoice;
  /** Where the jobs run; default: a pool of `workers` threads on this machine. */
  runner?: JobRunner;
  /** Where parents are kept beyond this process (the experiment's store), so that a resumed search has them again. */
  archive?: ParentArchive;
  /** Post-training int8 quantisation: of the final training when `enabled`, of every candidate when `score`. */
  int8?: Int8Job & { enabled: boolean; score: boolean };
}

/** A lasting copy of the parents, by name (the architecture's notation). */
export interface ParentArchive {
  save(name: string, weights: Weights): void;
  load(name: string): Weights | undefined;
}

/** How a diverged training's failure begins. */
export const DIVERGED = 'training diverged';

export class TrainingEvaluator implements Evaluator {
  private readonly pool: JobRunner;
  /** The trained networks children inherit from. */
  private readonly parents = new Parents();

  constructor(private readonly options: TrainingEvaluatorOptions) {
    this.pool = options.runner ?? new TrainingPool(options.workers, options.backend);
  }

  /**
   * Trains the candidate and returns its validation error. `images` trains on the first that many
   * of the training images (a lower fidelity; the validation images stay the same); `seed`
   * replaces the training's seed (weight initialisation, shuffling), not the split's: a repeat is
   * judged on the same images. `inheritance` says whether it starts from a kept parent (a child)
   * or is kept as one (a parent).
   */
  async evaluate(architecture: Architecture, options: EvaluationOptions = {}): Promise<{ error: number; inherited?: Inheritance }> {
    const parent = options.inheritance === 'child' ? this.parents.parentFor(graphVariables(lower(architecture))) : undefined;
    const result = await this.pool.run({
      architecture: architectureToData(architecture),
      dataset: this.options.dataset,
      split: options.images === undefined ? this.options.split : { ...this.options.split, limit: options.images },
      options: options.seed === undefined ? this.options.training : { ...this.options.training, seed: options.seed },
      ...(options.inheritance === 'parent' ? { weights: true } : {}),
      ...(parent ? { start: parent.weights } : {}),
      ...(this.int8Job(true) ?? {}),
    });
    if (result.stopped === 'diverged') throw new Error(`${DIVERGED} (the loss became NaN)`);
    // Scored in int8: the error the processor will see, when its profile runs int8.
    const error = this.options.int8?.score && result.int8 ? 1 - result.int8.validationAccuracy : result.validationError;
    if (options.inheritance === 'parent' && result.weights) {
      this.parents.add(notationOf(architecture), result.weights);
      this.options.archive?.save(notationOf(architecture), result.weights);
    }
    const inherited = parent && result.inherited && result.inherited.inherited > 0 ? { from: parent.name, fraction: result.inherited.inherited / result.inherited.of } : undefined;
    return { error, ...(inherited ? { inherited } : {}) };
  }

  /**
   * A stored trial in place of its training: a child uses its parent again (which keeps that
   * parent longest), a parent is kept again from the archive, as evaluating them did.
   */
  replay(trial: Trial, options: EvaluationOptions): void {
    if (options.inheritance === 'child') this.parents.parentFor(graphVariables(lower(trial.architecture)));
    if (options.inheritance === 'parent' && trial.status === 'done') {
      const weights = this.options.archive?.load(notationOf(trial.architecture));
      if (weights) this.parents.add(notationOf(trial.architecture), weights);
    }
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
      ...(this.int8Job(false) ?? {}),
    });
  }

  /** The int8 part of a job: a candidate's when candidates are scored in int8, the final one's when enabled. */
  private int8Job(candidate: boolean): { int8: Int8Job } | undefined {
    const q = this.options.int8;
    if (!q || !(candidate ? q.score : q.enabled)) return undefined;
    return { int8: { images: q.images, calibration: q.calibration, percentile: q.percentile } };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
