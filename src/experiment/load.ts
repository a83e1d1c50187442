/** Reads a search's run folder back for its report: the store's configuration and trials, and the result files. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readDataFile } from '../files/index.js';
import { parseProcessor, resolveProcessor } from '../processor/index.js';
import type { ReportInput } from '../report/index.js';
import { bestTrial, referenceOf } from '../search/index.js';
import { ConfigError, migrateStoredConfig, parseSearchConfig } from './config.js';
import { storedConfirmation } from './confirm.js';
import { reportInputOf } from './report.js';
import type { RunOutcome } from './report.js';
import { STORE_FILE, writerOf } from './folder.js';
import { ExperimentStore } from './store.js';

/** A result file of the run, if it has one; a damaged one is bad input naming the file. */
function readJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  let data: unknown;
  try {
    data = readDataFile(file);
  } catch (error) {
    throw new ConfigError(`${file}: cannot read this result of the run: ${(error as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`${file}: cannot read this result of the run: not a JSON object`);
  return data as T;
}

export function loadRunReport(dir: string): ReportInput {
  const file = join(dir, STORE_FILE);
  if (!existsSync(file)) throw new ConfigError(`${dir}: not a search's folder (no ${STORE_FILE} in it)`);
  const store = new ExperimentStore(file, 'read');
  try {
    const config = parseSearchConfig(migrateStoredConfig(store.getMeta('config')), file);
    const trials = store.trials();
    if (trials.length === 0) throw new ConfigError(`${dir}: the experiment has no finished trial yet`);
    const summary = readJson<{ stoppedBecause?: string }>(join(dir, 'summary.json'));
    const outcome: RunOutcome = { stoppedBecause: summary?.stoppedBecause ?? 'not finished (interrupted, or still running)' };
    const final = readJson<RunOutcome['final']>(join(dir, 'final.json'));
    if (final) outcome.final = final;
    // The profile the run ran with (stores from before it was kept: as the configuration names it now).
    const stored = store.getMeta<unknown>('processor');
    const processor = stored !== undefined ? parseProcessor(stored, `${file} (its processor)`) : resolveProcessor(config.processor);
    const initial = trials[0] as (typeof trials)[number];
    const confirmation = storedConfirmation(config, trials, store.repeats(), referenceOf(initial.cost));
    return reportInputOf(dir, config, processor, trials, outcome, store.supernetEpochs(), confirmation);
  } finally {
    store.close();
  }
}

/** Where a run is: a process is writing it, it stopped (and why), or it stopped without saying (killed). */
export interface RunState {
  state: 'running' | 'stopped' | 'interrupted';
  why: string;
}

export function runStateOf(dir: string): RunState {
  if (writerOf(dir) !== undefined) return { state: 'running', why: '' };
  const summary = readJson<{ stoppedBecause?: string }>(join(dir, 'summary.json'));
  if (summary?.stoppedBecause) return { state: 'stopped', why: summary.stoppedBecause };
  return { state: 'interrupted', why: 'no process is writing it and it did not finish: resume it with procnas search --resume' };
}

/** What a list of runs shows of one: its processor, strategy, trials and best loss so far. */
export interface RunSummary extends RunState {
  processor: string;
  strategy: string;
  trials: number;
  done: number;
  bestLoss: number | null;
}

export function loadRunSummary(dir: string): RunSummary {
  const file = join(dir, STORE_FILE);
  if (!existsSync(file)) throw new ConfigError(`${dir}: not a search's folder (no ${STORE_FILE} in it)`);
  const state = runStateOf(dir);
  const store = new ExperimentStore(file, 'read');
  try {
    const config = parseSearchConfig(migrateStoredConfig(store.getMeta('config')), file);
    const trials = store.trials();
    const best = bestTrial(trials);
    return {
      ...state,
      processor: config.processor,
      strategy: config.strategy,
      trials: trials.length,
      done: trials.filter((t) => t.status === 'done').length,
      bestLoss: best && Number.isFinite(best.loss) ? best.loss : null,
    };
  } finally {
    store.close();
  }
}
