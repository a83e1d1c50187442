import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateArchitectureCost, estimateCost } from '../src/cost/index.js';
import type { CostReport } from '../src/cost/index.js';
import { contiguous, runs } from '../src/cost/dram.js';
import { LOOP_C, LOOP_K, LOOP_X, evaluateMapping, mapLayer, searchMapping } from '../src/cost/mapping.js';
import { weightGradientNest } from '../src/cost/nests.js';
import type { LoopNest } from '../src/cost/mapping.js';
import { createRng } from '../src/data/index.js';
import { PRESETS, parseProcessor, presetNames, presetProcessor, withProcessor } from '../src/processor/index.js';
import type { FusionPolicy, Processor } from '../src/processor/index.js';
import { builtinArchitecture, lower, parseArchitecture, resolveArchitecture } from '../src/space/index.js';
import type { Architecture, LayerGraph } from '../src/space/index.js';

const chip = (sram: string, fusion: FusionPolicy, dtype: 'int8' | 'fp32' = 'int8', extra: Record<string, unknown> = {}): Processor =>
  parseProcessor({
    name: 'test-chip',
    dtype,
    sram,
    doubleBuffer: false,
    dram: { bandwidth: '1GB/s', energy: '10pJ/B', latency: '100ns', burst: '32B' },
    compute: { peak: '10GMAC/s', macEnergy: '1pJ' },
    fusion,
    ...extra,
  });

const traffic = (r: CostReport): number => r.dram.readBytes + r.dram.writeBytes;
const builtin = (name: string): LayerGraph => lower(builtinArchitecture(name)!);

function randomArchitecture(seed: number): Architecture {
  const rnd = createRng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const stages = Array.from({ length: 2 + Math.floor(rnd() * 3) }, () =>
    Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => {
      const type = pick(['ir', 'ds', 'er', 'cn'] as const);
      const se = type !== 'cn' && rnd() < 0.3 ? '_se0.25' : '';
      const e = type === 'ir' || type === 'er' ? `_e${pick([1, 3, 6])}` : '';
      return `${type}_r${1 + Math.floor(rnd() * 2)}_k${pick([3, 5, 7])}_s${pick([1, 2])}${e}_c${pick([8, 16, 24, 40, 64])}${se}`;
    }),
  );
  const size = pick([32, 48, 64]);
  return parseArchitecture({ name: `random-${seed}`, input: `${size}x${size}x3`, classes: 10, stem: ['cn_k3_s2_c16'], stages, head: ['cn_k1_c128', 'gap', 'fc'] });
}

/** A forward convolution nest, int8 data and int32 partial sums unless said otherwise. */
function convNest(o: { n?: number; ci: number; co: number; hi: number; ho: number; k: number; s?: number; pad?: number; groups?: number; bytes?: number; partial?: number }): LoopNest {
  const groups = o.groups ?? 1;
  const bytes = o.bytes ?? 1;
  return {
    pass: 'forward',
    n: o.n ?? 1,
    g: groups,
    k: o.co / groups,
    c: o.ci / groups,
    p: o.ho,
    q: o.ho,
    kernelArea: o.k * o.k,
    kernel: o.k,
    stride: o.s ?? 1,
    pad: o.pad ?? Math.floor(o.k / 2),
    rows: o.hi,
    cols: o.hi,
    computeS: 0,
    operands: [
      { name: 'input', relevance: LOOP_C | LOOP_X, bytes, window: 'forward' },
      { name: 'weights', relevance: LOOP_K | LOOP_C, bytes },
      { name: 'output', relevance: LOOP_K | LOOP_X, bytes, accumulated: { partialBytes: o.partial ?? 4 } },
    ],
  };
}

