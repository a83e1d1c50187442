import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { createRng } from '../src/data/index.js';
import { defaultFidelity, inheritedByDefault, parseSearchConfig } from '../src/experiment/config.js';
import { runExperiment } from '../src/experiment/run.js';
import { ExperimentStore } from '../src/experiment/store.js';
import { presetProcessor } from '../src/processor/index.js';
import type { Processor } from '../src/processor/index.js';
import { DEFAULT_LOSS, Evolution, LocalSearch, Nb201TableEvaluator, bestTrial, fidelitySchedule, nextPromotion, oddsShifts, predictedFullError, processorLoss, ranksAbove, runSearch, topRung } from '../src/search/index.js';
import type { CostFigures, EvaluationOptions, Evaluator, FidelitySchedule, Strategy, Trial } from '../src/search/index.js';
import { Nb201Space } from '../src/space/index.js';
import type { Architecture } from '../src/space/index.js';
import { halvesSearch, writeHalvesIdx } from './fixtures.js';

const TABLE = new URL('../../shared/data/nb201/accuracy.json', import.meta.url).pathname;
const space = new Nb201Space('cifar10');
const table = new Nb201TableEvaluator(space, TABLE);
const processor = presetProcessor('mobile-npu') as Processor;
const initial = space.fromDigits('333333');
const figures: CostFigures = { params: 1, macs: 1, latencyS: 1, energyJ: 1, dramTimeS: 1, dramEnergyJ: 1, dramPowerW: 1, dramBytes: 1, peakActivationBytes: 1, storedWeightBytes: 1 };
const trial = (key: string, rung: number, loss: number, status: Trial['status'] = 'done'): Trial => ({
  index: 0, key, architecture: initial, status, ...(status === 'done' ? { error: loss } : {}), loss: status === 'done' ? loss : Infinity, cost: figures, evaluationS: 0, rung, images: 10 * 3 ** rung,
});

