import { Option } from 'commander';
import type { Command } from 'commander';
import { ACCEPTED_SPECS, DEFAULT_VALIDATION_IMAGES, loadDataset, prepareSplits } from '../../data/index.js';
import { initEngine } from '../../engine/backend.js';
import type { BackendChoice } from '../../engine/backend.js';
import { runJob } from '../../engine/job.js';
import type { JobResult, TrainJob } from '../../engine/job.js';
import { DEFAULT_TRAIN_OPTIONS } from '../../engine/train.js';
import type { OptimizerName } from '../../engine/optimizer.js';
import type { Schedule } from '../../engine/train.js';
import { architectureToData, lower, resolveArchitecture } from '../../space/index.js';
import { duration, fraction, nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber } from '../args.js';
import { createProgress } from '../progress.js';
import { ARCH_HELP } from './cost.js';

interface TrainFlags {
  dataset: string;
  epochs: number;
  batch: number;
  limit?: number;
  validation?: number;
  lr: number;
  optimizer: OptimizerName;
  schedule: Schedule;
  weightDecay: number;
  labelSmoothing: number;
  augment?: boolean;
  seed: number;
  budget?: number;
  backend: BackendChoice;
  json?: boolean;
}

/** An accuracy; NaN (no images to measure it on) as "n/a". */
const percent = (x: number): string => (Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(2)}%`);

export function registerTrain(program: Command): void {
  const d = DEFAULT_TRAIN_OPTIONS;
  program
    .command('train')
    .description('Train an architecture on a dataset and report its validation and test accuracy')
    .argument('<arch>', ARCH_HELP)
    .option('-d, --dataset <spec>', `${ACCEPTED_SPECS.join(' | ')}`, 'mnist')
    .option('-e, --epochs <n>', 'epochs', positiveInt, d.epochs)
    .option('-b, --batch <n>', 'batch size', positiveInt, d.batchSize)
    .option('--limit <n>', 'use at most this many training (and test) images', positiveInt)
    .option('--validation <n>', `training images held out for validation (default 10%, at most ${DEFAULT_VALIDATION_IMAGES}, as in a search)`, nonNegativeInt)
    .option('--lr <x>', 'peak learning rate', positiveNumber, d.learningRate)
    .addOption(new Option('--optimizer <name>', 'optimiser').choices(['sgd', 'adam']).default(d.optimizer))
    .addOption(new Option('--schedule <name>', 'learning-rate schedule').choices(['cosine', 'step', 'constant']).default(d.schedule))
    .option('--weight-decay <x>', 'L2 weight decay of conv and dense weights', nonNegativeNumber, d.weightDecay)
    .option('--label-smoothing <x>', 'label smoothing', fraction, d.labelSmoothing)
    .option('--augment', 'random crop (padding 4) and horizontal flip')
    .option('--seed <n>', 'seed of the split, the initialisation and the batch order', nonNegativeInt, d.seed)
    .option('--budget <time>', 'stop training after this long, e.g. 90s, 10m', duration)
    .addOption(new Option('--backend <name>', 'ML backend').choices(['auto', 'native', 'wasm', 'cpu']).default('auto'))
    .option('--json', 'print one JSON object with the results')
    .action(async (ref: string, flags: TrainFlags) => {
      const architecture = resolveArchitecture(ref);
      const dataset = loadDataset(flags.dataset);
      const split = { seed: flags.seed, ...(flags.limit !== undefined ? { limit: flags.limit } : {}), ...(flags.validation !== undefined ? { validation: flags.validation } : {}) };
      const splits = prepareSplits(dataset, split);
      const { h, w, c } = splits.shape;
      const { input } = architecture;
      if (input.h !== h || input.w !== w || input.c !== c || architecture.classes !== splits.classes) {
        console.error(`note: ${architecture.name} adapted to ${dataset.name}: input ${h}x${w}x${c}, ${splits.classes} classes`);
        architecture.input = { h, w, c };
        architecture.classes = splits.classes;
      }
      const graph = lower(architecture);
      const backend = await initEngine(flags.backend);
      const progress = createProgress('train');
      // The search's own path (a job: the engine trains, onnxruntime validates and tests), so
      // that this repeats a trial given its seed, images and validation count.
      const job: TrainJob = {
        architecture: architectureToData(architecture),
        dataset: flags.dataset,
        split,
        options: {
          epochs: flags.epochs,
          batchSize: flags.batch,
          optimizer: flags.optimizer,
          learningRate: flags.lr,
          schedule: flags.schedule,
          weightDecay: flags.weightDecay,
          labelSmoothing: flags.labelSmoothing,
          augment: flags.augment ?? false,
          seed: flags.seed,
          ...(flags.budget !== undefined ? { timeBudgetS: flags.budget } : {}),
        },
        test: true,
      };
      let result: JobResult;
      try {
        result = await runJob(job, {
          splits,
          onProgress: (e) => {
            if (e.kind === 'step') {
              progress.update(e.step, e.steps, `epoch ${e.epoch + 1}/${flags.epochs} loss ${e.loss.toFixed(4)} ${e.imagesPerSecond.toFixed(0)} img/s`);
            } else {
              progress.log(`epoch ${e.epoch + 1}/${e.epochs}: train loss ${e.trainLoss.toFixed(4)}, validation accuracy ${percent(e.validationAccuracy)} (${e.elapsedS.toFixed(1)} s)`);
            }
          },
        });
      } finally {
        progress.stop();
      }
      const testAccuracy = result.testAccuracy ?? Number.NaN;
      const summary = {
        architecture: architecture.name,
        dataset: dataset.name,
        backend,
        params: graph.params,
        trainImages: splits.train.count,
        validationImages: splits.validation.count,
        testImages: splits.test.count,
        epochs: result.epochLosses.length,
        steps: result.steps,
        validationAccuracy: result.validationAccuracy,
        validationError: result.validationError,
        testAccuracy,
        epochLosses: result.epochLosses,
        wallTimeS: result.wallTimeS,
        trainImagesPerSecond: result.trainImagesPerSecond,
        stopped: result.stopped ?? null,
      };
      if (flags.json) {
        console.log(JSON.stringify(summary, null, 2));
        return;
      }
      console.log(
        [
          `${summary.architecture} on ${summary.dataset} (${backend} backend, ${summary.params.toLocaleString('en-US')} params)`,
          `  trained ${summary.steps} steps on ${summary.trainImages} images in ${summary.wallTimeS.toFixed(1)} s (${summary.trainImagesPerSecond.toFixed(0)} img/s)${result.stopped ? `, stopped early: ${result.stopped}` : ''}`,
          `  validation accuracy ${percent(summary.validationAccuracy)} (${summary.validationImages} images)`,
          `  test accuracy       ${percent(testAccuracy)} (${summary.testImages} images)`,
        ].join('\n'),
      );
    });
}
