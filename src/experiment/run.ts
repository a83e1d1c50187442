/**
 * Runs a search as an experiment: the configuration and every trial go to the store as they
 * happen, a killed run resumes from its folder, and the results land in the folder at the end
 * (experiment.sqlite, best.json, summary.json).
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { classLabels, createRng, loadDataset } from '../data/index.js';
import { parseProcessor, profileData, resolveProcessor } from '../processor/index.js';
import type { Processor } from '../processor/index.js';
import { DIVERGED, TrainingEvaluator } from '../search/evaluators/training.js';
import { BayesianSearch, Evolution, LocalSearch, Nb201TableEvaluator, NestedSearch, RandomSearch, fidelitySchedule, runSearch } from '../search/index.js';
import { costFigures, referenceOf } from '../search/index.js';
import type { Confirmed, Evaluator, FidelitySchedule, SearchResult, StopConditions, Strategy, SupernetEpoch, Trial } from '../search/index.js';
import { estimateArchitectureCost } from '../cost/index.js';
import { exportGraphModel, exportOnnx, preprocessingOf, withMetadata, writeGraphModel } from '../export/index.js';
import { writeFileAtomic } from '../files/index.js';
import { MobileSpace, Nb201Space, architectureToData, describeChoices, log10SpaceSize, lower, supernetSpec, notationOf, parseArchitecture, resolveArchitecture } from '../space/index.js';
import type { Architecture, SearchSpace } from '../space/index.js';
import { ConfigError, DEFAULT_BUDGET_S, MAX_LOCAL_WORKERS_PER_CORE, defaultFidelity, inheritedByDefault, migrateStoredConfig, parseSearchConfig } from './config.js';
import { confirmBest, confirmationReserveS, finalTrainingReserveS } from './confirm.js';
import type { ConfirmEvents } from './confirm.js';
import { checkDnasConfig, createDnas } from './dnas.js';
import type { DnasWiring, SupernetProgress } from './dnas.js';
import type { SearchConfig } from './config.js';
import { openRunFolder } from './folder.js';
import { REPORT_FILE, reportInputOf, writeReport } from './report.js';
import { QueueRunner } from './queue.js';
import type { ExperimentStore } from './store.js';

export interface ExperimentEvents extends ConfirmEvents {
  /** Once the experiment is set up, before the first trial. */
  onStart?(info: {
    out: string;
    processor: Processor;
    initial: Architecture;
    space: string;
    /** The mobile space's choices, one line per stage, and log10 of its size (none for NAS-Bench-201). */
    choices?: { stages: string[]; log10Size: number };
    evaluator: string;
    workers: number;
    resumedTrials: number;
    budgetS?: number;
    maxEvaluations?: number;
    /** Whether candidates inherit the weights of the trained network they share the most with. */
    inherit: boolean;
    /** Whose DRAM cost the loss weighs. */
    cost: { mode: 'inference' | 'training'; batch: number };
    /** Multi-fidelity: training images per rung and the promotion ratio (absent: every candidate in full). */
    fidelity?: FidelitySchedule;
    /** Trials go to this Redis queue; `workers` procnas worker processes were listening at the start. */
    queue?: { url: string; name: string; workers: number };
    /** What a resumed run takes differently from its start (new stop conditions, files changed on disk). */
    warnings: string[];
  }): void;
  onTrial?(trial: Trial, best: Trial, progress: { trials: number; elapsedS: number; replayed: boolean }): void;
  /** dnas: a supernet epoch ended; its argmax architecture is evaluated next. */
  onSupernetEpoch?(epoch: SupernetEpoch): void;
  /** dnas: progress inside a supernet epoch (a few times a second at most). */
  onSupernetStep?(progress: SupernetProgress): void;
  /** The final training of the best architecture starts (train evaluator only). */
  onFinalTraining?(): void;
}

