import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { initEngine } from '../src/engine/backend.js';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { kernelBuild, procnasKernels } from '../src/engine/kernels/module.js';
import type { KernelBuild } from '../src/engine/kernels/module.js';
import { batchNormDepthwiseTrain, batchNormTrain } from '../src/engine/ops/batch-norm.js';
import type { ExplicitPadding } from '../src/engine/kernels/batch-norm-depthwise.js';
import { globalAverage } from '../src/engine/ops/global-average.js';
import { movingAverage, sgdMomentum } from '../src/engine/ops/update.js';
import type { FusedActivation } from '../src/engine/kernels/batch-norm.js';
import { tf } from '../src/engine/tf.js';
import { relativeError, values } from './fixtures.js';

interface Case {
  kind: 'conv' | 'depthwise';
  batch: number;
  h: number;
  w: number;
  cin: number;
  cout: number; // output channels (conv) or multiplier (depthwise)
  k: number;
  stride: number;
  pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
}

/** Output, and input and filter gradients of sum(op(x, f) * r), computed on the current backend. */
function grads(c: Case): [Float32Array, Float32Array, Float32Array] {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(c.batch * c.h * c.w * c.cin, 1), [c.batch, c.h, c.w, c.cin]);
    const f = tf.tensor4d(values(c.k * c.k * c.cin * c.cout, 2), [c.k, c.k, c.cin, c.cout]);
    const op = (a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D =>
      c.kind === 'conv' ? tf.conv2d(a, b, c.stride, c.pad) : tf.depthwiseConv2d(a, b, c.stride, c.pad as 'same' | 'valid');
    const shape = op(x, f).shape;
    const r = tf.tensor(values(shape.reduce((a, b) => a * b, 1), 3), shape);
    const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => op(a as tf.Tensor4D, b as tf.Tensor4D).mul(r).sum())([x, f]);
    return [op(x, f).dataSync() as Float32Array, dx!.dataSync() as Float32Array, df!.dataSync() as Float32Array];
  });
}

/**
 * Every check runs on each build of procnas's kernels this machine has: the WebAssembly one
 * always, the host one where it was built (wherever clang is, which the test below holds to).
 */
function hostBuilt(): boolean {
  const saved = process.env.PROCNAS_KERNELS;
  delete process.env.PROCNAS_KERNELS;
  try {
    return kernelBuild() === 'host';
  } finally {
    if (saved !== undefined) process.env.PROCNAS_KERNELS = saved;
  }
}
const BUILDS: KernelBuild[] = hostBuilt() ? ['wasm', 'host'] : ['wasm'];

/** Runs `body` with PROCNAS_KERNELS naming `build`. */
async function withBuild<T>(build: KernelBuild, body: () => T | Promise<T>): Promise<T> {
  const saved = process.env.PROCNAS_KERNELS;
  process.env.PROCNAS_KERNELS = build;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env.PROCNAS_KERNELS;
    else process.env.PROCNAS_KERNELS = saved;
  }
}

