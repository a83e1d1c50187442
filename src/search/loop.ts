/**
 * The search loop, asynchronous: whenever an evaluation slot is free the strategy is asked for
 * candidates, and each result is told to it as soon as it lands, so a slow candidate never
 * idles the other workers. The cost model scores each candidate, the evaluator gives its error,
 * the loss combines them; until a stop condition holds. The best trial is the one with the
 * lowest loss; the Pareto front is kept alongside.
 *
 * Trials are numbered in the order they land, and that order is what a resumed search replays:
 * it asks the strategy exactly as the interrupted run did and, whenever a stored result is in
 * flight, lands the earliest stored one instead of waiting. Everything a strategy sees is then
 * the same as in the interrupted run up to its last stored trial, so it takes the same path.
 */
import { estimateArchitectureCost } from '../cost/index.js';
import type { CostOptions } from '../cost/index.js';
import type { Processor } from '../processor/index.js';
import { ArchitectureError } from '../space/index.js';
import type { Architecture, SearchSpace } from '../space/index.js';
import { nextPromotion, oddsShifts, predictedFullError, ranksAbove, rungOf, topRung } from './fidelity.js';
import type { FidelitySchedule } from './fidelity.js';
import { budgetViolations, lossFloor, processorLoss, referenceOf } from './loss.js';
import type { LossConfig, Reference } from './loss.js';
import { paretoFront } from './pareto.js';
import { hasAnyLimit, stopReason } from './stop.js';
import type { StopConditions } from './stop.js';
import { costFigures } from './types.js';
import type { CostFigures, EvaluationOptions, Evaluator, Strategy, Trial } from './types.js';

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
  /**
   * Seconds of the time budget kept for what follows the search (confirming the best), as
   * estimated from the trials so far: the search stops that much earlier.
   */
  reserve?: { seconds: (trials: readonly Trial[]) => number; for: string };
  /** Evaluations in flight at once (one per worker); default 1. */
  concurrency?: number;
  /**
   * Multi-fidelity (ASHA): candidates train first on the fewest images and the best go up. The
   * initial architecture also trains in full at once: the reference the best is compared with.
   */
  fidelity?: FidelitySchedule;
  /**
   * Weight inheritance (with `fidelity`): trainings below the top rung start from the top-rung
   * network they share the most weights with; top-rung trainings start from scratch, so that the
   * best and the Pareto front compare like with like, and are the parents.
   */
  inherit?: boolean;
  /**
   * Candidates that cannot become the best are not trained: their loss at no prediction error
   * at all is not below the best loss at the top rung. They land as rejected, with why.
   */
  prune?: boolean;
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

/** How a pruned trial's reason begins. */
const PRUNED = 'cannot beat the best';

/** Whether a trial was rejected untrained because it could not beat the best (prune). */
export function wasPruned(t: Trial): boolean {
  return t.status === 'rejected' && (t.reason?.startsWith(PRUNED) ?? false);
}

/**
 * Failed evaluations in a row after which the search stops: a candidate may fail on its own, but
 * this many in a row is the evaluator failing (a missing kernel file, a broken worker), and
 * searching on would only pile up failures (19,926 of them in a 3-minute search once).
 */
const FAILURES_IN_A_ROW = 10;

/** Proposal rounds in a row that bring nothing new before the search gives up on its strategy. */
const FRUITLESS_ROUNDS = 1000;

/** Cost figures a search keeps for pricing candidates before it starts forgetting them. */
const COST_MEMO = 50_000;

/** A candidate being evaluated: live (by the evaluator) or replayed (from the stored trials). */
interface Flight {
  trial: Trial;
  replay?: Trial;
}

/** A trial's identity in a search: its architecture at its rung. */
const idOf = (key: string, rung: number): string => (rung === 0 ? key : `${key}@${rung}`);

