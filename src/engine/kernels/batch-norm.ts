/**
 * Kernels of training-mode batch norm (optionally fused with ReLU/ReLU6) for the WASM backend:
 * ProcnasBatchNormTrain (x, gamma, beta → y, mean, invstd, variance) and ProcnasBatchNormGrad
 * (dy, x, gamma, beta, mean, invstd → dx, dgamma, dbeta), backed by kernels/src/batch_norm.c.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../tf.js';
import { offsetOf, procnasKernels } from './module.js';

export const BATCH_NORM_TRAIN = 'ProcnasBatchNormTrain';
export const BATCH_NORM_GRAD = 'ProcnasBatchNormGrad';

/** Activation codes shared with batch_norm.c. */
export const FUSED_ACTIVATIONS = { none: 0, relu: 1, relu6: 2 } as const;
export type FusedActivation = keyof typeof FUSED_ACTIVATIONS;

export interface BatchNormAttrs {
  activation: FusedActivation;
  epsilon: number;
}

/** Per-channel double totals and float partial sums for the C kernels, freed right after the call. */
function withScratch<T>(b: BackendWasm, channels: number, body: (offset: number) => T): T {
  const scratch = b.makeOutput([8 * channels], 'float32');
  try {
    return body(offsetOf(b, scratch.dataId));
  } finally {
    b.disposeData(scratch.dataId);
  }
}

const train: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as BackendWasm;
  const { x, gamma, beta } = inputs as Record<'x' | 'gamma' | 'beta', tf.TensorInfo>;
  const { activation, epsilon } = attrs as unknown as BatchNormAttrs;
  const channels = x.shape[x.shape.length - 1] as number;
  const rows = tf.util.sizeFromShape(x.shape) / channels;
  const y = b.makeOutput(x.shape, 'float32');
  const mean = b.makeOutput([channels], 'float32');
  const invstd = b.makeOutput([channels], 'float32');
  const variance = b.makeOutput([channels], 'float32');
  const k = procnasKernels(b);
  const [px, pm, pi] = [offsetOf(b, x.dataId), offsetOf(b, mean.dataId), offsetOf(b, invstd.dataId)];
  withScratch(b, channels, (scratch) => k.bn_statistics(px, pm, pi, offsetOf(b, variance.dataId), scratch, rows, channels, epsilon));
  k.bn_apply(px, pm, pi, offsetOf(b, gamma.dataId), offsetOf(b, beta.dataId), offsetOf(b, y.dataId), rows, channels, FUSED_ACTIVATIONS[activation]);
  return [y, mean, invstd, variance];
};

const grad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as BackendWasm;
  const { dy, x, gamma, beta, mean, invstd } = inputs as Record<'dy' | 'x' | 'gamma' | 'beta' | 'mean' | 'invstd', tf.TensorInfo>;
  const { activation } = attrs as unknown as BatchNormAttrs;
  const channels = x.shape[x.shape.length - 1] as number;
  const rows = tf.util.sizeFromShape(x.shape) / channels;
  const dx = b.makeOutput(x.shape, 'float32');
  const dgamma = b.makeOutput([channels], 'float32');
  const dbeta = b.makeOutput([channels], 'float32');
  const o = (t: tf.TensorInfo): number => offsetOf(b, t.dataId);
  withScratch(b, channels, (scratch) =>
    procnasKernels(b).bn_backward(
      o(dy), o(x), o(mean), o(invstd), o(gamma), o(beta), o(dx), o(dgamma), o(dbeta), scratch, rows, channels,
      FUSED_ACTIVATIONS[activation],
    ),
  );
  return [dx, dgamma, dbeta];
};

export const BATCH_NORM_KERNELS: tf.KernelConfig[] = [
  { kernelName: BATCH_NORM_TRAIN, backendName: 'wasm', kernelFunc: train },
  { kernelName: BATCH_NORM_GRAD, backendName: 'wasm', kernelFunc: grad },
];