describe('builds of procnas kernels', () => {
  it('the host build loads wherever clang is installed (npm install builds it)', () => {
    const clang = spawnSync('clang', ['--version']).status === 0;
    if (clang) assert.ok(hostBuilt(), 'clang is installed but the host kernels do not load: run scripts/build-host-kernels.sh');
    else assert.deepEqual(BUILDS, ['wasm']);
  });

  it('the host build refuses a tensor offset outside the backend memory (WebAssembly would trap)', { skip: !BUILDS.includes('host') && 'no host build here' }, async () => {
    await initEngine('wasm');
    const kernels = await withBuild('host', () => procnasKernels(tf.backend() as BackendWasm));
    const past = ((tf.backend() as BackendWasm).wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.length;
    assert.throws(() => kernels.moving_average(past, 0, 0, 4, 0.9, 1), /procnas host kernels: a tensor offset lies outside the backend's memory/);
  });

  it('PROCNAS_KERNELS chooses the build, and an unknown value is an error', async () => {
    assert.equal(await withBuild('wasm', kernelBuild), 'wasm');
    await assert.rejects(withBuild('gpu' as KernelBuild, kernelBuild), /PROCNAS_KERNELS=gpu: expected host or wasm/);
  });
});

const cases: Case[] = [];
for (const k of [1, 3, 5]) {
  for (const stride of [1, 2]) {
    for (const pad of ['same', 'valid'] as const) cases.push({ kind: 'conv', batch: 2, h: 7, w: 9, cin: 3, cout: 5, k, stride, pad });
  }
}
for (const k of [3, 5, 7]) {
  for (const stride of [1, 2]) {
    for (const pad of ['same', 'valid'] as const) {
      for (const cout of [1, 2]) cases.push({ kind: 'depthwise', batch: 2, h: 9, w: 8, cin: 6, cout, k, stride, pad });
    }
  }
}
cases.push({ kind: 'conv', batch: 3, h: 16, w: 16, cin: 24, cout: 40, k: 3, stride: 1, pad: 'same' });
// 1x1 convolutions whose output is not the input's size: padded on one side only, or strided.
cases.push({ kind: 'conv', batch: 2, h: 7, w: 9, cin: 3, cout: 5, k: 1, stride: 1, pad: [[0, 0], [0, 1], [0, 2], [0, 0]] });
cases.push({ kind: 'conv', batch: 2, h: 7, w: 9, cin: 3, cout: 5, k: 1, stride: 1, pad: [[0, 0], [1, 0], [0, 0], [0, 0]] });
cases.push({ kind: 'conv', batch: 2, h: 7, w: 9, cin: 3, cout: 5, k: 1, stride: 2, pad: [[0, 0], [0, 1], [0, 1], [0, 0]] });
cases.push({ kind: 'depthwise', batch: 3, h: 16, w: 16, cin: 37, cout: 1, k: 5, stride: 2, pad: 'same' });
// Multiplier 1 keeps its sums in registers a block of 16 channels at a time: whole blocks and a
// remainder, every kernel size, stride and padding, odd image sizes.
for (const k of [3, 5, 7]) {
  for (const stride of [1, 2]) {
    for (const pad of ['same', 'valid'] as const) cases.push({ kind: 'depthwise', batch: 2, h: 9, w: 11, cin: 21, cout: 1, k, stride, pad });
  }
}
// The host build's dense forward pass (conv_forward.c): 61 output channels are a block of every
// width, 9 and 11 columns leave pixels after the tiles of four, and both image edges clip taps.
cases.push({ kind: 'conv', batch: 2, h: 7, w: 9, cin: 5, cout: 61, k: 3, stride: 1, pad: 'same' });
cases.push({ kind: 'conv', batch: 2, h: 8, w: 11, cin: 3, cout: 16, k: 5, stride: 2, pad: 'same' });
cases.push({ kind: 'conv', batch: 1, h: 6, w: 11, cin: 1, cout: 9, k: 3, stride: 2, pad: 'valid' });
// Images narrower than the blocks of four columns that the wider filters' edges take, so that
// a block's columns past the image are summed and not stored, and every tap clips.
for (const k of [5, 7]) for (const stride of [1, 2]) cases.push({ kind: 'depthwise', batch: 2, h: 5, w: 3, cin: 21, cout: 1, k, stride, pad: 'same' });
// Pointwise products 16 and 24 channels wide (a tile of eight rows, and one a vector and a half
// wide, with AVX-512), over 198 pixels: tiles of eight, of four, and single rows.
for (const [cin, cout] of [[24, 16], [16, 24]] as const) cases.push({ kind: 'conv', batch: 2, h: 9, w: 11, cin, cout, k: 1, stride: 1, pad: 'same' });
// Stride 3 takes the input gradient's general tap arithmetic (strides 1 and 2 have their own).
for (const pad of ['same', 'valid'] as const) cases.push({ kind: 'depthwise', batch: 2, h: 10, w: 11, cin: 21, cout: 1, k: 5, stride: 3, pad });
// A stem's filter gradient (few input channels, at most 3x3 taps, outputs a multiple of the
// vector: 16 and 48 are on AVX-512 and in WebAssembly) keeps every tap's sums in registers:
// both image edges clip taps, strides 1 and 2, one to three input channels, several blocks.
cases.push({ kind: 'conv', batch: 2, h: 9, w: 11, cin: 1, cout: 16, k: 3, stride: 1, pad: 'same' });
cases.push({ kind: 'conv', batch: 2, h: 9, w: 11, cin: 3, cout: 48, k: 3, stride: 2, pad: 'same' });
cases.push({ kind: 'conv', batch: 3, h: 8, w: 7, cin: 2, cout: 16, k: 3, stride: 2, pad: 'valid' });
// Pointwise convolutions as matrix products (pointwise.c): 61 output channels are a tile of every
// width (32 + 16 + 8 + 4 + 1 on AVX-512), 126 and 390 pixels leave rows after the tiles of four
// or eight, and 390 pixels make several passes of the filter gradient's 64-pixel chunks, the last one partial.
cases.push({ kind: 'conv', batch: 2, h: 7, w: 9, cin: 37, cout: 61, k: 1, stride: 1, pad: 'same' });
cases.push({ kind: 'conv', batch: 2, h: 15, w: 13, cin: 24, cout: 144, k: 1, stride: 1, pad: 'valid' });
cases.push({ kind: 'conv', batch: 3, h: 16, w: 16, cin: 144, cout: 24, k: 1, stride: 1, pad: 'same' });

for (const build of BUILDS) describe(`${build} convolution kernels (forward and gradients) match the cpu backend`, () => {
  it('registers the kernels tfjs-backend-wasm lacks', async () => {
    await initEngine('wasm');
    for (const name of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'ProcnasBatchNormTrain', 'ProcnasBatchNormGrad']) {
      assert.ok(tf.getKernel(name, 'wasm'), name);
    }
  });

  it('clones share data instead of copying it, and outlive their original', async () => {
    await initEngine('wasm');
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    assert.equal(y.dataId, x.dataId);
    x.dispose();
    assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3]);
    y.dispose();
  });

  for (const c of cases) {
    const label = `${c.kind} ${c.h}x${c.w}x${c.cin}→${c.cout} k${c.k} s${c.stride} ${typeof c.pad === 'string' ? c.pad : `pad ${JSON.stringify(c.pad.slice(1, 3))}`} batch ${c.batch}`;
    it(label, async () => {
      await initEngine('cpu');
      const [yCpu, dxCpu, dfCpu] = grads(c);
      await initEngine('wasm');
      const [yWasm, dxWasm, dfWasm] = await withBuild(build, () => grads(c));
      assert.ok(relativeError(yWasm, yCpu) < 1e-5, `output: ${relativeError(yWasm, yCpu)}`);
      assert.ok(relativeError(dxWasm, dxCpu) < 1e-5, `input gradient: ${relativeError(dxWasm, dxCpu)}`);
      assert.ok(relativeError(dfWasm, dfCpu) < 1e-5, `filter gradient: ${relativeError(dfWasm, dfCpu)}`);
    });
  }
});

