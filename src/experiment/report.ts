/**
 * The report of an experiment: what the page shows about the run (configuration, stop reason,
 * final training) around its trials, and writing report.html.
 */
import { writeFileAtomic } from '../files/index.js';
import { basename, resolve } from 'node:path';
import type { Processor } from '../processor/index.js';
import { renderReport } from '../report/index.js';
import type { ReportInput, SupernetEpochInput } from '../report/index.js';
import type { Confirmed, Trial } from '../search/index.js';
import { bestTrial, repeatSeeds, rungOf } from '../search/index.js';
import type { SearchConfig } from './config.js';

export const REPORT_FILE = 'report.html';

export interface RunOutcome {
  stoppedBecause?: string;
  final?: { validationAccuracy: number; testAccuracy: number; int8?: { validationAccuracy: number; testAccuracy: number } };
}

function lossText(config: SearchConfig): string {
  const l = config.loss;
  const formula = l.kind === 'mnasnet'
    ? `1 − (1 − error)·(T/T_target)^${l.exponent} (MnasNet; T: ${l.mnasnetMetric === 'latency' ? 'latency' : 'DRAM time'})`
    : `error + ${l.lambdaTime}·T_DRAM/T_initial + ${l.lambdaEnergy}·E_DRAM/E_initial${l.lambdaPower > 0 ? ` + ${l.lambdaPower}·P_DRAM/P_initial` : ''}`;
  const budgets = Object.entries(l.budgets).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ≤ ${v}`);
  return budgets.length ? `${formula}; budgets: ${budgets.join(', ')}` : formula;
}

function evaluatorText(config: SearchConfig): string {
  if (config.evaluator.kind === 'nb201-table') return `NAS-Bench-201 table (${config.evaluator.tableDataset}), ${basename(config.evaluator.table ?? '')}`;
  const t = config.training;
  return `training on ${config.dataset}: ${t.epochs} epoch${t.epochs === 1 ? '' : 's'}, ${t.limit} images, ${t.optimizer} lr ${t.lr}`;
}

/** The rungs a multi-fidelity run used, and how many trials trained at each (empty without). */
function fidelityText(config: SearchConfig, trials: Trial[]): string {
  const rungs = new Map<number, { images: number; trials: number }>();
  for (const t of trials) if (t.images !== undefined) rungs.set(rungOf(t), { images: t.images, trials: (rungs.get(rungOf(t))?.trials ?? 0) + 1 });
  if (rungs.size === 0) return '';
  const eta = config.fidelity?.eta ?? 3;
  const list = [...rungs.entries()].sort(([a], [b]) => a - b).map(([k, r]) => `rung ${k}: ${r.images} images, ${r.trials} trial${r.trials === 1 ? '' : 's'}`);
  return `ASHA, the best 1/${eta} of a rung go up; ${list.join('; ')}; a lower rung's loss is at the full training's error its own predicts`;
}

/**
 * The report's input from an experiment's configuration and trials (the first is the initial's),
 * a `dnas` run's supernet epochs (the store's; empty for other strategies) and the confirmation of
 * the best (the top candidates with their repeats, best first), when the run has one.
 */
export function reportInputOf(dir: string, config: SearchConfig, processor: Processor, trials: Trial[], outcome: RunOutcome, supernet: SupernetEpochInput[] = [], confirmation?: Confirmed[]): ReportInput {
  const first = trials[0];
  if (!first) throw new Error(`${dir}: no trials to report`);
  // Under multi-fidelity the initial also trained in full: that trial is what the best compares with.
  const initial = bestTrial(trials.filter((t) => t.key === first.key)) ?? first;
  // The confirmed best; without confirmation, as the search loop: the first trial of lowest loss.
  const best = confirmation?.[0]?.trial ?? bestTrial(trials) ?? initial;
  const status = (s: Trial['status']) => trials.filter((t) => t.status === s).length;
  const facts: Array<[string, string]> = [
    ['processor', config.processor],
    ['strategy', `${config.strategy} (seed ${config.seed})`],
    ['evaluator', evaluatorText(config)],
    ['loss', lossText(config)],
    ...(fidelityText(config, trials) ? [['multi-fidelity', fidelityText(config, trials)] as [string, string]] : []),
    ['DRAM cost of', config.cost.mode === 'training' ? `one training step, batch ${config.cost.batch}` : `inference, batch ${config.cost.batch}`],
    ['trials', `${trials.length}: ${status('done')} done, ${status('rejected')} rejected, ${status('failed')} failed`],
  ];
  if (outcome.stoppedBecause) facts.push(['stopped because', outcome.stoppedBecause]);
  const seeds = repeatSeeds(config.seed, config.confirm.seeds);
  if (confirmation?.[0]) {
    const c = confirmation[0];
    facts.push(['best, confirmed', `mean error ${(100 * c.meanError).toFixed(2)}% ± ${(100 * c.sdError).toFixed(2)} over ${c.errors.length} trainings (top ${confirmation.length} trained again with seed${seeds.length === 1 ? '' : 's'} ${seeds.join(', ')})`]);
  }
  if (outcome.final) {
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    facts.push(['best, trained again', `validation accuracy ${pct(outcome.final.validationAccuracy)}, test accuracy ${pct(outcome.final.testAccuracy)}`]);
    const int8 = outcome.final.int8;
    if (int8) facts.push(['best in int8 (post-training)', `validation accuracy ${pct(int8.validationAccuracy)}, test accuracy ${pct(int8.testAccuracy)} (best-int8.onnx)`]);
  }
  return {
    title: basename(resolve(dir)),
    processor,
    cost: { mode: config.cost.mode, batch: config.cost.batch },
    trials,
    initial,
    best,
    facts,
    ...(supernet.length > 0 ? { supernet } : {}),
    ...(confirmation && confirmation.length > 0 ? { confirmation: { seeds, candidates: confirmation } } : {}),
  };
}

/** Writes the page to `file`. */
export function writeReport(file: string, input: ReportInput): void {
  writeFileAtomic(file, renderReport(input));
}
