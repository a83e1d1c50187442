/**
 * A weight-sharing supernet for the differentiable search: a fixed stem and head, and in every
 * slot one trainable network per candidate block. One path (a choice per slot) runs at a time,
 * so a step costs what training one candidate costs, and memory holds one path's activations
 * (ProxylessNAS's single-path, binarized form).
 *
 * Besides weight steps it gives the gradient of the validation loss with respect to binary
 * gates: in each slot the outputs of two choices a and b are mixed as g_a·o_a + g_b·o_b at
 * g = (1, 0), so ∂loss/∂g_b says how the loss would move if b took a's place.
 */
import { batches, createRng } from '../data/index.js';
import type { Batch, Prepared, Splits } from '../data/index.js';
import type { LayerGraph, SupernetSpace } from '../space/index.js';
import { Network } from './network.js';
import { Optimizer } from './optimizer.js';
import type { OptimizerName } from './optimizer.js';
import { tf } from './tf.js';

export interface SupernetPieces {
  stem: LayerGraph;
  /** Per slot, per choice: the choice's layers, or undefined for skip (identity). */
  choices: Array<Array<LayerGraph | undefined>>;
  head: LayerGraph;
}

export interface SupernetOptions {
  batchSize: number;
  /**
   * The weights' step size: cosine-annealed from learningRate to learningRateFloor over
   * annealSteps weight steps, then held at the floor. A supernet trained at a fixed high rate
   * while α is still spread over many paths drifts back toward chance (seen at issue 5's
   * close); DARTS anneals 0.025 → 0.001.
   */
  learningRate: number;
  learningRateFloor: number;
  annealSteps: number;
  optimizer: OptimizerName;
  momentum: number;
  weightDecay: number;
  labelSmoothing: number;
  seed: number;
}

/** An endless stream of shuffled batches of a split, reshuffled every pass. */
class BatchStream {
  private current: Iterator<Batch> | undefined;
  constructor(
    private readonly data: Prepared,
    private readonly size: number,
    private readonly rng: () => number,
  ) {
    if (data.count === 0) throw new RangeError('the supernet needs a non-empty split');
  }

  next(): Batch {
    for (;;) {
      const step = this.current?.next();
      if (step && !step.done) return step.value;
      this.current = batches(this.data, this.size, this.rng);
    }
  }
}

export class Supernet {
  readonly stepsPerEpoch: number;
  private readonly stem: Network;
  private readonly head: Network;
  private readonly blocks: Array<Array<Network | undefined>>;
  private readonly optimizer: Optimizer;
  private readonly train: BatchStream;
  private readonly validation: BatchStream;
  private steps = 0;

  constructor(
    pieces: SupernetPieces,
    private readonly splits: Splits,
    private readonly options: SupernetOptions,
  ) {
    let seed = options.seed;
    // Each piece gets its own seed range so that no two share an initialisation.
    const network = (graph: LayerGraph): Network => new Network(graph, { seed: (seed += 1000) });
    this.stem = network(pieces.stem);
    this.blocks = pieces.choices.map((choices) => choices.map((g) => (g ? network(g) : undefined)));
    this.head = network(pieces.head);
    this.optimizer = new Optimizer({ name: options.optimizer, momentum: options.momentum, weightDecay: options.weightDecay });
    const rng = createRng(options.seed);
    this.train = new BatchStream(splits.train, options.batchSize, rng);
    this.validation = new BatchStream(splits.validation, options.batchSize, rng);
    this.stepsPerEpoch = Math.ceil(splits.train.count / options.batchSize);
  }

  /** The supernet of a supernet space: every choice of every slot, with its own weights. */
  static fromSpace(space: SupernetSpace, splits: Splits, options: SupernetOptions): Supernet {
    const choices = space.slots.map((slot, s) => slot.choices.map((_, c) => space.choiceGraph(s, c)));
    return new Supernet({ stem: space.stemGraph(), choices, head: space.headGraph() }, splits, options);
  }

  /** Trainable parameters of every choice, stem and head together. */
  parameterCount(): number {
    return [this.stem, this.head, ...this.blocks.flat()].reduce((n, b) => n + (b?.parameterCount() ?? 0), 0);
  }

