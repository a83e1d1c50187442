/**
 * Strategies compared on NAS-Bench-201 (CIFAR-10 test accuracy from the table), with the real
 * processor-related loss, over several settings: processor presets × (λ_time, λ_energy) pairs.
 * The table is small enough to score every architecture, so the architecture of lowest loss is
 * known in each setting; each strategy then runs from the same initial architecture under many
 * seeds, and the script prints per setting and strategy the median number of evaluations needed
 * to reach that architecture and to reach any of the ten best, its ratio to regularized
 * evolution's (the peer), the median regret (loss above the optimum) after 100, 300 and 1000
 * evaluations, and each seed's count. An evaluation is a training (a table look-up standing for
 * one): a `+prune` strategy rejects hopeless candidates untrained (their DRAM terms alone reach
 * the best loss), and those are not evaluations. The
 * peer, `evolution`, is regularized evolution as published: it trains every candidate.
 *
 *   node --import tsx bench/search-nb201.ts [--table ../shared/data/nb201/accuracy.json]
 *        [--processors mobile-npu,edge-cpu] [--lambdas 0.1/0.1,0.3/0,0/0.3] [--seeds 31] [--cap 3000]
 *        [--strategies local,evolution,random,bayesian,local+prune,evolution+prune]
 */
import { parseArgs } from 'node:util';
import { estimateCost } from '../src/cost/index.js';
import { createRng } from '../src/data/index.js';
import { resolveProcessor } from '../src/processor/index.js';
import { BayesianSearch, DEFAULT_LOSS, Evolution, LocalSearch, Nb201TableEvaluator, RandomSearch, costFigures, processorLoss, referenceOf, runSearch } from '../src/search/index.js';
import type { CostFigures, LossConfig, Strategy, Trial } from '../src/search/index.js';
import { NB201_OPS, Nb201Space, lower } from '../src/space/index.js';
import type { Random } from '../src/space/index.js';

const { values } = parseArgs({
  options: {
    table: { type: 'string', default: new URL('../../shared/data/nb201/accuracy.json', import.meta.url).pathname },
    processors: { type: 'string', default: 'mobile-npu,edge-cpu' },
    lambdas: { type: 'string', default: '0.1/0.1,0.3/0,0/0.3' },
    seeds: { type: 'string', default: '31' },
    cap: { type: 'string', default: '3000' },
    strategies: { type: 'string', default: 'local,evolution,random,bayesian,local+prune,evolution+prune' },
  },
});
const seeds = Number(values.seeds);
const cap = Number(values.cap);
const lambdas = values.lambdas.split(',').map((pair) => pair.split('/').map(Number) as [number, number]);

const space = new Nb201Space('cifar10');
const evaluator = new Nb201TableEvaluator(space, values.table);
// Start from the largest cell (all 3x3 convolutions), the usual "strong but costly" seed.
const initial = space.fromDigits('333333');
const digits = (i: number): string => Array.from({ length: 6 }, (_, e) => Math.floor(i / NB201_OPS.length ** (5 - e)) % NB201_OPS.length).join('');
const cells = Array.from({ length: NB201_OPS.length ** 6 }, (_, i) => space.fromDigits(digits(i)));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const strategies: Record<string, (random: Random) => Strategy> = {
  local: (r) => new LocalSearch(space, initial, r),
  evolution: (r) => new Evolution(space, initial, r),
  random: (r) => new RandomSearch(space, initial, r),
  bayesian: (r) => new BayesianSearch(space, initial, r),
};
const names = values.strategies.split(',').filter((n) => n.replace(/\+prune$/, '') in strategies);