export interface ExperimentResult {
  out: string;
  config: SearchConfig;
  search: SearchResult;
  /** The best the run declares: the confirmed best, or the search's when there was no confirmation. */
  best: Trial;
  /** The top candidates with their repeated trainings, best first (train evaluator, confirmation on). */
  confirmation?: Confirmed[];
  /** The best architecture retrained and exported (train evaluator only). */
  final?: {
    validationAccuracy: number;
    testAccuracy: number;
    onnx: string;
    tfjs: string;
    /** The network quantised to int8 after its training (quantization.enabled), and its accuracies. */
    int8?: { validationAccuracy: number; testAccuracy: number; onnx: string };
  };
}

function stopConditions(config: SearchConfig): StopConditions {
  const s = config.stop;
  const stop: StopConditions = { maxEvaluations: s.maxEvals, maxIterations: s.maxIterations, patience: s.patience, timeBudgetS: s.budget, targetLoss: s.targetLoss };
  const any = Object.values(stop).some((v) => v !== undefined);
  return any ? stop : { timeBudgetS: DEFAULT_BUDGET_S };
}

function initialArchitecture(config: SearchConfig): Architecture {
  return typeof config.initial === 'string' ? resolveArchitecture(config.initial) : parseArchitecture(config.initial, 'initial');
}

function isNb201(a: Architecture): boolean {
  const first = a.stages[0]?.[0];
  return first?.kind === 'block' && first.args.type === 'nb';
}

function createStrategy(config: SearchConfig, space: SearchSpace, initial: Architecture): Strategy {
  const random = createRng(config.seed);
  switch (config.strategy) {
    case 'local':
      return new LocalSearch(space, initial, random, { restartMoves: 3 });
    case 'evolution':
      return new Evolution(space, initial, random, { populationSize: config.population, sampleSize: config.tournament });
    case 'random':
      return new RandomSearch(space, initial, random);
    case 'bayesian':
      return new BayesianSearch(space, initial, random);
    case 'nested':
      if (!(space instanceof MobileSpace)) throw new Error('internal: strategy nested without the mobile space');
      return new NestedSearch(space, random, { innerPatience: config.nested.innerPatience, restartMoves: 2 });
    case 'dnas':
      throw new Error('internal: the dnas strategy is made by createDnas');
  }
}

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** Stop conditions that may change when a search is resumed (the others would change its path). */
export type StopOverrides = Partial<Pick<SearchConfig['stop'], 'budget' | 'maxEvals' | 'patience'>>;

/**
 * What a run runs with: a new one stores its configuration, procnas's version, the resolved
 * processor profile and initial architecture; a resumed one takes them from the store (only
 * stop conditions may change, and they are stored anew), and says when the files it named have
 * changed on disk or another version of procnas resumes it.
 */
function runInputs(store: ExperimentStore, input: SearchConfig, resume: boolean, stop: StopOverrides) {
  const warnings: string[] = [];
  let config = input;
  if (resume) {
    config = parseSearchConfig(migrateStoredConfig(store.getMeta('config')), store.file);
    const changed = Object.entries(stop).filter(([, v]) => v !== undefined);
    if (changed.length > 0) {
      config = { ...config, stop: { ...config.stop, ...Object.fromEntries(changed) } };
      store.setMeta('config', config);
      warnings.push(`resumed with new stop conditions: ${changed.map(([k, v]) => `${k} ${String(v)}`).join(', ')}`);
    }
    const version = store.getMeta<string>('version');
    if (version !== undefined && version !== VERSION) warnings.push(`this run was started by procnas ${version}; procnas ${VERSION} resumes it`);
  } else {
    // Stored resolved: a resume must not take a default that has changed since.
    config = { ...config, fidelity: config.fidelity ?? defaultFidelity(config) };
    config = { ...config, training: { ...config.training, inherit: config.training.inherit ?? inheritedByDefault(config) } };
    store.setMeta('config', config);
    store.setMeta('started', new Date().toISOString());
    store.setMeta('version', VERSION);
  }
  // The profile and the initial architecture as the run started with them: files may change.
  const onDisk = { processor: () => resolveProcessor(config.processor), initial: () => initialArchitecture(config) };
  const stored = { processor: store.getMeta<unknown>('processor'), initial: store.getMeta<unknown>('initial') };
  const processor = stored.processor !== undefined ? parseProcessor(stored.processor, `${store.file} (its processor)`) : onDisk.processor();
  const initial = stored.initial !== undefined ? parseArchitecture(stored.initial, `${store.file} (its initial architecture)`) : onDisk.initial();
  if (stored.processor === undefined) store.setMeta('processor', profileData(processor));
  if (stored.initial === undefined) store.setMeta('initial', architectureToData(initial));
  if (resume) {
    const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
    try {
      if (!same(profileData(onDisk.processor()), profileData(processor))) warnings.push(`the processor ${config.processor} has changed since the run started: it goes on with the profile it started with`);
    } catch {
      warnings.push(`the processor ${config.processor} cannot be read any more: the run goes on with the profile it started with`);
    }
    try {
      if (!same(architectureToData(onDisk.initial()), architectureToData(initial))) warnings.push('the initial architecture has changed since the run started: the run goes on with the one it started with');
    } catch {
      warnings.push('the initial architecture cannot be read any more: the run goes on with the one it started with');
    }
  }
  return { config, processor, initial, warnings };
}

