/**
 * The experiment store: one SQLite file per experiment holding its configuration, every trial
 * (architecture, notation, cost figures, error, loss, status, timings, seed, the network its
 * training inherited from), the repeated
 * trainings of the top candidates that confirm the best, and its progress.
 * A trial is written in its own transaction as soon as it is evaluated, so a run killed at any
 * moment loses only the evaluations in flight.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { z } from 'zod';
import { architectureToData, notationOf, parseArchitecture } from '../space/index.js';
import type { Weights } from '../engine/variables.js';
import type { Repeat, SupernetEpoch, Trial } from '../search/index.js';

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
  peak_activation_bytes INTEGER,
  stored_weight_bytes INTEGER,
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
CREATE TABLE IF NOT EXISTS parents (
  name TEXT PRIMARY KEY,
  weights BLOB NOT NULL
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

/*
 * What a row must hold to be read back: SQLite takes any value in any column, so a store that
 * was edited or damaged is checked here rather than failing later as a type error.
 */
const figure = z.number().refine(Number.isFinite, 'not a finite number');
const optionalFigure = figure.nullable().optional();
const count = z.number().int().nonnegative();
const TrialRowSchema = z.object({
  idx: count,
  key: z.string(),
  architecture: z.string(),
  status: z.enum(['done', 'rejected', 'failed']),
  error: optionalFigure,
  loss: optionalFigure,
  reason: z.string().nullable().optional(),
  params: figure,
  macs: figure,
  latency_s: figure,
  energy_j: figure,
  dram_time_s: figure,
  dram_energy_j: figure,
  /** NULL in stores written before the DRAM power was costed. */
  dram_power_w: optionalFigure,
  dram_bytes: figure,
  evaluation_s: figure,
  rung: count.optional(),
  images: count.nullable().optional(),
  /** NULL when the trial trained from scratch (and in stores written before weight inheritance). */
  inherited_from: z.string().nullable().optional(),
  inherited: optionalFigure,
  /** NULL in stores written before deployed memory was costed. */
  peak_activation_bytes: optionalFigure,
  stored_weight_bytes: optionalFigure,
});
const RepeatRowSchema = z.object({ key: z.string(), seed: z.number().int(), error: optionalFigure, reason: z.string().nullable() });
const SupernetRowSchema = z.object({
  epoch: count,
  notation: z.string(),
  path: z.string().transform((text, ctx) => {
    try {
      const path: unknown = JSON.parse(text);
      if (Array.isArray(path) && path.every((c) => Number.isInteger(c))) return path as number[];
    } catch {
      // Said below.
    }
    ctx.addIssue({ code: 'custom', message: 'not a list of choices' });
    return z.NEVER;
  }),
  expected_dram_time_s: figure,
  expected_dram_energy_j: figure,
  expected_dram_power_w: optionalFigure,
  dram_time_s: figure,
  dram_energy_j: figure,
  dram_power_w: optionalFigure,
  supernet_error: figure,
  train_loss: optionalFigure,
  validation_loss: optionalFigure,
  entropy: figure,
});

/** SQLite keeps NaN as NULL; say so explicitly. */
function finite(x: number | undefined): number | null {
  return x === undefined || !Number.isFinite(x) ? null : x;
}

/** The store cannot be used (missing, empty, damaged, another version, in use): bad input, status 2. */
export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

/**
 * The store's layout version (SQLite's user_version). 0: stores from before it was kept, which
 * the migrations below bring up to date; 2: with the parents of weight inheritance; 3: with each
 * trial's deployed memory (peak activations, stored weights). A store of a
 * higher version is from a newer procnas.
 */
export const STORE_VERSION = 3;

/** How a store is opened: written by a new search, continued by a resume, or only read (report). */
export type StoreAccess = 'write' | 'resume' | 'read';

/** The message of an error from SQLite or a row, for a StoreError naming the file. */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Weights as bytes: a little-endian uint32 header length, a JSON header of [name, shape] pairs,
 * then every variable's float32 values in that order.
 */