describe('cost of a network small enough to check by hand', () => {
  // conv 3x3 4→8 on 8x8 (288 weights) + BN (16), then global pool, then dense 8→2 (16 + 2 bias), int8.
  const g = lower(parseArchitecture({ name: 'hand', input: '8x8x4', classes: 2, stem: ['cn_k3_s1_c8_nid'], stages: [['gap']], head: ['fc'] }));

  it('counts params and MACs', () => {
    assert.equal(g.params, 288 + 16 + 18);
    assert.equal(g.macs, 288 * 64 + 18);
  });

  it('without fusion every layer reads its inputs and weights and writes its output; the batch norm folds into the convolution as its bias', () => {
    const r = estimateCost(g, chip('1MiB', 'none'), { layers: true });
    assert.deepEqual(
      r.layers.map((l) => [l.op, l.dramReadBytes, l.dramWriteBytes, l.folded]),
      [
        ['conv3x3', 256 + 288, 512, false],
        ['bn', 8, 0, true],
        ['gap', 512, 8, false],
        ['dense', 8 + 16 + 2, 2, false],
      ],
    );
    assert.equal(r.dram.weightBytes, 288 + 8 + 18);
  });

  it('at inference folded batch norms and fused activations take no time', () => {
    const r = estimateCost(builtin('mobilenet_v2'), presetProcessor('mobile-npu')!, { layers: true });
    const epilogues = r.layers.filter((l) => l.op === 'bn' || l.op === 'relu6');
    assert.equal(epilogues.length, 52 + 35, '52 batch norms and 35 ReLU6 after convolutions');
    assert.ok(epilogues.every((l) => l.computeS === 0 && l.fused), 'epilogues take no time');
    assert.ok(epilogues.filter((l) => l.op === 'bn').every((l) => l.folded), 'batch norms fold');
  });

  it('fused inside composite ops, the convolution output never reaches DRAM', () => {
    const r = estimateCost(g, chip('1MiB', 'composite'), { layers: true });
    assert.equal(r.layers[0]!.dramWriteBytes, 0);
    assert.equal(r.dram.readBytes, 256 + 296 + 512 + 26);
    assert.equal(r.dram.writeBytes, 512 + 8 + 2);
    assert.ok(r.layers.every((l) => l.fused), 'every layer runs fused');
  });

  it('a depth-first stack keeps the tensors between composite ops on chip', () => {
    const r = estimateCost(g, chip('1MiB', 'depth-first'));
    assert.equal(r.dram.readBytes, 256 + 296 + 18);
    assert.equal(r.dram.writeBytes, 2);
  });

  it('fp32 moves four times the bytes', () => {
    const int8 = estimateCost(g, chip('1MiB', 'none'));
    const fp32 = estimateCost(g, chip('1MiB', 'none', 'fp32'));
    assert.equal(traffic(fp32), 4 * traffic(int8));
  });

  it('DRAM time follows from bursts, rows, transfers and the device; energy splits into bursts, rows and standby', () => {
    const p = chip('1MiB', 'none', 'int8', {
      dram: { bandwidth: '1GB/s', latency: '100ns', burst: '32B', page: '1KiB', banks: 4, rowCycle: '40ns', refresh: { time: '100ns', interval: '10us' }, energy: { read: '10pJ/B', write: '20pJ/B', activate: '1nJ', background: '50mW' } },
    });
    const r = estimateCost(g, p, { layers: true });
    const busy = ((r.dram.busReadBytes + r.dram.busWriteBytes) / 1e9 + (r.dram.rowActivations * 40e-9) / 4) / (1 - 0.01);
    const latency = r.dram.transfers * 100e-9;
    assert.ok(Math.abs(r.dram.timeS - (busy + latency)) < 1e-9 * r.dram.timeS, `${r.dram.timeS} vs ${busy} + ${latency}`);
    assert.ok(Math.abs(r.dram.dynamicJ - (r.dram.busReadBytes * 10e-12 + r.dram.busWriteBytes * 20e-12)) < 1e-18, 'bursts: reads and writes at their own energy');
    assert.ok(Math.abs(r.dram.rowJ - r.dram.rowActivations * 1e-9) < 1e-18, 'rows');
    assert.ok(Math.abs(r.dram.backgroundJ - 0.05 * r.latencyS) < 1e-18, 'standby over the latency');
    assert.ok(Math.abs(r.dram.energyJ - (r.dram.dynamicJ + r.dram.rowJ + r.dram.backgroundJ)) < 1e-18, 'energy is the sum of its parts');
    assert.ok(Math.abs(r.dram.powerW - r.dram.energyJ / r.latencyS) < 1e-12, 'power is energy over elapsed time');
    assert.ok(r.dram.busReadBytes >= r.dram.readBytes, 'whole bursts');
    // Without double buffering, compute and DRAM do not overlap; with it, they do.
    for (const l of r.layers) assert.ok(Math.abs(l.latencyS - (l.computeS + l.dramS)) < 1e-15, l.name);
    const overlapped = estimateCost(g, withProcessor(p, { doubleBuffer: true }), { layers: true });
    for (const l of overlapped.layers) assert.ok(Math.abs(l.latencyS - Math.max(l.computeS, l.dramS)) < 1e-15, l.name);
    assert.ok(overlapped.dram.timeS < r.dram.timeS, 'prefetched transfers hide their latency');
    assert.ok(Math.abs(r.energyJ - (r.dram.energyJ + r.compute.energyJ)) < 1e-15, 'total energy');
  });

  it('standby power accrues over compute-bound time too: DRAM energy is not DRAM time under another name', () => {
    const npu = PRESETS['mobile-npu']!;
    const fast = estimateCost(builtin('mobilenet_v2'), parseProcessor(npu));
    const slowed = estimateCost(builtin('mobilenet_v2'), parseProcessor({ ...npu, compute: { ...npu.compute, peak: '20GMAC/s' } }));
    assert.equal(slowed.dram.timeS, fast.dram.timeS);
    assert.equal(slowed.dram.dynamicJ, fast.dram.dynamicJ);
    assert.ok(slowed.dram.energyJ > 5 * fast.dram.energyJ, `${slowed.dram.energyJ} vs ${fast.dram.energyJ}`);
  });
});

