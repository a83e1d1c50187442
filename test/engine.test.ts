import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Splits } from '../src/data/index.js';
import { initEngine } from '../src/engine/backend.js';
import { dilateFilter, Network } from '../src/engine/network.js';
import { accuracy, learningRateAt, train, DEFAULT_TRAIN_OPTIONS } from '../src/engine/train.js';
import { tf } from '../src/engine/tf.js';
import { graphVariables, sharedValues } from '../src/engine/variables.js';
import { builtinArchitecture, lower, parseArchitecture } from '../src/space/index.js';
import type { Architecture, LayerGraph } from '../src/space/index.js';
import { relativeError, values } from './fixtures.js';

const graphOf = (data: unknown): LayerGraph => lower(parseArchitecture(data));

/** Logits of a fresh network (seeded weights) on a seeded input, on the current backend. */
function logits(graph: LayerGraph, training: boolean, batch = 3): Float32Array {
  const network = new Network(graph, { seed: 5 });
  try {
    return tf.tidy(() => {
      const { h, w, c } = graph.input;
      const x = tf.randomNormal([batch, h, w, c], 0, 1, 'float32', 11) as tf.Tensor4D;
      return network.apply(x, training).dataSync() as Float32Array;
    });
  } finally {
    network.dispose();
  }
}

/** Two classes: a bright top half or a bright bottom half, with noise. */
function halves(count: number, seed: number): { x: Float32Array; y: Int32Array; count: number } {
  let s = seed >>> 0;
  const noise = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const x = new Float32Array(count * 8 * 8);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = i % 2;
    for (let p = 0; p < 64; p++) {
      const top = p < 32;
      x[i * 64 + p] = (top === (y[i] === 0) ? 1 : -1) + noise();
    }
  }
  return { x, y, count };
}

const halvesSplits = (): Splits => ({
  train: halves(256, 1),
  validation: halves(64, 2),
  test: halves(64, 3),
  mean: [0],
  std: [1],
  shape: { h: 8, w: 8, c: 1 },
  classes: 2,
  indices: { train: new Int32Array(0), validation: new Int32Array(0), test: new Int32Array(0) },
});

const halvesNet = graphOf({ name: 'halves', input: '8x8x1', classes: 2, stem: ['cn_k3_c8'], stages: [['ir_k3_s2_e2_c8']], head: ['gap', 'fc'] });