function encodeWeights(weights: Weights): Buffer {
  const entries = Object.entries(weights);
  const header = Buffer.from(JSON.stringify(entries.map(([name, w]) => [name, w.shape])), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  return Buffer.concat([length, header, ...entries.map(([, w]) => Buffer.from(w.values.buffer, w.values.byteOffset, w.values.byteLength))]);
}

function decodeWeights(bytes: Buffer): Weights {
  const headerLength = bytes.readUInt32LE(0);
  const header = JSON.parse(bytes.toString('utf8', 4, 4 + headerLength)) as Array<[string, number[]]>;
  const weights: Weights = {};
  let at = 4 + headerLength;
  for (const [name, shape] of header) {
    const count = shape.reduce((n, d) => n * d, 1);
    if (at + 4 * count > bytes.length) throw new Error(`${name} is cut short`);
    // A copy: SQLite's buffer is not aligned for a Float32Array view.
    weights[name] = { shape, values: new Float32Array(new Uint8Array(bytes.subarray(at, at + 4 * count)).buffer) };
    at += 4 * count;
  }
  if (at !== bytes.length) throw new Error(`${bytes.length - at} bytes past the last variable`);
  return weights;
}

/** The file itself, before SQLite sees it: present, a file, not empty, a SQLite database. */
function checkFile(file: string): void {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    throw new StoreError(`${file}: no experiment store here`);
  }
  if (!stat.isFile()) throw new StoreError(`${file}: the experiment store is not a file`);
  if (stat.size === 0) throw new StoreError(`${file}: the experiment store is empty (0 bytes): the search that made it stopped before it started, or the disk was full`);
  const header = Buffer.alloc(16);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1') !== 'SQLite format 3\0') throw new StoreError(`${file}: the experiment store is not a SQLite database (it was overwritten or damaged)`);
}

/** What a resume or a report needs of a store, checked before anything is read or migrated. */
function check(db: SqliteDatabase, file: string): void {
  const integrity = db.pragma('quick_check', { simple: true }) as string;
  if (integrity !== 'ok') throw new StoreError(`${file}: the experiment store is damaged: ${integrity.split('\n')[0]}`);
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > STORE_VERSION) throw new StoreError(`${file}: the experiment store is of version ${version}, written by a newer procnas (this one reads up to version ${STORE_VERSION})`);
  const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name));
  for (const table of ['meta', 'trials']) {
    if (!tables.has(table)) throw new StoreError(`${file}: the experiment store has no ${table} table: it is not a procnas store, or it was damaged`);
  }
  if (db.prepare("SELECT 1 FROM meta WHERE key = 'config'").get() === undefined) {
    throw new StoreError(`${file}: the experiment store holds no search configuration: the search that made it stopped before it started, or the store was damaged`);
  }
  // Every configuration value must read back (the trials are checked as they are read, before
  // a resume writes anything: runExperiment reads them first).
  for (const row of db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>) {
    try {
      JSON.parse(row.value);
    } catch (error) {
      throw new StoreError(`${file}: the experiment store's ${row.key} is damaged: ${messageOf(error)}`);
    }
  }
  const { n, first, last } = db.prepare('SELECT COUNT(*) AS n, MIN(idx) AS first, MAX(idx) AS last FROM trials').get() as { n: number; first: number | null; last: number | null };
  if (n > 0 && (first !== 0 || last !== n - 1)) {
    throw new StoreError(`${file}: the experiment store's trials are not numbered 0 to ${n - 1} (found ${first} to ${last}): it was edited or damaged`);
  }
}

export class ExperimentStore {
  private readonly db: SqliteDatabase;

  /**
   * Opens `file`. `write` opens it as it is, or makes it, for a new search (openRunFolder decides
   * what a new search may open) and for tests; `resume` and `read`
   * check the file first (present, a SQLite database, intact, of a version this procnas reads,
   * holding a search's configuration and trials) and say in a StoreError what is wrong; `read`
   * opens it read-only, so that a report can be made of a run one cannot write to.
   */
  constructor(readonly file: string, access: StoreAccess = 'write') {
    if (access !== 'write') checkFile(file);
    let db: SqliteDatabase;
    try {
      db = new Database(file, access === 'read' ? { readonly: true, fileMustExist: true } : { fileMustExist: access === 'resume' });
    } catch (error) {
      throw new StoreError(`${file}: cannot open the experiment store: ${messageOf(error)}`);
    }
    try {
      if (access !== 'write') check(db, file);
      if (access === 'read' && db.pragma('user_version', { simple: true }) === STORE_VERSION) {
        this.db = db;
        return;
      }
      if (access === 'read') {
        // An older layout, read without writing to it: migrated in a copy in memory.
        const copy = new Database(db.serialize());
        db.close();
        db = copy;
      } else {
        // WAL: a crash of the process (kill -9) keeps every committed trial.
        db.pragma('journal_mode = WAL');
      }
      this.db = db;
      // Only an older layout (or a new file) is written to here: a resume reads before it writes.
      if ((db.pragma('user_version', { simple: true }) as number) < STORE_VERSION) this.migrate();
    } catch (error) {
      db.close();
      if (error instanceof StoreError) throw error;
      throw new StoreError(`${file}: the experiment store is damaged: ${messageOf(error)}`);
    }
  }

