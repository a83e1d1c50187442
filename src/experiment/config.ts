/**
 * The search configuration: a YAML or JSON file, command-line flags on top, defaults for the
 * rest. Bare `procnas search` runs the main job: MNIST, the mobile-NPU preset, a small MBConv
 * network as the initial architecture, local search, about ten minutes on all cores.
 */

/** The stop condition when none is given: the main job's ten minutes. */
export const DEFAULT_BUDGET_S = 600;
import { describeIssues, readDataFile } from '../files/index.js';
import { DEFAULT_VALIDATION_IMAGES } from '../data/index.js';
import { TRAINING_DEFAULTS } from '../engine/defaults.js';
import { DEFAULT_QUANTIZE } from '../export/quantize-options.js';
import { MNIST_MBCONV } from '../space/index.js';
import { z } from 'zod';

const duration = z.union([
  z.number().positive(),
  z
    .string()
    .regex(/^\d+(\.\d+)?(s|m|h)?$/, 'write a duration such as 90s, 10m or 1h')
    .transform((text) => {
      const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text) as RegExpExecArray;
      return Number(match[1]) * { s: 1, m: 60, h: 3600 }[(match[2] ?? 's') as 's' | 'm' | 'h'];
    }),
]);
const positiveInt = z.number().int().positive();

/**
 * Trainings in flight at once, at most: through a queue, a thousand machines' worth. More is a
 * typo, and each slot costs the search memory however few workers listen.
 */
export const MAX_WORKERS = 1024;

/**
 * On one machine, trainings at once per core, at most: each holds its own engine and dataset
 * copy (about 150 MB), and past a few per core they only take turns on the cores.
 */
export const MAX_LOCAL_WORKERS_PER_CORE = 4;

/** One stage's choices in the mobile space; each list is the values a move may set. */
const choiceList = <T extends z.ZodTypeAny>(item: T) => z.array(item).nonempty('list at least one value').optional();
const SpaceSchema = z.object({
  types: choiceList(z.enum(['ir', 'er'])),
  kernels: choiceList(positiveInt.refine((k) => k % 2 === 1, 'kernels are odd (a centred window)')),
  expansions: choiceList(z.number().positive()),
  se: choiceList(z.number().min(0).max(1)),
  widthMultipliers: choiceList(z.number().positive()),
  depth: z.object({ min: positiveInt.optional(), max: positiveInt.optional() }).strict().optional(),
});
const StageSpaceSchema = SpaceSchema.extend({ widths: choiceList(positiveInt) }).strict();

/** The default initial architecture of the main job (also the built-in `mnist-mbconv`), inline so that a store keeps it. */
export const DEFAULT_INITIAL = MNIST_MBCONV;

