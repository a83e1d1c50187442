/**
 * The cost model against a real processor: random architectures of the MobileNetV2 search space
 * (224x224, ImageNet head) are exported to ONNX and timed in onnxruntime-node on this machine
 * (one thread, median of runs); the script prints Spearman's rank correlation between the
 * measured latency and the cost model's latency on an edge-CPU profile, and, as peers in the
 * same run, the correlations that MACs, parameters and DRAM time alone reach.
 *
 *   node --import tsx bench/latency-correlation.ts [--count 30] [--runs 15] [--processor edge-cpu] [--seed 1]
 */
import { parseArgs } from 'node:util';
import { estimateCost } from '../src/cost/index.js';
import { createRng } from '../src/data/index.js';
import { initEngine } from '../src/engine/backend.js';
import { Network } from '../src/engine/network.js';
import { exportOnnx, measureOnnx, spearman } from '../src/export/index.js';
import { resolveProcessor } from '../src/processor/index.js';
import { MobileSpace, builtinArchitecture, lower } from '../src/space/index.js';
import type { Architecture } from '../src/space/index.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '30' }, runs: { type: 'string', default: '15' }, processor: { type: 'string', default: 'edge-cpu' }, seed: { type: 'string', default: '1' } } });
const processor = resolveProcessor(values.processor);
await initEngine('wasm');
const space = new MobileSpace(builtinArchitecture('mobilenet_v2') as Architecture);
const random = createRng(Number(values.seed));
const rows: Array<{ measured: number; predicted: number; macs: number; params: number; dram: number }> = [];
for (let i = 0; i < Number(values.count); i++) {
  const graph = lower(space.sample(random));
  const network = new Network(graph, { seed: i });
  const model = exportOnnx(graph, network.weights());
  network.dispose();
  const measured = await measureOnnx(model, { runs: Number(values.runs), warmup: 3, threads: 1 });
  const cost = estimateCost(graph, processor);
  rows.push({ measured: measured.medianS, predicted: cost.latencyS, macs: graph.macs, params: graph.params, dram: cost.dram.timeS });
  console.log(`${String(i + 1).padStart(3)}  measured ${(measured.medianS * 1e3).toFixed(2).padStart(7)} ms  predicted ${(cost.latencyS * 1e3).toFixed(2).padStart(7)} ms  ${(graph.macs / 1e6).toFixed(0).padStart(5)} M MACs  ${(graph.params / 1e6).toFixed(2)} M params`);
}
const measured = rows.map((r) => r.measured);
console.log(`\nSpearman rank correlation with the measured onnxruntime latency (${rows.length} architectures, ${processor.name} profile):`);
console.log(`  cost model latency  ${spearman(rows.map((r) => r.predicted), measured).toFixed(3)}`);
console.log(`  cost model DRAM time ${spearman(rows.map((r) => r.dram), measured).toFixed(3)}`);
console.log(`  MACs                ${spearman(rows.map((r) => r.macs), measured).toFixed(3)}`);
console.log(`  parameters          ${spearman(rows.map((r) => r.params), measured).toFixed(3)}`);
