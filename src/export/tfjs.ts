/**
 * TF.js GraphModel export: a model.json holding a TensorFlow GraphDef and one weights file,
 * the format `tf.loadGraphModel` reads in Node and in browsers. NHWC input like TF.js itself;
 * batch norms folded into their convolutions; metadata in `userDefinedMetadata`.
 */
import { join } from 'node:path';
import type { Layer, LayerGraph, Shape } from '../space/index.js';
import type { Weights } from './errors.js';
import { batchNormAffine, foldableBatchNorms, weightOf } from './fold.js';
import { makeFolder, writeFileAtomic } from '../files/index.js';
const WEIGHTS_FILE = 'group1-shard1of1.bin';

type Attr = Record<string, unknown>;
interface GraphNode {
  name: string;
  op: string;
  input: string[];
  attr: Attr;
}

export interface GraphModelFiles {
  modelJson: Record<string, unknown>;
  weightData: Uint8Array;
}

const FLOAT = { type: 'DT_FLOAT' };
const text = (s: string) => ({ s: Buffer.from(s).toString('base64') });
const ints = (xs: number[]) => ({ list: { i: xs.map(String) } });

class GraphDefBuilder {
  readonly nodes: GraphNode[] = [];
  readonly weightSpecs: Array<{ name: string; shape: number[]; dtype: 'float32' | 'int32' }> = [];
  readonly chunks: Uint8Array[] = [];
  private counter = 0;

  op(op: string, input: string[], attr: Attr = {}, name = `${op.toLowerCase()}_${this.counter++}`): string {
    this.nodes.push({ name, op, input, attr });
    return name;
  }

  constant(values: Float32Array | Int32Array | number[], shape: number[], dtype: 'float32' | 'int32' = 'float32'): string {
    const name = `const_${this.counter++}`;
    const data = dtype === 'int32' ? Int32Array.from(values as ArrayLike<number>) : Float32Array.from(values as ArrayLike<number>);
    const tfType = dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT';
    this.nodes.push({ name, op: 'Const', input: [], attr: { dtype: { type: tfType }, value: { tensor: { dtype: tfType, tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } } } });
    this.weightSpecs.push({ name, shape, dtype });
    this.chunks.push(new Uint8Array(data.buffer.slice(0)));
    return name;
  }
}

/** Filter in TF.js's layout with the following batch norm folded in, and the resulting bias. */
function foldedFilter(graph: LayerGraph, weights: Weights, conv: Layer, bn: Layer | undefined): { filter: Float32Array; shape: number[]; bias: Float32Array } {
  const w = weightOf(weights, conv, 'weight');
  const filter = Float32Array.from(w.values);
  const out = graph.tensors[conv.output]!.c;
  const bias = new Float32Array(out);
  if (conv.bias) bias.set(weightOf(weights, conv, 'bias').values);
  if (bn) {
    const { scale, shift } = batchNormAffine(weights, bn);
    // Output channel o is the last index in both [kh, kw, in, out] and depthwise [kh, kw, c, m] (o = c·m + q).
    for (let i = 0; i < filter.length; i++) filter[i]! *= scale[i % out] as number;
    for (let o = 0; o < out; o++) bias[o] = (bias[o] as number) * (scale[o] as number) + (shift[o] as number);
  }
  return { filter, shape: w.shape, bias };
}

