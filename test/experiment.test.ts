import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import * as ort from 'onnxruntime-node';
import { ConfigError, mergeConfig, parseSearchConfig } from '../src/experiment/config.js';
import { ExperimentStore } from '../src/experiment/store.js';
import { nothingEvaluated, runExperiment } from '../src/experiment/run.js';
import type { Trial } from '../src/search/index.js';
import { architectureToData, builtinArchitecture, lower, notationOf } from '../src/space/index.js';
import { initEngine } from '../src/engine/backend.js';
import { runJob } from '../src/engine/job.js';
import { estimateCost } from '../src/cost/index.js';
import { presetProcessor } from '../src/processor/index.js';
import type { Processor } from '../src/processor/index.js';
import { halvesSearch, relativeError, writeFaintHalvesIdx, writeHalvesIdx } from './fixtures.js';
import { loadDataset, prepareSplits } from '../src/data/index.js';
import { onnxMetadata } from '../src/export/index.js';
import type { Preprocessing } from '../src/export/index.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TABLE = fileURLToPath(new URL('../../shared/data/nb201/accuracy.json', import.meta.url));
const DENSE = 'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';

function procnas(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The stored trials of an experiment folder, in order, as key + loss. */
function storedTrials(dir: string): Array<{ idx: number; key: string; loss: number | null; status: string; rung: number }> {
  const db = new Database(join(dir, 'experiment.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT idx, key, loss, status, rung FROM trials ORDER BY idx').all() as Array<{ idx: number; key: string; loss: number | null; status: string; rung: number }>;
  } finally {
    db.close();
  }
}

const searchArgs = ['search', '--initial', DENSE, '--table', TABLE, '--strategy', 'evolution', '--seed', '3', '--max-evals', '2500', '--workers', '2', '--json'];

describe('experiments survive a crash', () => {
  it('killed with SIGKILL mid-search, --resume loses no trial, re-runs none, and ends where an uninterrupted run ends', async () => {
    const root = mkdtempSync(join(tmpdir(), 'procnas-exp-'));
    const whole = join(root, 'whole');
    const cut = join(root, 'cut');
    const uninterrupted = procnas(...searchArgs, '--out', whole);
    assert.equal(uninterrupted.code, 0, uninterrupted.stderr);

    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...searchArgs, '--out', cut], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let storedBeforeKill = 0;
    for (let i = 0; i < 2000 && storedBeforeKill < 300; i++) {
      await new Promise((r) => setTimeout(r, 10));
      if (existsSync(join(cut, 'experiment.sqlite'))) {
        try {
          storedBeforeKill = storedTrials(cut).length;
        } catch {
          // The writer may be creating the schema.
        }
      }
    }
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const afterKill = storedTrials(cut);
    assert.ok(afterKill.length >= 300 && afterKill.length < 2500, `${afterKill.length} trials stored when killed`);
    assert.ok(!existsSync(join(cut, 'best.json')));

    const resumed = procnas('search', '--resume', cut, '--json');
    assert.equal(resumed.code, 0, resumed.stderr);
    const all = storedTrials(cut);
    const expected = storedTrials(whole);
    // Nothing lost: the trials stored before the kill are still there, unchanged.
    assert.deepEqual(all.slice(0, afterKill.length), afterKill);
    // Nothing re-run (keys are unique in the store) and the same path as without the crash.
    assert.equal(new Set(all.map((t) => t.key)).size, all.length);
    assert.deepEqual(all.map((t) => t.key), expected.map((t) => t.key));
    const best = (out: string) => JSON.parse(out) as { best: { key: string; loss: number }; evaluations: number };
    assert.deepEqual(best(resumed.stdout).best, best(uninterrupted.stdout).best);
    assert.equal(best(resumed.stdout).evaluations, best(uninterrupted.stdout).evaluations);
    const bestFile = JSON.parse(readFileSync(join(cut, 'best.json'), 'utf8')) as { architecture: { stages: unknown[] }; loss: number };
    assert.equal(bestFile.loss, best(uninterrupted.stdout).best.loss);
    assert.equal(bestFile.architecture.stages.length, 3);
  });

  it('a trained search killed with SIGKILL mid-search resumes without losing or retraining a trial, at every rung', async () => {
    const root = mkdtempSync(join(tmpdir(), 'procnas-exp-trained-'));
    writeHalvesIdx(root);
    const config = join(root, 'search.json');
    writeFileSync(config, JSON.stringify(halvesSearch(root, { strategy: 'evolution', fidelity: { rungs: 3 }, stop: { maxEvals: 24 }, confirm: { top: 0 }, final: { enabled: false } })));
    const cut = join(root, 'cut');
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'search', '--config', config, '--out', cut], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let stored = 0;
    for (let i = 0; i < 3000 && stored < 8; i++) {
      await new Promise((r) => setTimeout(r, 20));
      try {
        if (existsSync(join(cut, 'experiment.sqlite'))) stored = storedTrials(cut).length;
      } catch {
        // The writer may be creating the schema.
      }
    }
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const afterKill = storedTrials(cut);
    assert.ok(afterKill.length >= 8 && afterKill.length < 24, `${afterKill.length} trials stored when killed`);
    const resumed = procnas('search', '--resume', cut, '--json');
    // A stored trial trained again would break the store's unique key: the resume would fail.
    assert.equal(resumed.code, 0, resumed.stderr);
    const all = storedTrials(cut);
    assert.deepEqual(all.slice(0, afterKill.length), afterKill, 'the trials stored before the kill are kept as they were');
    assert.equal(new Set(all.map((t) => `${t.key}@${t.rung}`)).size, all.length);
    assert.equal(all.length, 24);
    // Multi-fidelity: trials at every rung, before the kill and after it.
    assert.deepEqual([...new Set(all.map((t) => t.rung))].sort(), [0, 1, 2]);
    assert.ok(afterKill.some((t) => t.rung > 0), 'a higher rung was stored before the kill');
    assert.equal((JSON.parse(resumed.stdout) as { evaluations: number }).evaluations, 24);
  });

  it('a bayesian search stopped and resumed with a larger limit proposes what an uninterrupted one does', () => {
    const root = mkdtempSync(join(tmpdir(), 'procnas-exp-'));
    const args = ['search', '--initial', DENSE, '--table', TABLE, '--strategy', 'bayesian', '--seed', '5', '--workers', '1', '--json'];
    const whole = procnas(...args, '--max-evals', '40', '--out', join(root, 'whole'));
    assert.equal(whole.code, 0, whole.stderr);
    const part = procnas(...args, '--max-evals', '25', '--out', join(root, 'part'));
    assert.equal(part.code, 0, part.stderr);
    const resumed = procnas('search', '--resume', join(root, 'part'), '--max-evals', '40', '--json');
    assert.equal(resumed.code, 0, resumed.stderr);
    const keys = (dir: string): string[] => storedTrials(join(root, dir)).map((t) => t.key);
    assert.equal(keys('whole').length, 40);
    assert.deepEqual(keys('part'), keys('whole'));
  });

  it('refuses to overwrite an experiment, and to resume a folder that holds none', () => {
    const root = mkdtempSync(join(tmpdir(), 'procnas-exp-'));
    const out = join(root, 'run');
    assert.equal(procnas('search', '--initial', DENSE, '--table', TABLE, '--max-evals', '20', '--out', out).code, 0);
    const again = procnas('search', '--initial', DENSE, '--table', TABLE, '--max-evals', '20', '--out', out);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already holds an experiment \(20 trials\): resume it with --resume/);
    const nothing = procnas('search', '--resume', join(root, 'empty'));
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /empty: no such folder: nothing to resume/);
  });

  it('on --resume takes new stop conditions and says so, refuses anything that would change the path, and keeps the profile it started with', () => {
    const root = mkdtempSync(join(tmpdir(), 'procnas-resume-'));
    const out = join(root, 'run');
    const chip = join(root, 'chip.yaml');
    writeFileSync(chip, 'name: chip\ndtype: int8\nsram: 256KiB\ndram: { bandwidth: 4GB/s, energy: 20pJ/bit }\ncompute: { peak: 100GMAC/s }\n');
    const first = procnas('search', '--initial', DENSE, '--table', TABLE, '--processor', chip, '--max-evals', '12', '--out', out);
    assert.equal(first.code, 0, first.stderr);
    const before = storedTrials(out).length;
    assert.ok(before >= 12 && before < 30, `${before} trials`);
    const changing = procnas('search', '--resume', out, '--processor', 'edge-cpu', '--seed', '4');
    assert.equal(changing.code, 2);
    assert.match(changing.stderr, /^procnas: --resume continues a search with the configuration it started with; --processor, --seed would change it/);
    // The profile file changes on disk; the run goes on with the stored one, and says so.
    writeFileSync(chip, 'name: chip\ndtype: int8\nsram: 64KiB\ndram: { bandwidth: 1GB/s, energy: 20pJ/bit }\ncompute: { peak: 100GMAC/s }\n');
    const resumed = procnas('search', '--resume', out, '--max-evals', '30', '--json');
    assert.equal(resumed.code, 0, resumed.stderr);
    const output = resumed.stdout + resumed.stderr;
    assert.match(output, /note: resumed with new stop conditions: maxEvals 30/);
    assert.match(output, /note: the processor .*chip\.yaml has changed since the run started: it goes on with the profile it started with/);
    const trials = storedTrials(out);
    assert.ok(trials.length >= 30, `${trials.length} trials`);
    assert.deepEqual(trials.slice(0, before).map((t) => t.idx), Array.from({ length: before }, (_, i) => i));
    // The report of the run shows the profile it ran with (256 KiB), not the file as it is now.
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /256 KiB/);
  });

  it('opens a store written before the DRAM power was costed: the column is added, old trials get energy over latency', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'procnas-old-store-')), 'experiment.sqlite');
    const db = new Database(file);
    db.exec(`CREATE TABLE trials (idx INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, notation TEXT NOT NULL, architecture TEXT NOT NULL,
      status TEXT NOT NULL, error REAL, loss REAL, reason TEXT, params INTEGER NOT NULL, macs INTEGER NOT NULL, latency_s REAL NOT NULL,
      energy_j REAL NOT NULL, dram_time_s REAL NOT NULL, dram_energy_j REAL NOT NULL, dram_bytes INTEGER NOT NULL, evaluation_s REAL NOT NULL,
      seed INTEGER NOT NULL, finished_at TEXT NOT NULL)`);
    const architecture = JSON.stringify({ name: 'old', input: '8x8x1', classes: 2, stages: [['cn_k3_c8']], head: ['gap', 'fc'] });
    db.prepare(`INSERT INTO trials VALUES (0, 'k', 'cn_k3_c8', ?, 'done', 0.1, 0.3, NULL, 100, 200, 0.002, 1e-6, 0.001, 4e-7, 1000, 1.5, 0, '2026-01-01')`).run(architecture);
    db.close();
    const store = new ExperimentStore(file);
    const [trial] = store.trials();
    assert.equal(trial?.cost.dramPowerW, 4e-7 / 0.002);
    store.close();
    const columns = (new Database(file).prepare('PRAGMA table_info(trials)').all() as Array<{ name: string }>).map((c) => c.name);
    assert.ok(columns.includes('dram_power_w'), columns.join(', '));
  });
});