describe('networks built from architectures', () => {
  it('have exactly the cost model parameter count, for every built-in', async () => {
    await initEngine('wasm');
    for (const name of ['mobilenet_v2', 'mnasnet_a1', 'resnet18', 'resnet34', 'resnet50', 'nb201:|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|']) {
      const graph = lower(builtinArchitecture(name)!);
      const network = new Network(graph);
      assert.equal(network.parameterCount(), graph.params, name);
      network.dispose();
    }
  });

  const graphs: Array<[string, LayerGraph]> = [
    ['mobile blocks with SE and every activation', graphOf({ name: 'a', input: '16x16x3', classes: 5, act: 'hswish', stem: ['cn_k3_s2_c8_nsw'], stages: [['ir_r2_k5_s1_e3_c8_se0.25', 'ds_k3_s2_c16_nr6'], ['er_k3_s1_e2_c16_nre', 'cn_k3_c12_g4_nsg']], head: ['cn_k1_c24', 'gap', 'fc'] })],
    ['inverted residual blocks whose batch norm feeds a 3x3 depthwise convolution (one op in training) and a 5x5 one (two)', graphOf({ name: 'f', input: '12x12x3', classes: 3, stem: ['cn_k3_c8'], stages: [['ir_k3_s1_e3_c8', 'ir_k3_s2_e4_c16_nr6'], ['ir_k5_s1_e2_c16']], head: ['gap', 'fc'] })],
    ['dilated convolutions, full and depthwise', graphOf({ name: 'd', input: '12x12x3', classes: 3, stem: ['cn_k3_c8_d2'], stages: [['ir_k3_s2_e2_c8_d2', 'ds_k5_c8_d3']], head: ['gap', 'fc'] })],
    ['ResNet blocks and pooling', graphOf({ name: 'b', input: '16x16x3', classes: 4, stem: ['cn_k3_c8', 'mp_k3_s2'], stages: [['rb_c8', 'bt_s2_e4_c16'], ['ap_k3_s1', 'ap_k3_s1_cip']], head: ['gap', 'fc'] })],
    ['a NAS-Bench-201 network with dead ends', lower(builtinArchitecture('nb201:|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|')!)],
    [
      'a user graph with concat and a strided pointwise conv',
      graphOf({
        name: 'c',
        input: '12x12x4',
        classes: 3,
        stages: [[{ graph: { nodes: [
          { id: 'a', op: 'conv', kernel: 3, out: 6, bias: true, inputs: ['in'] },
          { id: 'b', op: 'dwconv', kernel: 5, stride: 1, inputs: ['in'] },
          { id: 'c', op: 'concat', inputs: ['a', 'b'] },
          { id: 'd', op: 'pwconv', out: 8, stride: 2, inputs: ['c'] },
          { id: 'e', op: 'se', ratio: 0.5, inputs: ['d'] },
        ], output: 'e' } }]],
        head: ['gap', 'fc'],
      }),
    ],
  ];
  for (const [name, graph] of graphs) {
    it(`compute the same logits on WASM and on the reference cpu backend: ${name}`, async () => {
      for (const training of [false, true]) {
        await initEngine('cpu');
        const expected = logits(graph, training);
        await initEngine('wasm');
        const actual = logits(graph, training);
        assert.equal(actual.length, 3 * graph.classes);
        assert.ok(relativeError(actual, expected) < 1e-4, `training=${training}: ${relativeError(actual, expected)}`);
      }
    });
  }

  it('average pooling follows count_include_pad both ways', async () => {
    await initEngine('wasm');
    const mean = (cip: boolean): number => {
      const graph = graphOf({ name: 'pool', input: '4x4x1', classes: 1, stages: [[cip ? 'ap_k3_s1_cip' : 'ap_k3_s1']], head: ['gap', 'fc'] });
      const network = new Network(graph);
      const [weight, bias] = network.trainableVariables() as [tf.Variable, tf.Variable];
      weight.assign(tf.ones([1, 1]));
      bias.assign(tf.zeros([1]));
      const out = tf.tidy(() => network.apply(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, false).dataSync()[0] as number);
      network.dispose();
      return out;
    };
    assert.ok(Math.abs(mean(false) - 1) < 1e-6);
    // Corners average 4 of 9 window cells, edges 6 of 9, the 4 inner cells all 9.
    assert.ok(Math.abs(mean(true) - (4 * 4 / 9 + 8 * 6 / 9 + 4) / 16) < 1e-6);
  });

  it('initialise deterministically for every seed, 0 included, and differently for different seeds', async () => {
    await initEngine('wasm');
    const weightsOf = (seed: number): Float32Array[] => {
      const network = new Network(halvesNet, { seed });
      const out = network.trainableVariables().map((v) => v.dataSync() as Float32Array);
      network.dispose();
      return out;
    };
    // TF.js's random initialisers treat seed 0 as "unseeded" (Math.random).
    assert.deepEqual(weightsOf(0), weightsOf(0));
    assert.deepEqual(weightsOf(7), weightsOf(7));
    assert.notDeepEqual(weightsOf(0), weightsOf(1));
  });

  it('run dilated convolutions with an equivalent dense filter, which has gradients', async () => {
    await initEngine('cpu');
    const x = tf.tensor4d(values(2 * 11 * 10 * 4, 1), [2, 11, 10, 4]);
    for (const [k, d, stride, pad] of [[3, 2, 1, 2], [3, 3, 2, 1], [5, 2, 1, 4], [2, 2, 1, 0]] as const) {
      const explicit: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [pad, pad], [pad, pad], [0, 0]];
      const f = tf.tensor4d(values(k * k * 4 * 3, 2), [k, k, 4, 3]);
      const dense = dilateFilter(f, d);
      assert.deepEqual(dense.shape, [(k - 1) * d + 1, (k - 1) * d + 1, 4, 3]);
      // TF.js refuses stride and dilation both > 1: the strided output subsamples the unstrided one.
      const subsample = (y: tf.Tensor4D): tf.Tensor4D => y.stridedSlice([0, 0, 0, 0], y.shape, [1, stride, stride, 1]) as tf.Tensor4D;
      const expected = subsample(tf.conv2d(x, f, 1, explicit, 'NHWC', d));
      const actual = tf.conv2d(x, dense, stride, explicit);
      assert.ok(relativeError(actual.dataSync() as Float32Array, expected.dataSync() as Float32Array) < 1e-6, `conv k${k} d${d}`);
      const fd = f.slice([0, 0, 0, 0], [k, k, 4, 1]);
      const dwExpected = subsample(tf.depthwiseConv2d(x, fd, 1, explicit, 'NHWC', d));
      const dwActual = tf.depthwiseConv2d(x, dilateFilter(fd, d), stride, explicit);
      assert.ok(relativeError(dwActual.dataSync() as Float32Array, dwExpected.dataSync() as Float32Array) < 1e-6, `depthwise k${k} d${d}`);
      // The gradient of the filter is the dense gradient at the taps.
      const g = tf.grad((w: tf.Tensor) => tf.conv2d(x, dilateFilter(w as tf.Tensor4D, d), stride, explicit).sum())(f);
      const gDense = tf.grad((w: tf.Tensor) => tf.conv2d(x, w as tf.Tensor4D, stride, explicit).sum())(dense);
      const taps = gDense.stridedSlice([0, 0, 0, 0], gDense.shape, [d, d, 1, 1]);
      assert.ok(relativeError(g.dataSync() as Float32Array, taps.dataSync() as Float32Array) < 1e-6, `gradient k${k} d${d}`);
      tf.dispose([f, dense, expected, actual, fd, dwExpected, dwActual, g, gDense, taps]);
    }
    x.dispose();
  });

  it('run a batch norm and the depthwise convolution of at most 3x3 taps it feeds as one op in training, and others apart', async () => {
    await initEngine('wasm');
    const graph = graphOf({ name: 'f', input: '12x12x3', classes: 3, stem: ['cn_k3_c8'], stages: [['ir_k3_s1_e3_c8', 'ir_k3_s2_e4_c16_nr6'], ['ir_k5_s1_e2_c16', 'ir_k3_s1_e2_c16_d2']], head: ['gap', 'fc'] });
    const network = new Network(graph, { seed: 1 });
    const kernels = async (training: boolean): Promise<string[]> =>
      (await tf.profile(() => tf.tidy(() => network.apply(tf.zeros([2, 12, 12, 3]) as tf.Tensor4D, training)))).kernels.map((k) => k.name);
    const count = (names: string[], name: string): number => names.filter((n) => n === name).length;
    const training = await kernels(true);
    // The two 3x3 blocks fuse; the 5x5 and the dilated one run batch norm and convolution apart.
    assert.equal(count(training, 'ProcnasBatchNormDepthwise'), 2);
    assert.equal(count(training, 'DepthwiseConv2dNative'), 2);
    const inference = await kernels(false);
    assert.equal(count(inference, 'ProcnasBatchNormDepthwise'), 0);
    assert.equal(count(inference, 'DepthwiseConv2dNative'), 4);
    network.dispose();
  });

  it('do not leak tensors across forward passes', async () => {
    await initEngine('wasm');
    const network = new Network(halvesNet);
    const before = tf.memory().numTensors;
    for (const training of [false, true, true]) {
      tf.tidy(() => {
        network.apply(tf.zeros([2, 8, 8, 1]) as tf.Tensor4D, training);
      });
    }
    assert.equal(tf.memory().numTensors, before);
    network.dispose();
  });
});

