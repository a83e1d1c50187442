/**
 * Differentiable supernet search against the discrete strategies, each with the same wall-clock
 * budget and the same space, on a real task (MNIST by default) with the default initial
 * architecture, processor and loss of `procnas search`. The space is the one the supernet can
 * hold: the default choices (types, kernels, expansions, squeeze-excite, depth) with each
 * stage at the initial's width, for every strategy. Every architecture a strategy reports was
 * trained from scratch by the same evaluator, so the errors compare.
 *
 *   node --import tsx bench/dnas-vs-local.ts [--budget 10m] [--dataset mnist]
 *        [--strategies dnas,local] [--processor mobile-npu] [--seeds 0,1,2] [--out DIR]
 *
 * Prints, per strategy and seed: trials, the best architecture by loss and its error, DRAM
 * time, DRAM energy and loss, next to the initial architecture, and the process's peak
 * resident memory; then per strategy the median over seeds of the best's loss and error.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseSearchConfig } from '../src/experiment/config.js';
import { runExperiment } from '../src/experiment/run.js';
import { formatSI } from '../src/processor/index.js';
import type { Trial } from '../src/search/index.js';
import { notationOf } from '../src/space/index.js';

const { values } = parseArgs({
  options: {
    budget: { type: 'string', default: '10m' },
    dataset: { type: 'string', default: 'mnist' },
    strategies: { type: 'string', default: 'dnas,local' },
    processor: { type: 'string', default: 'mobile-npu' },
    seeds: { type: 'string', default: '0,1,2' },
    out: { type: 'string' },
  },
});
const root = values.out ?? mkdtempSync(join(tmpdir(), 'procnas-dnas-bench-'));

function row(label: string, t: Trial): string {
  const error = t.error === undefined ? '—' : `${(100 * t.error).toFixed(2)}%`;
  return `${label.padEnd(10)} ${error.padStart(7)} ${formatSI(t.cost.dramTimeS, 's').padStart(10)} ${formatSI(t.cost.dramEnergyJ, 'J').padStart(10)} ${t.loss.toFixed(4).padStart(7)}  ${notationOf(t.architecture)}`;
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const lines: string[] = [];
const bests = new Map<string, Trial[]>();
let initialRow = '';
const seeds = values.seeds.split(',').map(Number);
for (const seed of seeds) {
  for (const strategy of values.strategies.split(',')) {
    const config = parseSearchConfig({
      strategy,
      dataset: values.dataset,
      processor: values.processor,
      seed,
      // The supernet keeps each stage's width; so does every strategy here.
      space: { widthMultipliers: [1] },
      stop: { budget: values.budget },
      final: { enabled: false },
      // The search's own best by one training: confirmation would add trainings after the budget.
      confirm: { top: 0 },
    });
    let rssPeak = 0;
    const sample = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 500);
    const t0 = performance.now();
    const result = await runExperiment(config, join(root, `${strategy}-${seed}`), false, {
      onSupernetEpoch: (e) =>
        console.error(`  dnas seed ${seed} epoch ${e.epoch + 1}: ${notationOf(e.architecture)}, supernet error ${(100 * e.supernetError).toFixed(2)}%, entropy ${e.entropy.toFixed(2)}, expected DRAM ${formatSI(e.expected.dramTimeS, 's')}, exact ${formatSI(e.exact.dramTimeS, 's')}`),
      onTrial: (t, best) => console.error(`  ${strategy} seed ${seed} trial ${t.index}: loss ${t.loss.toFixed(4)} (best ${best.loss.toFixed(4)})`),
    });
    clearInterval(sample);
    const wallS = (performance.now() - t0) / 1000;
    initialRow = row('initial', result.search.initial);
    bests.set(strategy, [...(bests.get(strategy) ?? []), result.search.best]);
    lines.push(`${row(`${strategy} ${seed}`, result.search.best)}   [${result.search.evaluations} trials, ${wallS.toFixed(0)} s, process peak RSS ${(rssPeak / 2 ** 30).toFixed(2)} GiB]`);
  }
}
console.log(`${values.dataset}, ${values.processor}, budget ${values.budget} per strategy and seed, seeds ${seeds.join(', ')}, loss = error + 0.1·T/T0 + 0.1·E/E0 (one training step's DRAM cost)`);
console.log(`${'strategy'.padEnd(10)} ${'error'.padStart(7)} ${'DRAM time'.padStart(10)} ${'DRAM en.'.padStart(10)} ${'loss'.padStart(7)}  best architecture`);
console.log(initialRow);
for (const line of lines) console.log(line);
for (const [strategy, trials] of bests) {
  const errors = trials.map((t) => t.error ?? Number.NaN);
  console.log(`${strategy}: median best loss ${median(trials.map((t) => t.loss)).toFixed(4)} (${trials.map((t) => t.loss.toFixed(4)).join(', ')}), median error ${(100 * median(errors)).toFixed(2)}%`);
}
console.log(`runs in ${root}/`);