describe('a search that evaluated nothing', () => {
  const trial = (status: Trial['status'], reason?: string): Trial => ({ status, ...(reason ? { reason } : {}) }) as Trial;
  it('blames the training settings when every training diverged, procnas (exit 1) for any other failure, and nothing when one trained', () => {
    const diverged = nothingEvaluated([trial('failed', 'training diverged (the loss became NaN)'), trial('failed', 'training diverged (the loss became NaN)')], 'x', '/out', 5);
    assert.ok(diverged instanceof ConfigError, 'divergence is bad input');
    assert.match(diverged.message, /^training\.lr: every candidate's training diverged at lr 5 \(2 trials, kept in \/out\): lower it$/);
    const broken = nothingEvaluated([trial('failed', 'ENOENT: no such file kernels.wasm'), trial('failed', 'training diverged')], '10 evaluations in a row failed', '/out', 5);
    assert.ok(broken && !(broken instanceof ConfigError), 'any other failure is not the input');
    assert.match(broken.message, /^no candidate could be evaluated, the first failing with: ENOENT: no such file kernels\.wasm \(2 trials, kept in \/out; the search stopped because 10 evaluations in a row failed\)$/);
    assert.equal(nothingEvaluated([trial('failed', 'x'), trial('done')], 'x', '/out', 5), undefined);
    assert.equal(nothingEvaluated([trial('rejected', 'over budget')], 'x', '/out', 5), undefined, 'all rejected is a result');
  });
});

describe('search configuration', () => {
  it('reads YAML, lets flags win, and names a bad key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-cfg-'));
    const file = join(dir, 'search.yaml');
    writeFileSync(file, ['processor: edge-cpu', 'strategy: random', 'loss: { lambdaTime: 0.5 }', 'stop: { maxEvals: 7 }', ''].join('\n'));
    const run = procnas('search', '--config', file, '--initial', DENSE, '--table', TABLE, '--lambda-energy', '0', '--json', '--out', join(dir, 'out'));
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8')) as { config: Record<string, unknown> & { loss: Record<string, number> } ; evaluations: number };
    assert.equal(summary.config.processor, 'edge-cpu');
    assert.equal(summary.config.strategy, 'random');
    assert.equal(summary.config.loss.lambdaTime, 0.5);
    assert.equal(summary.config.loss.lambdaEnergy, 0);
    assert.ok(summary.evaluations >= 7);

    writeFileSync(file, 'stop: { maxEvals: -1 }\nlos: {}\n');
    const bad = procnas('search', '--config', file);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /search\.yaml: invalid search configuration/);
    assert.match(bad.stderr, /stop\.maxEvals/);
    assert.match(bad.stderr, /los/);
  });

  it("costs one training step at the training batch by default (the patent's cost), inference at batch 1 on request, and says which", () => {
    assert.deepEqual(parseSearchConfig({}).cost, { mode: 'training', batch: 64 });
    assert.deepEqual(parseSearchConfig({ training: { batch: 32 } }).cost, { mode: 'training', batch: 32 });
    assert.deepEqual(parseSearchConfig({ cost: { mode: 'inference' } }).cost, { mode: 'inference', batch: 1 });
    assert.deepEqual(parseSearchConfig({ cost: { batch: 8 } }).cost, { mode: 'training', batch: 8 });
    const dir = mkdtempSync(join(tmpdir(), 'procnas-costmode-'));
    const run = procnas('search', '--initial', DENSE, '--table', TABLE, '--max-evals', '3', '--cost-mode', 'inference', '--out', join(dir, 'out'));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout + run.stderr, /DRAM cost of inference, batch 1/);
    const summary = JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8')) as { config: { cost: unknown } };
    assert.deepEqual(summary.config.cost, { mode: 'inference', batch: 1 });
    assert.match(readFileSync(join(dir, 'out', 'report.html'), 'utf8'), /inference, batch 1/);
  });

  it('merges flags into file data, deeply', () => {
    const merged = mergeConfig({ loss: { lambdaTime: 1, lambdaEnergy: 2 }, seed: 1 }, { loss: { lambdaEnergy: 3 }, seed: undefined });
    assert.deepEqual(merged, { loss: { lambdaTime: 1, lambdaEnergy: 3 }, seed: 1 });
    assert.throws(() => parseSearchConfig({ strategy: 'annealing' }), ConfigError);
  });
});

