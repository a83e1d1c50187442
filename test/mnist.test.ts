import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { classLabels, loadDataset, prepareSplits } from '../src/data/index.js';
import { initEngine } from '../src/engine/backend.js';
import { accuracy, train } from '../src/engine/train.js';
import { exportOnnx, onnxClassifier, preprocessingOf } from '../src/export/index.js';
import { builtinArchitecture, lower } from '../src/space/index.js';
import type { Architecture } from '../src/space/index.js';

// The honest accuracy check: a small net, real MNIST, one epoch, no tricks. About two minutes.
describe('MNIST, one epoch', () => {
  it('a 37,658-parameter MBConv net reaches at least 97.5% test accuracy', async () => {
    await initEngine('wasm');
    const dataset = loadDataset('mnist');
    const splits = prepareSplits(dataset, { seed: 0 });
    // The main job's default initial architecture.
    const graph = lower(builtinArchitecture('mnist-mbconv') as Architecture);
    assert.equal(graph.params, 37_658);
    const result = train(graph, splits, { epochs: 1, batchSize: 64, learningRate: 0.1, seed: 0 });
    const test = accuracy(result.network, splits.test);
    // A job validates and tests through onnxruntime: on a trained network, the same accuracy as TF.js's forward pass, exactly.
    const onnx = exportOnnx(graph, result.network.weights());
    const classifier = await onnxClassifier(onnx, graph.input);
    const onnxTest = await classifier.accuracy(splits.test);
    const onnxValidation = await classifier.accuracy(splits.validation);
    await classifier.release();
    result.network.dispose();
    // Raw MNIST test images (bytes 0-255) fed with the preprocessing the exports record, and
    // nothing else, classify as the prepared ones do (a user who guessed the statistics lost 3%).
    const p = preprocessingOf('NCHW', graph.input, splits, classLabels('mnist', 10));
    assert.deepEqual(p.labels, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const raw = dataset.test;
    const fed = Float32Array.from(raw.images, (pixel) => (pixel * p.scale - (p.mean[0] as number)) / (p.std[0] as number));
    const session = await ort.InferenceSession.create(onnx);
    const logits = (await session.run({ input: new ort.Tensor('float32', fed, [raw.count, ...p.shape]) })).logits?.data as Float32Array;
    let correct = 0;
    for (let i = 0; i < raw.count; i++) {
      const row = logits.subarray(10 * i, 10 * i + 10);
      if (p.labels[row.indexOf(Math.max(...row))] === String(raw.labels[i])) correct++;
    }
    assert.equal(correct / raw.count, onnxTest, 'raw images with the recorded preprocessing');
    assert.equal(splits.test.count, 10_000);
    assert.ok(test >= 0.975, `test accuracy ${test}`);
    assert.ok(result.validationAccuracy >= 0.975, `validation accuracy ${result.validationAccuracy}`);
    assert.equal(onnxTest, test, 'test accuracy through onnxruntime');
    assert.equal(onnxValidation, result.validationAccuracy, 'validation accuracy through onnxruntime');
  });
});
