/**
 * Training-mode batch norm (+ ReLU/ReLU6) fused into the depthwise convolution it feeds, for the
 * WASM backend (kernels/src/conv_grads.c, `bn_depthwise_*`): the batch norm's output, the largest
 * tensor of an inverted residual block, is never written; the convolution and its filter
 * gradient read the input normalised row by row instead.
 * - ProcnasBatchNormDepthwise (x, gamma, beta, filter → y, mean, invstd, variance);
 * - ProcnasBatchNormDepthwiseFilterGrad (x, gamma, beta, mean, invstd, dy → dfilter).
 * Filters of at most 3x3 taps, multiplier 1, dilation 1 (`fusesWithDepthwise`).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../tf.js';
import { FUSED_ACTIVATIONS } from './batch-norm.js';
import type { FusedActivation } from './batch-norm.js';
import { offsetOf, procnasKernels } from './module.js';
import type { BatchNormDepthwise } from './module.js';

export const BATCH_NORM_DEPTHWISE = 'ProcnasBatchNormDepthwise';
export const BATCH_NORM_DEPTHWISE_FILTER_GRAD = 'ProcnasBatchNormDepthwiseFilterGrad';

type Shape4 = [number, number, number, number];
export type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

export interface BatchNormDepthwiseAttrs {
  activation: FusedActivation;
  epsilon: number;
  stride: number;
  pad: ExplicitPadding;
}

/** The largest filter side the fused kernels take (their ring holds this many input rows). */
export const FUSED_DEPTHWISE_MAX_KERNEL = 3;

/** Whether a depthwise convolution's filter and dilation are ones the fused kernels take. */
export function fusesWithDepthwise(kernel: number, dilation: number, multiplier: number): boolean {
  return kernel <= FUSED_DEPTHWISE_MAX_KERNEL && dilation === 1 && multiplier === 1;
}

function geometry(x: Shape4, filter: Shape4, a: BatchNormDepthwiseAttrs) {
  return tf.backend_util.computeConv2DInfo(x, filter, a.stride, 1, a.pad, undefined, true);
}

/** Calls a fused kernel with the ring's scratch, freed after the call. */
function callFused(b: BackendWasm, kernel: BatchNormDepthwise, t: Record<'x' | 'mean' | 'invstd' | 'gamma' | 'beta' | 'read' | 'out', tf.TensorInfo>, info: ReturnType<typeof geometry>, act: FusedActivation): void {
  const ring = b.makeOutput([FUSED_DEPTHWISE_MAX_KERNEL * info.inWidth * info.inChannels], 'float32');
  const o = (u: tf.TensorInfo): number => offsetOf(b, u.dataId);
  try {
    kernel(
      o(t.x), o(t.mean), o(t.invstd), o(t.gamma), o(t.beta), o(t.read), o(t.out), o(ring), FUSED_ACTIVATIONS[act],
      info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, 1,
      info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, 1, 1, info.padInfo.top, info.padInfo.left,
    );
  } finally {
    b.disposeData(ring.dataId);
  }
}

const forward: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as BackendWasm;
  const { x, gamma, beta, filter } = inputs as Record<'x' | 'gamma' | 'beta' | 'filter', tf.TensorInfo>;
  const a = attrs as unknown as BatchNormDepthwiseAttrs;
  const info = geometry(x.shape as Shape4, filter.shape as Shape4, a);
  const channels = info.inChannels;
  const rows = tf.util.sizeFromShape(x.shape) / channels;
  const mean = b.makeOutput([channels], 'float32');
  const invstd = b.makeOutput([channels], 'float32');
  const variance = b.makeOutput([channels], 'float32');
  const scratch = b.makeOutput([8 * channels], 'float32');
  const k = procnasKernels(b);
  try {
    k.bn_statistics(offsetOf(b, x.dataId), offsetOf(b, mean.dataId), offsetOf(b, invstd.dataId), offsetOf(b, variance.dataId), offsetOf(b, scratch.dataId), rows, channels, a.epsilon);
  } finally {
    b.disposeData(scratch.dataId);
  }
  const y = b.makeOutput(info.outShape, 'float32');
  callFused(b, k.bn_depthwise_forward, { x, mean, invstd, gamma, beta, read: filter, out: y }, info, a.activation);
  return [y, mean, invstd, variance];
};

const filterGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as BackendWasm;
  const { x, gamma, beta, mean, invstd, dy } = inputs as Record<'x' | 'gamma' | 'beta' | 'mean' | 'invstd' | 'dy', tf.TensorInfo>;
  const a = attrs as unknown as BatchNormDepthwiseAttrs & { filterShape: Shape4 };
  const info = geometry(x.shape as Shape4, a.filterShape, a);
  const dfilter = b.makeOutput(a.filterShape, 'float32');
  callFused(b, procnasKernels(b).bn_depthwise_backprop_filter, { x, mean, invstd, gamma, beta, read: dy, out: dfilter }, info, a.activation);
  return dfilter;
};

export const BATCH_NORM_DEPTHWISE_KERNELS: tf.KernelConfig[] = [
  { kernelName: BATCH_NORM_DEPTHWISE, backendName: 'wasm', kernelFunc: forward },
  { kernelName: BATCH_NORM_DEPTHWISE_FILTER_GRAD, backendName: 'wasm', kernelFunc: filterGrad },
];
