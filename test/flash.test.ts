import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateCost } from '../src/cost/index.js';
import { parseProcessor, presetProcessor, profileData } from '../src/processor/index.js';
import type { FusionPolicy, Processor } from '../src/processor/index.js';
import { builtinArchitecture, lower, parseArchitecture } from '../src/space/index.js';

/** A microcontroller-like chip: int8, no double buffering, weights in a flash of its own. */
const mcu = (options: { fusion?: FusionPolicy; weightSram?: string; flash?: Record<string, unknown> | undefined; sram?: string } = {}): Processor =>
  parseProcessor({
    name: 'mcu',
    dtype: 'int8',
    sram: options.sram ?? '256KiB',
    weightSram: options.weightSram ?? '0B',
    doubleBuffer: false,
    dram: { bandwidth: '400MB/s', energy: '50pJ/B', latency: '100ns', burst: '32B' },
    ...(options.flash === undefined ? {} : { flash: options.flash }),
    compute: { peak: '400MMAC/s', macEnergy: '0.2pJ' },
    fusion: options.fusion ?? 'none',
  });

const FLASH = { size: '1MiB', bandwidth: '800MB/s', energy: '10pJ/B', line: '32B' };

// One 3x3 convolution of 64 to 64 channels over 32x32 (36,864 B of int8 weights), then the head.
const conv = lower(parseArchitecture({ name: 'conv', input: '32x32x64', classes: 10, stem: [], stages: [['cn_k3_s1_c64_nid']], head: ['gap', 'fc'] }));
const mbv2 = lower(
  parseArchitecture({
    name: 'mbv2-w0.35-r144', input: '144x144x3', classes: 1000, act: 'relu6', stem: ['cn_k3_s2_c16'],
    stages: [['ds_r1_k3_s1_c8'], ['ir_r2_k3_s2_e6_c8'], ['ir_r3_k3_s2_e6_c16'], ['ir_r4_k3_s2_e6_c24'], ['ir_r3_k3_s1_e6_c32'], ['ir_r3_k3_s2_e6_c56'], ['ir_r1_k3_s1_e6_c112']],
    head: ['cn_k1_s1_c448', 'gap', 'fc'],
  }),
);

