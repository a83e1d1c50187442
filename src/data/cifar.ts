import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readMaybeGzipped } from './bytes.js';
import { DatasetError } from './errors.js';
import { requireFolder } from './folders.js';
import type { Dataset, ImageSet } from './types.js';

export type CifarVariant = 'cifar10' | 'cifar100';

const SIDE = 32;
const PLANE = SIDE * SIDE;
const PIXELS = PLANE * 3;

interface CifarLayout {
  /** Label bytes before the pixels of each record; the last one is the label used. */
  labelBytes: number;
  classes: number;
  trainFiles: string[];
  testFile: string;
  /** The folder the official archive unpacks to, looked into when `dir` is its parent. */
  archiveFolder: string;
  describe: string;
}

const LAYOUTS: Record<CifarVariant, CifarLayout> = {
  cifar10: {
    labelBytes: 1,
    classes: 10,
    trainFiles: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
    testFile: 'test_batch.bin',
    archiveFolder: 'cifar-10-batches-bin',
    describe: '1 label byte + 3072 pixel bytes',
  },
  cifar100: {
    labelBytes: 2,
    classes: 100,
    trainFiles: ['train.bin'],
    testFile: 'test.bin',
    archiveFolder: 'cifar-100-binary',
    describe: 'coarse label byte + fine label byte + 3072 pixel bytes',
  },
};

/** CIFAR-100 coarse labels (superclasses) go from 0 to 19; checked as a sanity test of the file. */
const CIFAR100_COARSE_CLASSES = 20;

/**
 * Reads the binary version of CIFAR-10 (data_batch_1..5.bin, test_batch.bin) or CIFAR-100
 * (train.bin, test.bin; the fine label is used). `dir` is the folder of the .bin files or the one
 * the archive was unpacked in. Pixels are stored per channel (CHW); they are returned channels
 * last (HWC) like every other dataset here.
 */
export function readCifarDataset(dir: string, variant: CifarVariant): Dataset {
  const layout = LAYOUTS[variant];
  const folder = locateCifarFolder(dir, layout);
  const train = readRecords(
    layout.trainFiles.map((f) => join(folder, f)),
    layout,
  );
  const test = readRecords([join(folder, layout.testFile)], layout);
  return { name: variant, shape: { h: SIDE, w: SIDE, c: 3 }, classes: layout.classes, train, test, source: folder };
}

function locateCifarFolder(dir: string, layout: CifarLayout): string {
  requireFolder(dir);
  const first = layout.trainFiles[0] as string;
  if (!existsSync(join(dir, first)) && existsSync(join(dir, layout.archiveFolder, first))) {
    return join(dir, layout.archiveFolder);
  }
  return dir;
}

function readRecords(files: string[], layout: CifarLayout): ImageSet {
  const recordBytes = layout.labelBytes + PIXELS;
  const contents = files.map((file) => {
    const { bytes, gzipped } = readMaybeGzipped(file);
    const size = `${bytes.length} bytes${gzipped ? ' after decompression' : ''}`;
    if (bytes.length % recordBytes !== 0) {
      throw new DatasetError(file, `size ${size} is not a whole number of ${recordBytes}-byte records (${layout.describe})`);
    }
    if (bytes.length === 0) throw new DatasetError(file, 'holds no records');
    return { file, bytes };
  });
  // One allocation for all batches: CIFAR-10 train is 150 MB, no room for intermediate copies.
  const count = contents.reduce((sum, c) => sum + c.bytes.length / recordBytes, 0);
  const images = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let first = 0;
  for (const { file, bytes } of contents) {
    const records = bytes.length / recordBytes;
    checkLabels(file, bytes, records, layout);
    for (let r = 0; r < records; r++) {
      const record = r * recordBytes;
      labels[first + r] = bytes[record + layout.labelBytes - 1] as number;
      chwToHwc(bytes, record + layout.labelBytes, images, (first + r) * PIXELS);
    }
    first += records;
  }
  return { images, labels, count };
}

function checkLabels(file: string, bytes: Uint8Array, records: number, layout: CifarLayout): void {
  const recordBytes = layout.labelBytes + PIXELS;
  for (let r = 0; r < records; r++) {
    const label = bytes[r * recordBytes + layout.labelBytes - 1] as number;
    if (label >= layout.classes) {
      throw new DatasetError(file, `record ${r}: label ${label} is out of range (expected 0 to ${layout.classes - 1})`);
    }
    if (layout.labelBytes === 2) {
      const coarse = bytes[r * recordBytes] as number;
      if (coarse >= CIFAR100_COARSE_CLASSES) {
        throw new DatasetError(file, `record ${r}: coarse label ${coarse} is out of range (expected 0 to ${CIFAR100_COARSE_CLASSES - 1})`);
      }
    }
  }
}

/** Copies one 32x32x3 image from planes (R plane, G plane, B plane) to interleaved pixels. */
function chwToHwc(source: Uint8Array, from: number, target: Uint8Array, to: number): void {
  for (let p = 0; p < PLANE; p++) {
    const out = to + p * 3;
    target[out] = source[from + p] as number;
    target[out + 1] = source[from + PLANE + p] as number;
    target[out + 2] = source[from + 2 * PLANE + p] as number;
  }
}
