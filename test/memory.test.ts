import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deployedMemory, estimateCost } from '../src/cost/index.js';
import { presetProcessor } from '../src/processor/index.js';
import { builtinArchitecture, lower, parseArchitecture } from '../src/space/index.js';

const KIB = 1024;

describe('deployed memory: peak activations and stored weights', () => {
  it('counts the live tensors layer by layer, with in-place depthwise, activations and adds', () => {
    // 8x8x4 input; an inverted residual with expansion 2 and its skip: A → expand B (8 ch, BN and
    // ReLU in place) → depthwise over B in place → project C (4 ch) → C + A into C's buffer.
    const net = parseArchitecture({ name: 'r', input: '8x8x4', classes: 2, stem: [], stages: [['ir_k3_e2_c4']], head: ['gap', 'fc'] });
    const graph = lower(net);
    const a = 64 * 4;
    const b = 64 * 8;
    // The peak is the projection: A (kept for the skip), B and C.
    assert.equal(deployedMemory(graph, 1).peakActivationBytes, a + b + a);
    assert.equal(deployedMemory(graph, 4).peakActivationBytes, 4 * (a + b + a));
    // Weights as deployed: batch norms folded into biases of the convolutions before them.
    const expand = 4 * 8;
    const depthwise = 9 * 8;
    const project = 8 * 4;
    const biases = 8 + 8 + 4;
    const fc = 4 * 2 + 2;
    assert.equal(deployedMemory(graph, 1).storedWeightBytes, expand + depthwise + project + biases + fc);
  });

  it('MobileNetV2 at 224x224 in int8: 1372 KiB, as MCUNetV2 (Lin et al., NeurIPS 2021, Fig. 1) measures it', () => {
    const report = estimateCost(lower(builtinArchitecture('mobilenet_v2')!), presetProcessor('mobile-npu')!);
    assert.equal(report.memory.peakActivationBytes, 1372 * KIB);
    // fp32 holds four bytes an element.
    assert.equal(estimateCost(lower(builtinArchitecture('mobilenet_v2')!), presetProcessor('edge-cpu')!).memory.peakActivationBytes, 4 * 1372 * KIB);
  });

  it('MCUNet\'s MobileNetV2 w0.35 at 144x144: 8% below the SRAM TinyEngine measured, 16% below its flash', () => {
    // MCUNet's model zoo (mit-han-lab/mcunet README, "mbv2-w0.35-r144"): 23.5M MACs, 0.75M
    // params, 308 kB SRAM and 862 kB flash on an STM32F746 with TinyEngine. Its measured SRAM
    // also holds scratch buffers, and its flash the code and int32 biases, which are not counted.
    const mbv2 = parseArchitecture({
      name: 'mbv2-w0.35-r144', input: '144x144x3', classes: 1000, act: 'relu6', stem: ['cn_k3_s2_c16'],
      stages: [['ds_r1_k3_s1_c8'], ['ir_r2_k3_s2_e6_c8'], ['ir_r3_k3_s2_e6_c16'], ['ir_r4_k3_s2_e6_c24'], ['ir_r3_k3_s1_e6_c32'], ['ir_r3_k3_s2_e6_c56'], ['ir_r1_k3_s1_e6_c112']],
      head: ['cn_k1_s1_c448', 'gap', 'fc'],
    });
    const graph = lower(mbv2);
    assert.ok(Math.abs(graph.macs - 23.5e6) < 0.05e6, `${graph.macs} MACs`);
    assert.ok(Math.abs(graph.params - 0.75e6) < 0.005e6, `${graph.params} params`);
    const memory = estimateCost(graph, presetProcessor('microcontroller')!).memory;
    const sram = memory.peakActivationBytes / (308 * KIB);
    const flash = memory.storedWeightBytes / (862 * KIB);
    assert.ok(sram > 0.9 && sram <= 1, `peak ${memory.peakActivationBytes} B, ${sram.toFixed(3)}x TinyEngine's`);
    assert.ok(flash > 0.8 && flash <= 1, `weights ${memory.storedWeightBytes} B, ${flash.toFixed(3)}x TinyEngine's flash`);
  });
});
