import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateCost } from '../src/cost/index.js';
import { createRng } from '../src/data/index.js';
import type { CostReport } from '../src/cost/index.js';
import { windowTraffic } from '../src/cost/tiling.js';
import { parseProcessor, presetNames, presetProcessor, withProcessor } from '../src/processor/index.js';
import type { FusionPolicy, Processor } from '../src/processor/index.js';
import { builtinArchitecture, lower, parseArchitecture } from '../src/space/index.js';
import type { LayerGraph } from '../src/space/index.js';

const chip = (sram: string, fusion: FusionPolicy, dtype: 'int8' | 'fp32' = 'int8'): Processor =>
  parseProcessor({
    name: 'test-chip',
    dtype,
    sram,
    dram: { bandwidth: '1GB/s', energy: '10pJ/B', latency: '100ns', burst: '32B' },
    compute: { peak: '10GMAC/s', macEnergy: '1pJ' },
    fusion,
  });

const traffic = (r: CostReport): number => r.dram.readBytes + r.dram.writeBytes;
const builtin = (name: string): LayerGraph => lower(builtinArchitecture(name)!);

function randomNetwork(seed: number): LayerGraph {
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
  return lower(parseArchitecture({ name: `random-${seed}`, input: `${size}x${size}x3`, classes: 10, stem: ['cn_k3_s2_c16'], stages, head: ['cn_k1_c128', 'gap', 'fc'] }));
}

describe('cost of a network small enough to check by hand', () => {
  // conv 3x3 4→8 on 8x8 (288 weights) + BN (16), then global pool, then dense 8→2 (18), int8.
  const g = lower(parseArchitecture({ name: 'hand', input: '8x8x4', classes: 2, stem: ['cn_k3_s1_c8_nid'], stages: [['gap']], head: ['fc'] }));

  it('counts params and MACs', () => {
    assert.equal(g.params, 288 + 16 + 18);
    assert.equal(g.macs, 288 * 64 + 18);
  });

  it('without fusion every op reads its inputs and weights and writes its output', () => {
    const r = estimateCost(g, chip('1MiB', 'none'), { layers: true });
    assert.deepEqual(
      r.layers.map((l) => [l.op, l.dramReadBytes, l.dramWriteBytes]),
      [
        ['conv3x3', 256 + 288, 512],
        ['bn', 512 + 16, 512],
        ['gap', 512, 8],
        ['dense', 8 + 18, 2],
      ],
    );
    assert.equal(r.dram.readBytes, 1610);
    assert.equal(r.dram.writeBytes, 1034);
    assert.equal(r.dram.weightBytes, 288 + 16 + 18);
  });

  it('fused inside composite ops, the conv output never reaches DRAM', () => {
    const r = estimateCost(g, chip('1MiB', 'composite'), { layers: true });
    assert.equal(r.dram.readBytes, 256 + 304 + 512 + 26);
    assert.equal(r.dram.writeBytes, 512 + 8 + 2);
    assert.deepEqual(r.layers.map((l) => l.fused), [true, true, true, true]);
  });

  it('greedy fusion keeps the tensors passed between composite ops on chip', () => {
    const r = estimateCost(g, chip('1MiB', 'greedy'));
    assert.equal(r.dram.readBytes, 256 + 304 + 18);
    assert.equal(r.dram.writeBytes, 2);
  });

  it('fp32 moves four times the bytes', () => {
    const int8 = estimateCost(g, chip('1MiB', 'none'));
    const fp32 = estimateCost(g, chip('1MiB', 'none', 'fp32'));
    assert.equal(traffic(fp32), 4 * traffic(int8));
  });

  it('DRAM time and energy follow from bytes, transfers, bandwidth, latency and burst', () => {
    const p = chip('1MiB', 'none');
    const r = estimateCost(g, p, { layers: true });
    for (const l of r.layers) {
      assert.ok(l.latencyS >= l.computeS && l.latencyS >= l.dramS);
      assert.ok(Math.abs(l.latencyS - Math.max(l.computeS, l.dramS)) < 1e-18);
    }
    const moved = traffic(r) + (r.dram.transfers * p.dram.burstBytes) / 2;
    assert.ok(Math.abs(r.dram.timeS - (moved / p.dram.bandwidth + r.dram.transfers * p.dram.latency)) < 1e-15);
    assert.ok(Math.abs(r.dram.energyJ - moved * p.dram.energyPerByte) < 1e-18);
    const sum = r.layers.reduce((a, l) => a + l.latencyS, 0);
    assert.ok(Math.abs(r.latencyS - sum) < 1e-15);
    assert.ok(Math.abs(r.energyJ - (r.dram.energyJ + r.compute.energyJ)) < 1e-18);
  });
});

