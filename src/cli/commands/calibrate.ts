import { makeFolder } from '../../files/index.js';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { CalibrationError, calibrate, hostNetworks, readMeasurements } from '../../calibrate/index.js';
import type { CalibrationResult, ParameterChange } from '../../calibrate/index.js';
import { formatSI, profileData, resolveProcessor } from '../../processor/index.js';
import { architectureToData } from '../../space/index.js';
import { positiveInt } from '../args.js';
import { measureMany, writeMeasurementsCsv, writeOutput } from '../measure-many.js';

interface CalibrateFlags {
  processor: string;
  measurements?: string;
  host?: boolean;
  out?: string;
  runs: number;
  threads: number;
  json?: boolean;
}

function formatValue(name: ParameterChange['name'], value: ParameterChange['before']): string {
  if (typeof value !== 'number') return String(value);
  if (name === 'dram.bandwidth') return formatSI(value, 'B/s');
  if (name === 'compute.peak') return formatSI(value, 'MAC/s');
  if (name === 'dram.latency' || name === 'compute.layerOverhead') return formatSI(value, 's');
  return value.toPrecision(3);
}

function printResult(result: CalibrationResult, base: string, source: string, out: string): void {
  const { fit } = result;
  console.log(`calibrated ${base} from ${source} (${result.rows.length} measurements): wrote ${out}`);
  const width = Math.max(...result.changes.map((c) => c.name.length));
  for (const c of result.changes) {
    console.log(`  ${c.name.padEnd(width)}  ${formatValue(c.name, c.before).padStart(14)} → ${formatValue(c.name, c.after).padEnd(14)}${c.fitted ? '' : ' (as it was)'}`);
  }
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  console.log(`  fit: Spearman ${fit.spearman.toFixed(3)}, Kendall ${fit.kendall.toFixed(3)}, median error ${pct(fit.mdape)}`);
  console.log(`  held out (${fit.heldOut.folds}): Spearman ${fit.heldOut.spearman.toFixed(3)}, Kendall ${fit.heldOut.kendall.toFixed(3)}, median error ${pct(fit.heldOut.mdape)}`);
  if (result.energy) console.log(`  energy (not fitted): Spearman ${result.energy.spearman.toFixed(3)}, median error ${pct(result.energy.mdape)}`);
  for (const w of result.warnings) console.log(`  note: ${w}`);
}

export function registerCalibrate(program: Command): void {
  program
    .command('calibrate')
    .description("Fit a processor profile's free parameters (DRAM bandwidth and latency, utilisation per kind of work, layer overhead, fusion, double buffering) to latencies measured on the device")
    .option('-p, --processor <preset|file>', 'the profile to start from', 'edge-cpu')
    .option('--measurements <file.csv>', 'measured latencies: a CSV with columns architecture, latency_ms (and optionally energy_mj, batch, input)')
    .option('--host', 'measure a fixed set of networks on this machine through onnxruntime, then calibrate to them')
    .option('-o, --out <file>', 'the calibrated profile to write (default <processor>-calibrated.yaml beside the CSV; host.yaml with --host)')
    .option('--runs <n>', 'with --host: timed runs per network', positiveInt, 15)
    .option('--threads <n>', 'with --host: onnxruntime intra-op threads', positiveInt, 1)
    .option('--json', 'print one JSON object')
    .action(async (flags: CalibrateFlags) => {
      if (Boolean(flags.measurements) === Boolean(flags.host)) throw new CalibrationError('calibrate: give --measurements <file.csv> or --host (one of them)');
      const base = resolveProcessor(flags.processor);
      let csv = flags.measurements;
      let out = flags.out;
      if (flags.host) {
        out ??= 'host.yaml';
        csv = join(dirname(out), `${basename(out).replace(/\.(ya?ml|json)$/, '')}-measurements.csv`);
        // Each network as a file beside the CSV, so that the CSV can be calibrated from again.
        const folder = join(dirname(out), `${basename(out).replace(/\.(ya?ml|json)$/, '')}-networks`);
        makeFolder(folder);
        const networks = hostNetworks().map((n) => {
          const file = join(folder, `${n.name}.json`);
          writeOutput(file, `${JSON.stringify(architectureToData(n.architecture), null, 2)}\n`, 'network');
          return { ...n, file };
        });
        const rows = await measureMany(networks, { runs: flags.runs, warmup: 3, batch: 1, threads: flags.threads, csv }, (done, row) => {
          if (!flags.json) process.stderr.write(`measured ${done}/${networks.length}: ${row.name} ${formatSI(row.latencyS, 's')}\n`);
        });
        writeMeasurementsCsv(csv, rows);
      }
      const source = csv as string;
      const measurements = readMeasurements(source);
      out ??= join(dirname(source), `${base.name}-calibrated.yaml`);
      const result = calibrate(measurements, base, source);
      const processor = { ...result.processor, name: flags.host ? 'host' : `${base.name}-calibrated`, description: `${base.description || base.name}, calibrated from ${source}` };
      writeOutput(out, `# procnas calibrate: ${processor.description}\n${stringify(profileData(processor))}`, 'calibrated profile');
      if (flags.json) {
        console.log(JSON.stringify({ out, processor: processor.name, measurements: measurements.length, changes: result.changes, fit: result.fit, energy: result.energy ?? null, warnings: result.warnings }, null, 2));
        return;
      }
      printResult(result, base.name, source, out);
    });
}
