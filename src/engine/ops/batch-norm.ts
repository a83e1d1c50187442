/**
 * Training-mode batch norm with an optional fused ReLU/ReLU6. On the WASM backend it runs
 * procnas's two-pass kernels with a custom gradient; elsewhere it composes TF.js's own ops
 * (which is also the reference the kernels are checked against).
 */
import { BATCH_NORM_GRAD, BATCH_NORM_TRAIN } from '../kernels/batch-norm.js';
import { BATCH_NORM_DEPTHWISE, BATCH_NORM_DEPTHWISE_FILTER_GRAD } from '../kernels/batch-norm-depthwise.js';
import type { BatchNormDepthwiseAttrs, ExplicitPadding } from '../kernels/batch-norm-depthwise.js';
import type { FusedActivation } from '../kernels/batch-norm.js';
import { tf } from '../tf.js';

/** Receives the batch mean and biased variance per channel (to update running statistics). */
export type StatisticsSink = (mean: tf.Tensor1D, variance: tf.Tensor1D) => void;

function activate(z: tf.Tensor4D, activation: FusedActivation): tf.Tensor4D {
  return activation === 'relu' ? tf.relu(z) : activation === 'relu6' ? tf.relu6(z) : z;
}

export function batchNormTrain(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  activation: FusedActivation,
  epsilon: number,
  onStatistics: StatisticsSink,
): tf.Tensor4D {
  if (tf.getBackend() !== 'wasm') {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    onStatistics(mean as tf.Tensor1D, variance as tf.Tensor1D);
    return activate(tf.batchNorm(x, mean as tf.Tensor1D, variance as tf.Tensor1D, beta, gamma, epsilon), activation);
  }
  const attrs = { activation, epsilon } as unknown as tf.NamedAttrMap;
  const fused = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xs, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [y, mean, invstd, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x: xs, gamma: g, beta: b }, attrs) as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    // The statistics live only inside this scope: hand them over now.
    onStatistics(mean, variance);
    save([xs, g, b, mean, invstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sg, sb, sm, si] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return tf.engine().runKernel(BATCH_NORM_GRAD, { dy: dy as tf.Tensor, x: sx, gamma: sg, beta: sb, mean: sm, invstd: si }, attrs) as tf.Tensor[];
      },
    };
  });
  return fused(x, gamma, beta) as tf.Tensor4D;
}

/**
 * depthwiseConv2d(act(batchNorm(x)), filter) in training mode, the batch norm's output never
 * materialised on the WASM backend (kernels/batch-norm-depthwise.ts): its custom gradient takes
 * the convolution's input gradient with the stock kernel, the filter gradient from the input
 * normalised on the fly, and the batch norm's gradients from the first. Elsewhere, the two ops
 * composed. The caller checks `fusesWithDepthwise` (at most 3x3 taps, multiplier 1, dilation 1).
 */
export function batchNormDepthwiseTrain(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  filter: tf.Tensor4D,
  activation: FusedActivation,
  epsilon: number,
  stride: number,
  pad: ExplicitPadding,
  onStatistics: StatisticsSink,
): tf.Tensor4D {
  if (tf.getBackend() !== 'wasm') {
    return tf.depthwiseConv2d(batchNormTrain(x, gamma, beta, activation, epsilon, onStatistics), filter, stride, pad, 'NHWC');
  }
  const attrs: BatchNormDepthwiseAttrs = { activation, epsilon, stride, pad };
  const fused = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xs, g, b, f, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [y, mean, invstd, variance] = tf.engine().runKernel(BATCH_NORM_DEPTHWISE, { x: xs, gamma: g, beta: b, filter: f }, attrs as unknown as tf.NamedAttrMap) as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    onStatistics(mean, variance);
    save([xs, g, b, f, mean, invstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sg, sb, sf, sm, si] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor4D, tf.Tensor, tf.Tensor];
        const dy2 = dy as tf.Tensor;
        const convAttrs = { strides: stride, pad, dilations: 1, inputShape: sx.shape } as unknown as tf.NamedAttrMap;
        // The gradient at the batch norm's output, which the forward pass never wrote.
        const dNormalised = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dy2, filter: sf }, convAttrs) as tf.Tensor;
        const dFilter = tf.engine().runKernel(BATCH_NORM_DEPTHWISE_FILTER_GRAD, { x: sx, gamma: sg, beta: sb, mean: sm, invstd: si, dy: dy2 }, { ...attrs, filterShape: sf.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
        const [dx, dGamma, dBeta] = tf.engine().runKernel(BATCH_NORM_GRAD, { dy: dNormalised, x: sx, gamma: sg, beta: sb, mean: sm, invstd: si }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        dNormalised.dispose();
        return [dx as tf.Tensor, dGamma as tf.Tensor, dBeta as tf.Tensor, dFilter];
      },
    };
  });
  return fused(x, gamma, beta, filter) as tf.Tensor4D;
}