describe('tiling when an op does not fit on chip', () => {
  // Dense 1000→1000 (1 MB of int8 weights) with 64 KiB of SRAM.
  const dense = { hi: 1, wi: 1, ci: 1000, ho: 1, wo: 1, co: 1000, kernel: 1, stride: 1, groups: 1, weights: 1_000_000 };

  it('batch 1: streams weight tiles past the resident input, reading each weight once', () => {
    const t = windowTraffic(dense, 1, 65536, 1);
    assert.deepEqual([t.weightReads, t.activationReads, t.writes], [1_000_000, 1000, 1000]);
  });

  it('batch 4: keeps weight tiles and re-reads the small input per tile instead', () => {
    // 64 output channels per tile → 16 tiles; each re-reads the 1000-byte input of 4 samples.
    const t = windowTraffic(dense, 4, 65536, 1);
    assert.deepEqual([t.weightReads, t.activationReads, t.writes], [1_000_000, 16 * 4 * 1000, 4000]);
  });

  it('overlapping row bands re-read their halo', () => {
    const conv = { hi: 64, wi: 64, ci: 16, ho: 64, wo: 64, co: 16, kernel: 3, stride: 1, groups: 1, weights: 2304 };
    const roomy = windowTraffic(conv, 1, 1 << 20, 1);
    assert.equal(roomy.activationReads, 64 * 64 * 16);
    assert.equal(roomy.weightReads, 2304);
    const tight = windowTraffic(conv, 1, 16 * 1024, 1);
    const total = (t: typeof roomy) => t.weightReads + t.activationReads + t.writes;
    // Bands of 8 rows read 10 input rows each (80 in all) and re-read the weights once per band:
    // cheaper here than reading the whole input twice.
    assert.equal(tight.activationReads, 80 * 64 * 16);
    assert.equal(tight.weightReads, 8 * 2304);
    assert.ok(total(tight) > total(roomy));
  });

  it('a strided 1x1 convolution reads only the rows it uses', () => {
    const conv = { hi: 56, wi: 56, ci: 64, ho: 28, wo: 28, co: 128, kernel: 1, stride: 2, groups: 1, weights: 8192 };
    assert.equal(windowTraffic(conv, 1, 1 << 20, 1).activationReads, 28 * 56 * 64);
  });

  it('a grouped convolution tiled inside its groups re-reads each group\'s input', () => {
    // Two groups of 32 channels; one group's band and weights do not fit in 8 KiB.
    const conv = { hi: 56, wi: 56, ci: 64, ho: 56, wo: 56, co: 64, kernel: 3, stride: 1, groups: 2, weights: 9 * 32 * 64 };
    const tight = windowTraffic(conv, 1, 8 * 1024, 1);
    assert.ok(tight.activationReads >= 2 * 56 * 56 * 64, `${tight.activationReads}`);
    const depthwise = { ...conv, groups: 64, weights: 9 * 64 };
    assert.ok(windowTraffic(depthwise, 1, 8 * 1024, 1).activationReads < 1.2 * 56 * 56 * 64);
  });

  it('pooling is tiled channel by channel', () => {
    const pool = { hi: 112, wi: 112, ci: 64, ho: 56, wo: 56, co: 64, kernel: 3, stride: 2, groups: 64, weights: 0 };
    const t = windowTraffic(pool, 1, 16 * 1024, 1);
    assert.ok(t.activationReads < 1.1 * 112 * 112 * 64, `${t.activationReads}`);
  });

  it('prefers fewer DRAM transfers when their latency outweighs the extra bytes', () => {
    const conv = { hi: 32, wi: 32, ci: 16, ho: 16, wo: 16, co: 96, kernel: 3, stride: 2, groups: 1, weights: 9 * 16 * 96 };
    const bytesOnly = windowTraffic(conv, 1, 4941, 1, 0);
    const timed = windowTraffic(conv, 1, 4941, 1, 1190);
    const cost = (t: typeof timed) => t.weightReads + t.activationReads + t.writes + 1190 * t.transfers;
    assert.ok(timed.transfers < bytesOnly.transfers);
    assert.ok(cost(timed) <= cost(bytesOnly));
  });

  it('charges more than any tiling when not even one row fits', () => {
    const conv = { hi: 8, wi: 8, ci: 64, ho: 8, wo: 8, co: 64, kernel: 3, stride: 1, groups: 1, weights: 36864 };
    const none = windowTraffic(conv, 1, 100, 1);
    const some = windowTraffic(conv, 1, 2000, 1);
    const total = (t: typeof none) => t.weightReads + t.activationReads + t.writes;
    assert.ok(total(none) >= total(some));
  });
});

