import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import onnxProto from 'onnx-proto';
import { ExperimentStore } from '../src/experiment/store.js';
import { halvesSearch, writeHalvesIdx } from './fixtures.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

function procnas(...args: string[]) {
  return procnasWith({}, ...args);
}

/** The CLI with extra environment variables and node options (e.g. a preloaded module). */
function procnasWith(o: { env?: Record<string, string>; preload?: string }, ...args: string[]) {
  const node = ['--import', 'tsx', ...(o.preload ? ['--import', o.preload] : [])];
  const run = spawnSync(process.execPath, [...node, MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...o.env } });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('procnas cost', () => {
  it('--totals prints the totals alone, the same as with every layer', () => {
    const full = procnas('cost', 'mobilenet_v2', '--mode', 'training', '--batch', '8');
    const totals = procnas('cost', 'mobilenet_v2', '--mode', 'training', '--batch', '8', '--totals');
    assert.equal(totals.code, 0, totals.stderr);
    assert.match(totals.stdout, /^mobilenet_v2 on mobile-npu /);
    assert.doesNotMatch(totals.stdout, /[┌│]/);
    // Deployed memory (int8 on mobile-npu), against the profile's SRAM.
    assert.match(totals.stdout, /\n {2}deployed +peak activations 1\.34 MiB \(one image, layer by layer; above the 1\.00 MiB SRAM\), weights 3\.33 MiB stored/);
    assert.match(procnas('cost', 'mnist-mbconv', '--totals').stdout, /peak activations 61\.3 KiB \(one image, layer by layer; fits the 1\.00 MiB SRAM\)/);
    // A microcontroller with flash: the weights read from it, and whether they fit it.
    const mcu = procnas('cost', 'mobilenet_v2', '-p', 'stm32f746', '--totals').stdout;
    // Its activations overflow the SRAM: some weights are read more than once.
    assert.match(mcu, /\n {2}flash +[\d.]+ MiB of weights read in place \([\d.]+ MiB in whole lines\), time [\d.]+ ms, energy [\d.]+ µJ\n/);
    assert.match(mcu, /DRAM traffic .*\(weights 0 B,/);
    assert.match(mcu, /latency .*\(per layer: compute \+ DRAM \+ flash\)/);
    assert.match(mcu, /weights 3\.33 MiB stored \(above the 1\.00 MiB flash\)/);
    assert.ok(full.stdout.endsWith(totals.stdout), 'the totals are those printed below the table');
    const json = JSON.parse(procnas('cost', 'mobilenet_v2', '--json', '--totals').stdout) as Record<string, unknown>;
    const { layers, ...rest } = JSON.parse(procnas('cost', 'mobilenet_v2', '--json').stdout) as Record<string, unknown>;
    assert.ok(Array.isArray(layers));
    assert.deepEqual(json, rest);
  });

  it('--json prints exactly one JSON object with the documented fields', () => {
    const run = procnas('cost', 'mobilenet_v2', '--processor', 'mobile-npu', '--json');
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as Record<string, unknown> & {
      dram: Record<string, number>;
      compute: Record<string, number>;
      layers: Array<Record<string, unknown>>;
    };
    assert.equal(report.params, 3_504_872);
    for (const key of ['macs', 'latencyS', 'energyJ']) assert.equal(typeof report[key], 'number', key);
    for (const key of ['readBytes', 'writeBytes', 'busReadBytes', 'busWriteBytes', 'transfers']) assert.ok(Number.isInteger(report.dram[key]), key);
    for (const key of ['timeS', 'energyJ', 'dynamicJ', 'rowJ', 'backgroundJ', 'powerW', 'rowActivations']) assert.equal(typeof report.dram[key], 'number', key);
    for (const key of ['timeS', 'energyJ']) assert.equal(typeof report.compute[key], 'number', key);
    assert.equal(report.layers.length, 151);
    for (const key of ['name', 'op', 'params', 'macs', 'dramReadBytes', 'dramWriteBytes', 'latencyS', 'fused', 'folded', 'mappings']) {
      assert.ok(key in (report.layers[0] ?? {}), key);
    }
    // A layer mapped on its own names its tiles, its stationary operand and each operand's traffic.
    const mapped = report.layers.find((l) => (l.mappings as unknown[]).length > 0) as { mappings: Array<Record<string, unknown>> } | undefined;
    assert.ok(mapped, 'some layer is mapped on its own');
    assert.deepEqual(Object.keys(mapped.mappings[0]!).sort(), ['footprintBytes', 'operands', 'pass', 'stationary', 'tile']);
    assert.equal(report.layers.reduce((a, l) => a + (l.params as number), 0), 3_504_872);
  });

  it('prints a per-layer table and the totals', () => {
    const run = procnas('cost', 'resnet18', '-p', 'edge-cpu', '--mode', 'training', '--batch', '4');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /stem\.0\.conv\s*│\s*conv7x7/);
    assert.match(run.stdout, /resnet18 on edge-cpu \(fp32, 1\.00 MiB SRAM, fusion composite, lpddr4-3200-x32: LPDDR4-3200, two x16 channels\), training, batch 4/);
    assert.match(run.stdout, /params\s+11,689,512/);
    assert.match(run.stdout, /DRAM time\s+\d/);
    assert.match(run.stdout, /DRAM energy .*\(bursts .*, rows .*, standby .*\), average power .*W/);
    // Each mapped layer shows its mapping per pass: forward, input gradient, weight gradient.
    assert.match(run.stdout, /s1\.b0\.conv1 .*(WS|OS|IS|all) n\d+ k\d+ c\d+ p\d+ q\d+, dI (WS|OS|IS|all) .*, dW (WS|OS|IS|all) /);
  });

  it('takes architecture and processor files, and overrides input and classes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-cli-'));
    const arch = join(dir, 'net.yaml');
    writeFileSync(arch, 'input: 32x32x3\nclasses: 10\nstem: [cn_k3_c16]\nstages: [[ir_r2_k3_s2_e6_c24]]\nhead: [gap, fc]\n');
    const chip = join(dir, 'chip.json');
    writeFileSync(chip, JSON.stringify({ name: 'my-chip', dtype: 'int8', sram: '64KiB', dram: { bandwidth: '1GB/s', energy: '20pJ/bit' }, compute: { peak: '10GMAC/s' } }));
    const base = JSON.parse(procnas('cost', arch, '-p', chip, '--json').stdout) as { params: number; processor: string; macs: number };
    assert.equal(base.processor, 'my-chip');
    const bigger = JSON.parse(procnas('cost', arch, '-p', chip, '--json', '--input', '64x64x3', '--classes', '100').stdout) as typeof base;
    assert.equal(bigger.params - base.params, 24 * 90 + 90);
    assert.ok(bigger.macs > 3.9 * base.macs);
  });

  it('explains bad input and exits with status 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-cli-'));
    const arch = join(dir, 'bad.yaml');
    writeFileSync(arch, 'input: 32x32x3\nclasses: 10\nstages: [[ir_k3_c16, {type: ir, kernel: -1}]]\nhead: [gap, fc]\n');
    const bad = procnas('cost', arch);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad\.yaml: invalid architecture: stages\[0\]\[1\]\.kernel:/);
    assert.equal(bad.stdout, '');
    const unknown = procnas('cost', 'mobilenet_v2', '-p', 'tpu-v9');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /tpu-v9: no such file, and not a processor preset \(mobile-npu, edge-cpu, microcontroller, stm32f746, eyeriss\)/);
    const flag = procnas('cost', 'mobilenet_v2', '--batch', 'many');
    assert.notEqual(flag.code, 0);
    assert.match(flag.stderr, /--batch.*must be a positive integer/);
    const mode = procnas('cost', 'mobilenet_v2', '--mode', 'fast');
    assert.notEqual(mode.code, 0);
    assert.match(mode.stderr, /Allowed choices are inference, training/);
  });
});

