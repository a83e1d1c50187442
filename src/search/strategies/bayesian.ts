/**
 * Bayesian optimisation over the space's moves: a Gaussian process models the prediction error
 * from the architecture's genes (`gp.ts`), and since the processor's cost of a candidate is known
 * before it is trained, the model's belief about its error is a belief about its loss. Each free
 * worker gets the candidate of highest expected improvement of the loss over the best found,
 * among a pool drawn around the best trials: every unseen neighbour of the few best, random
 * two-move steps from them, and random samples of the space for reach, then climbs of the
 * acquisition move by move from the most promising (the acquisition is optimised by mutation and
 * local search, as in BANANAS, White et al. 2021, and CASMOPOLITAN). The improvement is priced
 * with the spread of a new observation, not only the model's: two trainings of networks that
 * compute the same function differ by noise, and a sibling of the best may land lower. A
 * candidate that cannot beat the best even at no error has no expected improvement: it is never
 * proposed. The model's predicted spread is recalibrated by its own misses (`fitCalibration`).
 * Every few proposals, one is a plain mutation of a best trial instead, so that a
 * confidently wrong model cannot keep the search from a region it has not sampled.
 *
 * The first candidates, before the model has anything to go on, are mutants of the initial
 * architecture one to three moves away. Its state is the trials it was told, so a resumed
 * search rebuilds the same model.
 */
import { randomWalk } from '../../space/index.js';
import type { Architecture, Random, SearchSpace } from '../../space/index.js';
import type { LossOf, Strategy, Trial } from '../types.js';
import { CategoricalGp } from './gp.js';
import { Seen } from './seen.js';

export interface BayesianOptions {
  /** Trained candidates before the model is consulted (the initial's counts). */
  founders: number;
  /** The best trials whose every unseen neighbour joins the pool. */
  parents: number;
  /** Random two-move steps from those trials in the pool. */
  steps: number;
  /** Random samples of the space in the pool. */
  samples: number;
  /** The most promising candidates of the pool from which the acquisition climbs. */
  climbs: number;
  /** Every this many proposals, one is a mutant of a best trial instead of the model's choice (0: never). */
  explore: number;
  /** Whether the predicted spread is recalibrated by the model's misses (`fitCalibration`); default true. */
  recalibrate?: boolean;
}

export const DEFAULT_BAYESIAN: BayesianOptions = { founders: 5, parents: 10, steps: 100, samples: 300, climbs: 5, explore: 4 };

/** Moves a climb of the acquisition takes at most. */
const CLIMB_DEPTH = 6;

/** An unseen candidate that could beat the best, with the bound of its expected improvement. */
interface Candidate {
  architecture: Architecture;
  x: Int32Array;
  /** The error below which it would beat the best: (best − floor) / slope. */
  room: number;
  slope: number;
  /** The log of a bound of its expected improvement (−∞: none). */
  bound: number;
}

export class BayesianSearch implements Strategy {
  readonly name = 'bayesian';
  private readonly seen: Seen;
  private readonly model = new CategoricalGp();
  /** Trials with an error, best loss first. */
  private readonly ranked: Trial[] = [];
  private lossOf: LossOf | undefined;
  private proposals = 0;
  private readonly encodings = new Map<string, Int32Array>();
  /**
   * Each trial's miss as the model predicted it just before it was told (prequential, so a
   * resumed search replays the same): the squared error of the mean and the predicted variance.
   */
  private readonly misses: Miss[] = [];
  /** The map of predicted variances that makes those misses most likely: a·v + b. */
  private calibration: Calibration = { a: 1, b: 0 };
  /** Misses at the last fit of the calibration (refit as they grow by a tenth: each fit is O(misses)). */
  private calibratedAt = 0;

  constructor(
    private readonly space: SearchSpace,
    private readonly initial: Architecture,
    private readonly random: Random,
    private readonly options: BayesianOptions = DEFAULT_BAYESIAN,
  ) {
    this.seen = new Seen(space);
  }

  priceWith(lossOf: LossOf): void {
    this.lossOf = lossOf;
  }

