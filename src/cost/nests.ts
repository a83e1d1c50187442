/**
 * The loop nests of a sliding-window layer (convolution, pooling, dense): the forward pass, and
 * in training the input gradient (a transposed convolution from the output gradient) and the
 * weight gradient (reduced over batch, rows and columns).
 */
import type { Geometry } from './analysis.js';
import { LOOP_C, LOOP_K, LOOP_X } from './mapping.js';
import type { LoopNest, Operand } from './mapping.js';

/** Element sizes of one mode: data in DRAM, and partial sums while a reduction is split. */
export interface Precision {
  bytes: number;
  partialBytes: number;
}

function extents(g: Geometry, batch: number) {
  return { n: batch, g: g.groups, k: g.co / g.groups, c: g.ci / g.groups, kernelArea: g.kernelArea, kernel: g.span, stride: g.stride, pad: g.pad };
}

/** The forward pass; `weightsFromFlash`: its weights are read from flash (executed in place). */
export function forwardNest(g: Geometry, batch: number, x: Precision, computeS: number, weightsFromFlash = false): LoopNest {
  const operands: [Operand, Operand, Operand] = [
    { name: 'input', relevance: LOOP_C | LOOP_X, bytes: x.bytes, window: 'forward' },
    { name: 'weights', relevance: LOOP_K | LOOP_C, bytes: x.bytes, ...(weightsFromFlash ? { flash: true } : {}) },
    { name: 'output', relevance: LOOP_K | LOOP_X, bytes: x.bytes, accumulated: { partialBytes: x.partialBytes } },
  ];
  return { pass: 'forward', ...extents(g, batch), p: g.ho, q: g.wo, rows: g.hi, cols: g.wi, operands, computeS };
}

/** The input gradient: the output gradient through the transposed window, summed over output channels. */
export function inputGradientNest(g: Geometry, batch: number, x: Precision, computeS: number): LoopNest {
  const operands: [Operand, Operand, Operand] = [
    { name: 'output gradient', relevance: LOOP_K | LOOP_X, bytes: x.bytes, window: 'transposed' },
    { name: 'weights', relevance: LOOP_K | LOOP_C, bytes: x.bytes },
    { name: 'input gradient', relevance: LOOP_C | LOOP_X, bytes: x.bytes, accumulated: { partialBytes: x.partialBytes } },
  ];
  return { pass: 'input-gradient', ...extents(g, batch), p: g.hi, q: g.wi, rows: g.ho, cols: g.wo, operands, computeS };
}

/** The weight gradient: input windows times output gradients, summed over the batch and every output position. */
export function weightGradientNest(g: Geometry, batch: number, x: Precision, computeS: number): LoopNest {
  const operands: [Operand, Operand, Operand] = [
    { name: 'input', relevance: LOOP_C | LOOP_X, bytes: x.bytes, window: 'forward' },
    { name: 'output gradient', relevance: LOOP_K | LOOP_X, bytes: x.bytes },
    { name: 'weight gradient', relevance: LOOP_K | LOOP_C, bytes: x.bytes, accumulated: { partialBytes: x.partialBytes } },
  ];
  return { pass: 'weight-gradient', ...extents(g, batch), p: g.ho, q: g.wo, rows: g.hi, cols: g.wi, operands, computeS };
}