/** Runs (or, with `resume`, continues) the experiment in folder `out`; a resumed run may take new stop conditions. */
export async function runExperiment(input: SearchConfig, out: string, resume: boolean, events: ExperimentEvents = {}, stopOverrides: StopOverrides = {}): Promise<ExperimentResult> {
  const folder = openRunFolder(out, resume);
  const store = folder.store;
  try {
    // Read back (and checked row by row) before a resume writes anything, such as its new stop conditions.
    const prior = resume ? store.trials() : [];
    const inputs = runInputs(store, input, resume, stopOverrides);
    const { config, processor, warnings } = inputs;
    let initial = inputs.initial;
    const nb201 = isNb201(initial);
    if (nb201 && Object.keys(config.space).length > 0) throw new ConfigError('space: a NAS-Bench-201 cell has fixed choices (five operations on six edges); the space section shapes the mobile space');
    if (config.strategy === 'nested' && nb201) {
      throw new ConfigError('strategy nested moves stage widths and depths outside and composite operations inside: it needs the mobile space (an initial of ir/er/ds stages), not a NAS-Bench-201 cell');
    }
    if (config.training.inherit && config.evaluator.kind !== 'train') throw new ConfigError('training.inherit: the nb201-table evaluator trains nothing; weight inheritance needs the train evaluator');
    if (config.training.inherit && config.strategy === 'dnas') throw new ConfigError('training.inherit: dnas trains each argmax candidate from scratch; weight inheritance is for local, evolution, random and nested');
    if (config.training.inherit && (config.fidelity?.rungs ?? 1) < 2) {
      throw new ConfigError('training.inherit: candidates inherit at the lower rungs of multi-fidelity (full trainings start from scratch, so that the best is judged like with like): set fidelity.rungs to 2 or more');
    }
    if (config.strategy === 'dnas') {
      checkDnasConfig(config);
      if (nb201) throw new ConfigError('strategy dnas searches the mobile space: give an initial architecture of ir/er/ds stages, not a NAS-Bench-201 cell');
    }
    const workers = config.workers ?? availableParallelism();
    const localLimit = MAX_LOCAL_WORKERS_PER_CORE * availableParallelism();
    if (!config.queue && config.evaluator.kind === 'train' && workers > localLimit) {
      throw new ConfigError(`workers: ${workers} trainings at once on this machine's ${availableParallelism()} cores is more than the ${localLimit} procnas allows (${MAX_LOCAL_WORKERS_PER_CORE} per core: each holds its own engine); spread them over machines with --queue`);
    }
    if (config.queue && config.evaluator.kind !== 'train') throw new ConfigError('queue: only trained evaluations go through a queue; the nb201-table evaluator reads its table here');
    let evaluator: Evaluator;
    let queue: QueueRunner | undefined;
    let space: SearchSpace;
    let fidelity: FidelitySchedule | undefined;
    const manyRungs = (config.fidelity?.rungs ?? 1) > 1;
    if (manyRungs && config.evaluator.kind !== 'train') throw new ConfigError('fidelity: the NAS-Bench-201 table has one fidelity; multi-fidelity needs the train evaluator (or rungs: 1)');
    if (manyRungs && config.strategy === 'dnas') throw new ConfigError('fidelity: dnas trains each argmax in full; multi-fidelity is for local, evolution, random and nested (or rungs: 1)');
    if (config.evaluator.kind === 'nb201-table') {
      if (!nb201) throw new ConfigError('evaluator nb201-table needs a NAS-Bench-201 initial architecture (initial: "nb201:|...|")');
      if (!config.evaluator.table) throw new ConfigError('evaluator.table: give the path of the NAS-Bench-201 accuracy table');
      const nbSpace = new Nb201Space(config.evaluator.tableDataset);
      space = nbSpace;
      evaluator = new Nb201TableEvaluator(nbSpace, config.evaluator.table, config.evaluator.tableDataset);
    } else {
      const dataset = loadDataset(config.dataset);
      // The initial architecture takes the task's images and classes.
      initial = { ...initial, input: dataset.shape, classes: dataset.classes };
      space = nb201 ? new Nb201Space() : new MobileSpace(initial, config.strategy === 'dnas' ? supernetSpec(config.space) : config.space);
      const t = config.training;
      if (config.strategy !== 'dnas') {
        // The top rung trains on what a full training would: the limit, or every training image there is.
        const full = Math.min(t.limit, dataset.train.count - t.validation);
        const { rungs, eta } = config.fidelity ?? defaultFidelity(config);
        if (rungs > 1 && full > 0) fidelity = fidelitySchedule(full, rungs, eta, t.batch);
        if (fidelity && fidelity.images.length < 2) fidelity = undefined;
      }
      if (config.queue) queue = await QueueRunner.connect(config.queue.redis, config.queue.name, runIdOf(store));
      evaluator = new TrainingEvaluator({
        dataset: config.dataset,
        split: { seed: config.seed, limit: t.limit, validation: t.validation },
        training: { epochs: t.epochs, batchSize: t.batch, learningRate: t.lr, optimizer: t.optimizer, weightDecay: t.weightDecay, labelSmoothing: t.labelSmoothing, augment: t.augment, seed: config.seed, timeBudgetS: t.budget },
        workers,
        backend: config.backend,
        ...(queue ? { runner: queue } : {}),
        archive: { save: (name, weights) => store.saveParent(name, weights), load: (name) => store.parent(name) },
        int8: config.quantization,
      });
    }
    // A training step is costed with the optimiser the candidates train with (its state moves too).
    const costOptions = { mode: config.cost.mode, batch: config.cost.batch, optimizer: config.training.optimizer };
    const stop = stopConditions(config);
    const elapsedBeforeS = store.getMeta<number>('elapsedS') ?? 0;
    const elapsedS = (): number => elapsedBeforeS + (performance.now() - started) / 1000;
    const queueInfo = queue && config.queue ? { url: config.queue.redis, name: config.queue.name, workers: await queue.workerCount() } : undefined;
    const choices = space instanceof MobileSpace ? { stages: describeChoices(space.choices), log10Size: log10SpaceSize(space.choices) } : undefined;
    events.onStart?.({ out, processor, initial, space: space.name, ...(choices ? { choices } : {}), evaluator: config.evaluator.kind, workers, resumedTrials: prior.length, budgetS: stop.timeBudgetS, maxEvaluations: stop.maxEvaluations, inherit: fidelity !== undefined && (config.training.inherit ?? false), cost: { mode: config.cost.mode, batch: config.cost.batch }, ...(fidelity ? { fidelity } : {}), warnings, ...(queueInfo ? { queue: queueInfo } : {}) });
    const started = performance.now();
    let dnas: DnasWiring | undefined;
    try {
      if (config.strategy === 'dnas') {
        const reference = referenceOf(costFigures(estimateArchitectureCost(initial, processor, costOptions)));
        dnas = await createDnas(config, initial, processor, reference, {
          onEpoch: (epoch) => {
            store.addSupernetEpoch(epoch);
            events.onSupernetEpoch?.(epoch);
          },
          onStep: (progress) => events.onSupernetStep?.(progress),
          timeUp: () => stop.timeBudgetS !== undefined && elapsedS() >= stop.timeBudgetS,
        });
      }
      const strategy = dnas?.strategy ?? createStrategy(config, space, initial);
      const search = await runSearch({
        space,
        strategy,
        evaluator,
        processor,
        initial,
        loss: { ...config.loss },
        stop,
        cost: costOptions,
        prior,
        elapsedBeforeS,
        // One evaluation per worker; dnas trains its supernet here while its last argmax trains.
        concurrency: config.strategy === 'dnas' ? 1 : workers,
        // Confirming the best happens within the time budget, not after it.
        // And so do the best's final training and export.
        ...(evaluator instanceof TrainingEvaluator
          ? {
              reserve: {
                seconds: (trials: readonly Trial[]) => confirmationReserveS(config, trials, workers) + finalTrainingReserveS(config, trials),
                for: config.final.enabled ? 'confirming the best and training it once more' : 'confirming the best',
              },
            }
          : {}),
        ...(fidelity ? { fidelity, inherit: config.training.inherit ?? false } : {}),
        prune: config.prune,
        onTrial: (trial, best, replayed) => {
          if (!replayed) {
            store.addTrial(trial, config.seed);
            store.setMeta('elapsedS', elapsedS());
          }
          events.onTrial?.(trial, best, { trials: trial.index + 1, elapsedS: elapsedS(), replayed });
        },
      });
      // The supernet's epochs may run ahead of the search: stop them before the final training.
      await dnas?.dispose();
      const nothing = nothingEvaluated(search.trials, search.stoppedBecause, out, config.training.lr);
      if (nothing) {
        // Nothing to confirm, retrain or report; the trials stay in the store.
        store.setMeta('status', `failed: ${search.stoppedBecause}`);
        throw nothing;
      }
      const confirmation = evaluator instanceof TrainingEvaluator ? await confirmBest(config, search, evaluator, store, events) : undefined;
      const best = confirmation?.[0]?.trial ?? search.best;
      writeResults(out, config, search, best, confirmation);
      const final = evaluator instanceof TrainingEvaluator && config.final.enabled ? await finalize(out, config, best, evaluator, events) : undefined;
      writeReport(join(out, REPORT_FILE), reportInputOf(out, config, processor, search.trials, { stoppedBecause: search.stoppedBecause, final }, store.supernetEpochs(), confirmation));
      store.setMeta('status', `finished: ${search.stoppedBecause}`);
      return { out, config, search, best, ...(confirmation ? { confirmation } : {}), ...(final ? { final } : {}) };
    } finally {
      await dnas?.dispose();
      await evaluator.close?.();
    }
  } finally {
    folder.close();
  }
}