describe('multi-fidelity (pure)', () => {
  it('spaces the rungs eta apart below the full training, never under the minimum, never twice the same', () => {
    assert.deepEqual(fidelitySchedule(8000, 3, 3, 64).images, [889, 2667, 8000]);
    assert.deepEqual(fidelitySchedule(300, 3, 3, 32).images, [33, 100, 300]);
    assert.deepEqual(fidelitySchedule(50, 4, 3, 32).images, [32, 50]);
    assert.deepEqual(fidelitySchedule(1000, 1, 3).images, [1000]);
  });

  it('promotes the best 1/eta of a rung, from the top rung down, each candidate once', () => {
    const schedule: FidelitySchedule = { images: [10, 30, 90], eta: 3 };
    const rung0 = ['a', 'b', 'c', 'd', 'e', 'f'].map((k, i) => trial(k, 0, [0.5, 0.2, 0.9, 0.1, 0.7, 0.3][i] as number));
    // Six at rung 0: the best two (d, then b) may go up.
    assert.deepEqual(nextPromotion(rung0, [], schedule), { trial: rung0[3], rung: 1 });
    assert.deepEqual(nextPromotion(rung0, [{ key: 'd', rung: 1 }], schedule)?.trial.key, 'b');
    assert.equal(nextPromotion(rung0, [{ key: 'd', rung: 1 }, { key: 'b', rung: 1 }], schedule), undefined);
    // At most ⌊n/eta⌋ of a rung go up, even when the best have changed since: e went up when it
    // was among the best, so after d only one of the best two may follow it.
    assert.deepEqual(nextPromotion(rung0, [{ key: 'e', rung: 1 }], schedule)?.trial.key, 'd');
    assert.equal(nextPromotion(rung0, [{ key: 'e', rung: 1 }, { key: 'd', rung: 1 }], schedule), undefined);
    assert.deepEqual(nextPromotion([...rung0, trial('g', 0, 0.8), trial('h', 0, 0.8), trial('i', 0, 0.8)], [{ key: 'e', rung: 1 }, { key: 'd', rung: 1 }], schedule)?.trial.key, 'b');
    // A failed trial never goes up, and does not count toward the rung's size.
    assert.equal(nextPromotion([...rung0.slice(0, 2), trial('x', 0, 0, 'failed')], [], schedule), undefined);
    // Three at rung 1: the best goes to rung 2 before any rung-0 promotion.
    const rung1 = [trial('d', 1, 0.15), trial('b', 1, 0.12), trial('f', 1, 0.4)];
    assert.deepEqual(nextPromotion([...rung0, ...rung1], [], schedule), { trial: rung1[1], rung: 2 });
    // A candidate already higher (the initial, trained in full at once) is not promoted again.
    assert.deepEqual(nextPromotion([...rung0, trial('d', 2, 0.1)], [], schedule)?.trial.key, 'b');
  });

  it('ranks a rung by the loss it is given, not the one stored', () => {
    const schedule: FidelitySchedule = { images: [10, 30], eta: 3 };
    const rung0 = ['a', 'b', 'c'].map((k, i) => trial(k, 0, [0.1, 0.5, 0.9][i] as number));
    assert.equal(nextPromotion(rung0, [], schedule)?.trial.key, 'a');
    assert.equal(nextPromotion(rung0, [], schedule, (t) => 1 - t.loss)?.trial.key, 'c');
  });

  it('maps a rung\'s error to the full training\'s by the mean shift in log-odds over the candidates trained at both', () => {
    const logit = (p: number) => Math.log(p / (1 - p));
    const trials = [trial('a', 0, 0.5), trial('a', 2, 0.1), trial('b', 0, 0.8), trial('b', 2, 0.2), trial('c', 0, 0.3), trial('d', 1, 0.3), trial('d', 2, 0.1), trial('e', 0, 0, 'failed'), trial('e', 2, 0.05)];
    const [s0, s1, s2] = oddsShifts(trials, 3) as [number, number, number];
    assert.ok(Math.abs(s0 - (logit(0.1) - logit(0.5) + logit(0.2) - logit(0.8)) / 2) < 1e-12, `rung 0: ${s0}`);
    assert.ok(Math.abs(s1 - (logit(0.1) - logit(0.3))) < 1e-12, `rung 1: ${s1}`);
    assert.equal(s2, 0);
    assert.deepEqual(oddsShifts(trials.filter((t) => t.rung !== 2), 3), [0, 0, 0], 'no pair yet: no shift');
    // The pairs themselves map onto each other on average; the order of errors is kept; no shift is the error itself.
    assert.ok(Math.abs(predictedFullError(0.5, logit(0.1) - logit(0.5)) - 0.1) < 1e-12);
    assert.ok(predictedFullError(0.4, s0) < predictedFullError(0.6, s0));
    assert.ok(predictedFullError(0.6, s0) < 0.6 && predictedFullError(0.6, s0) - predictedFullError(0.4, s0) < 0.2 / 2, 'lower, and closer together');
    assert.equal(predictedFullError(0.37, 0), 0.37);
    assert.ok(Number.isFinite(predictedFullError(1, s0)) && Number.isFinite(predictedFullError(0, s0)));
  });

  it('compares like with like: the best is at the highest rung a finished trial reached', () => {
    const low = trial('a', 0, 0.05);
    const high = trial('b', 2, 0.3);
    assert.ok(ranksAbove(high, low));
    assert.ok(!ranksAbove(low, high));
    assert.ok(!ranksAbove(trial('c', 2, 0, 'failed'), low));
    assert.equal(bestTrial([low, high, trial('c', 2, 0.2), trial('d', 1, 0.01)])?.key, 'c');
    assert.deepEqual(topRung([low, high, trial('c', 2, 0.2, 'failed')]).map((t) => t.key), ['b']);
  });
});

/** The table's error, worse on fewer images (as a shorter training is); records what it was asked. */
class FidelityTable implements Evaluator {
  readonly asked: Array<{ key: string; images: number | undefined; landedBefore: number }> = [];
  /** Trials landed so far (the test's onTrial fills it): what the loop knew when it asked. */
  readonly landed: Trial[] = [];
  constructor(private readonly full: number, private readonly delayMs: (key: string) => number = () => 0) {}
  async evaluate(a: Architecture, options: EvaluationOptions = {}): Promise<{ error: number }> {
    const key = space.key(a);
    this.asked.push({ key, images: options.images, landedBefore: this.landed.length });
    const ms = this.delayMs(key);
    await (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());
    const { error } = await table.evaluate(a);
    return { error: Math.min(1, error + 0.3 * (1 - (options.images ?? this.full) / this.full)) };
  }
}

