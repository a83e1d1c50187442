/**
 * SGD with momentum and Adam, PyTorch's update rules, with L2 weight decay on conv and dense
 * weights only (not on batch-norm scales and shifts, nor biases). Written here rather than taken
 * from tf.train so that the learning rate can change every step without recreating state.
 */
import { sgdMomentum } from './ops/update.js';
import { tf } from './tf.js';

export type OptimizerName = 'sgd' | 'adam';

export interface OptimizerOptions {
  name: OptimizerName;
  momentum?: number;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class Optimizer {
  private readonly slots = new Map<tf.Variable, tf.Variable[]>();
  private step = 0;

  constructor(private readonly options: OptimizerOptions) {}

  /** Applies one update with the given learning rate; `grads` is keyed by variable name. */
  apply(variables: tf.Variable[], grads: Record<string, tf.Tensor>, learningRate: number): void {
    this.step++;
    const { name, momentum = 0.9, weightDecay = 0, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8 } = this.options;
    tf.tidy(() => {
      for (const v of variables) {
        let g = grads[v.name];
        if (!g) continue;
        const decay = weightDecay > 0 && decays(v) ? weightDecay : 0;
        if (name === 'sgd') {
          const [buffer] = this.slotsOf(v, 1) as [tf.Variable];
          const [weights, next] = sgdMomentum(v, g, buffer, { rate: learningRate, momentum, decay, first: this.step === 1 });
          buffer.assign(next);
          v.assign(weights);
        } else {
          if (decay > 0) g = g.add(v.mul(decay));
          const [m, s] = this.slotsOf(v, 2) as [tf.Variable, tf.Variable];
          m.assign(m.mul(beta1).add(g.mul(1 - beta1)));
          s.assign(s.mul(beta2).add(g.square().mul(1 - beta2)));
          const mHat = m.div(1 - beta1 ** this.step);
          const sHat = s.div(1 - beta2 ** this.step);
          v.assign(v.sub(mHat.div(sHat.sqrt().add(epsilon)).mul(learningRate)));
        }
      }
    });
  }

  dispose(): void {
    for (const slots of this.slots.values()) for (const s of slots) s.dispose();
    this.slots.clear();
  }

  private slotsOf(v: tf.Variable, count: number): tf.Variable[] {
    let slots = this.slots.get(v);
    if (!slots) {
      slots = Array.from({ length: count }, () => tf.variable(tf.zerosLike(v), false));
      this.slots.set(v, slots);
    }
    return slots;
  }
}

/** Conv and dense kernels decay; batch-norm scales, shifts and biases do not. */
function decays(v: tf.Variable): boolean {
  return /\.(weight)#\d+$/.test(v.name);
}
