/**
 * A trainable network built from a LayerGraph: one TF.js variable set per layer and a forward
 * pass that executes the graph's basic operations in order. The same graph the cost model
 * scores is the one trained, so parameter counts agree by construction (and are tested).
 */
import { createRng } from '../data/random.js';
import type { Composite, Layer, LayerGraph, Shape } from '../space/index.js';
import type { FusedActivation } from './kernels/batch-norm.js';
import { axisRoles, morph } from './morph.js';
import { batchNormDepthwiseTrain, batchNormTrain } from './ops/batch-norm.js';
import type { StatisticsSink } from './ops/batch-norm.js';
import { fusesWithDepthwise } from './kernels/batch-norm-depthwise.js';
import { globalAverage } from './ops/global-average.js';
import { movingAverage } from './ops/update.js';
import { tf } from './tf.js';
import { layerVariables, sameShape } from './variables.js';
import type { VariableRole, VariableSpec, Weights } from './variables.js';

const BN_EPSILON = 1e-5;
/** PyTorch's convention: running = (1 - momentum) · running + momentum · batch statistic. */
const BN_MOMENTUM = 0.1;

export interface NetworkOptions {
  /** Seed of the weight initialisation. */
  seed?: number;
}

/** Variables of one layer, by role. */
interface LayerWeights {
  weight?: tf.Variable;
  bias?: tf.Variable;
  gamma?: tf.Variable;
  beta?: tf.Variable;
  mean?: tf.Variable;
  variance?: tf.Variable;
  reduceWeight?: tf.Variable;
  reduceBias?: tf.Variable;
  expandWeight?: tf.Variable;
  expandBias?: tf.Variable;
}

/** Where each variable role lives in a layer's weights. */
const FIELD: Record<VariableRole, keyof LayerWeights> = {
  weight: 'weight',
  bias: 'bias',
  gamma: 'gamma',
  beta: 'beta',
  mean: 'mean',
  variance: 'variance',
  'reduce.weight': 'reduceWeight',
  'reduce.bias': 'reduceBias',
  'expand.weight': 'expandWeight',
  'expand.bias': 'expandBias',
};

const ROLES = Object.keys(FIELD) as VariableRole[];

/** What a network took from a trained one: values, of how many, and residual blocks started as the identity. */
export interface InheritanceCounts {
  inherited: number;
  of: number;
  /** Of the inherited values, those reshaped from a variable of another shape (wider, narrower, another kernel). */
  morphed: number;
  identities: number;
}

/** TF.js registers variables by name process-wide, so names carry a process-wide counter. */
let variableCounter = 0;

type Padding = [[number, number], [number, number], [number, number], [number, number]];

function explicitPad(p: number): Padding {
  return [[0, 0], [p, p], [p, p], [0, 0]];
}

export class Network {
  readonly graph: LayerGraph;
  /** Trainable variables, keyed `<layer name>.<role>`, in layer order. */
  readonly variables = new Map<string, tf.Variable>();
  private readonly layerWeights: LayerWeights[];
  /** Batch norms followed by a ReLU/ReLU6 that only they feed: the pair runs as one op in training. */
  private readonly fusedActivation = new Map<number, FusedActivation>();
  private readonly absorbed = new Set<number>();
  /**
   * Batch norms whose output (through their fused activation, if any) feeds only a depthwise
   * convolution the fused kernels take, keyed by the batch norm, valued by the convolution: in
   * training the three run as one op, and the batch norm's output is never materialised.
   */
  private readonly fusedDepthwise = new Map<number, number>();
  /** Convolutions a fused op before them computes: nothing to do at their turn in training. */
  private readonly computedEarlier = new Set<number>();
  /** Draws the per-variable initialiser seeds from the network's seed. */
  private readonly seeds: () => number;
  private readonly seed: number;

