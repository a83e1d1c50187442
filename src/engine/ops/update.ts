/**
 * Per-step state updates: SGD with momentum and an exponential moving average. On the WASM
 * backend each is one of procnas's kernels (kernels/update.ts); elsewhere TF.js's own ops compose
 * it (which is also the reference the kernels are checked against).
 */
import { MOVING_AVERAGE, SGD_MOMENTUM } from '../kernels/update.js';
import type { MovingAverageAttrs, SgdMomentumAttrs } from '../kernels/update.js';
import { tf } from '../tf.js';

/** PyTorch's SGD step with momentum and L2 decay: the new weights and momentum buffer. */
export function sgdMomentum(w: tf.Tensor, g: tf.Tensor, buffer: tf.Tensor, attrs: SgdMomentumAttrs): [tf.Tensor, tf.Tensor] {
  if (tf.getBackend() === 'wasm') {
    return tf.engine().runKernel(SGD_MOMENTUM, { w, g, buffer }, attrs as unknown as tf.NamedAttrMap) as [tf.Tensor, tf.Tensor];
  }
  return tf.tidy(() => {
    const decayed = attrs.decay > 0 ? g.add(w.mul(attrs.decay)) : g;
    const next = attrs.first ? decayed : buffer.mul(attrs.momentum).add(decayed);
    return [w.sub(next.mul(attrs.rate)), next];
  });
}

/** keep · average + (1 − keep) · scale · sample. */
export function movingAverage(average: tf.Tensor, sample: tf.Tensor, attrs: MovingAverageAttrs): tf.Tensor {
  if (tf.getBackend() === 'wasm') {
    return tf.engine().runKernel(MOVING_AVERAGE, { average, sample }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  return tf.tidy(() => average.mul(attrs.keep).add(sample.mul((1 - attrs.keep) * attrs.scale)));
}
