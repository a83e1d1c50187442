import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDataset, prepareSplits } from '../src/data/index.js';
import { initEngine } from '../src/engine/backend.js';
import { accuracy, train } from '../src/engine/train.js';
import { exportOnnx, onnxClassifier } from '../src/export/index.js';
import { builtinArchitecture, lower } from '../src/space/index.js';
import type { Architecture } from '../src/space/index.js';

// The honest accuracy check: a small net, real MNIST, one epoch, no tricks. About two minutes.
describe('MNIST, one epoch', () => {
  it('a 37,658-parameter MBConv net reaches at least 97% test accuracy', async () => {
    await initEngine('wasm');
    const splits = prepareSplits(loadDataset('mnist'), { seed: 0 });
    // The main job's default initial architecture.
    const graph = lower(builtinArchitecture('mnist-mbconv') as Architecture);
    assert.equal(graph.params, 37_658);
    const result = train(graph, splits, { epochs: 1, batchSize: 64, learningRate: 0.1, seed: 0 });
    const test = accuracy(result.network, splits.test);
    // A job validates and tests through onnxruntime: on a trained network, the same accuracy as TF.js's forward pass, exactly.
    const classifier = await onnxClassifier(exportOnnx(graph, result.network.weights()), graph.input);
    const onnxTest = await classifier.accuracy(splits.test);
    const onnxValidation = await classifier.accuracy(splits.validation);
    await classifier.release();
    result.network.dispose();
    assert.equal(splits.test.count, 10_000);
    assert.ok(test >= 0.97, `test accuracy ${test}`);
    assert.ok(result.validationAccuracy >= 0.97, `validation accuracy ${result.validationAccuracy}`);
    assert.equal(onnxTest, test, 'test accuracy through onnxruntime');
    assert.equal(onnxValidation, result.validationAccuracy, 'validation accuracy through onnxruntime');
  });
});
