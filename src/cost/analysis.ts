/**
 * What the cost model needs to know about a network that does not depend on the processor:
 * sizes, the geometry of windowed layers, consumers, which layers are epilogues, each composite
 * op's external tensors and fused working set, and a signature per composite op under which its
 * cost is memoised. Computed once per LayerGraph (in time linear in its size) and cached.
 *
 * Composite ops are the unit of costing: lowering chains them (each reads the previous one's
 * output), so a composite op's cost depends on its own layers, its input shape, and whether it
 * reads the network input or writes the network output, and on nothing else but the fusion
 * between neighbours, which model.ts decides.
 */
import type { LayerGraph, LayerKind } from '../space/index.js';

export const UTILISATION_CLASSES = ['conv', 'pointwise', 'depthwise', 'dense', 'elementwise'] as const;
export type UtilisationClass = (typeof UTILISATION_CLASSES)[number];

/** A sliding-window layer (convolution, pooling, dense) as a loop nest sees it. */
export interface Geometry {
  hi: number;
  wi: number;
  ci: number;
  ho: number;
  wo: number;
  co: number;
  /** Kernel side, and the rows it spans with its dilation. */
  kernel: number;
  span: number;
  stride: number;
  pad: number;
  groups: number;
  /** Elements of weights per (output, input) channel pair: the kernel's area (0 for pooling). */
  kernelArea: number;
  /** Bias elements beside the weights. */
  bias: number;
}

export interface LayerFacts {
  kind: LayerKind;
  /** Elements of each input (0 for an all-zeros tensor, which is never read). */
  inputElements: number[];
  /** Sum of inputElements. */
  inputTotal: number;
  outputElements: number;
  weights: number;
  /** Set for sliding-window layers (conv, pooling, dense): they are mapped as loop nests. */
  geometry?: Geometry;
  utilisation: UtilisationClass;
  /** Index of `utilisation` in UTILISATION_CLASSES (for array lookups in the hot loop). */
  utilisationIndex: number;
  /** Per-sample work: MACs for conv/dense/SE, element operations for the rest. */
  work: number;
  /** Index of the layer whose output this batch norm or activation finishes, or -1. */
  epilogueOf: number;
  /** True when the output leaves the layer's composite op (or is the network output). */
  escapes: boolean;
  isZero: boolean;
}

export interface CompositeFacts {
  firstLayer: number;
  endLayer: number;
  weights: number;
  /** Per-sample activation elements on chip when the composite runs fused, one output row at a time. */
  bandElements: number;
  /** Per-sample elements of one more output row's worth of every tensor (to grow the band). */
  rowElements: number;
  /** Per-sample elements of every tensor the composite touches (the band can grow no further). */
  touchedElements: number;
  /** Rows of the composite's output (the steps of a fused run). */
  outputRows: number;
  /** Per-sample elements of the largest batch-norm tensor (training fuses it only when the batch's fits). */
  largestBatchNorm: number;
  /** Tensors read from outside, each with the first layer inside that reads it and the elements read. */
  externalInputs: Array<{ tensor: number; layer: number; elements: number }>;
  /** The op's input (the previous op's output in the chain lowering makes), when the op has layers and reads it alone; else -1. */
  linkIn: number;
  /** The op's output, when it has layers and no layer of its own reads it (only the next op can); else -1. */
  linkOut: number;
  /** Everything the composite's cost depends on but the processor and the neighbours' fusion. */
  signature: string;
  /** A number for the signature: equal signatures, equal ids (memo keys hash faster than strings). */
  id: number;
}

export interface GraphFacts {
  layers: LayerFacts[];
  composites: CompositeFacts[];
  /** Per-sample elements of each tensor (0 for all-zeros tensors). */
  tensorElements: number[];
}

const cache = new WeakMap<LayerGraph, GraphFacts>();

/** Signature → id. Ids only grow, so a cleared table never gives an old id to a new signature. */
const ids = new Map<string, number>();
let nextId = 0;

