/**
 * Training-mode batch norm with an optional fused ReLU/ReLU6. On the WASM backend it runs
 * procnas's two-pass kernels with a custom gradient; elsewhere it composes TF.js's own ops
 * (which is also the reference the kernels are checked against).
 */
import { BATCH_NORM_GRAD, BATCH_NORM_TRAIN } from '../kernels/batch-norm.js';
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
