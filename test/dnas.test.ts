import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { estimateCost } from '../src/cost/index.js';
import { createRng, loadDataset, prepareSplits } from '../src/data/index.js';
import type { Splits } from '../src/data/index.js';
import { initEngine } from '../src/engine/backend.js';
import { ConfigError, parseSearchConfig } from '../src/experiment/config.js';
import { runExperiment } from '../src/experiment/run.js';
import { ExperimentStore } from '../src/experiment/store.js';
import { Supernet } from '../src/engine/supernet.js';
import { resolveProcessor } from '../src/processor/index.js';
import { DnasStrategy, ExpectedCost, costFigures, probabilities, referenceOf } from '../src/search/index.js';
import type { SupernetEpoch } from '../src/search/index.js';
import type { Path } from '../src/space/index.js';
import { ArchitectureError, SupernetSpace, lower, notationOf, parseArchitecture } from '../src/space/index.js';
import { writeHalvesIdx } from './fixtures.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TINY_DATA = {
  name: 'tiny',
  input: '8x8x1',
  classes: 2,
  stem: ['cn_k3_c8'],
  stages: [['ir_k3_s2_e3_c8'], ['ir_k3_s1_e3_c16']],
  head: ['gap', 'fc'],
};
const TINY = parseArchitecture(TINY_DATA);
const TINY_OPTIONS = { kernels: [3, 5], expansions: [1, 3], se: [0], depth: { max: 2 } };
/** The supernet's weight step size, held constant. */
const CONSTANT_LR = { learningRate: 0.05, learningRateFloor: 0.05, annealSteps: 1 };

/** Every path of a supernet space. */
function allPaths(space: SupernetSpace): Path[] {
  return space.slots.reduce<Path[]>((paths, slot) => paths.flatMap((p) => slot.choices.map((_, c) => [...p, c])), [[]]);
}

function randomPath(space: SupernetSpace, rng: () => number): Path {
  return space.slots.map((s) => Math.floor(rng() * s.choices.length));
}

describe('supernet space', () => {
  const space = new SupernetSpace(TINY, TINY_OPTIONS);

  it('has a slot per block position; a stage\'s first slot keeps the stride and cannot be skipped', () => {
    assert.equal(space.slots.length, 4);
    assert.deepEqual(space.slots.map((s) => s.choices.length), [8, 9, 8, 9]);
    assert.equal(space.slots[0]?.choices.includes('skip'), false);
    assert.equal(space.slots[1]?.choices.at(-1), 'skip');
    const first = space.slots[0]?.choices[0];
    assert.ok(first !== 'skip' && first?.stride === 2 && first.out === 8);
    assert.deepEqual(space.slots[1]?.input, { h: 4, w: 4, c: 8 });
  });

  it('a path is an architecture; its pieces hold exactly the derived network\'s parameters', () => {
    const rng = createRng(5);
    for (let i = 0; i < 10; i++) {
      const path = randomPath(space, rng);
      const graph = lower(space.architecture(path));
      const pieces = [space.stemGraph(), space.headGraph(), ...path.map((c, s) => space.choiceGraph(s, c))];
      assert.equal(pieces.reduce((n, g) => n + (g?.params ?? 0), 0), graph.params);
      assert.equal(pieces.reduce((n, g) => n + (g?.macs ?? 0), 0), graph.macs);
      const blocks = path.filter((c, s) => space.slots[s]?.choices[c] !== 'skip').length;
      assert.equal(graph.composites.filter((c) => c.part === 'stage').length, blocks);
    }
  });

  it('rejects an initial architecture outside the mobile space, naming the stage', () => {
    const bad = parseArchitecture({ ...TINY_DATA, stages: [['ir_k3_s2_e3_c8', 'cn_k3_c8'], ['ir_k3_s1_e3_c16']] });
    assert.throws(() => new SupernetSpace(bad, TINY_OPTIONS), (e: Error) => e instanceof ArchitectureError && /stages\[0\].*ir, er and ds/.test(e.message));
  });

  it('rejects a path of the wrong length or with a choice out of range, naming the slots', () => {
    assert.throws(() => space.architecture([0, 0]), /one choice per slot \(4 slots\)/);
    assert.throws(() => space.architecture([0, 9, 0, 0]), /one choice per slot/);
  });
});

