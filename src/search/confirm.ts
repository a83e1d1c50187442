/**
 * Noise awareness: one short training's error scatters by about as much as the λ terms move
 * the loss, so the search's best by one training may only have drawn a lucky seed. The top
 * candidates are trained again with other seeds, and the best is the one of lowest loss at its
 * mean error. This module only decides; the experiment runs the trainings and stores them.
 */
import { topRung } from './fidelity.js';
import { processorLoss } from './loss.js';
import type { LossConfig, Reference } from './loss.js';
import type { Trial } from './types.js';

/** One more training of a candidate, with another seed. */
export interface Repeat {
  key: string;
  seed: number;
  /** Validation error in [0, 1]; absent when the training failed. */
  error?: number;
  reason?: string;
}

export interface Confirmed {
  trial: Trial;
  /**
   * The search's error first, then each repeat's that finished, in seed order. A search training
   * that inherited weights is left out when a repeat finished: the repeats train from scratch, as
   * the final training does, and its error is not of the same kind.
   */
  errors: number[];
  meanError: number;
  /** Sample standard deviation of `errors` (0 with one). */
  sdError: number;
  /** The loss at the mean error. */
  meanLoss: number;
  /** Repeats whose training failed, with why: such a candidate ranks after every one without. */
  failures: string[];
}

/**
 * The `top` finished trials of lowest loss at the highest rung reached (like with like), best
 * first (the search's order among equals).
 */
export function topTrials(trials: readonly Trial[], top: number): Trial[] {
  return topRung(trials)
    .map((t, order) => ({ t, order }))
    .sort((a, b) => a.t.loss - b.t.loss || a.order - b.order)
    .slice(0, top)
    .map(({ t }) => t);
}

/**
 * The candidates with their repeats, ordered by the loss at their mean error (the first is the
 * confirmed best). A candidate one of whose repeats failed (diverged) ranks after every candidate
 * that trained with every seed: it may not train again. A candidate keeps its place among equals.
 */
export function confirm(candidates: readonly Trial[], repeats: readonly Repeat[], reference: Reference, loss: LossConfig): Confirmed[] {
  return candidates
    .map((trial, order) => {
      const own = repeats.filter((r) => r.key === trial.key).sort((a, b) => a.seed - b.seed);
      const repeated = own.flatMap((r) => (r.error !== undefined ? [r.error] : []));
      const errors = trial.inherited && repeated.length > 0 ? repeated : [trial.error as number, ...repeated];
      const failures = own.flatMap((r) => (r.error === undefined ? [`seed ${r.seed}: ${r.reason ?? 'failed'}`] : []));
      const meanError = errors.reduce((s, e) => s + e, 0) / errors.length;
      const variance = errors.length > 1 ? errors.reduce((s, e) => s + (e - meanError) ** 2, 0) / (errors.length - 1) : 0;
      return { order, confirmed: { trial, errors, meanError, sdError: Math.sqrt(variance), meanLoss: processorLoss(meanError, trial.cost, reference, loss), failures } };
    })
    .sort((a, b) => Number(a.confirmed.failures.length > 0) - Number(b.confirmed.failures.length > 0) || a.confirmed.meanLoss - b.confirmed.meanLoss || a.order - b.order)
    .map(({ confirmed }) => confirmed);
}

/** The seeds of a candidate's repeats: the search trained with `seed`, the repeats with the next ones. */
export function repeatSeeds(seed: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => seed + 1 + i);
}
