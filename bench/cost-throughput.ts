/**
 * How fast the cost model scores networks, one core, medians over rounds (machines are noisy):
 *
 * - evaluate: a lowered graph whose composite ops are memoised (the search re-costs the same
 *   blocks all the time);
 * - architecture → cost: the whole path a search pays per candidate (blocks looked up or
 *   lowered, then costed), warm;
 * - cold: the same with every memo forgotten before each call (every layer mapped again).
 *
 * Peer in the same run: PyTorch working out MobileNetV2's shapes and MACs on the meta device
 * (shapes only, no arithmetic), with and without building the model (bench/peer_shapes.py;
 * skipped with a message where python3-torch and python3-torchvision are absent).
 *
 * Then, over 300 random networks of the default search space (the main job's MNIST MBConv
 * space), Spearman correlations per preset: DRAM time vs DRAM energy (two distinct quantities?),
 * DRAM time vs params (is the cost model more than a parameter count?), and the same for a
 * training step at batch 32.
 *
 *   npm run bench:cost [-- --seconds 0.5 --rounds 9]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { estimateArchitectureCost, estimateCost, forgetCostMemos } from '../src/cost/index.js';
import type { CostOptions, CostReport } from '../src/cost/index.js';
import { createRng } from '../src/data/index.js';
import { DEFAULT_INITIAL } from '../src/experiment/config.js';
import { spearman } from '../src/export/index.js';
import { presetNames, presetProcessor, withProcessor } from '../src/processor/index.js';
import type { Processor } from '../src/processor/index.js';
import { MobileSpace, builtinArchitecture, lower, parseArchitecture } from '../src/space/index.js';
import type { Architecture } from '../src/space/index.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '0.5' }, rounds: { type: 'string', default: '9' }, networks: { type: 'string', default: '300' } } });
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Median calls per second of `body` over the rounds. */
function rate(body: () => void, batch = 50): number {
  for (let i = 0; i < Math.min(200, batch * 4); i++) body();
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      for (let i = 0; i < batch; i++) body();
      n += batch;
    }
    rates.push(n / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

const NETWORKS = [
  'mobilenet_v2',
  // The densest NAS-Bench-201 cell (all 3x3 convs) and a mixed one.
  'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
  'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
];

console.log(`cost evaluations per second, one core, median of ${rounds} rounds of ${seconds} s`);
console.log('network'.padEnd(26), 'layers'.padStart(6), 'processor'.padEnd(16), 'evaluate/s'.padStart(11), 'arch→cost/s'.padStart(12), 'cold/s'.padStart(8));
const results = new Map<string, { warm: number; cold: number }>();
for (const name of NETWORKS) {
  const architecture = builtinArchitecture(name) as Architecture;
  const graph = lower(architecture);
  for (const preset of presetNames()) {
    const p = presetProcessor(preset) as Processor;
    const evaluate = rate(() => estimateCost(graph, p));
    const warm = rate(() => estimateArchitectureCost(architecture, p));
    const cold = rate(() => {
      forgetCostMemos();
      estimateArchitectureCost(architecture, withProcessor(p, {}));
    }, 2);
    results.set(`${name}|${preset}`, { warm, cold });
    const label = name.length > 24 ? `${name.slice(0, 23)}…` : name;
    console.log(label.padEnd(26), String(graph.layers.length).padStart(6), preset.padEnd(16), evaluate.toFixed(0).padStart(11), warm.toFixed(0).padStart(12), cold.toFixed(1).padStart(8));
  }
}

const python = '/usr/bin/python3';
const peerScript = fileURLToPath(new URL('./peer_shapes.py', import.meta.url));
const peer = existsSync(python) ? spawnSync(python, [peerScript, String(seconds), String(rounds)], { encoding: 'utf8' }) : undefined;
if (!peer || peer.status !== 0) {
  console.log(`\npeer skipped: PyTorch is not available to ${python} (apt-get install python3-torch python3-torchvision)`);
  if (peer?.stderr) console.log(peer.stderr.trim().split('\n').slice(-1)[0]);
} else {
  const result = JSON.parse(peer.stdout) as { params: number; macs: number; propagatePerSecond: number; buildPropagatePerSecond: number; torch: string };
  const ours = results.get('mobilenet_v2|mobile-npu')!;
  const graph = lower(builtinArchitecture('mobilenet_v2') as Architecture);
  console.log(`\npeer: PyTorch ${result.torch}, MobileNetV2 shapes and MACs on the meta device: ${result.propagatePerSecond.toFixed(1)}/s propagating, ${result.buildPropagatePerSecond.toFixed(1)}/s building and propagating`);
  console.log(`  same counts: params ${result.params} vs ours ${graph.params}; conv+linear MACs ${result.macs} vs ours ${graph.macs}`);
  console.log(`  ratio, procnas architecture → full DRAM cost (mobile-npu) / PyTorch build+propagate: warm ${(ours.warm / result.buildPropagatePerSecond).toFixed(0)}x, cold ${(ours.cold / result.buildPropagatePerSecond).toFixed(2)}x`);
}

const count = Number(values.networks);
const space = new MobileSpace(parseArchitecture(DEFAULT_INITIAL));
const rng = createRng(7);
const sample = Array.from({ length: count }, () => space.sample(rng));
console.log(`\nSpearman correlations over ${count} random networks of the default search space (MNIST MBConv space)`);
console.log('processor'.padEnd(16), 'mode'.padEnd(22), 'ρ(time, energy)'.padStart(16), 'ρ(time, params)'.padStart(16), 'ρ(energy, params)'.padStart(18), 'ρ(power, params)'.padStart(17));
for (const preset of presetNames()) {
  const p = presetProcessor(preset) as Processor;
  for (const [label, options] of [['inference, batch 1', {}], ['training step, batch 32', { mode: 'training', batch: 32 }]] as Array<[string, CostOptions]>) {
    const reports: CostReport[] = sample.map((a) => estimateArchitectureCost(a, p, options));
    const time = reports.map((r) => r.dram.timeS);
    const energy = reports.map((r) => r.dram.energyJ);
    const power = reports.map((r) => r.dram.powerW);
    const params = reports.map((r) => r.params);
    console.log(
      preset.padEnd(16),
      label.padEnd(22),
      spearman(time, energy).toFixed(3).padStart(16),
      spearman(time, params).toFixed(3).padStart(16),
      spearman(energy, params).toFixed(3).padStart(18),
      spearman(power, params).toFixed(3).padStart(17),
    );
  }
}
