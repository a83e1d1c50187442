import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../src/data/index.js';
import { presetProcessor } from '../src/processor/index.js';
import {
  DEFAULT_LOSS,
  Evolution,
  LocalSearch,
  Nb201TableEvaluator,
  RandomSearch,
  budgetViolations,
  dominates,
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
  params: 1000, macs: 2000, latencyS: 1e-3, energyJ: 2e-6, dramTimeS: 4e-4, dramEnergyJ: 1e-6, dramPowerW: 1e-3, dramBytes: 5000, ...over,
});

const trial = (error: number, dramTimeS: number, dramEnergyJ: number): Trial => ({
  index: 0, key: `${error}/${dramTimeS}/${dramEnergyJ}`, architecture: initial, status: 'done', error, loss: 0,
  cost: figures({ dramTimeS, dramEnergyJ }), evaluationS: 0,
});

/** Counts the evaluations it answers from the table, and fails on request. */
class CountingEvaluator implements Evaluator {
  calls: string[] = [];
  constructor(private readonly failOn: Set<string> = new Set()) {}
  async evaluate(a: Architecture): Promise<{ error: number }> {
    const key = space.key(a);
    this.calls.push(key);
    if (this.failOn.has(key)) throw new Error(`training diverged on ${key}`);
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
    const p = { iterations: 10, evaluations: 50, iterationsSinceImprovement: 4, elapsedS: 30, bestLoss: 0.2 };
    assert.equal(stopReason({ maxEvaluations: 60 }, p), undefined);
    assert.equal(stopReason({ maxEvaluations: 50 }, p), '50 evaluations');
    assert.equal(stopReason({ patience: 4 }, p), 'no improvement in 4 iterations');
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

  it('local search moves only to a neighbour that lowers the loss', async () => {
    const strategy = new LocalSearch(space, initial, createRng(2));
    const result = await runSearch({ space, strategy, evaluator: table, processor, initial, loss, stop: { maxIterations: 2 } });
    // The initial architecture is evaluated before any iteration; iteration 1 evaluates its 24
    // neighbours, 2 the new neighbours of the best of them: 24 less the initial and the 3 that
    // changed the same edge (seen).
    assert.equal(result.evaluations, 1 + 24 + 20);
    const firstRound = result.trials.slice(1, 25);
    const moved = firstRound.reduce((a, t) => (t.loss < a.loss ? t : a));
    assert.ok(moved.loss < result.initial.loss);
    const secondRound = result.trials.slice(25);
    for (const t of secondRound) assert.equal([...t.key].filter((d, i) => d !== moved.key[i]).length, 1);
  });

  it('marks a failed evaluation with its reason and goes on', async () => {
    const failing = new Set(space.neighbours(initial).slice(0, 3).map((a) => space.key(a)));
    const evaluator = new CountingEvaluator(failing);
    const result = await runSearch({ space, strategy: new LocalSearch(space, initial, createRng(1)), evaluator, processor, initial, loss, stop: { maxEvaluations: 40 } });
    const failed = result.trials.filter((t) => t.status === 'failed');
    assert.equal(failed.length, 3);
    assert.match(failed[0]?.reason ?? '', /training diverged/);
    assert.equal(failed[0]?.loss, Number.POSITIVE_INFINITY);
    assert.ok(result.evaluations >= 40);
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
    const strategy = new LocalSearch(space, initial, createRng(3), { neighbourhood: 8, restartMoves: 3 });
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