/**
 * Why a search that trained nothing cannot go on, or undefined when a candidate was evaluated (or
 * none failed: every one rejected over a budget is a result). When every training diverged, the
 * training settings are at fault (bad input); any other failure is procnas's or its install's.
 */
export function nothingEvaluated(trials: readonly Trial[], stoppedBecause: string, out: string, lr: number): Error | undefined {
  const failures = trials.filter((t) => t.status === 'failed');
  if (failures.length === 0 || trials.some((t) => t.status === 'done')) return undefined;
  const kept = `${trials.length} trials, kept in ${out}`;
  if (failures.every((t) => t.reason?.startsWith(DIVERGED))) return new ConfigError(`training.lr: every candidate's training diverged at lr ${lr} (${kept}): lower it`);
  return new Error(`no candidate could be evaluated, the first failing with: ${failures[0]?.reason ?? 'no reason given'} (${kept}; the search stopped because ${stoppedBecause})`);
}

/** The run's id, made once and kept in the store: queued jobs are named under it. */
function runIdOf(store: ExperimentStore): string {
  let id = store.getMeta<string>('runId');
  if (!id) {
    id = randomUUID();
    store.setMeta('runId', id);
  }
  return id;
}

/** Trains the best architecture once more and exports it: ONNX and a TF.js GraphModel. */
async function finalize(out: string, config: SearchConfig, best: Trial, evaluator: TrainingEvaluator, events: ExperimentEvents): Promise<NonNullable<ExperimentResult['final']>> {
  events.onFinalTraining?.();
  const result = await evaluator.finalTraining(best.architecture, { epochs: config.final.epochs, limit: config.final.limit });
  const graph = lower(best.architecture);
  const onnx = join(out, 'best.onnx');
  const tfjs = join(out, 'best-tfjs');
  // The architecture in file form: `procnas measure best.onnx` predicts its latency from it.
  const metadata = {
    notation: notationOf(best.architecture),
    architecture: JSON.stringify(architectureToData(best.architecture)),
    cost: JSON.stringify(best.cost),
    processor: config.processor,
    testAccuracy: String(result.testAccuracy),
  };
  // How to feed each model raw images, in its own layout.
  const statistics = result.statistics;
  if (!statistics) throw new Error('the final training returned no input statistics');
  const labels = classLabels(config.dataset, graph.classes);
  const preprocessing = (layout: 'NCHW' | 'NHWC'): string => JSON.stringify(preprocessingOf(layout, graph.input, statistics, labels));
  writeFileAtomic(onnx, exportOnnx(graph, result.weights ?? {}, { metadata: { ...metadata, preprocessing: preprocessing('NCHW') } }));
  writeGraphModel(tfjs, exportGraphModel(graph, result.weights ?? {}, { ...metadata, preprocessing: preprocessing('NHWC') }));
  const final: NonNullable<ExperimentResult['final']> = { validationAccuracy: result.validationAccuracy, testAccuracy: result.testAccuracy ?? Number.NaN, onnx, tfjs };
  if (result.int8) {
    const file = join(out, 'best-int8.onnx');
    const q = config.quantization;
    const quantization = JSON.stringify({ weights: 'int8, symmetric, per output channel', activations: 'int8, asymmetric, per tensor', calibration: q.calibration, ...(q.calibration === 'percentile' ? { percentile: q.percentile } : {}), images: q.images });
    writeFileAtomic(file, withMetadata(result.int8.model, { ...metadata, testAccuracy: String(result.int8.testAccuracy), floatTestAccuracy: String(result.testAccuracy), quantization, preprocessing: preprocessing('NCHW') }));
    final.int8 = { validationAccuracy: result.int8.validationAccuracy, testAccuracy: result.int8.testAccuracy ?? Number.NaN, onnx: file };
  }
  writeFileAtomic(join(out, 'final.json'), `${JSON.stringify(final, null, 2)}\n`);
  return final;
}