for (const build of BUILDS) describe(`${build} depthwise forward matches the cpu backend where TF.js has no gradient (dilation)`, () => {
  const forwardCases: Array<[[number, number, number, number], [number, number, number, number], number, 'same' | 'valid' | number, number]> = [
    [[2, 9, 7, 5], [3, 3, 5, 1], 1, 'same', 2],
    [[1, 11, 11, 4], [5, 5, 4, 1], 1, 2, 2],
    [[3, 5, 5, 8], [3, 3, 8, 3], 2, 1, 1],
    [[1, 4, 4, 2], [3, 3, 2, 1], 3, 'same', 1],
  ];
  for (const [xs, fs, stride, pad, dilation] of forwardCases) {
    it(`${xs.join('x')} filter ${fs.join('x')} stride ${stride} pad ${pad} dilation ${dilation}`, async () => {
      const run = async (backend: 'cpu' | 'wasm'): Promise<Float32Array> => {
        await initEngine(backend);
        return tf.tidy(() => {
          const x = tf.tensor4d(values(xs.reduce((a, b) => a * b, 1), 1), xs);
          const f = tf.tensor4d(values(fs.reduce((a, b) => a * b, 1), 2), fs);
          return tf.depthwiseConv2d(x, f, stride, pad as 'same', 'NHWC', dilation).dataSync() as Float32Array;
        });
      };
      const expected = await run('cpu');
      const actual = await withBuild(build, () => run('wasm'));
      assert.equal(actual.length, expected.length);
      assert.ok(relativeError(actual, expected) < 1e-5, `${relativeError(actual, expected)}`);
    });
  }
});

