/** What the search loop, the strategies and the evaluators exchange. */
import type { CostReport } from '../cost/index.js';
import type { Architecture } from '../space/index.js';

export type TrialStatus = 'done' | 'rejected' | 'failed';

/** The cost-model figures a search keeps of each candidate. */
export interface CostFigures {
  params: number;
  macs: number;
  latencyS: number;
  energyJ: number;
  dramTimeS: number;
  dramEnergyJ: number;
  /** Average DRAM power over the elapsed time. */
  dramPowerW: number;
  dramBytes: number;
  /** Deployed, one image at a time (cost/memory.ts); NaN in stores written before they were costed. */
  peakActivationBytes: number;
  storedWeightBytes: number;
}

export function costFigures(cost: CostReport): CostFigures {
  return {
    params: cost.params,
    macs: cost.macs,
    latencyS: cost.latencyS,
    energyJ: cost.energyJ,
    dramTimeS: cost.dram.timeS,
    dramEnergyJ: cost.dram.energyJ,
    dramPowerW: cost.dram.powerW,
    dramBytes: cost.dram.readBytes + cost.dram.writeBytes,
    peakActivationBytes: cost.memory.peakActivationBytes,
    storedWeightBytes: cost.memory.storedWeightBytes,
  };
}

export interface Trial {
  /** 0-based order of evaluation. */
  index: number;
  key: string;
  architecture: Architecture;
  status: TrialStatus;
  /** Prediction error in [0, 1]; undefined unless done. */
  error?: number;
  loss: number;
  cost: CostFigures;
  /** Why a trial was rejected or failed. */
  reason?: string;
  evaluationS: number;
  /** Multi-fidelity: the rung it trained at (0, the fewest images, when absent) and its images. */
  rung?: number;
  images?: number;
  /** Weight inheritance: the trained network it started from (absent: from its seeded initialisation). */
  inherited?: Inheritance;
}

/** A training that started from another trained network's weights where names and shapes match. */
export interface Inheritance {
  /** The parent's notation. */
  from: string;
  /** The share of the candidate's weight values taken from it, in (0, 1]. */
  fraction: number;
}

/** How an evaluation trains: on fewer images (a lower fidelity) or with another seed than configured. */
export interface EvaluationOptions {
  images?: number;
  seed?: number;
  /**
   * Weight inheritance: a `child` starts from the kept network it shares the most weights with; a
   * `parent` trains from scratch and is kept for children to come. Neither (a repeat): from
   * scratch, not kept.
   */
  inheritance?: 'child' | 'parent';
}

/** Gives the prediction error of an architecture: by training it, or from a benchmark table. */
export interface Evaluator {
  /**
   * The candidate's prediction error; `options` ask for a lower fidelity or another seed (a table
   * ignores them). A training evaluator that passes weights on says which network it started from.
   */
  evaluate(architecture: Architecture, options?: EvaluationOptions): Promise<{ error: number; inherited?: Inheritance }>;
  /**
   * A stored trial of a resumed search takes the place of an evaluation: an evaluator with state
   * (the parents of weight inheritance) rebuilds what evaluating it left behind, so that the trials
   * after it go as they went.
   */
  replay?(trial: Trial, options: EvaluationOptions): void;
  close?(): Promise<void>;
}

/**
 * A search strategy in ask/tell form: it proposes candidates and is told their trials. It never
 * sees how errors are obtained. Its state is plain data, so that a search can be resumed.
 */
export interface Strategy {
  readonly name: string;
  /**
   * Candidates for `slots` free workers (at most that many are evaluated; more are ignored).
   * None means: wait for a result in flight (the loop asks again when one lands); a strategy
   * must propose something when nothing is in flight. A strategy that trains (dnas) answers later.
   */
  propose(slots: number): Architecture[] | Promise<Architecture[]>;
  /**
   * Each trial as it lands, one at a time (a candidate proposed again after it landed is told
   * again). The loop launches the initial architecture itself, first, and may ask for proposals
   * for the other workers before its trial lands; a strategy that needs that trial to go on
   * proposes nothing until then.
   */
  observe(trials: Trial[]): void;
  /**
   * For a strategy that weighs candidates before they are trained: the loop says, before it tells
   * the first trial, how a candidate's loss follows from its prediction error (its cost is known
   * without training).
   */
  priceWith?(lossOf: LossOf): void;
}

/** The loss a candidate would have at prediction error `error` (0..1): Infinity over a budget. */
export type LossOf = (architecture: Architecture, error: number) => number;