describe('the DRAM device model', () => {
  const device = chip('1MiB', 'none', 'int8', { dram: { bandwidth: '1GB/s', energy: '10pJ/B', burst: '32B', page: '2KiB' } }).dram;

  it('an aligned run moves whole bursts; an unaligned one straddles one more on average', () => {
    assert.equal(runs(device, 10, 40, 64, 1, true, 1).bursts, 20);
    assert.equal(runs(device, 10, 40, 40, 1, false, 1).bursts, 10 * (1 + 39 / 32));
  });

  it('a contiguous stream opens one row per page; runs a page or more apart open one each', () => {
    assert.ok(Math.abs(contiguous(device, 64 * 2048, 1).rows - 65) < 1, 'a page at a time');
    // Each run opens its row, and crosses a row boundary inside it with probability 63/2048.
    assert.ok(Math.abs(runs(device, 100, 64, 4096, 1, true, 1).rows - (1 + 99 + (100 * 63) / 2048)) < 1e-9, 'a row per run');
    assert.ok(runs(device, 100, 64, 64, 1, true, 1).rows < 5, 'back to back: a row per page');
  });

  it('the same bytes cost more time in short strided runs than in long ones', () => {
    const p = presetProcessor('edge-cpu')!;
    const scattered = searchMapping(convNest({ ci: 256, co: 256, hi: 28, ho: 28, k: 3, bytes: 4 }), withProcessor(p, { sramBytes: 16 * 1024 }));
    assert.ok(scattered.reads.bursts * 64 > scattered.reads.bytes, 'strided tiles over-fetch');
  });
});

