import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ConfigError, migrateStoredConfig, parseSearchConfig } from '../src/experiment/config.js';
import { runExperiment } from '../src/experiment/run.js';
import { ExperimentStore } from '../src/experiment/store.js';
import type { Weights } from '../src/engine/variables.js';
import { Parents } from '../src/search/evaluators/parents.js';
import { confirm } from '../src/search/index.js';
import type { Trial } from '../src/search/index.js';
import { architectureToData, notationOf, parseArchitecture } from '../src/space/index.js';
import { HALVES_INITIAL, halvesSearch, writeHalvesIdx } from './fixtures.js';

const weights = (shapes: Record<string, number[]>): Weights =>
  Object.fromEntries(Object.entries(shapes).map(([name, shape]) => [name, { shape, values: new Float32Array(shape.reduce((n, d) => n * d, 1)) }]));

describe('the parents a candidate can inherit from', () => {
  it('gives the kept network that shares the most values (names and shapes), the most recently used among equals, none when nothing is shared', () => {
    const parents = new Parents();
    parents.add('a', weights({ 'x.weight': [3, 3, 1, 8], 'y.weight': [8, 2] }));
    parents.add('b', weights({ 'x.weight': [5, 5, 1, 8], 'y.weight': [8, 2] }));
    const child = new Map([['x.weight', [3, 3, 1, 8]], ['y.weight', [8, 2]], ['z.gamma', [4]]]);
    assert.deepEqual({ ...parents.parentFor(child), weights: undefined }, { name: 'a', weights: undefined, shared: 72 + 16, of: 72 + 16 + 4 });
    // Only y is shared with either: equal, and a was used last, so b is the older.
    const other = new Map([['x.weight', [7, 7, 1, 8]], ['y.weight', [8, 2]]]);
    assert.equal(parents.parentFor(other)?.name, 'a');
    parents.add('b', weights({ 'x.weight': [5, 5, 1, 8], 'y.weight': [8, 2] }));
    assert.equal(parents.parentFor(other)?.name, 'b', 'a new training of b makes it the most recent');
    assert.equal(parents.parentFor(new Map([['q.weight', [8, 2]]])), undefined);
    assert.equal(parents.parentFor(new Map([['y.weight', [2, 8]]])), undefined, 'a name with another shape shares nothing');
  });

  it('keeps within its capacity by letting the least recently used go', () => {
    // Each network is 100 floats, 400 bytes: three fit in 1200.
    const parents = new Parents(1200);
    for (const name of ['a', 'b', 'c']) parents.add(name, weights({ [`${name}.w`]: [100] }));
    assert.equal(parents.parentFor(new Map([['a.w', [100]]]))?.name, 'a', 'a is used, b is now the oldest');
    parents.add('d', weights({ 'd.w': [100] }));
    assert.equal(parents.size, 3);
    assert.equal(parents.parentFor(new Map([['b.w', [100]]])), undefined, 'b went');
    for (const name of ['a', 'c', 'd']) assert.equal(parents.parentFor(new Map([[`${name}.w`, [100]]]))?.name, name);
    parents.add('huge', weights({ 'h.w': [1000] }));
    assert.equal(parents.size, 3, 'a network larger than the capacity is not kept and evicts nothing');
  });
});

describe('confirming a best whose search training inherited weights', () => {
  it('judges it by its repeats from scratch alone, and by its own error when every repeat failed', () => {
    const cost = { params: 1, macs: 1, latencyS: 1, energyJ: 1, dramTimeS: 1, dramEnergyJ: 1, dramPowerW: 1, dramBytes: 1, peakActivationBytes: 1, storedWeightBytes: 1 };
    const trial = (key: string, error: number, inherited: boolean): Trial => ({ index: 0, key, architecture: {} as Trial['architecture'], status: 'done', error, loss: error, cost, evaluationS: 1, ...(inherited ? { inherited: { from: 'p', fraction: 0.9 } } : {}) });
    const reference = { dramTimeS: 1, dramEnergyJ: 1, dramPowerW: 1, latencyS: 1 };
    const loss = { kind: 'additive' as const, lambdaTime: 0, lambdaEnergy: 0, lambdaPower: 0, exponent: -0.07, mnasnetMetric: 'dram' as const, budgets: {} };
    const [first, second] = confirm([trial('i', 0.1, true), trial('s', 0.2, false)], [{ key: 'i', seed: 1, error: 0.3 }, { key: 's', seed: 1, error: 0.2 }], reference, loss);
    assert.equal(first?.trial.key, 's', 'the inherited candidate\'s lucky 0.1 does not carry it');
    assert.deepEqual(first?.errors, [0.2, 0.2]);
    assert.deepEqual(second?.errors, [0.3]);
    const [failed] = confirm([trial('i', 0.1, true)], [{ key: 'i', seed: 1, reason: 'diverged' }], reference, loss);
    assert.deepEqual(failed?.errors, [0.1]);
  });
});

