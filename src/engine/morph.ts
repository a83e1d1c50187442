/**
 * Function-preserving reshaping of a trained variable into a child's shape, as network morphism
 * (Net2Net: Chen, Goodfellow & Shlens 2016; Wei et al. 2016) does for a wider or larger-kernel
 * child: where a layer of the same name only changed its widths or its kernel, the child computes
 * what its parent computed from the first step, instead of starting those layers from noise.
 *
 * - A kernel grows by zeros around it (a 3×3 filter is the centre of a 5×5 one: with "same"
 *   padding the output is the same), and shrinks to its centre.
 * - A channel axis that grows from n to m replicates: channel j is a copy of channel j mod n. The
 *   mapping depends only on n and m, so every tensor of one width maps alike — a residual sum of
 *   two widened tensors, a batch norm, a depthwise filter — and no graph analysis is needed.
 * - A layer that reads a widened tensor (its input axis) sees each channel several times: its
 *   weights for the copies of a channel are split so that they add up to the parent's weight.
 *   The split is uneven (random shares summing to 1): copies with equal outgoing weights would get
 *   equal gradients forever, and the widening would add no capacity (Net2Net adds noise for that).
 * - A channel axis that shrinks keeps the first channels (not function-preserving: a narrower
 *   child computes something else, but from its parent's features rather than from noise).
 *
 * Pure arithmetic over Float32Array: no TF.js, so it is tested on its own.
 */
import type { Layer, Shape } from '../space/index.js';
import type { VariableRole } from './variables.js';

/**
 * What an axis of a variable indexes: `spatial` a kernel tap, `out` a channel the layer writes
 * (or a per-channel parameter), `in` a channel the layer reads and sums over, `fixed` an axis no
 * reshaping keeps the meaning of (a depthwise multiplier, a grouped convolution's groups).
 */
export type AxisRole = 'spatial' | 'out' | 'in' | 'fixed';

function assertNever(x: never): never {
  throw new Error(`internal: unhandled layer kind ${String(x)}`);
}

/** The meaning of each axis of a layer's variable (as `layerVariables` shapes it). */
export function axisRoles(layer: Layer, role: VariableRole, input: Shape): AxisRole[] {
  switch (layer.kind) {
    case 'conv': {
      if (role === 'bias') return ['out'];
      const depthwise = layer.groups === input.c && layer.groups > 1;
      // A depthwise filter [k, k, c, multiplier] is per channel; with a multiplier above 1 its
      // outputs interleave, which replication by j mod n does not follow.
      if (depthwise) return ['spatial', 'spatial', 'out', 'fixed'];
      if (layer.groups === 1) return ['spatial', 'spatial', 'in', 'out'];
      return ['spatial', 'spatial', 'fixed', 'fixed'];
    }
    case 'bn':
      return ['out'];
    case 'se':
      return role === 'reduce.weight' || role === 'expand.weight' ? ['in', 'out'] : ['out'];
    case 'dense':
      return role === 'weight' ? ['in', 'out'] : ['out'];
    case 'act':
    case 'maxpool':
    case 'avgpool':
    case 'gap':
    case 'add':
    case 'concat':
    case 'zero':
      return [];
    default:
      return assertNever(layer.kind);
  }
}

/** For each index of an axis of the child's size, the parent's index it reads and the factor on it. */
interface AxisMap {
  /** Parent index, or -1 for a zero (a kernel tap the parent did not have). */
  from: Int32Array;
  factor: Float32Array;
}

function axisMap(role: AxisRole, n: number, m: number, random: () => number): AxisMap | undefined {
  const from = new Int32Array(m);
  const factor = new Float32Array(m).fill(1);
  if (n === m) {
    for (let j = 0; j < m; j++) from[j] = j;
    return { from, factor };
  }
  switch (role) {
    case 'fixed':
      return undefined;
    case 'spatial': {
      // Centred: only an even difference keeps the centre tap on the centre.
      if ((m - n) % 2 !== 0) return undefined;
      const offset = (n - m) / 2;
      for (let j = 0; j < m; j++) {
        const i = j + offset;
        from[j] = i >= 0 && i < n ? i : -1;
      }
      return { from, factor };
    }
    case 'out':
      for (let j = 0; j < m; j++) from[j] = j % n;
      return { from, factor };
    case 'in': {
      for (let j = 0; j < m; j++) from[j] = j % n;
      if (m < n) return { from, factor };
      // Shares of each parent channel among its copies: positive, uneven, summing to 1.
      const total = new Float64Array(n);
      const share = new Float64Array(m);
      for (let j = 0; j < m; j++) {
        share[j] = 0.5 + random();
        total[j % n] = (total[j % n] as number) + (share[j] as number);
      }
      for (let j = 0; j < m; j++) factor[j] = (share[j] as number) / (total[j % n] as number);
      return { from, factor };
    }
  }
}

/**
 * The parent's values reshaped to the child's shape, axis by axis as `roles` says; undefined when
 * the ranks differ or an axis cannot be mapped (a `fixed` axis of another size, an odd kernel
 * difference). `random` draws the input shares of widened channels.
 */
export function morph(
  source: { shape: readonly number[]; values: Float32Array },
  shape: readonly number[],
  roles: readonly AxisRole[],
  random: () => number,
): Float32Array | undefined {
  const rank = shape.length;
  if (source.shape.length !== rank || roles.length !== rank) return undefined;
  const maps: AxisMap[] = [];
  for (let a = 0; a < rank; a++) {
    const map = axisMap(roles[a] as AxisRole, source.shape[a] as number, shape[a] as number, random);
    if (!map) return undefined;
    maps.push(map);
  }
  // Row-major strides of the parent.
  const strides = new Array<number>(rank);
  for (let a = rank - 1, s = 1; a >= 0; a--) {
    strides[a] = s;
    s *= source.shape[a] as number;
  }
  const size = shape.reduce((n, d) => n * d, 1);
  const out = new Float32Array(size);
  const index = new Array<number>(rank).fill(0);
  for (let k = 0; k < size; k++) {
    let at = 0;
    let factor = 1;
    for (let a = 0; a < rank && at >= 0; a++) {
      const map = maps[a] as AxisMap;
      const i = map.from[index[a] as number] as number;
      if (i < 0) at = -1;
      else {
        at += i * (strides[a] as number);
        factor *= map.factor[index[a] as number] as number;
      }
    }
    out[k] = at < 0 ? 0 : (source.values[at] as number) * factor;
    // Next index, last axis fastest.
    for (let a = rank - 1; a >= 0; a--) {
      index[a] = (index[a] as number) + 1;
      if ((index[a] as number) < (shape[a] as number)) break;
      index[a] = 0;
    }
  }
  return out;
}
