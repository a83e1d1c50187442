/** Image height, width and channels; images are stored channels last (NHWC). */
export interface ImageShape {
  h: number;
  w: number;
  c: number;
}

/** Raw images as stored on disk: `count` images of h*w*c bytes each, NHWC, and one label each. */
export interface ImageSet {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface Dataset {
  name: string;
  shape: ImageShape;
  /** Labels go from 0 to classes - 1. */
  classes: number;
  train: ImageSet;
  test: ImageSet;
  /** Where the data was read from (a folder), for logs and the experiment store. */
  source: string;
}

/** Images normalised to float32 (NHWC), with labels as int32, ready for an ML engine. */
export interface Prepared {
  x: Float32Array;
  y: Int32Array;
  count: number;
}

export interface Splits {
  train: Prepared;
  validation: Prepared;
  test: Prepared;
  /** Per-channel mean and standard deviation of the training portion, on pixels scaled to [0, 1]. */
  mean: number[];
  std: number[];
  shape: ImageShape;
  classes: number;
  /** Which images each part took: indices into dataset.train (train, validation) and dataset.test. */
  indices: { train: Int32Array; validation: Int32Array; test: Int32Array };
}
