#!/usr/bin/env node
/** The procnas command: parses arguments, wires the parts together, prints. Nothing else. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { estimateCost } from '../cost/index.js';
import type { CostMode } from '../cost/index.js';
import { ProcessorError, presetNames, presetProcessor, resolveProcessor } from '../processor/index.js';
import { ArchitectureError, lower, resolveArchitecture } from '../space/index.js';
import { costReportJson, formatCostReport, formatPresets } from './format.js';

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive integer.');
  return Number(value);
}

function inputShape(value: string): { h: number; w: number; c: number } {
  const match = /^(\d+)x(\d+)x(\d+)$/.exec(value);
  if (!match || match.slice(1).some((v) => Number(v) < 1)) throw new InvalidArgumentError('write it as HxWxC, e.g. 32x32x3.');
  return { h: Number(match[1]), w: Number(match[2]), c: Number(match[3]) };
}

interface CostFlags {
  processor: string;
  mode: CostMode;
  batch: number;
  input?: { h: number; w: number; c: number };
  classes?: number;
  json?: boolean;
}

const program = new Command()
  .name('procnas')
  .description('Find the neural-network architecture that suits one processor, by its DRAM cost.')
  .showHelpAfterError();

program
  .command('cost')
  .description('Analytical cost of an architecture on a processor: params, MACs, DRAM traffic, time, energy, latency')
  .argument('<arch>', 'a built-in network (mobilenet_v2, mnasnet_a1, resnet18, resnet34, resnet50, nb201:<arch string>) or a JSON/YAML file')
  .option('-p, --processor <preset|file>', `a preset (${presetNames().join(', ')}) or a profile file`, 'mobile-npu')
  .addOption(new Option('-m, --mode <mode>', 'deployment (inference) or one training step').choices(['inference', 'training']).default('inference'))
  .option('-b, --batch <n>', 'batch size', positiveInt, 1)
  .option('--input <HxWxC>', 'override the input shape', inputShape)
  .option('--classes <n>', 'override the number of classes', positiveInt)
  .option('--json', 'print one JSON object instead of the table')
  .action((ref: string, flags: CostFlags) => {
    const processor = resolveProcessor(flags.processor);
    const architecture = resolveArchitecture(ref);
    if (flags.input) architecture.input = flags.input;
    if (flags.classes) architecture.classes = flags.classes;
    const report = estimateCost(lower(architecture), processor, { mode: flags.mode, batch: flags.batch, layers: true });
    console.log(flags.json ? JSON.stringify(costReportJson(report), null, 2) : formatCostReport(report, processor));
  });

program
  .command('presets')
  .description('List the processor presets')
  .option('--json', 'print the presets as JSON, with the source of every number')
  .action((flags: { json?: boolean }) => {
    const processors = presetNames().map((name) => presetProcessor(name)!);
    console.log(flags.json ? JSON.stringify(processors, null, 2) : formatPresets(processors));
  });

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof ArchitectureError || error instanceof ProcessorError || error instanceof RangeError) {
    console.error(`procnas: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