describe('the loop under multi-fidelity', () => {
  const schedule: FidelitySchedule = { images: [100, 300, 900], eta: 3 };
  const loss = { ...DEFAULT_LOSS };

  it('keeps a place for the initial\'s full training under an evaluation limit, however late its first training lands', async () => {
    // The initial's first training lands after every other evaluation the limit allows has started.
    const evaluator = new FidelityTable(900, (key) => (key === '333333' ? 300 : 0));
    const strategy = new LocalSearch(space, initial, createRng(1));
    const result = await runSearch({ space, strategy, evaluator, processor, initial, loss, stop: { maxEvaluations: 10 }, concurrency: 2, fidelity: schedule });
    assert.equal(result.evaluations, 10);
    assert.deepEqual([result.initial.rung, result.initial.images], [2, 900], 'the best is compared with the initial trained in full');
  });

  it('trains every candidate at rung 0 first, tells the strategy rung 0 only, trains the initial in full, and promotes by ASHA', async () => {
    const told: number[] = [];
    const inner = new Evolution(space, initial, createRng(2));
    const strategy: Strategy = { name: 'evolution', propose: (n) => inner.propose(n), observe: (ts) => { told.push(...ts.map((t) => t.rung ?? 0)); inner.observe(ts); } };
    const evaluator = new FidelityTable(900);
    const result = await runSearch({ space, strategy, evaluator, processor, initial, loss, stop: { maxEvaluations: 120 }, concurrency: 3, fidelity: schedule, onTrial: (t) => evaluator.landed.push(t) });
    assert.equal(result.evaluations, 120);
    assert.deepEqual([...new Set(told)], [0], 'the strategy compares rung-0 trainings only');
    assert.deepEqual(evaluator.asked.slice(0, 3).map((a) => [a.key, a.images]).slice(0, 1), [['333333', 100]], 'the initial first, at rung 0');
    assert.deepEqual(evaluator.asked.slice(1, 3).map((a) => a.images), [100, 100], 'the other workers not kept waiting for it');
    const above = evaluator.asked.find((a) => a.images !== 100);
    assert.deepEqual(above && [above.key, above.images], ['333333', 900], 'the initial in full, before any promotion');
    assert.equal(result.initial.rung, 2);
    const at = (k: number) => result.trials.filter((t) => t.rung === k);
    assert.ok(at(0).length > at(1).length && at(1).length > at(2).length - 1, `rungs ${at(0).length} / ${at(1).length} / ${at(2).length}`);
    // Every promotion went to a candidate that had trained at the rung below, among its best third
    // of the finished trials there when the loop asked for it.
    const promotions = evaluator.asked.filter((a) => a.images !== 100 && a.key !== '333333');
    assert.ok(promotions.length >= 5, `${promotions.length} promotions`);
    // Each rung's loss at the full error it predicts by what had landed before; the top's at its own.
    const predicted = (t: Trial, before: readonly Trial[]) => processorLoss(predictedFullError(t.error as number, oddsShifts(before, 3)[t.rung ?? 0] as number), t.cost, result.reference, loss);
    for (const t of result.trials.filter((x) => x.status === 'done')) assert.equal(t.loss, predicted(t, result.trials.slice(0, t.index)), `${t.key}@${t.rung}`);
    assert.ok((oddsShifts(result.trials, 3)[0] as number) < -0.5, 'rung 0 predicts a lower full error');
    assert.ok(result.trials.some((t) => t.rung === 0 && t.status === 'done' && t.loss < processorLoss(t.error as number, t.cost, result.reference, loss) - 0.05));
    for (const p of promotions) {
      const rung = schedule.images.indexOf(p.images as number);
      const landed = evaluator.landed.slice(0, p.landedBefore);
      const below = landed.filter((x) => x.rung === rung - 1 && x.status === 'done');
      const self = below.find((x) => x.key === p.key);
      assert.ok(self, `${p.key} trained at rung ${rung - 1} first`);
      const better = below.filter((x) => predicted(x, landed) < predicted(self as Trial, landed)).length;
      assert.ok(better < Math.floor(below.length / 3), `${p.key}: ${better} better of ${below.length} at rung ${rung - 1}`);
    }
    assert.equal(result.best.rung, 2, 'the best is a full training');
    assert.ok(result.pareto.every((t) => t.rung === 2), 'the front compares full trainings');
    assert.deepEqual(new Set(result.trials.map((t) => `${t.key}@${t.rung}`)).size, result.trials.length, 'no candidate trained twice at a rung');
  });

  it('local search walks on rung-0 losses, and a resume replays every rung in its landing order', async () => {
    const hash = (key: string) => ([...key].reduce((h, d) => (h * 31 + Number(d)) % 997, 7) % 15) + 1;
    const run = (prior?: Trial[], evaluator = new FidelityTable(900, hash)) =>
      runSearch({ space, strategy: new LocalSearch(space, initial, createRng(5)), evaluator, processor, initial, loss, stop: { maxEvaluations: 80 }, concurrency: 3, fidelity: schedule, ...(prior ? { prior } : {}) });
    const whole = await run();
    assert.ok(whole.trials.some((t) => t.rung === 1), 'some candidates went up');
    const stored = whole.trials.slice(0, 50);
    const evaluator = new FidelityTable(900);
    const resumed = await run(stored, evaluator);
    assert.deepEqual(resumed.trials.slice(0, 50).map((t) => `${t.key}@${t.rung}`), stored.map((t) => `${t.key}@${t.rung}`));
    assert.deepEqual(resumed.trials.slice(0, 50).map((t) => t.loss), stored.map((t) => t.loss), 'replayed with the losses they were told with');
    const storedIds = new Set(stored.map((t) => `${t.key}@${t.images}`));
    assert.deepEqual(evaluator.asked.filter((a) => storedIds.has(`${a.key}@${a.images}`)), [], 'no stored trial trained again, at any rung');
  });
});

