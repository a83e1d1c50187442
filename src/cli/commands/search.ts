import { join } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { ConfigError, DEFAULT_BUDGET_S, DEFAULT_INITIAL, MULTI_FIDELITY_BELOW_S, loadSearchConfigFile, mergeConfig, parseSearchConfig } from '../../experiment/config.js';
import type { SearchConfig, SearchConfigInput } from '../../experiment/config.js';
import { runExperiment } from '../../experiment/run.js';
import { formatSI } from '../../processor/index.js';
import { addToFront, rungOf, wasPruned } from '../../search/index.js';
import { notationOf } from '../../space/index.js';
import type { Trial } from '../../search/index.js';
import { duration, nonNegativeInt, nonNegativeNumber, port, positiveInt } from '../args.js';
import { createProgress } from '../progress.js';
import type { Progress } from '../progress.js';
import { DEFAULT_PORT, serveDashboard, untilStopped } from './serve.js';
import { ARCH_HELP } from './cost.js';

interface SearchFlags {
  config?: string;
  processor?: string;
  dataset?: string;
  initial?: string;
  strategy?: 'local' | 'evolution' | 'random' | 'nested' | 'dnas' | 'bayesian';
  lambdaTime?: number;
  lambdaEnergy?: number;
  lambdaPower?: number;
  costMode?: 'inference' | 'training';
  costBatch?: number;
  budget?: number;
  maxEvals?: number;
  patience?: number;
  seed?: number;
  out?: string;
  resume?: string;
  table?: string;
  workers?: number;
  queue?: string;
  inherit?: boolean;
  prune?: boolean;
  json?: boolean;
  serve?: true | number;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
}

function describe(t: Trial): string {
  const error = t.error === undefined ? '—' : `${(100 * t.error).toFixed(2)}%`;
  return `error ${error}, DRAM ${formatSI(t.cost.dramTimeS, 's')} / ${formatSI(t.cost.dramEnergyJ, 'J')}, ${t.cost.params.toLocaleString('en-US')} params, loss ${t.loss.toFixed(4)}`;
}

/** Under multi-fidelity, how many candidates trained at each rung ('' without). */
function rungCounts(trials: Trial[]): string {
  const byImages = new Map<number, number>();
  for (const t of trials) if (t.images !== undefined && t.status !== 'rejected') byImages.set(t.images, (byImages.get(t.images) ?? 0) + 1);
  return [...byImages.entries()].sort(([a], [b]) => a - b).map(([images, n]) => `${n} on ${images} images`).join(', ');
}

/** Candidates rejected before training, by why ('' when none was). */
function rejectedCount(trials: Trial[]): string {
  const rejected = trials.filter((t) => t.status === 'rejected');
  const hopeless = rejected.filter(wasPruned).length;
  const parts = [...(rejected.length > hopeless ? [`${rejected.length - hopeless} over a budget`] : []), ...(hopeless > 0 ? [`${hopeless} unable to beat the best (prune)`] : [])];
  return parts.join(', ');
}

