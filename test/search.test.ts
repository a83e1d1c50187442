import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../src/data/index.js';
import { presetProcessor } from '../src/processor/index.js';
import {
  BayesianSearch,
  DEFAULT_LOSS,
  Evolution,
  LocalSearch,
  NestedSearch,
  Nb201TableEvaluator,
  RandomSearch,
  budgetViolations,
  dominates,
  lossFloor,
  paretoFront,
  processorLoss,
  runSearch,
  stopReason,
} from '../src/search/index.js';
import type { CostFigures, Evaluator, LossConfig, Strategy, Trial } from '../src/search/index.js';
import { MobileSpace, Nb201Space, lower, parseArchitecture } from '../src/space/index.js';
import type { Architecture } from '../src/space/index.js';

const TABLE = new URL('../../shared/data/nb201/accuracy.json', import.meta.url).pathname;
const space = new Nb201Space('cifar10');
const table = new Nb201TableEvaluator(space, TABLE);
const processor = presetProcessor('mobile-npu')!;
const initial = space.fromDigits('333333');

const figures = (over: Partial<CostFigures> = {}): CostFigures => ({
  params: 1000, macs: 2000, latencyS: 1e-3, energyJ: 2e-6, dramTimeS: 4e-4, dramEnergyJ: 1e-6, dramPowerW: 1e-3, dramBytes: 5000, peakActivationBytes: 3000, storedWeightBytes: 1000, ...over,
});

const trial = (error: number, dramTimeS: number, dramEnergyJ: number): Trial => ({
  index: 0, key: `${error}/${dramTimeS}/${dramEnergyJ}`, architecture: initial, status: 'done', error, loss: 0,
  cost: figures({ dramTimeS, dramEnergyJ }), evaluationS: 0,
});

/** Counts the evaluations it answers from the table, and fails on request (by key, or by call number from 0). */
class CountingEvaluator implements Evaluator {
  calls: string[] = [];
  constructor(private readonly failOn: Set<string> = new Set(), private readonly failCalls: Set<number> = new Set()) {}
  async evaluate(a: Architecture): Promise<{ error: number }> {
    const key = space.key(a);
    this.calls.push(key);
    if (this.failOn.has(key) || this.failCalls.has(this.calls.length - 1)) throw new Error(`training diverged on ${key}`);
    return table.evaluate(a);
  }
}

describe('the processor-related loss', () => {
  const reference = { dramTimeS: 2e-4, dramEnergyJ: 5e-7, dramPowerW: 4e-3, latencyS: 5e-4 };

  it('adds the DRAM time, energy and power, normalised by the initial architecture, weighted by λ', () => {
    const config: LossConfig = { ...DEFAULT_LOSS, lambdaTime: 0.5, lambdaEnergy: 0.25 };
    assert.ok(Math.abs(processorLoss(0.1, figures(), reference, config) - (0.1 + 0.5 * 2 + 0.25 * 2)) < 1e-12, 'time and energy');
    assert.equal(processorLoss(0.1, figures(), reference, { ...config, lambdaTime: 0, lambdaEnergy: 0 }), 0.1);
    const withPower = processorLoss(0.1, figures(), reference, { ...config, lambdaPower: 2 });
    assert.ok(Math.abs(withPower - (0.1 + 0.5 * 2 + 0.25 * 2 + 2 * 0.25)) < 1e-12, `power: ${withPower}`);
    assert.deepEqual(budgetViolations(figures(), { dramPowerW: 5e-4 }), ['DRAM power 0.001000 above the budget 0.0005']);
  });

  it('offers MnasNet\'s soft constraint', () => {
    const config: LossConfig = { ...DEFAULT_LOSS, kind: 'mnasnet', targetS: 2e-4, exponent: -0.07 };
    const expected = 1 - 0.9 * 2 ** -0.07;
    assert.ok(Math.abs(processorLoss(0.1, figures(), reference, config) - expected) < 1e-12, 'DRAM time against its target');
    // Without a target, the initial's value of the same measure: an architecture as fast as the initial scores its error.
    const latency: LossConfig = { ...DEFAULT_LOSS, kind: 'mnasnet', exponent: -0.07, mnasnetMetric: 'latency' };
    assert.ok(Math.abs(processorLoss(0.25, figures({ latencyS: 5e-4 }), reference, latency) - 0.25) < 1e-12, 'latency against the initial latency');
    const dram: LossConfig = { ...DEFAULT_LOSS, kind: 'mnasnet', exponent: -0.07 };
    assert.ok(Math.abs(processorLoss(0.25, figures({ dramTimeS: 2e-4 }), reference, dram) - 0.25) < 1e-12, 'DRAM time against the initial DRAM time');
  });

  it('rejects candidates above a hard budget', () => {
    const budgets = { params: 999, dramTimeS: 1 };
    assert.deepEqual(budgetViolations(figures(), budgets), ['params 1000 above the budget 999']);
    assert.equal(processorLoss(0, figures(), reference, { ...DEFAULT_LOSS, budgets }), Number.POSITIVE_INFINITY);
  });

  it('rejects candidates above a microcontroller\'s SRAM or flash, and not those of a store that did not cost them', () => {
    assert.deepEqual(budgetViolations(figures(), { peakSramBytes: 2999, flashBytes: 999 }), ['peak activation memory 3000 above the budget 2999', 'stored weights 1000 above the budget 999']);
    assert.deepEqual(budgetViolations(figures(), { peakSramBytes: 3000, flashBytes: 1000 }), []);
    // A trial read from an older store has no such figures (NaN): no budget can be checked on it.
    assert.deepEqual(budgetViolations(figures({ peakActivationBytes: Number.NaN, storedWeightBytes: Number.NaN }), { peakSramBytes: 1, flashBytes: 1 }), []);
  });
});

