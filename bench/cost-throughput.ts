/**
 * How many full-network cost evaluations one core does per second, for MobileNetV2 and for
 * NAS-Bench-201 networks, on each processor preset. Medians over rounds (the machines are
 * noisy). Peer in the same run: PyTorch counting MobileNetV2's params and MACs with forward
 * hooks, as FLOP counters do (skipped with a message where python3-torch is absent).
 *
 *   npm run bench:cost [-- --seconds 0.5 --rounds 9]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { estimateCost } from '../src/cost/index.js';
import { presetNames, presetProcessor } from '../src/processor/index.js';
import type { Processor } from '../src/processor/index.js';
import { builtinArchitecture, lower } from '../src/space/index.js';
import type { Architecture } from '../src/space/index.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '0.5' }, rounds: { type: 'string', default: '9' } } });
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Median calls per second of `body` over the rounds. */
function rate(body: () => void): number {
  for (let i = 0; i < 200; i++) body();
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      for (let i = 0; i < 50; i++) body();
      n += 50;
    }
    rates.push(n / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

const NETWORKS = [
  'mobilenet_v2',
  // The densest NAS-Bench-201 cell (all 3x3 convs) and the CIFAR-10 best (index 6111's kind of mix).
  'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
  'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
];

console.log(`cost evaluations per second, one core, median of ${rounds} rounds of ${seconds} s`);
console.log('network'.padEnd(26), 'layers'.padStart(6), 'processor'.padEnd(16), 'evaluate/s'.padStart(11), 'lower+evaluate/s'.padStart(17));
const results = new Map<string, number>();
for (const name of NETWORKS) {
  const architecture = builtinArchitecture(name) as Architecture;
  const graph = lower(architecture);
  for (const preset of presetNames()) {
    const p = presetProcessor(preset) as Processor;
    const evaluate = rate(() => estimateCost(graph, p));
    const cold = rate(() => estimateCost(lower(architecture), p));
    results.set(`${name}|${preset}`, evaluate);
    const label = name.length > 24 ? `${name.slice(0, 23)}…` : name;
    console.log(label.padEnd(26), String(graph.layers.length).padStart(6), preset.padEnd(16), evaluate.toFixed(0).padStart(11), cold.toFixed(0).padStart(17));
  }
}

const python = '/usr/bin/python3';
const peerScript = fileURLToPath(new URL('./peer_macs.py', import.meta.url));
const peer = existsSync(python) ? spawnSync(python, [peerScript, String(seconds), String(rounds)], { encoding: 'utf8' }) : undefined;
if (!peer || peer.status !== 0) {
  console.log(`\npeer skipped: PyTorch is not available to ${python} (apt-get install python3-torch python3-torchvision)`);
  if (peer?.stderr) console.log(peer.stderr.trim().split('\n').slice(-1)[0]);
} else {
  const result = JSON.parse(peer.stdout) as { params: number; macs: number; countsPerSecond: number; torch: string };
  const ours = results.get('mobilenet_v2|mobile-npu') as number;
  const graph = lower(builtinArchitecture('mobilenet_v2') as Architecture);
  console.log(`\npeer: PyTorch ${result.torch} counts MobileNetV2 params + MACs by forward hooks: ${result.countsPerSecond.toFixed(1)}/s`);
  console.log(`  same counts: params ${result.params} vs ours ${graph.params}; conv+linear MACs ${result.macs} vs ours ${graph.macs}`);
  console.log(`  ratio: procnas full DRAM cost evaluation / PyTorch MAC count = ${(ours / result.countsPerSecond).toFixed(0)}x`);
}