describe('procnas search: the keys of search v2, refused clearly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'procnas-v2-keys-'));
  const search = (yaml: string, ...flags: string[]) => {
    const config = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(config, yaml);
    return procnas('search', '--config', config, '--out', join(dir, `o-${Math.random().toString(36).slice(2)}`), ...flags);
  };

  it('names the bad key of fidelity, confirm and nested, and exits 2 before any trial', () => {
    const bad = search('fidelity: { rungs: 0, eta: 1 }\nconfirm: { top: -1 }\nnested: { innerPatience: 0 }\nneighbourhood: 8\n');
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /^procnas: .*invalid search configuration/);
    for (const key of ['fidelity.rungs', 'fidelity.eta', 'confirm.top', 'nested.innerPatience']) assert.match(bad.stderr, new RegExp(`(: | {2})${key.replace('.', '\\.')}: `), key);
    assert.match(bad.stderr, /Unrecognized key: "neighbourhood"/);
    assert.doesNotMatch(bad.stderr, /trial/);
  });

  it('refuses nested and multi-fidelity on the NAS-Bench-201 table, naming why', () => {
    const table = fileURLToPath(new URL('../../shared/data/nb201/accuracy.json', import.meta.url));
    const nested = procnas('search', '--initial', 'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|', '--table', table, '--strategy', 'nested', '--max-evals', '3', '--out', join(dir, 'nested'));
    assert.equal(nested.code, 2, nested.stderr);
    assert.match(nested.stderr, /^procnas: strategy nested moves stage widths and depths outside/);
    const rungs = search(`initial: "nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"\nevaluator: { kind: nb201-table, table: ${table} }\nfidelity: { rungs: 2 }\nstop: { maxEvals: 3 }\n`);
    assert.equal(rungs.code, 2, rungs.stderr);
    assert.match(rungs.stderr, /^procnas: fidelity: the NAS-Bench-201 table has one fidelity/);
  });
});