describe('expected DRAM cost', () => {
  const space = new SupernetSpace(TINY, TINY_OPTIONS);
  const oneHot = (path: Path, scale = 60): number[][] => space.slots.map((s, i) => s.choices.map((_, c) => (c === path[i] ? scale : 0)));

  it('equals the cost model at the centre, one slot away from it, and (additive fusion) at every path', () => {
    const rng = createRng(11);
    const greedy = new ExpectedCost(space, resolveProcessor('mobile-npu'));
    const centre = randomPath(space, rng);
    greedy.recentre(centre);
    const near = [...centre];
    near[2] = ((near[2] as number) + 3) % 8;
    for (const path of [centre, near]) {
      const expected = greedy.expected(probabilities(oneHot(path)));
      const exact = greedy.exact(path);
      assert.ok(Math.abs(expected.dramTimeS - exact.dramTimeS) <= 1e-9 * exact.dramTimeS, `${expected.dramTimeS} vs ${exact.dramTimeS}`);
      assert.ok(Math.abs(expected.dramEnergyJ - exact.dramEnergyJ) <= 1e-9 * exact.dramEnergyJ);
    }
    // Edge-CPU fuses inside composite ops only: the cost is a sum over blocks, the expectation exact everywhere.
    const additive = new ExpectedCost(space, resolveProcessor('edge-cpu'));
    additive.recentre(centre);
    for (let i = 0; i < 20; i++) {
      const path = randomPath(space, rng);
      const expected = additive.expected(probabilities(oneHot(path)));
      const exact = additive.exact(path);
      assert.ok(Math.abs(expected.dramTimeS - exact.dramTimeS) <= 1e-9 * exact.dramTimeS, `path ${path}: ${expected.dramTimeS} vs ${exact.dramTimeS}`);
    }
  });

  it('its gradient in α matches finite differences', () => {
    const cost = new ExpectedCost(space, resolveProcessor('mobile-npu'));
    cost.recentre([1, 4, 2, 8]);
    const rng = createRng(3);
    const alpha = space.slots.map((s) => s.choices.map(() => 2 * rng() - 1));
    const weights = { time: 1 / 2e-6, energy: 1 / 3e-6, power: 1 / 0.2 };
    const objective = (a: number[][]): number => {
      const e = cost.expected(probabilities(a));
      return weights.time * e.dramTimeS + weights.energy * e.dramEnergyJ + weights.power * e.dramPowerW;
    };
    const grad = cost.gradient(alpha, weights);
    const h = 1e-5;
    let checked = 0;
    alpha.forEach((row, s) =>
      row.forEach((_, j) => {
        const plus = alpha.map((r) => [...r]);
        const minus = alpha.map((r) => [...r]);
        (plus[s] as number[])[j] = (row[j] as number) + h;
        (minus[s] as number[])[j] = (row[j] as number) - h;
        const numeric = (objective(plus) - objective(minus)) / (2 * h);
        const analytic = grad[s]?.[j] as number;
        assert.ok(Math.abs(numeric - analytic) <= 1e-6 + 1e-5 * Math.abs(numeric), `slot ${s} choice ${j}: ${analytic} vs ${numeric}`);
        checked++;
      }),
    );
    assert.equal(checked, 34);
    assert.ok(grad.flat().some((g) => Math.abs(g) > 1e-3), 'the gradient is not trivially zero');
  });
});

