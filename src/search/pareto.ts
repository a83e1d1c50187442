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