function idOf(signature: string): number {
  let id = ids.get(signature);
  if (id === undefined) {
    if (ids.size > 200_000) ids.clear();
    id = nextId++;
    ids.set(signature, id);
  }
  return id;
}

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
  const epilogues = epilogueHeads(graph, consumers);
  const layerFacts = layers.map((layer, i): LayerFacts => {
    const input = tensors[layer.inputs[0] ?? layer.output]!;
    const out = tensors[layer.output]!;
    const inputElements = layer.inputs.map((t) => tensorElements[t] as number);
    const outputElements = tensorElements[layer.output] as number;
    const geometry = (kernelArea: number, groups: number, bias: number): Geometry => ({
      hi: input.h,
      wi: input.w,
      ci: input.c,
      ho: out.h,
      wo: out.w,
      co: out.c,
      kernel: layer.kernel,
      span: layer.dilation * (layer.kernel - 1) + 1,
      stride: layer.stride,
      pad: layer.pad,
      groups,
      kernelArea,
      bias,
    });
    let window: Geometry | undefined;
    let utilisation: UtilisationClass = 'elementwise';
    let work = 0;
    switch (layer.kind) {
      case 'conv': {
        const depthwise = layer.groups > 1 && layer.groups === input.c;
        utilisation = depthwise ? 'depthwise' : layer.kernel === 1 && layer.groups === 1 ? 'pointwise' : 'conv';
        window = geometry(layer.kernel * layer.kernel, layer.groups, layer.bias ? out.c : 0);
        work = layer.macs;
        break;
      }
      case 'dense':
        utilisation = 'dense';
        window = geometry(1, 1, layer.bias ? out.c : 0);
        work = layer.macs;
        break;
      case 'maxpool':
      case 'avgpool':
        // Pooling works channel by channel, like a depthwise convolution without weights.
        window = geometry(0, input.c, 0);
        work = outputElements * layer.kernel * layer.kernel;
        break;
      case 'se':
        utilisation = 'dense';
        work = layer.macs + 2 * outputElements;
        break;
      case 'bn':
      case 'act':
      case 'gap':
      case 'add':
      case 'concat':
      case 'zero':
        for (const e of inputElements) work += e;
        break;
    }
    const users = consumers[layer.output] as number[];
    let escapes = layer.output === graph.output;
    for (const u of users) if (layers[u]!.composite !== layer.composite) escapes = true;
    return {
      kind: layer.kind,
      inputElements,
      inputTotal: inputElements.reduce((a, e) => a + e, 0),
      outputElements,
      weights: layer.params,
      geometry: window,
      utilisation,
      utilisationIndex: UTILISATION_CLASSES.indexOf(utilisation),
      work,
      epilogueOf: epilogues[i] as number,
      escapes,
      isZero: layer.kind === 'zero',
    };
  });
  const composites = graph.composites.map((_, index) => compositeFacts(graph, consumers, tensorElements, layerFacts, index));
  return { layers: layerFacts, composites, tensorElements };
}

/**
 * For each layer, the layer whose output it finishes, or -1: a batch norm or activation whose
 * input only it reads, produced in the same composite op by a layer that is not itself one
 * (chains of them lead back to the head). Layers come in topological order, so one pass does.
 */
function epilogueHeads(graph: LayerGraph, consumers: number[][]): number[] {
  const head = new Array<number>(graph.layers.length).fill(-1);
  graph.layers.forEach((layer, i) => {
    if (layer.kind !== 'bn' && layer.kind !== 'act') return;
    const t = layer.inputs[0] as number;
    const producer = graph.producers[t] as number;
    if (producer < 0 || consumers[t]?.length !== 1) return;
    const p = graph.layers[producer]!;
    if (p.composite !== layer.composite || p.kind === 'zero') return;
    head[i] = p.kind === 'bn' || p.kind === 'act' ? (head[producer] as number) : producer;
  });
  return head;
}