export async function runSearch(o: SearchOptions): Promise<SearchResult> {
  if (!hasAnyLimit(o.stop)) throw new Error('a search needs at least one stop condition');
  const started = performance.now();
  const clock = (): number => (o.elapsedBeforeS ?? 0) + (performance.now() - started) / 1000;
  const prior = new Map((o.prior ?? []).map((t) => [idOf(t.key, rungOf(t)), t]));
  const schedule = o.fidelity && o.fidelity.images.length > 1 ? o.fidelity : undefined;
  const top = schedule ? schedule.images.length - 1 : 0;
  // Without lower rungs there is nothing to inherit into: every training would be a parent.
  const inherit = (o.inherit ?? false) && schedule !== undefined;
  const costOptions = o.cost ?? {};
  const reference = referenceOf(costFigures(estimateArchitectureCost(o.initial, o.processor, costOptions)));
  const slots = Math.max(1, Math.floor(o.concurrency ?? 1));
  /** Cost figures by key: a strategy may price the same candidate many times before it is tried. */
  const costs = new Map<string, CostFigures>();
  const costOf = (key: string, architecture: Architecture): CostFigures => {
    let cost = costs.get(key);
    if (!cost) {
      // Bounded: a long search over a large space prices far more candidates than it tries.
      if (costs.size >= COST_MEMO) costs.clear();
      cost = costFigures(estimateArchitectureCost(architecture, o.processor, costOptions));
      costs.set(key, cost);
    }
    return cost;
  };
  o.strategy.priceWith?.((architecture, error) => processorLoss(error, costOf(o.space.key(architecture), architecture), reference, o.loss));
  const trials: Trial[] = [];
  const byKey = new Map<string, Trial>();
  const flying = new Map<string, Flight>();
  /** Live evaluations that finished, in the order they finished, not yet told. */
  const finished: Flight[] = [];
  let wake: (() => void) | undefined;
  /** An architecture error is procnas's caller's fault, not the candidate's: it ends the search. */
  let fatal: unknown;
  let best: Trial | undefined;
  let sinceImprovement = 0;
  let failuresInARow = 0;
  let lastFailure = '';

  /** Each rung's shift in log-odds to the full training's error, from the trials landed so far (none: all 0). */
  const shifts = (): number[] => (schedule ? oddsShifts(trials, schedule.images.length) : []);
  /** A finished trial's loss, at the full training's error its rung predicts under `shift`. */
  const lossAt = (trial: Trial, shift: readonly number[]): number =>
    processorLoss(predictedFullError(trial.error as number, shift[rungOf(trial)] ?? 0), trial.cost, reference, o.loss);

  /** Evaluation times by rung, sorted, of trials that ran (not those rejected untrained). */
  const durations: number[][] = [];
  const land = (trial: Trial, replayed: boolean): void => {
    // Priced as it lands, by what had landed before it: a replay lands a stored trial with the
    // loss it was told with, so a resumed search tells its strategy what the first run told it.
    if (!replayed && trial.status === 'done') trial.loss = lossAt(trial, shifts());
    trial.index = trials.length;
    trials.push(trial);
    if (o.stop.timeBudgetS !== undefined && trial.status !== 'rejected') {
      const times = (durations[rungOf(trial)] ??= []);
      const at = times.findIndex((s) => s > trial.evaluationS);
      times.splice(at < 0 ? times.length : at, 0, trial.evaluationS);
    }
    byKey.set(idOf(trial.key, rungOf(trial)), trial);
    if (ranksAbove(trial, best)) {
      best = trial;
      sinceImprovement = 0;
    } else sinceImprovement++;
    if (trial.status === 'failed') {
      failuresInARow++;
      lastFailure = trial.reason ?? 'no reason given';
    } else failuresInARow = 0;
    o.onTrial?.(trial, best as Trial, replayed);
    // Like with like: the strategy compares the candidates' trainings at the lowest rung only.
    if (rungOf(trial) === 0) o.strategy.observe([trial]);
  };

  /** How a trial is evaluated: at its rung's images, as a child or a parent under inheritance. */
  const evaluationOptions = (trial: Trial): EvaluationOptions => ({
    ...(trial.images === undefined ? {} : { images: trial.images }),
    ...(inherit ? { inheritance: rungOf(trial) < top ? ('child' as const) : ('parent' as const) } : {}),
  });

  const evaluate = async (flight: Flight, t0: number): Promise<void> => {
    const { trial } = flight;
    try {
      const result = await o.evaluator.evaluate(trial.architecture, evaluationOptions(trial));
      trial.error = result.error;
      if (result.inherited) trial.inherited = result.inherited;
      if (!Number.isFinite(trial.error)) throw new Error('the evaluator returned no finite error');
    } catch (error) {
      if (error instanceof ArchitectureError) fatal ??= error;
      trial.status = 'failed';
      trial.reason = error instanceof Error ? error.message : String(error);
      delete trial.error;
      delete trial.inherited;
    }
    trial.evaluationS = (performance.now() - t0) / 1000;
    finished.push(flight);
    wake?.();
  };

  /** Why a candidate cannot become the best (its DRAM terms alone reach the best loss at the top rung), if it cannot. */
  const hopelessness = (trial: Trial): string | undefined => {
    if (!best || best.status !== 'done' || rungOf(best) !== top) return undefined;
    const floor = lossFloor(trial.cost, reference, o.loss);
    return floor >= best.loss ? `${PRUNED}: its loss at no error at all, ${floor.toFixed(4)}, is not below the best's ${best.loss.toFixed(4)}` : undefined;
  };

  /** Starts a candidate at a rung; returns whether it is new (a known or flying one is not evaluated twice). */
  const launch = (architecture: Architecture, rung = 0): boolean => {
    const key = o.space.key(architecture);
    const id = idOf(key, rung);
    const known = byKey.get(id);
    if (known) {
      // Proposed again: told again, at no cost.
      o.strategy.observe([known]);
      return false;
    }
    if (flying.has(id)) return false;
    const t0 = performance.now();
    const trial: Trial = { index: -1, key, architecture, status: 'done', loss: Number.POSITIVE_INFINITY, cost: costOf(key, architecture), evaluationS: 0 };
    if (schedule) {
      trial.rung = rung;
      trial.images = schedule.images[rung] as number;
    }
    const replay = prior.get(id);
    if (replay?.status === 'rejected') {
      // It landed at once when it was launched (never trained): so it does again, before the next proposal.
      land({ ...replay }, true);
      return true;
    }
    if (replay) {
      // Where it was evaluated, in the order trials were launched (exact with one worker).
      o.evaluator.replay?.(replay, evaluationOptions(trial));
      flying.set(id, { trial, replay });
      return true;
    }
    const violations = budgetViolations(trial.cost, o.loss.budgets);
    const hopeless = o.prune ? hopelessness(trial) : undefined;
    if (violations.length > 0 || hopeless) {
      // Over a budget, or unable to win: rejected before any training, so it lands at once.
      trial.status = 'rejected';
      trial.reason = violations.length > 0 ? violations.join('; ') : hopeless;
      land(trial, false);
      return true;
    }
    const flight: Flight = { trial };
    flying.set(id, flight);
    void evaluate(flight, t0);
    return true;
  };

  /** The next landing: the earliest stored result in flight, else the first live one to finish. */
  const nextLanding = async (): Promise<{ trial: Trial; replayed: boolean } | undefined> => {
    for (;;) {
      let replay: Flight | undefined;
      for (const f of flying.values()) if (f.replay && (!replay || f.replay.index < (replay.replay as Trial).index)) replay = f;
      if (replay) {
        flying.delete(idOf(replay.trial.key, rungOf(replay.trial)));
        return { trial: { ...(replay.replay as Trial) }, replayed: true };
      }
      const done = finished.shift();
      if (done) {
        flying.delete(idOf(done.trial.key, rungOf(done.trial)));
        if (fatal) throw fatal;
        return { trial: done.trial, replayed: false };
      }
      if (flying.size === 0) return undefined;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  };

  // The initial architecture is the search's first observation, not a strategy's proposal: a
  // strategy that proposed it would get the known trial back and count an iteration for nothing.
  // It is launched first and the other workers are not kept waiting for it: the strategy is
  // asked for their candidates at once (its neighbours, founders or mutants).
  const initialKey = o.space.key(o.initial);
  launch(o.initial);
  /** The next promotion: the initial's full training first (the reference), then ASHA's. */
  const promotion = (): { architecture: Architecture; rung: number } | undefined => {
    if (!schedule) return undefined;
    const initialTop = idOf(initialKey, top);
    if ((byKey.get(initialKey)?.status === 'done') && !byKey.has(initialTop) && !flying.has(initialTop)) return { architecture: o.initial, rung: top };
    // Each rung's trials ranked at the full error they predict now, however early they landed.
    const shift = shifts();
    const next = nextPromotion(trials, [...flying.values()].map((f) => ({ key: f.trial.key, rung: rungOf(f.trial) })), schedule, (t) => lossAt(t, shift));
    return next && { architecture: next.trial.architecture, rung: next.rung };
  };
  /** Whether the initial's full training is yet to start, its first training not having failed. */
  const initialFullPending = (): boolean => {
    if (!schedule || top === 0) return false;
    const first = byKey.get(initialKey);
    const full = idOf(initialKey, top);
    return (first === undefined || first.status === 'done') && !byKey.has(full) && !flying.has(full);
  };
  let iterations = 0;
  let fruitless = 0;
  let stoppedBecause: string | undefined;
  const reserved = (): number => o.reserve?.seconds(trials) ?? 0;
  const progress = () => ({ iterations, evaluations: trials.length, sinceImprovement, elapsedS: clock() + reserved(), bestLoss: best?.loss ?? Number.POSITIVE_INFINITY });
  /**
   * Whether an evaluation at `rung` started now would land within the time budget (less what is
   * reserved), taking as long as the median of those that landed at that rung (nothing known:
   * yes). A search does not start what it would have to wait for past its budget: the wait for
   * the trainings in flight once it stopped made `--budget 10m` searches end 57 s late.
   */
  const fitsInBudget = (rung: number): boolean => {
    const budget = o.stop.timeBudgetS;
    const times = durations[rung];
    if (budget === undefined || !times || times.length === 0) return true;
    return clock() + reserved() + (times[Math.floor(times.length / 2)] as number) <= budget;
  };
  for (;;) {
    stoppedBecause = stopReason(o.stop, progress());
    // Time for no other candidate: the budget is spent once those in flight land.
    if (!stoppedBecause && !fitsInBudget(0)) stoppedBecause = `time budget of ${o.stop.timeBudgetS} s`;
    if (!stoppedBecause && failuresInARow >= FAILURES_IN_A_ROW) stoppedBecause = `${failuresInARow} evaluations in a row failed, the last with: ${lastFailure}`;
    if (stoppedBecause) {
      const kept = reserved();
      if (o.reserve && kept > 0 && stoppedBecause.startsWith('time budget') && o.stop.timeBudgetS !== undefined && clock() < o.stop.timeBudgetS) {
        stoppedBecause += ` (${Math.round(kept)} s of it kept for ${o.reserve.for})`;
      }
      break;
    }
    // Never start more evaluations than the limit allows: the search ends on it, not past it.
    const room = o.stop.maxEvaluations === undefined ? slots : Math.min(slots, o.stop.maxEvaluations - trials.length - flying.size);
    let free = Math.min(slots - flying.size, room);
    for (let p = free > 0 ? promotion() : undefined; p && free > 0 && fitsInBudget(p.rung); p = free > 0 ? promotion() : undefined) {
      launch(p.architecture, p.rung);
      free--;
    }
    // Under an evaluation limit, the initial's full training (the reference) keeps its place
    // while its first training is still in flight: candidates that filled the limit before it
    // landed left the best compared with an initial trained on a rung's images.
    if (o.stop.maxEvaluations !== undefined && initialFullPending()) free = Math.min(free, room - 1);
    if (free > 0) {
      const candidates = await o.strategy.propose(free);
      if (candidates.length > 0) {
        iterations++;
        let fresh = 0;
        for (const candidate of candidates.slice(0, free)) if (launch(candidate)) fresh++;
        fruitless = fresh > 0 ? 0 : fruitless + 1;
        if (fruitless >= FRUITLESS_ROUNDS) {
          stoppedBecause = `the strategy proposed only architectures already evaluated, ${FRUITLESS_ROUNDS} times in a row (the space may be exhausted)`;
          break;
        }
        if (fresh > 0 || flying.size === 0) continue;
      } else if (flying.size === 0) {
        throw new Error(`internal: the ${o.strategy.name} strategy proposed nothing with nothing in flight`);
      }
    }
    const next = await nextLanding();
    if (next) land(next.trial, next.replayed);
  }
  // What is in flight was started within the limits: it lands and is kept.
  for (let next = await nextLanding(); next; next = await nextLanding()) land(next.trial, next.replayed);
  // The initial as the best is compared with: in full when it was trained so.
  const initialFull = byKey.get(idOf(initialKey, top));
  const initial = initialFull?.status === 'done' ? initialFull : (byKey.get(initialKey) as Trial);
  return {
    best: best as Trial,
    initial,
    trials,
    pareto: paretoFront(topRung(trials)),
    iterations,
    evaluations: trials.length,
    stoppedBecause,
    reference,
  };
}
