/**
 * Post-training int8 quantisation of an exported ONNX model, in QDQ form (QuantizeLinear /
 * DequantizeLinear pairs, which onnxruntime runs, fusing what it can into int8 kernels):
 *
 * - weights of every convolution and dense layer: int8, symmetric, one scale per output channel
 *   (the exporter has folded the batch norms into them already); their biases int32 at the
 *   input's scale times the weight's, as int8 kernels take them;
 * - activations: int8, asymmetric, one scale and zero point per tensor, from their range over a
 *   few hundred calibration images (min/max, or percentiles that ignore rare outliers). The
 *   network's input and every tensor an int8 runtime would write are quantised; an output that
 *   only an activation reads is not (runtimes fuse the activation into the layer).
 *
 * The model stays float at its input and output (logits), so it is fed as the float export is.
 */
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { toNchw } from './classify.js';
import type { LabelledImages } from './classify.js';
import { DEFAULT_QUANTIZE } from './quantize-options.js';
import type { QuantizeOptions } from './quantize-options.js';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

export { DEFAULT_QUANTIZE } from './quantize-options.js';
export type { QuantizeOptions } from './quantize-options.js';

/** Ops whose output an int8 runtime writes in int8 (shape ops such as Flatten pass it through). */
const QUANTISED_OUTPUTS = new Set(['Conv', 'Gemm', 'Relu', 'Clip', 'Sigmoid', 'HardSigmoid', 'Mul', 'Sum', 'Add', 'Concat', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'ConstantOfShape']);
/** Activations a runtime fuses into the layer before them. */
const FUSED_ACTIVATIONS = new Set(['Relu', 'Clip']);
/** Ops that only reshape: their output has their input's scale. */
const RESHAPES = new Set(['Flatten', 'Unsqueeze', 'Reshape']);
/** Values kept per tensor for percentiles (evenly strided over what calibration sees). */
const PERCENTILE_SAMPLES = 200_000;

interface Range {
  lo: number;
  hi: number;
}

interface Quantisation {
  scale: number;
  zeroPoint: number;
}

/** int8 scale and zero point of a range, widened to hold 0 exactly. */
function affine({ lo, hi }: Range): Quantisation {
  const low = Math.min(lo, 0);
  const high = Math.max(hi, 0);
  const scale = high > low ? (high - low) / 255 : 1;
  return { scale, zeroPoint: Math.max(-128, Math.min(127, Math.round(-128 - low / scale))) };
}

function int8Tensor(name: string, dims: number[], values: Int8Array): TensorProto {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.INT8, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
}

function int32Tensor(name: string, dims: number[], values: Int32Array): TensorProto {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.INT32, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
}

function floatTensor(name: string, dims: number[], values: Float32Array): TensorProto {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
}

/** An initializer's float values (the exporter writes raw little-endian float32). */
function floatsOf(t: TensorProto): Float32Array {
  const raw = t.rawData;
  if (raw && raw.length > 0) return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  return Float32Array.from(t.floatData ?? []);
}

function node(opType: string, input: string[], output: string, axis?: number): NodeProto {
  return onnx.NodeProto.create({
    opType,
    input,
    output: [output],
    name: `${opType}_${output}`,
    attribute: axis === undefined ? [] : [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: axis })],
  });
}

/**
 * Symmetric int8 values of a weight tensor, one scale per output channel (the largest magnitude
 * of the channel maps to 127): channels on the first axis (`axis` 0) or the last (1).
 */
function perChannelInt8(values: Float32Array, channels: number, axis: 0 | 1): { q: Int8Array; scales: Float32Array } {
  const perChannel = values.length / channels;
  const channelOf = (i: number): number => (axis === 0 ? Math.floor(i / perChannel) : i % channels);
  const scales = new Float32Array(channels);
  for (let i = 0; i < values.length; i++) scales[channelOf(i)] = Math.max(scales[channelOf(i)] as number, Math.abs(values[i] as number));
  for (let k = 0; k < channels; k++) scales[k] = (scales[k] as number) > 0 ? (scales[k] as number) / 127 : 1;
  const q = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round((values[i] as number) / (scales[channelOf(i)] as number))));
  return { q, scales };
}

