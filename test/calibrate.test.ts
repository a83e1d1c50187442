import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CalibrationError, calibrate, readMeasurements } from '../src/calibrate/index.js';
import type { Measurement } from '../src/calibrate/index.js';
import { estimateCost } from '../src/cost/index.js';
import { createRng } from '../src/data/index.js';
import { loadProcessorFile, parseProcessor, presetProcessor, profileData } from '../src/processor/index.js';
import type { Processor } from '../src/processor/index.js';
import { renderReport } from '../src/report/index.js';
import { costFigures } from '../src/search/index.js';
import type { Trial } from '../src/search/index.js';
import { MobileSpace, architectureToData, builtinArchitecture, lower, parseArchitecture } from '../src/space/index.js';
import type { Architecture } from '../src/space/index.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const procnas = (...args: string[]) => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
};

/** Networks of the MobileNetV2 space at several input sizes (so that per-layer and per-pixel costs part). */
function networks(count: number, seed: number): Architecture[] {
  const space = new MobileSpace(builtinArchitecture('mobilenet_v2') as Architecture);
  const random = createRng(seed);
  const sizes = [32, 64, 96, 160, 224];
  return Array.from({ length: count }, (_, i) => ({ ...space.sample(random), input: { h: sizes[i % 5]!, w: sizes[i % 5]!, c: 3 } }));
}

/** Latencies the cost model gives on `truth`, each off by up to ±noise. */
function synthesise(truth: Processor, architectures: Architecture[], noise: number, seed: number): Measurement[] {
  const random = createRng(seed);
  return architectures.map((architecture, i) => ({
    line: i + 2,
    name: `net-${i}`,
    architecture,
    latencyS: estimateCost(lower(architecture), truth).latencyS * (1 + noise * (2 * random() - 1)),
    batch: 1,
  }));
}

const edge = presetProcessor('edge-cpu')!;
/** A device unlike the preset in what the data can tell: bandwidth, three utilisations and a launch overhead. */
const truth: Processor = {
  ...edge,
  dram: { ...edge.dram, bandwidth: 5e9 },
  compute: { ...edge.compute, utilisation: { ...edge.compute.utilisation, conv: 0.35, pointwise: 0.5, depthwise: 0.08 }, layerOverhead: 2e-5 },
};

