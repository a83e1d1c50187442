/**
 * Inference-time batch-norm folding shared by the exporters: which batch norms fold into the
 * convolution before them, and the per-channel scale and shift each one applies.
 */
import type { Layer, LayerGraph } from '../space/index.js';
import { ExportError } from './errors.js';
import type { WeightTensor, Weights } from './errors.js';

export const BN_EPSILON = 1e-5;

/** Conv layer index → the batch norm that alone reads its output (so it can be folded into it). */
export function foldableBatchNorms(graph: LayerGraph): Map<number, number> {
  const readers = new Map<number, number>();
  graph.layers.forEach((l) => l.inputs.forEach((t) => readers.set(t, (readers.get(t) ?? 0) + 1)));
  const fold = new Map<number, number>();
  graph.layers.forEach((layer, i) => {
    if (layer.kind !== 'bn') return;
    const input = layer.inputs[0] as number;
    const producer = graph.producers[input] as number;
    if (graph.layers[producer]?.kind === 'conv' && readers.get(input) === 1) fold.set(producer, i);
  });
  return fold;
}

export function weightOf(weights: Weights, layer: Layer, role: string): WeightTensor {
  const w = weights[`${layer.name}.${role}`];
  if (!w) throw new ExportError(`no weights "${layer.name}.${role}" for layer ${layer.name}`);
  return w;
}

/** y = x · scale + shift, per channel, for a batch norm with running statistics. */
export function batchNormAffine(weights: Weights, bn: Layer): { scale: Float32Array; shift: Float32Array } {
  const [gamma, beta, mean, variance] = ['gamma', 'beta', 'mean', 'variance'].map((r) => weightOf(weights, bn, r).values) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const scale = gamma.map((g, i) => g / Math.sqrt((variance[i] as number) + BN_EPSILON));
  const shift = beta.map((b, i) => b - (mean[i] as number) * (scale[i] as number));
  return { scale, shift };
}