for (const build of BUILDS) describe(`${build} dense convolution forward matches the cpu backend with dilation`, () => {
  // TF.js takes a dilation only with stride 1.
  for (const [stride, pad] of [[1, 'same'], [1, 'valid']] as const) {
    it(`3x3 filter, dilation 2, stride ${stride}, ${pad}`, async () => {
      const run = async (backend: 'cpu' | 'wasm'): Promise<Float32Array> => {
        await initEngine(backend);
        return tf.tidy(() => {
          const x = tf.tensor4d(values(2 * 9 * 10 * 4, 41), [2, 9, 10, 4]);
          const f = tf.tensor4d(values(3 * 3 * 4 * 7, 42), [3, 3, 4, 7]);
          return tf.conv2d(x, f, stride, pad, 'NHWC', 2).dataSync() as Float32Array;
        });
      };
      const expected = await run('cpu');
      const actual = await withBuild(build, () => run('wasm'));
      assert.equal(actual.length, expected.length);
      assert.ok(relativeError(actual, expected) < 1e-5, `${relativeError(actual, expected)}`);
    });
  }
});

/** Output, running statistics and gradients of sum(bn(x) * r), on the current backend. */
function batchNormResults(shape: [number, number, number, number], activation: FusedActivation, seed: number): Float32Array[] {
  return tf.tidy(() => {
    const size = shape.reduce((a, b) => a * b, 1);
    const c = shape[3];
    // Scaled and shifted so that ReLU6 clips on both sides.
    const x = tf.tensor4d(values(size, seed), shape).mul(4).add(1) as tf.Tensor4D;
    const gamma = tf.tensor1d(values(c, seed + 1)).add(1.5) as tf.Tensor1D;
    const beta = tf.tensor1d(values(c, seed + 2)).mul(2) as tf.Tensor1D;
    const r = tf.tensor4d(values(size, seed + 3), shape);
    let stats: Float32Array[] = [];
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar => {
      const y = batchNormTrain(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, activation, 1e-5, (mean, variance) => {
        stats = [mean.dataSync() as Float32Array, variance.dataSync() as Float32Array];
      });
      return y.mul(r).sum();
    };
    const y = batchNormTrain(x, gamma, beta, activation, 1e-5, () => undefined);
    const [dx, dg, db] = tf.grads(f)([x, gamma, beta]);
    return [y.dataSync() as Float32Array, ...stats, dx!.dataSync() as Float32Array, dg!.dataSync() as Float32Array, db!.dataSync() as Float32Array];
  });
}

for (const build of BUILDS) describe(`${build} fused training batch norm (+ ReLU/ReLU6) matches TF.js ops on the cpu backend`, () => {
  // Channels in every path of the kernels' blocks (4 vectors, then 1 vector, then single channels:
  // 64 / 16 / 1 on AVX-512, 16 / 4 / 1 in WebAssembly), rows in one chunk of 64 and in several.
  const shapes: Array<[number, number, number, number]> = [[2, 5, 7, 3], [8, 4, 4, 16], [3, 9, 1, 37], [4, 6, 5, 83], [2, 3, 3, 128]];
  for (const shape of shapes) {
    for (const activation of ['none', 'relu', 'relu6'] as const) {
      it(`${shape.join('x')} ${activation}`, async () => {
        await initEngine('cpu');
        const expected = batchNormResults(shape, activation, 7);
        await initEngine('wasm');
        const actual = await withBuild(build, () => batchNormResults(shape, activation, 7));
        const names = ['output', 'mean', 'variance', 'input gradient', 'gamma gradient', 'beta gradient'];
        names.forEach((name, i) => {
          const error = relativeError(actual[i]!, expected[i]!);
          assert.ok(error < 1e-5, `${name}: relative error ${error}`);
        });
      });
    }
  }
});

interface FusedCase {
  shape: [number, number, number, number];
  k: number;
  stride: number;
  pad: number;
}

/** Output, statistics and the gradients (x, gamma, beta, filter) of sum(depthwise(bn(x)) * r), on the current backend. */
function batchNormDepthwiseResults(c: FusedCase, activation: FusedActivation, seed: number): Float32Array[] {
  return tf.tidy(() => {
    const [n, h, w, ch] = c.shape;
    const x = tf.tensor4d(values(n * h * w * ch, seed), c.shape).mul(4).add(1) as tf.Tensor4D;
    const gamma = tf.tensor1d(values(ch, seed + 1)).add(1.5) as tf.Tensor1D;
    const beta = tf.tensor1d(values(ch, seed + 2)).mul(2) as tf.Tensor1D;
    const filter = tf.tensor4d(values(c.k * c.k * ch, seed + 3), [c.k, c.k, ch, 1]);
    const pad: ExplicitPadding = [[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]];
    let stats: Float32Array[] = [];
    const op = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor, f: tf.Tensor): tf.Tensor4D =>
      batchNormDepthwiseTrain(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, f as tf.Tensor4D, activation, 1e-5, c.stride, pad, (mean, variance) => {
        stats = [mean.dataSync() as Float32Array, variance.dataSync() as Float32Array];
      });
    const y = op(x, gamma, beta, filter);
    const r = tf.tensor(values(y.size, seed + 4), y.shape);
    const [dx, dg, db, df] = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor, f: tf.Tensor) => op(a, g, b, f).mul(r).sum())([x, gamma, beta, filter]);
    return [y.dataSync() as Float32Array, ...stats, dx!.dataSync() as Float32Array, dg!.dataSync() as Float32Array, db!.dataSync() as Float32Array, df!.dataSync() as Float32Array];
  });
}

