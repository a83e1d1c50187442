import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createRng } from '../src/data/random.js';
import { morph } from '../src/engine/morph.js';
import type { AxisRole } from '../src/engine/morph.js';

const tensor = (shape: number[], seed: number) => {
  const random = createRng(seed);
  const size = shape.reduce((n, d) => n * d, 1);
  return { shape, values: Float32Array.from({ length: size }, () => random() * 2 - 1) };
};

describe('morph: a trained variable reshaped to a child\'s shape', () => {
  it('copies a variable of the same shape as it is', () => {
    const source = tensor([3, 3, 4, 5], 1);
    assert.deepEqual(morph(source, [3, 3, 4, 5], ['spatial', 'spatial', 'in', 'out'], createRng(2)), source.values);
  });

  it('a wider output axis repeats the channels: channel j is channel j mod n', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 4 }), (n, more, rows) => {
        const m = n + more;
        const source = tensor([rows, n], n * 31 + rows);
        const out = morph(source, [rows, m], ['in', 'out'], createRng(3)) as Float32Array;
        for (let r = 0; r < rows; r++) for (let j = 0; j < m; j++) assert.equal(out[r * m + j], source.values[r * n + (j % n)], `row ${r} channel ${j}`);
      }),
    );
  });

  it('a wider input axis splits each channel\'s weight among its copies: positive shares that add up to it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 4 }), fc.integer(), (n, more, cols, seed) => {
        const m = n + more;
        const source = tensor([n, cols], seed);
        const out = morph(source, [m, cols], ['in', 'out'], createRng(seed)) as Float32Array;
        for (let c = 0; c < cols; c++)
          for (let i = 0; i < n; i++) {
            let sum = 0;
            for (let j = i; j < m; j += n) {
              const share = (out[j * cols + c] as number) / (source.values[i * cols + c] as number);
              assert.ok(share > 0 && share <= 1, `share ${share}`);
              sum += out[j * cols + c] as number;
            }
            assert.ok(Math.abs(sum - (source.values[i * cols + c] as number)) < 1e-5, `channel ${i}: ${sum} against ${source.values[i * cols + c]}`);
          }
      }),
    );
  });

  it('the shares are uneven, so that copies part ways in training', () => {
    const source = { shape: [1, 1], values: Float32Array.of(1) };
    const out = morph(source, [4, 1], ['in', 'out'], createRng(5)) as Float32Array;
    assert.ok(new Set(out).size === 4, `shares ${Array.from(out).join(', ')}`);
  });

  it('a narrower axis keeps the first channels, of input and output alike', () => {
    const source = tensor([6, 5], 7);
    const out = morph(source, [4, 3], ['in', 'out'], createRng(1)) as Float32Array;
    for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) assert.equal(out[i * 3 + j], source.values[i * 5 + j]);
  });

  it('a kernel grows by zeros around it and shrinks to its centre: shrinking what grew gives it back', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 3, 5), fc.constantFrom(0, 2, 4), fc.integer({ min: 1, max: 3 }), (k, grow, c) => {
        const source = tensor([k, k, c, 1], k * 10 + c);
        const roles: AxisRole[] = ['spatial', 'spatial', 'out', 'fixed'];
        const big = morph(source, [k + grow, k + grow, c, 1], roles, createRng(1)) as Float32Array;
        const K = k + grow;
        let nonzero = 0;
        for (let i = 0; i < big.length; i++) if (big[i] !== 0) nonzero++;
        assert.equal(nonzero, source.values.filter((v) => v !== 0).length, 'only the centre is not zero');
        for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) for (let ch = 0; ch < c; ch++) assert.equal(big[((y + grow / 2) * K + x + grow / 2) * c + ch], source.values[(y * k + x) * c + ch]);
        assert.deepEqual(morph({ shape: [K, K, c, 1], values: big }, [k, k, c, 1], roles, createRng(1)), source.values);
      }),
    );
  });

  it('refuses what has no meaning: a fixed axis of another size, an odd kernel difference, another rank', () => {
    const source = tensor([3, 3, 4, 1], 1);
    assert.equal(morph(source, [3, 3, 4, 2], ['spatial', 'spatial', 'out', 'fixed'], createRng(1)), undefined, 'a depthwise multiplier');
    assert.equal(morph(source, [4, 4, 4, 1], ['spatial', 'spatial', 'out', 'fixed'], createRng(1)), undefined, 'a 4x4 kernel from a 3x3 one');
    assert.equal(morph(source, [3, 3, 4], ['spatial', 'spatial', 'out'], createRng(1)), undefined, 'another rank');
  });
});