  constructor(graph: LayerGraph, options: NetworkOptions = {}) {
    this.graph = graph;
    this.seed = options.seed ?? 0;
    this.seeds = createRng(this.seed);
    this.layerWeights = graph.layers.map((layer) => this.createWeights(layer));
    const consumers = new Map<number, number[]>();
    graph.layers.forEach((layer, i) => layer.inputs.forEach((t) => consumers.set(t, [...(consumers.get(t) ?? []), i])));
    graph.layers.forEach((layer, i) => {
      const users = consumers.get(layer.output) ?? [];
      const next = graph.layers[users[0] ?? -1];
      if (layer.kind === 'bn' && users.length === 1 && next?.kind === 'act' && (next.act === 'relu' || next.act === 'relu6')) {
        this.fusedActivation.set(i, next.act);
        this.absorbed.add(users[0] as number);
      }
    });
    graph.layers.forEach((layer, i) => {
      if (layer.kind !== 'bn') return;
      const act = this.fusedActivation.has(i) ? (consumers.get(layer.output)?.[0] as number) : undefined;
      const users = consumers.get(act === undefined ? layer.output : (graph.layers[act] as Layer).output) ?? [];
      const conv = graph.layers[users[0] ?? -1];
      if (users.length !== 1 || conv?.kind !== 'conv' || conv.bias) return;
      const channels = (graph.tensors[conv.inputs[0] as number] as Shape).c;
      const multiplier = (graph.tensors[conv.output] as Shape).c / channels;
      if (conv.groups !== channels || !fusesWithDepthwise(conv.kernel, conv.dilation, multiplier)) return;
      this.fusedDepthwise.set(i, users[0] as number);
      this.computedEarlier.add(users[0] as number);
    });
  }

  /** Trainable variables in a stable order (for optimisers and checkpoints). */
  trainableVariables(): tf.Variable[] {
    return [...this.variables.values()].filter((v) => v.trainable);
  }

  /** Every variable's current value (trainable or not), keyed `<layer name>.<role>`, for export. */
  weights(): Weights {
    const out: Weights = {};
    for (const [name, v] of this.variables) out[name] = { shape: [...v.shape], values: v.dataSync() as Float32Array };
    return out;
  }

  /**
   * Weight inheritance: every variable whose name a trained network's `weights()` also has takes
   * its values (names are positional, `s<stage>.b<block>.<op>.<role>`, so a child finds its
   * parent's layer where a move left it): as they are where the shapes match, reshaped by network
   * morphism (`morph.ts`) where a move widened, narrowed or changed the kernel of the layer —
   * function-preserving for a wider or larger-kernel child. The others keep their seeded
   * initialisation. A residual block that takes nothing (a block more, as a deepening move
   * appends) starts as the identity, function-preserving too: the batch norm that ends its
   * branch starts at gamma = beta = 0, so the block adds nothing until it learns to. Returns how
   * many values were inherited (and of them reshaped), of how many, and how many blocks start as
   * the identity.
   */
  inherit(from: Weights): InheritanceCounts {
    let inherited = 0;
    let morphed = 0;
    let of = 0;
    /** Layers that took at least one value. */
    const took = new Set<number>();
    // The uneven shares of widened inputs: drawn from the network's own seed, so a resumed search reshapes alike.
    const random = createRng(this.seed + 0x5eed);
    this.graph.layers.forEach((layer, i) => {
      const w = this.layerWeights[i] as LayerWeights;
      const input = this.graph.tensors[layer.inputs[0] ?? layer.output] as Shape;
      for (const role of ROLES) {
        const v = w[FIELD[role]];
        if (!v) continue;
        of += v.size;
        const source = from[`${layer.name}.${role}`];
        if (!source) continue;
        if (sameShape(source.shape, v.shape)) {
          tf.tidy(() => v.assign(tf.tensor(source.values, source.shape, 'float32')));
        } else {
          const values = morph(source, v.shape, axisRoles(layer, role, input), random);
          if (!values) continue;
          tf.tidy(() => v.assign(tf.tensor(values, v.shape, 'float32')));
          morphed += v.size;
        }
        inherited += v.size;
        took.add(i);
      }
    });
    let identities = 0;
    for (const composite of this.graph.composites) {
      const end = this.residualBranchEnd(composite);
      if (end === undefined) continue;
      let takes = false;
      for (let i = composite.firstLayer; i < composite.endLayer; i++) takes ||= took.has(i);
      if (takes) continue;
      const w = this.layerWeights[end] as LayerWeights;
      for (const v of [w.gamma, w.beta]) if (v) tf.tidy(() => v.assign(tf.zerosLike(v)));
      identities++;
    }
    return { inherited, of, morphed, identities };
  }