function trialSummary(t: Trial): object {
  return { index: t.index, notation: notationOf(t.architecture), status: t.status, error: t.error ?? null, loss: Number.isFinite(t.loss) ? t.loss : null, cost: t.cost, reason: t.reason ?? null };
}

function confirmationSummary(c: Confirmed): object {
  return { index: c.trial.index, notation: notationOf(c.trial.architecture), errors: c.errors, meanError: c.meanError, sdError: c.sdError, meanLoss: c.meanLoss, failures: c.failures };
}

function writeResults(out: string, config: SearchConfig, search: SearchResult, best: Trial, confirmation: Confirmed[] | undefined): void {
  const confirmedBest = confirmation?.[0];
  const bestFile = { architecture: architectureToData(best.architecture), ...trialSummary(best), ...(confirmedBest ? { confirmation: confirmationSummary(confirmedBest) } : {}), initial: trialSummary(search.initial) };
  writeFileAtomic(join(out, 'best.json'), `${JSON.stringify(bestFile, null, 2)}\n`);
  const summary = {
    config,
    stoppedBecause: search.stoppedBecause,
    iterations: search.iterations,
    evaluations: search.evaluations,
    reference: search.reference,
    best: trialSummary(best),
    // The search's best by one training, before confirmation (the same trial without it).
    searchBest: trialSummary(search.best),
    confirmation: confirmation?.map(confirmationSummary) ?? null,
    initial: trialSummary(search.initial),
    pareto: search.pareto.map(trialSummary),
  };
  writeFileAtomic(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
}
