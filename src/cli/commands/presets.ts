import type { Command } from 'commander';
import { presetNames, presetProcessor } from '../../processor/index.js';
import type { Processor } from '../../processor/index.js';
import { formatPresets } from '../format.js';

export function registerPresets(program: Command): void {
  program
    .command('presets')
    .description('List the processor presets')
    .option('--json', 'print the presets as JSON, with the source of every number')
    .action((flags: { json?: boolean }) => {
      const processors = presetNames().map((name) => presetProcessor(name) as Processor);
      console.log(flags.json ? JSON.stringify(processors, null, 2) : formatPresets(processors));
    });
}
