/**
 * How raw images become a model's input, recorded in every trained export (metadata
 * `preprocessing`, JSON), so that a model can be fed without procnas: a user who guessed the
 * usual MNIST statistics got 86.05% where the search reported 89.33%.
 */
export interface Preprocessing {
  /** The input tensor's layout: NCHW for ONNX, NHWC for TF.js. */
  layout: 'NCHW' | 'NHWC';
  /** The input's shape without the batch, in that layout. */
  shape: number[];
  /** input = (pixel * scale - mean[channel]) / std[channel], for pixels from 0 to 255. */
  scale: number;
  mean: number[];
  std: number[];
  /** The class each logit stands for, by index. */
  labels: string[];
}

/** The preprocessing of a model trained on images of `input` normalised by `statistics`. */
export function preprocessingOf(
  layout: Preprocessing['layout'],
  input: { h: number; w: number; c: number },
  statistics: { mean: number[]; std: number[] },
  labels: string[],
): Preprocessing {
  const { h, w, c } = input;
  return { layout, shape: layout === 'NCHW' ? [c, h, w] : [h, w, c], scale: 1 / 255, mean: [...statistics.mean], std: [...statistics.std], labels };
}