describe('a microcontroller\'s budgets', () => {
  it('rejects every candidate whose stored weights exceed loss.budgets.flashBytes, untrained, and says why', async () => {
    // The initial holds no convolution in its cell (skip connections only); a flash budget a
    // little above its weights leaves room for few convolutions.
    const initial = 'nb201:|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|';
    const processor = presetProcessor('microcontroller') as Processor;
    const own = estimateCost(lower(builtinArchitecture(initial)!), processor).memory.storedWeightBytes;
    const flashBytes = own + 20_000;
    const dir = mkdtempSync(join(tmpdir(), 'procnas-flash-'));
    const config = parseSearchConfig({ processor: 'microcontroller', initial, evaluator: { kind: 'nb201-table', table: TABLE }, strategy: 'random', stop: { maxEvals: 60 }, loss: { budgets: { flashBytes } } });
    const result = await runExperiment(config, join(dir, 'run'), false);
    const rejected = result.search.trials.filter((t) => t.status === 'rejected');
    assert.ok(rejected.length > 0, 'some candidates hold more weights than the budget');
    for (const t of rejected) assert.match(t.reason ?? '', /^stored weights \d+ above the budget \d+/);
    for (const t of result.search.trials.filter((u) => u.status === 'done')) assert.ok(t.cost.storedWeightBytes <= flashBytes, `${t.key} holds ${t.cost.storedWeightBytes} B`);
    assert.ok(result.best.cost.storedWeightBytes <= flashBytes);
  });
});

