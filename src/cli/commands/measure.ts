import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { estimateCost } from '../../cost/index.js';
import { ExportError, measureOnnx, onnxMetadata } from '../../export/index.js';
import { formatSI, resolveProcessor } from '../../processor/index.js';
import { lower, parseArchitecture, resolveArchitecture } from '../../space/index.js';
import type { Architecture } from '../../space/index.js';
import { positiveInt } from '../args.js';
import { ARCH_HELP } from './cost.js';
import { untrainedOnnx } from './export.js';
import { batchArchitectures, measureMany, writeMeasurementsCsv } from '../measure-many.js';

function readModel(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (error) {
    throw new ExportError(`${file}: cannot read the model: ${(error as Error).message}`);
  }
}

/** The architecture a procnas ONNX export carries (metadata `architecture`), if it carries one. */
function architectureInModel(model: Uint8Array, file: string): Architecture | undefined {
  const text = onnxMetadata(model).architecture;
  if (text === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ExportError(`${file}: the architecture in its metadata is not JSON: ${(error as Error).message}`);
  }
  return parseArchitecture(data, `${file} (metadata)`);
}

interface MeasureFlags {
  batchFile?: string;
  csv?: string;
  runs: number;
  warmup: number;
  batch: number;
  threads: number;
  processor: string;
  json?: boolean;
}

export function registerMeasure(program: Command): void {
  program
    .command('measure')
    .description('Median latency of a model on this machine with onnxruntime, next to the cost model\'s prediction')
    .argument('[arch|model.onnx]', `an ONNX file, or ${ARCH_HELP}`)
    .option('--batch-file <archs.txt|dir>', 'measure many architectures: a file listing one a line (relative to it), or a folder of .yaml/.json files')
    .option('--csv <out.csv>', 'with --batch-file: write the latencies as a calibration CSV (for procnas calibrate --measurements)')
    .option('--runs <n>', 'timed runs', positiveInt, 30)
    .option('--warmup <n>', 'untimed runs first', positiveInt, 5)
    .option('-b, --batch <n>', 'batch size', positiveInt, 1)
    .option('--threads <n>', 'onnxruntime intra-op threads', positiveInt, 1)
    .option('-p, --processor <preset|file>', 'processor whose predicted latency to show (for an architecture)', 'edge-cpu')
    .option('--json', 'print one JSON object')
    .action(async (ref: string | undefined, flags: MeasureFlags) => {
      if (flags.batchFile) {
        if (ref !== undefined) throw new ExportError('measure: give an architecture or --batch-file, not both');
        const architectures = batchArchitectures(flags.batchFile);
        const rows = await measureMany(architectures, { runs: flags.runs, warmup: flags.warmup, batch: flags.batch, threads: flags.threads, ...(flags.csv ? { csv: flags.csv } : {}) }, (done, row) => {
          if (!flags.json) console.log(`${String(done).padStart(4)}/${architectures.length}  ${formatSI(row.latencyS, 's').padStart(9)}  ${row.name}`);
        });
        if (flags.csv) writeMeasurementsCsv(flags.csv, rows);
        if (flags.json) console.log(JSON.stringify({ measurements: rows, csv: flags.csv ?? null }, null, 2));
        else if (flags.csv) console.log(`wrote ${flags.csv}`);
        return;
      }
      if (flags.csv) throw new ExportError('measure: --csv goes with --batch-file');
      if (ref === undefined) throw new ExportError('measure: give an architecture or an ONNX file, or --batch-file');
      const isOnnx = ref.endsWith('.onnx');
      const given = isOnnx ? undefined : resolveArchitecture(ref);
      const model = given ? await untrainedOnnx(given) : readModel(ref);
      const measured = await measureOnnx(model, { runs: flags.runs, warmup: flags.warmup, batch: flags.batch, threads: flags.threads });
      // An architecture given, or the one a procnas export carries in its metadata.
      const architecture = given ?? architectureInModel(model, ref);
      const predicted = architecture ? estimateCost(lower(architecture), resolveProcessor(flags.processor), { batch: flags.batch }).latencyS : undefined;
      if (flags.json) {
        console.log(JSON.stringify({ model: ref, ...measured, predictedLatencyS: predicted ?? null, processor: architecture ? flags.processor : null }, null, 2));
        return;
      }
      console.log(`${ref}: median ${formatSI(measured.medianS, 's')} (p10 ${formatSI(measured.p10S, 's')}, p90 ${formatSI(measured.p90S, 's')}) over ${measured.runs} runs, input ${measured.input.join('x')}, ${flags.threads} thread(s)`);
      if (predicted !== undefined) console.log(`  cost model on ${flags.processor}: ${formatSI(predicted, 's')}`);
      else console.log('  no cost-model prediction: the model carries no architecture in its metadata (procnas exports do)');
    });
}