  /** Brings a store of any earlier layout (or a new, empty one) to STORE_VERSION. */
  private migrate(): void {
    this.db.exec(SCHEMA);
    // Stores written before the DRAM power was a cost figure lack its columns.
    this.addColumn('trials', 'dram_power_w REAL');
    this.addRungs();
    this.addColumn('trials', 'inherited_from TEXT');
    this.addColumn('trials', 'inherited REAL');
    // Stores written before deployed memory was a cost figure lack them (read as NaN).
    this.addColumn('trials', 'peak_activation_bytes INTEGER');
    this.addColumn('trials', 'stored_weight_bytes INTEGER');
    this.addColumn('supernet_epochs', 'expected_dram_power_w REAL');
    this.addColumn('supernet_epochs', 'dram_power_w REAL');
    this.db.pragma(`user_version = ${STORE_VERSION}`);
  }

  /** Runs a read; an SQLite failure (a page damaged past what quick_check saw) becomes a StoreError. */
  private read<T>(what: string, run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw new StoreError(`${this.file}: cannot read ${what} from the experiment store: ${messageOf(error)}`);
    }
  }

  /** A row checked against its schema: a value of the wrong type is damage (or an edit), named. */
  private row<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const id = (raw as { idx?: unknown; epoch?: unknown; key?: unknown } | null) ?? {};
    const which = id.idx ?? id.epoch ?? id.key;
    throw new StoreError(`${this.file}: ${what} ${String(which)} in the experiment store is damaged: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'not a row'}`);
  }

  /** Runs a write; an SQLite failure (disk full, a damaged file) becomes a StoreError naming the file. */
  private write<T>(what: string, run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw new StoreError(`${this.file}: cannot write ${what} to the experiment store: ${messageOf(error)}`);
    }
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
    this.write(key, () => this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value)));
  }

  getMeta<T>(key: string): T | undefined {
    const row = this.read(key, () => this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined);
    if (!row) return undefined;
    try {
      return JSON.parse(row.value) as T;
    } catch (error) {
      throw new StoreError(`${this.file}: the experiment store's ${key} is damaged: ${messageOf(error)}`);
    }
  }

  addTrial(trial: Trial, seed: number): void {
    const data = architectureToData(trial.architecture);
    const notation = notationOf(trial.architecture);
    this.write(`trial ${trial.index}`, () => this.db
      .prepare(
        `INSERT INTO trials (idx, key, notation, architecture, status, error, loss, reason, params, macs, latency_s, energy_j,
           dram_time_s, dram_energy_j, dram_power_w, dram_bytes, evaluation_s, seed, finished_at, rung, images, inherited_from, inherited,
           peak_activation_bytes, stored_weight_bytes)
         VALUES (@idx, @key, @notation, @architecture, @status, @error, @loss, @reason, @params, @macs, @latency_s, @energy_j,
           @dram_time_s, @dram_energy_j, @dram_power_w, @dram_bytes, @evaluation_s, @seed, @finished_at, @rung, @images, @inherited_from, @inherited,
           @peak_activation_bytes, @stored_weight_bytes)`,
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
        peak_activation_bytes: finite(trial.cost.peakActivationBytes),
        stored_weight_bytes: finite(trial.cost.storedWeightBytes),
      }));
  }

  /** A supernet epoch of the dnas strategy; a resumed run that replays an epoch rewrites it. */
  addSupernetEpoch(e: SupernetEpoch): void {
    this.write(`supernet epoch ${e.epoch}`, () => this.db
      .prepare(
        `INSERT OR REPLACE INTO supernet_epochs (epoch, notation, path, expected_dram_time_s, expected_dram_energy_j, expected_dram_power_w,
           dram_time_s, dram_energy_j, dram_power_w, supernet_error, train_loss, validation_loss, entropy, probabilities)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.epoch, notationOf(e.architecture), JSON.stringify(e.path), e.expected.dramTimeS, e.expected.dramEnergyJ, finite(e.expected.dramPowerW),
        e.exact.dramTimeS, e.exact.dramEnergyJ, finite(e.exact.dramPowerW), e.supernetError, finite(e.trainLoss), finite(e.validationLoss), e.entropy, JSON.stringify(e.probabilities)));
  }

  /** The stored supernet epochs, in order (empty unless the strategy is dnas). */
  supernetEpochs(): SupernetEpochRow[] {
    const raw = this.read('the supernet epochs', () => this.db.prepare('SELECT * FROM supernet_epochs ORDER BY epoch').all() as unknown[]);
    return raw.map((row) => this.row(SupernetRowSchema, row, 'supernet epoch')).map((r) => ({
      epoch: r.epoch as number,
      notation: r.notation as string,
      path: r.path,
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
    this.write(`a repeat of ${repeat.key}`, () => this.db
      .prepare('INSERT OR REPLACE INTO repeats (key, seed, error, reason, evaluation_s, finished_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(repeat.key, repeat.seed, finite(repeat.error), repeat.reason ?? null, evaluationS, new Date().toISOString()));
  }

  /** Every stored repeat, by candidate and seed. */
  repeats(): Repeat[] {
    const raw = this.read('the repeats', () => this.db.prepare('SELECT key, seed, error, reason FROM repeats ORDER BY key, seed').all() as unknown[]);
    return raw.map((row) => this.row(RepeatRowSchema, row, 'repeat')).map((r) => ({ key: r.key, seed: r.seed, ...(r.error !== null ? { error: r.error } : {}), ...(r.reason !== null ? { reason: r.reason } : {}) }));
  }

  /** Every stored trial, in evaluation order. */
  trials(): Trial[] {
    const rows = this.read('the trials', () => this.db.prepare('SELECT * FROM trials ORDER BY idx').all() as unknown[]);
    return rows.map((raw) => {
      const r = this.row(TrialRowSchema, raw, 'trial');
      let architecture;
      try {
        architecture = parseArchitecture(JSON.parse(r.architecture));
      } catch (error) {
        throw new StoreError(`${this.file}: trial ${r.idx}'s architecture in the experiment store is damaged: ${messageOf(error).split('\n')[0]}`);
      }
      const trial: Trial = {
        index: r.idx,
        key: r.key,
        architecture,
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
          peakActivationBytes: r.peak_activation_bytes ?? Number.NaN,
          storedWeightBytes: r.stored_weight_bytes ?? Number.NaN,
        },
        evaluationS: r.evaluation_s,
      };
      // Columns a store of an earlier layout lacks read as undefined (a report migrates in memory).
      if (r.error != null) trial.error = r.error;
      if (r.reason != null) trial.reason = r.reason;
      if (r.images != null) {
        trial.rung = r.rung ?? 0;
        trial.images = r.images;
      }
      if (r.inherited_from != null && r.inherited != null) trial.inherited = { from: r.inherited_from, fraction: r.inherited };
      return trial;
    });
  }

  /** Keeps a parent of weight inheritance (its trained weights), replacing an earlier training of it. */
  saveParent(name: string, weights: Weights): void {
    this.write(`the weights of ${name}`, () => this.db.prepare('INSERT OR REPLACE INTO parents (name, weights) VALUES (?, ?)').run(name, encodeWeights(weights)));
  }

  /** A kept parent's weights, if the store has them (not in stores from before they were kept). */
  parent(name: string): Weights | undefined {
    const row = this.read(`the weights of ${name}`, () => this.db.prepare('SELECT weights FROM parents WHERE name = ?').get(name) as { weights: Buffer } | undefined);
    if (!row) return undefined;
    try {
      return decodeWeights(row.weights);
    } catch (error) {
      throw new StoreError(`${this.file}: the weights of ${name} in the experiment store are damaged: ${messageOf(error)}`);
    }
  }

  /** Whether the store holds no result at all: no trial, supernet epoch or repeat. */
  holdsNothing(): boolean {
    const row = this.read('the results', () => this.db.prepare('SELECT (SELECT COUNT(*) FROM trials) + (SELECT COUNT(*) FROM supernet_epochs) + (SELECT COUNT(*) FROM repeats) AS n').get() as { n: number });
    return row.n === 0;
  }

  count(): number {
    return this.read('the trials', () => (this.db.prepare('SELECT COUNT(*) AS n FROM trials').get() as { n: number }).n);
  }

  close(): void {
    this.db.close();
  }
}