describe('weights executed in place from flash', () => {
  it('inference reads every weight from flash, none from DRAM, and pays for it in latency and energy', () => {
    for (const fusion of ['none', 'composite', 'depth-first'] as const) {
      const r = estimateCost(mbv2, mcu({ fusion, flash: FLASH }), { layers: true });
      assert.equal(r.dram.weightBytes, 0, fusion);
      assert.ok(r.layers.every((l) => l.dramWeightBytes === 0), fusion);
      // Every weight at least once (the stored weights: batch norms folded into biases).
      assert.ok(r.flash.readBytes >= r.memory.storedWeightBytes, `${fusion}: ${r.flash.readBytes} < ${r.memory.storedWeightBytes}`);
      assert.ok(Math.abs(r.flash.timeS - r.flash.busReadBytes / 800e6) < 1e-12, `${fusion}: whole lines at the flash's bandwidth`);
      assert.ok(Math.abs(r.flash.energyJ - r.flash.busReadBytes * 10e-12) < 1e-15, fusion);
      // Without double buffering a layer waits for compute, DRAM and flash in turn.
      const sum = r.compute.timeS + r.dram.timeS + r.flash.timeS;
      assert.ok(Math.abs(r.latencyS - sum) < 1e-12 * sum, `${fusion}: latency ${r.latencyS} vs ${sum}`);
      assert.ok(Math.abs(r.energyJ - (r.dram.energyJ + r.flash.energyJ + r.compute.energyJ)) < 1e-15, fusion);
      assert.equal(r.layers.reduce((a, l) => a + l.flashReadBytes, 0), r.flash.readBytes);
    }
  });

  it('without flash, or with executeInPlace false, the weights come from DRAM as before', () => {
    for (const fusion of ['none', 'depth-first'] as const) {
      const none = estimateCost(mbv2, mcu({ fusion }));
      const copied = estimateCost(mbv2, mcu({ fusion, flash: { ...FLASH, executeInPlace: false } }));
      assert.equal(none.flash.readBytes, 0);
      assert.ok(none.dram.weightBytes >= none.memory.storedWeightBytes);
      assert.deepEqual(copied, none);
    }
  });

  it('a training step keeps its weights in DRAM: it writes them', () => {
    const r = estimateCost(mbv2, mcu({ flash: FLASH }), { mode: 'training', batch: 2 });
    assert.equal(r.flash.readBytes, 0);
    assert.ok(r.dram.weightBytes > 0);
    assert.deepEqual(r, estimateCost(mbv2, mcu(), { mode: 'training', batch: 2 }));
  });

  it('a weight store smaller than a layer\'s weights makes the mapping read them from flash again; a smaller one never costs less time', () => {
    const weights = 64 * 64 * 9;
    // 16 KiB of SRAM holds a fraction of the 64 KiB input: some operand is fetched again.
    const flashOf = (weightSram: string) => estimateCost(conv, mcu({ sram: '16KiB', weightSram, flash: FLASH }), { layers: true }).layers[0]!;
    const roomy = flashOf('64KiB');
    assert.equal(roomy.flashReadBytes, weights, 'all weights on chip: each read once');
    assert.equal(roomy.dramWeightBytes, 0);
    // The mapping minimises DRAM plus flash time: it may trade flash reads for DRAM ones, but a
    // smaller store never makes the two together faster.
    let previous = roomy.dramS + roomy.flashS;
    for (const store of ['32KiB', '16KiB', '8KiB', '4KiB', '2KiB']) {
      const layer = flashOf(store);
      assert.ok(layer.dramS + layer.flashS >= previous * (1 - 1e-12), `${store}: ${layer.dramS + layer.flashS} < ${previous}`);
      previous = layer.dramS + layer.flashS;
    }
    assert.ok(flashOf('2KiB').flashReadBytes > weights, `a 2 KiB store refetches: ${flashOf('2KiB').flashReadBytes}`);
    // The mapping names the weights as read from flash.
    const weightsOperand = flashOf('4KiB').mappings[0]!.operands.find((o) => o.name === 'weights')!;
    assert.equal(weightsOperand.flash, true);
  });

  it('the mapping trades DRAM against flash by their prices: a slower flash never costs less time', () => {
    const at = (bandwidth: string) => estimateCost(mbv2, mcu({ weightSram: '4KiB', flash: { ...FLASH, bandwidth } }));
    const fast = at('800MB/s');
    const slow = at('50MB/s');
    assert.ok(slow.latencyS >= fast.latencyS);
    assert.ok(slow.flash.timeS > fast.flash.timeS);
  });

  it('a profile\'s flash is validated with the path of what is wrong, and written back as read', () => {
    assert.throws(() => mcu({ flash: { ...FLASH, bandwidth: 'fast' } }), /flash\.bandwidth: expected a number or a quantity with its unit|flash\.bandwidth: .*fast/);
    assert.throws(() => mcu({ flash: { ...FLASH, speed: 1 } }), /flash/);
    assert.throws(() => mcu({ flash: { bandwidth: '1GB/s', energy: '1pJ/B' } }), /flash\.size: required/);
    const p = presetProcessor('stm32f746')!;
    assert.deepEqual(parseProcessor(profileData(p)), p);
    assert.equal(p.flash?.sizeBytes, 1 << 20);
    assert.equal(p.sramBytes, 320 * 1024);
    assert.equal(p.flash?.executeInPlace, true);
  });

  it('stm32f746: MCUNet\'s MobileNetV2 w0.35 fits its SRAM and flash, and reads its weights from flash once', () => {
    const p = presetProcessor('stm32f746')!;
    const r = estimateCost(mbv2, p);
    assert.ok(r.memory.peakActivationBytes <= p.sramBytes && r.memory.storedWeightBytes <= p.flash!.sizeBytes);
    assert.equal(r.dram.weightBytes, 0);
    // Depth-first stacks keep every activation on chip, the weights stream from flash once: DRAM
    // moves the input image and the logits, little more.
    assert.ok(r.flash.readBytes >= r.memory.storedWeightBytes && r.flash.readBytes < 1.05 * r.memory.storedWeightBytes, `${r.flash.readBytes}`);
    assert.ok(r.dram.readBytes + r.dram.writeBytes < 2 * 144 * 144 * 3, `${r.dram.readBytes + r.dram.writeBytes} B of DRAM`);
    // MobileNetV2 itself does not fit (3.4 M weights, 1372 KiB of activations).
    const big = estimateCost(lower(builtinArchitecture('mobilenet_v2')!), p);
    assert.ok(big.memory.storedWeightBytes > p.flash!.sizeBytes && big.memory.peakActivationBytes > p.sramBytes);
  });
});
