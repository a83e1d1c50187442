import { shuffledIndices } from './random.js';
import type { Prepared } from './types.js';

export interface Batch {
  x: Float32Array;
  y: Int32Array;
  count: number;
}

/**
 * One epoch of batches over a prepared set: in a new random order when `rng` is given, in order
 * otherwise; the last batch holds what is left. Every batch owns its arrays (copies), so a
 * consumer may change or transfer them freely. Bad arguments fail at the call, not at the first
 * iteration.
 */
export function batches(p: Prepared, batchSize: number, rng?: () => number): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batch size must be a whole number of at least 1, got ${batchSize}`);
  }
  if (p.count > 0 && p.x.length % p.count !== 0) {
    throw new RangeError(`x holds ${p.x.length} values, not a whole number per sample for ${p.count} samples`);
  }
  return epoch(p, batchSize, rng ? shuffledIndices(p.count, rng) : undefined);
}

function* epoch(p: Prepared, batchSize: number, order: Int32Array | undefined): Generator<Batch> {
  const size = p.count > 0 ? p.x.length / p.count : 0;
  for (let start = 0; start < p.count; start += batchSize) {
    const count = Math.min(batchSize, p.count - start);
    if (!order) {
      yield { x: p.x.slice(start * size, (start + count) * size), y: p.y.slice(start, start + count), count };
      continue;
    }
    const x = new Float32Array(count * size);
    const y = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      const i = order[start + k] as number;
      x.set(p.x.subarray(i * size, (i + 1) * size), k * size);
      y[k] = p.y[i] as number;
    }
    yield { x, y, count };
  }
}