describe('the mapping of one layer', () => {
  it('takes the compulsory traffic when the layer fits', () => {
    const m = searchMapping(convNest({ ci: 16, co: 16, hi: 16, ho: 16, k: 3 }), chip('1MiB', 'none'));
    assert.deepEqual(m.operands.map((o) => [o.name, o.readBytes, o.writeBytes]), [
      ['input', 16 * 16 * 16, 0],
      ['weights', 9 * 16 * 16, 0],
      ['output', 0, 16 * 16 * 16],
    ]);
    assert.equal(m.stationary, 'everything');
  });

  it('a dense layer at batch 1 keeps its small input and streams each weight once', () => {
    const dense: LoopNest = { ...convNest({ ci: 1000, co: 1000, hi: 1, ho: 1, k: 1, pad: 0 }) };
    const m = searchMapping(dense, chip('64KiB', 'none', 'int8', { mappingObjective: 'traffic' }));
    assert.deepEqual(m.operands.map((o) => o.readBytes + o.writeBytes), [1000, 1_000_000, 1000]);
  });

  it('never moves less than each operand once, and a split reduction spills partial sums at accumulator precision', () => {
    const rnd = createRng(3);
    let spills = 0;
    for (let i = 0; i < 60; i++) {
      const ci = [8, 32, 96, 256][Math.floor(rnd() * 4)]!;
      const co = [8, 48, 128, 512][Math.floor(rnd() * 4)]!;
      const hi = [7, 14, 28, 56][Math.floor(rnd() * 4)]!;
      const k = [1, 3, 5][Math.floor(rnd() * 3)]!;
      const s = rnd() < 0.3 ? 2 : 1;
      const ho = Math.floor((hi + 2 * Math.floor(k / 2) - k) / s) + 1;
      const nest = convNest({ n: 1 + Math.floor(rnd() * 4), ci, co, hi, ho, k, s });
      const sram = 2 ** (13 + Math.floor(rnd() * 8));
      const m = searchMapping(nest, chip(`${sram}B`, 'none', 'int8', { mappingObjective: rnd() < 0.5 ? 'traffic' : 'time' }));
      const [input, weights, output] = m.operands;
      const where = `conv ${ci}→${co} ${hi}x${hi} k${k} s${s} at ${sram} B`;
      assert.ok(weights!.readBytes >= ci * co * k * k, where);
      assert.ok(input!.readBytes >= nest.n * ci * Math.min(hi, ho * s) * Math.min(hi, ho * s) * (k === 1 && s === 2 ? 0.2 : 1), where);
      const outputBytes = nest.n * co * ho * ho;
      assert.equal(output!.readBytes % (outputBytes * 4), 0, where);
      assert.equal(output!.writeBytes, outputBytes + output!.readBytes, where);
      if (output!.readBytes > 0) spills++;
    }
    assert.ok(spills > 0, 'some of the mappings split their reduction');
  });

  it('re-reads the halo of a sliding window with every band', () => {
    // 3x3, 16→1 channel over 64x64 int8 in 4 KiB: tiles of a few rows and columns, each
    // re-reading the two rows and two columns it shares with its neighbours.
    const m = searchMapping(convNest({ ci: 16, co: 1, hi: 64, ho: 64, k: 3, partial: 1 }), chip('4KiB', 'none', 'int8', { mappingObjective: 'traffic' }));
    const [bandsP, bandsQ] = [Math.ceil(64 / m.tile.p), Math.ceil(64 / m.tile.q)];
    assert.ok(bandsP * bandsQ > 1, 'tiled');
    assert.equal(m.operands[0]!.readBytes, 16 * (64 + 2 * (bandsP - 1)) * (64 + 2 * (bandsQ - 1)));
  });

  it('names the stationary operand of its loop order', () => {
    // Weights that fit with the whole batch streaming past them: weight-stationary.
    const ws = searchMapping(convNest({ n: 8, ci: 32, co: 32, hi: 56, ho: 56, k: 3 }), chip('32KiB', 'none', 'int8', { mappingObjective: 'traffic' }));
    assert.equal(ws.stationary, 'weights');
    assert.equal(ws.operands[1]!.readBytes, 32 * 32 * 9);
  });

  it("minimises the profile's objective: DRAM time, DRAM energy (standby included), their product, or bytes", () => {
    const nest = { ...convNest({ ci: 64, co: 128, hi: 56, ho: 56, k: 3 }), computeS: 2e-4 };
    const base = withProcessor(presetProcessor('mobile-npu')!, { sramBytes: 32 * 1024 });
    const objectives = ['time', 'energy', 'edp', 'traffic'] as const;
    const chosen = objectives.map((mappingObjective) => searchMapping(nest, withProcessor(base, { mappingObjective })));
    const energy = (m: (typeof chosen)[number]) => m.energyJ + base.dram.backgroundPower * Math.max(m.timeS, nest.computeS);
    const scores = {
      time: (m: (typeof chosen)[number]) => m.timeS,
      energy,
      edp: (m: (typeof chosen)[number]) => energy(m) * Math.max(m.timeS, nest.computeS),
      traffic: (m: (typeof chosen)[number]) => m.reads.bytes + m.writes.bytes,
    };
    objectives.forEach((objective, i) => {
      for (const other of chosen) assert.ok(scores[objective](chosen[i]!) <= scores[objective](other) * (1 + 1e-12), `${objective}: ${scores[objective](chosen[i]!)} > ${scores[objective](other)}`);
    });
    assert.notDeepEqual(chosen[0]!.tile, chosen[3]!.tile, 'time and traffic choose different tiles here');
  });

  it('memoises per processor and loop nest', () => {
    const p = chip('64KiB', 'none');
    const nest = convNest({ ci: 64, co: 64, hi: 28, ho: 28, k: 3 });
    assert.equal(mapLayer(nest, p), mapLayer({ ...nest }, p));
    assert.notEqual(mapLayer(nest, p), mapLayer(nest, withProcessor(p, { sramBytes: 32 * 1024 })));
  });

  it('weights bypass the SRAM into a weight store of their own when the processor has one', () => {
    const nest = convNest({ ci: 64, co: 64, hi: 28, ho: 28, k: 3 });
    const shared = searchMapping(nest, chip('40KiB', 'none'));
    const split = searchMapping(nest, chip('40KiB', 'none', 'int8', { weightSram: '36KiB' }));
    assert.ok(split.timeS < shared.timeS, `${split.timeS} vs ${shared.timeS}`);
    assert.equal(split.operands[1]!.readBytes, 64 * 64 * 9);
  });
});

