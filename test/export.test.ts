import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { createRng } from '../src/data/index.js';
import { initEngine } from '../src/engine/backend.js';
import { Network } from '../src/engine/network.js';
import { tf } from '../src/engine/tf.js';
import { OPSET, exportGraphModel, exportOnnx, measureOnnx, onnxClassifier, spearman, writeGraphModel } from '../src/export/index.js';
import { MobileSpace, builtinArchitecture, lower, parseArchitecture } from '../src/space/index.js';
import type { LayerGraph } from '../src/space/index.js';
import { relativeError } from './fixtures.js';

/** Exports a network (BN statistics moved off 0/1 first), runs it in onnxruntime, compares with TF.js. */
async function roundTrip(graph: LayerGraph, batch = 2): Promise<number> {
  const network = new Network(graph, { seed: 3 });
  const { h, w, c } = graph.input;
  try {
    tf.tidy(() => {
      for (let i = 0; i < 2; i++) network.apply(tf.randomNormal([2, h, w, c], 0.5, 2, 'float32', i) as tf.Tensor4D, true);
    });
    const session = await ort.InferenceSession.create(exportOnnx(graph, network.weights()));
    const x = tf.randomNormal([batch, h, w, c], 0, 1, 'float32', 9) as tf.Tensor4D;
    const expected = tf.tidy(() => network.apply(x, false).dataSync() as Float32Array);
    const nchw = tf.tidy(() => x.transpose([0, 3, 1, 2]).dataSync() as Float32Array);
    x.dispose();
    const out = await session.run({ input: new ort.Tensor('float32', nchw, [batch, c, h, w]) });
    const actual = out.logits?.data as Float32Array;
    assert.deepEqual(out.logits?.dims, [batch, graph.classes]);
    return relativeError(actual, expected);
  } finally {
    network.dispose();
  }
}

/** A user graph whose `zero` node is shaped like a strided node, not like the block's input. */
const zeroGraph = lower(parseArchitecture({ name: 'z', input: '12x12x4', classes: 3, stages: [[{ graph: { nodes: [
  { id: 'a', op: 'conv', kernel: 3, out: 6, stride: 2, inputs: ['in'] },
  { id: 'z', op: 'zero', inputs: ['a'] },
  { id: 's', op: 'add', inputs: ['a', 'z'] },
], output: 's' } }]], head: ['gap', 'fc'] }));