describe('dnas on a small task', () => {
  let splits: Splits;
  before(async () => {
    await initEngine('wasm');
    const dir = mkdtempSync(join(tmpdir(), 'procnas-dnas-'));
    writeHalvesIdx(dir);
    splits = prepareSplits(loadDataset(`idx:${dir}`), { seed: 0, validation: 100 });
  });

  const processor = resolveProcessor('mobile-npu');
  const space = new SupernetSpace(TINY, TINY_OPTIONS);
  const reference = referenceOf(costFigures(estimateCost(lower(TINY), processor)));

  /** Runs `iterations` supernet epochs at one λ; the derived path. */
  async function derive(lambda: number, iterations: number): Promise<{ path: Path; strategy: DnasStrategy }> {
    const supernet = Supernet.fromSpace(space, splits, { batchSize: 32, ...CONSTANT_LR, optimizer: 'sgd', momentum: 0.9, weightDecay: 0, labelSmoothing: 0, seed: 1 });
    try {
      let path: Path = [];
      const strategy = new DnasStrategy(space, supernet, processor, createRng(2), {
        lambdaTime: lambda,
        lambdaEnergy: lambda,
        lambdaPower: 0,
        reference,
        archLearningRate: 0.1,
        warmupEpochs: 1,
        epochsPerIteration: 1,
        archEvery: 1,
        onEpoch: (e) => (path = e.path),
      });
      for (let i = 0; i < iterations; i++) await strategy.propose();
      await strategy.stop();
      return { path, strategy };
    } finally {
      supernet.dispose();
    }
  }

  it('a weight step trains the sampled path: its loss falls from chance to near zero', async () => {
    const supernet = Supernet.fromSpace(space, splits, { batchSize: 32, ...CONSTANT_LR, optimizer: 'sgd', momentum: 0.9, weightDecay: 0, labelSmoothing: 0, seed: 1 });
    try {
      const pieces = [space.stemGraph(), space.headGraph(), ...space.slots.flatMap((slot, s) => slot.choices.map((_, c) => space.choiceGraph(s, c)))];
      assert.equal(supernet.parameterCount(), pieces.reduce((n, g) => n + (g?.params ?? 0), 0));
      const path = [1, 8, 1, 8];
      const losses = Array.from({ length: 3 * supernet.stepsPerEpoch }, () => supernet.weightStep(path));
      assert.ok((losses[0] as number) > 0.5 && (losses.at(-1) as number) < 0.05, `training loss ${losses[0]} → ${losses.at(-1)}`);
      assert.equal(supernet.validationError(path), 0);
      const gates = supernet.gateGradients([1, 8, 1, 8], [2, 3, 1, 0]);
      assert.ok(Number.isFinite(gates.loss));
      assert.equal(gates.a.length, 4);
      assert.equal(gates.b[2], gates.a[2], 'a slot whose two samples agree has one gate value');
      assert.ok(gates.b.some((g, s) => s !== 2 && Math.abs(g) > 0), 'the other choices get a gate gradient');
    } finally {
      supernet.dispose();
    }
  });

  it('anneals the weights\' step size from weightLr to its floor along a cosine, then holds it', () => {
    const supernet = Supernet.fromSpace(space, splits, { batchSize: 32, learningRate: 0.1, learningRateFloor: 0.01, annealSteps: 4, optimizer: 'sgd', momentum: 0.9, weightDecay: 0, labelSmoothing: 0, seed: 1 });
    try {
      const rates = Array.from({ length: 6 }, () => {
        const rate = supernet.learningRate();
        supernet.weightStep([0, 0, 0, 0]);
        return rate;
      });
      const expected = [0.1, 0.01 + 0.045 * (1 + Math.SQRT1_2), 0.055, 0.01 + 0.045 * (1 - Math.SQRT1_2), 0.01, 0.01];
      rates.forEach((r, i) => assert.ok(Math.abs(r - (expected[i] as number)) < 1e-12, `step ${i}: ${r}, expected ${expected[i]}`));
    } finally {
      supernet.dispose();
    }
  });

  it('when time runs out, an epoch ends early and is logged; an iteration with no epoch logs nothing', async () => {
    const supernet = Supernet.fromSpace(space, splits, { batchSize: 32, ...CONSTANT_LR, optimizer: 'sgd', momentum: 0.9, weightDecay: 0, labelSmoothing: 0, seed: 1 });
    let steps = 0;
    const counting = {
      stepsPerEpoch: supernet.stepsPerEpoch,
      weightStep: (p: Path) => (steps++, supernet.weightStep(p)),
      gateGradients: (a: Path, b: Path) => supernet.gateGradients(a, b),
      validationError: (p: Path) => supernet.validationError(p),
    };
    const logged: SupernetEpoch[] = [];
    const strategy = new DnasStrategy(space, counting, processor, createRng(2), {
      lambdaTime: 0.1,
      lambdaEnergy: 0.1,
      lambdaPower: 0,
      reference,
      archLearningRate: 0.1,
      warmupEpochs: 1,
      epochsPerIteration: 1,
      archEvery: 5,
      // The warm-up epoch, then two steps of the first search epoch.
      timeUp: () => steps >= supernet.stepsPerEpoch + 2,
      onEpoch: (e) => logged.push(e),
    });
    try {
      const [first] = await strategy.propose();
      assert.equal(steps, supernet.stepsPerEpoch + 2);
      assert.equal(logged.length, 1);
      assert.ok(Number.isFinite(logged[0]?.trainLoss) && Number.isNaN(logged[0]?.validationLoss), 'two weight steps and no architecture step');
      const [second] = await strategy.propose();
      assert.equal(logged.length, 1, 'no epoch ran: nothing logged');
      assert.deepEqual(second, first);
      const store = new ExperimentStore(join(mkdtempSync(join(tmpdir(), 'procnas-dnas-')), 'x.sqlite'));
      store.addSupernetEpoch(logged[0] as SupernetEpoch);
      const [row] = store.supernetEpochs();
      store.close();
      assert.ok(row && Number.isNaN(row.validationLoss) && row.trainLoss === logged[0]?.trainLoss);
    } finally {
      await strategy.stop();
      supernet.dispose();
    }
  });

  it('with a large λ it derives the cheapest architecture of the space; over λ the DRAM cost does not increase', async () => {
    const cost = new ExpectedCost(space, processor);
    const combined = (path: Path): number => {
      const c = cost.exact(path);
      return c.dramTimeS / reference.dramTimeS + c.dramEnergyJ / reference.dramEnergyJ;
    };
    const minimum = Math.min(...allPaths(space).map(combined));
    const lambdas = [0, 0.05, 0.3, 50];
    const costs: number[] = [];
    for (const lambda of lambdas) costs.push(combined((await derive(lambda, 3)).path));
    for (let i = 1; i < costs.length; i++) assert.ok((costs[i] as number) <= (costs[i - 1] as number) + 1e-12, `DRAM cost over λ ${lambdas}: ${costs}`);
    assert.ok((costs.at(-1) as number) <= minimum * 1.0001, `λ=50 derived cost ${costs.at(-1)}, space minimum ${minimum}`);
    assert.ok((costs[0] as number) > minimum * 1.05, `λ=0 ignores cost: ${costs[0]} vs minimum ${minimum}`);
  });
});