  propose(slots: number): Architecture[] {
    const wanted = Math.max(1, slots);
    if (this.model.size + this.seen.inFlight < this.options.founders) return this.seen.track(this.founders(wanted));
    const lossOf = this.lossOf;
    if (!lossOf) throw new Error('internal: the bayesian strategy was not told how to price candidates');
    const best = this.ranked[0]?.loss ?? Number.POSITIVE_INFINITY;
    this.proposals++;
    if (this.options.explore > 0 && this.proposals % this.options.explore === 0) {
      const mutant = this.mutant(lossOf, best);
      if (mutant) return this.seen.track([mutant]);
    }
    // A bound of each candidate's promise first (O(n) each), the exact promise, O(n²), only
    // for the few whose bound can win.
    const candidates = new Map<string, Candidate | undefined>();
    /** Unseen architectures of the pool, in the order met (whether or not they can win). */
    const fresh: Architecture[] = [];
    const consider = (architecture: Architecture): Candidate | undefined => {
      const key = this.space.key(architecture);
      if (candidates.has(key)) return candidates.get(key);
      let c: Candidate | undefined;
      const unseen = this.seen.unseenKey(key);
      if (unseen) fresh.push(architecture);
      const floor = unseen ? lossOf(architecture, 0) : Number.POSITIVE_INFINITY;
      const slope = unseen ? lossOf(architecture, 1) - floor : 0;
      if (floor < best && Number.isFinite(slope)) {
        const x = this.encoded(architecture);
        const cheap = this.model.predictCheaply(x);
        const room = (best - floor) / slope;
        c = { architecture, x, room, slope, bound: Math.log(slope) + logExpectedShortfall(room, cheap.mean, this.calibrated(cheap.observedSd)) };
      }
      candidates.set(key, c);
      return c;
    };
    this.pool(consider);
    const pooled = fresh.length;
    // The acquisition's own local search: from the most promising, up the bound move by move,
    // so that promise three or four moves from any trial is found too.
    const starts = [...candidates.values()].filter((c): c is Candidate => c !== undefined).sort((a, b) => b.bound - a.bound).slice(0, this.options.climbs);
    for (let c of starts) {
      for (let depth = 0; depth < CLIMB_DEPTH; depth++) {
        let next: Candidate | undefined;
        for (const n of this.space.neighbours(c.architecture)) {
          const m = consider(n);
          if (m && m.bound > (next?.bound ?? c.bound)) next = m;
        }
        if (!next) break;
        c = next;
      }
    }
    // The log of each one's expected improvement, exact (O(n²)) only where its bound can win.
    const scored = topByBound(
      [...candidates.values()].filter((c): c is Candidate => c !== undefined),
      (c) => c.bound,
      (c) => {
        const p = this.model.predict(c.x);
        return Math.log(c.slope) + logExpectedShortfall(c.room, p.mean, this.calibrated(p.observedSd));
      },
      wanted,
    );
    const chosen = scored.filter((s) => s.score > Number.NEGATIVE_INFINITY).map((s) => s.item.architecture);
    // Nothing can improve as far as the model knows: any unseen candidate of the pool, else wait.
    if (chosen.length === 0 && pooled > 0) chosen.push(fresh[Math.floor(this.random() * pooled)] as Architecture);
    if (chosen.length === 0 && this.seen.inFlight === 0) chosen.push(this.space.sample(this.random));
    return this.seen.track(chosen);
  }

  observe(trials: Trial[]): void {
    for (const t of trials) {
      const known = this.seen.trial(t.key);
      this.seen.tell(t);
      // Told again (proposed after it landed): the model has it already.
      if (known || t.status !== 'done' || t.error === undefined || !Number.isFinite(t.loss)) continue;
      // The log of the error (see expectedShortfall); a perfect score is floored at 0.1%.
      const y = Math.log(Math.max(t.error, 1e-3));
      const x = this.encoded(t.architecture);
      if (this.options.recalibrate !== false && this.model.size >= this.options.founders) {
        const p = this.model.predict(x);
        this.misses.push({ squared: (y - p.mean) ** 2, variance: p.observedSd ** 2 });
        if (this.misses.length >= this.calibratedAt * 1.1) {
          this.calibration = fitCalibration(this.misses);
          this.calibratedAt = this.misses.length;
        }
      }
      this.model.add(x, y);
      const at = this.ranked.findIndex((r) => r.loss > t.loss);
      this.ranked.splice(at < 0 ? this.ranked.length : at, 0, t);
    }
  }

