import { join } from 'node:path';
import type { Command } from 'commander';
import { loadRunReport } from '../../experiment/load.js';
import { REPORT_FILE, writeReport } from '../../experiment/report.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('Write a self-contained HTML report of a search: Pareto fronts, the loss, the best architecture, where its DRAM savings came from, every trial')
    .argument('<run-dir>', 'a search\'s results folder (holding experiment.sqlite)')
    .option('-o, --out <file>', `output file (default: <run-dir>/${REPORT_FILE})`)
    .action((dir: string, flags: { out?: string }) => {
      const out = flags.out ?? join(dir, REPORT_FILE);
      writeReport(out, loadRunReport(dir));
      console.log(out);
    });
}