export const SearchConfigSchema = z
  .object({
    processor: z.string().default('mobile-npu'),
    dataset: z.string().default('mnist'),
    /** A built-in name, a file, or an architecture written inline. */
    initial: z.union([z.string(), z.record(z.string(), z.unknown())]).default(DEFAULT_INITIAL),
    strategy: z.enum(['local', 'evolution', 'random', 'nested', 'dnas', 'bayesian']).default('local'),
    /** dnas: the differentiable supernet search (train evaluator, mobile space, additive loss). */
    dnas: z
      .object({
        /** Adam step size of the architecture logits. */
        archLr: z.number().positive().default(0.05),
        /** Supernet epochs on uniformly drawn paths before the architecture logits move. */
        warmupEpochs: z.number().int().nonnegative().default(1),
        /** Supernet epochs per search iteration (each iteration's argmax is evaluated). */
        epochsPerIteration: positiveInt.default(1),
        /** One architecture step after every this many weight steps. */
        archEvery: positiveInt.default(5),
        /** The supernet's weights: SGD step size, cosine-annealed to weightLrFloor over annealEpochs, then held. */
        weightLr: z.number().positive().default(0.025),
        weightLrFloor: z.number().nonnegative().default(0.001),
        annealEpochs: positiveInt.default(10),
      })
      .strict()
      .default({ archLr: 0.05, warmupEpochs: 1, epochsPerIteration: 1, archEvery: 5, weightLr: 0.025, weightLrFloor: 0.001, annealEpochs: 10 }),
    /** The mobile space around the initial architecture: space-wide choices, per-stage ones over them. */
    space: SpaceSchema.extend({
      stages: z
        .record(z.string(), StageSpaceSchema)
        .superRefine((stages, ctx) => {
          for (const key of Object.keys(stages)) if (!/^\d+$/.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'key stages by their 0-based index' });
        })
        .optional(),
    })
      .strict()
      .default({}),
    /** nested: the inner level's termination (trials without improvement for one macro structure). */
    nested: z.object({ innerPatience: positiveInt.default(6) }).strict().default({ innerPatience: 6 }),
    /**
     * Candidates that cannot become the best are not trained: their loss with no prediction error
     * at all (the DRAM terms alone) is not below the best loss found. They are stored as rejected.
     */
    prune: z.boolean().default(true),
    /** evolution: population and tournament sizes. */
    population: positiveInt.default(20),
    tournament: positiveInt.default(5),
    seed: z.number().int().nonnegative().default(0),
    loss: z
      .object({
        kind: z.enum(['additive', 'mnasnet']).default('additive'),
        lambdaTime: z.number().nonnegative().default(0.1),
        lambdaEnergy: z.number().nonnegative().default(0.1),
        /** Weight of the average DRAM power (the patent names DRAM time and power). */
        lambdaPower: z.number().nonnegative().default(0),
        targetS: z.number().positive().optional(),
        exponent: z.number().default(-0.07),
        mnasnetMetric: z.enum(['dram', 'latency']).default('dram'),
        budgets: z
          .object({
            dramTimeS: z.number().positive().optional(),
            dramEnergyJ: z.number().positive().optional(),
            dramPowerW: z.number().positive().optional(),
            latencyS: z.number().positive().optional(),
            params: positiveInt.optional(),
            macs: positiveInt.optional(),
            /** Bytes of activations alive at once, deployed one image at a time (a microcontroller's SRAM). */
            peakSramBytes: positiveInt.optional(),
            /** Bytes of the weights as deployed (a microcontroller's flash). */
            flashBytes: positiveInt.optional(),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({ kind: 'additive', lambdaTime: 0.1, lambdaEnergy: 0.1, lambdaPower: 0, exponent: -0.07, mnasnetMetric: 'dram', budgets: {} }),
    stop: z
      .object({
        budget: duration.optional(),
        maxEvals: positiveInt.optional(),
        maxIterations: positiveInt.optional(),
        patience: positiveInt.optional(),
        targetLoss: z.number().optional(),
      })
      .strict()
      .default({}),
    /**
     * Whose DRAM cost the loss weighs: one training step (the patent's: the processor's DRAM
     * access time and power while it executes the model's training process), at the training
     * batch unless given, or inference (deployment), at batch 1 unless given.
     */
    cost: z
      .object({ mode: z.enum(['inference', 'training']).default('training'), batch: positiveInt.optional() })
      .strict()
      .default({ mode: 'training' }),
    evaluator: z
      .object({
        kind: z.enum(['train', 'nb201-table']).default('train'),
        /** nb201-table: the accuracy table (JSON keyed by architecture string) and its dataset. */
        table: z.string().optional(),
        tableDataset: z.enum(['cifar10', 'cifar100', 'ImageNet16-120']).default('cifar10'),
      })
      .strict()
      .default({ kind: 'train', tableDataset: 'cifar10' }),
    training: z
      .object({
        // The shared training defaults (engine/defaults.ts), so that `procnas train` repeats a trial.
        epochs: positiveInt.default(TRAINING_DEFAULTS.epochs),
        batch: positiveInt.default(TRAINING_DEFAULTS.batchSize),
        /** Training images per candidate (a subset keeps a search within its budget). */
        limit: positiveInt.optional().default(8000),
        validation: positiveInt.default(DEFAULT_VALIDATION_IMAGES),
        lr: z.number().positive().default(TRAINING_DEFAULTS.learningRate),
        optimizer: z.enum(['sgd', 'adam']).default(TRAINING_DEFAULTS.optimizer),
        weightDecay: z.number().nonnegative().default(TRAINING_DEFAULTS.weightDecay),
        labelSmoothing: z.number().min(0).max(0.99).default(TRAINING_DEFAULTS.labelSmoothing),
        augment: z.boolean().default(TRAINING_DEFAULTS.augment),
        budget: duration.optional(),
        /**
         * Weight inheritance under multi-fidelity: a training below the top rung starts from the
         * top-rung network it shares the most weights with (names and shapes), not from a random
         * initialisation; top-rung trainings start from scratch. Unset: on for local, evolution
         * and nested when fidelity.rungs > 1 (inheritedByDefault).
         */
        inherit: z.boolean().optional(),
      })
      .strict()
      .default({
        epochs: TRAINING_DEFAULTS.epochs,
        batch: TRAINING_DEFAULTS.batchSize,
        limit: 8000,
        validation: DEFAULT_VALIDATION_IMAGES,
        lr: TRAINING_DEFAULTS.learningRate,
        optimizer: TRAINING_DEFAULTS.optimizer,
        weightDecay: TRAINING_DEFAULTS.weightDecay,
        labelSmoothing: TRAINING_DEFAULTS.labelSmoothing,
        augment: TRAINING_DEFAULTS.augment,
      }),
    /**
     * Multi-fidelity (train evaluator; local, evolution, random and nested): `rungs` training
     * budgets `eta` apart in images, the top one `training.limit`; every candidate trains first on
     * the fewest and the best 1/eta of a rung go up (ASHA). Unset: defaultFidelity (four rungs
     * where it applies under a time budget below 5 minutes, else one: every candidate in full).
     */
    fidelity: z.object({ rungs: positiveInt.max(6).default(3), eta: z.number().int().min(2).max(10).default(3) }).strict().optional(),
    /**
     * Before the best is declared (train evaluator only): the `top` candidates of lowest loss
     * are trained `seeds` more times with other seeds, and the best is the one of lowest loss at
     * its mean error. `top: 0` or `seeds: 0` declares the search's best by one training.
     */
    confirm: z.object({ top: z.number().int().nonnegative().default(3), seeds: z.number().int().nonnegative().default(1) }).strict().default({ top: 3, seeds: 1 }),
    /** The best architecture's final training before export (train evaluator only). */
    final: z
      .object({
        enabled: z.boolean().default(true),
        epochs: positiveInt.optional(),
        /** Training images; default: the search's training.limit. */
        limit: positiveInt.optional(),
      })
      .strict()
      .default({ enabled: true }),
    /**
     * Post-training int8 quantisation (export/quantize.ts): the final training's network is also
     * exported in int8 (best-int8.onnx) with its accuracy; with `score`, every candidate is
     * quantised after its training and scored by its int8 validation error.
     */
    quantization: z
      .object({
        enabled: z.boolean().default(true),
        /** How activation ranges are taken over the calibration images. */
        calibration: z.enum(['minmax', 'percentile']).default(DEFAULT_QUANTIZE.calibration),
        percentile: z.number().gt(50).max(100).default(DEFAULT_QUANTIZE.percentile),
        /** Training images the ranges are taken over. */
        images: positiveInt.max(10_000).default(256),
        score: z.boolean().default(false),
      })
      .strict()
      .default({ enabled: true, calibration: DEFAULT_QUANTIZE.calibration, percentile: DEFAULT_QUANTIZE.percentile, images: 256, score: false }),
    /** Trainings in flight at once; through a queue, spread over machines (see MAX_LOCAL_WORKERS for one machine). */
    workers: positiveInt.max(MAX_WORKERS).optional(),
    /** Train on other machines: jobs go to Redis, `procnas worker` processes take them. */
    queue: z
      .object({
        /** redis://[user:password@]host[:port][/db], or rediss:// for TLS. */
        redis: z.string().regex(/^rediss?:\/\//, 'write a Redis URL such as redis://host:6379'),
        /** The BullMQ queue's name: searches and workers meet on it. */
        name: z.string().min(1).default('procnas'),
      })
      .strict()
      .optional(),
    /** Results folder; default runs/<timestamp>. */
    out: z.string().optional(),
    backend: z.enum(['auto', 'native', 'wasm', 'cpu']).default('auto'),
  })
  .strict()
  .transform((c) => ({ ...c, cost: { mode: c.cost.mode, batch: c.cost.batch ?? (c.cost.mode === 'training' ? c.training.batch : 1) } }));

export type SearchConfig = z.output<typeof SearchConfigSchema>;
export type SearchConfigInput = z.input<typeof SearchConfigSchema>;

/** Strategies that take multi-fidelity: they ask for a candidate at a time and learn from rung 0. */
const MULTI_FIDELITY_STRATEGIES: ReadonlySet<SearchConfig['strategy']> = new Set(['local', 'evolution', 'random', 'nested']);

/**
 * Time budgets below this get multi-fidelity by default: they afford too few full trainings for
 * a search in full to get far (the main job's 3-minute search trained 24–35 candidates), and
 * many short trainings do better; longer budgets afford enough, and a search in full does better
 * (the README's Multi-fidelity section: at 3 minutes four rungs ended lower than one rung in 3
 * seeds of 3, at 10 minutes higher in 2 of 2). Between the two budgets measured.
 */
export const MULTI_FIDELITY_BELOW_S = 300;

/**
 * Multi-fidelity when the configuration does not say: four rungs (296, 889, 2667 and 8000
 * images on the main job) for a trained search of a strategy that takes it under a time budget
 * below MULTI_FIDELITY_BELOW_S, one rung (every candidate in full) otherwise. Four rungs,
 * because with three the 3-minute search trained 71–139 candidates and with four 93–186.
 */
export function defaultFidelity(config: Pick<SearchConfig, 'strategy' | 'evaluator' | 'stop'>): { rungs: number; eta: number } {
  const short = config.stop.budget !== undefined && config.stop.budget < MULTI_FIDELITY_BELOW_S;
  return { rungs: config.evaluator.kind === 'train' && MULTI_FIDELITY_STRATEGIES.has(config.strategy) && short ? 4 : 1, eta: 3 };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Whether candidates inherit weights when `training.inherit` does not say: under multi-fidelity
 * (inheritance acts on the lower rungs), where a strategy moves from a trained network to a near
 * one (local, evolution, nested). Random search's candidates have no parent.
 */
export function inheritedByDefault(config: Pick<SearchConfig, 'strategy' | 'evaluator' | 'fidelity' | 'stop'>): boolean {
  const rungs = (config.fidelity ?? defaultFidelity(config)).rungs;
  return config.evaluator.kind === 'train' && rungs > 1 && (config.strategy === 'local' || config.strategy === 'evolution' || config.strategy === 'nested');
}

/**
 * A configuration stored by an earlier procnas, in today's keys: `dnas.maxBlocks` became the
 * space's `depth.max` (one depth range for every strategy), `neighbourhood` is gone, a run
 * without `fidelity` trained every candidate in full, one without `training.inherit` from
 * scratch, and one without `prune` trained every candidate within the budgets.
 */
export function migrateStoredConfig(data: unknown): unknown {
  if (typeof data !== 'object' || data === null) return data;
  // `neighbourhood` went when local search became asynchronous (one neighbour per free worker).
  const { neighbourhood: _dropped, ...stored } = data as { neighbourhood?: unknown; fidelity?: unknown; training?: { inherit?: boolean }; prune?: boolean; dnas?: { maxBlocks?: number }; space?: { depth?: unknown } };
  // Runs from before multi-fidelity trained every candidate in full, and from scratch.
  const config = { ...stored, fidelity: stored.fidelity ?? { rungs: 1 }, training: { ...stored.training, inherit: stored.training?.inherit ?? false }, prune: stored.prune ?? false };
  if (config.dnas?.maxBlocks === undefined) return config;
  const { maxBlocks, ...dnas } = config.dnas;
  return { ...config, dnas, space: { ...config.space, depth: config.space?.depth ?? { max: maxBlocks } } };
}

/** Validates configuration data; errors name every bad key by its path. */
export function parseSearchConfig(data: unknown, source = 'config'): SearchConfig {
  const result = SearchConfigSchema.safeParse(data ?? {});
  if (!result.success) {
    throw new ConfigError(describeIssues(source, 'search configuration', result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))));
  }
  return result.data;
}

export function loadSearchConfigFile(file: string): SearchConfigInput {
  let data: unknown;
  try {
    data = readDataFile(file);
  } catch (error) {
    throw new ConfigError(`${file}: cannot read the search configuration: ${(error as Error).message}`);
  }
  // A file of nothing (or only comments) is the empty configuration; a list or a number is not one.
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`${file}: a search configuration is a mapping of keys (strategy:, stop:, ...), not ${Array.isArray(data) ? 'a list' : `the ${typeof data} ${JSON.stringify(data)}`}`);
  return data as SearchConfigInput;
}

function isEmptyGroup(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => v === undefined || isEmptyGroup(v));
}

/** Deep-merges overrides (e.g. from flags) into file data: the flags win. */
export function mergeConfig(base: SearchConfigInput, overrides: SearchConfigInput): SearchConfigInput {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides as Record<string, unknown>)) {
    // A flag group with no flag given (e.g. stop: { budget: undefined }) overrides nothing: the
    // file's value stays, and is validated as written (a file's `stop: 5` is an error, not defaults).
    if (value === undefined || isEmptyGroup(value)) continue;
    const prev = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && prev && typeof prev === 'object' && !Array.isArray(prev)
        ? mergeConfig(prev as SearchConfigInput, value as SearchConfigInput)
        : value;
  }
  return out as SearchConfigInput;
}