console.log(`NAS-Bench-201 CIFAR-10 from cell 333333; loss = error + λ_time·T/T0 + λ_energy·E/E0 (T0, E0: cell 333333); ${seeds} seeds per strategy, at most ${cap} evaluations each`);
const summary: string[] = [];
for (const processorName of values.processors.split(',')) {
  const processor = resolveProcessor(processorName);
  let t0 = performance.now();
  // The cost model's figures of every cell, once per processor; each λ pair only re-weighs them.
  const figures = new Map<string, { error: number; cost: CostFigures }>(cells.map((a) => [space.key(a), { error: evaluator.errorOf(a), cost: costFigures(estimateCost(lower(a), processor)) }]));
  const reference = referenceOf((figures.get(space.key(initial)) as { cost: CostFigures }).cost);
  console.log(`\n${processor.name}: ${figures.size} cells costed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (const [lambdaTime, lambdaEnergy] of lambdas) {
    const loss: LossConfig = { ...DEFAULT_LOSS, lambdaTime, lambdaEnergy };
    const ranked = [...figures].map(([key, f]) => ({ key, loss: processorLoss(f.error, f.cost, reference, loss) })).sort((a, b) => a.loss - b.loss);
    const optimum = ranked[0] as { key: string; loss: number };
    // The last step to the optimum is a search among near-ties: how soon a strategy is among
    // the ten best cells tells the approach from that last step.
    const topTen = new Set(ranked.slice(0, 10).map((r) => r.key));
    console.log(`  λ_time ${lambdaTime}, λ_energy ${lambdaEnergy}: optimum ${optimum.key}, loss ${optimum.loss.toFixed(5)}`);
    console.log('  ' + ['strategy'.padEnd(16), 'reached'.padStart(8), 'median evals to optimum'.padStart(24), 'to top 10'.padStart(10), '× evolution'.padStart(12), 'regret@100'.padStart(11), 'regret@300'.padStart(11), 'regret@1000'.padStart(12), 'time'.padStart(7)].join(' '));
    const medians: Record<string, number> = {};
    const rows: Array<[string, string]> = [];
    const perSeed: string[] = [];
    for (const name of names) {
      t0 = performance.now();
      const evalsToOptimum: number[] = [];
      const evalsToTopTen: number[] = [];
      const regrets: Record<number, number[]> = { 100: [], 300: [], 1000: [] };
      for (let seed = 1; seed <= seeds; seed++) {
        const prune = name.endsWith('+prune');
        const make = strategies[name.replace(/\+prune$/, '')] as (r: Random) => Strategy;
        const result = await runSearch({ space, strategy: make(createRng(seed)), evaluator, processor, initial, loss, stop: { maxEvaluations: cap, targetLoss: optimum.loss }, prune });
        // Evaluations are trainings: a pruned candidate was rejected without one.
        const trained = result.trials.filter((t: Trial) => t.status !== 'rejected');
        const hit = trained.findIndex((t: Trial) => t.key === optimum.key);
        evalsToOptimum.push(hit >= 0 ? hit + 1 : Number.POSITIVE_INFINITY);
        const near = trained.findIndex((t: Trial) => topTen.has(t.key));
        evalsToTopTen.push(near >= 0 ? near + 1 : Number.POSITIVE_INFINITY);
        for (const k of [100, 300, 1000]) (regrets[k] as number[]).push(Math.min(...trained.slice(0, k).map((t) => t.loss)) - optimum.loss);
      }
      const reached = evalsToOptimum.filter(Number.isFinite).length;
      perSeed.push(`    ${name}, evaluations to the optimum by seed: ${evalsToOptimum.map((n) => (Number.isFinite(n) ? n : `>${cap}`)).join(' ')}`);
      medians[name] = median(evalsToOptimum);
      rows.push([name, [
        `${reached}/${seeds}`.padStart(8),
        (Number.isFinite(medians[name]) ? (medians[name] as number).toFixed(0) : `>${cap}`).padStart(24),
        (Number.isFinite(median(evalsToTopTen)) ? median(evalsToTopTen).toFixed(0) : `>${cap}`).padStart(10),
        '%RATIO%',
        ...[100, 300, 1000].map((k) => median(regrets[k] as number[]).toFixed(5).padStart(k === 1000 ? 12 : 11)),
        `${((performance.now() - t0) / 1000).toFixed(0)} s`.padStart(7),
      ].join(' ')]);
    }
    const peer = medians.evolution;
    for (const [name, row] of rows) {
      const m = medians[name] as number;
      const ratio = peer !== undefined && Number.isFinite(peer) && Number.isFinite(m) ? `${(m / peer).toFixed(2)}×` : '—';
      console.log(`  ${name.padEnd(16)} ${row.replace('%RATIO%', ratio.padStart(12))}`);
      summary.push(`| ${processor.name} | ${lambdaTime} / ${lambdaEnergy} | ${name} | ${Number.isFinite(m) ? m.toFixed(0) : `>${cap}`} | ${ratio} |`);
    }
    for (const line of perSeed) console.log(line);
  }
}
console.log('\n| processor | λ_time / λ_energy | strategy | median evaluations to the optimum | × evolution |\n|---|---|---|---|---|');
for (const line of summary) console.log(line);