describe('sanity properties', () => {
  const networks: Array<[string, LayerGraph]> = [
    ['mobilenet_v2', builtin('mobilenet_v2')],
    ['mnasnet_a1', builtin('mnasnet_a1')],
    ['resnet18', builtin('resnet18')],
    ['nb201', builtin('nb201:|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|')],
    ['nb201-dead-ends', builtin('nb201:|none~0|+|nor_conv_3x3~0|none~1|+|none~0|nor_conv_1x1~1|avg_pool_3x3~2|')],
    ...Array.from({ length: 12 }, (_, i): [string, LayerGraph] => [`random-${i}`, randomNetwork(i + 1)]),
  ];
  const srams = Array.from({ length: 16 }, (_, i) => 2 ** (10 + i)).flatMap((s) => [s, Math.round(s * 1.5)]);
  const policies: FusionPolicy[] = ['none', 'composite', 'greedy'];

  it('a smaller SRAM never lowers traffic nor DRAM time (every policy, both modes, batch 1 and 4)', () => {
    for (const [name, g] of networks) {
      for (const fusion of policies) {
        for (const [mode, batch] of [['inference', 1], ['inference', 4], ['training', 4]] as const) {
          let previous = { bytes: Infinity, time: Infinity };
          for (const sram of srams) {
            const r = estimateCost(g, withProcessor(chip('1MiB', fusion), { sramBytes: sram }), { mode, batch });
            const now = { bytes: traffic(r), time: r.dram.timeS };
            const where = `${name} ${fusion} ${mode} b${batch} at ${sram} B SRAM`;
            assert.ok(now.bytes <= previous.bytes * (1 + 1e-12), `${where}: moves ${now.bytes} > ${previous.bytes}`);
            assert.ok(now.time <= previous.time * (1 + 1e-12), `${where}: DRAM time ${now.time} > ${previous.time}`);
            previous = now;
          }
        }
      }
    }
  });

  it('fusion never raises traffic: none ≥ composite ≥ greedy', () => {
    for (const [name, g] of networks) {
      for (const sram of srams) {
        for (const [mode, batch] of [['inference', 1], ['training', 2]] as const) {
          const [none, composite, greedy] = policies.map((fusion) =>
            traffic(estimateCost(g, withProcessor(chip('1MiB', fusion), { sramBytes: sram }), { mode, batch })),
          ) as [number, number, number];
          assert.ok(composite <= none * (1 + 1e-12), `${name} ${sram} ${mode}: composite ${composite} > none ${none}`);
          assert.ok(greedy <= composite * (1 + 1e-12), `${name} ${sram} ${mode}: greedy ${greedy} > composite ${composite}`);
        }
      }
    }
  });

  it('fusion saves a lot where intermediates are large: MobileNetV2 on the mobile NPU', () => {
    const p = presetProcessor('mobile-npu')!;
    const none = traffic(estimateCost(builtin('mobilenet_v2'), withProcessor(p, { fusion: 'none' })));
    const composite = traffic(estimateCost(builtin('mobilenet_v2'), withProcessor(p, { fusion: 'composite' })));
    assert.ok(composite < none / 4, `${composite} vs ${none}`);
  });

  it('under greedy fusion, a batch whose tensors no longer fit on chip loses their residency', () => {
    const g = lower(parseArchitecture({ name: 'pair', input: '32x32x16', classes: 10, stages: [['cn_k3_c16', 'cn_k3_c16']], head: ['gap', 'fc'] }));
    const p = chip('64KiB', 'greedy');
    const one = estimateCost(g, p, { batch: 1 });
    const two = estimateCost(g, p, { batch: 2 });
    assert.equal(two.dram.weightBytes, one.dram.weightBytes);
    assert.ok(two.dram.activationBytes > 2 * one.dram.activationBytes);
  });

  it('doubling the batch doubles activation traffic, not weight traffic, when weights fit', () => {
    for (const [g, sram, fusion] of [
      [builtin('mobilenet_v2'), 4 << 20, 'none'],
      [builtin('mobilenet_v2'), 4 << 20, 'composite'],
      [builtin('resnet18'), 16 << 20, 'none'],
      [randomNetwork(7), 1 << 20, 'composite'],
    ] as const) {
      const p = withProcessor(chip('1MiB', fusion), { sramBytes: sram });
      const one = estimateCost(g, p, { batch: 1 });
      const two = estimateCost(g, p, { batch: 2 });
      assert.equal(two.dram.weightBytes, one.dram.weightBytes, `${g.name} weights`);
      assert.equal(two.dram.activationBytes, 2 * one.dram.activationBytes, `${g.name} activations`);
    }
  });

  it('a training step moves weights seven times (read, gradient, SGD-momentum update), plus once per input-gradient pass', () => {
    const g = lower(parseArchitecture({ name: 'hand', input: '8x8x4', classes: 2, stem: ['cn_k3_s1_c8_nid'], stages: [['gap']], head: ['fc'] }));
    const one = estimateCost(g, chip('1MiB', 'none'), { mode: 'training', batch: 1 });
    const two = estimateCost(g, chip('1MiB', 'none'), { mode: 'training', batch: 2 });
    // The first conv reads the network input and needs no input gradient; the dense layer's
    // input gradient reads its 18 weights once more.
    assert.equal(one.dram.weightBytes, 7 * g.params + 18);
    assert.equal(two.dram.weightBytes, one.dram.weightBytes);
    assert.equal(two.dram.activationBytes, 2 * one.dram.activationBytes);
  });

  it('training charges no weight gradient to weightless ops and no gradient sum to the network input', () => {
    const pool = lower(parseArchitecture({ name: 'pool', input: '8x8x4', classes: 4, stages: [['mp_k3_s2']], head: ['gap', 'fc'] }));
    const r = estimateCost(pool, chip('1MiB', 'none'), { mode: 'training', layers: true });
    const mp = r.layers[0]!;
    // Forward: read input (256), write output (64). Backward: no input gradient (it reads the
    // network input) and no weight gradient.
    assert.deepEqual([mp.dramReadBytes, mp.dramWriteBytes], [256, 64]);
    const res = lower(parseArchitecture({ name: 'res', input: '8x8x4', classes: 4, stages: [['rb_c4']], head: ['gap', 'fc'] }));
    const inference = estimateCost(res, chip('1MiB', 'none'), { layers: true });
    const training = estimateCost(res, chip('1MiB', 'none'), { mode: 'training', layers: true });
    // The first conv reads the network input; in training it gains only its weight-gradient and
    // optimiser traffic, not a gradient sum for the input its shortcut also reads.
    const conv1 = (rep: CostReport) => rep.layers.find((l) => l.name.endsWith('conv1'))!;
    assert.equal(conv1(training).dramReadBytes - conv1(inference).dramReadBytes, 256 + 256 + 3 * 144);
  });

  it('a training step costs more than inference and runs about three times the MACs', () => {
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

  it('totals are the sums of the per-layer figures', () => {
    const r = estimateCost(builtin('mnasnet_a1'), presetProcessor('edge-cpu')!, { layers: true, mode: 'training', batch: 2 });
    const sum = (f: (l: CostReport['layers'][number]) => number) => r.layers.reduce((a, l) => a + f(l), 0);
    assert.ok(Math.abs(sum((l) => l.dramReadBytes) - r.dram.readBytes) <= r.layers.length);
    assert.ok(Math.abs(sum((l) => l.dramWriteBytes) - r.dram.writeBytes) <= r.layers.length);
    assert.ok(Math.abs(sum((l) => l.energyJ) / r.energyJ - 1) < 1e-9);
    assert.equal(r.layers.length, builtin('mnasnet_a1').layers.length);
  });

  it('all-zero NAS-Bench-201 nodes cost no DRAM traffic of their own', () => {
    const g = builtin('nb201:|none~0|+|none~0|none~1|+|none~0|none~1|none~2|');
    const r = estimateCost(g, chip('1MiB', 'none'), { layers: true });
    const zeros = r.layers.filter((l) => l.op === 'zero');
    assert.equal(zeros.length, 45);
    assert.ok(zeros.every((l) => l.dramReadBytes === 0 && l.dramWriteBytes === 0));
  });

  it('rejects a batch that is not a positive integer', () => {
    assert.throws(() => estimateCost(builtin('resnet18'), chip('1MiB', 'none'), { batch: 0 }), /batch must be a positive integer/);
  });
});