  /**
   * The batch norm that ends a residual block's branch (the block's output is the input plus
   * it, maybe through an activation), if the composite is such a block: zero it, and the block is
   * the identity on what it can take (after a ReLU, inputs are already non-negative).
   */
  private residualBranchEnd(c: Composite): number | undefined {
    const { layers, producers } = this.graph;
    for (let i = c.firstLayer; i < c.endLayer; i++) {
      const add = layers[i] as Layer;
      if (add.kind !== 'add' || add.inputs.length !== 2 || !add.inputs.includes(c.input)) continue;
      const after = layers[i + 1];
      const isOutput = add.output === c.output || (i + 1 < c.endLayer && after?.kind === 'act' && after.inputs[0] === add.output && after.output === c.output);
      if (!isOutput) continue;
      const branch = add.inputs.find((t) => t !== c.input) as number;
      const end = producers[branch] as number;
      return layers[end]?.kind === 'bn' && end >= c.firstLayer ? end : undefined;
    }
    return undefined;
  }

  /** Number of trainable parameters. */
  parameterCount(): number {
    return this.trainableVariables().reduce((n, v) => n + v.size, 0);
  }

  /** Logits [batch, classes]. In training, batch norms use batch statistics and update their running ones. */
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    return this.forward(x, training).reshape([x.shape[0], this.graph.classes]);
  }

  /** The graph's output tensor, for a graph that is a piece of a network (a supernet's block). */
  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const values: tf.Tensor4D[] = [x];
    const batch = x.shape[0];
    this.graph.layers.forEach((layer, i) => {
      const inputs = layer.inputs.map((t) => values[t] as tf.Tensor4D);
      const depthwise = this.fusedDepthwise.get(i);
      if (training && this.computedEarlier.has(i)) {
        return;
      } else if (training && this.absorbed.has(i)) {
        values[layer.output] = inputs[0] as tf.Tensor4D;
      } else if (training && depthwise !== undefined) {
        values[(this.graph.layers[depthwise] as Layer).output] = this.batchNormDepthwiseTrain(i, depthwise, inputs[0] as tf.Tensor4D);
      } else if (training && layer.kind === 'bn') {
        values[layer.output] = this.batchNormTrain(this.layerWeights[i] as LayerWeights, inputs[0] as tf.Tensor4D, this.fusedActivation.get(i) ?? 'none');
      } else {
        values[layer.output] = this.applyLayer(layer, this.layerWeights[i] as LayerWeights, inputs, batch);
      }
    });
    return values[this.graph.output] as tf.Tensor4D;
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }

  private variable(layer: Layer, role: string, value: tf.Tensor, trainable = true): tf.Variable {
    const v = tf.variable(value, trainable, `${layer.name}.${role}#${variableCounter++}`);
    value.dispose();
    this.variables.set(`${layer.name}.${role}`, v);
    return v;
  }

  /**
   * A seed for one variable's initialiser, never 0: TF.js's random ops take seed 0 (like no
   * seed) as "use Math.random".
   */
  private nextSeed(): number {
    return 1 + Math.floor(this.seeds() * 2 ** 31);
  }

  private createWeights(layer: Layer): LayerWeights {
    const input = this.graph.tensors[layer.inputs[0] ?? layer.output] as Shape;
    const output = this.graph.tensors[layer.output] as Shape;
    const w: LayerWeights = {};
    // In the specs' order: each seeded initialiser draws the next seed.
    for (const spec of layerVariables(layer, input, output)) w[FIELD[spec.role]] = this.variable(layer, spec.role, this.initial(spec), spec.trainable);
    return w;
  }

  private initial(spec: VariableSpec): tf.Tensor {
    const { shape, init } = spec;
    switch (init.kind) {
      case 'he':
        return tf.randomNormal(shape, 0, Math.sqrt(2 / init.fanIn), 'float32', this.nextSeed());
      case 'normal':
        return tf.randomNormal(shape, 0, init.std, 'float32', this.nextSeed());
      case 'zeros':
        return tf.zeros(shape);
      case 'ones':
        return tf.ones(shape);
    }
  }

  /** Inference semantics of every layer (training batch norm is `batchNormTrain`). */
  private applyLayer(layer: Layer, w: LayerWeights, inputs: tf.Tensor4D[], batch: number): tf.Tensor4D {
    const x = inputs[0] as tf.Tensor4D;
    switch (layer.kind) {
      case 'conv':
        return this.conv(layer, w, x);
      case 'bn':
        return tf.batchNorm(x, w.mean as tf.Tensor1D, w.variance as tf.Tensor1D, w.beta as tf.Tensor1D, w.gamma as tf.Tensor1D, BN_EPSILON);
      case 'act':
        return activation(x, layer.act);
      case 'maxpool':
        return tf.maxPool(x, layer.kernel, layer.stride, layer.pad);
      case 'avgpool':
        if (layer.countIncludePad) return tf.avgPool(tf.pad(x, explicitPad(layer.pad)), layer.kernel, layer.stride, 'valid');
        // TF.js averages over the in-bounds elements only, PyTorch's count_include_pad=False.
        return tf.avgPool(x, layer.kernel, layer.stride, layer.pad);
      case 'gap':
        return globalAverage(x);
      case 'se': {
        const c = x.shape[3];
        const pooled = globalAverage(x).reshape([batch, x.shape[3]]) as tf.Tensor2D;
        const squeezed = activation(tf.add(tf.matMul(pooled, w.reduceWeight as tf.Tensor2D), w.reduceBias!), layer.act);
        const gate = tf.sigmoid(tf.add(tf.matMul(squeezed as tf.Tensor2D, w.expandWeight as tf.Tensor2D), w.expandBias!));
        return tf.mul(x, gate.reshape([batch, 1, 1, c]));
      }
      case 'add':
        return tf.addN(inputs);
      case 'concat':
        return tf.concat(inputs, 3);
      case 'dense': {
        const flat = x.reshape([batch, x.shape[3]]);
        let y: tf.Tensor2D = tf.matMul(flat, w.weight as tf.Tensor2D);
        if (w.bias) y = tf.add(y, w.bias);
        return y.reshape([batch, 1, 1, y.shape[1]]);
      }
      case 'zero': {
        const s = this.graph.tensors[layer.output]!;
        return tf.zeros([batch, s.h, s.w, s.c]);
      }
    }
  }

  private conv(layer: Layer, w: LayerWeights, x: tf.Tensor4D): tf.Tensor4D {
    // TF.js has no gradient for dilated convolutions: run them with the equivalent dense filter.
    const filter = layer.dilation > 1 ? dilateFilter(w.weight as tf.Tensor4D, layer.dilation) : (w.weight as tf.Tensor4D);
    const pad = explicitPad(layer.pad);
    const cin = x.shape[3];
    let y: tf.Tensor4D;
    if (layer.groups === 1) {
      y = tf.conv2d(x, filter, layer.stride, pad, 'NHWC');
    } else if (layer.groups === cin) {
      y = tf.depthwiseConv2d(x, filter, layer.stride, pad, 'NHWC');
    } else {
      const xs = tf.split(x, layer.groups, 3) as tf.Tensor4D[];
      const fs = tf.split(filter, layer.groups, 3) as tf.Tensor4D[];
      y = tf.concat(xs.map((part, g) => tf.conv2d(part, fs[g] as tf.Tensor4D, layer.stride, pad, 'NHWC')), 3);
    }
    return w.bias ? tf.add(y, w.bias) : y;
  }

  /** Batch statistics (and a fused activation); updates the running statistics. */
  private batchNormTrain(w: LayerWeights, x: tf.Tensor4D, activation: FusedActivation): tf.Tensor4D {
    return batchNormTrain(x, w.gamma as tf.Tensor1D, w.beta as tf.Tensor1D, activation, BN_EPSILON, this.runningStatistics(w, x));
  }

  /** The batch norm `bn` (and its fused activation) and the depthwise convolution it feeds, as one op. */
  private batchNormDepthwiseTrain(bn: number, depthwise: number, x: tf.Tensor4D): tf.Tensor4D {
    const w = this.layerWeights[bn] as LayerWeights;
    const conv = this.graph.layers[depthwise] as Layer;
    const filter = (this.layerWeights[depthwise] as LayerWeights).weight as tf.Tensor4D;
    return batchNormDepthwiseTrain(x, w.gamma as tf.Tensor1D, w.beta as tf.Tensor1D, filter, this.fusedActivation.get(bn) ?? 'none', BN_EPSILON, conv.stride, explicitPad(conv.pad), this.runningStatistics(w, x));
  }

  /** Updates a batch norm's running statistics from a batch's (of input x). */
  private runningStatistics(w: LayerWeights, x: tf.Tensor4D): StatisticsSink {
    // Running statistics keep the unbiased variance, as PyTorch does.
    const n = x.size / x.shape[3];
    return (mean, variance) =>
      tf.tidy(() => {
        w.mean!.assign(movingAverage(w.mean!, mean, { keep: 1 - BN_MOMENTUM, scale: 1 }));
        w.variance!.assign(movingAverage(w.variance!, variance, { keep: 1 - BN_MOMENTUM, scale: n / Math.max(1, n - 1) }));
      });
  }
}

