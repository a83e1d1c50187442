/**
 * The lowered form of an architecture: a flat, topologically ordered list of basic operations
 * over per-sample tensors. The cost model and the ML engine both read this and nothing else.
 */
import type { Activation } from './notation.js';

/** A per-sample tensor shape, channels last. */
export interface Shape {
  h: number;
  w: number;
  c: number;
}

export type LayerKind =
  | 'conv'
  | 'bn'
  | 'act'
  | 'maxpool'
  | 'avgpool'
  | 'gap'
  | 'se'
  | 'add'
  | 'concat'
  | 'dense'
  | 'zero';

/** One basic operation. Geometry fields that do not apply to a kind hold neutral values. */
export interface Layer {
  name: string;
  kind: LayerKind;
  inputs: number[];
  output: number;
  /** Index into `LayerGraph.composites`. */
  composite: number;
  kernel: number;
  stride: number;
  pad: number;
  dilation: number;
  groups: number;
  bias: boolean;
  /** The function of an `act` layer; the inner activation of an `se` layer. */
  act: Activation;
  countIncludePad: boolean;
  /** Squeeze width of an `se` layer. */
  squeeze: number;
  params: number;
  /** Multiply-accumulates, AutoDL/NAS-Bench-201 convention: conv and dense, bias adds included. */
  macs: number;
}

export type Part = 'stem' | 'stage' | 'head';

/** One composite operation instance: a contiguous run of layers. */
export interface Composite {
  name: string;
  notation: string;
  part: Part;
  /** Stage index for `stage` composites, -1 otherwise. */
  stage: number;
  block: number;
  firstLayer: number;
  endLayer: number;
  input: number;
  output: number;
}

export interface LayerGraph {
  name: string;
  input: Shape;
  classes: number;
  tensors: Shape[];
  /** Index of the layer producing each tensor; -1 for the network input. */
  producers: number[];
  layers: Layer[];
  composites: Composite[];
  output: number;
  params: number;
  macs: number;
}

export function elements(shape: Shape): number {
  return shape.h * shape.w * shape.c;
}

/** A short readable name of a layer's operation, e.g. `dwconv3x3`, `pwconv`, `relu6`. */
export function opName(graph: LayerGraph, layer: Layer): string {
  switch (layer.kind) {
    case 'conv': {
      const cin = graph.tensors[layer.inputs[0] as number]?.c ?? 0;
      const k = `${layer.kernel}x${layer.kernel}`;
      if (layer.groups > 1 && layer.groups === cin) return `dwconv${k}`;
      if (layer.kernel === 1) return layer.groups > 1 ? 'gpwconv' : 'pwconv';
      return layer.groups > 1 ? `gconv${k}` : `conv${k}`;
    }
    case 'act':
      return layer.act;
    case 'maxpool':
    case 'avgpool':
      return `${layer.kind}${layer.kernel}x${layer.kernel}`;
    default:
      return layer.kind;
  }
}