describe('properties over every preset, both modes and SRAM from 8 KiB to 64 MiB', () => {
  const networks: Array<[string, LayerGraph]> = [
    ['nb201', builtin('nb201:|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|')],
    ['random-1', lower(randomArchitecture(1))],
    ['random-2', lower(randomArchitecture(2))],
  ];
  const srams = [8, 32, 128, 512, 2048, 8192, 65536].map((k) => k * 1024);
  const modes = [['inference', 1], ['training', 4]] as const;
  const sweep = (preset: string, change: Parameters<typeof withProcessor>[1], g: LayerGraph, mode: (typeof modes)[number]) =>
    srams.map((sramBytes) => estimateCost(g, withProcessor(presetProcessor(preset)!, { ...change, sramBytes }), { mode: mode[0], batch: mode[1], layers: true }));

  it('a smaller SRAM never lowers DRAM time; never lowers traffic when mappings minimise traffic', () => {
    for (const preset of presetNames())
      for (const [name, g] of networks)
        for (const mode of modes)
          for (const fusion of ['none', 'composite', 'depth-first'] as const) {
            const byTime = sweep(preset, { fusion }, g, mode);
            const byTraffic = sweep(preset, { fusion, mappingObjective: 'traffic' }, g, mode);
            for (let i = 1; i < srams.length; i++) {
              const where = `${preset} ${name} ${mode[0]} ${fusion} at ${srams[i]} B`;
              assert.ok(byTime[i]!.dram.timeS <= byTime[i - 1]!.dram.timeS * (1 + 1e-12), `${where}: time`);
              assert.ok(traffic(byTraffic[i]!) <= traffic(byTraffic[i - 1]!) * (1 + 1e-12), `${where}: traffic`);
            }
          }
  });

  it('fusion never raises traffic or DRAM time: none ≥ composite ≥ depth-first', () => {
    for (const preset of presetNames())
      for (const [name, g] of networks)
        for (const mode of modes) {
          const [none, composite, depth] = (['none', 'composite', 'depth-first'] as const).map((fusion) => sweep(preset, { fusion }, g, mode));
          srams.forEach((sram, i) => {
            const where = `${preset} ${name} ${mode[0]} at ${sram} B`;
            assert.ok(traffic(composite![i]!) <= traffic(none![i]!) * (1 + 1e-12), `${where}: composite traffic`);
            assert.ok(traffic(depth![i]!) <= traffic(composite![i]!) * (1 + 1e-12), `${where}: depth-first traffic`);
            assert.ok(composite![i]!.dram.timeS <= none![i]!.dram.timeS * (1 + 1e-12), `${where}: composite time`);
            assert.ok(depth![i]!.dram.timeS <= composite![i]!.dram.timeS * (1 + 1e-12), `${where}: depth-first time`);
          });
        }
  });

  it('no cliff: halving the SRAM at most quadruples any layer\'s traffic', () => {
    for (const preset of presetNames())
      for (const [name, g] of networks)
        for (const mode of modes) {
          const halves = [8, 16, 32, 64, 128, 256, 512, 1024, 4096].map((k) =>
            estimateCost(g, withProcessor(presetProcessor(preset)!, { fusion: 'none', sramBytes: k * 1024 }), { mode: mode[0], batch: mode[1], layers: true }),
          );
          for (let i = 1; i < halves.length; i++) {
            halves[i]!.layers.forEach((layer, l) => {
              const half = halves[i - 1]!.layers[l]!;
              const [small, large] = [half.dramReadBytes + half.dramWriteBytes, layer.dramReadBytes + layer.dramWriteBytes];
              assert.ok(small <= 4 * large + 64, `${preset} ${name} ${mode[0]} ${layer.name}: ${small} B at half the SRAM vs ${large} B`);
            });
          }
        }
  });

  it('every convolution moves at least its compulsory bytes, and at most 4× max(compulsory, 2·MACs/√S)', () => {
    const graphs = [builtin('mobilenet_v2'), builtin('resnet18'), lower(randomArchitecture(3))];
    for (const preset of presetNames())
      for (const g of graphs)
        for (const sram of srams) {
          const p = withProcessor(presetProcessor(preset)!, { fusion: 'none', sramBytes: sram, mappingObjective: 'traffic' });
          const r = estimateCost(g, p, { layers: true });
          const b = p.bytesPerElement;
          r.layers.forEach((l, i) => {
            const layer = g.layers[i]!;
            if (layer.kind !== 'conv') return;
            const input = g.tensors[layer.inputs[0]!]!;
            const output = g.tensors[layer.output]!;
            // A strided 1x1 convolution reads a quarter of its input; every other one all of it.
            const read = layer.kernel === 1 && layer.stride === 2 ? output.h * output.w * input.c : input.h * input.w * input.c;
            const compulsory = (read + layer.params + output.h * output.w * output.c) * b;
            // Weights executed in place come from flash instead of DRAM.
            const moved = l.dramReadBytes + l.dramWriteBytes + l.flashReadBytes;
            const where = `${preset} ${g.name} ${l.name} at ${sram} B`;
            assert.ok(moved >= compulsory - (layer.bias ? 0 : output.c * b), `${where}: ${moved} < ${compulsory}`);
            const bound = ((2 * layer.macs) / Math.sqrt(sram / b)) * b;
            assert.ok(moved <= 4 * Math.max(compulsory, bound), `${where}: ${moved} > 4 × max(${compulsory}, ${bound.toFixed(0)})`);
          });
        }
  });
});