describe('calibrating a profile', () => {
  const rate = (p: Processor, kind: 'conv' | 'pointwise' | 'depthwise') => p.compute.peakMacsPerSecond * p.compute.utilisation[kind];
  const near = (actual: number, expected: number, what: string, tolerance: number) =>
    assert.ok(Math.abs(actual / expected - 1) < tolerance, `${what}: ${actual} vs ${expected}`);

  it('recovers the parameters of a device from the latencies the cost model gives on it', () => {
    const exact = calibrate(synthesise(truth, networks(40, 5), 0, 6), edge, 'exact').processor;
    near(exact.dram.bandwidth, 5e9, 'bandwidth', 0.01);
    near(rate(exact, 'conv'), 48e9 * 0.35, 'convolution rate', 0.01);
    near(rate(exact, 'pointwise'), 48e9 * 0.5, 'pointwise rate', 0.01);
    near(rate(exact, 'depthwise'), 48e9 * 0.08, 'depthwise rate', 0.01);
    near(exact.compute.layerOverhead, 2e-5, 'layer overhead', 0.01);
    assert.deepEqual([exact.fusion, exact.doubleBuffer], ['composite', true]);
  });

  it('with 2 % noise: the well-constrained parameters within 3 %, the others as far as the data allow', () => {
    const data = synthesise(truth, networks(40, 5), 0.02, 6);
    const result = calibrate(data, edge, 'synthetic');
    const fitted = result.processor;
    near(fitted.dram.bandwidth, 5e9, 'bandwidth', 0.03);
    near(rate(fitted, 'conv'), 48e9 * 0.35, 'convolution rate', 0.03);
    near(rate(fitted, 'depthwise'), 48e9 * 0.08, 'depthwise rate', 0.1);
    near(fitted.compute.layerOverhead, 2e-5, 'layer overhead', 0.1);
    // Most pointwise layers here wait for DRAM, not for their MACs: their rate is weakly
    // constrained. Whatever the fit chose, the true rate in its place explains the data no better
    // (the noise cannot tell them apart), and moves no prediction by more than the noise.
    const withTruePointwise: Processor = { ...fitted, compute: { ...fitted.compute, utilisation: { ...fitted.compute.utilisation, pointwise: (48e9 * 0.5) / fitted.compute.peakMacsPerSecond } } };
    const predicted = (p: Processor) => data.map((m) => estimateCost(lower(m.architecture), p).latencyS);
    const [byFit, byTruth] = [predicted(fitted), predicted(withTruePointwise)];
    const medianLogError = (xs: number[]) => xs.map((x, i) => Math.abs(Math.log(x / data[i]!.latencyS))).sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    assert.ok(medianLogError(byFit) <= medianLogError(byTruth) + 1e-3, `fitted ${medianLogError(byFit)}, with the true pointwise rate ${medianLogError(byTruth)}`);
    const moved = byFit.map((x, i) => Math.abs(x / byTruth[i]! - 1)).sort((a, b) => a - b);
    assert.ok(moved[Math.floor(moved.length / 2)]! < 0.02, `the pointwise rate moves the median prediction by ${moved[Math.floor(moved.length / 2)]}`);
    assert.deepEqual([fitted.fusion, fitted.doubleBuffer], ['composite', true]);
    assert.ok(result.fit.heldOut.spearman > 0.99 && result.fit.heldOut.mdape < 0.02, JSON.stringify(result.fit));
    // The fitted numbers say where they came from; the others keep theirs.
    assert.equal(fitted.sources['dram.bandwidth'], 'calibrated from synthetic, n=40');
    assert.equal(fitted.sources['compute.layerOverhead'], 'calibrated from synthetic, n=40');
    assert.equal(fitted.sources['dram.energy'], edge.sources['dram.energy']);
  });

  it('holds what the data cannot identify, and says so: a bandwidth no layer waits for', () => {
    // Every layer compute-bound: the DRAM is 1000 times faster than the preset's.
    const fast = { ...truth, dram: { ...truth.dram, bandwidth: 1e13 } };
    const start = { ...edge, dram: { ...edge.dram, bandwidth: 1e12 } };
    const result = calibrate(synthesise(fast, networks(12, 7), 0.01, 8), start, 'compute-bound');
    assert.equal(result.processor.dram.bandwidth, 1e12);
    assert.ok(result.warnings.some((w) => /DRAM bandwidth .*cannot identify it/.test(w)), result.warnings.join('\n'));
    assert.equal(result.changes.find((c) => c.name === 'dram.bandwidth')?.fitted, false);
  });

  it('raises the peak rather than a utilisation above 1 when the device computes faster than the profile says', () => {
    const faster = { ...truth, compute: { ...truth.compute, peakMacsPerSecond: 400e9 } };
    const result = calibrate(synthesise(faster, networks(20, 9), 0.01, 10), edge, 'faster');
    const u = result.processor.compute.utilisation;
    assert.ok(Object.values(u).every((x) => x > 0 && x <= 1), JSON.stringify(u));
    assert.ok(result.processor.compute.peakMacsPerSecond > 48e9, `${result.processor.compute.peakMacsPerSecond}`);
    assert.ok(result.warnings.some((w) => /computes faster than the profile's peak/.test(w)), result.warnings.join('\n'));
  });

  it('writes a complete profile that loads back, calibration and all', () => {
    const result = calibrate(synthesise(truth, networks(8, 11), 0.02, 12), edge, 'eight.csv');
    const data = profileData(result.processor);
    const back = parseProcessor(JSON.parse(JSON.stringify(data)));
    assert.deepEqual(back, result.processor);
    assert.equal(back.calibration?.measurements, 8);
    assert.equal(back.calibration?.residuals.length, 8);
    // A search's report says the profile was calibrated, from what, and how well.
    const trial = (index: number, stages: unknown[], error: number): Trial => {
      const architecture = parseArchitecture({ name: 'r', input: '16x16x3', classes: 4, stem: ['cn_k3_c8'], stages, head: ['gap', 'fc'] });
      const cost = costFigures(estimateCost(lower(architecture), back));
      return { index, key: String(index), architecture, status: 'done', error, loss: error, cost, evaluationS: 0 };
    };
    const [initial, best] = [trial(0, [['ir_k3_s2_e4_c16']], 0.2), trial(1, [['ir_k3_s2_e2_c16']], 0.1)];
    const html = renderReport({ title: 'calibrated', processor: back, cost: { mode: 'inference', batch: 1 }, trials: [initial, best], initial, best, facts: [] });
    const heldOut = back.calibration!.fit.heldOut;
    assert.ok(
      html.includes(`from eight.csv, 8 measurements (fitted: `) && html.includes(`Spearman ${heldOut.spearman.toFixed(3)}, median error ${(100 * heldOut.mdape).toFixed(1)}%`),
      'the processor table shows the calibration',
    );
  });
});

describe('measurement files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'procnas-calibrate-'));
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  writeFileSync(join(dir, 'tiny.yaml'), 'input: 16x16x3\nclasses: 4\nstem: [cn_k3_c8]\nstages: [[ir_k3_s2_e2_c8]]\nhead: [gap, fc]\n');

  it('reads architectures by built-in name, NAS-Bench-201 cell or a file beside the CSV, with batch and input', () => {
    const file = write(
      'ok.csv',
      'architecture,latency_ms,energy_mj,batch,input\nmobilenet_v2,12.5,,1,\ntiny.yaml,0.5,0.02,2,32x32x3\n"nb201:|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|",1.5,,,\nresnet18,30,,,\nmnasnet_a1,9,,,\n',
    );
    const rows = readMeasurements(file);
    assert.deepEqual(rows.map((r) => [r.line, r.name, r.latencyS, r.batch]), [
      [2, 'mobilenet_v2', 0.0125, 1],
      [3, 'tiny.yaml', 0.0005, 2],
      [4, 'nb201:|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|', 0.0015, 1],
      [5, 'resnet18', 0.03, 1],
      [6, 'mnasnet_a1', 0.009, 1],
    ]);
    assert.deepEqual(rows[1]?.architecture.input, { h: 32, w: 32, c: 3 });
    assert.equal(rows[1]?.energyJ, 0.00002);
  });

  it('names every bad line, and refuses fewer than five measurements', () => {
    const file = write('bad.csv', 'architecture,latency_ms,batch,input\nmobilenet_v2,-3,,\nnope_net,5,,\nresnet18,abc,,\nresnet18,4,1.5,\nresnet18,4,,7x7\n,4,,\nmissing.yaml,4,,\n');
    assert.throws(
      () => readMeasurements(file),
      (error: unknown) => {
        assert.ok(error instanceof CalibrationError, String(error));
        const lines = error.message.split('\n');
        assert.match(lines[0] ?? '', /bad\.csv: invalid measurements: line 2: latency_ms must be a positive number, got "-3" \(and 6 more below\)$/);
        for (const [line, what] of [
          [2, /latency_ms must be a positive number, got "-3"/],
          [3, /architecture "nope_net"/],
          [4, /latency_ms must be a positive number, got "abc"/],
          [5, /batch must be a positive integer, got "1\.5"/],
          [6, /input must be HxWxC, got "7x7"/],
          [7, /no architecture/],
          [8, /architecture "missing\.yaml"/],
        ] as const) {
          assert.ok(lines.some((l) => (l.startsWith(`  line ${line}: `) || l.includes(`invalid measurements: line ${line}: `)) && what.test(l)), `line ${line}: ${error.message}`);
        }
        return true;
      },
    );
    assert.throws(() => readMeasurements(write('header.csv', 'arch,latency\nmobilenet_v2,3\n')), /line 1: the header has no "architecture" column.*\n.*line 1: the header has no "latency_ms" column/s);
    assert.throws(() => readMeasurements(write('few.csv', 'architecture,latency_ms\nmobilenet_v2,3\nresnet18,4\n')), /2 measurement\(s\); calibrating needs at least 5/);
    assert.throws(() => readMeasurements(join(dir, 'none.csv')), /none\.csv: cannot read the measurements/);
  });
});

describe('procnas calibrate and procnas measure --batch-file', () => {
  it('calibrates from a CSV, writes a profile that procnas cost takes, and prints the fit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-calibrate-cli-'));
    const rows = synthesise(truth, networks(10, 13), 0.02, 14);
    rows.forEach((r, i) => writeFileSync(join(dir, `net-${i}.json`), JSON.stringify(architectureToData(r.architecture))));
    writeFileSync(join(dir, 'm.csv'), `architecture,latency_ms\n${rows.map((r, i) => `net-${i}.json,${r.latencyS * 1000}`).join('\n')}\n`);
    const run = procnas('calibrate', '--processor', 'edge-cpu', '--measurements', join(dir, 'm.csv'), '--out', join(dir, 'chip.yaml'));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^calibrated edge-cpu from .*m\.csv \(10 measurements\): wrote .*chip\.yaml/);
    assert.match(run.stdout, /dram\.bandwidth\s+12\.8 GB\/s → /);
    assert.match(run.stdout, /held out \(leave-one-out\): Spearman (1\.000|0\.9\d\d), Kendall \d\.\d{3}, median error \d+\.\d%/);
    const profile = loadProcessorFile(join(dir, 'chip.yaml'));
    assert.equal(profile.name, 'edge-cpu-calibrated');
    assert.equal(profile.calibration?.measurements, 10);
    const cost = procnas('cost', 'mobilenet_v2', '-p', join(dir, 'chip.yaml'), '--json');
    assert.equal(cost.code, 0, cost.stderr);
    assert.equal((JSON.parse(cost.stdout) as { processor: string }).processor, 'edge-cpu-calibrated');
  });

  it('refuses bad measurements with exit 2, naming the line, and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-calibrate-bad-'));
    writeFileSync(join(dir, 'm.csv'), 'architecture,latency_ms\nmobilenet_v2,3\nresnet18,0\nresnet34,5\nresnet50,6\nmnasnet_a1,2\n');
    const run = procnas('calibrate', '--measurements', join(dir, 'm.csv'), '--out', join(dir, 'chip.yaml'));
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /^procnas: .*m\.csv: invalid measurements: line 3: latency_ms must be a positive number, got "0"/);
    assert.equal(existsSync(join(dir, 'chip.yaml')), false);
    const neither = procnas('calibrate');
    assert.equal(neither.code, 2);
    assert.match(neither.stderr, /give --measurements <file\.csv> or --host/);
    // An output it cannot write: exit 2, one line naming it.
    writeFileSync(join(dir, 'ok.csv'), 'architecture,latency_ms\nmobilenet_v2,3\nresnet18,10\nresnet34,15\nresnet50,16\nmnasnet_a1,2\n');
    const unwritable = procnas('calibrate', '--measurements', join(dir, 'ok.csv'), '--out', join(dir, 'no-such-folder', 'chip.yaml'));
    assert.equal(unwritable.code, 2, unwritable.stderr);
    assert.match(unwritable.stderr, /^procnas: .*no-such-folder\/chip\.yaml: cannot write the calibrated profile: a part of the path does not exist \(ENOENT\)$/m);
  });

  it('measures a list of architectures in onnxruntime into a CSV that calibrate reads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-measure-batch-'));
    const sizes = [8, 12, 16, 20, 24];
    sizes.forEach((s) => writeFileSync(join(dir, `n${s}.yaml`), `input: ${s}x${s}x3\nclasses: 4\nstem: [cn_k3_c8]\nstages: [[ir_k3_s2_e2_c8]]\nhead: [gap, fc]\n`));
    writeFileSync(join(dir, 'list.txt'), `# five small networks\n${sizes.map((s) => `n${s}.yaml`).join('\n')}\n`);
    const run = procnas('measure', '--batch-file', join(dir, 'list.txt'), '--csv', join(dir, 'out.csv'), '--runs', '3', '--warmup', '1');
    assert.equal(run.code, 0, run.stderr);
    const rows = readMeasurements(join(dir, 'out.csv'));
    assert.deepEqual(rows.map((r) => r.name), sizes.map((s) => `n${s}.yaml`));
    assert.ok(rows.every((r) => r.latencyS > 0 && r.latencyS < 1), readFileSync(join(dir, 'out.csv'), 'utf8'));
  });
});