  /** A predicted sd of a new observation, recalibrated by the misses so far. */
  private calibrated(sd: number): number {
    return Math.sqrt(this.calibration.a * sd * sd + this.calibration.b);
  }

  /**
   * A guard against a confidently wrong model: a random move or two from one of the best trials
   * (as evolution would), unseen, and able to beat the best.
   */
  private mutant(lossOf: LossOf, best: number): Architecture | undefined {
    const parents = this.ranked.slice(0, this.options.parents);
    for (let tries = 0; tries < 100 && parents.length > 0; tries++) {
      const a = randomWalk(this.space, (parents[Math.floor(this.random() * parents.length)] as Trial).architecture, 2, this.random);
      if (this.seen.unseen(a) && lossOf(a, 0) < best) return a;
    }
    return undefined;
  }

  /** Mutants of the initial architecture, one to three moves away, not seen before. */
  private founders(wanted: number): Architecture[] {
    const out: Architecture[] = [];
    for (let tries = 0; out.length < wanted && tries < 100 * wanted; tries++) {
      const a = randomWalk(this.space, this.initial, 3, this.random);
      if (this.seen.unseen(a) && !out.some((o) => this.space.key(o) === this.space.key(a))) out.push(a);
    }
    return out;
  }

  /** Hands `add` the candidates around the best trials, and a few anywhere (seen ones too: `add` sorts them out). */
  private pool(add: (a: Architecture) => unknown): void {
    const parents = this.ranked.slice(0, this.options.parents).map((t) => t.architecture);
    for (const p of parents) for (const n of this.space.neighbours(p)) add(n);
    for (let i = 0; i < this.options.steps && parents.length > 0; i++) {
      const p = parents[Math.floor(this.random() * parents.length)] as Architecture;
      add(this.space.mutate(this.space.mutate(p, this.random), this.random));
    }
    for (let i = 0; i < this.options.samples; i++) add(this.space.sample(this.random));
  }

  /** The architecture as the model reads it, once per candidate. */
  private encoded(a: Architecture): Int32Array {
    const key = this.space.key(a);
    let x = this.encodings.get(key);
    if (!x) {
      // Bounded: a long search over a large space prices far more candidates than it keeps.
      if (this.encodings.size >= 100_000) this.encodings.clear();
      x = this.model.encode(this.space.features(a));
      this.encodings.set(key, x);
    }
    return x;
  }
}

/** A prediction's squared miss of the observation, and the variance it predicted. */
export interface Miss {
  squared: number;
  variance: number;
}

/** A recalibration of predicted variances: v ↦ a·v + b. */
export interface Calibration {
  a: number;
  b: number;
}

/** Misses before which the predicted variances are taken as they are. */
const CALIBRATION_MISSES = 20;

/**
 * The affine map of predicted variances (a·v + b, on a grid: a from 0.05 to 3.2, b from 0 to
 * about 0.024) under which the misses are most likely, as a normal model of each miss. Why: the
 * model's spread is a single stationary kernel's, too wide far from the trials (measured on
 * NB201: proposals with predicted sd 0.2–0.3 of log error missed by rms 0.6 sd) and too narrow
 * near them, and the acquisition trades the two; the misses of its own predictions, one per
 * trial, are the evidence of how far to trust each. Identity until CALIBRATION_MISSES.
 */
