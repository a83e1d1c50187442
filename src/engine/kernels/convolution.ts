/**
 * Convolution kernels for the WASM backend, backed by procnas's C kernels: the gradients
 * tfjs-backend-wasm 4.22 does not register (Conv2DBackpropFilter, DepthwiseConv2dNative-
 * BackpropInput and -Filter) and replacements for stock kernels too slow for training
 * (Conv2DBackpropInput; DepthwiseConv2dNative, whose XNNPACK path crawls on 5x5 and 7x7).
 * NHWC only; dilation is passed through (TF.js's own gradients refuse dilation > 1 anyway).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../tf.js';
import { kernelBuild, offsetOf, procnasKernels } from './module.js';
import type { Conv2dGrad, ProcnasKernels } from './module.js';

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
type Pad = Parameters<typeof tf.backend_util.computeConv2DInfo>[4];
type Rounding = Parameters<typeof tf.backend_util.computeConv2DInfo>[5];

interface ConvAttrs {
  strides: [number, number] | number;
  pad: Pad;
  dilations?: [number, number] | number;
  dimRoundingMode?: Rounding;
  dataFormat?: 'NHWC' | 'NCHW';
}

/**
 * Calls a C convolution kernel: three tensors, then the geometry of `info`, where the output
 * channel slot holds `channels` (output channels, or the depthwise channel multiplier).
 */
function callKernel(b: BackendWasm, kernel: Conv2dGrad, first: tf.TensorInfo, second: tf.TensorInfo, out: tf.TensorInfo, info: Conv2DInfo, channels: number): void {
  kernel(
    offsetOf(b, first.dataId), offsetOf(b, second.dataId), offsetOf(b, out.dataId),
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, channels,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  );
}

/** Calls a pointwise C kernel: two tensors and the output, then the product's rows and channels. */
function callPointwise(b: BackendWasm, kernel: ProcnasKernels['pointwise_forward'], first: tf.TensorInfo, second: tf.TensorInfo, out: tf.TensorInfo, info: Conv2DInfo): void {
  kernel(offsetOf(b, first.dataId), offsetOf(b, second.dataId), offsetOf(b, out.dataId), pixels(info), info.inChannels, info.outChannels);
}

/** A dense convolution's pass: through procnas's matrix product where it is pointwise and ours (`ownPointwise`), else its dense kernel. */
function callConvolution(b: BackendWasm, pointwise: ProcnasKernels['pointwise_forward'], dense: Conv2dGrad, first: tf.TensorInfo, second: tf.TensorInfo, out: tf.TensorInfo, info: Conv2DInfo): void {
  if (ownPointwise(info)) callPointwise(b, pointwise, first, second, out, info);
  else callKernel(b, dense, first, second, out, info, info.outChannels);
}

function nhwcOnly(kernel: string, attrs: ConvAttrs): void {
  if (attrs.dataFormat && attrs.dataFormat !== 'NHWC') throw new Error(`${kernel}: procnas supports NHWC only`);
}

const conv2DBackpropFilter: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as BackendWasm;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  nhwcOnly('Conv2DBackpropFilter', a);
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
  const out = b.makeOutput(a.filterShape, 'float32');
  callConvolution(b, procnasKernels(b).pointwise_backprop_filter, procnasKernels(b).conv2d_backprop_filter, x, dy, out, info);
  return out;
};

/**
 * A 1x1, stride-1 convolution padded on no side (so its output pixels are its input pixels) is
 * a matrix product over the batch's pixels.
 */
function isPointwise(info: Conv2DInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return (
    info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
    top === 0 && bottom === 0 && left === 0 && right === 0 && info.dilationHeight === 1 && info.dilationWidth === 1 &&
    info.outHeight === info.inHeight && info.outWidth === info.inWidth
  );
}

/** The batch's pixels, the rows of a pointwise convolution's matrix product. */
function pixels(info: Conv2DInfo): number {
  return info.batchSize * info.inHeight * info.inWidth;
}