describe('bad flags and commands', () => {
  it('get one line naming the flag or command, status 2, and no help; --help still prints it and succeeds', () => {
    const cases: Array<[string[], RegExp]> = [
      [['cost', 'resnet18', '--batch', '0'], /^procnas: option '-b, --batch <n>' argument '0' is invalid\. must be a positive integer\. \(see procnas cost --help\)$/],
      [['search', '--bogus'], /^procnas: unknown option '--bogus' \(see procnas search --help\)$/],
      [['train', 'resnet18', '--epochs', 'many'], /^procnas: option '-e, --epochs <n>' argument 'many' is invalid/],
      [['cost'], /^procnas: missing required argument 'arch' \(see procnas cost --help\)$/],
      [['nosuch'], /^procnas: unknown command 'nosuch' \(see procnas --help\)$/],
      [['search', '--strategy', 'greedy'], /^procnas: option '-s, --strategy <name>' argument 'greedy' is invalid\. Allowed choices are local, evolution, random, nested, dnas, bayesian\./],
    ];
    for (const [args, first] of cases) {
      const run = procnas(...args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.equal(run.stderr.trimEnd().split('\n').length, 1, `${args.join(' ')}: one line, not the help:\n${run.stderr}`);
      assert.match(run.stderr.trimEnd(), first);
      assert.equal(run.stdout, '');
    }
    const bare = procnas();
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /^procnas: no command given\nUsage: procnas/);
    const help = procnas('cost', '--help');
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: procnas cost \[options\] <arch>/);
    assert.equal(help.stderr, '');
  });

  it('search --help shows the defaults the configuration takes, and export --help every format', () => {
    const help = procnas('search', '--help').stdout.replace(/\s+/g, ' ');
    for (const shown of ['config key: processor; default: mobile-npu', 'default: mnist)', 'default: mnist-mbconv', 'default: local', 'loss.lambdaTime; default: 0.1', 'default: 10m when no other stop condition', 'below 5m a trained search takes multi-fidelity', 'seed; default: 0']) {
      assert.ok(help.includes(shown), `search --help shows "${shown}"`);
    }
    assert.match(procnas('export', '--help').stdout.replace(/\s+/g, ' '), /choices: "onnx", "tfjs", "json"/);
  });
});

describe('procnas search prunes hopeless candidates', () => {
  it('says how many it did not train, and trains them with --no-prune', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-prune-'));
    const table = fileURLToPath(new URL('../../shared/data/nb201/accuracy.json', import.meta.url));
    const args = ['search', '--initial', 'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|', '--table', table, '--lambda-time', '0.5', '--lambda-energy', '0.5', '--max-evals', '80', '--seed', '3'];
    const pruned = procnas(...args, '--out', join(dir, 'pruned'));
    assert.equal(pruned.code, 0, pruned.stderr);
    const count = Number(/\n {2}not trained: (\d+) unable to beat the best \(prune\)\n/.exec(pruned.stdout)?.[1]);
    assert.ok(count > 0, pruned.stdout);
    const store = new ExperimentStore(join(dir, 'pruned', 'experiment.sqlite'));
    assert.equal(store.trials().filter((t) => t.status === 'rejected').length, count);
    store.close();
    const all = procnas(...args, '--no-prune', '--out', join(dir, 'all'));
    assert.equal(all.code, 0, all.stderr);
    assert.doesNotMatch(all.stdout, /not trained/);
    // Resumed: --no-prune would change the path, and is refused like every such flag.
    const resumed = procnas('search', '--resume', join(dir, 'pruned'), '--no-prune');
    assert.equal(resumed.code, 2, resumed.stderr);
    assert.match(resumed.stderr, /^procnas: --resume continues a search with the configuration it started with; --no-prune would change it/);
  });
});

