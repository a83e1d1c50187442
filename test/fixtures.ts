/** Small datasets the tests write for themselves. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const idx = (dims: number[], data: Uint8Array): Buffer => {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt8(0x08, 2);
  header.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
};

/** Writes an IDX dataset of 8x8 images, 400 to train and 100 to test, pixel p of image i of class `label` given by `pixel`. */
function writeIdx(dir: string, pixel: (i: number, p: number, label: number) => number): void {
  const set = (count: number, prefix: string): void => {
    const images = new Uint8Array(count * 64);
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      labels[i] = i % 2;
      for (let p = 0; p < 64; p++) images[i * 64 + p] = pixel(i + (prefix === 'train' ? 0 : 10_000), p, labels[i] as number);
    }
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), idx([count, 8, 8], images));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), idx([count], labels));
  };
  set(400, 'train');
  set(100, 't10k');
}

/** Writes an IDX dataset of 8x8 images: class 0 bright on top, class 1 bright at the bottom. */
export function writeHalvesIdx(dir: string): void {
  writeIdx(dir, (i, p, label) => ((p < 32) === (label === 0) ? 200 + (((i % 10_000) * 7 + p) % 50) : ((i % 10_000) * 13 + p) % 50));
}

/** As writeHalvesIdx, but the bright half is only a little brighter, under strong noise: a short training errs. */
export function writeFaintHalvesIdx(dir: string): void {
  const noise = (i: number, p: number): number => ((i * 2654435761 + p * 40503) >>> 0) % 200;
  writeIdx(dir, (i, p, label) => noise(i, p) + ((p < 32) === (label === 0) ? 30 : 0));
}


/** Deterministic values in [-1, 1). */
export function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Largest absolute difference relative to the largest reference magnitude. */
export function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return diff / scale;
}

/** The halves task's architecture: one MBConv stage on 8x8 images, two classes. */
export const HALVES_INITIAL = { name: 'halves', input: '8x8x1', classes: 2, stem: ['cn_k3_c8'], stages: [['ir_k3_s2_e2_c8']], head: ['gap', 'fc'] };

/** A trained search's configuration on the halves task of `dir` (see writeHalvesIdx): tiny trainings on two wasm workers; `over` replaces whole keys. */
export function halvesSearch(dir: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  // Every candidate trains (prune: false): on this easy task errors reach 0, and a candidate costlier than the best could not win.
  return { dataset: `idx:${dir}`, initial: HALVES_INITIAL, training: { epochs: 1, batch: 32, validation: 100, limit: 200 }, workers: 2, backend: 'wasm', prune: false, ...over };
}