describe('the store keeps one trial per candidate and rung', () => {
  it('opens a store from before multi-fidelity: its trials become rung 0, a candidate can then train at a higher rung', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'procnas-rungs-')), 'experiment.sqlite');
    const db = new Database(file);
    db.exec(`CREATE TABLE trials (idx INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, notation TEXT NOT NULL, architecture TEXT NOT NULL,
      status TEXT NOT NULL, error REAL, loss REAL, reason TEXT, params INTEGER NOT NULL, macs INTEGER NOT NULL, latency_s REAL NOT NULL,
      energy_j REAL NOT NULL, dram_time_s REAL NOT NULL, dram_energy_j REAL NOT NULL, dram_power_w REAL, dram_bytes INTEGER NOT NULL, evaluation_s REAL NOT NULL,
      seed INTEGER NOT NULL, finished_at TEXT NOT NULL)`);
    const architecture = JSON.stringify({ name: 'old', input: '8x8x1', classes: 2, stages: [['cn_k3_c8']], head: ['gap', 'fc'] });
    db.prepare(`INSERT INTO trials VALUES (0, 'k', 'cn_k3_c8', ?, 'done', 0.1, 0.3, NULL, 100, 200, 0.002, 1e-6, 0.001, 4e-7, 4e-4, 1000, 1.5, 0, '2026-01-01')`).run(architecture);
    db.close();
    const store = new ExperimentStore(file);
    const [old] = store.trials();
    assert.equal(old?.key, 'k');
    assert.equal(old?.rung, undefined, 'a trial from before: trained in full, no rung');
    store.addTrial({ ...(old as Trial), index: 1, rung: 2, images: 900 }, 0);
    assert.deepEqual(store.trials().map((t) => [t.key, t.rung, t.images]), [['k', undefined, undefined], ['k', 2, 900]]);
    assert.throws(() => store.addTrial({ ...(old as Trial), index: 2, rung: 2, images: 900 }, 0), /UNIQUE/);
    store.close();
  });
});

