#!/usr/bin/env node
/** The procnas command: parses arguments, wires the parts together, prints. Nothing else. */
import { Command, CommanderError } from 'commander';
import { badInputLines, isBadInput } from './errors.js';
import { registerCalibrate } from './commands/calibrate.js';
import { registerCost } from './commands/cost.js';
import { registerExport } from './commands/export.js';
import { registerMeasure } from './commands/measure.js';
import { registerPresets } from './commands/presets.js';
import { registerReport } from './commands/report.js';
import { registerSearch } from './commands/search.js';
import { registerServe } from './commands/serve.js';
import { registerTrain } from './commands/train.js';
import { registerWorker } from './commands/worker.js';

// A bad flag is bad input like any other: one line naming it, status 2, not the whole help.
// Set before the commands are registered: each command inherits them.
const program = new Command()
  .name('procnas')
  .description('Find the neural-network architecture that suits one processor, by its DRAM cost.')
  .exitOverride()
  .configureOutput({ outputError: () => undefined });
registerCost(program);
registerPresets(program);
registerCalibrate(program);
registerSearch(program);
registerTrain(program);
registerExport(program);
registerMeasure(program);
registerReport(program);
registerServe(program);
registerWorker(program);

/**
 * Bad input: one line, status 2. Anything else is a bug: one line (the stack with PROCNAS_DEBUG
 * set), status 1. Never rethrown: once the TF.js WASM backend has started, its Emscripten
 * module's uncaughtException handler rethrows, and Node then prints that module's 40 KB line.
 */
function exitOnError(error: unknown): never {
  if (error instanceof CommanderError) {
    // --help, and help shown for a command group: as commander ends them.
    if (error.exitCode === 0 || error.code === 'commander.help') process.exit(error.exitCode === 0 ? 0 : 2);
    const named = process.argv[2] && !process.argv[2].startsWith('-') && error.code !== 'commander.unknownCommand';
    const command = named ? ` ${process.argv[2]}` : '';
    console.error(`procnas: ${error.message.replace(/^error: /, '')} (see procnas${command} --help)`);
    process.exit(2);
  }
  if (isBadInput(error)) {
    console.error(badInputLines(error).join('\n'));
    process.exit(2);
  }
  const message = error instanceof Error ? error.message : String(error);
  console.error(`procnas: internal error: ${message}`);
  if (process.env.PROCNAS_DEBUG && error instanceof Error && error.stack) console.error(error.stack);
  process.exit(1);
}

// Errors outside the command's promise chain (a callback, a stray rejection): same report.
// Registered before any engine starts, so these run before the Emscripten module's handlers.
process.on('uncaughtException', exitOnError);
// Output piped into a reader that stops early (`procnas cost ... | head`): stop quietly, as Unix tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  exitOnError(error);
});
process.on('unhandledRejection', exitOnError);

if (process.argv.length <= 2) {
  // No command: say so first, then the commands.
  console.error(`procnas: no command given\n${program.helpInformation()}`);
  process.exit(2);
}
try {
  await program.parseAsync();
} catch (error) {
  exitOnError(error);
}
