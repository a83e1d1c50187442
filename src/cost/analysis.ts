/**
 * What the cost model needs to know about a network that does not depend on the processor:
 * sizes, consumers, which layers are epilogues, each composite's fused working set. Computed once
 * per LayerGraph and cached, so that scoring one network on many processors is cheap.
 */
import type { LayerGraph, LayerKind } from '../space/index.js';
import { neededInputElements } from './tiling.js';
import type { WindowGeometry } from './tiling.js';

export const UTILISATION_CLASSES = ['conv', 'pointwise', 'depthwise', 'dense', 'elementwise'] as const;
export type UtilisationClass = (typeof UTILISATION_CLASSES)[number];

export interface LayerFacts {
  kind: LayerKind;
  /** Elements of each input (0 for an all-zeros tensor, which is never read). */
  inputElements: number[];
  /** Sum of inputElements. */
  inputTotal: number;
  outputElements: number;
  weights: number;
  /** Set for sliding-window ops (conv, pooling, dense): tiled when they do not fit. */
  window?: WindowGeometry;
  utilisation: UtilisationClass;
  /** Index of `utilisation` in UTILISATION_CLASSES (for array lookups in the hot loop). */
  utilisationIndex: number;
  /** Per-sample work: MACs for conv/dense/SE, element operations for the rest. */
  work: number;
  /** Index of the layer whose output this batch norm or activation finishes, or -1. */
  epilogueOf: number;
  /** True when the output leaves the layer's composite op (or is the network output). */
  escapes: boolean;
  /** True when the op's input is the network input (no input gradient in training). */
  readsNetworkInput: boolean;
  isZero: boolean;
}

export interface CompositeFacts {
  firstLayer: number;
  endLayer: number;
  weights: number;
  /** Per-sample activation elements on chip when the composite runs fused, row band by row band. */
  bandElements: number;
  /** Per-sample elements of the tensors the composite reads from and writes to the outside. */
  externalElements: number;
  /** Per-sample elements of the largest batch-norm tensor (training fuses it only when the batch's fits). */
  largestBatchNorm: number;
  /** The tensor that only the next composite reads, or -1: it may stay on chip between them. */
  linkTensor: number;
  /**
   * Tensors read from outside, each with the first layer inside that reads it and the elements
   * read (all of it, unless every reader is strided and skips rows).
   */
  externalInputs: Array<{ tensor: number; layer: number; elements: number }>;
}

export interface GraphFacts {
  layers: LayerFacts[];
  composites: CompositeFacts[];
  consumers: number[][];
  /** Per-sample elements of each tensor (0 for all-zeros tensors). */
  tensorElements: number[];
}

const cache = new WeakMap<LayerGraph, GraphFacts>();

export function analyse(graph: LayerGraph): GraphFacts {
  let facts = cache.get(graph);
  if (!facts) {
    facts = computeFacts(graph);
    cache.set(graph, facts);
  }
  return facts;
}

function computeFacts(graph: LayerGraph): GraphFacts {
  const { layers, tensors, producers } = graph;
  const consumers: number[][] = tensors.map(() => []);
  layers.forEach((layer, i) => layer.inputs.forEach((t) => (consumers[t] as number[]).push(i)));
  const tensorElements = tensors.map((s, t) => {
    const producer = producers[t] as number;
    return producer >= 0 && layers[producer]?.kind === 'zero' ? 0 : s.h * s.w * s.c;
  });
  const layerFacts = layers.map((layer, i): LayerFacts => {
    const input = tensors[layer.inputs[0] ?? layer.output]!;
    const out = tensors[layer.output]!;
    const inputElements = layer.inputs.map((t) => tensorElements[t] as number);
    const outputElements = tensorElements[layer.output] as number;
    const kernel = layer.dilation * (layer.kernel - 1) + 1;
    const geometry = (weights: number, groups = layer.groups): WindowGeometry => ({
      hi: input.h,
      wi: input.w,
      ci: input.c,
      ho: out.h,
      wo: out.w,
      co: out.c,
      kernel,
      stride: layer.stride,
      groups,
      weights,
    });
    let window: WindowGeometry | undefined;
    let utilisation: UtilisationClass = 'elementwise';
    let work = 0;
    switch (layer.kind) {
      case 'conv': {
        const depthwise = layer.groups > 1 && layer.groups === input.c;
        utilisation = depthwise ? 'depthwise' : layer.kernel === 1 && layer.groups === 1 ? 'pointwise' : 'conv';
        window = geometry(layer.params);
        work = layer.macs;
        break;
      }
      case 'dense':
        utilisation = 'dense';
        window = geometry(layer.params);
        work = layer.macs;
        break;
      case 'maxpool':
      case 'avgpool':
        // Pooling works channel by channel, like a depthwise convolution without weights.
        window = geometry(0, input.c);
        work = outputElements * layer.kernel * layer.kernel;
        break;
      case 'se':
        utilisation = 'dense';
        work = layer.macs + 2 * outputElements;
        break;
      default:
        for (const e of inputElements) work += e;
    }
    return {
      kind: layer.kind,
      inputElements,
      inputTotal: inputElements.reduce((a, e) => a + e, 0),
      outputElements,
      weights: layer.params,
      window,
      utilisation,
      utilisationIndex: UTILISATION_CLASSES.indexOf(utilisation),
      work,
      epilogueOf: epilogueHead(graph, consumers, i),
      escapes:
        layer.output === graph.output ||
        (consumers[layer.output] ?? []).some((u) => graph.layers[u]?.composite !== layer.composite),
      readsNetworkInput: layer.inputs.some((t) => producers[t] === -1),
      isZero: layer.kind === 'zero',
    };
  });
  const composites = graph.composites.map((_, index): CompositeFacts => compositeFacts(graph, consumers, tensorElements, layerFacts, index));
  return { layers: layerFacts, composites, consumers, tensorElements };
}