describe('a trained search under multi-fidelity', () => {
  it('says its rungs, stores each trial\'s images, and reports them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-fidelity-'));
    writeHalvesIdx(dir);
    const config = parseSearchConfig(halvesSearch(dir, {
      strategy: 'random',
      fidelity: { rungs: 3 },
      stop: { maxEvals: 14 },
      training: { epochs: 1, batch: 32, validation: 100, limit: 300 },
      confirm: { top: 0 },
      final: { enabled: false },
    }));
    const out = join(dir, 'run');
    let said: FidelitySchedule | undefined;
    const result = await runExperiment(config, out, false, { onStart: (info) => (said = info.fidelity) });
    assert.deepEqual(said, { images: [33, 100, 300], eta: 3 }, 'three rungs, three apart by default, up to the training limit');
    const store = new ExperimentStore(join(out, 'experiment.sqlite'));
    const trials = store.trials();
    store.close();
    const images = new Set(trials.map((t) => t.images));
    assert.ok(images.has(33) && images.has(300) && !images.has(undefined), `trained on ${[...images].join(', ')} images: rung 0, and the initial in full`);
    assert.equal(result.search.initial.images, 300);
    const stored = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { config: { fidelity: { rungs: number } } };
    assert.equal(stored.config.fidelity.rungs, 3, 'the resolved fidelity is stored with the configuration');
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /rung 0: 33 images.*a lower rung&#39;s loss is at the full training&#39;s error its own predicts/);
  });

  it('takes four rungs by default under a time budget below 5 minutes where multi-fidelity applies (a trained local, evolution, random or nested search), else one', () => {
    const table = { kind: 'nb201-table', table: TABLE };
    const short = { stop: { budget: '3m' } };
    const rungs = (over: Record<string, unknown>) => defaultFidelity(parseSearchConfig({ ...short, ...over })).rungs;
    assert.deepEqual(defaultFidelity(parseSearchConfig(short)), { rungs: 4, eta: 3 }, 'the 3-minute search');
    for (const strategy of ['local', 'evolution', 'random', 'nested']) assert.equal(rungs({ strategy }), 4, strategy);
    for (const strategy of ['dnas', 'bayesian']) assert.equal(rungs({ strategy }), 1, strategy);
    assert.equal(rungs({ evaluator: table }), 1, 'the table has one fidelity');
    assert.equal(rungs({ stop: { budget: 299 } }), 4);
    assert.equal(rungs({ stop: { budget: '5m' } }), 1, 'a budget that affords enough full trainings');
    assert.equal(rungs({ stop: {} }), 1, 'the bare search: 10 minutes');
    assert.equal(rungs({ stop: { maxEvals: 30 } }), 1, 'no time budget');
    assert.equal(inheritedByDefault(parseSearchConfig(short)), true, 'and inherits at the lower rungs');
    assert.equal(inheritedByDefault(parseSearchConfig({ ...short, strategy: 'random' })), false, 'random search has no parents');
    assert.equal(inheritedByDefault(parseSearchConfig({ ...short, fidelity: { rungs: 1 } })), false);
    assert.equal(inheritedByDefault(parseSearchConfig({})), false);
  });

  it('refuses multi-fidelity where there is one fidelity (the NAS-Bench-201 table, dnas), and nested where there is no macro structure', async () => {
    const base = { initial: 'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|', evaluator: { kind: 'nb201-table', table: TABLE }, stop: { maxEvals: 3 } };
    await assert.rejects(runExperiment(parseSearchConfig({ ...base, fidelity: { rungs: 3 } }), join(mkdtempSync(join(tmpdir(), 'procnas-f-')), 'r'), false), /fidelity: the NAS-Bench-201 table has one fidelity/);
    // Without a fidelity section, a table search runs in one fidelity (and stores that).
    const out = join(mkdtempSync(join(tmpdir(), 'procnas-f-')), 'r');
    await runExperiment(parseSearchConfig(base), out, false);
    assert.equal((JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { config: { fidelity: { rungs: number } } }).config.fidelity.rungs, 1);
    await assert.rejects(runExperiment(parseSearchConfig({ ...base, strategy: 'nested' }), join(mkdtempSync(join(tmpdir(), 'procnas-f-')), 'r'), false), /strategy nested moves stage widths and depths outside .* it needs the mobile space/);
    await assert.rejects(runExperiment(parseSearchConfig({ strategy: 'dnas', fidelity: { rungs: 2 }, stop: { maxEvals: 2 } }), join(mkdtempSync(join(tmpdir(), 'procnas-f-')), 'r'), false), /fidelity: dnas trains each argmax in full/);
  });
});