describe('ONNX export, checked in onnxruntime against TF.js', () => {
  const graphs: Array<[string, LayerGraph]> = [
    ['MobileNet blocks with SE, h-swish, swish, sigmoid, groups', lower(parseArchitecture({ name: 'a', input: '16x16x3', classes: 5, act: 'hswish', stem: ['cn_k3_s2_c8_nsw'], stages: [['ir_r2_k5_s1_e3_c8_se0.25', 'ds_k3_s2_c16_nr6'], ['er_k3_s1_e2_c16_nre', 'cn_k3_c12_g4_nsg']], head: ['cn_k1_c24', 'gap', 'fc'] }))],
    ['ResNet blocks and pooling both ways', lower(parseArchitecture({ name: 'b', input: '16x16x3', classes: 4, stem: ['cn_k3_c8', 'mp_k3_s2'], stages: [['rb_c8', 'bt_s2_e4_c16'], ['ap_k3_s1', 'ap_k3_s1_cip']], head: ['gap', 'fc'] }))],
    ['a NAS-Bench-201 network with dead ends', lower(builtinArchitecture('nb201:|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|')!)],
    ['dilated convolutions, strided and not, dense and depthwise', lower(parseArchitecture({ name: 'd', input: '16x16x3', classes: 4, stem: ['cn_k3_s2_c8_d2'], stages: [['ir_k3_s2_e2_c8_d2', 'ir_k5_s1_e2_c8_d2']], head: ['gap', 'fc'] }))],
    ['a user graph: concat, strided pointwise conv, SE, conv bias', lower(parseArchitecture({ name: 'c', input: '12x12x4', classes: 3, stages: [[{ graph: { nodes: [
      { id: 'a', op: 'conv', kernel: 3, out: 6, bias: true, inputs: ['in'] },
      { id: 'b', op: 'dwconv', kernel: 5, inputs: ['in'] },
      { id: 'c', op: 'concat', inputs: ['a', 'b'] },
      { id: 'd', op: 'pwconv', out: 8, stride: 2, inputs: ['c'] },
      { id: 'e', op: 'se', ratio: 0.5, inputs: ['d'] },
    ], output: 'e' } }]], head: ['gap', 'fc'] }))],
    ['a user graph with a zero shaped unlike its block\'s input', zeroGraph],
  ];
  for (const [name, graph] of graphs) {
    it(name, async () => {
      await initEngine('wasm');
      const error = await roundTrip(graph);
      assert.ok(error < 1e-4, `max relative error ${error}`);
    });
  }

  it('random architectures from the search space', async () => {
    await initEngine('wasm');
    const start = parseArchitecture({ name: 'm', input: '32x32x3', classes: 10, act: 'relu6', stem: ['cn_k3_c16'], stages: [['ir_r2_k3_s2_e6_c24'], ['ir_k5_s2_e3_c40_se0.25']], head: ['gap', 'fc'] });
    const space = new MobileSpace(start);
    const random = createRng(7);
    for (let i = 0; i < 5; i++) {
      const error = await roundTrip(lower(space.sample(random)));
      assert.ok(error < 1e-4, `sample ${i}: max relative error ${error}`);
    }
  });

  for (const name of ['mobilenet_v2', 'mnasnet_a1', 'resnet18', 'resnet50']) {
    it(`built-in ${name} at 224x224`, async () => {
      await initEngine('wasm');
      const error = await roundTrip(lower(builtinArchitecture(name)!), 1);
      assert.ok(error < 1e-4, `max relative error ${error}`);
    });
  }

  it('writes a standard opset-13 model with batch norms folded and the metadata given', () => {
    const graph = graphs[0]![1];
    const network = new Network(graph);
    const bytes = exportOnnx(graph, network.weights(), { metadata: { notation: 'cn_k3_s2_c8_nsw | ...', dramTimeS: '1e-5' } });
    network.dispose();
    const model = onnxProto.onnx.ModelProto.decode(bytes);
    assert.equal(Number(model.opsetImport[0]?.version), OPSET);
    const ops = (model.graph?.node ?? []).map((n) => n.opType);
    assert.ok(!ops.includes('BatchNormalization'), 'every BN here follows a conv and is folded');
    assert.ok(ops.includes('Conv') && ops.includes('Gemm') && ops.includes('HardSigmoid'));
    assert.deepEqual(model.metadataProps.map((p) => [p.key, p.value]), [['notation', 'cn_k3_s2_c8_nsw | ...'], ['dramTimeS', '1e-5']]);
  });
});

describe('classifying through onnxruntime (how a job validates)', () => {
  it('gives TF.js\'s logits and accuracy on NHWC images of three channels, over several batches and a part one', async () => {
    await initEngine('wasm');
    const graph = lower(parseArchitecture({ name: 'rgb', input: '8x8x3', classes: 4, stem: ['cn_k3_c8'], stages: [['ir_k3_s2_e2_c8_se0.25', 'ds_k5_s1_c8']], head: ['gap', 'fc'] }));
    const network = new Network(graph, { seed: 3 });
    // Batch norms off their initial statistics, so that folding them is tested.
    tf.tidy(() => {
      for (let i = 0; i < 2; i++) network.apply(tf.randomNormal([8, 8, 8, 3], 0.5, 2, 'float32', i) as tf.Tensor4D, true);
    });
    const count = 23;
    const random = createRng(4);
    const images = { x: Float32Array.from({ length: count * 8 * 8 * 3 }, () => random() * 2 - 1), y: Int32Array.from({ length: count }, () => Math.floor(random() * 4)), count };
    const expected = tf.tidy(() => network.apply(tf.tensor4d(images.x, [count, 8, 8, 3]), false).dataSync() as Float32Array);
    const classifier = await onnxClassifier(exportOnnx(graph, network.weights()), graph.input, { batch: 10 });
    const logits = await classifier.logits(images);
    const onnx = await classifier.accuracy(images);
    await classifier.release();
    network.dispose();
    assert.equal(logits.length, count * 4);
    assert.ok(relativeError(logits, expected) < 1e-4, `logits differ by ${relativeError(logits, expected)}`);
    let correct = 0;
    for (let i = 0; i < count; i++) {
      const row = Array.from(expected.subarray(i * 4, i * 4 + 4));
      if (row.indexOf(Math.max(...row)) === images.y[i]) correct++;
    }
    assert.ok(correct > 0 && correct < count, `a fixture that tells right from wrong: ${correct} of ${count}`);
    assert.equal(onnx, correct / count);
  });
});