for (const build of BUILDS) describe(`${build} batch norm (+ ReLU/ReLU6) fused into the depthwise convolution it feeds matches the two ops on the cpu backend`, () => {
  // 3x3 with stride 1 and 2, padded and not (every column and row of the image clipped or not);
  // 2x2 and 1x1 filters; channels in whole vectors, in the filter gradient's blocks of four
  // vectors (70) and past them (21, 37), images narrower than four columns.
  const cases: FusedCase[] = [
    { shape: [2, 9, 11, 21], k: 3, stride: 1, pad: 1 },
    { shape: [3, 8, 7, 16], k: 3, stride: 2, pad: 1 },
    { shape: [2, 7, 9, 37], k: 3, stride: 2, pad: 0 },
    { shape: [2, 5, 6, 70], k: 3, stride: 1, pad: 0 },
    { shape: [2, 6, 3, 8], k: 2, stride: 1, pad: 1 },
    { shape: [2, 5, 5, 20], k: 1, stride: 2, pad: 0 },
  ];
  for (const c of cases) {
    for (const activation of ['none', 'relu', 'relu6'] as const) {
      it(`${c.shape.join('x')} k${c.k} s${c.stride} pad ${c.pad} ${activation}`, async () => {
        await initEngine('cpu');
        const expected = batchNormDepthwiseResults(c, activation, 11);
        await initEngine('wasm');
        const actual = await withBuild(build, () => batchNormDepthwiseResults(c, activation, 11));
        const names = ['output', 'mean', 'variance', 'input gradient', 'gamma gradient', 'beta gradient', 'filter gradient'];
        assert.equal(actual.length, names.length);
        names.forEach((name, i) => {
          const error = relativeError(actual[i]!, expected[i]!);
          assert.ok(error < 1e-5, `${name}: relative error ${error}`);
        });
      });
    }
  }
});