describe('Pareto front and stop conditions', () => {
  it('keeps exactly the non-dominated trials', () => {
    const a = trial(0.1, 2, 2);
    const b = trial(0.2, 1, 2);
    const c = trial(0.2, 2, 2);
    assert.ok(dominates(a, c) && dominates(b, c) && !dominates(a, b));
    assert.deepEqual(paretoFront([a, b, c]), [a, b]);
  });

  it('says why it stops', () => {
    const p = { iterations: 10, evaluations: 50, sinceImprovement: 4, elapsedS: 30, bestLoss: 0.2 };
    assert.equal(stopReason({ maxEvaluations: 60 }, p), undefined);
    assert.equal(stopReason({ maxEvaluations: 50 }, p), '50 evaluations');
    assert.equal(stopReason({ patience: 4 }, p), 'no improvement in 4 evaluations');
    assert.equal(stopReason({ timeBudgetS: 20, maxIterations: 100 }, p), 'time budget of 20 s');
    assert.equal(stopReason({ targetLoss: 0.25 }, p), 'reached the target loss 0.25');
  });
});

describe('search spaces', () => {
  it('NAS-Bench-201: 24 distinct neighbours, one edge changed each', () => {
    const neighbours = space.neighbours(initial);
    assert.equal(neighbours.length, 24);
    assert.equal(new Set(neighbours.map((a) => space.key(a))).size, 24);
    for (const n of neighbours) {
      const diff = [...space.key(n)].filter((d, i) => d !== '333333'[i]).length;
      assert.equal(diff, 1);
    }
    assert.equal(space.key(space.fromString('|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|')), '334131');
  });

  it('mobile: every neighbour and sample lowers and keeps the block-construction rules', () => {
    const start = parseArchitecture({ name: 'm', input: '32x32x3', classes: 10, act: 'relu6', stem: ['cn_k3_c16'], stages: [['ir_r2_k3_s2_e6_c24'], ['ir_k5_s2_e3_c40_se0.25']], head: ['gap', 'fc'] });
    const mobile = new MobileSpace(start);
    const neighbours = mobile.neighbours(start);
    assert.ok(neighbours.length > 20);
    const random = createRng(3);
    for (const a of [...neighbours, ...Array.from({ length: 20 }, () => mobile.sample(random))]) {
      lower(a);
      a.stages.forEach((stage) => {
        stage.forEach((entry, i) => {
          assert.equal(entry.kind, 'block');
          if (entry.kind === 'block') assert.equal(entry.args.stride, i === 0 ? 2 : 1, mobile.key(a));
        });
        const widths = new Set(stage.map((e) => (e.kind === 'block' ? e.args.out : 0)));
        assert.equal(widths.size, 1);
      });
    }
    assert.ok(neighbours.some((a) => a.stages[0]!.length === 3), 'adds a block');
    assert.ok(neighbours.some((a) => a.stages[0]!.length === 1), 'removes a block');
    assert.ok(neighbours.some((a) => mobile.key(a).includes('er_')), 'changes the composite op');
    assert.equal(mobile.key(mobile.fromGenes(mobile.genes(start))), mobile.key(start));
  });
});

