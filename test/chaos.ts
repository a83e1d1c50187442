/**
 * The chaos test of the store (issue 14): a search is killed with SIGKILL at a random moment,
 * resumed, and compared with the same search run without a kill: no trial lost (the stored ones
 * are kept as they were), none run twice, and the same trials and best at the end. Used by
 * test/chaos.test.ts (a few kills) and scripts/chaos.ts (`npm run chaos`: 20 of each kind).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { halvesSearch, writeHalvesIdx } from './fixtures.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TABLE = fileURLToPath(new URL('../../shared/data/nb201/accuracy.json', import.meta.url));
const DENSE = 'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';

export type SearchKind = 'table' | 'trained';

export interface StoredTrial {
  idx: number;
  key: string;
  rung: number;
  loss: number | null;
  status: string;
  /** The parent its training started from (weight inheritance), or null. */
  inherited_from: string | null;
}

/** When to kill: a moment after the start, or as soon as the store holds so many trials. */
export type KillAt = { ms: number } | { trials: number };

export interface ChaosCase {
  kind: SearchKind;
  killAt: KillAt;
  /** Milliseconds after the start at which the search was killed. */
  killAtMs: number;
  /** Trials in the store when it was killed. */
  storedAtKill: number;
  /** How the folder was brought to the end: resumed, or (killed before it stored its configuration) started again. */
  recovery: 'resumed' | 'started again' | 'had finished';
  /** What went wrong; empty when nothing did. */
  problems: string[];
}

function storedTrials(dir: string): StoredTrial[] {
  const file = join(dir, 'experiment.sqlite');
  if (!existsSync(file)) return [];
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT idx, key, rung, loss, status, inherited_from FROM trials ORDER BY idx').all() as StoredTrial[];
    } finally {
      db.close();
    }
  } catch {
    // Killed before the schema was written.
    return [];
  }
}

function procnas(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 600_000 });
}

/** A search of each kind: its arguments (without --out) and how many trials it ends with. */
export function searchOf(kind: SearchKind, root: string): { args: string[]; trials: number } {
  if (kind === 'table') return { args: ['search', '--initial', DENSE, '--table', TABLE, '--strategy', 'evolution', '--seed', '3', '--max-evals', '400', '--workers', '2', '--json'], trials: 400 };
  // One worker: a trained search's path then depends on nothing but its seed, so the best can be
  // compared. Two rungs: weight inheritance is on, and a resumed search must find the parents
  // again (kept in the store) for its later trials to go as they went.
  writeHalvesIdx(root);
  const config = join(root, 'search.json');
  const training = { epochs: 1, batch: 32, validation: 100, limit: 200 };
  writeFileSync(config, JSON.stringify(halvesSearch(root, { strategy: 'evolution', workers: 1, training, fidelity: { rungs: 2, eta: 2 }, stop: { maxEvals: 10 }, confirm: { top: 0 }, final: { enabled: false } })));
  return { args: ['search', '--config', config, '--json'], trials: 10 };
}

/** The uninterrupted run: its trials, its best and how long it took. */
export function baseline(kind: SearchKind, root: string): { trials: StoredTrial[]; best: string; ms: number; startupMs: number } {
  const search = searchOf(kind, root);
  const out = join(root, 'baseline');
  const started = performance.now();
  const run = procnas([...search.args, '--out', out]);
  if (run.status !== 0) throw new Error(`the uninterrupted ${kind} search failed: ${run.stderr}`);
  // The start-up: until the first trial was stored (its finished_at), from the process's start.
  const db = new Database(join(out, 'experiment.sqlite'), { readonly: true });
  const first = Date.parse((db.prepare('SELECT finished_at FROM trials WHERE idx = 0').get() as { finished_at: string }).finished_at);
  db.close();
  const ms = performance.now() - started;
  return { trials: storedTrials(out), best: (JSON.parse(run.stdout) as { best: { key: string } }).best.key, ms, startupMs: Math.max(100, first - (Date.now() - ms)) };
}

/** Kills the search at `killAtMs`, brings its folder to the end, and says what differs from `whole`. */
export async function killAndResume(kind: SearchKind, root: string, name: string, killAt: KillAt, whole: { trials: StoredTrial[]; best: string }): Promise<ChaosCase> {
  const search = searchOf(kind, root);
  const out = join(root, name);
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...search.args, '--out', out], { stdio: 'ignore' });
  let running = true;
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  void exited.then(() => (running = false));
  if ('ms' in killAt) {
    while (running && performance.now() - started < killAt.ms) await new Promise((r) => setTimeout(r, 2));
  } else {
    while (running && storedTrials(out).length < killAt.trials) await new Promise((r) => setTimeout(r, 5));
  }
  child.kill('SIGKILL');
  const killAtMs = Math.round(performance.now() - started);
  await exited;
  const atKill = storedTrials(out);
  const problems: string[] = [];
  let recovery: ChaosCase['recovery'] = 'resumed';
  let finalRun = procnas(['search', '--resume', out, '--json']);
  if (finalRun.status === 2 && /stopped before it started|no experiment to resume|nothing to resume/.test(finalRun.stderr)) {
    // Killed before it stored its configuration: nothing was computed, and the folder takes a new start.
    if (atKill.length > 0) problems.push(`refused to resume a store of ${atKill.length} trials: ${finalRun.stderr.trim()}`);
    recovery = 'started again';
    mkdirSync(out, { recursive: true });
    finalRun = procnas([...search.args, '--out', out]);
  }
  if (finalRun.status !== 0) return { kind, killAt, killAtMs, storedAtKill: atKill.length, recovery, problems: [...problems, `status ${finalRun.status}: ${finalRun.stderr.trim().split('\n')[0]}`] };
  const all = storedTrials(out);
  if (atKill.length === search.trials) recovery = 'had finished';
  const kept = all.slice(0, atKill.length);
  if (JSON.stringify(kept) !== JSON.stringify(atKill)) problems.push('a trial stored before the kill was lost or changed');
  if (new Set(all.map((t) => `${t.key}@${t.rung}`)).size !== all.length) problems.push('a trial ran twice');
  if (all.length !== search.trials) problems.push(`${all.length} trials at the end, not ${search.trials}`);
  const path = (trials: StoredTrial[]): string => JSON.stringify(trials.map((t) => [t.key, t.rung, t.loss, t.inherited_from]));
  if (path(all) !== path(whole.trials)) problems.push('the trials (or the parents they inherited from) differ from the uninterrupted run');
  const best = (JSON.parse(finalRun.stdout) as { best: { key: string } }).best.key;
  if (best !== whole.best) problems.push(`best ${best}, not the uninterrupted run's ${whole.best}`);
  return { kind, killAt, killAtMs, storedAtKill: atKill.length, recovery, problems };
}

/**
 * Kill moments, seeded: a quarter at random times within the first trial's start-up (before the
 * store exists, while it is made, before its configuration is stored), the rest as the store
 * reaches trial counts spread evenly from the first trial to the last (the last: while the
 * results are written).
 */
export function killMoments(count: number, startupMs: number, trials: number, seed: number): KillAt[] {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const early = Math.ceil(count / 4);
  return Array.from({ length: count }, (_, i) => {
    if (i < early) return { ms: Math.round(((i + next()) / early) * startupMs) };
    // The last kill comes once every trial is stored: while the results are written.
    if (i === count - 1) return { trials };
    return { trials: Math.max(1, Math.min(trials, Math.round(((i - early + next()) / (count - early)) * trials))) };
  });
}

export function scratchRoot(): string {
  return mkdtempSync(join(tmpdir(), 'procnas-chaos-'));
}