/** A batch norm or activation whose only input is used by it alone finishes its producer's work. */
function epilogueHead(graph: LayerGraph, consumers: number[][], i: number): number {
  const layer = graph.layers[i]!;
  if (layer.kind !== 'bn' && layer.kind !== 'act') return -1;
  const t = layer.inputs[0] as number;
  const producer = graph.producers[t] as number;
  if (producer < 0 || consumers[t]?.length !== 1) return -1;
  const head = graph.layers[producer]!;
  if (head.composite !== layer.composite || head.kind === 'zero') return -1;
  return head.kind === 'bn' || head.kind === 'act' ? epilogueHead(graph, consumers, producer) : producer;
}

function compositeFacts(
  graph: LayerGraph,
  consumers: number[][],
  tensorElements: number[],
  layerFacts: LayerFacts[],
  index: number,
): CompositeFacts {
  const c = graph.composites[index]!;
  const inside = (layer: number): boolean => layer >= c.firstLayer && layer < c.endLayer;
  let weights = 0;
  let halo = 0;
  let largestBatchNorm = 0;
  const externalInputs: Array<{ tensor: number; layer: number; elements: number }> = [];
  const touched = new Set<number>();
  for (let l = c.firstLayer; l < c.endLayer; l++) {
    const layer = graph.layers[l]!;
    weights += layer.params;
    if (layer.kind === 'bn') largestBatchNorm = Math.max(largestBatchNorm, layerFacts[l]!.outputElements);
    const window = layerFacts[l]!.window;
    if (window && layer.kind !== 'dense') halo += window.kernel - 1;
    for (const t of layer.inputs) {
      if (!inside(graph.producers[t] as number)) {
        const needed = window && layer.kind !== 'dense' ? neededInputElements(window) : (tensorElements[t] as number);
        const elements = tensorElements[t] === 0 ? 0 : needed;
        const known = externalInputs.find((e) => e.tensor === t);
        if (known) known.elements = Math.max(known.elements, elements);
        else externalInputs.push({ tensor: t, layer: l, elements });
      }
      touched.add(t);
    }
    touched.add(layer.output);
  }
  let bandElements = 0;
  let externalElements = 0;
  const externalOutputs: number[] = [];
  for (const t of touched) {
    const shape = graph.tensors[t]!;
    const users = (consumers[t] ?? []).filter(inside);
    const producedInside = inside(graph.producers[t] as number);
    if (producedInside && (t === graph.output || (consumers[t] ?? []).some((l) => !inside(l)))) externalOutputs.push(t);
    if (!producedInside) externalElements += tensorElements[t] as number;
    let window = 1;
    for (const user of users) {
      const layer = graph.layers[user]!;
      const w = layerFacts[user]!.window;
      window = Math.max(window, layer.kind === 'gap' || layer.kind === 'se' || layer.kind === 'dense' ? shape.h : w ? w.kernel : 1);
    }
    const rows = Math.min(shape.h, window + (users.length > 0 && window < shape.h ? halo : 0));
    bandElements += tensorElements[t] === 0 ? 0 : rows * shape.w * shape.c;
  }
  for (const t of externalOutputs) externalElements += tensorElements[t] as number;
  const next = graph.composites[index + 1];
  const [onlyOutput] = externalOutputs;
  const linkTensor =
    next && externalOutputs.length === 1 && onlyOutput !== undefined && onlyOutput !== graph.output &&
    (consumers[onlyOutput] ?? []).every((l) => l >= next.firstLayer && l < next.endLayer)
      ? onlyOutput
      : -1;
  return { firstLayer: c.firstLayer, endLayer: c.endLayer, weights, bandElements, externalElements, largestBatchNorm, linkTensor, externalInputs };
}
