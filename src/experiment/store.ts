/**
 * The experiment store: one SQLite file per experiment holding its configuration, every trial
 * (architecture, notation, cost figures, error, loss, status, timings, seed, the network its
 * training inherited from), the repeated
 * trainings of the top candidates that confirm the best, and its progress.
 * A trial is written in its own transaction as soon as it is evaluated, so a run killed at any
 * moment loses only the evaluations in flight.
 */
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { architectureToData, notationOf, parseArchitecture } from '../space/index.js';
import type { Repeat, SupernetEpoch, Trial, TrialStatus } from '../search/index.js';

/** A supernet epoch as stored (the architecture by its notation, without the probabilities). */
export type SupernetEpochRow = Omit<SupernetEpoch, 'architecture' | 'probabilities'> & { notation: string };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
  idx INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  notation TEXT NOT NULL,
  architecture TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('done', 'rejected', 'failed')),
  error REAL,
  loss REAL,
  reason TEXT,
  params INTEGER NOT NULL,
  macs INTEGER NOT NULL,
  latency_s REAL NOT NULL,
  energy_j REAL NOT NULL,
  dram_time_s REAL NOT NULL,
  dram_energy_j REAL NOT NULL,
  dram_power_w REAL,
  dram_bytes INTEGER NOT NULL,
  evaluation_s REAL NOT NULL,
  seed INTEGER NOT NULL,
  finished_at TEXT NOT NULL,
  rung INTEGER NOT NULL DEFAULT 0,
  images INTEGER,
  inherited_from TEXT,
  inherited REAL,
  UNIQUE (key, rung)
);
CREATE TABLE IF NOT EXISTS supernet_epochs (
  epoch INTEGER PRIMARY KEY,
  notation TEXT NOT NULL,
  path TEXT NOT NULL,
  expected_dram_time_s REAL NOT NULL,
  expected_dram_energy_j REAL NOT NULL,
  expected_dram_power_w REAL,
  dram_time_s REAL NOT NULL,
  dram_energy_j REAL NOT NULL,
  dram_power_w REAL,
  supernet_error REAL NOT NULL,
  train_loss REAL,
  validation_loss REAL,
  entropy REAL NOT NULL,
  probabilities TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS repeats (
  key TEXT NOT NULL,
  seed INTEGER NOT NULL,
  error REAL,
  reason TEXT,
  evaluation_s REAL NOT NULL,
  finished_at TEXT NOT NULL,
  PRIMARY KEY (key, seed)
);`;

interface TrialRow {
  idx: number;
  key: string;
  architecture: string;
  status: TrialStatus;
  error: number | null;
  loss: number | null;
  reason: string | null;
  params: number;
  macs: number;
  latency_s: number;
  energy_j: number;
  dram_time_s: number;
  dram_energy_j: number;
  /** NULL in stores written before the DRAM power was costed. */
  dram_power_w: number | null;
  dram_bytes: number;
  evaluation_s: number;
  rung: number;
  images: number | null;
  /** NULL when the trial trained from scratch (and in stores written before weight inheritance). */
  inherited_from: string | null;
  inherited: number | null;
}

/** SQLite keeps NaN as NULL; say so explicitly. */
function finite(x: number | undefined): number | null {
  return x === undefined || !Number.isFinite(x) ? null : x;
}

export class ExperimentStore {
  private readonly db: SqliteDatabase;

  constructor(readonly file: string) {
    this.db = new Database(file);
    // WAL: a crash of the process (kill -9) keeps every committed trial.
    this.db.pragma('journal_mode = WAL');
    this.db.exec(SCHEMA);
    // Stores written before the DRAM power was a cost figure lack its columns.
    this.addColumn('trials', 'dram_power_w REAL');
    this.addRungs();
    this.addColumn('trials', 'inherited_from TEXT');
    this.addColumn('trials', 'inherited REAL');
    this.addColumn('supernet_epochs', 'expected_dram_power_w REAL');
    this.addColumn('supernet_epochs', 'dram_power_w REAL');
  }

  /**
   * Stores written before multi-fidelity kept one trial per architecture (key UNIQUE); now one per
   * architecture and rung. SQLite cannot drop a constraint, so the table is rebuilt, in one
   * transaction: every old trial is a rung-0 trial.
   */
  private addRungs(): void {
    const columns = this.db.prepare('PRAGMA table_info(trials)').all() as Array<{ name: string }>;
    if (columns.some((c) => c.name === 'rung')) return;
    const kept = columns.map((c) => c.name).join(', ');
    const create = (SCHEMA.match(/CREATE TABLE IF NOT EXISTS trials \(([\s\S]*?)\n\);/) as RegExpMatchArray)[1] as string;
    this.db.transaction(() => {
      this.db.exec(`CREATE TABLE trials_with_rungs (${create}\n)`);
      this.db.exec(`INSERT INTO trials_with_rungs (${kept}) SELECT ${kept} FROM trials`);
      this.db.exec('DROP TABLE trials');
      this.db.exec('ALTER TABLE trials_with_rungs RENAME TO trials');
    })();
  }

  private addColumn(table: string, column: string): void {
    const name = column.split(' ')[0];
    const columns = this.db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === name)) this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
  }

  setMeta(key: string, value: unknown): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
  }

  getMeta<T>(key: string): T | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  addTrial(trial: Trial, seed: number): void {
    const data = architectureToData(trial.architecture);
    const notation = notationOf(trial.architecture);
    this.db
      .prepare(
        `INSERT INTO trials (idx, key, notation, architecture, status, error, loss, reason, params, macs, latency_s, energy_j,
           dram_time_s, dram_energy_j, dram_power_w, dram_bytes, evaluation_s, seed, finished_at, rung, images, inherited_from, inherited)
         VALUES (@idx, @key, @notation, @architecture, @status, @error, @loss, @reason, @params, @macs, @latency_s, @energy_j,
           @dram_time_s, @dram_energy_j, @dram_power_w, @dram_bytes, @evaluation_s, @seed, @finished_at, @rung, @images, @inherited_from, @inherited)`,
      )
      .run({
        idx: trial.index,
        key: trial.key,
        notation,
        architecture: JSON.stringify(data),
        status: trial.status,
        error: finite(trial.error),
        loss: finite(trial.loss),
        reason: trial.reason ?? null,
        params: trial.cost.params,
        macs: trial.cost.macs,
        latency_s: trial.cost.latencyS,
        energy_j: trial.cost.energyJ,
        dram_time_s: trial.cost.dramTimeS,
        dram_energy_j: trial.cost.dramEnergyJ,
        dram_power_w: finite(trial.cost.dramPowerW),
        dram_bytes: Math.round(trial.cost.dramBytes),
        evaluation_s: trial.evaluationS,
        seed,
        finished_at: new Date().toISOString(),
        rung: trial.rung ?? 0,
        images: trial.images ?? null,
        inherited_from: trial.inherited?.from ?? null,
        inherited: trial.inherited?.fraction ?? null,
      });
  }

  /** A supernet epoch of the dnas strategy; a resumed run that replays an epoch rewrites it. */
  addSupernetEpoch(e: SupernetEpoch): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO supernet_epochs (epoch, notation, path, expected_dram_time_s, expected_dram_energy_j, expected_dram_power_w,
           dram_time_s, dram_energy_j, dram_power_w, supernet_error, train_loss, validation_loss, entropy, probabilities)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.epoch, notationOf(e.architecture), JSON.stringify(e.path), e.expected.dramTimeS, e.expected.dramEnergyJ, finite(e.expected.dramPowerW),
        e.exact.dramTimeS, e.exact.dramEnergyJ, finite(e.exact.dramPowerW), e.supernetError, finite(e.trainLoss), finite(e.validationLoss), e.entropy, JSON.stringify(e.probabilities));
  }

  /** The stored supernet epochs, in order (empty unless the strategy is dnas). */
  supernetEpochs(): SupernetEpochRow[] {
    const rows = this.db.prepare('SELECT * FROM supernet_epochs ORDER BY epoch').all() as Array<Record<string, number | string | null>>;
    return rows.map((r) => ({
      epoch: r.epoch as number,
      notation: r.notation as string,
      path: JSON.parse(r.path as string) as number[],
      expected: { dramTimeS: r.expected_dram_time_s as number, dramEnergyJ: r.expected_dram_energy_j as number, dramPowerW: (r.expected_dram_power_w as number | null) ?? Number.NaN },
      exact: { dramTimeS: r.dram_time_s as number, dramEnergyJ: r.dram_energy_j as number, dramPowerW: (r.dram_power_w as number | null) ?? Number.NaN },
      supernetError: r.supernet_error as number,
      trainLoss: (r.train_loss as number | null) ?? Number.NaN,
      validationLoss: (r.validation_loss as number | null) ?? Number.NaN,
      entropy: r.entropy as number,
    }));
  }

  /** One more training of a top candidate with another seed (the best's confirmation), as it lands. */
  addRepeat(repeat: Repeat, evaluationS: number): void {
    this.db
      .prepare('INSERT OR REPLACE INTO repeats (key, seed, error, reason, evaluation_s, finished_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(repeat.key, repeat.seed, finite(repeat.error), repeat.reason ?? null, evaluationS, new Date().toISOString());
  }

  /** Every stored repeat, by candidate and seed. */
  repeats(): Repeat[] {
    const rows = this.db.prepare('SELECT key, seed, error, reason FROM repeats ORDER BY key, seed').all() as Array<{ key: string; seed: number; error: number | null; reason: string | null }>;
    return rows.map((r) => ({ key: r.key, seed: r.seed, ...(r.error !== null ? { error: r.error } : {}), ...(r.reason !== null ? { reason: r.reason } : {}) }));
  }

  /** Every stored trial, in evaluation order. */
  trials(): Trial[] {
    const rows = this.db.prepare('SELECT * FROM trials ORDER BY idx').all() as TrialRow[];
    return rows.map((r) => {
      const trial: Trial = {
        index: r.idx,
        key: r.key,
        architecture: parseArchitecture(JSON.parse(r.architecture)),
        status: r.status,
        loss: r.loss ?? Number.POSITIVE_INFINITY,
        cost: {
          params: r.params,
          macs: r.macs,
          latencyS: r.latency_s,
          energyJ: r.energy_j,
          dramTimeS: r.dram_time_s,
          dramEnergyJ: r.dram_energy_j,
          // An older store: the average over its latency, as the cost model computes it.
          dramPowerW: r.dram_power_w ?? (r.latency_s > 0 ? r.dram_energy_j / r.latency_s : 0),
          dramBytes: r.dram_bytes,
        },
        evaluationS: r.evaluation_s,
      };
      if (r.error !== null) trial.error = r.error;
      if (r.reason !== null) trial.reason = r.reason;
      if (r.images !== null) {
        trial.rung = r.rung;
        trial.images = r.images;
      }
      if (r.inherited_from !== null && r.inherited !== null) trial.inherited = { from: r.inherited_from, fraction: r.inherited };
      return trial;
    });
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM trials').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