export function fitCalibration(misses: readonly Miss[]): Calibration {
  if (misses.length < CALIBRATION_MISSES) return { a: 1, b: 0 };
  let best = { a: 1, b: 0, logLik: Number.NEGATIVE_INFINITY };
  for (let i = 0; i <= 24; i++) {
    const a = 0.05 * 2 ** (i / 4);
    for (let j = 0; j <= 16; j++) {
      const b = j === 0 ? 0 : 1e-5 * 2 ** ((j - 1) * 0.75);
      let logLik = 0;
      for (const m of misses) {
        const v = a * m.variance + b;
        logLik -= 0.5 * (Math.log(v) + m.squared / v);
      }
      if (logLik > best.logLik) best = { a, b, logLik };
    }
  }
  return { a: best.a, b: best.b };
}

/**
 * The `wanted` items of highest score, best first, scoring only those whose bound (never below
 * the score) can still beat the `wanted`-th best so far: the bounds are taken in decreasing
 * order, and once one cannot win neither can the rest. The answer is that of scoring every item.
 */
export function topByBound<T>(items: readonly T[], bound: (item: T) => number, score: (item: T) => number, wanted: number): Array<{ item: T; score: number }> {
  const byBound = items.map((item) => ({ item, bound: bound(item) })).sort((a, b) => b.bound - a.bound);
  const top: Array<{ item: T; score: number }> = [];
  for (const { item, bound: b } of byBound) {
    if (top.length >= wanted && b <= (top[wanted - 1] as { score: number }).score) break;
    const s = score(item);
    let at = top.findIndex((t) => t.score < s);
    if (at < 0) at = top.length;
    if (at < wanted) top.splice(at, 0, { item, score: s });
    if (top.length > wanted) top.pop();
  }
  return top;
}

/**
 * E[max(0, room − e)] for the error e = exp(Y), Y ~ N(mean, sd²): the expected improvement of a
 * loss that is affine in the error (loss = floor + slope · e; room = (best − floor) / slope),
 * with the model on the log of the error. Logs because errors span 2% to 90%: on a linear scale
 * the chance-level cells would set the scale, and the differences that matter near the best
 * would drown. The put-option formula: room·Φ(z) − e^(mean + sd²/2)·Φ(z − sd), z = (ln room − mean)/sd.
 */
export function expectedShortfall(room: number, mean: number, sd: number): number {
  return Math.exp(logExpectedShortfall(room, mean, sd));
}

/**
 * The log of `expectedShortfall`, exact far into the tail. Near the best, the improvement a
 * candidate can still bring is a tail event: computed as the difference of the formula's two
 * terms it cancels to zero (or below) once z falls under about −5, every candidate looks
 * equally hopeless, and the search would choose blindly. With Φ(z) = φ(z)·M(−z) and the
 * second term rewritten the same way, it is room·φ(z)·(M(−z) − M(sd − z)), M the Mills ratio,
 * whose logarithm has no cancellation or underflow (−∞ only when there is no room at all).
 */
export function logExpectedShortfall(room: number, mean: number, sd: number): number {
  if (!(room > 0)) return Number.NEGATIVE_INFINITY;
  if (!(sd > 0)) return Math.log(Math.max(0, room - Math.exp(mean)));
  const z = (Math.log(room) - mean) / sd;
  if (z >= 0) return Math.log(Math.max(0, room * normalCdf(z) - Math.exp(mean + (sd * sd) / 2) * normalCdf(z - sd)));
  return Math.log(room) - (z * z) / 2 - 0.5 * Math.log(2 * Math.PI) + Math.log(mills(-z) - mills(sd - z));
}

/** The Mills ratio (1 − Φ(t)) / φ(t) for t ≥ 0: √(π/2)·erfcx(t/√2). */
function mills(t: number): number {
  return Math.sqrt(Math.PI / 2) * erfcx(t / Math.SQRT2);
}

/**
 * exp(x²)·erfc(x) for x ≥ 0, by Numerical Recipes' erfc (relative error < 1.2e-7) without its
 * factor exp(−x²), so that it neither underflows nor loses precision for large x.
 */
function erfcx(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  return t * Math.exp(-1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
}

/** Φ(z), by the complementary error function. */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const erfc = erfcx(x) * Math.exp(-x * x);
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}
