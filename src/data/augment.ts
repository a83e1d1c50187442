import type { ImageShape } from './types.js';

export interface AugmentOptions {
  /** Padding on every side before the random crop back to h x w (default 4, as for CIFAR). */
  pad?: number;
  /** Mirror left-right with probability 1/2 (default true). */
  flip?: boolean;
}

/**
 * The standard CIFAR augmentation on a batch of normalised NHWC images: pad by `pad` with zeros,
 * crop h x w at a random offset, and mirror half of the images. Zero is the mean after
 * normalisation, so the padding is the mean colour. Returns a new array; the input is untouched.
 * Draws three numbers per image from `rng` (row offset, column offset, flip), even when pad is 0.
 */
export function augmentBatch(
  x: Float32Array,
  count: number,
  shape: ImageShape,
  rng: () => number,
  options: AugmentOptions = {},
): Float32Array {
  const pad = options.pad ?? 4;
  const flip = options.flip ?? true;
  const { h, w, c } = shape;
  const size = h * w * c;
  if (!Number.isInteger(pad) || pad < 0) throw new RangeError(`pad must be a whole number of at least 0, got ${pad}`);
  if (count * size > x.length) {
    throw new RangeError(`x holds ${x.length} values, fewer than ${count} images of ${h}x${w}x${c}`);
  }
  const out = new Float32Array(count * size);
  for (let n = 0; n < count; n++) {
    const dy = Math.floor(rng() * (2 * pad + 1)) - pad;
    const dx = Math.floor(rng() * (2 * pad + 1)) - pad;
    const mirrored = flip && rng() < 0.5;
    const image = n * size;
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= h) continue; // the row falls in the padding: stays zero
      for (let col = 0; col < w; col++) {
        const sx = (mirrored ? w - 1 - col : col) + dx;
        if (sx < 0 || sx >= w) continue;
        const to = image + (y * w + col) * c;
        const from = image + (sy * w + sx) * c;
        for (let ch = 0; ch < c; ch++) out[to + ch] = x[from + ch] as number;
      }
    }
  }
  return out;
}
