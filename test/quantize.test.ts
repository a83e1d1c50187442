import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import { initEngine } from '../src/engine/backend.js';
import { Network } from '../src/engine/network.js';
import { exportOnnx, onnxClassifier, quantizeOnnx } from '../src/export/index.js';
import type { LabelledImages } from '../src/export/index.js';
import { lower, parseArchitecture } from '../src/space/index.js';
import { relativeError, values } from './fixtures.js';

const { onnx } = onnxProto;

/** A residual MBConv net with squeeze-excite and h-swish: every kind of layer the quantiser meets. */
const graph = lower(
  parseArchitecture({ name: 'q', input: '12x12x3', classes: 5, act: 'relu6', stem: ['cn_k3_s2_c8'], stages: [['ir_r2_k3_s1_e3_c8_se0.25'], ['ir_k5_s2_e4_c16_nhs']], head: ['gap', 'fc'] }),
);

function images(count: number, seed: number): LabelledImages {
  return { x: values(count * 12 * 12 * 3, seed), y: Int32Array.from({ length: count }, (_, i) => i % 5), count };
}

async function floatModel(): Promise<Uint8Array> {
  await initEngine('wasm');
  const network = new Network(graph, { seed: 4 });
  try {
    return exportOnnx(graph, network.weights());
  } finally {
    network.dispose();
  }
}

const initializer = (model: InstanceType<typeof onnx.ModelProto>, name: string) => model.graph?.initializer?.find((t) => t.name === name);
const floats = (t: { rawData?: Uint8Array | null } | undefined): Float32Array => {
  const raw = t?.rawData as Uint8Array;
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
};

describe('post-training int8 quantisation (QDQ)', () => {
  it('stores every convolution and dense weight in int8, one symmetric scale per output channel, within half a step', async () => {
    const float = await floatModel();
    const before = onnx.ModelProto.decode(float);
    const after = onnx.ModelProto.decode(await quantizeOnnx(float, images(64, 1), graph.input));
    const weighted = (before.graph?.node ?? []).filter((n) => n.opType === 'Conv' || n.opType === 'Gemm');
    assert.ok(weighted.length >= 10, `${weighted.length} layers with weights`);
    for (const n of weighted) {
      const name = n.input?.[1] as string;
      const w = floats(initializer(before, name));
      const q = initializer(after, `${name}.int8`);
      assert.equal(q?.dataType, onnx.TensorProto.DataType.INT8, name);
      assert.equal(initializer(after, name), undefined, `${name}: no float copy is left`);
      const int8 = new Int8Array((q?.rawData as Uint8Array).buffer.slice((q?.rawData as Uint8Array).byteOffset, (q?.rawData as Uint8Array).byteOffset + w.length));
      const scales = floats(initializer(after, `${name}.scales`));
      const dims = (q?.dims ?? []).map(Number);
      const axis = n.opType === 'Conv' ? 0 : 1;
      const channels = dims[axis] as number;
      assert.equal(scales.length, channels);
      const perChannel = w.length / channels;
      for (let i = 0; i < w.length; i++) {
        const k = axis === 0 ? Math.floor(i / perChannel) : i % channels;
        const scale = scales[k] as number;
        assert.ok(Math.abs((int8[i] as number) * scale - (w[i] as number)) <= scale / 2 + 1e-9, `${name}[${i}]`);
      }
      // The largest weight of a channel takes the full range.
      for (let k = 0; k < channels; k++) {
        let largest = 0;
        for (let i = 0; i < w.length; i++) if ((axis === 0 ? Math.floor(i / perChannel) : i % channels) === k) largest = Math.max(largest, Math.abs(w[i] as number));
        if (largest > 0) assert.ok(Math.abs((scales[k] as number) - largest / 127) < 1e-7 * largest, `${name} channel ${k}`);
      }
    }
  });

  it('runs in onnxruntime close to the float model, and its int8 kernels agree with the node-by-node simulation', async () => {
    const float = await floatModel();
    // Measured on the calibration images themselves: no value falls outside its range, so what
    // is left is rounding (on other images an untrained net's activations overflow the ranges).
    const calibration = images(128, 2);
    const test = calibration;
    const reference = await onnxClassifier(float, graph.input);
    const expected = await reference.logits(test);
    await reference.release();
    for (const method of ['minmax', 'percentile'] as const) {
      const model = await quantizeOnnx(float, calibration, graph.input, { calibration: method });
      // `all`: onnxruntime fuses the pairs into int8 kernels (QLinearConv); `disabled`: every
      // QuantizeLinear and DequantizeLinear runs as written, in float: the simulation.
      const fused = await onnxClassifier(model, graph.input);
      const simulated = await onnxClassifier(model, graph.input, { optimization: 'disabled' });
      const a = await fused.logits(test);
      const b = await simulated.logits(test);
      await fused.release();
      await simulated.release();
      // Percentiles clip the rarest values on purpose: only min/max is held to rounding's error.
      if (method === 'minmax') assert.ok(relativeError(b, expected) < 0.05, `${method}: int8 against float, relative error ${relativeError(b, expected)}`);
      assert.ok(relativeError(a, b) < 0.02, `${method}: int8 kernels against the simulation, relative error ${relativeError(a, b)}`);
    }
  });

  it('percentile calibration takes ranges inside the min/max ones', async () => {
    const float = await floatModel();
    const calibration = images(128, 6);
    const scales = async (method: 'minmax' | 'percentile') => {
      const model = onnx.ModelProto.decode(await quantizeOnnx(float, calibration, graph.input, { calibration: method }));
      return new Map((model.graph?.node ?? []).filter((n) => n.opType === 'QuantizeLinear').map((n) => [n.input?.[0] as string, floats(initializer(model, n.input?.[1] as string))[0] as number]));
    };
    const minmax = await scales('minmax');
    const percentile = await scales('percentile');
    assert.deepEqual([...percentile.keys()], [...minmax.keys()]);
    for (const [t, s] of percentile) assert.ok(s <= (minmax.get(t) as number) * (1 + 1e-6), `${t}: ${s} within ${minmax.get(t)}`);
    assert.ok([...percentile].some(([t, s]) => s < 0.99 * (minmax.get(t) as number)), 'some range is narrower');
  });

  it('quantises the input and what runtimes write, not an output only an activation reads', async () => {
    const model = onnx.ModelProto.decode(await quantizeOnnx(await floatModel(), images(32, 5), graph.input));
    const nodes = model.graph?.node ?? [];
    const quantised = new Set(nodes.filter((n) => n.opType === 'QuantizeLinear').map((n) => n.input?.[0] as string));
    assert.ok(quantised.has('input'));
    const readers = (t: string) => nodes.filter((n) => n.input?.includes(t) || n.input?.includes(`${t}.dq`));
    for (const n of nodes.filter((m) => m.opType === 'Conv')) {
      const out = n.output?.[0] as string;
      const onlyActivations = readers(out).every((r) => r.opType === 'Relu' || r.opType === 'Clip');
      assert.equal(quantised.has(out), !onlyActivations, `${out}: quantised unless only an activation reads it`);
    }
    // Nothing reads a quantised tensor but its QuantizeLinear: every other reader takes the dequantised copy.
    for (const t of quantised) for (const r of nodes.filter((n) => n.input?.includes(t))) assert.equal(r.opType, 'QuantizeLinear', `${t} read by ${r.opType}`);
  });
});