describe('procnas search when every training fails', () => {
  it('stops after ten failures in a row, names the setting at fault, exits 2, and keeps the trials', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-diverging-'));
    writeHalvesIdx(dir);
    const config = join(dir, 'diverging.json');
    // Every candidate in full: rung 0 of multi-fidelity here is one step, which does not diverge.
    writeFileSync(config, JSON.stringify(halvesSearch(dir, { training: { epochs: 1, batch: 32, validation: 100, limit: 200, lr: 1e12 }, fidelity: { rungs: 1 }, stop: { maxEvals: 200 } })));
    const out = join(dir, 'run');
    const run = procnas('search', '--config', config, '--out', out);
    assert.equal(run.code, 2, run.stderr.slice(0, 2000));
    assert.match(run.stderr, /^procnas: training\.lr: every candidate's training diverged at lr 1000000000000 \(1[01] trials, kept in [^)]+\): lower it$/m);
    const store = new Database(join(out, 'experiment.sqlite'), { readonly: true });
    const failed = store.prepare("SELECT count(*) AS n FROM trials WHERE status = 'failed' AND reason LIKE 'training diverged%'").get() as { n: number };
    store.close();
    assert.ok(failed.n >= 10 && failed.n <= 11, `${failed.n} failed trials stored`);
  });
});