/** The tensors to quantise: the input and what int8 runtimes write, in graph order. */
function activationsOf(nodes: NodeProto[], integers: Set<string>): string[] {
  const consumers = new Map<string, NodeProto[]>();
  for (const n of nodes) for (const i of n.input ?? []) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const out: string[] = [];
  for (const n of nodes) {
    const t = n.output?.[0] as string;
    if (!QUANTISED_OUTPUTS.has(n.opType ?? '') || integers.has(t)) continue;
    const readers = consumers.get(t) ?? [];
    if (readers.length > 0 && readers.every((r) => FUSED_ACTIVATIONS.has(r.opType ?? ''))) continue;
    out.push(t);
  }
  return out;
}

/** Tensors that hold integers (shapes and the like): never quantised. */
function integerTensors(graph: onnxProto.onnx.IGraphProto): Set<string> {
  const integers = new Set((graph.initializer ?? []).filter((t) => t.dataType !== onnx.TensorProto.DataType.FLOAT).map((t) => t.name as string));
  for (const n of graph.node ?? []) {
    const first = n.input?.[0];
    // ConstantOfShape reads a shape and writes floats (zeros).
    if (n.opType === 'Shape' || (n.opType !== 'ConstantOfShape' && first !== undefined && integers.has(first))) integers.add(n.output?.[0] as string);
  }
  return integers;
}

/** Ranges of `names` over the calibration images, as the float model computes them. */
async function calibrate(model: Uint8Array, names: string[], images: LabelledImages, shape: { h: number; w: number; c: number }, o: QuantizeOptions): Promise<Map<string, Range>> {
  const decoded = onnx.ModelProto.decode(model);
  const graph = decoded.graph as InstanceType<typeof onnx.GraphProto>;
  const inputName = graph.input[0]?.name as string;
  const inner = names.filter((n) => n !== inputName);
  for (const name of inner) graph.output.push(onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }));
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(decoded).finish(), { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'disabled' });
  const ranges = new Map<string, Range>(names.map((n) => [n, { lo: Number.POSITIVE_INFINITY, hi: Number.NEGATIVE_INFINITY }]));
  const samples = new Map<string, number[]>(names.map((n) => [n, []]));
  const pixels = shape.h * shape.w * shape.c;
  const batch = 64;
  const nchw = new Float32Array(batch * pixels);
  const see = (name: string, values: Float32Array): void => {
    const r = ranges.get(name) as Range;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (v < r.lo) r.lo = v;
      if (v > r.hi) r.hi = v;
    }
    if (o.calibration === 'percentile') {
      const kept = samples.get(name) as number[];
      const stride = Math.max(1, Math.ceil((values.length * Math.ceil(images.count / batch)) / PERCENTILE_SAMPLES));
      for (let i = 0; i < values.length; i += stride) kept.push(values[i] as number);
    }
  };
  try {
    for (let first = 0; first < images.count; first += batch) {
      const count = Math.min(batch, images.count - first);
      const data = toNchw(images.x.subarray(first * pixels, (first + count) * pixels), count, shape, nchw);
      if (names.includes(inputName)) see(inputName, data);
      const result = await session.run({ [inputName]: new ort.Tensor('float32', data, [count, shape.c, shape.h, shape.w]) }, inner);
      for (const name of inner) {
        const t = result[name] as ort.Tensor;
        see(name, t.data as Float32Array);
        t.dispose();
      }
    }
  } finally {
    await session.release();
  }
  if (o.calibration === 'percentile') {
    for (const [name, kept] of samples) {
      if (kept.length === 0) continue;
      kept.sort((a, b) => a - b);
      const at = (p: number): number => kept[Math.min(kept.length - 1, Math.max(0, Math.round((p / 100) * (kept.length - 1))))] as number;
      ranges.set(name, { lo: at(100 - o.percentile), hi: at(o.percentile) });
    }
  }
  return ranges;
}

/**
 * The int8 QDQ form of a float model exported by `exportOnnx`, its activation ranges taken over
 * `calibration` (NHWC images of `shape`, as the engine prepares them).
 */