export function registerSearch(program: Command): void {
  // The configuration's own defaults, for the help: flags have none of their own (a flag's
  // default would override the config file's key).
  const d = parseSearchConfig({});
  program
    .command('search')
    .description('Search for the architecture of lowest processor-related loss (bare: MNIST, mobile-npu, local search, ~10 min)')
    .option('-c, --config <file>', 'a YAML or JSON search configuration (flags override its keys)')
    .option('-p, --processor <preset|file>', `processor (config key: processor; default: ${d.processor})`)
    .option('-d, --dataset <spec>', `task dataset (config key: dataset; default: ${d.dataset})`)
    .option('-i, --initial <arch>', `initial architecture: ${ARCH_HELP} (config key: initial; default: ${DEFAULT_INITIAL.name})`)
    .addOption(new Option('-s, --strategy <name>', `search strategy (config key: strategy; default: ${d.strategy})`).choices(['local', 'evolution', 'random', 'nested', 'dnas', 'bayesian']))
    .option('--lambda-time <x>', `weight of DRAM time in the loss (config key: loss.lambdaTime; default: ${d.loss.lambdaTime})`, nonNegativeNumber)
    .option('--lambda-energy <x>', `weight of DRAM energy in the loss (config key: loss.lambdaEnergy; default: ${d.loss.lambdaEnergy})`, nonNegativeNumber)
    .option('--lambda-power <x>', `weight of average DRAM power in the loss (config key: loss.lambdaPower; default: ${d.loss.lambdaPower})`, nonNegativeNumber)
    .addOption(new Option('--cost-mode <mode>', 'whose DRAM cost: one training step (default, as the patent) or inference (config key: cost.mode)').choices(['training', 'inference']))
    .option('--cost-batch <n>', 'batch of the costed step (config key: cost.batch; default: the training batch, or 1 for inference)', positiveInt)
    .option('--budget <time>', `wall-clock budget, e.g. 10m (config key: stop.budget; default: ${DEFAULT_BUDGET_S / 60}m when no other stop condition is given); below ${MULTI_FIDELITY_BELOW_S / 60}m a trained search takes multi-fidelity (config key: fidelity.rungs) by default`, duration)
    .option('--max-evals <n>', 'stop after this many evaluations (config key: stop.maxEvals)', positiveInt)
    .option('--patience <k>', 'stop after k trials in a row without improvement (config key: stop.patience)', positiveInt)
    .option('--inherit', 'under multi-fidelity, trainings below the top rung start from the fully trained network they share the most weights with (config key: training.inherit; default: on for local, evolution and nested under multi-fidelity)')
    .option('--no-inherit', 'every training starts from a random initialisation')
    .option('--no-prune', 'train every candidate within the budgets, also those whose DRAM terms alone reach the best loss (config key: prune)')
    .option('--seed <n>', `seed of the strategy, the splits and the training (config key: seed; default: ${d.seed})`, nonNegativeInt)
    .option('--table <file>', 'evaluate from a NAS-Bench-201 accuracy table instead of training (config keys: evaluator.kind, evaluator.table)')
    .option('--workers <n>', 'trainings in flight at once (config key: workers; default: one per core; with --queue, how many the queue\'s workers should get at once)', positiveInt)
    .option('--queue <redis-url>', 'train on other machines: send trials to this Redis, where `procnas worker` processes take them (config key: queue.redis)')
    .option('-o, --out <dir>', 'results folder (default runs/<timestamp>)')
    .option('--resume <dir>', 'continue the experiment in this folder where it stopped')
    .option('--json', 'print the result as one JSON object')
    .option('--serve [port]', `serve a live dashboard of this run on 127.0.0.1 (default port ${DEFAULT_PORT}; 0: any free one) while it runs, and after it until Ctrl-C`, port)
    .action(async (flags: SearchFlags, command: Command) => {
      if (flags.resume) {
        // A resumed search replays its stored path: only when it stops may change.
        const changing = (
          [
            ['config', '--config'],
            ['out', '--out'],
            ['processor', '--processor'],
            ['dataset', '--dataset'],
            ['initial', '--initial'],
            ['strategy', '--strategy'],
            ['lambdaTime', '--lambda-time'],
            ['lambdaEnergy', '--lambda-energy'],
            ['lambdaPower', '--lambda-power'],
            ['costMode', '--cost-mode'],
            ['costBatch', '--cost-batch'],
            ['seed', '--seed'],
            ['table', '--table'],
            ['workers', '--workers'],
            ['queue', '--queue'],
            ['inherit', flags.inherit ? '--inherit' : '--no-inherit'],
            ['prune', '--no-prune'],
          ] as const
        // Given on the command line (a default, such as --no-prune's true, is not).
        ).filter(([key]) => command.getOptionValueSource(key) === 'cli');
        if (changing.length > 0) {
          throw new ConfigError(
            `--resume continues a search with the configuration it started with; ${changing.map(([, flag]) => flag).join(', ')} would change it (on resume only --budget, --max-evals and --patience may change)`,
          );
        }
      }
      const file: SearchConfigInput = flags.config ? loadSearchConfigFile(flags.config) : {};
      const overrides: SearchConfigInput = {
        processor: flags.processor,
        dataset: flags.dataset,
        initial: flags.initial,
        strategy: flags.strategy,
        seed: flags.seed,
        prune: flags.prune === false ? false : undefined,
        workers: flags.workers,
        loss: { lambdaTime: flags.lambdaTime, lambdaEnergy: flags.lambdaEnergy, lambdaPower: flags.lambdaPower },
        cost: flags.costMode || flags.costBatch ? { mode: flags.costMode, batch: flags.costBatch } : undefined,
        stop: { budget: flags.budget, maxEvals: flags.maxEvals, patience: flags.patience },
        training: flags.inherit === undefined ? undefined : { inherit: flags.inherit },
        evaluator: flags.table ? { kind: 'nb201-table', table: flags.table } : undefined,
        queue: flags.queue ? { redis: flags.queue } : undefined,
        out: flags.out,
      };
      const config = parseSearchConfig(mergeConfig(file, overrides), flags.config ?? 'flags');
      const out = flags.resume ?? config.out ?? `runs/${timestamp()}`;
      const dashboard = flags.serve === undefined ? undefined : await serveDashboard([out], { host: '127.0.0.1', port: flags.serve === true ? DEFAULT_PORT : flags.serve });
      const progress = createProgress('search');
      if (dashboard) progress.log(`live dashboard of this run: ${dashboard.url}/runs/0`);
      try {
        await search(config, out, flags, progress);
      } catch (error) {
        await dashboard?.close();
        throw error;
      }
      if (dashboard) {
        console.error(`the search has ended; still serving ${dashboard.url}/runs/0 (Ctrl-C to stop)`);
        await untilStopped();
        await dashboard.close();
      }
    });
}