describe('procnas search with a space section', () => {
  const dir = mkdtempSync(join(tmpdir(), 'procnas-space-'));
  writeHalvesIdx(dir);
  const search = (space: string, ...flags: string[]) => {
    const config = join(dir, `space-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(config, `dataset: idx:${dir}\ninitial: {name: halves, input: 8x8x1, classes: 2, stem: [cn_k3_c8], stages: [[ir_k3_s2_e2_c8], [ir_k3_e2_c16]], head: [gap, fc]}\ntraining: {batch: 32, validation: 100, limit: 64}\nfinal: {enabled: false}\nbackend: wasm\nworkers: 1\nspace:\n${space}`);
    return procnas('search', '--config', config, ...flags);
  };

  it('a space the initial does not fit: exit 2 before anything trains, each place named', () => {
    const run = search('  kernels: [5, 7]\n  stages: {1: {widths: [8, 24]}, 4: {}}\n', '--max-evals', '3', '--out', join(dir, 'refused'));
    assert.equal(run.code, 2, run.stderr);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines[0], 'procnas: invalid search space');
    assert.match(run.stderr, /space\.stages\.4: the initial architecture has 2 stages/);
    assert.match(run.stderr, /space\.kernels: stage 0 of the initial architecture has kernel 3, which \[5, 7\] leaves out/);
    assert.match(run.stderr, /space\.stages\.1\.widths: stage 1 of the initial architecture is 16 wide/);
    assert.doesNotMatch(run.stderr, /trial|searching from/);
  });

  it('a space that fits: the search says what it may choose and stays inside it', () => {
    const out = join(dir, 'inside');
    const run = search('  kernels: [3, 5]\n  expansions: [2]\n  types: [ir]\n  se: [0]\n  stages: {1: {widths: [16, 24], depth: {max: 2}}, 0: {widthMultipliers: [1], depth: {max: 1}}}\n', '--max-evals', '4', '--out', out);
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    // Stage 0: 2 kernels; stage 1: 2 widths × (2 + 2²) depth choices: 24 architectures.
    assert.match(run.stderr, /mobile space: about 10\^1\.4 architectures\n.*stage 0: ir · k 3\/5 · e 2 · se 0 · c 8 · 1 blocks\n.*stage 1: ir · k 3\/5 · e 2 · se 0 · c 16\/24 · 1–2 blocks/);
    const store = new ExperimentStore(join(out, 'experiment.sqlite'));
    const keys = store.trials().map((t) => t.key);
    store.close();
    assert.ok(keys.length >= 4, keys.join('; '));
    for (const key of keys) assert.match(key, /^ir_r1_k[35]_s2_e2_c8 \| ir_r1_k[35]_s1_e2_c(16|24)( ir_r1_k[35]_s1_e2_c\1)?$/, key);
  });
});

describe('procnas train', () => {
  it('trains on an IDX folder and reports accuracy as JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-train-'));
    writeHalvesIdx(dir);
    const arch = join(dir, 'net.yaml');
    writeFileSync(arch, 'name: halves\ninput: 8x8x1\nclasses: 2\nstem: [cn_k3_c8]\nstages: [[ir_k3_s2_e2_c8]]\nhead: [gap, fc]\n');
    const run = procnas('train', arch, '--dataset', `idx:${dir}`, '--epochs', '2', '--batch', '32', '--validation', '100', '--json', '--backend', 'wasm');
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as Record<string, number | string | null>;
    assert.equal(result.backend, 'wasm');
    assert.equal(result.trainImages, 300);
    assert.equal(result.validationImages, 100);
    assert.equal(result.testImages, 100);
    assert.equal(result.steps, 2 * 10);
    assert.ok((result.testAccuracy as number) >= 0.9, `test accuracy ${result.testAccuracy}`);
    assert.match(run.stderr, /epoch 2\/2: train loss/);
  });

  it('says n/a for the accuracy of an empty validation set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-train-'));
    writeHalvesIdx(dir);
    const arch = join(dir, 'net.yaml');
    writeFileSync(arch, 'name: halves\ninput: 8x8x1\nclasses: 2\nstem: [cn_k3_c8]\nstages: [[ir_k3_s2_e2_c8]]\nhead: [gap, fc]\n');
    const run = procnas('train', arch, '--dataset', `idx:${dir}`, '--epochs', '1', '--validation', '0', '--backend', 'wasm');
    assert.equal(run.code, 0, run.stderr.slice(0, 2000));
    assert.doesNotMatch(run.stdout + run.stderr, /NaN/);
    assert.match(run.stdout, /validation accuracy n\/a \(0 images\)/);
    assert.match(run.stderr, /epoch 1\/1: train loss .*, validation accuracy n\/a/);
    assert.match(run.stdout, /test accuracy +\d+\.\d\d%/);
  });

  it('refuses a PROCNAS_KERNELS it cannot honour with exit 2, before training', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-train-'));
    writeHalvesIdx(dir);
    const arch = join(dir, 'net.yaml');
    writeFileSync(arch, 'name: halves\ninput: 8x8x1\nclasses: 2\nstem: [cn_k3_c8]\nstages: [[ir_k3_s2_e2_c8]]\nhead: [gap, fc]\n');
    const run = procnasWith({ env: { PROCNAS_KERNELS: 'gpu' } }, 'train', arch, '--dataset', `idx:${dir}`, '--epochs', '1', '--backend', 'wasm');
    assert.equal(run.code, 2, run.stderr.slice(0, 2000));
    assert.match(run.stderr, /^procnas: PROCNAS_KERNELS=gpu: expected host or wasm/);
    assert.doesNotMatch(run.stderr, /epoch 1\/1/);
  });

  it('trains dilated convolutions (TF.js has no gradient for them)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-train-'));
    writeHalvesIdx(dir);
    const arch = join(dir, 'dilated.yaml');
    writeFileSync(arch, 'name: dilated\ninput: 8x8x1\nclasses: 2\nstem: [cn_k3_c8_d2]\nstages: [[ir_k3_e2_c8_d2]]\nhead: [gap, fc]\n');
    const run = procnas('train', arch, '--dataset', `idx:${dir}`, '--epochs', '2', '--batch', '32', '--validation', '100', '--json', '--backend', 'wasm');
    assert.equal(run.code, 0, run.stderr.slice(0, 2000));
    const result = JSON.parse(run.stdout) as Record<string, number>;
    assert.equal(result.steps, 2 * 10);
    assert.ok((result.testAccuracy as number) >= 0.9, `test accuracy ${result.testAccuracy}`);
  });

  it('export --int8 hands over the int8 model of a trained run, its accuracy beside the float one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-int8-'));
    writeHalvesIdx(dir);
    const config = join(dir, 'search.yaml');
    writeFileSync(config, `dataset: idx:${dir}\ninitial: {name: halves, input: 8x8x1, classes: 2, stem: [cn_k3_c8], stages: [[ir_k3_s2_e2_c8]], head: [gap, fc]}\ntraining: {batch: 32, validation: 100, limit: 64}\nconfirm: {top: 0}\nbackend: wasm\nworkers: 1\n`);
    const run = join(dir, 'run');
    const searched = procnas('search', '--config', config, '--max-evals', '1', '--out', run);
    assert.equal(searched.code, 0, searched.stderr.slice(-2000));
    assert.match(searched.stdout, /int8 \(post-training\): validation \d+\.\d\d%, test \d+\.\d\d%; exported to \S+best-int8\.onnx/);
    const out = join(dir, 'model-int8.onnx');
    const exported = procnas('export', run, '--int8', '--out', out);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stdout.trim(), out);
    assert.deepEqual(readFileSync(out), readFileSync(join(run, 'best-int8.onnx')));
    const final = JSON.parse(readFileSync(join(run, 'final.json'), 'utf8')) as { testAccuracy: number; int8: { testAccuracy: number } };
    assert.equal(exported.stderr.trim(), `int8 test accuracy ${(100 * final.int8.testAccuracy).toFixed(2)}% (float ${(100 * final.testAccuracy).toFixed(2)}%)`);
    const notARun = procnas('export', 'resnet18', '--int8');
    assert.equal(notARun.code, 2);
    assert.match(notARun.stderr, /^procnas: resnet18: --int8 exports a search's trained best/);
  });

  it('repeats a search\'s trial from its best.json: the same training by default, the same error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-train-'));
    writeHalvesIdx(dir);
    const config = join(dir, 'search.yaml');
    // Only the images and the batch differ from the defaults (this dataset is tiny).
    writeFileSync(config, `dataset: idx:${dir}\ninitial: {name: halves, input: 8x8x1, classes: 2, stem: [cn_k3_c8], stages: [[ir_k3_s2_e2_c8]], head: [gap, fc]}\ntraining: {batch: 32, validation: 100, limit: 64}\nfinal: {enabled: false}\nconfirm: {top: 0}\nbackend: wasm\nworkers: 1\n`);
    const run = join(dir, 'run');
    const searched = procnas('search', '--config', config, '--max-evals', '2', '--seed', '3', '--out', run);
    assert.equal(searched.code, 0, searched.stderr.slice(-2000));
    const best = JSON.parse(readFileSync(join(run, 'best.json'), 'utf8')) as { error: number };
    const again = procnas('train', join(run, 'best.json'), '--dataset', `idx:${dir}`, '--batch', '32', '--validation', '100', '--limit', '64', '--seed', '3', '--json', '--backend', 'wasm');
    assert.equal(again.code, 0, again.stderr.slice(-2000));
    const result = JSON.parse(again.stdout) as { validationError: number; validationImages: number };
    assert.equal(result.validationImages, 100);
    assert.equal(result.validationError, best.error);
    // Another learning rate trains otherwise: the equality above is not a coincidence of the data.
    const other = JSON.parse(procnas('train', join(run, 'best.json'), '--dataset', `idx:${dir}`, '--batch', '32', '--validation', '100', '--limit', '64', '--seed', '3', '--lr', '0.05', '--json', '--backend', 'wasm').stdout) as { epochLosses: number[] };
    const same = JSON.parse(again.stdout) as { epochLosses: number[] };
    assert.notDeepEqual(other.epochLosses, same.epochLosses);
  });

  it('adapts a built-in network to the dataset, and explains a bad dataset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-train-'));
    writeHalvesIdx(dir);
    const run = procnas('train', 'nb201:|skip_connect~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|', '--dataset', `idx:${dir}`, '--limit', '64', '--json');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /adapted to .*: input 8x8x1, 2 classes/);
    const missing = procnas('train', 'resnet18', '--dataset', `cifar10:${join(dir, 'nope')}`);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /procnas: .*nope.*not found/);
    const unknown = procnas('train', 'resnet18', '--dataset', 'imagenet');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown dataset; use one of mnist, fashion-mnist/);
  });
});

describe('procnas on errors it does not expect', () => {
  const dir = mkdtempSync(join(tmpdir(), 'procnas-internal-'));
  writeHalvesIdx(dir);
  const arch = join(dir, 'net.yaml');
  writeFileSync(arch, 'name: halves\ninput: 8x8x1\nclasses: 2\nstem: [cn_k3_c8]\nstages: [[ir_k3_s2_e2_c8]]\nhead: [gap, fc]\n');
  const fault = fileURLToPath(new URL('./inject-fault.ts', import.meta.url));
  const args = ['train', arch, '--dataset', `idx:${dir}`, '--epochs', '1', '--backend', 'wasm'];

  it('prints one line and exits with status 1, not the WASM module\'s source', () => {
    const run = procnasWith({ preload: fault, env: { PROCNAS_DEBUG: '' } }, ...args);
    assert.equal(run.code, 1, run.stderr.slice(0, 2000));
    assert.match(run.stderr, /^procnas: internal error: injected fault$/m);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    assert.ok(run.stderr.length < 2000, `stderr is ${run.stderr.length} characters`);
  });

  it('adds the stack with PROCNAS_DEBUG set', () => {
    const run = procnasWith({ preload: fault, env: { PROCNAS_DEBUG: '1' } }, ...args);
    assert.equal(run.code, 1, run.stderr.slice(0, 2000));
    assert.match(run.stderr, /procnas: internal error: injected fault\n[^]*\n\s+at /);
    assert.doesNotMatch(run.stderr, /var Module/);
  });
});

describe('procnas export and measure', () => {
  it('exports an architecture as JSON and as ONNX, and measures it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-export-'));
    const arch = join(dir, 'net.yaml');
    writeFileSync(arch, 'name: tiny\ninput: 16x16x3\nclasses: 4\nstem: [cn_k3_c8]\nstages: [[ir_r2_k3_s2_e2_c8]]\nhead: [gap, fc]\n');
    const json = procnas('export', arch, '--format', 'json', '--out', join(dir, 'net.json'));
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual((JSON.parse(readFileSync(join(dir, 'net.json'), 'utf8')) as { stages: string[][] }).stages, [['ir_r2_k3_s2_e2_c8']]);
    const onnx = procnas('export', arch, '--out', join(dir, 'net.onnx'));
    assert.equal(onnx.code, 0, onnx.stderr);
    assert.match(onnx.stderr, /untrained/);
    const tfjs = procnas('export', arch, '--format', 'tfjs', '--out', join(dir, 'net-tfjs'));
    assert.equal(tfjs.code, 0, tfjs.stderr);
    const graphModel = JSON.parse(readFileSync(join(dir, 'net-tfjs', 'model.json'), 'utf8')) as { format: string; userDefinedMetadata: Record<string, string> };
    assert.equal(graphModel.format, 'graph-model');
    assert.equal(graphModel.userDefinedMetadata.notation, 'ir_r2_k3_s2_e2_c8');
    const measured = procnas('measure', join(dir, 'net.onnx'), '--runs', '5', '--json');
    assert.equal(measured.code, 0, measured.stderr);
    const m = JSON.parse(measured.stdout) as { medianS: number; input: number[]; predictedLatencyS: number | null };
    assert.ok(m.medianS > 0);
    assert.deepEqual(m.input, [1, 3, 16, 16]);
    const withPrediction = procnas('measure', arch, '--runs', '5');
    assert.match(withPrediction.stdout, /median .* over 5 runs, input 1x3x16x16/);
    assert.match(withPrediction.stdout, /cost model on edge-cpu: /);
    // The ONNX export carries its architecture: the same prediction as from the architecture file.
    const fromArch = JSON.parse(procnas('measure', arch, '--runs', '2', '--json').stdout) as { predictedLatencyS: number };
    assert.ok(fromArch.predictedLatencyS > 0);
    assert.equal(m.predictedLatencyS, fromArch.predictedLatencyS);
    // A model without it (another tool's) is measured, and says why there is no prediction.
    const decoded = onnxProto.onnx.ModelProto.decode(readFileSync(join(dir, 'net.onnx')));
    decoded.metadataProps = [];
    writeFileSync(join(dir, 'bare.onnx'), onnxProto.onnx.ModelProto.encode(decoded).finish());
    const bare = procnas('measure', join(dir, 'bare.onnx'), '--runs', '2');
    assert.equal(bare.code, 0, bare.stderr);
    assert.match(bare.stdout, /no cost-model prediction: the model carries no architecture in its metadata/);
  });

  it('explains a missing model file and a backend that is not installed', () => {
    const missing = procnas('measure', '/nonexistent/model.onnx');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /\/nonexistent\/model\.onnx: cannot read the model/);
    const native = procnas('train', 'resnet18', '--backend', 'native', '--limit', '10');
    assert.equal(native.code, 2);
    assert.match(native.stderr, /the native backend needs @tensorflow\/tfjs-node/);
  });

  it('explains that a table-evaluated run has no trained weights to export', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-export-'));
    const table = fileURLToPath(new URL('../../shared/data/nb201/accuracy.json', import.meta.url));
    const run = join(dir, 'run');
    const searched = procnas('search', '--initial', 'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|', '--table', table, '--max-evals', '10', '--out', run);
    assert.equal(searched.code, 0, searched.stderr);
    const onnx = procnas('export', run);
    assert.equal(onnx.code, 2);
    assert.match(onnx.stderr, /no trained weights to export/);
    const int8 = procnas('export', run, '--int8');
    assert.equal(int8.code, 2);
    assert.match(int8.stderr, /^procnas: \S+: no int8 model \(the search evaluated from a table/);
    // The hint it gives works: best.json is an architecture file for every command.
    const hint = /procnas (export \S+best\.json)/.exec(onnx.stderr)?.[1]?.split(' ') ?? [];
    assert.equal(hint.length, 2, onnx.stderr);
    const untrained = procnas(...hint, '--out', join(dir, 'best.onnx'));
    assert.equal(untrained.code, 0, untrained.stderr);
    assert.ok(statSync(join(dir, 'best.onnx')).size > 1000);
    // The NB201 best is printed as the cell string the commands take, and costs what best.json does.
    const cell = /best architecture: (nb201:\S+)/.exec(searched.stdout)?.[1];
    assert.ok(cell, searched.stdout);
    const byName = JSON.parse(procnas('cost', cell, '--json').stdout) as { dram: { readBytes: number } };
    const byFile = JSON.parse(procnas('cost', join(run, 'best.json'), '--json').stdout) as { dram: { readBytes: number } };
    assert.equal(byFile.dram.readBytes, byName.dram.readBytes);
  });

  it('exports a run\'s best as JSON beside best.json, never over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-export-'));
    const table = fileURLToPath(new URL('../../shared/data/nb201/accuracy.json', import.meta.url));
    const run = join(dir, 'run');
    assert.equal(procnas('search', '--initial', 'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|', '--table', table, '--max-evals', '5', '--out', run).code, 0);
    const before = readFileSync(join(run, 'best.json'), 'utf8');
    const json = procnas('export', run, '--format', 'json');
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stdout.trim(), join(run, 'best-architecture.json'));
    assert.equal(readFileSync(join(run, 'best.json'), 'utf8'), before, 'best.json keeps its figures');
    const architecture = JSON.parse(readFileSync(join(run, 'best-architecture.json'), 'utf8')) as { stages: string[][] };
    assert.deepEqual(architecture, (JSON.parse(before) as { architecture: unknown }).architecture);
    // --out elsewhere writes the architecture there (it once wrote the text "undefined").
    const elsewhere = procnas('export', run, '--format', 'json', '--out', join(dir, 'mine.json'));
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'mine.json'), 'utf8')), architecture);
    const over = procnas('export', run, '--format', 'json', '--out', join(run, 'best.json'));
    assert.equal(over.code, 2);
    assert.match(over.stderr, /^procnas: \S+best\.json: that is the run's best\.json/);
    assert.equal(readFileSync(join(run, 'best.json'), 'utf8'), before);
  });

  it('knows the main job\'s default initial architecture by name', () => {
    const cost = procnas('cost', 'mnist-mbconv', '--json');
    assert.equal(cost.code, 0, cost.stderr);
    assert.equal((JSON.parse(cost.stdout) as { params: number }).params, 37_658);
  });
});

describe('procnas presets', () => {
  it('lists every preset, and its sources in JSON', () => {
    const table = procnas('presets');
    assert.equal(table.code, 0);
    for (const name of ['mobile-npu', 'edge-cpu', 'microcontroller', 'stm32f746', 'eyeriss']) assert.match(table.stdout, new RegExp(name));
    // The DRAM devices with their parameters: LPDDR4X-4266's 32 B bursts and 2 KiB pages, its energies per bit.
    assert.match(table.stdout, /^mobile-npu\n {2}Mobile SoC NPU.*\n {2}int8, SRAM 1\.00 MiB, peak 2\.00 TMAC\/s, fusion depth-first\n {2}DRAM lpddr4x-4266-x32: 17\.1 GB\/s, 32 B bursts, 2\.00 KiB pages\n {2}DRAM energy: read \/ write 7\.0 \/ 4\.5 pJ\/bit, row 1\.20 nJ, standby 86\.5 mW\n/m);
    // Readable in a terminal: it was 270 columns wide.
    for (const line of table.stdout.split('\n')) assert.ok(line.length <= 100, `${line.length} columns: ${line}`);
    const json = JSON.parse(procnas('presets', '--json').stdout) as Array<{ name: string; dram: { pageBytes: number }; sources: Record<string, string> }>;
    assert.equal(json.length, 5);
    assert.equal(json[0]?.dram.pageBytes, 2048);
    // A microcontroller's flash, with the source of each of its numbers.
    assert.match(table.stdout, /^stm32f746\n(.*\n){4} {2}flash 1\.00 MiB: 864 MB\/s, 1\.25 pJ\/bit, weights read in place$/m);
    const stm = json.find((p) => p.name === 'stm32f746') as unknown as { flash: { sizeBytes: number; executeInPlace: boolean }; sources: Record<string, string> };
    assert.deepEqual([stm.flash.sizeBytes, stm.flash.executeInPlace], [1 << 20, true]);
    assert.match(stm.sources['flash.bandwidth'] ?? '', /wait states/);
    assert.match(json[0]?.sources['dram.energy'] ?? '', /DRAMPower/);
    assert.match(json[0]?.sources['dram.rowCycle'] ?? '', /tRCD/);
  });
});
