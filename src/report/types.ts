/** What the report is made from (plain data), and the data the page's script reads. */
import type { CostMode } from '../cost/index.js';
import type { Processor } from '../processor/index.js';
import type { Confirmed } from '../search/confirm.js';
import type { Trial, TrialStatus } from '../search/types.js';

export interface ReportInput {
  /** The page's title, e.g. the run folder's name. */
  title: string;
  processor: Processor;
  /** Whose DRAM cost the search counted: deployment (inference) or one training step. */
  cost: { mode: CostMode; batch: number };
  /** Every trial, in evaluation order. */
  trials: Trial[];
  initial: Trial;
  best: Trial;
  /** Facts about the run shown at the top: strategy, evaluator, loss, stop reason, ... */
  facts: Array<[string, string]>;
  /** A differentiable supernet search's epochs, in order (absent or empty for other strategies). */
  supernet?: SupernetEpochInput[];
  /** The top candidates trained again with other seeds, best first (absent without confirmation). */
  confirmation?: { seeds: number[]; candidates: Confirmed[] };
}

/** DRAM time and energy of one architecture, or expected under the supernet's choice probabilities. */
export interface DramPair {
  dramTimeS: number;
  dramEnergyJ: number;
}

/** One supernet epoch of a `dnas` run, as the experiment store keeps it (only what the page shows). */
export interface SupernetEpochInput {
  /** 0-based. */
  epoch: number;
  /** The argmax architecture's notation. */
  notation: string;
  /** Under the choice probabilities p, and of the argmax. */
  expected: DramPair;
  exact: DramPair;
  /** The argmax's validation error with the supernet's shared weights, in [0, 1]. */
  supernetError: number;
  /** Mean losses of the epoch's weight and architecture steps (NaN if none ran). */
  trainLoss: number;
  validationLoss: number;
  /** Mean entropy of the slots' choice distributions, in nats. */
  entropy: number;
}

/** A display unit: shown value = SI value × scale. */
export interface Unit {
  label: string;
  scale: number;
}

export interface TrialRow {
  i: number;
  notation: string;
  status: TrialStatus;
  error: number | null;
  loss: number | null;
  timeS: number;
  energyJ: number;
  params: number;
  macs: number;
  /** Deployed memory (null in stores written before it was costed). */
  peakActivationBytes: number | null;
  storedWeightBytes: number | null;
  /** On the Pareto front over (error, DRAM time, DRAM energy), among the trials at the top rung. */
  pareto: boolean;
  reason: string | null;
  /** Training images, under multi-fidelity (null when every candidate trained in full). */
  images: number | null;
  /** Weight inheritance: the share of its weights it started with, and from which network (null: from scratch). */
  inherited: { fraction: number; from: string } | null;
}

/** DRAM figures of one architecture over shared labels (null where it has no such stage/block). */
export interface Series {
  weightBytes: Array<number | null>;
  activationBytes: Array<number | null>;
  timeS: Array<number | null>;
  notation: Array<string | null>;
}

export interface Breakdown {
  labels: string[];
  initial: Series;
  best: Series;
}

export interface LayerRow {
  name: string;
  op: string;
  block: string;
  readBytes: number;
  writeBytes: number;
  weightBytes: number;
  fused: boolean;
  dramS: number;
}

/** The page's data: one JSON block, read by the page's script. */
export interface PageData {
  units: { time: Unit; energy: Unit; bytes: Unit };
  trials: TrialRow[];
  /** Trial indices of the initial and the best architecture. */
  initial: number;
  best: number;
  byStage: Breakdown;
  byBlock: Breakdown;
  layers: { initial: LayerRow[]; best: LayerRow[] };
  /** The supernet's epochs (a `dnas` run), else empty. */
  supernet: SupernetRow[];
  /** What the two architectures are called in the charts (default: initial and best). */
  names?: { initial: string; best: string };
  /** The dashboard's: a trial's page is at trialUrl + its index (the static report links nowhere). */
  trialUrl?: string;
}

export interface SupernetRow {
  /** 1-based, as the search prints it. */
  epoch: number;
  notation: string;
  /** The trial that evaluated this argmax (trained from scratch), if any. */
  trial: number | null;
  supernetError: number | null;
  expectedTimeS: number;
  exactTimeS: number;
  expectedEnergyJ: number;
  exactEnergyJ: number;
  entropy: number | null;
  trainLoss: number | null;
  validationLoss: number | null;
}
