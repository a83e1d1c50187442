/**
 * The variables a network of a graph holds, as plain data: their names, shapes and initialisers.
 * The network builds its variables from this; the search reads it without building a network
 * (which needs TF.js) to find which trained network a candidate can inherit the most from.
 */
import type { Layer, LayerGraph, Shape } from '../space/index.js';

/** What a variable holds, by role in its layer; names are `<layer name>.<role>`. */
export type VariableRole = 'weight' | 'bias' | 'gamma' | 'beta' | 'mean' | 'variance' | 'reduce.weight' | 'reduce.bias' | 'expand.weight' | 'expand.bias';

export type Initializer =
  /** Normal with standard deviation sqrt(2 / fanIn) (He), seeded per variable. */
  | { kind: 'he'; fanIn: number }
  /** Normal with this standard deviation, seeded per variable. */
  | { kind: 'normal'; std: number }
  | { kind: 'zeros' }
  | { kind: 'ones' };

export interface VariableSpec {
  role: VariableRole;
  shape: number[];
  init: Initializer;
  /** Batch-norm running statistics are variables the optimiser does not train. */
  trainable: boolean;
}

function assertNever(x: never): never {
  throw new Error(`internal: unhandled layer kind ${String(x)}`);
}

/**
 * One layer's variables, in the order their initialisers draw seeds (changing the order changes
 * every seeded network).
 */
export function layerVariables(layer: Layer, input: Shape, output: Shape): VariableSpec[] {
  const zeros = (role: VariableRole, n: number, trainable = true): VariableSpec => ({ role, shape: [n], init: { kind: 'zeros' }, trainable });
  switch (layer.kind) {
    case 'conv': {
      const depthwise = layer.groups === input.c && layer.groups > 1;
      const shape = depthwise ? [layer.kernel, layer.kernel, input.c, output.c / input.c] : [layer.kernel, layer.kernel, input.c / layer.groups, output.c];
      const weight: VariableSpec = { role: 'weight', shape, init: { kind: 'he', fanIn: layer.kernel * layer.kernel * (input.c / layer.groups) }, trainable: true };
      return layer.bias ? [weight, zeros('bias', output.c)] : [weight];
    }
    case 'bn':
      return [{ role: 'gamma', shape: [output.c], init: { kind: 'ones' }, trainable: true }, zeros('beta', output.c), zeros('mean', output.c, false), { role: 'variance', shape: [output.c], init: { kind: 'ones' }, trainable: false }];
    case 'se':
      return [
        { role: 'reduce.weight', shape: [input.c, layer.squeeze], init: { kind: 'he', fanIn: input.c }, trainable: true },
        zeros('reduce.bias', layer.squeeze),
        { role: 'expand.weight', shape: [layer.squeeze, input.c], init: { kind: 'he', fanIn: layer.squeeze }, trainable: true },
        zeros('expand.bias', input.c),
      ];
    case 'dense': {
      const weight: VariableSpec = { role: 'weight', shape: [input.c, output.c], init: { kind: 'normal', std: 1 / Math.sqrt(input.c) }, trainable: true };
      return layer.bias ? [weight, zeros('bias', output.c)] : [weight];
    }
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

/** Every variable of a network of `graph`: its shape by name (`<layer name>.<role>`). */
export function graphVariables(graph: LayerGraph): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const layer of graph.layers) {
    const input = graph.tensors[layer.inputs[0] ?? layer.output] as Shape;
    const output = graph.tensors[layer.output] as Shape;
    for (const v of layerVariables(layer, input, output)) out.set(`${layer.name}.${v.role}`, v.shape);
  }
  return out;
}

/** Trained values of a network's variables, by name (what `Network.weights()` gives). */
export type Weights = Record<string, { shape: number[]; values: Float32Array }>;

export const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** How many values a network of these variables would take from `weights` (names and shapes match). */
export function sharedValues(variables: ReadonlyMap<string, number[]>, weights: Weights): number {
  let shared = 0;
  for (const [name, shape] of variables) {
    const w = weights[name];
    if (w && sameShape(w.shape, shape)) shared += w.values.length;
  }
  return shared;
}