describe('procnas search --strategy dnas', () => {
  it('logs each epoch\'s argmax with its expected and exact DRAM cost, and evaluates it like any candidate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-dnas-run-'));
    writeHalvesIdx(dir);
    const config = join(dir, 'search.yaml');
    writeFileSync(
      config,
      [
        `dataset: "idx:${dir}"`,
        'initial: { name: halves, input: 8x8x1, classes: 2, stem: [cn_k3_c8], stages: [[ir_k3_s2_e2_c8]], head: [gap, fc] }',
        'strategy: dnas',
        'dnas: { warmupEpochs: 1, archEvery: 1, archLr: 0.1 }',
        'space: { se: [0], depth: { max: 2 } }',
        'stop: { maxIterations: 2 }',
        'training: { epochs: 1, batch: 32, validation: 100, limit: 300 }',
        'final: { enabled: false }',
        'workers: 1',
        'backend: wasm',
      ].join('\n'),
    );
    const out = join(dir, 'run');
    const run = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'search', '--config', config, '--out', out], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /supernet epoch 1: argmax .*DRAM expected .* exact /);
    const store = new ExperimentStore(join(out, 'experiment.sqlite'));
    try {
      const epochs = store.supernetEpochs();
      const trials = store.trials();
      assert.deepEqual(epochs.map((e) => e.epoch), [0, 1]);
      for (const e of epochs) {
        const trial = trials.find((t) => notationOf(t.architecture) === e.notation);
        assert.ok(trial, `epoch ${e.epoch}'s argmax ${e.notation} is a stored trial`);
        assert.equal(trial.status, 'done');
        assert.ok(Math.abs(trial.cost.dramTimeS - e.exact.dramTimeS) <= 1e-12 * e.exact.dramTimeS);
        assert.ok(e.expected.dramTimeS > 0 && e.entropy >= 0 && e.supernetError >= 0 && e.supernetError <= 1);
      }
      // The initial architecture, then one argmax per epoch (an argmax seen before is not re-evaluated).
      assert.equal(trials.length, 1 + new Set(epochs.map((e) => e.notation)).size);
    } finally {
      store.close();
    }
    // Resumed, the supernet retrains deterministically to the same argmaxes: nothing is trained twice.
    const before = new ExperimentStore(join(out, 'experiment.sqlite'));
    const stored = before.trials().map((t) => `${t.key} ${t.error}`);
    const epochsBefore = before.supernetEpochs().map((e) => e.notation);
    before.close();
    const resumed = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'search', '--resume', out], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    const after = new ExperimentStore(join(out, 'experiment.sqlite'));
    try {
      assert.deepEqual(after.trials().map((t) => `${t.key} ${t.error}`), stored);
      assert.deepEqual(after.supernetEpochs().map((e) => e.notation), epochsBefore);
    } finally {
      after.close();
    }
  });

  it('refuses a table evaluator and the mnasnet loss, naming why', async () => {
    await assert.rejects(
      runExperiment(parseSearchConfig({ strategy: 'dnas', evaluator: { kind: 'nb201-table', table: 'x.json' } }), mkdtempSync(join(tmpdir(), 'procnas-dnas-')), false),
      (e: Error) => e instanceof ConfigError && /NAS-Bench-201|table/.test(e.message),
    );
    await assert.rejects(
      runExperiment(parseSearchConfig({ strategy: 'dnas', loss: { kind: 'mnasnet' }, stop: { maxIterations: 1 } }), mkdtempSync(join(tmpdir(), 'procnas-dnas-')), false),
      (e: Error) => e instanceof ConfigError && /mnasnet is not supported/.test(e.message),
    );
  });
});
