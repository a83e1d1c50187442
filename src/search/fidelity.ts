/**
 * Multi-fidelity: asynchronous successive halving (ASHA, Li et al., MLSys 2020) over the training
 * images. Every candidate trains first on the fewest images (rung 0); whenever a worker is free,
 * a candidate in the best 1/η of its rung's finished trials goes up one rung, to η times the
 * images, until the top rung trains on all of them. Losses are compared like with like: the
 * strategy is told rung 0's trials only, and the best is the lowest loss at the highest rung any
 * finished trial reached.
 */
import type { Trial } from './types.js';

export interface FidelitySchedule {
  /** Training images per rung, ascending; the last is the full training. */
  images: number[];
  /** Promotion ratio: the best 1/eta of a rung go up. */
  eta: number;
}

/** `rungs` rungs η apart, the top one at `fullImages` (at least `minImages` on the lowest). */
export function fidelitySchedule(fullImages: number, rungs: number, eta: number, minImages = 1): FidelitySchedule {
  const images: number[] = [];
  for (let k = rungs - 1; k >= 0; k--) {
    const n = Math.max(minImages, Math.round(fullImages / eta ** k));
    if (images.length === 0 || n > (images[images.length - 1] as number)) images.push(n);
  }
  return { images, eta };
}

/** A trial's rung: 0 without multi-fidelity. */
export function rungOf(t: Pick<Trial, 'rung'>): number {
  return t.rung ?? 0;
}

/** Whether `t` is a better best than `than`: finished, then at a higher rung, then of lower loss. */
export function ranksAbove(t: Trial, than: Trial | undefined): boolean {
  if (!Number.isFinite(t.loss)) return than === undefined;
  if (!than || !Number.isFinite(than.loss)) return true;
  return rungOf(t) > rungOf(than) || (rungOf(t) === rungOf(than) && t.loss < than.loss);
}

/** The best of `trials` by `ranksAbove` (the first among equals). */
export function bestTrial(trials: readonly Trial[]): Trial | undefined {
  let best: Trial | undefined;
  for (const t of trials) if (ranksAbove(t, best)) best = t;
  return best;
}

/** The finished trials at the highest rung any finished trial reached: the ones that compare. */
export function topRung(trials: readonly Trial[]): Trial[] {
  const done = trials.filter((t) => t.status === 'done' && Number.isFinite(t.loss));
  const top = Math.max(-1, ...done.map(rungOf));
  return done.filter((t) => rungOf(t) === top);
}

/**
 * ASHA's next promotion, from the top rung down: a finished trial among the best ⌊n/η⌋ of its
 * rung's n whose candidate has no trial at a higher rung yet (landed or in flight), while fewer
 * than ⌊n/η⌋ of the rung's candidates have gone up. The quota is ours: ASHA alone promotes any
 * trial that enters the top 1/η, and when later candidates keep displacing earlier ones (as
 * children that inherit from ever better parents do) that sent 18 of 27 candidates up one rung
 * and 13 of those 18 up the next in a 3-minute search, spending most of it on the upper rungs.
 * With the quota a rung holds at most 1/η of the one below, as in synchronous successive
 * halving, and a late candidate still goes up as soon as the rung's growth makes room.
 */
export function nextPromotion(landed: readonly Trial[], inFlight: ReadonlyArray<{ key: string; rung: number }>, schedule: FidelitySchedule): { trial: Trial; rung: number } | undefined {
  const highest = new Map<string, number>();
  for (const t of [...landed.map((l) => ({ key: l.key, rung: rungOf(l) })), ...inFlight]) highest.set(t.key, Math.max(highest.get(t.key) ?? -1, t.rung));
  for (let k = schedule.images.length - 2; k >= 0; k--) {
    const rung = landed.filter((t) => rungOf(t) === k && t.status === 'done' && Number.isFinite(t.loss));
    const promotable = Math.floor(rung.length / schedule.eta);
    const promoted = rung.filter((t) => (highest.get(t.key) ?? -1) > k).length;
    if (promoted >= promotable) continue;
    const ranked = rung.map((t, order) => ({ t, order })).sort((a, b) => a.t.loss - b.t.loss || a.order - b.order);
    for (const { t } of ranked.slice(0, promotable)) if ((highest.get(t.key) ?? -1) <= k) return { trial: t, rung: k + 1 };
  }
  return undefined;
}