export function exportGraphModel(graph: LayerGraph, weights: Weights, metadata: Record<string, string> = {}): GraphModelFiles {
  const g = new GraphDefBuilder();
  const names: string[] = [];
  const { h, w, c } = graph.input;
  names[0] = g.op('Placeholder', [], { dtype: FLOAT, shape: { shape: { dim: [{ size: '-1' }, { size: String(h) }, { size: String(w) }, { size: String(c) }] } } }, 'input');
  const folded = foldableBatchNorms(graph);
  const absorbed = new Set(folded.values());
  const scalar = (v: number) => g.constant([v], []);
  const activation = (x: string, act: Layer['act']): string => {
    switch (act) {
      case 'none':
        return x;
      case 'relu':
        return g.op('Relu', [x], { T: FLOAT });
      case 'relu6':
        return g.op('Relu6', [x], { T: FLOAT });
      case 'sigmoid':
        return g.op('Sigmoid', [x], { T: FLOAT });
      case 'swish':
        return g.op('Mul', [x, g.op('Sigmoid', [x], { T: FLOAT })], { T: FLOAT });
      case 'hswish':
        return g.op('Mul', [x, g.op('Mul', [g.op('Relu6', [g.op('AddV2', [x, scalar(3)], { T: FLOAT })], { T: FLOAT }), scalar(1 / 6)], { T: FLOAT })], { T: FLOAT });
    }
  };
  const pad = (x: string, p: number, value: number): string =>
    p === 0 ? x : g.op('PadV2', [x, g.constant([0, 0, p, p, p, p, 0, 0], [4, 2], 'int32'), scalar(value)], { T: FLOAT });
  const weight = (layer: Layer, role: string) => weightOf(weights, layer, role);

  graph.layers.forEach((layer, index) => {
    const inputs = layer.inputs.map((t) => names[t] as string);
    const x = inputs[0] as string;
    const inShape = graph.tensors[layer.inputs[0] ?? layer.output]!;
    const outShape = graph.tensors[layer.output]!;
    let out: string;
    switch (layer.kind) {
      case 'conv': {
        const bnIndex = folded.get(index);
        const withBatchNorm = foldedFilter(graph, weights, layer, bnIndex === undefined ? undefined : graph.layers[bnIndex]);
        // TF.js runs no convolution with stride and dilation both above 1: write the equivalent
        // filter with zeros between its taps, at dilation 1.
        const dense = layer.stride > 1 && layer.dilation > 1;
        const { filter, shape } = dense ? spreadTaps(withBatchNorm.filter, withBatchNorm.shape, layer.dilation) : withBatchNorm;
        const bias = withBatchNorm.bias;
        const attr = {
          T: FLOAT,
          strides: ints([1, layer.stride, layer.stride, 1]),
          padding: text('EXPLICIT'),
          explicit_paddings: ints([0, 0, layer.pad, layer.pad, layer.pad, layer.pad, 0, 0]),
          data_format: text('NHWC'),
          dilations: ints(dense ? [1, 1, 1, 1] : [1, layer.dilation, layer.dilation, 1]),
        };
        const depthwise = layer.groups > 1 && layer.groups === inShape.c;
        let y: string;
        if (layer.groups === 1 || depthwise) {
          y = g.op(depthwise ? 'DepthwiseConv2dNative' : 'Conv2D', [x, g.constant(filter, shape)], attr);
        } else {
          // Grouped: one convolution per group, concatenated.
          const per = outShape.c / layer.groups;
          const inPer = inShape.c / layer.groups;
          const [kh, kw] = shape as [number, number];
          const parts: string[] = [];
          for (let gi = 0; gi < layer.groups; gi++) {
            const slice = g.op('Slice', [x, g.constant([0, 0, 0, gi * inPer], [4], 'int32'), g.constant([-1, -1, -1, inPer], [4], 'int32')], { T: FLOAT, Index: { type: 'DT_INT32' } });
            const part = new Float32Array(kh * kw * inPer * per);
            for (let k = 0; k < kh * kw * inPer; k++) for (let o = 0; o < per; o++) part[k * per + o] = filter[k * outShape.c + gi * per + o] as number;
            parts.push(g.op('Conv2D', [slice, g.constant(part, [kh, kw, inPer, per])], attr));
          }
          y = g.op('ConcatV2', [...parts, g.constant([3], [], 'int32')], { T: FLOAT, N: { i: String(parts.length) } });
        }
        out = g.op('BiasAdd', [y, g.constant(bias, [bias.length])], { T: FLOAT, data_format: text('NHWC') });
        break;
      }
      case 'bn': {
        if (absorbed.has(index)) {
          out = x;
          break;
        }
        const { scale, shift } = batchNormAffine(weights, layer);
        out = g.op('AddV2', [g.op('Mul', [x, g.constant(scale, [scale.length])], { T: FLOAT }), g.constant(shift, [shift.length])], { T: FLOAT });
        break;
      }
      case 'act':
        out = activation(x, layer.act);
        break;
      case 'maxpool':
      case 'avgpool': {
        const window = { T: FLOAT, ksize: ints([1, layer.kernel, layer.kernel, 1]), strides: ints([1, layer.stride, layer.stride, 1]), padding: text('VALID'), data_format: text('NHWC') };
        if (layer.kind === 'maxpool') {
          out = g.op('MaxPool', [pad(x, layer.pad, -3.4e38)], window);
          break;
        }
        out = g.op('AvgPool', [pad(x, layer.pad, 0)], window);
        if (!layer.countIncludePad && layer.pad > 0) {
          // Average over the cells inside the image only: rescale by window / cells counted.
          const scale = new Float32Array(outShape.h * outShape.w);
          const inside = (o: number, size: number) => {
            const start = o * layer.stride - layer.pad;
            return Math.min(size, start + layer.kernel) - Math.max(0, start);
          };
          for (let i = 0; i < outShape.h; i++) for (let j = 0; j < outShape.w; j++) scale[i * outShape.w + j] = (layer.kernel * layer.kernel) / (inside(i, inShape.h) * inside(j, inShape.w));
          out = g.op('Mul', [out, g.constant(scale, [1, outShape.h, outShape.w, 1])], { T: FLOAT });
        }
        break;
      }
      case 'gap':
        out = g.op('Mean', [x, g.constant([1, 2], [2], 'int32')], { T: FLOAT, Tidx: { type: 'DT_INT32' }, keep_dims: { b: true } });
        break;
      case 'se': {
        const pooled = g.op('Reshape', [g.op('Mean', [x, g.constant([1, 2], [2], 'int32')], { T: FLOAT, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } }), g.constant([-1, inShape.c], [2], 'int32')], { T: FLOAT });
        const dense = (v: string, role: string, n: number, m: number) =>
          g.op('BiasAdd', [g.op('MatMul', [v, g.constant(weight(layer, `${role}.weight`).values, [n, m])], { T: FLOAT, transpose_a: { b: false }, transpose_b: { b: false } }), g.constant(weight(layer, `${role}.bias`).values, [m])], { T: FLOAT, data_format: text('NHWC') });
        const gate = g.op('Sigmoid', [dense(activation(dense(pooled, 'reduce', inShape.c, layer.squeeze), layer.act), 'expand', layer.squeeze, inShape.c)], { T: FLOAT });
        out = g.op('Mul', [x, g.op('Reshape', [gate, g.constant([-1, 1, 1, inShape.c], [4], 'int32')], { T: FLOAT })], { T: FLOAT });
        break;
      }
      case 'add':
        out = g.op('AddN', inputs, { T: FLOAT, N: { i: String(inputs.length) } });
        break;
      case 'concat':
        out = g.op('ConcatV2', [...inputs, g.constant([3], [], 'int32')], { T: FLOAT, N: { i: String(inputs.length) } });
        break;
      case 'dense': {
        const wt = weight(layer, 'weight');
        let y = g.op('MatMul', [g.op('Reshape', [x, g.constant([-1, inShape.c], [2], 'int32')], { T: FLOAT }), g.constant(wt.values, wt.shape)], { T: FLOAT, transpose_a: { b: false }, transpose_b: { b: false } });
        if (layer.bias) y = g.op('BiasAdd', [y, g.constant(weight(layer, 'bias').values, [outShape.c])], { T: FLOAT, data_format: text('NHWC') });
        out = g.op('Reshape', [y, g.constant([-1, 1, 1, outShape.c], [4], 'int32')], { T: FLOAT });
        break;
      }
      case 'zero': {
        // Zeros shaped like the block's input (a NAS-Bench-201 node with only `none` edges)...
        const reference = graph.composites[layer.composite]?.input ?? 0;
        const r = graph.tensors[reference] as Shape;
        if (r.h === outShape.h && r.w === outShape.w && r.c === outShape.c) {
          out = g.op('Mul', [names[reference] as string, scalar(0)], { T: FLOAT });
        } else {
          // ...or of another shape (a user graph's): [batch, 1, 1, 1] zeros from the input, broadcast over [1, h, w, c] ones of zeros.
          const batch = g.op('Mul', [g.op('Mean', [names[0] as string, g.constant([1, 2, 3], [3], 'int32')], { T: FLOAT, Tidx: { type: 'DT_INT32' }, keep_dims: { b: true } }), scalar(0)], { T: FLOAT });
          out = g.op('AddV2', [batch, g.constant(new Float32Array(outShape.h * outShape.w * outShape.c), [1, outShape.h, outShape.w, outShape.c])], { T: FLOAT });
        }
        break;
      }
    }
    names[layer.output] = out;
  });
  g.op('Reshape', [names[graph.output] as string, g.constant([-1, graph.classes], [2], 'int32')], { T: FLOAT }, 'logits');

  const total = g.chunks.reduce((n, c) => n + c.length, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const chunk of g.chunks) {
    weightData.set(chunk, offset);
    offset += chunk.length;
  }
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'procnas',
    convertedBy: 'procnas',
    modelTopology: { node: g.nodes, library: {}, versions: { producer: 1 } },
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: g.weightSpecs }],
    userDefinedMetadata: metadata,
  };
  return { modelJson, weightData };
}

/** Writes model.json and its weights file into a folder. */
export function writeGraphModel(dir: string, files: GraphModelFiles): void {
  makeFolder(dir);
  writeFileAtomic(join(dir, 'model.json'), JSON.stringify(files.modelJson));
  writeFileAtomic(join(dir, WEIGHTS_FILE), files.weightData);
}

/** A [kh, kw, ...] filter with `dilation - 1` zeros between its taps in both spatial axes. */
function spreadTaps(filter: Float32Array, shape: number[], dilation: number): { filter: Float32Array; shape: number[] } {
  const [kh, kw, ...rest] = shape as [number, number, ...number[]];
  const inner = rest.reduce((n, d) => n * d, 1);
  const h = (kh - 1) * dilation + 1;
  const w = (kw - 1) * dilation + 1;
  const out = new Float32Array(h * w * inner);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) out.set(filter.subarray((y * kw + x) * inner, (y * kw + x + 1) * inner), (y * dilation * w + x * dilation) * inner);
  }
  return { filter: out, shape: [h, w, ...rest] };
}
