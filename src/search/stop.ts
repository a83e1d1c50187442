/** Termination conditions; any that holds ends the search. */
export interface StopConditions {
  maxIterations?: number;
  maxEvaluations?: number;
  /** Iterations in a row without a lower best loss. */
  patience?: number;
  timeBudgetS?: number;
  targetLoss?: number;
}

export interface Progress {
  iterations: number;
  evaluations: number;
  iterationsSinceImprovement: number;
  elapsedS: number;
  bestLoss: number;
}

/** The reason to stop now, or undefined to go on. */
export function stopReason(c: StopConditions, p: Progress): string | undefined {
  if (c.targetLoss !== undefined && p.bestLoss <= c.targetLoss) return `reached the target loss ${c.targetLoss}`;
  if (c.maxEvaluations !== undefined && p.evaluations >= c.maxEvaluations) return `${p.evaluations} evaluations`;
  if (c.maxIterations !== undefined && p.iterations >= c.maxIterations) return `${p.iterations} iterations`;
  if (c.patience !== undefined && p.iterationsSinceImprovement >= c.patience) return `no improvement in ${c.patience} iterations`;
  if (c.timeBudgetS !== undefined && p.elapsedS >= c.timeBudgetS) return `time budget of ${c.timeBudgetS} s`;
  return undefined;
}

export function hasAnyLimit(c: StopConditions): boolean {
  return [c.maxIterations, c.maxEvaluations, c.patience, c.timeBudgetS, c.targetLoss].some((v) => v !== undefined);
}