describe('a training step', () => {
  const hand = lower(parseArchitecture({ name: 'hand', input: '8x8x4', classes: 2, stem: ['cn_k3_s1_c8_nid'], stages: [['gap']], head: ['fc'] }));

  it('runs about three times the MACs of inference', () => {
    for (const name of presetNames()) {
      const p = presetProcessor(name)!;
      const g = builtin('mobilenet_v2');
      const inference = estimateCost(g, p, { batch: 8 });
      const training = estimateCost(g, p, { mode: 'training', batch: 8 });
      assert.ok(traffic(training) > 2 * traffic(inference), name);
      const firstLayerMacs = g.layers.filter((l) => l.inputs.includes(0)).reduce((a, l) => a + l.macs, 0);
      assert.equal(training.executedMacs, 8 * (3 * g.macs - firstLayerMacs));
      assert.equal(inference.executedMacs, 8 * g.macs);
    }
  });

  it('keeps fp32 master weights and the optimiser state: SGD with momentum one buffer, Adam two', () => {
    const p = chip('1MiB', 'none', 'int8', { training: { dtype: 'fp16' } });
    const sgd = estimateCost(hand, p, { mode: 'training', optimizer: 'sgd' });
    const adam = estimateCost(hand, p, { mode: 'training', optimizer: 'adam' });
    // Adam reads and writes one more fp32 moment per weight.
    assert.equal(adam.dram.weightBytes - sgd.dram.weightBytes, 2 * 4 * hand.params);
    // fp16 training moves half the activation bytes of fp32.
    const fp32 = estimateCost(hand, chip('1MiB', 'none'), { mode: 'training', optimizer: 'sgd' });
    assert.equal(2 * sgd.dram.activationBytes, fp32.dram.activationBytes);
  });

  it('charges no input gradient to the first layer and no weight gradient to weightless ones', () => {
    const pool = lower(parseArchitecture({ name: 'pool', input: '8x8x4', classes: 4, stages: [['mp_k3_s2']], head: ['gap', 'fc'] }));
    const r = estimateCost(pool, chip('1MiB', 'none', 'fp32'), { mode: 'training', layers: true });
    const mp = r.layers[0]!;
    // Forward only: read the input (256 fp32), write the output (64 fp32), saved for the backward pass.
    assert.deepEqual([mp.dramReadBytes, mp.dramWriteBytes], [4 * 256, 4 * 64]);
    assert.deepEqual(mp.mappings.map((m) => m.pass), ['forward']);
    const conv = estimateCost(builtin('resnet18'), presetProcessor('edge-cpu')!, { mode: 'training', batch: 2, layers: true }).layers.find((l) => l.name === 's1.b0.conv1')!;
    assert.deepEqual(conv.mappings.map((m) => m.pass), ['forward', 'input-gradient', 'weight-gradient']);
  });

  it("reads back the weight gradient's partial sums when the batch or the image is split above it", () => {
    // 1x1, 64→64 over 28x28 at batch 4, fp32: the weight gradient sums over n, p, q.
    const g = { hi: 28, wi: 28, ci: 64, ho: 28, wo: 28, co: 64, kernel: 1, span: 1, stride: 1, pad: 0, groups: 1, kernelArea: 1, bias: 0 };
    const nest = weightGradientNest(g, 4, { bytes: 2, partialBytes: 4 }, 0);
    const p = chip('1MiB', 'none');
    // Batch and rows outermost, the gradient's own loops inside: a pass per (image, band of 7 rows).
    const spilled = evaluateMapping(nest, p, { n: 1, g: 1, k: 32, c: 64, p: 7, q: 28 }, ['x', 'k', 'c']);
    const gradient = spilled.operands[2]!;
    const passes = 4 * 4;
    assert.equal(gradient.readBytes, (passes - 1) * 64 * 64 * 4, 'every spill read back at fp32');
    assert.equal(gradient.writeBytes, (passes - 1) * 64 * 64 * 4 + 64 * 64 * 2, 'spilled at fp32, the last pass written at fp16');
    // Kept on chip over the whole reduction, it is written once.
    const kept = evaluateMapping(nest, p, { n: 1, g: 1, k: 32, c: 64, p: 7, q: 28 }, ['k', 'c', 'x']);
    assert.deepEqual([kept.operands[2]!.readBytes, kept.operands[2]!.writeBytes], [0, 64 * 64 * 2]);
    assert.equal(kept.stationary, 'weight gradient');
  });

  it('fuses the backward pass of a composite op that fits: its inner gradients never reach DRAM', () => {
    // One MBConv block, 16→96→16 channels on 16x16, trained in fp16 on the mobile NPU.
    const g = lower(parseArchitecture({ name: 'block', input: '16x16x16', classes: 10, stages: [['ir_k3_e6_c16']], head: ['gap', 'fc'] }));
    const p = presetProcessor('mobile-npu')!;
    const none = estimateCost(g, withProcessor(p, { fusion: 'none' }), { mode: 'training', layers: true });
    const composite = estimateCost(g, withProcessor(p, { fusion: 'composite' }), { mode: 'training', layers: true });
    // Layer by layer, at least the gradients of the expanded tensor and of the depthwise output are written.
    const inner = 2 * (16 * 16 * 96 * 2);
    assert.ok(traffic(none) - traffic(composite) >= inner, `${traffic(composite)} vs ${traffic(none)}`);
    const block = composite.layers.filter((l) => l.name.startsWith('s0.b0.'));
    assert.ok(block.every((l) => l.fused && l.mappings.length === 0), 'the block runs fused, forward and backward');
  });
});

