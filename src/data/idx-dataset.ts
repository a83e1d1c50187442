import { basename, resolve } from 'node:path';
import { DatasetError } from './errors.js';
import { findPlainOrGzipped, requireFolder } from './folders.js';
import { readIdx } from './idx.js';
import type { Dataset, ImageSet, ImageShape } from './types.js';

/** The file names of MNIST and of every dataset that copies its layout (Fashion-MNIST, KMNIST...). */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

interface LabelledImages {
  set: ImageSet;
  shape: ImageShape;
  imagesFile: string;
  labelsFile: string;
}

/**
 * Reads an MNIST-layout folder: the four IDX files, each plain or gzipped. The number of classes
 * is the largest training label + 1 (at least 2); a test label outside that range is an error,
 * since a model trained on these classes could never predict it.
 */
export function readIdxDataset(dir: string, name: string = basename(resolve(dir))): Dataset {
  requireFolder(dir);
  const train = readLabelledImages(dir, IDX_FILES.trainImages, IDX_FILES.trainLabels);
  const test = readLabelledImages(dir, IDX_FILES.testImages, IDX_FILES.testLabels);
  if (test.shape.h !== train.shape.h || test.shape.w !== train.shape.w || test.shape.c !== train.shape.c) {
    throw new DatasetError(
      test.imagesFile,
      `images are ${describeShape(test.shape)} but the training images in ${train.imagesFile} are ${describeShape(train.shape)}`,
    );
  }
  const classes = Math.max(2, maxOf(train.set.labels) + 1);
  const outOfRange = firstIndexAtLeast(test.set.labels, classes);
  if (outOfRange >= 0) {
    throw new DatasetError(
      test.labelsFile,
      `label ${String(test.set.labels[outOfRange])} at index ${outOfRange} is out of range: the training labels give ${classes} classes (0 to ${classes - 1})`,
    );
  }
  return { name, shape: train.shape, classes, train: train.set, test: test.set, source: dir };
}

function readLabelledImages(dir: string, imagesName: string, labelsName: string): LabelledImages {
  const imagesFile = findPlainOrGzipped(dir, imagesName);
  const labelsFile = findPlainOrGzipped(dir, labelsName);
  const images = readIdx(imagesFile);
  const labels = readIdx(labelsFile);
  // idx3 is (count, height, width); a 4th dimension, if any, is channels (already channels last).
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new DatasetError(imagesFile, `expected 3 dimensions (count, height, width), got ${images.dims.length} (${images.dims.join('x')})`);
  }
  if (labels.dims.length !== 1) {
    throw new DatasetError(labelsFile, `expected 1 dimension (count), got ${labels.dims.length} (${labels.dims.join('x')})`);
  }
  const [count = 0, h = 0, w = 0, c = 1] = images.dims;
  const labelCount = labels.dims[0] as number;
  if (labelCount !== count) {
    throw new DatasetError(labelsFile, `holds ${labelCount} labels but ${imagesFile} holds ${count} images`);
  }
  if (count === 0) throw new DatasetError(imagesFile, 'holds no images');
  return { set: { images: images.data, labels: labels.data, count }, shape: { h, w, c }, imagesFile, labelsFile };
}

function describeShape(shape: ImageShape): string {
  return `${shape.h}x${shape.w}x${shape.c}`;
}

function maxOf(values: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if ((values[i] as number) > max) max = values[i] as number;
  return max;
}

function firstIndexAtLeast(values: Uint8Array, limit: number): number {
  for (let i = 0; i < values.length; i++) if ((values[i] as number) >= limit) return i;
  return -1;
}
