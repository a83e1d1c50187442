import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { parseSearchConfig } from '../src/experiment/config.js';
import { createRng } from '../src/data/index.js';
import { confirmationReserveS, finalTrainingReserveS } from '../src/experiment/confirm.js';
import { loadRunReport } from '../src/experiment/load.js';
import { presetProcessor } from '../src/processor/index.js';
import type { Processor } from '../src/processor/index.js';
import { runExperiment } from '../src/experiment/run.js';
import { ExperimentStore } from '../src/experiment/store.js';
import { DEFAULT_LOSS, Nb201TableEvaluator, RandomSearch, confirm, processorLoss, repeatSeeds, runSearch, topTrials } from '../src/search/index.js';
import type { CostFigures, Repeat, Trial } from '../src/search/index.js';
import { Nb201Space, notationOf, parseArchitecture } from '../src/space/index.js';
import { HALVES_INITIAL, halvesSearch, writeHalvesIdx } from './fixtures.js';

const architecture = parseArchitecture(HALVES_INITIAL);
const reference = { dramTimeS: 1e-3, dramEnergyJ: 1e-6, dramPowerW: 1e-3, latencyS: 1e-3 };
const figures = (dramTimeS: number): CostFigures => ({ params: 1, macs: 1, latencyS: 1e-3, energyJ: 1e-6, dramTimeS, dramEnergyJ: 1e-6, dramPowerW: 1e-3, dramBytes: 1, peakActivationBytes: 1, storedWeightBytes: 1 });

/** A finished trial whose loss is the additive loss of its error and DRAM time. */
const trial = (index: number, error: number, dramTimeS = 1e-3, status: Trial['status'] = 'done'): Trial => {
  const cost = figures(dramTimeS);
  const loss = status === 'done' ? processorLoss(error, cost, reference, DEFAULT_LOSS) : Number.POSITIVE_INFINITY;
  return { index, key: `k${index}`, architecture, status, ...(status === 'done' ? { error } : {}), loss, cost, evaluationS: 0 };
};

describe('confirming the best (pure)', () => {
  it('takes the finished trials of lowest loss, keeping the search\'s order among equals', () => {
    const trials = [trial(0, 0.3), trial(1, 0.1), trial(2, 0.05, 1e-3, 'failed'), trial(3, 0.2), trial(4, 0.1), trial(5, 0.01, 1e-3, 'rejected')];
    assert.deepEqual(topTrials(trials, 3).map((t) => t.index), [1, 4, 3]);
    assert.deepEqual(topTrials(trials, 10).map((t) => t.index), [1, 4, 3, 0]);
    assert.deepEqual(topTrials(trials, 0), []);
  });

  it('ranks by the loss at the mean error: a lucky first training falls behind', () => {
    const lucky = trial(1, 0.10);
    const steady = trial(2, 0.12);
    const repeats: Repeat[] = [
      { key: 'k1', seed: 1, error: 0.20 },
      { key: 'k1', seed: 2, error: 0.18 },
      { key: 'k2', seed: 1, error: 0.12 },
      { key: 'k2', seed: 2, error: 0.13 },
      { key: 'other', seed: 1, error: 0 },
    ];
    const ranked = confirm([lucky, steady], repeats, reference, DEFAULT_LOSS);
    assert.deepEqual(ranked.map((c) => c.trial.key), ['k2', 'k1']);
    const [first, second] = ranked as [(typeof ranked)[number], (typeof ranked)[number]];
    assert.deepEqual(first.errors, [0.12, 0.12, 0.13]);
    assert.ok(Math.abs(second.meanError - 0.16) < 1e-12, `mean ${second.meanError}`);
    assert.ok(Math.abs(second.sdError - Math.sqrt(((0.06 ** 2) + (0.04 ** 2) + (0.02 ** 2)) / 2)) < 1e-12, `sd ${second.sdError}`);
    assert.ok(Math.abs(second.meanLoss - processorLoss(0.16, lucky.cost, reference, DEFAULT_LOSS)) < 1e-12, 'the loss at the mean error');
    assert.deepEqual(first.failures, []);
  });

  it('ranks a candidate that failed to train with a seed after every one that trained with all', () => {
    const ranked = confirm([trial(1, 0.05), trial(2, 0.3)], [{ key: 'k1', seed: 1, reason: 'training diverged' }, { key: 'k2', seed: 1, error: 0.3 }], reference, DEFAULT_LOSS);
    assert.deepEqual(ranked.map((c) => c.trial.key), ['k2', 'k1']);
    assert.deepEqual(ranked[1]?.failures, ['seed 1: training diverged']);
    assert.deepEqual(ranked[1]?.errors, [0.05], 'a failed repeat adds no error');
  });

  it('gives a candidate without repeats its own error and no spread', () => {
    const [only] = confirm([trial(1, 0.2)], [], reference, DEFAULT_LOSS);
    assert.deepEqual(only?.errors, [0.2]);
    assert.equal(only?.sdError, 0);
  });

  it('repeats with the seeds after the search\'s', () => {
    assert.deepEqual(repeatSeeds(7, 3), [8, 9, 10]);
    assert.deepEqual(repeatSeeds(0, 0), []);
  });
});

