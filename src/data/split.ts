import { DatasetError } from './errors.js';
import { createRng, shuffledIndices } from './random.js';
import type { Dataset, ImageSet, Prepared, Splits } from './types.js';

export interface SplitOptions {
  /** Images of the training set held out for validation; default 10% of it, at most 5000. */
  validation?: number;
  /** Seed of the shuffle that picks the validation images (default 0). */
  seed?: number;
  /** Cap on the training images left after the validation split, and on the test images. */
  limit?: number;
}

/** Validation images at most by default, here and in a search: enough to rank candidates, quick to run. */
export const DEFAULT_VALIDATION_IMAGES = 2000;

/** 10% of the training set, rounded, at most 2000 (MNIST's 60,000 and CIFAR's 50,000 → 2000; 1,000 → 100). */
export function defaultValidationCount(trainCount: number): number {
  return Math.min(DEFAULT_VALIDATION_IMAGES, Math.round(trainCount * 0.1));
}

/**
 * Splits a dataset into train / validation / test and normalises all three with the per-channel
 * statistics of the training portion only (so nothing of the validation or test images leaks
 * into training). The validation images are picked by a seeded shuffle: the same seed gives the
 * same split. With a limit, the training images kept are a seeded random subset and the test
 * images are evenly spaced, so that a dataset sorted by class still gives every class.
 */
export function prepareSplits(dataset: Dataset, options: SplitOptions = {}): Splits {
  const trainCount = dataset.train.count;
  const validation = options.validation ?? defaultValidationCount(trainCount);
  if (!Number.isInteger(validation) || validation < 0 || validation >= trainCount) {
    throw new DatasetError(
      dataset.source,
      `validation must be a whole number from 0 to ${trainCount - 1} (the training set has ${trainCount} images), got ${validation}`,
    );
  }
  const limit = options.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new DatasetError(dataset.source, `limit must be a whole number of at least 1, got ${limit}`);
  }
  const order = shuffledIndices(trainCount, createRng(options.seed ?? 0));
  const trainEnd = limit === undefined ? trainCount : Math.min(trainCount, validation + limit);
  const indices = {
    train: sortedCopy(order.subarray(validation, trainEnd)),
    validation: sortedCopy(order.subarray(0, validation)),
    test: evenlySpaced(dataset.test.count, limit ?? dataset.test.count),
  };
  const { c } = dataset.shape;
  const size = dataset.shape.h * dataset.shape.w * c;
  const { mean, std } = channelStatistics(dataset.train.images, indices.train, size, c);
  const table = normalisationTable(mean, std);
  return {
    train: gather(dataset.train, indices.train, size, c, table),
    validation: gather(dataset.train, indices.validation, size, c, table),
    test: gather(dataset.test, indices.test, size, c, table),
    mean,
    std,
    shape: { ...dataset.shape },
    classes: dataset.classes,
    indices,
  };
}

/**
 * Mean and population standard deviation of each channel over the chosen images, on pixels
 * scaled to [0, 1]. A histogram of byte values makes this one cheap pass and exact. A constant
 * channel gets std 1 rather than 0, so that normalising it stays finite.
 */
export function channelStatistics(
  images: Uint8Array,
  indices: Int32Array,
  size: number,
  c: number,
): { mean: number[]; std: number[] } {
  // Uint32 counts: 4 billion pixels per channel is far beyond any dataset read whole in memory.
  const histogram = new Uint32Array(256 * c);
  for (let k = 0; k < indices.length; k++) {
    const from = (indices[k] as number) * size;
    for (let ch = 0; ch < c; ch++) {
      const bins = ch * 256;
      for (let j = from + ch; j < from + size; j += c) histogram[bins + (images[j] as number)]! += 1;
    }
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    let n = 0;
    let sum = 0;
    for (let v = 0; v < 256; v++) {
      const h = histogram[ch * 256 + v] as number;
      n += h;
      sum += h * (v / 255);
    }
    const m = n > 0 ? sum / n : 0;
    let squares = 0;
    for (let v = 0; v < 256; v++) squares += (histogram[ch * 256 + v] as number) * (v / 255 - m) ** 2;
    const s = n > 0 ? Math.sqrt(squares / n) : 0;
    mean.push(m);
    std.push(s > 0 ? s : 1);
  }
  return { mean, std };
}

/** The normalised value of every byte in every channel: one lookup per pixel, no arithmetic. */
function normalisationTable(mean: number[], std: number[]): Float32Array {
  const table = new Float32Array(256 * mean.length);
  for (let ch = 0; ch < mean.length; ch++) {
    for (let v = 0; v < 256; v++) table[ch * 256 + v] = (v / 255 - (mean[ch] as number)) / (std[ch] as number);
  }
  return table;
}

function gather(set: ImageSet, indices: Int32Array, size: number, c: number, table: Float32Array): Prepared {
  const x = new Float32Array(indices.length * size);
  const y = new Int32Array(indices.length);
  const images = set.images;
  for (let k = 0; k < indices.length; k++) {
    const index = indices[k] as number;
    y[k] = set.labels[index] as number;
    const from = index * size;
    const to = k * size;
    // One channel at a time, striding over the pixels: no loop nested per pixel.
    for (let ch = 0; ch < c; ch++) {
      const entries = ch * 256;
      for (let j = ch; j < size; j += c) x[to + j] = table[entries + (images[from + j] as number)] as number;
    }
  }
  return { x, y, count: indices.length };
}

function sortedCopy(indices: Int32Array): Int32Array {
  return Int32Array.from(indices).sort();
}

/** `take` indices spread evenly over 0 .. count-1 (all of them when take >= count). */
function evenlySpaced(count: number, take: number): Int32Array {
  const n = Math.min(count, take);
  const indices = new Int32Array(n);
  for (let i = 0; i < n; i++) indices[i] = Math.floor((i * count) / n);
  return indices;
}