describe('the Eyeriss chip (Chen et al., JSSC 2017) on its published workloads', () => {
  const eyeriss = presetProcessor('eyeriss')!;
  const convs = (g: LayerGraph, batch: number) => {
    const r = estimateCost(g, eyeriss, { batch, layers: true });
    const layers = r.layers.filter((_, i) => g.layers[i]!.kind === 'conv');
    const bytes = layers.reduce((a, l) => a + l.dramReadBytes + l.dramWriteBytes, 0);
    const macs = batch * layers.reduce((a, l) => a + l.macs, 0);
    return { layers, accessesPerMac: bytes / eyeriss.bytesPerElement / macs };
  };

  it('AlexNet is the grouped two-tower network of the JSSC table (conv MACs at batch 4, bias adds included)', () => {
    const { layers } = convs(lower(resolveExample('alexnet')), 4);
    const table = [421.7e6, 895.8e6, 598.1e6, 448.6e6, 299.0e6];
    layers.forEach((l, i) => assert.ok(Math.abs((4 * l.macs) / table[i]! - 1) < 0.005, `${l.name}: ${4 * l.macs}`));
  });

  it('AlexNet conv layers at batch 4: within 1.3× of 0.0029 DRAM accesses per MAC', () => {
    const { accessesPerMac } = convs(lower(resolveExample('alexnet')), 4);
    assert.ok(accessesPerMac / 0.0029 < 1.3 && 0.0029 / accessesPerMac < 1.3, `${accessesPerMac}`);
  });

  it('VGG-16 conv layers at batch 3: within 1.5× of 0.0035 DRAM accesses per MAC', () => {
    const g = lower(resolveExample('vgg16'));
    assert.ok(Math.abs(g.layers.filter((l) => l.kind === 'conv').reduce((a, l) => a + l.macs, 0) / 15.35e9 - 1) < 0.01);
    const { accessesPerMac } = convs(g, 3);
    assert.ok(accessesPerMac / 0.0035 < 1.5 && 0.0035 / accessesPerMac < 1.5, `${accessesPerMac}`);
  });
});