describe('weight inheritance in a trained search', () => {
  it('under multi-fidelity: lower-rung trainings start from an earlier full training, full trainings from scratch; the store keeps which', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-inherit-'));
    writeHalvesIdx(dir);
    const config = parseSearchConfig(halvesSearch(dir, { strategy: 'local', fidelity: { rungs: 2, eta: 2 }, stop: { maxEvals: 10 }, final: { enabled: false }, confirm: { top: 0 } }));
    const out = join(dir, 'run');
    const seen: boolean[] = [];
    const result = await runExperiment(config, out, false, { onStart: (info) => seen.push(info.inherit) });
    assert.deepEqual(seen, [true], 'on by default for local search under multi-fidelity, and said so');
    const trials = result.search.trials;
    const top = Math.max(...trials.map((t) => t.rung ?? 0));
    assert.equal(top, 1);
    for (const t of trials.filter((t) => t.rung === top)) assert.equal(t.inherited, undefined, `full training ${t.index} starts from scratch`);
    const children = trials.filter((t) => t.inherited);
    assert.ok(children.length >= 3, `${children.length} trainings inherited`);
    for (const t of children) {
      const from = t.inherited as { from: string; fraction: number };
      assert.ok(t.rung === 0 && from.fraction > 0 && from.fraction <= 1, `trial ${t.index}: rung ${t.rung}, ${JSON.stringify(from)}`);
      const parent = trials.find((p) => p.rung === top && notationOf(p.architecture) === from.from);
      assert.ok(parent && parent.index < t.index, `trial ${t.index} inherits from ${from.from}, a full training landed before it`);
    }
    // Once a full training has landed, a lower-rung training started after it inherits: of those
    // landing later, only the one already in flight on the other worker (2 workers) trained from
    // scratch. (Trials land in any order, and untrained ones land at once: indices say when a
    // trial ended, not when it started.)
    const firstParent = trials.findIndex((t) => t.rung === top && t.status === 'done');
    const scratchAfter = trials.filter((t) => t.rung === 0 && t.status === 'done' && !t.inherited && t.index > firstParent);
    assert.ok(scratchAfter.length <= 1, `lower-rung trainings from scratch after the first full one: ${scratchAfter.map((t) => t.index).join(', ')}`);
    const store = new ExperimentStore(join(out, 'experiment.sqlite'));
    assert.deepEqual(store.trials().map((t) => t.inherited ?? null), trials.map((t) => t.inherited ?? null));
    assert.equal((store.getMeta('config') as { training: { inherit: boolean } }).training.inherit, true, 'stored resolved');
    store.close();
  });

  it('is off on request, by default for random search and with one rung; a store from before keeps training from scratch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-inherit-off-'));
    writeHalvesIdx(dir);
    const cases = [
      { strategy: 'local', training: { epochs: 1, batch: 32, validation: 100, limit: 200, inherit: false } },
      { strategy: 'random' },
      // One rung: nothing below the top to inherit into.
      { strategy: 'local', fidelity: { rungs: 1 } },
    ];
    for (const [i, over] of cases.entries()) {
      const out = join(dir, `run-${i}`);
      const result = await runExperiment(parseSearchConfig(halvesSearch(dir, { fidelity: { rungs: 2, eta: 2 }, stop: { maxEvals: 6 }, final: { enabled: false }, confirm: { top: 0 }, ...over })), out, false);
      assert.ok(result.search.trials.filter((t) => t.status === 'done').length >= 4);
      assert.deepEqual(result.search.trials.map((t) => t.inherited), result.search.trials.map(() => undefined), JSON.stringify(over));
    }
    // Asked for where it cannot act: refused before any trial, naming the key.
    await assert.rejects(
      runExperiment(parseSearchConfig(halvesSearch(dir, { fidelity: { rungs: 1 }, training: { epochs: 1, batch: 32, validation: 100, limit: 200, inherit: true }, stop: { maxEvals: 2 } })), join(dir, 'refused'), false),
      (error: Error) => error instanceof ConfigError && /^training\.inherit: candidates inherit at the lower rungs of multi-fidelity/.test(error.message),
    );
    // Refused before its first trial, the search left nothing behind.
    assert.equal(existsSync(join(dir, 'refused')), false, 'no folder left by a refused search');
    assert.equal((migrateStoredConfig({ strategy: 'local', training: { limit: 10 } }) as { training: { inherit: boolean; limit: number } }).training.inherit, false);
    // A store written before inheritance gets the columns, its trials none.
    const old = join(dir, 'old.sqlite');
    const db = new Database(old);
    db.exec('CREATE TABLE trials (idx INTEGER PRIMARY KEY, key TEXT NOT NULL, notation TEXT NOT NULL, architecture TEXT NOT NULL, status TEXT NOT NULL, error REAL, loss REAL, reason TEXT, params INTEGER NOT NULL, macs INTEGER NOT NULL, latency_s REAL NOT NULL, energy_j REAL NOT NULL, dram_time_s REAL NOT NULL, dram_energy_j REAL NOT NULL, dram_power_w REAL, dram_bytes INTEGER NOT NULL, evaluation_s REAL NOT NULL, seed INTEGER NOT NULL, finished_at TEXT NOT NULL, rung INTEGER NOT NULL DEFAULT 0, images INTEGER, UNIQUE (key, rung))');
    db.prepare("INSERT INTO trials VALUES (0, 'k', 'n', ?, 'done', 0.1, 0.2, NULL, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 'now', 0, NULL)").run(JSON.stringify(architectureToData(parseArchitecture(HALVES_INITIAL))));
    db.close();
    const store = new ExperimentStore(old);
    const [stored] = store.trials();
    assert.equal(stored?.error, 0.1);
    assert.equal(stored?.inherited, undefined);
    store.close();
    const columns = (new Database(old).prepare('PRAGMA table_info(trials)').all() as Array<{ name: string }>).map((c) => c.name);
    assert.ok(columns.includes('inherited_from') && columns.includes('inherited'), columns.join());
  });
});
