/**
 * Calibration against this host: networks of a space are exported to ONNX and timed in
 * onnxruntime (one thread, medians); a profile is calibrated on a few of them and ranks the
 * others, never seen by the fit. Printed per space: Spearman and Kendall against the measured
 * latencies of the calibrated latency, the uncalibrated preset's, MACs' and params', and the
 * median absolute percentage error of the calibrated and the preset's latency.
 *
 *   node --import tsx bench/calibration.ts [--fit 10] [--held 50] [--runs 15] [--processor edge-cpu] [--spaces nb201,mobile] [--csv DIR]
 *
 * With --csv, the measurements are also written as calibration CSVs (one per space).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { calibrate } from '../src/calibrate/index.js';
import type { Measurement } from '../src/calibrate/index.js';
import { estimateCost } from '../src/cost/index.js';
import { createRng } from '../src/data/index.js';
import { initEngine } from '../src/engine/backend.js';
import { Network } from '../src/engine/network.js';
import { exportOnnx, kendall, measureOnnx, medianAbsolutePercentageError, spearman } from '../src/export/index.js';
import { resolveProcessor } from '../src/processor/index.js';
import { MobileSpace, Nb201Space, architectureToData, builtinArchitecture, lower } from '../src/space/index.js';
import type { Architecture } from '../src/space/index.js';

const { values } = parseArgs({
  options: {
    fit: { type: 'string', default: '10' },
    held: { type: 'string', default: '50' },
    runs: { type: 'string', default: '15' },
    processor: { type: 'string', default: 'edge-cpu' },
    spaces: { type: 'string', default: 'nb201,mobile' },
    seed: { type: 'string', default: '1' },
    csv: { type: 'string' },
  },
});
const fitCount = Number(values.fit);
const heldCount = Number(values.held);
const base = resolveProcessor(values.processor);
await initEngine('wasm');

const SPACES: Record<string, (random: () => number) => Architecture> = {
  nb201: (random) => new Nb201Space().sample(random),
  mobile: (random) => new MobileSpace(builtinArchitecture('mobilenet_v2') as Architecture).sample(random),
};

async function measure(architecture: Architecture, seed: number): Promise<number> {
  const graph = lower(architecture);
  const network = new Network(graph, { seed });
  const model = exportOnnx(graph, network.weights());
  network.dispose();
  return (await measureOnnx(model, { runs: Number(values.runs), warmup: 3, threads: 1 })).medianS;
}

const line = (label: string, predicted: number[], measured: number[], error?: number): string =>
  `  ${label.padEnd(22)} Spearman ${spearman(predicted, measured).toFixed(3)}  Kendall ${kendall(predicted, measured).toFixed(3)}${error === undefined ? '' : `  median error ${(100 * error).toFixed(1)}%`}`;

for (const space of values.spaces.split(',')) {
  const sample = SPACES[space];
  if (!sample) throw new Error(`unknown space ${space} (nb201, mobile)`);
  const random = createRng(Number(values.seed));
  const seen = new Set<string>();
  const rows: Measurement[] = [];
  while (rows.length < fitCount + heldCount) {
    const architecture = sample(random);
    const key = JSON.stringify(architectureToData(architecture));
    if (seen.has(key)) continue;
    seen.add(key);
    const latencyS = await measure(architecture, rows.length);
    rows.push({ line: rows.length + 2, name: `${space}-${rows.length}`, architecture, latencyS, batch: 1 });
    process.stderr.write(`\r${space}: measured ${rows.length}/${fitCount + heldCount}`);
  }
  process.stderr.write('\n');
  if (values.csv) {
    mkdirSync(values.csv, { recursive: true });
    for (const r of rows) writeFileSync(join(values.csv, `${r.name}.json`), `${JSON.stringify(architectureToData(r.architecture))}\n`);
    writeFileSync(join(values.csv, `${space}.csv`), `architecture,latency_ms\n${rows.map((r) => `${r.name}.json,${(r.latencyS * 1000).toFixed(4)}`).join('\n')}\n`);
  }
  const fitRows = rows.slice(0, fitCount);
  const held = rows.slice(fitCount);
  const t0 = performance.now();
  const result = calibrate(fitRows, base, `${fitCount} ${space} networks`);
  const fitS = (performance.now() - t0) / 1000;
  const measured = held.map((r) => r.latencyS);
  const calibrated = held.map((r) => estimateCost(lower(r.architecture), result.processor, { batch: r.batch }).latencyS);
  const preset = held.map((r) => estimateCost(lower(r.architecture), base, { batch: r.batch }).latencyS);
  const graphs = held.map((r) => lower(r.architecture));
  console.log(`\n${space}: calibrated ${base.name} on ${fitCount} networks (${fitS.toFixed(1)} s), ranked ${held.length} others (onnxruntime, 1 thread, median of ${values.runs} runs)`);
  for (const c of result.changes) console.log(`  ${c.name.padEnd(32)} ${String(c.before).padStart(12)} → ${String(c.after).padStart(12)}${c.fitted ? '' : '  (held)'}`);
  console.log(line('calibrated latency', calibrated, measured, medianAbsolutePercentageError(calibrated, measured)));
  console.log(line(`${base.name} latency`, preset, measured, medianAbsolutePercentageError(preset, measured)));
  console.log(line('MACs', graphs.map((g) => g.macs), measured));
  console.log(line('params', graphs.map((g) => g.params), measured));
}