for (const build of BUILDS) describe(`${build} fused training batch norm is accurate where the mean dwarfs the spread`, () => {
  it('mean 1000, std 0.01: statistics, output and gradients match a float64 reference', async () => {
    await initEngine('wasm');
    const [n, h, w, c] = [8, 6, 6, 5];
    const rows = n * h * w;
    const noise = values(rows * c, 21);
    // Per channel: mean 1000 + c, standard deviation 0.01 (uniform noise in [-1, 1) has std 1/√3).
    const x = Float32Array.from(noise, (v, i) => 1000 + (i % c) + 0.01 * Math.sqrt(3) * v);
    const gamma = Float32Array.from(values(c, 22), (v) => 1.5 + v);
    const beta = values(c, 23);
    const r = values(rows * c, 24);
    // Float64 reference on the same float32 inputs: loss = sum(bn(x) * r).
    const mean = new Float64Array(c);
    const variance = new Float64Array(c);
    for (let i = 0; i < x.length; i++) mean[i % c]! += (x[i] as number) / rows;
    for (let i = 0; i < x.length; i++) variance[i % c]! += ((x[i] as number) - mean[i % c]!) ** 2 / rows;
    const invstd = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + 1e-5));
    // The kernels keep the mean in float32, up to half an ulp of 1000 (3e-5, 0.3% of the std)
    // from the exact one; the rest is computed from that mean.
    const storedMean = Float64Array.from(mean, Math.fround);
    const xhat = Float64Array.from(x, (v, i) => (v - storedMean[i % c]!) * invstd[i % c]!);
    const y = Float64Array.from(xhat, (v, i) => v * gamma[i % c]! + beta[i % c]!);
    const dbeta = new Float64Array(c);
    const dgamma = new Float64Array(c);
    for (let i = 0; i < x.length; i++) {
      dbeta[i % c]! += r[i] as number;
      dgamma[i % c]! += (r[i] as number) * xhat[i]!;
    }
    const dx = Float64Array.from(r, (g, i) => gamma[i % c]! * invstd[i % c]! * (g - dbeta[i % c]! / rows - (xhat[i]! * dgamma[i % c]!) / rows));

    const actual = await withBuild(build, () => tf.tidy(() => {
      let stats: Float32Array[] = [];
      const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar =>
        batchNormTrain(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 'none', 1e-5, (m, v) => {
          stats = [m.dataSync() as Float32Array, v.dataSync() as Float32Array];
        }).mul(tf.tensor4d(r, [n, h, w, c])).sum();
      const inputs = [tf.tensor4d(x, [n, h, w, c]), tf.tensor1d(gamma), tf.tensor1d(beta)];
      const out = batchNormTrain(inputs[0] as tf.Tensor4D, inputs[1] as tf.Tensor1D, inputs[2] as tf.Tensor1D, 'none', 1e-5, () => undefined);
      const grads = tf.grads(f)(inputs);
      return { y: out.dataSync(), mean: stats[0]!, variance: stats[1]!, dx: grads[0]!.dataSync(), dgamma: grads[1]!.dataSync(), dbeta: grads[2]!.dataSync() };
    }));
    const close = (name: string, a: ArrayLike<number>, b: ArrayLike<number>, tolerance: number): void => {
      const error = relativeError(Float32Array.from(a), Float32Array.from(b));
      assert.ok(error < tolerance, `${name}: relative error ${error}`);
    };
    actual.mean.forEach((m, i) => assert.ok(Math.abs(m - mean[i]!) <= 2 ** -15, `mean ${m} vs ${mean[i]}`));
    close('variance', actual.variance, variance, 1e-5);
    close('output', actual.y, y, 1e-5);
    close('input gradient', actual.dx, dx, 1e-5);
    close('gamma gradient', actual.dgamma, dgamma, 1e-5);
    close('beta gradient', actual.dbeta, dbeta, 1e-5);
  });
});

describe('global average pooling', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`has TF.js mean's value and gradient (${backend})`, async () => {
      await initEngine(backend);
      const [ours, theirs] = tf.tidy(() => {
        const x = tf.tensor4d(values(2 * 5 * 7 * 3, 31), [2, 5, 7, 3]);
        const r = tf.tensor4d(values(2 * 3, 32), [2, 1, 1, 3]);
        const run = (pool: (a: tf.Tensor4D) => tf.Tensor): Float32Array[] => {
          const [dx] = tf.grads((a: tf.Tensor) => pool(a as tf.Tensor4D).mul(r).sum())([x]);
          return [pool(x).dataSync() as Float32Array, dx!.dataSync() as Float32Array];
        };
        return [run(globalAverage), run((a) => tf.mean(a, [1, 2], true))];
      });
      assert.ok(relativeError(ours[0]!, theirs[0]!) < 1e-6, 'value');
      assert.ok(relativeError(ours[1]!, theirs[1]!) < 1e-6, 'gradient');
    });
  }
});

for (const build of BUILDS) describe(`${build} per-step updates match TF.js ops on the cpu backend`, () => {
  const size = 1000; // not a multiple of any vector width
  const updates = (first: boolean, decay: number): Float32Array[] =>
    tf.tidy(() => {
      const [w, g, buffer] = [31, 32, 33].map((seed) => tf.tensor1d(values(size, seed)));
      const [next, nextBuffer] = sgdMomentum(w!, g!, buffer!, { rate: 0.1, momentum: 0.9, decay, first });
      const average = movingAverage(w!, g!, { keep: 0.9, scale: 64 / 63 });
      return [next.dataSync(), nextBuffer.dataSync(), average.dataSync()] as Float32Array[];
    });
  for (const first of [true, false]) {
    for (const decay of [0, 5e-4]) {
      it(`SGD with momentum (${first ? 'first step' : 'later step'}, decay ${decay}) and a moving average`, async () => {
        await initEngine('cpu');
        const expected = updates(first, decay);
        await initEngine('wasm');
        const actual = await withBuild(build, () => updates(first, decay));
        ['weights', 'momentum buffer', 'moving average'].forEach((name, i) => {
          const error = relativeError(actual[i]!, expected[i]!);
          assert.ok(error < 1e-6, `${name}: relative error ${error}`);
        });
      });
    }
  }
});
