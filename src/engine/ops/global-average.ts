/**
 * Global average pooling, [n, h, w, c] → [n, 1, 1, c], with a gradient that spreads dy over the
 * image as a broadcast product with a tensor filled with 1 / (h·w) by the backend. TF.js's own
 * gradient of `mean` builds its tensor of ones in JavaScript and uploads it at every step, then
 * multiplies and divides; the WASM backend's Tile kernel, the other way to spread, took 7.7 ms
 * on the MNIST net's [64, 7, 7, 48] (a fifth of a training step).
 */
import { tf } from '../tf.js';

export function globalAverage(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const pool = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const xs = args[0] as tf.Tensor4D;
    return {
      value: tf.mean(xs, [1, 2], true),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.mul(tf.fill([n, h, w, c], 1 / (h * w)), dy as tf.Tensor4D),
    };
  });
  return pool(x) as tf.Tensor4D;
}