describe('a search scored in int8', () => {
  it('scores each candidate by the validation error of its network quantised after training', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-int8-'));
    writeFaintHalvesIdx(dir);
    // One rung: the trial is the full training the job below repeats.
    const config = parseSearchConfig(halvesSearch(dir, { stop: { maxEvals: 2 }, workers: 1, final: { enabled: false }, confirm: { top: 0 }, fidelity: { rungs: 1 }, quantization: { score: true, images: 1 } }));
    const result = await runExperiment(config, join(dir, 'run'), false);
    const trial = result.search.trials.find((t) => t.status === 'done') as Trial;
    // The same job again, here: its int8 network's validation error is the trial's error.
    await initEngine('wasm');
    const t = config.training;
    const again = await runJob({
      architecture: architectureToData(trial.architecture),
      dataset: config.dataset,
      split: { seed: config.seed, limit: t.limit, validation: t.validation },
      options: { epochs: t.epochs, batchSize: t.batch, learningRate: t.lr, optimizer: t.optimizer, weightDecay: t.weightDecay, labelSmoothing: t.labelSmoothing, augment: t.augment, seed: config.seed },
      int8: { images: 1, calibration: 'minmax', percentile: 99.99 },
    });
    assert.ok(again.int8);
    assert.equal(trial.error, 1 - again.int8.validationAccuracy);
    // Not the float error: the faint task and a one-image calibration set them apart.
    assert.notEqual(trial.error, again.validationError);
  });
});