describe('confirming within the time budget', () => {
  it('keeps the time its trainings will take: rounds of the workers, each a median full training', () => {
    const config = parseSearchConfig({ confirm: { top: 3, seeds: 1 } });
    const timed = (i: number, s: number): Trial => ({ ...trial(i, 0.1), evaluationS: s });
    const trials = [timed(0, 10), timed(1, 30), timed(2, 20), { ...timed(3, 99), status: 'failed' as const, loss: Infinity }];
    assert.equal(confirmationReserveS(config, trials, 2), 2 * 20);
    assert.equal(confirmationReserveS(config, trials, 3), 20);
    assert.equal(confirmationReserveS(parseSearchConfig({ confirm: { top: 3, seeds: 2 } }), trials, 2), 3 * 20);
    assert.equal(confirmationReserveS(parseSearchConfig({ confirm: { top: 0 } }), trials, 2), 0);
    assert.equal(confirmationReserveS(config, [], 2), 0);
    // The final training: one more, as long as the median full one; none when it is off.
    assert.equal(finalTrainingReserveS(config, trials), 20);
    assert.equal(finalTrainingReserveS(parseSearchConfig({ final: { enabled: false } }), trials), 0);
    assert.equal(finalTrainingReserveS(config, []), 0);
  });

  it('the loop stops that much earlier, and says so', async () => {
    const space = new Nb201Space('cifar10');
    const table = new Nb201TableEvaluator(space, new URL('../../shared/data/nb201/accuracy.json', import.meta.url).pathname);
    const initial = space.fromDigits('333333');
    const result = await runSearch({
      space, strategy: new RandomSearch(space, initial, createRng(1)), evaluator: table, processor: presetProcessor('mobile-npu') as Processor, initial, loss: DEFAULT_LOSS,
      stop: { timeBudgetS: 3600 }, reserve: { seconds: (trials) => (trials.length >= 5 ? 3600 : 0), for: 'confirming the best' },
    });
    assert.equal(result.evaluations, 5);
    assert.match(result.stoppedBecause, /^time budget of 3600 s \(3600 s of it kept for confirming the best\)$/);
  });
});

describe('the store keeps repeats', () => {
  it('round-trips finished and failed repeats, one per candidate and seed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-repeats-'));
    const file = join(dir, 'experiment.sqlite');
    const store = new ExperimentStore(file);
    store.addTrial(trial(0, 0.2), 0);
    store.addRepeat({ key: 'k0', seed: 2, error: 0.25 }, 1.5);
    store.addRepeat({ key: 'k0', seed: 1, reason: 'training diverged (the loss became NaN)' }, 0.5);
    store.addRepeat({ key: 'k0', seed: 2, error: 0.3 }, 1.5);
    store.close();
    const again = new ExperimentStore(file);
    assert.deepEqual(again.repeats(), [
      { key: 'k0', seed: 1, reason: 'training diverged (the loss became NaN)' },
      { key: 'k0', seed: 2, error: 0.3 },
    ]);
    // Every cost figure comes back, deployed memory included.
    assert.deepEqual(again.trials()[0]?.cost, trial(0, 0.2).cost);
    again.close();
  });
});