  /** One SGD step of the path's weights on the next training batch; returns the batch loss. */
  weightStep(path: number[]): number {
    const batch = this.train.next();
    const variables = [this.stem, ...path.map((c, s) => this.block(s, c)), this.head].flatMap((n) => n?.trainableVariables() ?? []);
    return tf.tidy(() => {
      const { x, labels } = this.tensors(batch);
      const { value, grads } = tf.variableGrads(() => this.loss(labels, this.logits(x, (s, h) => this.run(s, path[s] as number, h))), variables);
      this.optimizer.apply(variables, grads, this.learningRate());
      this.steps++;
      return value.dataSync()[0] as number;
    });
  }

  /** The step size of the next weight step. */
  learningRate(): number {
    const { learningRate: top, learningRateFloor: floor, annealSteps } = this.options;
    if (this.steps >= annealSteps) return floor;
    return floor + 0.5 * (top - floor) * (1 + Math.cos((Math.PI * this.steps) / annealSteps));
  }

  /** On the next validation batch: the loss along path a, and ∂loss/∂gate of each slot's a and b choice. */
  gateGradients(a: number[], b: number[]): { loss: number; a: number[]; b: number[] } {
    const batch = this.validation.next();
    return tf.tidy(() => {
      const { x, labels } = this.tensors(batch);
      const gates = a.flatMap(() => [tf.scalar(1), tf.scalar(0)]);
      const f = (...g: tf.Tensor[]): tf.Scalar =>
        this.loss(
          labels,
          this.logits(x, (s, h) => {
            const ca = a[s] as number;
            const cb = b[s] as number;
            // Equal choices share one output; the gates stay in the graph so both get a gradient.
            if (ca === cb) return tf.mul(this.run(s, ca, h), tf.add(g[2 * s] as tf.Scalar, g[2 * s + 1] as tf.Scalar));
            return tf.add(tf.mul(this.run(s, ca, h), g[2 * s] as tf.Scalar), tf.mul(this.run(s, cb, h), g[2 * s + 1] as tf.Scalar));
          }),
        );
      const { value, grads } = tf.valueAndGrads(f)(gates);
      const g = grads.map((t) => t.dataSync()[0] as number);
      return { loss: value.dataSync()[0] as number, a: a.map((_, s) => g[2 * s] as number), b: b.map((_, s) => g[2 * s + 1] as number) };
    });
  }

  /**
   * A path's error on the whole validation split. Batch norms use batch statistics: running
   * statistics are shared by every path through a choice and describe none of them well.
   */
  validationError(path: number[]): number {
    let correct = 0;
    for (const batch of batches(this.splits.validation, 256)) {
      correct += tf.tidy(() => {
        const { x } = this.tensors(batch);
        const predicted = this.logits(x, (s, h) => this.run(s, path[s] as number, h)).argMax(1);
        return predicted.equal(tf.tensor1d(batch.y, 'int32')).sum().dataSync()[0] as number;
      });
    }
    return 1 - correct / this.splits.validation.count;
  }

  dispose(): void {
    this.optimizer.dispose();
    for (const n of [this.stem, this.head, ...this.blocks.flat()]) n?.dispose();
  }

  private block(slot: number, choice: number): Network | undefined {
    const slotBlocks = this.blocks[slot];
    if (!slotBlocks || choice < 0 || choice >= slotBlocks.length) throw new RangeError(`the supernet has no choice ${choice} in slot ${slot}`);
    return slotBlocks[choice];
  }

  private run(slot: number, choice: number, h: tf.Tensor4D): tf.Tensor4D {
    return this.block(slot, choice)?.forward(h, true) ?? h;
  }

  private logits(x: tf.Tensor4D, slot: (s: number, h: tf.Tensor4D) => tf.Tensor4D): tf.Tensor2D {
    let h = this.stem.forward(x, true);
    for (let s = 0; s < this.blocks.length; s++) h = slot(s, h);
    return this.head.apply(h, true);
  }

  private loss(labels: tf.Tensor2D, logits: tf.Tensor2D): tf.Scalar {
    return tf.losses.softmaxCrossEntropy(labels, logits, undefined, this.options.labelSmoothing) as tf.Scalar;
  }

  private tensors(batch: Batch): { x: tf.Tensor4D; labels: tf.Tensor2D } {
    const { h, w, c } = this.splits.shape;
    return {
      x: tf.tensor4d(batch.x, [batch.count, h, w, c]),
      labels: tf.oneHot(tf.tensor1d(batch.y, 'int32'), this.head.graph.classes) as tf.Tensor2D,
    };
  }
}