describe('training', () => {
  it('learns a task it can learn, and reports progress', async () => {
    await initEngine('wasm');
    const events: string[] = [];
    const result = train(halvesNet, halvesSplits(), { epochs: 3, batchSize: 32, learningRate: 0.05, seed: 1, onProgress: (e) => events.push(e.kind) });
    assert.ok(result.validationAccuracy >= 0.95, `validation accuracy ${result.validationAccuracy}`);
    assert.equal(result.validationError, 1 - result.validationAccuracy);
    assert.equal(result.steps, 3 * 8);
    assert.equal(result.epochLosses.length, 3);
    assert.ok((result.epochLosses[2] as number) < (result.epochLosses[0] as number));
    assert.equal(events.filter((e) => e === 'epoch').length, 3);
    assert.equal(events.filter((e) => e === 'step').length, 24);
    assert.ok(accuracy(result.network, halvesSplits().test) >= 0.95);
    result.network.dispose();
  });

  it('is deterministic for a seed', async () => {
    await initEngine('wasm');
    const run = (seed: number): number[] => {
      const r = train(halvesNet, halvesSplits(), { epochs: 1, batchSize: 32, seed, augment: true });
      r.network.dispose();
      return r.stepLosses;
    };
    assert.deepEqual(run(3), run(3));
    assert.notDeepEqual(run(3), run(4));
  });

  it('stops on its time budget, and marks a diverged run', async () => {
    await initEngine('wasm');
    const budget = train(halvesNet, halvesSplits(), { epochs: 50, batchSize: 8, timeBudgetS: 0.3 });
    assert.equal(budget.stopped, 'time budget');
    assert.ok(budget.steps < 50 * 32);
    budget.network.dispose();
    const diverged = train(halvesNet, halvesSplits(), { epochs: 2, batchSize: 32, learningRate: 1e9, momentum: 0.9 });
    assert.equal(diverged.stopped, 'diverged');
    assert.equal(diverged.validationError, 1);
    diverged.network.dispose();
  });

  it('validates once at the end, and leaves validation out of training throughput', async () => {
    await initEngine('wasm');
    // Count the validation passes by their ArgMax kernels (one per batch of 256; training has none).
    const engine = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
    const runKernel = engine.runKernel;
    let argMax = 0;
    engine.runKernel = function (this: unknown, name: string, ...rest: unknown[]) {
      if (name === 'ArgMax') argMax++;
      return runKernel.call(this, name, ...rest);
    };
    // A validation set far larger than the training set: 2 steps of training, 80 batches of validation.
    const splits = { ...halvesSplits(), train: halves(64, 1), validation: halves(80 * 256, 2) };
    let lastStepS = 0;
    let result: ReturnType<typeof train>;
    try {
      result = train(halvesNet, splits, { epochs: 1, batchSize: 32, onProgress: (e) => {
        if (e.kind === 'step') lastStepS = e.elapsedS;
      } });
    } finally {
      engine.runKernel = runKernel;
    }
    result.network.dispose();
    // The epoch's validation gave the final accuracy too.
    assert.equal(argMax, 80);
    assert.ok(result.trainImagesPerSecond > 0.5 * (64 / lastStepS), `${result.trainImagesPerSecond} img/s, ${64 / lastStepS} img/s up to the last step`);
  });

  it('leaves no tensors behind when it throws', async () => {
    await initEngine('wasm');
    const before = tf.memory().numTensors;
    // Stopped from its progress callback (how a caller aborts), after the optimiser has state.
    assert.throws(
      () => train(halvesNet, halvesSplits(), { epochs: 2, batchSize: 32, onProgress: (e) => {
        if (e.kind === 'step' && e.step === 3) throw new Error('aborted');
      } }),
      /aborted/,
    );
    assert.equal(tf.memory().numTensors, before);
    // Bad data: training images, found before the first step; validation images, after the last.
    const splits = halvesSplits();
    const short = (p: Splits['train']): Splits['train'] => ({ ...p, x: p.x.subarray(0, p.x.length - 1) });
    assert.throws(() => train(halvesNet, { ...splits, train: short(splits.train) }, { epochs: 1, batchSize: 32 }), /not a whole number per sample/);
    assert.equal(tf.memory().numTensors, before);
    assert.throws(() => train(halvesNet, { ...splits, validation: short(splits.validation) }, { epochs: 1, batchSize: 32 }), /not a whole number per sample/);
    assert.equal(tf.memory().numTensors, before);
  });

  it('refuses data that does not fit the architecture', async () => {
    await initEngine('wasm');
    const wrong = { ...halvesSplits(), shape: { h: 28, w: 28, c: 1 } };
    assert.throws(() => train(halvesNet, wrong), /takes 8x8x1 inputs but the dataset has 28x28x1 images/);
  });

  it('follows its learning-rate schedules', () => {
    const o = { ...DEFAULT_TRAIN_OPTIONS, learningRate: 0.1, stepEpochs: 2, stepGamma: 0.5 };
    assert.equal(learningRateAt({ ...o, schedule: 'cosine' }, 0, 10, 100), 0.1);
    assert.ok(Math.abs(learningRateAt({ ...o, schedule: 'cosine' }, 50, 10, 100) - 0.05) < 1e-12);
    assert.equal(learningRateAt({ ...o, schedule: 'step' }, 19, 10, 100), 0.1);
    assert.equal(learningRateAt({ ...o, schedule: 'step' }, 20, 10, 100), 0.05);
    assert.equal(learningRateAt({ ...o, schedule: 'constant' }, 99, 10, 100), 0.1);
  });
});