describe('the search loop', () => {
  const loss = { ...DEFAULT_LOSS, lambdaTime: 0.1, lambdaEnergy: 0.1 };
  const strategies: Array<[string, (seed: number) => Strategy]> = [
    ['local', (seed) => new LocalSearch(space, initial, createRng(seed))],
    ['evolution', (seed) => new Evolution(space, initial, createRng(seed))],
    ['random', (seed) => new RandomSearch(space, initial, createRng(seed))],
  ];

  for (const [name, make] of strategies) {
    it(`${name}: starts from the initial architecture, never evaluates one twice, and improves on it`, async () => {
      const evaluator = new CountingEvaluator();
      const result = await runSearch({ space, strategy: make(1), evaluator, processor, initial, loss, stop: { maxEvaluations: 150 } });
      assert.equal(result.trials[0]?.key, '333333');
      assert.equal(result.initial, result.trials[0]);
      assert.equal(new Set(evaluator.calls).size, evaluator.calls.length);
      assert.equal(evaluator.calls.length, result.evaluations);
      assert.ok(result.evaluations >= 150);
      assert.ok(result.best.loss < result.initial.loss);
      assert.equal(result.best.loss, Math.min(...result.trials.map((t) => t.loss)));
      assert.ok(result.pareto.includes(result.best) || result.pareto.some((p) => dominates(p, result.best)));
    });

    it(`${name}: the same seed gives the same search`, async () => {
      const run = async (seed: number) =>
        (await runSearch({ space, strategy: make(seed), evaluator: table, processor, initial, loss, stop: { maxEvaluations: 60 } })).trials.map((t) => t.key);
      assert.deepEqual(await run(5), await run(5));
      assert.notDeepEqual(await run(5), await run(6));
    });
  }

  it('with prune, a candidate whose DRAM terms alone reach the best loss lands rejected, untrained, saying why; the walk the same as without', async () => {
    // Heavy DRAM weights: most cells' cost terms alone exceed a good cell's whole loss.
    const heavy = { ...DEFAULT_LOSS, lambdaTime: 0.5, lambdaEnergy: 0.5 };
    const evaluator = new CountingEvaluator();
    // 150 trials: within them no restart lands on a hopeless point (one would move the walk on
    // from it as from a point of infinite loss, where the unpruned walk knows its finite loss).
    const result = await runSearch({ space, strategy: new LocalSearch(space, initial, createRng(3)), evaluator, processor, initial, loss: heavy, stop: { maxEvaluations: 150 }, prune: true });
    const reference = result.reference;
    const pruned = result.trials.filter((t) => t.status === 'rejected');
    assert.ok(pruned.length >= 20, `${pruned.length} pruned`);
    assert.equal(evaluator.calls.length, result.trials.length - pruned.length, 'a pruned candidate is not evaluated');
    for (const t of pruned) {
      const floor = lossFloor(t.cost, reference, heavy);
      const bestBefore = Math.min(...result.trials.slice(0, t.index).map((u) => u.loss));
      assert.ok(floor >= bestBefore, `trial ${t.index}: floor ${floor} below the best before it, ${bestBefore}`);
      assert.match(t.reason ?? '', /^cannot beat the best: its loss at no error at all, \d\.\d{4}, is not below the best's \d\.\d{4}$/);
    }
    // Every trained candidate could have won when it was proposed.
    for (const t of result.trials.filter((u) => u.status === 'done' && u.index > 0)) {
      const bestBefore = Math.min(...result.trials.slice(0, t.index).map((u) => u.loss));
      assert.ok(lossFloor(t.cost, reference, heavy) < bestBefore, `trial ${t.index} trained though hopeless`);
    }
    const unpruned = await runSearch({ space, strategy: new LocalSearch(space, initial, createRng(3)), evaluator: new CountingEvaluator(), processor, initial, loss: heavy, stop: { maxEvaluations: 150 } });
    assert.equal(unpruned.trials.filter((t) => t.status === 'rejected').length, 0);
    // A hopeless candidate does not improve either way: local search walks the same path, for fewer trainings.
    assert.deepEqual(result.trials.map((t) => t.key), unpruned.trials.map((t) => t.key));
    assert.equal(result.best.loss, unpruned.best.loss);
  });

  it('local search moves to a neighbour as soon as one lowers the loss, and restarts only from a local optimum', async () => {
    const strategy = new LocalSearch(space, initial, createRng(2));
    const result = await runSearch({ space, strategy, evaluator: table, processor, initial, loss, stop: { maxEvaluations: 200 } });
    const differing = (a: string, b: string) => [...a].filter((d, i) => d !== b[i]).length;
    // Replays the walk: each trial is a neighbour of the current point, which moves to any that is lower.
    let current = result.trials[0] as Trial;
    let moves = 0;
    const restartedFrom: string[] = [];
    for (const t of result.trials.slice(1)) {
      if (differing(t.key, current.key) !== 1) {
        restartedFrom.push(current.key);
        current = t;
        continue;
      }
      if (t.loss < current.loss) {
        current = t;
        moves++;
      }
    }
    assert.ok(moves >= 2, `${moves} moves`);
    assert.ok(restartedFrom.length >= 1, 'it restarted at least once');
    assert.deepEqual(restartedFrom, strategy.localOptima.slice(0, restartedFrom.length));
  });

  it('marks a failed evaluation with its reason and goes on', async () => {
    const evaluator = new CountingEvaluator(new Set(), new Set([1, 2, 3]));
    const result = await runSearch({ space, strategy: new LocalSearch(space, initial, createRng(1)), evaluator, processor, initial, loss, stop: { maxEvaluations: 40 } });
    const failed = result.trials.filter((t) => t.status === 'failed');
    assert.equal(failed.length, 3);
    assert.match(failed[0]?.reason ?? '', /training diverged/);
    assert.equal(failed[0]?.loss, Number.POSITIVE_INFINITY);
    assert.ok(result.evaluations >= 40);
  });

  it('stops when evaluations keep failing, saying with what, rather than piling up failures', async () => {
    const evaluator = new CountingEvaluator(new Set(), new Set(Array.from({ length: 100 }, (_, i) => i + 5)));
    const result = await runSearch({ space, strategy: new LocalSearch(space, initial, createRng(1)), evaluator, processor, initial, loss, stop: { maxEvaluations: 100 }, concurrency: 2 });
    // Five good ones, then ten failures in a row; what was in flight lands too (at most one more).
    assert.ok(result.evaluations >= 15 && result.evaluations <= 16, `${result.evaluations} evaluations`);
    assert.match(result.stoppedBecause, /^10 evaluations in a row failed, the last with: training diverged on /);
    assert.equal(result.trials.filter((t) => t.status === 'done').length, 5);
  });

  it('rejects candidates above a budget without evaluating them', async () => {
    const evaluator = new CountingEvaluator();
    const budgets = { params: 500_000 };
    const result = await runSearch({ space, strategy: new RandomSearch(space, initial, createRng(1)), evaluator, processor, initial, loss: { ...loss, budgets }, stop: { maxEvaluations: 50 } });
    const rejected = result.trials.filter((t) => t.status === 'rejected');
    assert.ok(rejected.length > 0);
    assert.ok(rejected.every((t) => t.cost.params > 500_000 && !evaluator.calls.includes(t.key)));
    assert.ok(result.best.cost.params <= 500_000);
  });

  it('with λ = 0 the best is the most accurate architecture found; with a large λ, a cheaper one', async () => {
    const run = async (lambda: number) =>
      (await runSearch({ space, strategy: new Evolution(space, initial, createRng(4)), evaluator: table, processor, initial, loss: { ...loss, lambdaTime: lambda, lambdaEnergy: lambda }, stop: { maxEvaluations: 400 } })).best;
    const accurate = await run(0);
    const cheap = await run(5);
    assert.ok((accurate.error as number) <= (cheap.error as number));
    assert.ok(cheap.cost.dramTimeS < accurate.cost.dramTimeS);
  });

  it('needs a stop condition', async () => {
    await assert.rejects(
      runSearch({ space, strategy: new RandomSearch(space, initial, createRng(1)), evaluator: table, processor, initial, loss, stop: {} }),
      /at least one stop condition/,
    );
  });
});

describe('search v2: the defects of the first search', () => {
  const loss = { ...DEFAULT_LOSS, lambdaTime: 0.1, lambdaEnergy: 0.1 };

  it('tells every strategy the initial trial instead of proposing it: patience 1 still searches', async () => {
    for (const strategy of [new LocalSearch(space, initial, createRng(1)), new Evolution(space, initial, createRng(1)), new RandomSearch(space, initial, createRng(1))]) {
      const evaluator = new CountingEvaluator();
      const result = await runSearch({ space, strategy, evaluator, processor, initial, loss, stop: { patience: 1 } });
      assert.ok(result.evaluations > 1, `${strategy.name}: ${result.evaluations} evaluations`);
      assert.equal(evaluator.calls.filter((k) => k === '333333').length, 1, `${strategy.name} evaluated the initial once`);
      assert.ok(result.iterations >= 1, strategy.name);
    }
  });

  it('local search restarts only where no unseen neighbour is left', async () => {
    const strategy = new LocalSearch(space, initial, createRng(3), { restartMoves: 3 });
    const result = await runSearch({ space, strategy, evaluator: table, processor, initial, loss, stop: { maxEvaluations: 300 } });
    const seen = new Set(result.trials.map((t) => t.key));
    assert.ok(strategy.localOptima.length >= 2, `${strategy.localOptima.length} restarts`);
    for (const optimum of strategy.localOptima) {
      const unseen = space.neighbours(space.fromDigits(optimum)).filter((a) => !seen.has(space.key(a)));
      assert.deepEqual(unseen.map((a) => space.key(a)), [], `restarted at ${optimum} with neighbours unseen`);
    }
  });

  it("the mobile space keeps each block's activation, dilation and residual: an h-swish network and its ReLU twin differ", () => {
    const make = (act: string) =>
      parseArchitecture({ name: 'm', input: '32x32x3', classes: 10, stem: ['cn_k3_c16'], stages: [[`ir_r2_k3_s2_e6_c24_n${act}`], [`ir_k5_s2_e3_c40_d2_noskip_n${act}`]], head: ['gap', 'fc'] });
    const [hswish, relu] = [make('hs'), make('re')];
    const mobile = new MobileSpace(hswish);
    assert.notEqual(mobile.key(hswish), mobile.key(relu));
    for (const a of [...mobile.neighbours(hswish), mobile.sample(createRng(4))]) {
      for (const entry of a.stages.flat()) {
        assert.ok(entry.kind === 'block' && entry.args.act === 'hswish', mobile.key(a));
      }
      const second = a.stages[1]![0]!;
      assert.ok(second.kind === 'block' && second.args.dilation === 2 && !second.args.skip, mobile.key(a));
    }
  });
});

describe('the asynchronous loop: every worker busy, and a resume replays the landing order', () => {
  const plainLoss = { ...DEFAULT_LOSS, lambdaTime: 0.1, lambdaEnergy: 0.1 };
  const loss = plainLoss;
  /** Answers from the table after a delay that depends on the key; records how many run at once. */
  class DelayedEvaluator implements Evaluator {
    inFlight = 0;
    maxInFlight = 0;
    calls: string[] = [];
    /** delay: milliseconds, or a promise that ends the evaluation; onDone is called as each timed one ends. */
    constructor(
      private readonly delay: (key: string) => number | Promise<void>,
      private readonly onDone: () => void = () => undefined,
    ) {}
    async evaluate(a: Architecture): Promise<{ error: number }> {
      const key = space.key(a);
      this.calls.push(key);
      this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
      const ms = this.delay(key);
      if (typeof ms !== 'number') await ms;
      // 0: done within the same turn of the event loop (no timer), as fast as an evaluation can be.
      else await (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());
      this.inFlight--;
      if (typeof ms === 'number') this.onDone();
      return table.evaluate(a);
    }
  }
  const hashDelay = (salt: number) => (key: string) => ([...key].reduce((h, d) => (h * 31 + Number(d) + salt) % 997, 7) % 20) + 1;

  it('a slow candidate does not idle the other workers, and the search stops at maxEvaluations exactly', async () => {
    const slow = space.key(space.neighbours(initial)[0] as Architecture);
    const evaluator = new DelayedEvaluator((key) => (key === slow ? 400 : 2));
    const strategy = new RandomSearch(space, initial, createRng(1));
    // Random search proposes the slow one only by chance: make it the first proposal instead.
    let first = true;
    const wrapped: Strategy = {
      name: 'random',
      propose: (slots) => (first ? ((first = false), [space.fromDigits(slow), ...strategy.propose(slots - 1)]) : strategy.propose(slots)),
      observe: () => undefined,
    };
    const result = await runSearch({ space, strategy: wrapped, evaluator, processor, initial, loss, stop: { maxEvaluations: 40 }, concurrency: 3 });
    assert.equal(result.evaluations, 40, 'no evaluation past the limit');
    assert.equal(evaluator.calls.length, 40);
    assert.equal(evaluator.maxInFlight, 3);
    const slowTrial = result.trials.find((t) => t.key === slow);
    assert.ok(slowTrial && slowTrial.index > 20, `the slow candidate landed as trial ${slowTrial?.index}: the others went on meanwhile`);
    assert.deepEqual(result.trials.map((t) => t.index), Array.from({ length: 40 }, (_, i) => i), 'trials are numbered as they land');
  });

  // Pruned: heavy DRAM weights, so that hopeless candidates land at once, untrained, among the
  // others (whatever the timings: 3 to 25 of the first 35 over a dozen random delay patterns).
  const heavy = { ...DEFAULT_LOSS, lambdaTime: 1, lambdaEnergy: 1 };
  for (const [name, make, loss, prune] of [
    ['local', (seed: number) => new LocalSearch(space, initial, createRng(seed)), plainLoss, false],
    ['evolution', (seed: number) => new Evolution(space, initial, createRng(seed)), plainLoss, false],
    ['local, pruned', (seed: number) => new LocalSearch(space, initial, createRng(seed)), heavy, true],
    ['evolution, pruned', (seed: number) => new Evolution(space, initial, createRng(seed)), heavy, true],
  ] as Array<[string, (seed: number) => Strategy, LossConfig, boolean]>) {
    it(`${name}: resumed with other timings, replays the stored trials in their landing order and evaluates none again`, async () => {
      /** What the strategy is asked and told, in order, up to its `upTo`-th trial told. */
      const recorded = (strategy: Strategy, upTo: number): { strategy: Strategy; events: string[] } => {
        const events: string[] = [];
        let told = 0;
        const note = (event: string): void => {
          if (told < upTo) events.push(event);
        };
        return {
          events,
          strategy: {
            name: strategy.name,
            propose: (slots) => (note(`propose ${slots}`), strategy.propose(slots)),
            observe: (trials) => {
              for (const t of trials) note(`observe ${t.key}`), (told += 1);
              strategy.observe(trials);
            },
          },
        };
      };
      const original = recorded(make(3), 35);
      const whole = await runSearch({ space, strategy: original.strategy, evaluator: new DelayedEvaluator(hashDelay(1)), processor, initial, loss, stop: { maxEvaluations: 60 }, concurrency: 4, prune });
      const stored = whole.trials.slice(0, 35);
      if (prune) assert.ok(stored.some((t) => t.status === 'rejected'), 'pruned trials among the stored ones');
      // Other timings: here what was in flight at the cut finishes at once, before any stored one could.
      const evaluator = new DelayedEvaluator(() => 0);
      const replayed: boolean[] = [];
      const again = recorded(make(3), 35);
      const resumed = await runSearch({
        space, strategy: again.strategy, evaluator, processor, initial, loss, stop: { maxEvaluations: 60 }, concurrency: 4, prior: stored, prune,
        onTrial: (_t, _b, r) => replayed.push(r),
      });
      // The strategy is asked and told exactly as before the cut (a rejected trial, too, is told before the next question).
      assert.deepEqual(again.events, original.events);
      assert.deepEqual(resumed.trials.slice(0, 35).map((t) => t.key), stored.map((t) => t.key));
      assert.deepEqual(replayed.slice(0, 35), Array(35).fill(true));
      const storedKeys = new Set(stored.map((t) => t.key));
      assert.deepEqual(evaluator.calls.filter((k) => storedKeys.has(k)), [], 'no stored trial evaluated again');
      assert.equal(resumed.evaluations, 60);
    });
  }

  for (const [name, make] of [
    ['local', (seed: number) => new LocalSearch(space, initial, createRng(seed))],
    ['evolution', (seed: number) => new Evolution(space, initial, createRng(seed))],
    ['random', (seed: number) => new RandomSearch(space, initial, createRng(seed))],
    ['bayesian', (seed: number) => new BayesianSearch(space, initial, createRng(seed))],
  ] as Array<[string, (seed: number) => Strategy]>) {
    it(`${name}: the initial architecture trains first, and the other workers do not wait for it`, async () => {
      const initialKey = space.key(initial);
      // The initial lands only once 7 others have ended (or after 20 s, which fails below):
      // counted, not timed, since a bayesian proposal takes long on a busy machine.
      let othersLanded = 0;
      let release: () => void = () => undefined;
      const initialLanded = new Promise<void>((resolve) => {
        release = resolve;
        setTimeout(resolve, 20_000).unref();
      });
      const evaluator = new DelayedEvaluator((key) => (key === initialKey ? initialLanded : 2), () => {
        if (++othersLanded >= 7) release();
      });
      const result = await runSearch({ space, strategy: make(2), evaluator, processor, initial, loss, stop: { maxEvaluations: 25 }, concurrency: 3 });
      assert.equal(evaluator.calls[0], initialKey, 'the initial is launched first');
      assert.equal(evaluator.maxInFlight, 3);
      const landed = result.trials.findIndex((t) => t.key === initialKey);
      assert.ok(landed > 5, `the initial landed as trial ${landed}, after others that started beside it`);
      assert.equal(result.initial.key, initialKey);
      if (name === 'local') {
        // Its neighbours meanwhile; then the walk goes on from the lowest of them and the initial.
        const neighbours = new Set(space.neighbours(initial).map((a) => space.key(a)));
        for (const t of result.trials.slice(0, landed)) assert.ok(neighbours.has(t.key), `${t.key} is a neighbour of the initial`);
        const lowest = result.trials.slice(0, landed + 1).reduce((a, b) => (b.loss < a.loss ? b : a));
        const next = result.trials.slice(landed + 1).find((t) => !neighbours.has(t.key) || t.key === lowest.key);
        const around = new Set(space.neighbours(lowest.architecture).map((a) => space.key(a)));
        if (next) assert.ok(around.has(next.key) || neighbours.has(next.key), `after the initial, the walk goes on around ${lowest.key}, not elsewhere (${next.key})`);
      }
    });
  }

  it('with a time budget, starts no evaluation that would land after it', async () => {
    const evaluator = new DelayedEvaluator(() => 600);
    const result = await runSearch({ space, strategy: new RandomSearch(space, initial, createRng(1)), evaluator, processor, initial, loss, stop: { timeBudgetS: 1 }, concurrency: 2 });
    // Two start at once and land at about 0.6 s; two more would land at about 1.2 s: not started.
    assert.equal(evaluator.calls.length, 2);
    assert.equal(result.evaluations, 2);
    assert.equal(result.stoppedBecause, 'time budget of 1 s');
  });

  it('local search keeps every worker busy while neighbours are left', async () => {
    const evaluator = new DelayedEvaluator(hashDelay(5));
    await runSearch({ space, strategy: new LocalSearch(space, initial, createRng(4)), evaluator, processor, initial, loss, stop: { maxEvaluations: 30 }, concurrency: 4 });
    assert.equal(evaluator.maxInFlight, 4);
  });
});

describe('the nested strategy: macro structure outside, composite operations inside', () => {
  const loss = { ...DEFAULT_LOSS, lambdaTime: 0.1, lambdaEnergy: 0.1 };
  const start = parseArchitecture({ name: 'n', input: '16x16x3', classes: 4, stem: ['cn_k3_c8'], stages: [['ir_k3_s2_e3_c16'], ['ir_r2_k3_s2_e3_c24']], head: ['gap', 'fc'] });
  const mobile = new MobileSpace(start);
  /** An error that depends on every choice, deterministically (a hash of the key). */
  const hashed: Evaluator = {
    evaluate: async (a) => ({ error: 0.1 + ([...mobile.key(a)].reduce((h, c) => (h * 33 + c.charCodeAt(0)) % 100_003, 5381) % 1000) / 4000 }),
  };

  it('searches one macro structure at a time until its inner termination, and moves the macro one stage at a time', async () => {
    const strategy = new NestedSearch(mobile, createRng(3), { innerPatience: 4, restartMoves: 2 });
    const result = await runSearch({ space: mobile, strategy, evaluator: hashed, processor, initial: start, loss, stop: { maxEvaluations: 150 } });
    // Runs of trials of one macro structure, in order (one worker: they do not interleave).
    const runs: Trial[][] = [];
    for (const t of result.trials) {
      const last = runs[runs.length - 1];
      if (last && mobile.macroKey(last[0]!.architecture) === mobile.macroKey(t.architecture)) last.push(t);
      else runs.push([t]);
    }
    assert.ok(runs.length >= 4, `${runs.length} macro structures searched`);
    // Inside a run only composite operations change: every trial is one micro move from an earlier one of its run.
    for (const run of runs) {
      for (const t of run.slice(1)) {
        assert.ok(run.some((u) => u.index < t.index && mobile.microNeighbours(u.architecture).some((n) => mobile.key(n) === t.key)), `${t.key} is a micro move within its macro structure`);
      }
    }
    // Each finished inner search ended on its termination: innerPatience trials without a lower loss (or nothing left).
    for (const run of runs.slice(0, -1)) {
      const bestAt = run.reduce((b, t, i) => (t.loss < (run[b] as Trial).loss ? i : b), 0);
      const exhausted = mobile.microNeighbours((run[bestAt] as Trial).architecture).every((n) => result.trials.some((t) => t.key === mobile.key(n)));
      assert.ok(run.length - 1 - bestAt === 4 || exhausted, `a run of ${run.length} ended ${run.length - 1 - bestAt} trials after its best`);
    }
    // The outer level moves from its point (the best so far of the macro structures) by one macro move, or restarts.
    let point = runs[0]![0]!;
    const restarts = strategy.localOptima.length;
    let jumps = 0;
    for (let r = 1; r < runs.length; r++) {
      const previous = runs[r - 1]!.reduce((b, t) => (t.loss < b.loss ? t : b));
      if (previous.loss < point.loss) point = previous;
      const first = runs[r]![0]!;
      if (!mobile.macroNeighbours(point.architecture).some((n) => mobile.macroKey(n) === mobile.macroKey(first.architecture))) jumps++;
    }
    assert.ok(jumps <= restarts, `${jumps} macro jumps, ${restarts} restarts`);
    assert.ok(result.best.loss < result.initial.loss);
  });

  it('keeps every worker busy within an inner search', async () => {
    let inFlight = 0;
    let most = 0;
    const slow: Evaluator = {
      evaluate: async (a) => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        return hashed.evaluate(a);
      },
    };
    const result = await runSearch({ space: mobile, strategy: new NestedSearch(mobile, createRng(1)), evaluator: slow, processor, initial: start, loss, stop: { maxEvaluations: 40 }, concurrency: 3 });
    assert.equal(result.evaluations, 40);
    assert.equal(most, 3);
  });
});
