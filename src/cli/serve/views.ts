/**
 * The dashboard's views of runs, read from their folders: what cannot be read (no folder yet, a
 * store being created, a damaged store) becomes a page that says so, never a blank one.
 */
import { existsSync } from 'node:fs';
import { ConfigError } from '../../experiment/config.js';
import { loadRunReport, loadRunSummary } from '../../experiment/load.js';
import { StoreError } from '../../experiment/store.js';
import { compareView, problemView, reportView, runsView, trialView } from '../../report/index.js';
import type { ReportInput, RunRow, View } from '../../report/index.js';
import type { Catalogue, Run } from './catalogue.js';
import type { Watcher } from './watch.js';

/** Bad input's message (a missing or damaged run); anything else is a bug and is thrown on. */
function problemOf(run: Run, error: unknown): string {
  if (!existsSync(run.dir)) return `${run.dir}: no such folder yet; a search started there will show up here`;
  if (error instanceof ConfigError || error instanceof StoreError) return error.message;
  // SQLite can fail while a search creates its store (locked, not yet a database).
  if (error instanceof Error && /SQLITE_/.test(String((error as { code?: unknown }).code ?? ''))) return `${run.dir}: the store cannot be read now: ${error.message}`;
  throw error;
}

/** The run's report as its store holds it now (read once per change of its files), used; or what is wrong. */
function load<T>(run: Run, watcher: Watcher, use: (input: ReportInput) => T): T | string {
  try {
    return use(watcher.cached(run, 'report', () => loadRunReport(run.dir)));
  } catch (error) {
    return problemOf(run, error);
  }
}

export function runsOf(catalogue: Catalogue): View {
  const rows: RunRow[] = catalogue.runs().map((run) => {
    const base = { href: `/runs/${run.id}`, name: run.name };
    try {
      const s = loadRunSummary(run.dir);
      return { ...base, state: s.state, why: s.why, processor: s.processor, strategy: s.strategy, trials: s.trials, done: s.done, bestLoss: s.bestLoss };
    } catch (error) {
      return { ...base, state: '', why: '', processor: '', strategy: '', trials: 0, done: 0, bestLoss: null, problem: problemOf(run, error) };
    }
  });
  return runsView(rows, catalogue.named);
}

/** A run's view, made once per loaded report (so once per change of the run's files). */
const runViews = new WeakMap<ReportInput, View>();

export function runView(run: Run, watcher: Watcher): View {
  const view = load(run, watcher, (input) => {
    const made = runViews.get(input) ?? reportView(input, { trialUrl: `/runs/${run.id}/trials/` });
    runViews.set(input, made);
    return made;
  });
  return typeof view === 'string' ? problemView(run.name, view) : view;
}

/** A trial's page, or undefined when the run has no such trial. */
export function trialOf(run: Run, watcher: Watcher, index: number): View | undefined {
  const view = load(run, watcher, (input) => {
    const trial = input.trials[index];
    return trial ? trialView(input, trial, `/runs/${run.id}/compare`) : undefined;
  });
  return typeof view === 'string' ? problemView(run.name, view) : view;
}

export function compareOf(run: Run, watcher: Watcher, a: string | null, b: string | null): View {
  const view = load(run, watcher, (input) => {
    const pick = (text: string | null, which: string): ReturnType<typeof compareView> | number => {
      const k = text !== null && /^\d{1,9}$/.test(text) ? Number(text) : NaN;
      if (!input.trials[k]) return problemView(`compare: ${run.name}`, `trial ${which}: ${text === null ? 'missing' : `"${text}"`}: give a trial number from 0 to ${input.trials.length - 1} (?a=3&b=7)`);
      return k;
    };
    const x = pick(a, 'a');
    if (typeof x !== 'number') return x;
    const y = pick(b, 'b');
    if (typeof y !== 'number') return y;
    return compareView(input, input.trials[x] as ReportInput['trials'][number], input.trials[y] as ReportInput['trials'][number]);
  });
  return typeof view === 'string' ? problemView(run.name, view) : view;
}
