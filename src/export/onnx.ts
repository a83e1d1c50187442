/**
 * ONNX export (opset 13) of a lowered architecture and its trained weights, written through the
 * official ONNX protobuf schema (onnx-proto). The model takes NCHW float32 input, like PyTorch
 * exports, and returns logits [batch, classes]. Batch norms that follow a convolution are folded
 * into it for inference; the architecture's notation and cost figures travel as metadata.
 */
import onnxProto from 'onnx-proto';
import type { Layer, LayerGraph } from '../space/index.js';
import type { WeightTensor, Weights } from './errors.js';
import { BN_EPSILON, batchNormAffine, foldableBatchNorms, weightOf as weight } from './fold.js';

const { onnx } = onnxProto;

export const OPSET = 13;

type Attribute = { name: string; i?: number; f?: number; ints?: number[] };

class OnnxGraphBuilder {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private counter = 0;

  node(op: string, inputs: string[], attributes: Attribute[] = [], output = this.fresh(op)): string {
    this.nodes.push(
      onnx.NodeProto.create({
        opType: op,
        input: inputs,
        output: [output],
        name: `${op}_${this.nodes.length}`,
        attribute: attributes.map((a) =>
          onnx.AttributeProto.create(
            a.ints !== undefined
              ? { name: a.name, type: onnx.AttributeProto.AttributeType.INTS, ints: a.ints }
              : a.f !== undefined
                ? { name: a.name, type: onnx.AttributeProto.AttributeType.FLOAT, f: a.f }
                : { name: a.name, type: onnx.AttributeProto.AttributeType.INT, i: a.i ?? 0 },
          ),
        ),
      }),
    );
    return output;
  }

  constant(name: string, shape: number[], values: Float32Array | number[]): string {
    const unique = `${name}_${this.counter++}`;
    // raw_data: little-endian float32 bytes, far cheaper than a repeated field for large weights.
    const floats = values instanceof Float32Array ? values : Float32Array.from(values);
    const rawData = new Uint8Array(floats.buffer.slice(floats.byteOffset, floats.byteOffset + floats.byteLength));
    this.initializers.push(onnx.TensorProto.create({ name: unique, dims: shape, dataType: onnx.TensorProto.DataType.FLOAT, rawData }));
    return unique;
  }

  int64s(name: string, values: number[]): string {
    const unique = `${name}_${this.counter++}`;
    this.initializers.push(onnx.TensorProto.create({ name: unique, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values }));
    return unique;
  }

  fresh(prefix: string): string {
    return `${prefix.toLowerCase()}_${this.counter++}`;
  }
}

/** A conv filter in ONNX's [out, in/groups, kh, kw] layout from TF.js's [kh, kw, in/groups, out] (or depthwise [kh, kw, c, m]). */
function onnxFilter(w: WeightTensor, depthwise: boolean): { shape: number[]; values: Float32Array } {
  const [kh, kw, a, b] = w.shape as [number, number, number, number];
  const out = depthwise ? a * b : b;
  const perGroup = depthwise ? 1 : a;
  const values = new Float32Array(w.values.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < a; i++) {
        for (let j = 0; j < b; j++) {
          const src = ((y * kw + x) * a + i) * b + j;
          const o = depthwise ? i * b + j : j;
          const ci = depthwise ? 0 : i;
          values[((o * perGroup + ci) * kh + y) * kw + x] = w.values[src] as number;
        }
      }
    }
  }
  return { shape: [out, perGroup, kh, kw], values };
}

export interface OnnxExportOptions {
  /** Stored as model metadata (e.g. notation, cost figures). */
  metadata?: Record<string, string>;
}