describe('weight inheritance', () => {
  const parentData = { name: 'p', input: '8x8x1', classes: 2, stem: ['cn_k3_c8'], stages: [['ir_k3_s2_e2_c8'], ['ir_k3_s1_e2_c8']], head: ['gap', 'fc'] };
  // Two moves: the second stage's block takes a 5x5 kernel and squeeze-excite; every other layer keeps its shape.
  const childData = { ...parentData, stages: [['ir_k3_s2_e2_c8'], ['ir_k5_s1_e2_c8_se0.25']] };

  it('a child takes its parent\'s weights where names and shapes match, reshapes them where a kernel grew, and keeps its own elsewhere', async () => {
    await initEngine('wasm');
    const parent = new Network(graphOf(parentData), { seed: 1 });
    const trained = parent.weights();
    parent.dispose();
    const fresh = new Network(graphOf(childData), { seed: 2 });
    const own = fresh.weights();
    fresh.dispose();
    const child = new Network(graphOf(childData), { seed: 2 });
    const { inherited, of, morphed } = child.inherit(trained);
    const after = child.weights();
    child.dispose();
    let expected = 0;
    const kernel = 's1.b0.dw.weight';
    for (const [name, w] of Object.entries(after)) {
      const source = trained[name];
      const same = source !== undefined && source.shape.join() === w.shape.join();
      if (same) expected += w.values.length;
      if (name === kernel) continue;
      assert.deepEqual(Array.from(w.values), Array.from(same ? (source as { values: Float32Array }).values : (own[name] as { values: Float32Array }).values), name);
    }
    assert.equal(inherited - morphed, expected, 'values taken as they are');
    assert.equal(morphed, 5 * 5 * 16, 'the 5x5 depthwise filter is reshaped from the 3x3 one');
    assert.equal(of, Object.values(after).reduce((n, w) => n + w.values.length, 0));
    assert.ok(inherited > 0 && inherited < of, `${inherited} of ${of}`);
    assert.ok(Object.keys(after).some((n) => n.includes('.se.')) && Object.keys(after).filter((n) => n.includes('.se.')).every((n) => trained[n] === undefined), 'squeeze-excite is new: it keeps its own');
    // The 3x3 filter is the centre of the 5x5 one; the ring around it is zero.
    const small = trained[kernel] as { shape: number[]; values: Float32Array };
    const big = after[kernel] as { shape: number[]; values: Float32Array };
    assert.deepEqual(small.shape, [3, 3, 16, 1]);
    assert.deepEqual(big.shape, [5, 5, 16, 1]);
    for (let y = 0; y < 5; y++)
      for (let x = 0; x < 5; x++)
        for (let c = 0; c < 16; c++) {
          const inside = y >= 1 && y <= 3 && x >= 1 && x <= 3;
          const want = inside ? small.values[((y - 1) * 3 + (x - 1)) * 16 + c] : 0;
          assert.equal(big.values[(y * 5 + x) * 16 + c], want, `tap ${y},${x} channel ${c}`);
        }
  });

  it('the variables a graph holds are known without building its network: the names and shapes the network makes', async () => {
    await initEngine('wasm');
    for (const name of ['mobilenet_v2', 'mnasnet_a1', 'resnet18', 'nb201:|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|']) {
      const graph = lower(builtinArchitecture(name) as Architecture);
      const network = new Network(graph, { seed: 3 });
      const built = new Map([...network.variables].map(([n, v]) => [n, [...v.shape]]));
      network.dispose();
      assert.deepEqual(graphVariables(graph), built, name);
    }
    // What a child would take, counted without a network, is what inherit() takes.
    const parent = new Network(graphOf(parentData), { seed: 1 });
    const trained = parent.weights();
    parent.dispose();
    const child = new Network(graphOf(childData), { seed: 2 });
    const { inherited, morphed } = child.inherit(trained);
    child.dispose();
    assert.equal(sharedValues(graphVariables(graphOf(childData)), trained), inherited - morphed);
  });

  it('a block more starts as the identity: the deeper child computes what its parent computes (function-preserving)', async () => {
    await initEngine('wasm');
    // The second stage gets a second block, as a deepening move appends it: same width, stride 1, residual.
    const deeperData = { ...parentData, stages: [['ir_k3_s2_e2_c8'], ['ir_r2_k3_s1_e2_c8']] };
    const parent = new Network(graphOf(parentData), { seed: 1 });
    const weights = parent.weights();
    const child = new Network(graphOf(deeperData), { seed: 2 });
    const counts = child.inherit(weights);
    assert.equal(counts.identities, 1);
    const x = tf.tensor4d(values(4 * 8 * 8, 9), [4, 8, 8, 1]);
    for (const training of [false, true]) {
      const expected = parent.apply(x, training).dataSync() as Float32Array;
      const got = child.apply(x, training).dataSync() as Float32Array;
      assert.ok(relativeError(got, expected) < 1e-6, `training ${training}: ${relativeError(got, expected)}`);
    }
    // The block it inherited keeps its parent's batch norm; only the new one starts at zero.
    const after = child.weights();
    const gammas = Object.keys(after).filter((n) => n.startsWith('s1.') && n.endsWith('.gamma'));
    const zeroed = gammas.filter((n) => Array.from(after[n]!.values).every((v) => v === 0));
    assert.equal(zeroed.length, 1, gammas.join());
    assert.ok(zeroed[0]!.startsWith('s1.b1.'), zeroed[0]);
    // Without inheritance the same child computes something else.
    const fresh = new Network(graphOf(deeperData), { seed: 2 });
    assert.ok(relativeError(fresh.apply(x, false).dataSync() as Float32Array, parent.apply(x, false).dataSync() as Float32Array) > 1e-2);
    for (const n of [parent, child, fresh]) n.dispose();
    x.dispose();
  });

  describe('a wider or larger-kernel child computes what its parent computes (network morphism)', () => {
    // A stride-2 first block in each stage, so that a stage's width can change without a skip appearing or going.
    const base = { name: 'p', input: '8x8x1', classes: 3, stem: ['cn_k3_c8'], stages: [['ir_k3_s2_e2_c8_se0.25_nhs'], ['ir_r2_k3_s2_e2_c16']], head: ['gap', 'fc'] };
    const children: Record<string, unknown> = {
      'a wider stage (its residual sum, the next stage and the classifier read it)': { ...base, stages: [base.stages[0], ['ir_r2_k3_s2_e2_c24']] },
      'a wider stem and first stage (expansions and squeeze-excite follow)': { ...base, stem: ['cn_k3_c12'], stages: [['ir_k3_s2_e2_c12_se0.25_nhs'], base.stages[1]] },
      'a larger expansion': { ...base, stages: [base.stages[0], ['ir_r2_k3_s2_e3_c16']] },
      'a larger kernel': { ...base, stages: [base.stages[0], ['ir_r2_k5_s2_e2_c16']] },
      'all at once': { ...base, stem: ['cn_k3_c12'], stages: [['ir_k5_s2_e3_c12_se0.25_nhs'], ['ir_r2_k5_s2_e3_c24']] },
    };

    /** A parent with every variable drawn at random (batch-norm statistics too), so that nothing passes by being zero or one. */
    function randomParent(): Network {
      const parent = new Network(graphOf(base), { seed: 1 });
      let seed = 100;
      for (const [name, v] of parent.variables) {
        const positive = name.endsWith('.variance') || name.endsWith('.gamma');
        tf.tidy(() => v.assign(positive ? tf.randomUniform(v.shape, 0.5, 1.5, 'float32', seed++) : tf.randomNormal(v.shape, 0, 0.5, 'float32', seed++)));
      }
      return parent;
    }

    for (const [what, data] of Object.entries(children)) {
      it(what, async () => {
        await initEngine('wasm');
        const parent = randomParent();
        const child = new Network(graphOf(data), { seed: 2 });
        const counts = child.inherit(parent.weights());
        assert.equal(counts.inherited, counts.of, `every value is inherited: ${JSON.stringify(counts)}`);
        assert.ok(counts.morphed > 0, 'some are reshaped');
        const x = tf.tensor4d(values(4 * 8 * 8, 9), [4, 8, 8, 1]);
        for (const training of [false, true]) {
          const expected = parent.apply(x, training).dataSync() as Float32Array;
          const got = child.apply(x, training).dataSync() as Float32Array;
          assert.ok(relativeError(got, expected) < 1e-5, `training ${training}: ${relativeError(got, expected)}`);
        }
        // Without inheritance the same child computes something else.
        const fresh = new Network(graphOf(data), { seed: 2 });
        assert.ok(relativeError(fresh.apply(x, false).dataSync() as Float32Array, parent.apply(x, false).dataSync() as Float32Array) > 1e-2);
        for (const n of [parent, child, fresh]) n.dispose();
        x.dispose();
      });
    }

    it('the copies of a widened channel part ways in training: their inputs were split unevenly', async () => {
      await initEngine('wasm');
      const parent = train(graphOf(base), halvesSplits(), { epochs: 1, batchSize: 32, seed: 1 });
      const start = parent.network.weights();
      parent.network.dispose();
      const wider = children['a wider stage (its residual sum, the next stage and the classifier read it)'];
      const child = train(graphOf(wider), halvesSplits(), { epochs: 1, batchSize: 32, seed: 2 }, start);
      const after = child.network.weights();
      child.network.dispose();
      // Channel 16 of the widened stage is a copy of channel 0: after training, its projection differs.
      const project = after['s1.b0.project.weight'] as { shape: number[]; values: Float32Array };
      const [, , inputs, outputs] = project.shape as [number, number, number, number];
      assert.equal(outputs, 24);
      let differs = 0;
      for (let i = 0; i < inputs; i++) differs = Math.max(differs, Math.abs((project.values[i * outputs] as number) - (project.values[i * outputs + 16] as number)));
      assert.ok(differs > 1e-4, `channel 16 left channel 0 by ${differs}`);
    });
  });

  it('finds the residual blocks it can start as the identity: MobileNetV2\'s 10, ResNet-18\'s 5 without a projection', async () => {
    await initEngine('wasm');
    for (const [name, residual] of [['mobilenet_v2', 10], ['resnet18', 5]] as const) {
      const network = new Network(lower(builtinArchitecture(name) as Architecture), { seed: 1 });
      assert.equal(network.inherit({}).identities, residual, name);
      network.dispose();
    }
  });

  it('training from a start says how much it inherited', async () => {
    await initEngine('wasm');
    const parent = train(graphOf(parentData), halvesSplits(), { epochs: 1, batchSize: 32, seed: 1 });
    const start = parent.network.weights();
    parent.network.dispose();
    const child = train(graphOf(childData), halvesSplits(), { epochs: 1, batchSize: 32, seed: 2 }, start);
    child.network.dispose();
    assert.ok(child.inherited && child.inherited.inherited > 0 && child.inherited.inherited < child.inherited.of, JSON.stringify(child.inherited));
    const scratch = train(graphOf(childData), halvesSplits(), { epochs: 1, batchSize: 32, seed: 2 });
    scratch.network.dispose();
    assert.equal(scratch.inherited, undefined);
  });
});