describe('measuring exported models', () => {
  it('rank correlation: Spearman with ties', () => {
    assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
    assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
    assert.ok(Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 4]) - 0.9486832980505138) < 1e-12);
  });

  it('times a model in onnxruntime: median between the 10th and 90th percentiles', async () => {
    await initEngine('wasm');
    const graph = lower(parseArchitecture({ name: 'tiny', input: '16x16x3', classes: 4, stem: ['cn_k3_c8'], stages: [['ir_k3_s2_e2_c8']], head: ['gap', 'fc'] }));
    const network = new Network(graph);
    const m = await measureOnnx(exportOnnx(graph, network.weights()), { runs: 9, warmup: 2, batch: 3 });
    network.dispose();
    assert.deepEqual(m.input, [3, 3, 16, 16]);
    assert.equal(m.runs, 9);
    assert.ok(m.p10S > 0 && m.p10S <= m.medianS && m.medianS <= m.p90S);
  });
});

/** Loads a GraphModel folder written by writeGraphModel, as tf.loadGraphModel does over http. */
async function loadFolder(dir: string): Promise<tf.GraphModel> {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>; userDefinedMetadata: Record<string, string> };
  const manifest = json.weightsManifest[0]!;
  const bytes = readFileSync(join(dir, manifest.paths[0]!));
  return tf.loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: manifest.weights,
      weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      format: 'graph-model',
      userDefinedMetadata: json.userDefinedMetadata,
    }),
  });
}

describe('TF.js GraphModel export, loaded back with tf.loadGraphModel', () => {
  const cases: Array<[string, LayerGraph]> = [
    ['MobileNet blocks with SE, h-swish, swish, sigmoid, groups', lower(parseArchitecture({ name: 'a', input: '16x16x3', classes: 5, act: 'hswish', stem: ['cn_k3_s2_c8_nsw'], stages: [['ir_r2_k5_s1_e3_c8_se0.25', 'ds_k3_s2_c16_nr6'], ['er_k3_s1_e2_c16_nre', 'cn_k3_c12_g4_nsg']], head: ['cn_k1_c24', 'gap', 'fc'] }))],
    ['ResNet blocks and pooling both ways', lower(parseArchitecture({ name: 'b', input: '16x16x3', classes: 4, stem: ['cn_k3_c8', 'mp_k3_s2'], stages: [['rb_c8', 'bt_s2_e4_c16'], ['ap_k3_s1', 'ap_k3_s1_cip']], head: ['gap', 'fc'] }))],
    ['a NAS-Bench-201 network with dead ends', lower(builtinArchitecture('nb201:|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|')!)],
    ['dilated convolutions, strided and not, dense and depthwise', lower(parseArchitecture({ name: 'd', input: '16x16x3', classes: 4, stem: ['cn_k3_s2_c8_d2'], stages: [['ir_k3_s2_e2_c8_d2', 'ir_k5_s1_e2_c8_d2']], head: ['gap', 'fc'] }))],
    ['MobileNetV2 at 224x224', lower(builtinArchitecture('mobilenet_v2')!)],
    ['a user graph with a zero shaped unlike its block\'s input', zeroGraph],
  ];
  for (const [name, graph] of cases) {
    it(`gives the network's outputs: ${name}`, async () => {
      await initEngine('wasm');
      const network = new Network(graph, { seed: 3 });
      const { h, w, c } = graph.input;
      tf.tidy(() => {
        network.apply(tf.randomNormal([2, h, w, c], 0.5, 2, 'float32', 1) as tf.Tensor4D, true);
      });
      const dir = mkdtempSync(join(tmpdir(), 'procnas-tfjs-'));
      writeGraphModel(dir, exportGraphModel(graph, network.weights(), { notation: graph.name }));
      const model = await loadFolder(dir);
      const x = tf.randomNormal([2, h, w, c], 0, 1, 'float32', 9) as tf.Tensor4D;
      const expected = tf.tidy(() => network.apply(x, false).dataSync() as Float32Array);
      const output = model.predict(x) as tf.Tensor;
      assert.deepEqual(output.shape, [2, graph.classes]);
      const error = relativeError(output.dataSync() as Float32Array, expected);
      assert.ok(error < 1e-4, `max relative error ${error}`);
      assert.deepEqual(model.metadata, { notation: graph.name });
      tf.dispose([x, output]);
      model.dispose();
      network.dispose();
    });
  }
});
