#!/usr/bin/env node
/** The procnas command: parses arguments, wires the parts together, prints. Nothing else. */
import { Command } from 'commander';
import { DatasetError } from '../data/index.js';
import { ConfigError } from '../experiment/config.js';
import { EngineError } from '../engine/backend.js';
import { ExportError } from '../export/index.js';
import { ProcessorError } from '../processor/index.js';
import { ArchitectureError } from '../space/index.js';
import { registerCost } from './commands/cost.js';
import { registerExport } from './commands/export.js';
import { registerMeasure } from './commands/measure.js';
import { registerPresets } from './commands/presets.js';
import { registerSearch } from './commands/search.js';
import { registerTrain } from './commands/train.js';

const program = new Command()
  .name('procnas')
  .description('Find the neural-network architecture that suits one processor, by its DRAM cost.')
  .showHelpAfterError();
registerCost(program);
registerPresets(program);
registerSearch(program);
registerTrain(program);
registerExport(program);
registerMeasure(program);

try {
  await program.parseAsync();
} catch (error) {
  const known = [ArchitectureError, ProcessorError, DatasetError, ConfigError, ExportError, EngineError, RangeError];
  if (known.some((kind) => error instanceof kind)) {
    console.error(`procnas: ${(error as Error).message}`);
    process.exit(2);
  }
  throw error;
}