describe('a trained search confirms its best', () => {
  const setUp = (confirmConfig: { top?: number; seeds?: number }) => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-confirm-'));
    writeHalvesIdx(dir);
    const config = parseSearchConfig(halvesSearch(dir, {
      strategy: 'random',
      seed: 4,
      stop: { maxEvals: 4 },
      final: { enabled: false },
      confirm: confirmConfig,
      // Every candidate in full: the top of a single rung is what is confirmed here.
      fidelity: { rungs: 1 },
    }));
    return { config, out: join(dir, 'run') };
  };

  it('trains the top candidates with other seeds, stores each repeat, and declares the best by its mean', async () => {
    const { config, out } = setUp({ top: 2, seeds: 1 });
    const started: number[] = [];
    const landed: Repeat[] = [];
    const result = await runExperiment(config, out, false, { onConfirmStart: (c) => started.push(c.trainings), onRepeat: (r) => landed.push(r) });
    const top = topTrials(result.search.trials, 2);
    assert.equal(top.length, 2, 'two candidates finished');
    assert.deepEqual(started, [2]);
    assert.deepEqual(landed.map((r) => `${r.key}@${r.seed}`).sort(), top.map((t) => `${t.key}@5`).sort());
    const confirmation = result.confirmation ?? [];
    assert.equal(confirmation.length, 2);
    assert.ok((confirmation[0]?.meanLoss ?? Infinity) <= (confirmation[1]?.meanLoss ?? -Infinity), 'best first by the loss at the mean error');
    assert.equal(result.best, confirmation[0]?.trial, 'the declared best is the confirmed one');
    for (const c of confirmation) assert.equal(c.errors.length, 2, `${c.trial.key}: the search's training and one repeat`);

    const store = new ExperimentStore(join(out, 'experiment.sqlite'));
    assert.deepEqual(store.repeats().map((r) => `${r.key}@${r.seed}`).sort(), landed.map((r) => `${r.key}@${r.seed}`).sort());
    store.close();

    const best = JSON.parse(readFileSync(join(out, 'best.json'), 'utf8')) as { notation: string; confirmation: { errors: number[] } };
    assert.equal(best.notation, notationOf(result.best.architecture));
    assert.deepEqual(best.confirmation.errors, confirmation[0]?.errors);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { confirmation: Array<{ index: number }>; searchBest: { index: number } };
    assert.deepEqual(summary.confirmation.map((c) => c.index), confirmation.map((c) => c.trial.index));
    assert.equal(summary.searchBest.index, result.search.best.index);

    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /id="confirmation-table"/);
    assert.ok(html.includes(`${(100 * (confirmation[0]?.meanError ?? NaN)).toFixed(2)}%`), 'the report shows the mean error');
    // `procnas report` rebuilds the same confirmation from the store.
    const input = loadRunReport(out);
    assert.deepEqual(input.confirmation?.candidates.map((c) => c.trial.key), confirmation.map((c) => c.trial.key));
    assert.equal(input.best.key, result.best.key);
    assert.deepEqual(input.confirmation?.seeds, [5]);
  });

  it('resumed, trains only the repeats its store lacks', async () => {
    const { config, out } = setUp({ top: 2, seeds: 1 });
    const first = await runExperiment(config, out, false);
    const dropped = first.confirmation?.[1]?.trial.key as string;
    const db = new Database(join(out, 'experiment.sqlite'));
    db.prepare('DELETE FROM repeats WHERE key = ?').run(dropped);
    db.close();
    const started: number[] = [];
    const landed: string[] = [];
    const again = await runExperiment(config, out, true, { onConfirmStart: (c) => started.push(c.trainings), onRepeat: (r) => landed.push(r.key) });
    assert.deepEqual(started, [1], 'one repeat was missing');
    assert.deepEqual(landed, [dropped]);
    assert.deepEqual(again.confirmation?.map((c) => c.trial.key).sort(), first.confirmation?.map((c) => c.trial.key).sort());
  });

  it('is off with top 0: the search\'s best is declared and no repeat is trained', async () => {
    const { config, out } = setUp({ top: 0 });
    const result = await runExperiment(config, out, false, { onConfirmStart: () => assert.fail('no confirmation with top 0') });
    assert.equal(result.confirmation, undefined);
    assert.equal(result.best, result.search.best);
    assert.doesNotMatch(readFileSync(join(out, 'report.html'), 'utf8'), /id="confirmation-table"/);
  });
});
