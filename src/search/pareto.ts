/** The Pareto front of trials over (error, DRAM time, DRAM energy), all minimised. */
import type { Trial } from './types.js';

function objectives(t: Trial): [number, number, number] {
  return [t.error ?? Number.POSITIVE_INFINITY, t.cost.dramTimeS, t.cost.dramEnergyJ];
}

/** True when a is no worse than b everywhere and better somewhere. */
export function dominates(a: Trial, b: Trial): boolean {
  const x = objectives(a);
  const y = objectives(b);
  return x.every((v, i) => v <= (y[i] as number)) && x.some((v, i) => v < (y[i] as number));
}

export function paretoFront(trials: Trial[]): Trial[] {
  const done = trials.filter((t) => t.status === 'done');
  return done.filter((t) => !done.some((u) => u !== t && dominates(u, t)));
}

/** The front after one more trial: O(front) work, for progress displays during a search. */
export function addToFront(front: Trial[], trial: Trial): Trial[] {
  if (trial.status !== 'done' || front.some((t) => t === trial || dominates(t, trial))) return front;
  return [...front.filter((t) => !dominates(trial, t)), trial];
}
