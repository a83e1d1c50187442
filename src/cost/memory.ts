/**
 * The memory a network needs on a device that runs it one image at a time, as MCUNet measures
 * it (Lin et al., NeurIPS 2020): the peak activation memory — the most bytes of tensors alive at
 * once when the layers run one after another in graph order (each layer's inputs and its output,
 * and every tensor a later layer still reads) — and the bytes of its weights as stored (in flash
 * on a microcontroller, read in place).
 *
 * In place, as microcontroller runtimes run them: a batch norm folds into the convolution before
 * it and an activation writes over its input (TF Lite Micro, CMSIS-NN); a depthwise convolution
 * writes over its input channel by channel and a squeeze-excite scale or an add over an input
 * that dies with it (TinyEngine, MCUNet's runtime). Not counted: scratch buffers (im2col, one
 * channel of a depthwise), the runtime's own memory and, in flash, its code.
 */
import type { Layer, LayerGraph, LayerKind } from '../space/index.js';
import { analyse } from './analysis.js';
import { layerWeightBytes } from './composite.js';

export interface MemoryFigures {
  /** Bytes of activations alive at once at the peak, one image, layer by layer. */
  peakActivationBytes: number;
  /** Bytes of the weights as deployed (batch norms folded), at the profile's element size. */
  storedWeightBytes: number;
}

const isDepthwise = (layer: Layer, graph: LayerGraph): boolean => {
  const input = graph.tensors[layer.inputs[0] as number];
  const output = graph.tensors[layer.output];
  return layer.groups > 1 && input !== undefined && output !== undefined && layer.groups === input.c && output.c === input.c;
};

/** Whether a layer may write its output over an input that dies with it. */
const IN_PLACE: Record<LayerKind, (layer: Layer, graph: LayerGraph) => boolean> = {
  conv: isDepthwise,
  bn: () => true,
  act: () => true,
  maxpool: () => false,
  avgpool: () => false,
  gap: () => false,
  se: () => true,
  add: () => true,
  concat: () => false,
  dense: () => false,
  zero: () => false,
};

/** Figures per graph and element size: a search costs one graph on several processors and modes. */
const memo = new WeakMap<LayerGraph, Map<number, MemoryFigures>>();

/** The memory figures of a network whose elements take `bytes` each (the profile's, at inference). */
export function deployedMemory(graph: LayerGraph, bytes: number): MemoryFigures {
  let byBytes = memo.get(graph);
  if (!byBytes) {
    byBytes = new Map();
    memo.set(graph, byBytes);
  }
  let figures = byBytes.get(bytes);
  if (!figures) {
    figures = computeMemory(graph, bytes);
    byBytes.set(bytes, figures);
  }
  return figures;
}

function computeMemory(graph: LayerGraph, bytes: number): MemoryFigures {
  const facts = analyse(graph);
  const steps = graph.layers.length;
  // The last layer that reads each tensor; the network's output stays to the end.
  const lastUse = new Array<number>(graph.tensors.length).fill(-1);
  graph.layers.forEach((layer, i) => {
    for (const t of layer.inputs) lastUse[t] = i;
  });
  lastUse[graph.output] = steps - 1;
  // Buffers: a tensor written in place shares its input's buffer, which then lives on with it.
  const bufferOf = new Array<number>(graph.tensors.length).fill(-1);
  const size: number[] = [];
  const first: number[] = [];
  const last: number[] = [];
  const open = (t: number, at: number): void => {
    bufferOf[t] = size.length;
    size.push((facts.tensorElements[t] as number) * bytes);
    first.push(at);
    last.push(lastUse[t] as number);
  };
  graph.producers.forEach((producer, t) => {
    if (producer < 0) open(t, 0);
  });
  graph.layers.forEach((layer, i) => {
    const needed = (facts.tensorElements[layer.output] as number) * bytes;
    const donor = IN_PLACE[layer.kind](layer, graph)
      ? layer.inputs.find((t) => {
          const b = bufferOf[t] as number;
          return b >= 0 && last[b] === i && (size[b] as number) >= needed;
        })
      : undefined;
    if (donor === undefined) open(layer.output, i);
    else {
      const b = bufferOf[donor] as number;
      bufferOf[layer.output] = b;
      last[b] = lastUse[layer.output] as number;
    }
  });
  // The live bytes at each step, swept: a buffer counts from its first step to its last.
  const delta = new Array<number>(steps + 1).fill(0);
  size.forEach((s, b) => {
    const end = Math.max(first[b] as number, last[b] as number);
    delta[first[b] as number] = (delta[first[b] as number] as number) + s;
    delta[end + 1] = (delta[end + 1] as number) - s;
  });
  let live = 0;
  let peak = 0;
  for (let i = 0; i < steps; i++) {
    live += delta[i] as number;
    peak = Math.max(peak, live);
  }
  let storedWeightBytes = 0;
  for (let l = 0; l < steps; l++) storedWeightBytes += layerWeightBytes(graph, facts, l, bytes, false);
  return { peakActivationBytes: peak, storedWeightBytes };
}

/**
 * The figures of a chain of blocks, each lowered on its own (`estimateArchitectureCost`) and
 * counted in elements (`deployedMemory(graph, 1)`), at `bytes` per element: only a block's output
 * passes to the next, so the peak is the largest block's and the weights add up.
 */
export function chainedMemory(blocks: readonly MemoryFigures[], bytes: number): MemoryFigures {
  let peakActivationBytes = 0;
  let storedWeightBytes = 0;
  for (const b of blocks) {
    peakActivationBytes = Math.max(peakActivationBytes, b.peakActivationBytes);
    storedWeightBytes += b.storedWeightBytes;
  }
  return { peakActivationBytes: peakActivationBytes * bytes, storedWeightBytes: storedWeightBytes * bytes };
}