export function exportOnnx(graph: LayerGraph, weights: Weights, options: OnnxExportOptions = {}): Uint8Array {
  const g = new OnnxGraphBuilder();
  const names: string[] = [];
  names[0] = 'input';
  const fold = foldableBatchNorms(graph);
  const folded = new Set(fold.values());
  const activation = (x: string, act: Layer['act']): string => {
    switch (act) {
      case 'none':
        return x;
      case 'relu':
        return g.node('Relu', [x]);
      case 'relu6':
        return g.node('Clip', [x, g.constant('zero', [], [0]), g.constant('six', [], [6])]);
      case 'sigmoid':
        return g.node('Sigmoid', [x]);
      case 'swish':
        return g.node('Mul', [x, g.node('Sigmoid', [x])]);
      case 'hswish':
        return g.node('Mul', [x, g.node('HardSigmoid', [x], [{ name: 'alpha', f: 1 / 6 }, { name: 'beta', f: 0.5 }])]);
    }
  };

  graph.layers.forEach((layer, index) => {
    const inputs = layer.inputs.map((t) => names[t] as string);
    const x = inputs[0] as string;
    const inShape = graph.tensors[layer.inputs[0] ?? layer.output]!;
    let out: string;
    switch (layer.kind) {
      case 'conv': {
        const depthwise = layer.groups > 1 && layer.groups === inShape.c;
        const filter = onnxFilter(weight(weights, layer, 'weight'), depthwise);
        const channels = filter.shape[0] as number;
        const bias = new Float32Array(channels);
        if (layer.bias) bias.set(weight(weights, layer, 'bias').values);
        const bnIndex = fold.get(index);
        if (bnIndex !== undefined) {
          const { scale, shift } = batchNormAffine(weights, graph.layers[bnIndex]!);
          const perOut = filter.values.length / channels;
          for (let o = 0; o < channels; o++) {
            for (let k = 0; k < perOut; k++) filter.values[o * perOut + k]! *= scale[o] as number;
            bias[o] = (bias[o] as number) * (scale[o] as number) + (shift[o] as number);
          }
        }
        out = g.node('Conv', [x, g.constant(`${layer.name}.weight`, filter.shape, filter.values), g.constant(`${layer.name}.bias`, [channels], bias)], [
          { name: 'kernel_shape', ints: [layer.kernel, layer.kernel] },
          { name: 'strides', ints: [layer.stride, layer.stride] },
          { name: 'pads', ints: [layer.pad, layer.pad, layer.pad, layer.pad] },
          { name: 'dilations', ints: [layer.dilation, layer.dilation] },
          { name: 'group', i: layer.groups },
        ]);
        break;
      }
      case 'bn':
        if (folded.has(index)) {
          out = x;
          break;
        }
        out = g.node('BatchNormalization', [x, ...['gamma', 'beta', 'mean', 'variance'].map((r) => g.constant(`${layer.name}.${r}`, [inShape.c], weight(weights, layer, r).values))], [{ name: 'epsilon', f: BN_EPSILON }]);
        break;
      case 'act':
        out = activation(x, layer.act);
        break;
      case 'maxpool':
      case 'avgpool':
        out = g.node(layer.kind === 'maxpool' ? 'MaxPool' : 'AveragePool', [x], [
          { name: 'kernel_shape', ints: [layer.kernel, layer.kernel] },
          { name: 'strides', ints: [layer.stride, layer.stride] },
          { name: 'pads', ints: [layer.pad, layer.pad, layer.pad, layer.pad] },
          ...(layer.kind === 'avgpool' ? [{ name: 'count_include_pad', i: layer.countIncludePad ? 1 : 0 }] : []),
        ]);
        break;
      case 'gap':
        out = g.node('GlobalAveragePool', [x]);
        break;
      case 'se': {
        const c = inShape.c;
        const s = layer.squeeze;
        const transposeTo = (w: WeightTensor, rows: number, cols: number): Float32Array => {
          const t = new Float32Array(rows * cols);
          for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = w.values[i * cols + j] as number;
          return t;
        };
        const pooled = g.node('GlobalAveragePool', [x]);
        const reduced = g.node('Conv', [pooled, g.constant(`${layer.name}.reduce`, [s, c, 1, 1], transposeTo(weight(weights, layer, 'reduce.weight'), c, s)), g.constant(`${layer.name}.reduce.bias`, [s], weight(weights, layer, 'reduce.bias').values)], [{ name: 'kernel_shape', ints: [1, 1] }]);
        const expanded = g.node('Conv', [activation(reduced, layer.act), g.constant(`${layer.name}.expand`, [c, s, 1, 1], transposeTo(weight(weights, layer, 'expand.weight'), s, c)), g.constant(`${layer.name}.expand.bias`, [c], weight(weights, layer, 'expand.bias').values)], [{ name: 'kernel_shape', ints: [1, 1] }]);
        out = g.node('Mul', [x, g.node('Sigmoid', [expanded])]);
        break;
      }
      case 'add':
        out = g.node('Sum', inputs);
        break;
      case 'concat':
        out = g.node('Concat', inputs, [{ name: 'axis', i: 1 }]);
        break;
      case 'dense': {
        const w = weight(weights, layer, 'weight');
        const gemmInputs = [g.node('Flatten', [x], [{ name: 'axis', i: 1 }]), g.constant(`${layer.name}.weight`, w.shape, w.values)];
        if (layer.bias) gemmInputs.push(g.constant(`${layer.name}.bias`, [w.shape[1] as number], weight(weights, layer, 'bias').values));
        out = g.node('Unsqueeze', [g.node('Gemm', gemmInputs), g.int64s('axes', [2, 3])]);
        break;
      }
      case 'zero': {
        // A NAS-Bench-201 node with only `none` edges: zeros shaped like the cell's input.
        const reference = graph.composites[layer.composite]?.input ?? 0;
        const r = graph.tensors[reference]!;
        const s = graph.tensors[layer.output]!;
        if (r.h === s.h && r.w === s.w && r.c === s.c) {
          out = g.node('Mul', [names[reference] as string, g.constant('zero', [], [0])]);
        } else {
          // A user graph's zero of another shape: [batch, c, h, w] zeros, the batch read off the input.
          const batch = g.node('Slice', [g.node('Shape', ['input']), g.int64s('starts', [0]), g.int64s('ends', [1])]);
          out = g.node('ConstantOfShape', [g.node('Concat', [batch, g.int64s('dims', [s.c, s.h, s.w])], [{ name: 'axis', i: 0 }])]);
        }
        break;
      }
    }
    names[layer.output] = out;
  });

  g.node('Flatten', [names[graph.output] as string], [{ name: 'axis', i: 1 }], 'logits');
  const { h, w, c } = graph.input;
  const valueInfo = (name: string, dims: Array<number | string>) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'procnas',
    opsetImport: [{ domain: '', version: OPSET }],
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: onnx.GraphProto.create({
      name: graph.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo('input', ['batch', c, h, w])],
      output: [valueInfo('logits', ['batch', graph.classes])],
    }),
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * The metadata an ONNX model carries (`metadata_props`), or none when the bytes are not an ONNX
 * model (whoever runs the model reports that better).
 */
export function onnxMetadata(model: Uint8Array): Record<string, string> {
  let decoded: { metadataProps?: Array<{ key?: string | null; value?: string | null }> | null };
  try {
    decoded = onnx.ModelProto.decode(model);
  } catch {
    return {};
  }
  return Object.fromEntries((decoded.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
}

/** The model with these metadata entries set (added, or replacing those of the same key). */
export function withMetadata(model: Uint8Array, metadata: Record<string, string>): Uint8Array {
  const decoded = onnx.ModelProto.decode(model);
  const kept = (decoded.metadataProps ?? []).filter((p) => !((p.key ?? '') in metadata));
  decoded.metadataProps = [...kept, ...Object.entries(metadata).map(([key, value]) => onnx.StringStringEntryProto.create({ key, value }))];
  return onnx.ModelProto.encode(decoded).finish();
}
