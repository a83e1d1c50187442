import { Option } from 'commander';
import type { Command } from 'commander';
import { costReportJson, estimateCost, nonFiniteFigure } from '../../cost/index.js';
import type { CostMode } from '../../cost/index.js';
import { ProcessorError, presetNames, resolveProcessor } from '../../processor/index.js';
import { lower, resolveArchitecture } from '../../space/index.js';
import { inputShape, positiveInt, sizeInt } from '../args.js';
import { formatCostReport } from '../format.js';

export const ARCH_HELP = 'a built-in network (mobilenet_v2, mnasnet_a1, resnet18, resnet34, resnet50, nb201:<arch string>) or a JSON/YAML file';

interface CostFlags {
  processor: string;
  mode: CostMode;
  batch: number;
  input?: { h: number; w: number; c: number };
  classes?: number;
  json?: boolean;
  totals?: boolean;
}

export function registerCost(program: Command): void {
  program
    .command('cost')
    .description("Analytical cost of an architecture on a processor: params, MACs, each layer's mapping, DRAM traffic, time, energy and power, latency")
    .argument('<arch>', ARCH_HELP)
    .option('-p, --processor <preset|file>', `a preset (${presetNames().join(', ')}) or a profile file`, 'mobile-npu')
    .addOption(new Option('-m, --mode <mode>', 'deployment (inference) or one training step').choices(['inference', 'training']).default('inference'))
    .option('-b, --batch <n>', 'batch size', positiveInt, 1)
    .option('--input <HxWxC>', 'override the input shape', inputShape)
    .option('--classes <n>', 'override the number of classes', sizeInt)
    .option('--json', 'print one JSON object instead of the table')
    .option('--totals', 'the totals only, without the per-layer table (with --json: without `layers`)')
    .action((ref: string, flags: CostFlags) => {
      const processor = resolveProcessor(flags.processor);
      const architecture = resolveArchitecture(ref);
      if (flags.input) architecture.input = flags.input;
      if (flags.classes) architecture.classes = flags.classes;
      const report = estimateCost(lower(architecture), processor, { mode: flags.mode, batch: flags.batch, layers: !flags.totals });
      const insane = nonFiniteFigure(report);
      if (insane) {
        throw new ProcessorError(
          `${ref} on ${flags.processor}: the cost's ${insane}: the profile's or the architecture's values are out of range (no figure is printed)`,
        );
      }
      if (flags.json) {
        const json = costReportJson(report);
        console.log(JSON.stringify(flags.totals ? { ...json, layers: undefined } : json, null, 2));
      } else console.log(formatCostReport(report, processor, { layers: !flags.totals }));
    });
}