function resolveExample(name: string): Architecture {
  return resolveArchitecture(new URL(`../examples/${name}.yaml`, import.meta.url).pathname);
}

describe('costing an architecture block by block', () => {
  it('gives the figures of its lowered graph, on every preset, fusion and mode', () => {
    const architectures = [builtinArchitecture('mobilenet_v2')!, builtinArchitecture('nb201:|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|')!, randomArchitecture(4), randomArchitecture(5)];
    for (const a of architectures)
      for (const preset of presetNames())
        for (const fusion of ['none', 'composite', 'depth-first'] as const)
          for (const [mode, batch] of [['inference', 1], ['training', 4]] as const) {
            const p = withProcessor(presetProcessor(preset)!, { fusion });
            const whole = estimateCost(lower(a), p, { mode, batch });
            const blocks = estimateArchitectureCost(a, p, { mode, batch });
            const where = `${a.name} ${preset} ${fusion} ${mode}`;
            assert.equal(blocks.params, whole.params, where);
            assert.equal(blocks.macs, whole.macs, where);
            assert.deepEqual(blocks.dram, whole.dram, where);
            assert.equal(blocks.latencyS, whole.latencyS, where);
            assert.deepEqual(blocks.memory, whole.memory, where);
          }
  });

  it('throws lowering\'s error for a malformed architecture', () => {
    const bad = parseArchitecture({ name: 'bad', input: '8x8x3', classes: 10, stages: [['cn_k3_c8']], head: ['fc'] });
    assert.throws(() => estimateArchitectureCost(bad, presetProcessor('mobile-npu')!), /dense layer needs a 1x1 input/);
  });
});

it('rejects a batch that is not a positive integer', () => {
  assert.throws(() => estimateCost(builtin('resnet18'), chip('1MiB', 'none'), { batch: 0 }), /batch must be a positive integer/);
});