describe('a search with quantisation off', () => {
  it('writes no int8 model and reports none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-noint8-'));
    writeHalvesIdx(dir);
    const out = join(dir, 'run');
    const result = await runExperiment(parseSearchConfig(halvesSearch(dir, { stop: { maxEvals: 1 }, workers: 1, confirm: { top: 0 }, quantization: { enabled: false } })), out, false);
    assert.ok(result.final, 'the final training ran');
    assert.equal(result.final.int8, undefined);
    assert.equal(existsSync(join(out, 'best-int8.onnx')), false);
  });
});

describe('a search that trains its candidates', () => {
  it('runs on a real (tiny) task with the worker pool and stores every trial', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-exp-'));
    writeHalvesIdx(dir);
    const config = parseSearchConfig(halvesSearch(dir, { strategy: 'evolution', stop: { maxEvals: 6 }, training: { epochs: 1, batch: 32, validation: 100, limit: 300 } }));
    const out = join(dir, 'run');
    const result = await runExperiment(config, out, false);
    assert.ok(result.search.evaluations >= 6);
    const done = result.search.trials.filter((t) => t.status === 'done');
    assert.ok(done.length >= 6);
    for (const t of done) assert.ok((t.error as number) >= 0 && (t.error as number) <= 1);
    const store = new ExperimentStore(join(out, 'experiment.sqlite'));
    assert.equal(store.count(), result.search.evaluations);
    assert.deepEqual(store.trials().map((t) => t.key), result.search.trials.map((t) => t.key));
    store.close();
    // The best architecture is retrained and exported; onnxruntime runs it.
    assert.ok(result.final && result.final.testAccuracy >= 0.9, `final ${JSON.stringify(result.final)}`);
    const session = await ort.InferenceSession.create(readFileSync(join(out, 'best.onnx')));
    const logits = (await session.run({ input: new ort.Tensor('float32', new Float32Array(2 * 64), [2, 1, 8, 8]) })).logits;
    assert.deepEqual(logits?.dims, [2, 2]);
    const graphModel = JSON.parse(readFileSync(join(out, 'best-tfjs', 'model.json'), 'utf8')) as { format: string; userDefinedMetadata: Record<string, string> };
    assert.equal(graphModel.format, 'graph-model');
    assert.equal(graphModel.userDefinedMetadata.notation, notationOf(result.best.architecture));
    assert.ok(existsSync(join(out, 'best-tfjs', 'group1-shard1of1.bin')));

    // The exports say how to feed them raw images: the training's own normalisation.
    const recorded = JSON.parse(onnxMetadata(readFileSync(join(out, 'best.onnx'))).preprocessing ?? '{}') as Preprocessing;
    const dataset = loadDataset(`idx:${dir}`);
    const splits = prepareSplits(dataset, { seed: config.seed, limit: 300, validation: 100 });
    assert.deepEqual(recorded, { layout: 'NCHW', shape: [1, 8, 8], scale: 1 / 255, mean: splits.mean, std: splits.std, labels: ['0', '1'] });
    assert.deepEqual(JSON.parse(graphModel.userDefinedMetadata.preprocessing ?? '{}'), { ...recorded, layout: 'NHWC', shape: [8, 8, 1] });
    // Raw test images through the ONNX model with that metadata alone: the logits of the prepared
    // test images, and the accuracy final.json reports.
    const { images, labels, count } = dataset.test;
    const fed = Float32Array.from(images, (pixel) => (pixel * recorded.scale - (recorded.mean[0] as number)) / (recorded.std[0] as number));
    const fromRaw = (await session.run({ input: new ort.Tensor('float32', fed, [count, 1, 8, 8]) })).logits?.data as Float32Array;
    assert.equal(splits.test.count, count);
    const fromPrepared = (await session.run({ input: new ort.Tensor('float32', splits.test.x, [count, 1, 8, 8]) })).logits?.data as Float32Array;
    assert.ok(relativeError(fromRaw, fromPrepared) < 1e-5, `relative error ${relativeError(fromRaw, fromPrepared)}`);
    let correct = 0;
    for (let i = 0; i < count; i++) if (((fromRaw[2 * i + 1] as number) > (fromRaw[2 * i] as number) ? 1 : 0) === labels[i]) correct++;
    assert.equal(correct / count, result.final.testAccuracy);

    // And in int8 (post-training, on by default): best-int8.onnx, whose accuracy on the test
    // images is what final.json says, fed with the same preprocessing.
    const int8 = result.final.int8;
    assert.ok(int8, 'the final training was quantised');
    const file = JSON.parse(readFileSync(join(out, 'final.json'), 'utf8')) as { int8: { testAccuracy: number; onnx: string } };
    assert.equal(file.int8.testAccuracy, int8.testAccuracy);
    const quantised = readFileSync(join(out, 'best-int8.onnx'));
    const meta = onnxMetadata(quantised);
    assert.equal(meta.preprocessing, onnxMetadata(readFileSync(join(out, 'best.onnx'))).preprocessing);
    assert.match(meta.quantization ?? '', /"weights":"int8, symmetric, per output channel"/);
    const int8Session = await ort.InferenceSession.create(quantised);
    const int8Logits = (await int8Session.run({ input: new ort.Tensor('float32', fed, [count, 1, 8, 8]) })).logits?.data as Float32Array;
    let int8Correct = 0;
    for (let i = 0; i < count; i++) if (((int8Logits[2 * i + 1] as number) > (int8Logits[2 * i] as number) ? 1 : 0) === labels[i]) int8Correct++;
    assert.equal(int8Correct / count, int8.testAccuracy);
    assert.ok(int8.testAccuracy >= 0.9, `int8 test accuracy ${int8.testAccuracy}`);
    // The report says it beside the float accuracy.
    assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes(`test accuracy ${(100 * int8.testAccuracy).toFixed(2)}% (best-int8.onnx)`));
  });
});