/** Runs the search with its progress, then prints the result. */
async function search(config: SearchConfig, out: string, flags: SearchFlags, progress: Progress): Promise<void> {
  let budgetS: number | undefined;
  let maxEvals = config.stop.maxEvals;
  let front: Trial[] = [];
  // The front compares like with like: trials at the highest rung a finished trial reached.
  let frontRung = -1;
  const result = await runExperiment(config, out, flags.resume !== undefined, {
    onStart: (info) => {
      budgetS = info.budgetS;
      maxEvals = info.maxEvaluations;
      for (const warning of info.warnings) progress.log(`note: ${warning}`);
      const resumed = info.resumedTrials ? `, resuming ${info.resumedTrials} stored trials` : '';
      const where = info.queue ? `queue ${info.queue.name} on ${info.queue.url}, procnas workers listening: ${info.queue.workers}` : `${info.workers} workers`;
      progress.log(`searching from ${info.initial.name} on ${info.processor.name} (${info.space} space, ${info.evaluator} evaluator, ${where}${resumed}) → ${info.out}`);
      if (info.choices) {
        progress.log(`${info.space} space: about 10^${info.choices.log10Size.toFixed(1)} architectures`);
        for (const line of info.choices.stages) progress.log(`  ${line}`);
      }
      if (info.fidelity) {
        progress.log(`multi-fidelity (ASHA): every candidate trains first on ${info.fidelity.images[0]} images, the best 1/${info.fidelity.eta} of a rung go up: ${info.fidelity.images.join(' → ')} images`);
      }
      if (info.inherit) progress.log('weight inheritance: trainings below the top rung start from the fully trained network they share the most weights with');
      progress.log(`DRAM cost of ${info.cost.mode === 'training' ? `one training step, batch ${info.cost.batch}` : `inference, batch ${info.cost.batch}`}`);
      if (info.queue && info.queue.workers === 0) {
        progress.log(`no procnas worker is listening yet: trials wait in the queue until one starts (procnas worker --queue ${info.queue.url})`);
      }
    },
    onSupernetStep: (s) => {
      progress.update(s.step, s.steps, `supernet ${s.warmup ? 'warm-up' : `epoch ${s.epoch + 1}`} steps`);
    },
    onSupernetEpoch: (e) => {
      progress.stop();
      progress.log(
        `supernet epoch ${e.epoch + 1}: argmax ${notationOf(e.architecture)}; supernet error ${(100 * e.supernetError).toFixed(2)}%, ` +
          `DRAM expected ${formatSI(e.expected.dramTimeS, 's')} / ${formatSI(e.expected.dramEnergyJ, 'J')}, exact ${formatSI(e.exact.dramTimeS, 's')} / ${formatSI(e.exact.dramEnergyJ, 'J')}, entropy ${e.entropy.toFixed(2)}`,
      );
    },
    onConfirmStart: (c) => {
      progress.stop();
      const stored = c.candidates * c.seeds - c.trainings;
      progress.log(`confirming the best: the top ${c.candidates} trained again with ${c.seeds} more seed${c.seeds === 1 ? '' : 's'} each (${c.trainings} trainings${stored > 0 ? `, ${stored} already stored` : ''})`);
    },
    onRepeat: (r, p) => {
      progress.update(p.done, p.total, `trainings to confirm the best${r.error === undefined ? ` (${r.key} seed ${r.seed} failed: ${r.reason ?? ''})` : ''}`);
    },
    onFinalTraining: () => {
      progress.stop();
      progress.log('training the best architecture once more, then exporting it (best.onnx, best-tfjs/)');
    },
    onTrial: (trial, best, p) => {
      if (trial.status === 'done' && rungOf(trial) > frontRung) [front, frontRung] = [[], rungOf(trial)];
      if (rungOf(trial) === frontRung) front = addToFront(front, trial);
      const rung = trial.rung === undefined ? '' : ` (rung ${rungOf(best)})`;
      const status = `best loss ${best.loss.toFixed(4)}${rung}, Pareto front ${front.length}`;
      if (budgetS !== undefined) {
        progress.update(Math.min(budgetS, Math.round(p.elapsedS)), Math.round(budgetS), `s, ${p.trials} trials, ${status}`);
      } else {
        progress.update(p.trials, maxEvals, `trials, ${status}`);
      }
    },
  }, flags.resume ? { budget: flags.budget, maxEvals: flags.maxEvals, patience: flags.patience } : {});
  progress.stop();
  const { initial, pareto, evaluations, stoppedBecause } = result.search;
  const best = result.best;
  const confirmed = result.confirmation?.[0];
  if (flags.json) {
    const confirmation = result.confirmation?.map((c) => ({ key: c.trial.key, errors: c.errors, meanError: c.meanError, sdError: c.sdError, meanLoss: c.meanLoss, failures: c.failures })) ?? null;
    console.log(JSON.stringify({ out: result.out, stoppedBecause, evaluations, best: { key: best.key, error: best.error, loss: best.loss, cost: best.cost }, initial: { key: initial.key, error: initial.error, loss: initial.loss, cost: initial.cost }, confirmation, paretoSize: pareto.length, final: result.final ?? null }, null, 2));
    return;
  }
  console.log(
    [
      `stopped after ${evaluations} evaluations: ${stoppedBecause}`,
      ...(rungCounts(result.search.trials) ? [`  trained ${rungCounts(result.search.trials)}`] : []),
      ...(rejectedCount(result.search.trials) ? [`  not trained: ${rejectedCount(result.search.trials)}`] : []),
      `  initial  ${describe(initial)}`,
      `  best     ${describe(best)}`,
      ...(confirmed ? [`  confirmed: mean error ${(100 * confirmed.meanError).toFixed(2)}% ± ${(100 * confirmed.sdError).toFixed(2)} over ${confirmed.errors.length} trainings, loss ${confirmed.meanLoss.toFixed(4)} at the mean${best !== result.search.best ? ` (the search's best by one training, trial ${result.search.best.index}, fell back on other seeds)` : ''}`] : []),
      `  best architecture: ${best.architecture.name.startsWith('nb201:') ? best.architecture.name : best.key} (in file form: ${join(result.out, 'best.json')}, which cost, train, export and search --initial take)`,
      `  Pareto front (error, DRAM time, DRAM energy${pareto[0]?.images !== undefined ? `, trained on ${pareto[0].images} images` : ''}): ${pareto.length} architectures`,
      ...(result.final ? [`  retrained: validation ${(100 * result.final.validationAccuracy).toFixed(2)}%, test ${(100 * result.final.testAccuracy).toFixed(2)}%; exported to ${result.final.onnx} and ${result.final.tfjs}/`] : []),
      ...(result.final?.int8 ? [`  int8 (post-training): validation ${(100 * result.final.int8.validationAccuracy).toFixed(2)}%, test ${(100 * result.final.int8.testAccuracy).toFixed(2)}%; exported to ${result.final.int8.onnx}`] : []),
      `  results in ${result.out}/ (report.html, best.json, summary.json, experiment.sqlite${result.final ? `, final.json, best.onnx${result.final.int8 ? ', best-int8.onnx' : ''}, best-tfjs/` : ''})`,
    ].join('\n'),
  );
}

