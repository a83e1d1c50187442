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

/**
 * A finished NAS-Bench-201 run of `count` trials in `dir`, made fast: a real table search of one
 * trial writes the store (configuration, processor, the initial), then the other trials, every
 * one a different cell, are costed by the cost model and stored as a search would store them;
 * their errors are made up (deterministic). For the dashboard's tests and benchmark at scale.
 */
export async function writeLargeRun(dir: string, count: number, table: string): Promise<void> {
  const { parseSearchConfig } = await import('../src/experiment/config.js');
  const { runExperiment } = await import('../src/experiment/run.js');
  const { ExperimentStore } = await import('../src/experiment/store.js');
  const { STORE_FILE } = await import('../src/experiment/folder.js');
  const { estimateArchitectureCost } = await import('../src/cost/index.js');
  const { costFigures, referenceOf } = await import('../src/search/index.js');
  const { builtinArchitecture, notationOf, printNb201String } = await import('../src/space/index.js');
  const { presetProcessor } = await import('../src/processor/index.js');
  const dense = 'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';
  const config = parseSearchConfig({ initial: dense, evaluator: { kind: 'nb201-table', table }, strategy: 'random', seed: 0, stop: { maxEvals: 1 }, workers: 1 });
  await runExperiment(config, dir, false);
  const store = new ExperimentStore(join(dir, STORE_FILE), 'resume');
  const processor = presetProcessor(config.processor);
  if (!processor) throw new Error(`${config.processor}: not a preset`);
  const initial = store.trials()[0];
  if (!initial) throw new Error('the one-trial search stored no trial');
  const reference = referenceOf(initial.cost);
  let state = 12345;
  const random = (): number => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let index = 1; index < count; index++) {
    // Cells in an order that is not the table's, none twice (15,625 of them).
    const digits = ((index * 7919) % 15625).toString(5).padStart(6, '0');
    const architecture = builtinArchitecture(`nb201:${printNb201String(digits)}`);
    if (!architecture) throw new Error(digits);
    const cost = costFigures(estimateArchitectureCost(architecture, processor, { mode: config.cost.mode, batch: config.cost.batch }));
    const error = 0.05 + 0.3 * random() ** 3;
    const loss = error + 0.1 * (cost.dramTimeS / reference.dramTimeS) + 0.1 * (cost.dramEnergyJ / reference.dramEnergyJ);
    store.addTrial({ index, key: notationOf(architecture), architecture, status: 'done', error, loss, cost, evaluationS: 0.001 }, 0);
  }
  store.close();
}
