/**
 * The search loop: the strategy proposes, the cost model scores, the evaluator gives the error,
 * the loss combines them, the strategy is told; until a stop condition holds. The best trial is
 * the one with the lowest loss; the Pareto front is kept alongside.
 */
import { estimateArchitectureCost } from '../cost/index.js';
import type { CostOptions } from '../cost/index.js';
import type { Processor } from '../processor/index.js';
import { ArchitectureError } from '../space/index.js';
import type { Architecture, SearchSpace } from '../space/index.js';
import { budgetViolations, processorLoss, referenceOf } from './loss.js';
import type { LossConfig, Reference } from './loss.js';
import { paretoFront } from './pareto.js';
import { hasAnyLimit, stopReason } from './stop.js';
import type { StopConditions } from './stop.js';
import { costFigures } from './types.js';
import type { Evaluator, Strategy, Trial } from './types.js';

export interface SearchOptions {
  space: SearchSpace;
  strategy: Strategy;
  evaluator: Evaluator;
  processor: Processor;
  initial: Architecture;
  loss: LossConfig;
  stop: StopConditions;
  /** How candidates are costed: inference or a training step, its batch and optimiser. */
  cost?: CostOptions;
  /** Called for every trial; `replayed` when it came from `prior` rather than the evaluator. */
  onTrial?: (trial: Trial, best: Trial, replayed: boolean) => void;
  /**
   * Trials of an interrupted run of the same search. The strategy is replayed from the start
   * with the same seed and is told these results instead of evaluating again, so the resumed
   * search takes exactly the path the uninterrupted one would have taken.
   */
  prior?: Trial[];
  /** Seconds already spent before this run (a resumed search keeps its time budget). */
  elapsedBeforeS?: number;
}

export interface SearchResult {
  best: Trial;
  initial: Trial;
  trials: Trial[];
  pareto: Trial[];
  iterations: number;
  evaluations: number;
  stoppedBecause: string;
  reference: Reference;
}

export async function runSearch(o: SearchOptions): Promise<SearchResult> {
  if (!hasAnyLimit(o.stop)) throw new Error('a search needs at least one stop condition');
  const started = performance.now();
  const clock = (): number => (o.elapsedBeforeS ?? 0) + (performance.now() - started) / 1000;
  const prior = new Map((o.prior ?? []).map((t) => [t.key, t]));
  const costOptions = o.cost ?? {};
  const reference = referenceOf(costFigures(estimateArchitectureCost(o.initial, o.processor, costOptions)));
  const trials: Trial[] = [];
  const byKey = new Map<string, Trial>();
  let best: Trial | undefined;

  const evaluate = async (architecture: Architecture): Promise<Trial> => {
    const key = o.space.key(architecture);
    const known = byKey.get(key);
    if (known) return known;
    const replay = prior.get(key);
    if (replay) {
      const trial = { ...replay, index: trials.length };
      byKey.set(key, trial);
      trials.push(trial);
      if (!best || trial.loss < best.loss) best = trial;
      o.onTrial?.(trial, best, true);
      return trial;
    }
    const t0 = performance.now();
    const trial: Trial = { index: trials.length, key, architecture, status: 'done', loss: Number.POSITIVE_INFINITY, cost: costFigures(estimateArchitectureCost(architecture, o.processor, costOptions)), evaluationS: 0 };
    byKey.set(key, trial);
    trials.push(trial);
    const violations = budgetViolations(trial.cost, o.loss.budgets);
    if (violations.length > 0) {
      trial.status = 'rejected';
      trial.reason = violations.join('; ');
    } else {
      try {
        trial.error = (await o.evaluator.evaluate(architecture)).error;
        if (!Number.isFinite(trial.error)) throw new Error('the evaluator returned no finite error');
        trial.loss = processorLoss(trial.error, trial.cost, reference, o.loss);
      } catch (error) {
        if (error instanceof ArchitectureError) throw error;
        trial.status = 'failed';
        trial.reason = error instanceof Error ? error.message : String(error);
        delete trial.error;
      }
    }
    trial.evaluationS = (performance.now() - t0) / 1000;
    if (!best || trial.loss < best.loss) best = trial;
    o.onTrial?.(trial, best, false);
    return trial;
  };

  // The initial architecture is the search's first observation, not a strategy's proposal: a
  // strategy that proposed it would get the known trial back and count an iteration for nothing.
  const initial = await evaluate(o.initial);
  o.strategy.observe([initial]);
  let iterations = 0;
  let sinceImprovement = 0;
  let stoppedBecause: string | undefined;
  while (!stoppedBecause) {
    const before = best?.loss ?? Number.POSITIVE_INFINITY;
    const candidates = await o.strategy.propose();
    const results = await Promise.all(candidates.map(evaluate));
    o.strategy.observe(results);
    iterations++;
    sinceImprovement = (best?.loss ?? Number.POSITIVE_INFINITY) < before ? 0 : sinceImprovement + 1;
    stoppedBecause = stopReason(o.stop, {
      iterations,
      evaluations: trials.length,
      iterationsSinceImprovement: sinceImprovement,
      elapsedS: clock(),
      bestLoss: best?.loss ?? Number.POSITIVE_INFINITY,
    });
  }
  return {
    best: best as Trial,
    initial,
    trials,
    pareto: paretoFront(trials),
    iterations,
    evaluations: trials.length,
    stoppedBecause,
    reference,
  };
}