/**
 * Whether procnas's own matrix product (kernels/src/pointwise.c) runs a pointwise convolution:
 * in the host build, where it beats XNNPACK's WebAssembly GEMM; the WebAssembly build keeps
 * XNNPACK's.
 */
function ownPointwise(info: Conv2DInfo): boolean {
  return isPointwise(info) && kernelBuild() === 'host';
}

/**
 * Conv2D: in the host build, procnas's own kernels (pointwise convolutions as its matrix
 * product, the others by conv2d_forward); in the WebAssembly build, the stock kernel (XNNPACK)
 * this one replaces.
 */
export function conv2DKernel(stock: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const b = args.backend as BackendWasm;
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const a = args.attrs as unknown as ConvAttrs;
    if ((a.dataFormat === 'NHWC' || a.dataFormat === undefined) && kernelBuild() === 'host') {
      const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
      const out = b.makeOutput(info.outShape, 'float32');
      callConvolution(b, procnasKernels(b).pointwise_forward, procnasKernels(b).conv2d_forward, x, filter, out, info);
      return out;
    }
    return stock.kernelFunc(args);
  };
  // The stock kernel's setupFunc binds its WASM function, which the stock kernelFunc calls.
  return { ...stock, kernelFunc };
}

/** Runs another WASM kernel from inside a kernel (tf.* ops would break reference counts). */
function runWasm(b: BackendWasm, kernelName: string, inputs: Record<string, tf.TensorInfo>, attrs: Record<string, unknown>): tf.TensorInfo {
  const kernel = tf.getKernel(kernelName, 'wasm');
  if (!kernel) throw new Error(`procnas: kernel ${kernelName} is not registered for wasm`);
  return kernel.kernelFunc({ inputs, backend: b, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
}

/** The same data seen with another shape (a reshape without a kernel). */
function view(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/**
 * Product of [rows, inner] by [inner, cols] given the second one's transpose: XNNPACK's fast
 * GEMM runs only for untransposed batch-1 operands, so the transpose is made explicitly.
 */
function matMulTransposedB(b: BackendWasm, a: tf.TensorInfo, bt: tf.TensorInfo, rows: number, inner: number, cols: number): tf.TensorInfo {
  const bMatrix = runWasm(b, 'Transpose', { x: view(bt, [cols, inner]) }, { perm: [1, 0] });
  const product = runWasm(b, 'BatchMatMul', { a: view(a, [1, rows, inner]), b: view(bMatrix, [1, inner, cols]) }, { transposeA: false, transposeB: false });
  b.disposeData(bMatrix.dataId);
  return product;
}

/** Replaces the stock kernel, which runs naive loops over the whole filter for every pixel. */
const conv2DBackpropInput: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as BackendWasm;
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
  nhwcOnly('Conv2DBackpropInput', a);
  const info = tf.backend_util.computeConv2DInfo(a.inputShape, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
  if (isPointwise(info) && !ownPointwise(info)) {
    // dx [pixels, ci] = dy [pixels, co] · Wᵀ, with W stored [ci, co].
    return view(matMulTransposedB(b, dy, filter, pixels(info), info.outChannels, info.inChannels), a.inputShape);
  }
  const out = b.makeOutput(a.inputShape, 'float32');
  // Room for the filter transposed, which both C kernels use.
  const scratch = b.makeOutput(filter.shape, 'float32');
  if (ownPointwise(info)) {
    procnasKernels(b).pointwise_backprop_input(offsetOf(b, dy.dataId), offsetOf(b, filter.dataId), offsetOf(b, out.dataId), offsetOf(b, scratch.dataId), pixels(info), info.inChannels, info.outChannels);
    b.disposeData(scratch.dataId);
    return out;
  }
  procnasKernels(b).conv2d_backprop_input(
    offsetOf(b, dy.dataId), offsetOf(b, filter.dataId), offsetOf(b, out.dataId), offsetOf(b, scratch.dataId),
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  );
  b.disposeData(scratch.dataId);
  return out;
};

type Shape4 = [number, number, number, number];

/**
 * The three depthwise kernels differ only in which two tensors they read and which geometry
 * they are given: the input and filter shapes (from tensors or attributes) and the output.
 */
function depthwiseKernel(
  name: string,
  read: [string, string],
  shapes: (t: [tf.TensorInfo, tf.TensorInfo], a: ConvAttrs & { inputShape?: Shape4; filterShape?: Shape4 }) => { input: Shape4; filter: Shape4 },
  output: 'input' | 'filter' | 'result',
  kernel: (k: ProcnasKernels) => Conv2dGrad,
): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const b = backend as BackendWasm;
    const t: [tf.TensorInfo, tf.TensorInfo] = [inputs[read[0]] as tf.TensorInfo, inputs[read[1]] as tf.TensorInfo];
    const a = attrs as unknown as ConvAttrs & { inputShape?: Shape4; filterShape?: Shape4 };
    nhwcOnly(name, a);
    const { input, filter } = shapes(t, a);
    const info = tf.backend_util.computeConv2DInfo(input, filter, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true);
    const out = b.makeOutput(output === 'input' ? input : output === 'filter' ? filter : info.outShape, 'float32');
    callKernel(b, kernel(procnasKernels(b)), t[0], t[1], out, info, filter[3]);
    return out;
  };
}

const depthwiseForward = depthwiseKernel('DepthwiseConv2dNative', ['x', 'filter'], ([x, f]) => ({ input: x.shape as Shape4, filter: f.shape as Shape4 }), 'result', (k) => k.depthwise_forward);
const depthwiseBackpropInputGather = depthwiseKernel('DepthwiseConv2dNativeBackpropInput', ['dy', 'filter'], ([, f], a) => ({ input: a.inputShape as Shape4, filter: f.shape as Shape4 }), 'input', (k) => k.depthwise_backprop_input);

/**
 * The input gradient of a stride-1, undilated depthwise convolution with multiplier 1 is the
 * forward pass over dy with the filter turned half a turn and the padding mirrored
 * (k - 1 - pad on each side): it runs as such, in the forward kernels, whose register blocking
 * the gather of depthwise_backprop_input lacks (1.05-2.5x faster on the nets' shapes). Other
 * geometries gather.
 */
const depthwiseBackpropInput: tf.KernelFunc = (args) => {
  const b = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const a = args.attrs as unknown as ConvAttrs & { inputShape: Shape4 };
  nhwcOnly('DepthwiseConv2dNativeBackpropInput', a);
  const info = tf.backend_util.computeConv2DInfo(a.inputShape, filter.shape as Shape4, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true);
  const unit = info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
  if (!unit || filter.shape[3] !== 1) return depthwiseBackpropInputGather(args);
  const turned = runWasm(b, 'Reverse', { x: filter }, { dims: [0, 1] });
  const out = b.makeOutput(a.inputShape, 'float32');
  procnasKernels(b).depthwise_forward(
    offsetOf(b, dy.dataId), offsetOf(b, turned.dataId), offsetOf(b, out.dataId),
    info.batchSize, info.outHeight, info.outWidth, info.inChannels, info.inHeight, info.inWidth, 1,
    info.filterHeight, info.filterWidth, 1, 1, 1, 1, info.filterHeight - 1 - info.padInfo.top, info.filterWidth - 1 - info.padInfo.left,
  );
  b.disposeData(turned.dataId);
  return out;
};
const depthwiseBackpropFilter = depthwiseKernel('DepthwiseConv2dNativeBackpropFilter', ['x', 'dy'], ([x], a) => ({ input: x.shape as Shape4, filter: a.filterShape as Shape4 }), 'filter', (k) => k.depthwise_backprop_filter);

export const CONVOLUTION_KERNELS: tf.KernelConfig[] = [
  { kernelName: 'DepthwiseConv2dNative', backendName: 'wasm', kernelFunc: depthwiseForward },
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2DBackpropInput },
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: 'wasm', kernelFunc: depthwiseBackpropInput },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: 'wasm', kernelFunc: depthwiseBackpropFilter },
];
