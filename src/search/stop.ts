/** Termination conditions; any that holds ends the search. */
export interface StopConditions {
  /** Proposal rounds (each time the strategy is asked for candidates and gives some). */
  maxIterations?: number;
  /** Trials, the initial's included; the loop never starts more. */
  maxEvaluations?: number;
  /** Trials in a row, as they land, without a lower best loss. */
  patience?: number;
  timeBudgetS?: number;
  targetLoss?: number;
}

export interface Progress {
  iterations: number;
  evaluations: number;
  /** Trials landed since the best loss last fell. */
  sinceImprovement: number;
  elapsedS: number;
  bestLoss: number;
}

/** The reason to stop now, or undefined to go on. */
export function stopReason(c: StopConditions, p: Progress): string | undefined {
  if (c.targetLoss !== undefined && p.bestLoss <= c.targetLoss) return `reached the target loss ${c.targetLoss}`;
  if (c.maxEvaluations !== undefined && p.evaluations >= c.maxEvaluations) return `${p.evaluations} evaluations`;
  if (c.maxIterations !== undefined && p.iterations >= c.maxIterations) return `${p.iterations} iterations`;
  if (c.patience !== undefined && p.sinceImprovement >= c.patience) return `no improvement in ${c.patience} evaluation${c.patience === 1 ? '' : 's'}`;
  if (c.timeBudgetS !== undefined && p.elapsedS >= c.timeBudgetS) return `time budget of ${c.timeBudgetS} s`;
  return undefined;
}

export function hasAnyLimit(c: StopConditions): boolean {
  return [c.maxIterations, c.maxEvaluations, c.patience, c.timeBudgetS, c.targetLoss].some((v) => v !== undefined);
}
