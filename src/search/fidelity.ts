/**
 * Multi-fidelity: asynchronous successive halving (ASHA, Li et al., MLSys 2020) over the training
 * images. Every candidate trains first on the fewest images (rung 0); whenever a worker is free,
 * a candidate in the best 1/η of its rung's finished trials goes up one rung, to η times the
 * images, until the top rung trains on all of them. Losses are compared like with like: the
 * strategy is told rung 0's trials only, and the best is the lowest loss at the highest rung any
 * finished trial reached. A lower rung's loss takes the full training's error its own predicts
 * (`oddsShifts`), so that the DRAM terms weigh in a rung what they weigh at the top.
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

/** Errors this close to 0 or 1 count as that close: a perfect or hopeless training is not infinitely far in log-odds. */
const ODDS_EDGE = 1e-4;

const logOdds = (p: number): number => {
  const q = Math.min(1 - ODDS_EDGE, Math.max(ODDS_EDGE, p));
  return Math.log(q / (1 - q));
};

/**
 * How each rung's error predicts the full training's, as a shift in log-odds: over the candidates
 * that finished both that rung and the top one, the mean of log-odds(top error) − log-odds(rung
 * error); 0 for the top rung and for a rung with no such candidate yet. A short training's error
 * is far higher than a full one's and spreads far wider (rung 0 of the main job: 30–90 %, the
 * full trainings 4–11 %), so a loss that added it to the DRAM terms as it is would rank a rung
 * almost by error alone: a 3-minute search with four rungs promoted 8 candidates to the top, none
 * of them cheaper in DRAM than the initial. Shifting the log-odds (a proportional-odds model: a
 * shorter training multiplies the odds of an error by one factor) maps the rung's errors to the
 * full training's range, where the DRAM terms weigh what they weigh in the final comparison. One
 * parameter per rung, a mean, so a few pairs (the initial is the first) already give it.
 */
export function oddsShifts(trials: readonly Trial[], rungs: number): number[] {
  const errors = new Map<string, Map<number, number>>();
  for (const t of trials) {
    if (t.status !== 'done' || t.error === undefined || !Number.isFinite(t.error)) continue;
    let byRung = errors.get(t.key);
    if (!byRung) errors.set(t.key, (byRung = new Map()));
    byRung.set(rungOf(t), t.error);
  }
  const top = rungs - 1;
  const sums = new Array<number>(rungs).fill(0);
  const counts = new Array<number>(rungs).fill(0);
  for (const byRung of errors.values()) {
    const full = byRung.get(top);
    if (full === undefined) continue;
    for (const [rung, error] of byRung) {
      if (rung === top) continue;
      sums[rung] = (sums[rung] as number) + logOdds(full) - logOdds(error);
      counts[rung] = (counts[rung] as number) + 1;
    }
  }
  return sums.map((sum, rung) => ((counts[rung] as number) > 0 ? sum / (counts[rung] as number) : 0));
}

/** A rung's error as the full training's it predicts: its log-odds shifted by `shift` (no shift: the error itself). */
export function predictedFullError(error: number, shift: number): number {
  if (shift === 0) return error;
  return 1 / (1 + Math.exp(-(logOdds(error) + shift)));
}

/**
 * ASHA's next promotion, from the top rung down: a finished trial among the best ⌊n/η⌋ of its
 * rung's n by `lossOf` (the loop's: each at the full error its rung predicts now) whose candidate has no trial at a higher rung yet (landed or in flight), while fewer
 * than ⌊n/η⌋ of the rung's candidates have gone up. The quota is ours: ASHA alone promotes any
 * trial that enters the top 1/η, and when later candidates keep displacing earlier ones (as
 * children that inherit from ever better parents do) that sent 18 of 27 candidates up one rung
 * and 13 of those 18 up the next in a 3-minute search, spending most of it on the upper rungs.
 * With the quota a rung holds at most 1/η of the one below, as in synchronous successive
 * halving, and a late candidate still goes up as soon as the rung's growth makes room.
 */
export function nextPromotion(
  landed: readonly Trial[],
  inFlight: ReadonlyArray<{ key: string; rung: number }>,
  schedule: FidelitySchedule,
  lossOf: (t: Trial) => number = (t) => t.loss,
): { trial: Trial; rung: number } | undefined {
  const highest = new Map<string, number>();
  for (const t of [...landed.map((l) => ({ key: l.key, rung: rungOf(l) })), ...inFlight]) highest.set(t.key, Math.max(highest.get(t.key) ?? -1, t.rung));
  for (let k = schedule.images.length - 2; k >= 0; k--) {
    const rung = landed.filter((t) => rungOf(t) === k && t.status === 'done' && Number.isFinite(t.loss));
    const promotable = Math.floor(rung.length / schedule.eta);
    const promoted = rung.filter((t) => (highest.get(t.key) ?? -1) > k).length;
    if (promoted >= promotable) continue;
    const ranked = rung.map((t, order) => ({ t, order, loss: lossOf(t) })).sort((a, b) => a.loss - b.loss || a.order - b.order);
    for (const { t } of ranked.slice(0, promotable)) if ((highest.get(t.key) ?? -1) <= k) return { trial: t, rung: k + 1 };
  }
  return undefined;
}