export async function quantizeOnnx(model: Uint8Array, calibration: LabelledImages, shape: { h: number; w: number; c: number }, options: Partial<QuantizeOptions> = {}): Promise<Uint8Array> {
  const o = { ...DEFAULT_QUANTIZE, ...options };
  const decoded = onnx.ModelProto.decode(model);
  const graph = decoded.graph as InstanceType<typeof onnx.GraphProto>;
  const inputName = graph.input[0]?.name as string;
  const activations = [inputName, ...activationsOf(graph.node, integerTensors(graph))];
  const ranges = await calibrate(model, activations, calibration, shape, o);
  const initializers = new Map(graph.initializer.map((t) => [t.name as string, t]));
  const producers = new Map(graph.node.map((n) => [n.output?.[0] as string, n]));

  const quantised = new Map<string, Quantisation>();
  const added: TensorProto[] = [];
  const scalar = (name: string, q: Quantisation): [string, string] => {
    added.push(floatTensor(`${name}.scale`, [], Float32Array.of(q.scale)), int8Tensor(`${name}.zero_point`, [], Int8Array.of(q.zeroPoint)));
    return [`${name}.scale`, `${name}.zero_point`];
  };
  /** The scale an activation reaches a layer with (through reshapes), if it is quantised. */
  const scaleOf = (t: string): number | undefined => {
    const q = quantised.get(t);
    if (q) return q.scale;
    const p = producers.get(t);
    return p && RESHAPES.has(p.opType ?? '') ? scaleOf(p.input?.[0] as string) : undefined;
  };

  // Activations: a QuantizeLinear / DequantizeLinear pair right after each, read in its place.
  const after = new Map<string, NodeProto[]>();
  const renamed = new Map<string, string>();
  for (const t of activations) {
    const q = affine(ranges.get(t) as Range);
    quantised.set(t, q);
    const [scale, zero] = scalar(t, q);
    after.set(t, [node('QuantizeLinear', [t, scale, zero], `${t}.q`), node('DequantizeLinear', [`${t}.q`, scale, zero], `${t}.dq`)]);
    renamed.set(t, `${t}.dq`);
  }

  // Weights (and biases) of convolutions and dense layers: int8 per output channel, behind a DequantizeLinear.
  const weightNodes: NodeProto[] = [];
  const dropped = new Set<string>();
  for (const n of graph.node) {
    if (n.opType !== 'Conv' && n.opType !== 'Gemm') continue;
    const inputs = n.input;
    if (!inputs) continue;
    const wName = inputs[1] as string;
    const w = initializers.get(wName);
    if (!w) continue;
    const dims = (w.dims ?? []).map(Number);
    // Conv filters are [out, in/groups, kh, kw]; Gemm weights (TF.js's dense) [in, out].
    const axis = n.opType === 'Conv' ? 0 : 1;
    const channels = dims[axis] as number;
    const { q, scales } = perChannelInt8(floatsOf(w), channels, axis);
    added.push(int8Tensor(`${wName}.int8`, dims, q), floatTensor(`${wName}.scales`, [channels], scales), int8Tensor(`${wName}.zero_points`, [channels], new Int8Array(channels)));
    weightNodes.push(node('DequantizeLinear', [`${wName}.int8`, `${wName}.scales`, `${wName}.zero_points`], `${wName}.dq`, axis));
    inputs[1] = `${wName}.dq`;
    dropped.add(wName);
    // The bias in int32 at the input's scale times each channel's weight scale, when the input is quantised.
    const bName = inputs[2];
    const bias = bName ? initializers.get(bName) : undefined;
    const inputScale = scaleOf(inputs[0] as string);
    if (bName && bias && inputScale !== undefined) {
      const b = floatsOf(bias);
      const bScales = Float32Array.from(scales, (s) => s * inputScale);
      const bq = Int32Array.from(b, (v, k) => Math.round(v / (bScales[k] as number)));
      added.push(int32Tensor(`${bName}.int32`, [channels], bq), floatTensor(`${bName}.scales`, [channels], bScales), int32Tensor(`${bName}.zero_points`, [channels], new Int32Array(channels)));
      weightNodes.push(node('DequantizeLinear', [`${bName}.int32`, `${bName}.scales`, `${bName}.zero_points`], `${bName}.dq`, 0));
      inputs[2] = `${bName}.dq`;
      dropped.add(bName);
    }
  }

  // Readers of a quantised tensor read its dequantised copy; the pairs go right after their tensors.
  const nodes: NodeProto[] = [...weightNodes, ...(after.get(inputName) ?? [])];
  for (const n of graph.node) {
    n.input = (n.input ?? []).map((i) => renamed.get(i) ?? i);
    nodes.push(n, ...(after.get(n.output?.[0] as string) ?? []));
  }
  graph.node = nodes;
  graph.initializer = [...graph.initializer.filter((t) => !dropped.has(t.name as string)), ...added];
  return onnx.ModelProto.encode(decoded).finish();
}