function compositeFacts(graph: LayerGraph, consumers: number[][], tensorElements: number[], layerFacts: LayerFacts[], index: number): CompositeFacts {
  const c = graph.composites[index]!;
  const inside = (layer: number): boolean => layer >= c.firstLayer && layer < c.endLayer;
  let weights = 0;
  let halo = 0;
  let largestBatchNorm = 0;
  const externalInputs: Array<{ tensor: number; layer: number; elements: number }> = [];
  const touched = new Set<number>();
  for (let l = c.firstLayer; l < c.endLayer; l++) {
    const layer = graph.layers[l]!;
    const f = layerFacts[l]!;
    weights += layer.params;
    if (layer.kind === 'bn') largestBatchNorm = Math.max(largestBatchNorm, f.outputElements);
    const g = f.geometry;
    const windowed = g && layer.kind !== 'dense';
    if (windowed) halo += g.span - 1;
    for (const t of layer.inputs) {
      if (!inside(graph.producers[t] as number)) {
        const elements = tensorElements[t] === 0 ? 0 : windowed ? neededInputRows(g) * g.wi * g.ci : (tensorElements[t] as number);
        const known = externalInputs.find((e) => e.tensor === t);
        if (known) known.elements = Math.max(known.elements, elements);
        else externalInputs.push({ tensor: t, layer: l, elements });
      }
      touched.add(t);
    }
    touched.add(layer.output);
  }
  const last = graph.tensors[c.output]!;
  const outputRows = last.h;
  let bandElements = 0;
  let rowElements = 0;
  let touchedElements = 0;
  for (const t of touched) {
    const shape = graph.tensors[t]!;
    if (tensorElements[t] === 0) continue;
    const users = (consumers[t] ?? []).filter(inside);
    let window = 1;
    for (const user of users) {
      const layer = graph.layers[user]!;
      const g = layerFacts[user]!.geometry;
      window = Math.max(window, layer.kind === 'gap' || layer.kind === 'se' || layer.kind === 'dense' ? shape.h : g ? g.span : 1);
    }
    const rows = Math.min(shape.h, window + (users.length > 0 && window < shape.h ? halo : 0));
    bandElements += rows * shape.w * shape.c;
    rowElements += (shape.h / outputRows) * shape.w * shape.c;
    touchedElements += shape.h * shape.w * shape.c;
  }
  // The chain: lowering feeds each composite op the previous one's output. Decided from the op
  // alone, so that an op lowered on its own (a block of a search) has the same facts.
  const hasLayers = c.firstLayer < c.endLayer;
  const linkIn = hasLayers && (consumers[c.input] ?? []).every(inside) ? c.input : -1;
  const linkOut = hasLayers && c.output !== c.input && !(consumers[c.output] ?? []).some(inside) ? c.output : -1;
  const sig = signature(graph, c.firstLayer, c.endLayer, c.input, layerFacts);
  return {
    firstLayer: c.firstLayer,
    endLayer: c.endLayer,
    weights,
    bandElements,
    rowElements,
    touchedElements,
    outputRows,
    largestBatchNorm,
    externalInputs,
    linkIn,
    linkOut,
    signature: sig,
    id: idOf(sig),
  };
}

/** Distinct input rows a windowed layer reads (a strided 1x1 convolution skips some; padding is not read). */
export function neededInputRows(g: Geometry): number {
  if (g.stride < g.span) return Math.min(g.hi, (g.ho - 1) * g.stride - g.pad + g.span) - Math.max(0, -g.pad);
  let rows = 0;
  for (let o = 0; o < g.ho; o++) {
    const first = o * g.stride - g.pad;
    rows += Math.max(0, Math.min(g.hi, first + g.span) - Math.max(0, first));
  }
  return rows;
}

/**
 * The composite op as a string: its input shape, and each layer's kind, geometry, inputs
 * (numbered inside the composite) and whether its output leaves the op.
 */
function signature(graph: LayerGraph, first: number, end: number, input: number, facts: LayerFacts[]): string {
  const s = graph.tensors[input]!;
  const parts: string[] = [`${s.h}x${s.w}x${s.c}`];
  const local = (t: number): string => {
    const p = graph.producers[t] as number;
    return p >= first && p < end ? String(p - first) : t === input ? 'x' : `e${t}`;
  };
  for (let l = first; l < end; l++) {
    const layer = graph.layers[l]!;
    const out = graph.tensors[layer.output]!;
    parts.push(
      `${layer.kind}:${layer.inputs.map(local).join('+')}>${out.h}x${out.w}x${out.c}:${layer.kernel},${layer.stride},${layer.pad},${layer.dilation},${layer.groups},${layer.bias ? 1 : 0},${layer.squeeze},${layer.params},${facts[l]!.escapes ? 1 : 0}`,
    );
  }
  return parts.join(';');
}