/**
 * A [k, k, i, o] filter with `dilation - 1` zeros between its taps: [(k-1)·d+1, (k-1)·d+1, i, o].
 * A convolution with it (dilation 1) is the dilated convolution with the original filter, and it
 * is made of reshapes, pads and slices, which all have gradients.
 */
export function dilateFilter(filter: tf.Tensor4D, dilation: number): tf.Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  const h = (kh - 1) * dilation + 1;
  const w = (kw - 1) * dilation + 1;
  return tf.tidy(() => {
    // Rows: [kh, 1, kw, ci·co] padded to [kh, d, kw, ci·co], i.e. kh·d rows, of which h are kept.
    const rows = tf.pad(filter.reshape([kh, 1, kw, ci * co]), [[0, 0], [0, dilation - 1], [0, 0], [0, 0]])
      .reshape([kh * dilation, kw, ci * co])
      .slice([0, 0, 0], [h, kw, ci * co]);
    // Columns likewise.
    return tf.pad(rows.reshape([h, kw, 1, ci * co]), [[0, 0], [0, 0], [0, dilation - 1], [0, 0]])
      .reshape([h, kw * dilation, ci * co])
      .slice([0, 0, 0], [h, w, ci * co])
      .reshape([h, w, ci, co]);
  });
}

export function activation<T extends tf.Tensor>(x: T, act: Layer['act']): T {
  switch (act) {
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'hswish':
      return tf.mul(x, tf.relu6(tf.add(x, 3)).div(6));
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'none':
      return x;
  }
}
