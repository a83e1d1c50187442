/**
 * Strategies compared on NAS-Bench-201 (CIFAR-10 test accuracy from the table), with the real
 * processor-related loss on a processor preset. The table is small enough to score every
 * architecture, so the architecture of lowest loss is known; each strategy then runs from the
 * same initial architecture under many seeds, and the script prints per strategy the median
 * number of evaluations needed to reach that architecture and the median regret (loss above the
 * optimum) after 100, 300 and 1000 evaluations.
 *
 *   node --import tsx bench/search-nb201.ts [--table ../shared/data/nb201/accuracy.json]
 *        [--processor mobile-npu] [--lambda-time 0.1] [--lambda-energy 0.1] [--seeds 31] [--cap 3000]
 */
import { parseArgs } from 'node:util';
import { estimateCost } from '../src/cost/index.js';
import { createRng } from '../src/data/index.js';
import { resolveProcessor } from '../src/processor/index.js';
import { DEFAULT_LOSS, Evolution, LocalSearch, Nb201TableEvaluator, RandomSearch, costFigures, processorLoss, referenceOf, runSearch } from '../src/search/index.js';
import type { LossConfig, Strategy, Trial } from '../src/search/index.js';
import { NB201_OPS, Nb201Space, lower } from '../src/space/index.js';
import type { Architecture, Random } from '../src/space/index.js';

const { values } = parseArgs({
  options: {
    table: { type: 'string', default: new URL('../../shared/data/nb201/accuracy.json', import.meta.url).pathname },
    processor: { type: 'string', default: 'mobile-npu' },
    'lambda-time': { type: 'string', default: '0.1' },
    'lambda-energy': { type: 'string', default: '0.1' },
    seeds: { type: 'string', default: '31' },
    cap: { type: 'string', default: '3000' },
  },
});
const processor = resolveProcessor(values.processor);
const loss: LossConfig = { ...DEFAULT_LOSS, lambdaTime: Number(values['lambda-time']), lambdaEnergy: Number(values['lambda-energy']) };
const seeds = Number(values.seeds);
const cap = Number(values.cap);

const space = new Nb201Space('cifar10');
const evaluator = new Nb201TableEvaluator(space, values.table);
// Start from the largest cell (all 3x3 convolutions), the usual "strong but costly" seed.
const initial = space.fromDigits('333333');
const reference = referenceOf(costFigures(estimateCost(lower(initial), processor)));

let t0 = performance.now();
let optimum = { key: '', loss: Number.POSITIVE_INFINITY };
const digits = (i: number): string => Array.from({ length: 6 }, (_, e) => Math.floor(i / NB201_OPS.length ** (5 - e)) % NB201_OPS.length).join('');
for (let i = 0; i < NB201_OPS.length ** 6; i++) {
  const a = space.fromDigits(digits(i));
  const l = processorLoss(evaluator.errorOf(a), costFigures(estimateCost(lower(a), processor)), reference, loss);
  if (l < optimum.loss) optimum = { key: space.key(a), loss: l };
}
console.log(`NAS-Bench-201 CIFAR-10, ${processor.name}, loss = error + ${loss.lambdaTime}·T/T0 + ${loss.lambdaEnergy}·E/E0 (T0, E0: cell 333333)`);
console.log(`exhaustive: ${evaluator.size} architectures scored in ${((performance.now() - t0) / 1000).toFixed(1)} s; optimum ${optimum.key} loss ${optimum.loss.toFixed(5)}`);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const strategies: Record<string, (random: Random) => Strategy> = {
  local: (r) => new LocalSearch(space, initial, r),
  evolution: (r) => new Evolution(space, initial, r),
  random: (r) => new RandomSearch(space, initial, r),
};

console.log(`\n${seeds} seeds per strategy, at most ${cap} evaluations each`);
console.log('strategy'.padEnd(10), 'reached'.padStart(8), 'median evals to optimum'.padStart(24), 'regret@100'.padStart(11), 'regret@300'.padStart(11), 'regret@1000'.padStart(12), 'time'.padStart(7));
for (const [name, make] of Object.entries(strategies)) {
  t0 = performance.now();
  const evalsToOptimum: number[] = [];
  const regrets: Record<number, number[]> = { 100: [], 300: [], 1000: [] };
  for (let seed = 1; seed <= seeds; seed++) {
    const result = await runSearch({ space, strategy: make(createRng(seed)), evaluator, processor, initial: initial as Architecture, loss, stop: { maxEvaluations: cap, targetLoss: optimum.loss } });
    const hit = result.trials.findIndex((t: Trial) => t.key === optimum.key);
    evalsToOptimum.push(hit >= 0 ? hit + 1 : Number.POSITIVE_INFINITY);
    for (const k of [100, 300, 1000]) {
      const best = Math.min(...result.trials.slice(0, k).map((t) => t.loss));
      (regrets[k] as number[]).push(best - optimum.loss);
    }
  }
  const reached = evalsToOptimum.filter(Number.isFinite).length;
  const m = median(evalsToOptimum);
  console.log(
    name.padEnd(10),
    `${reached}/${seeds}`.padStart(8),
    (Number.isFinite(m) ? m.toFixed(0) : `>${cap}`).padStart(24),
    ...[100, 300, 1000].map((k) => median(regrets[k] as number[]).toFixed(5).padStart(k === 1000 ? 12 : 11)),
    `${((performance.now() - t0) / 1000).toFixed(0)} s`.padStart(7),
  );
}
