/**
 * Kernels of the per-step state updates for the WASM backend, backed by kernels/src/update.c:
 * ProcnasSgdMomentum (w, g, buffer → w', buffer') and ProcnasMovingAverage (average, sample →
 * average'). Each is one pass where TF.js ops would be a chain of element-wise kernels, each
 * dispatched and allocated: hundreds a step for a small network's variables.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../tf.js';
import { offsetOf, procnasKernels } from './module.js';

export const SGD_MOMENTUM = 'ProcnasSgdMomentum';
export const MOVING_AVERAGE = 'ProcnasMovingAverage';

export interface SgdMomentumAttrs {
  rate: number;
  momentum: number;
  decay: number;
  /** The first step takes the gradient as the buffer (PyTorch's rule); `buffer` is not read. */
  first: boolean;
}

export interface MovingAverageAttrs {
  /** average' = keep · average + (1 − keep) · scale · sample */
  keep: number;
  scale: number;
}

const sgdMomentum: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as BackendWasm;
  const { w, g, buffer } = inputs as Record<'w' | 'g' | 'buffer', tf.TensorInfo>;
  const { rate, momentum, decay, first } = attrs as unknown as SgdMomentumAttrs;
  const wOut = b.makeOutput(w.shape, 'float32');
  const bufferOut = b.makeOutput(w.shape, 'float32');
  const o = (t: tf.TensorInfo): number => offsetOf(b, t.dataId);
  procnasKernels(b).sgd_momentum(o(w), o(g), o(buffer), o(wOut), o(bufferOut), tf.util.sizeFromShape(w.shape), rate, momentum, decay, first ? 1 : 0);
  return [wOut, bufferOut];
};

const movingAverage: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as BackendWasm;
  const { average, sample } = inputs as Record<'average' | 'sample', tf.TensorInfo>;
  const { keep, scale } = attrs as unknown as MovingAverageAttrs;
  const out = b.makeOutput(average.shape, 'float32');
  procnasKernels(b).moving_average(offsetOf(b, average.dataId), offsetOf(b, sample.dataId), offsetOf(b, out.dataId), tf.util.sizeFromShape(average.shape), keep, scale);
  return out;
};

export const UPDATE_KERNELS: tf.KernelConfig[] = [
  { kernelName: SGD_MOMENTUM, backendName: 'wasm', kernelFunc: sgdMomentum },
  { kernelName: MOVING_AVERAGE, backendName: 'wasm', kernelFunc: movingAverage },
];
