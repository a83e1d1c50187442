/**
 * Confirming the best before it is declared: the search's top candidates are trained again with
 * other seeds (through the same evaluator, so on the same pool or queue), each repeat stored as
 * it lands, and the best is the candidate of lowest loss at its mean error. A resumed run trains
 * only the repeats its store lacks.
 */
import { confirm, repeatSeeds, topRung, topTrials } from '../search/index.js';
import type { Confirmed, Reference, Repeat, SearchResult, Trial } from '../search/index.js';
import type { TrainingEvaluator } from '../search/evaluators/training.js';
import type { SearchConfig } from './config.js';
import type { ExperimentStore } from './store.js';

export interface ConfirmEvents {
  /** Before the first repeat: how many candidates, and how many trainings are still to run. */
  onConfirmStart?(info: { candidates: number; seeds: number; trainings: number }): void;
  /** A repeat finished (or failed), `done` of `total` still-to-run trainings. */
  onRepeat?(repeat: Repeat, progress: { done: number; total: number }): void;
}

/** The candidates and seeds the configuration asks to confirm (none when it is switched off). */
export function confirmationPlan(config: SearchConfig, search: Pick<SearchResult, 'trials'>): { candidates: SearchResult['trials']; seeds: number[] } {
  const { top, seeds } = config.confirm;
  if (top === 0 || seeds === 0) return { candidates: [], seeds: [] };
  return { candidates: topTrials(search.trials, top), seeds: repeatSeeds(config.seed, seeds) };
}

/**
 * How long confirming will take, from the trials so far: its trainings in rounds of `workers`,
 * each as long as the median finished training at the highest rung (a full one).
 */
export function confirmationReserveS(config: SearchConfig, trials: readonly Trial[], workers: number): number {
  const { top, seeds } = config.confirm;
  const full = topRung(trials).length;
  if (top === 0 || seeds === 0 || full === 0) return 0;
  return Math.ceil((Math.min(top, full) * seeds) / Math.max(1, workers)) * medianFullTrainingS(trials);
}

/** The median time of the finished trainings at the highest rung (full ones); 0 before any. */
function medianFullTrainingS(trials: readonly Trial[]): number {
  const full = topRung(trials).map((t) => t.evaluationS).sort((a, b) => a - b);
  return full.length === 0 ? 0 : (full[Math.floor(full.length / 2)] as number);
}

/**
 * How long the final training of the best will take: one full training, as long as the median
 * finished one at the highest rung (its export and test take a few percent more).
 */
export function finalTrainingReserveS(config: SearchConfig, trials: readonly Trial[]): number {
  return config.final.enabled ? medianFullTrainingS(trials) : 0;
}

/** The confirmed candidates, best first; undefined when confirmation is off or nothing finished. */
export async function confirmBest(
  config: SearchConfig,
  search: SearchResult,
  evaluator: TrainingEvaluator,
  store: ExperimentStore,
  events: ConfirmEvents = {},
): Promise<Confirmed[] | undefined> {
  const { candidates, seeds } = confirmationPlan(config, search);
  if (candidates.length === 0) return undefined;
  const stored = new Set(store.repeats().map((r) => `${r.key}\u0000${r.seed}`));
  const todo = candidates.flatMap((trial) => seeds.filter((seed) => !stored.has(`${trial.key}\u0000${seed}`)).map((seed) => ({ trial, seed })));
  events.onConfirmStart?.({ candidates: candidates.length, seeds: seeds.length, trainings: todo.length });
  let done = 0;
  // The pool (or queue) runs as many at once as it has workers; the rest wait in its queue.
  await Promise.all(
    todo.map(async ({ trial, seed }) => {
      const t0 = performance.now();
      let repeat: Repeat;
      try {
        const { error } = await evaluator.evaluate(trial.architecture, { seed });
        if (!Number.isFinite(error)) throw new Error('the evaluator returned no finite error');
        repeat = { key: trial.key, seed, error };
      } catch (error) {
        repeat = { key: trial.key, seed, reason: error instanceof Error ? error.message : String(error) };
      }
      store.addRepeat(repeat, (performance.now() - t0) / 1000);
      events.onRepeat?.(repeat, { done: ++done, total: todo.length });
    }),
  );
  return confirm(candidates, store.repeats(), search.reference, config.loss);
}

/** The confirmation a finished or interrupted run holds in its store (for its report). */
export function storedConfirmation(config: SearchConfig, trials: SearchResult['trials'], repeats: Repeat[], reference: Reference): Confirmed[] | undefined {
  const { candidates } = confirmationPlan(config, { trials });
  if (candidates.length === 0 || repeats.length === 0) return undefined;
  return confirm(candidates, repeats, reference, config.loss);
}
