/**
 * Wires the differentiable supernet search: the supernet trains in this process (its weights
 * and α live across iterations), while the argmax architectures it derives are trained from
 * scratch by the evaluator's worker pool like any other candidate.
 */
import { createRng, loadDataset, prepareSplits } from '../data/index.js';
import { initEngine } from '../engine/backend.js';
import { Supernet } from '../engine/supernet.js';
import type { Processor } from '../processor/index.js';
import { DnasStrategy } from '../search/index.js';
import type { Reference, SupernetEpoch } from '../search/index.js';
import { SupernetSpace } from '../space/index.js';
import type { Architecture } from '../space/index.js';
import { ConfigError } from './config.js';
import type { SearchConfig } from './config.js';

export interface SupernetProgress {
  epoch: number;
  step: number;
  steps: number;
  warmup: boolean;
}

export interface DnasWiring {
  strategy: DnasStrategy;
  /** Stops the supernet's epochs running ahead of the search, then frees its weights. */
  dispose(): Promise<void>;
}

/** Yield to the event loop this often during a supernet epoch, so progress output keeps flowing. */
const YIELD_EVERY_MS = 200;

/** What dnas cannot do, said before anything starts. */
export function checkDnasConfig(config: SearchConfig): void {
  if (config.evaluator.kind !== 'train') throw new ConfigError('strategy dnas trains a supernet on the task: it needs evaluator.kind train, not a table');
  if (config.loss.kind !== 'additive') throw new ConfigError('strategy dnas differentiates the additive loss (error + λ·cost); loss.kind mnasnet is not supported with it');
}

export async function createDnas(
  config: SearchConfig,
  initial: Architecture,
  processor: Processor,
  reference: Reference,
  hooks: { onEpoch(epoch: SupernetEpoch): void; onStep?(progress: SupernetProgress): void; timeUp(): boolean },
): Promise<DnasWiring> {
  const space = new SupernetSpace(initial, config.space);
  await initEngine(config.backend);
  const t = config.training;
  // The evaluator's splits: weights learn on its training images, α on its validation images.
  const splits = prepareSplits(loadDataset(config.dataset), { seed: config.seed, limit: t.limit, validation: t.validation });
  const supernet = Supernet.fromSpace(space, splits, {
    batchSize: t.batch,
    learningRate: config.dnas.weightLr,
    learningRateFloor: config.dnas.weightLrFloor,
    annealSteps: config.dnas.annealEpochs * Math.ceil(splits.train.count / t.batch),
    optimizer: t.optimizer,
    momentum: 0.9,
    weightDecay: t.weightDecay,
    labelSmoothing: t.labelSmoothing,
    seed: config.seed,
  });
  let lastYield = performance.now();
  const strategy = new DnasStrategy(space, supernet, processor, createRng(config.seed + 1), {
    lambdaTime: config.loss.lambdaTime,
    lambdaEnergy: config.loss.lambdaEnergy,
    lambdaPower: config.loss.lambdaPower,
    reference,
    archLearningRate: config.dnas.archLr,
    warmupEpochs: config.dnas.warmupEpochs,
    epochsPerIteration: config.dnas.epochsPerIteration,
    archEvery: config.dnas.archEvery,
    timeUp: hooks.timeUp,
    costOptions: { mode: config.cost.mode, batch: config.cost.batch, optimizer: config.training.optimizer },
    onEpoch: hooks.onEpoch,
    onStep: async (step) => {
      if (performance.now() - lastYield < YIELD_EVERY_MS) return;
      hooks.onStep?.(step);
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    },
  });
  let disposed = false;
  return {
    strategy,
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      await strategy.stop();
      supernet.dispose();
    },
  };
}
