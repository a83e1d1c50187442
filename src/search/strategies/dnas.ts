/**
 * Differentiable supernet search (`dnas`): architecture logits α per slot, learnt by gradient
 * descent on the processor-related loss
 *
 *   CE + λ_time · E[T_dram] / T_ref + λ_energy · E[E_dram] / E_ref,
 *
 * alternating with weight steps of the shared supernet. Single-path and binarized, after
 * ProxylessNAS rather than FBNet's Gumbel-softmax: a Gumbel supernet runs every candidate of
 * every slot in each step (18-19 per slot here), which on a 2-core CPU would make a step ~18×
 * dearer and hold 18× the activations; one sampled path costs what training one candidate does.
 *
 * - weight step: sample a path from p = softmax(α) (uniformly during warm-up), one SGD step of
 *   that path's weights on a training batch;
 * - architecture step: sample two different choices a, b per slot, get ∂CE/∂g of their binary
 *   gates on a validation batch from the supernet, and turn them into ∂CE/∂α over the pair
 *   (ProxylessNAS eq. 4 restricted to the two sampled paths); add the exact gradient of the
 *   expected DRAM cost (ExpectedCost); one Adam step on α.
 *
 * Each iteration is one supernet epoch; its argmax path is "the next architecture", which the
 * search loop evaluates like any other candidate (trained from scratch by the evaluator).
 */
import type { CostOptions } from '../../cost/index.js';
import type { Processor } from '../../processor/index.js';
import type { Architecture, Path, Random, SupernetSpace } from '../../space/index.js';
import { ExpectedCost, probabilities } from '../expected-cost.js';
import type { DramFigures } from '../expected-cost.js';
import type { Reference } from '../loss.js';
import type { Strategy, Trial } from '../types.js';

/** What the strategy needs of a supernet's training; the engine provides it. */
export interface SupernetTrainer {
  readonly stepsPerEpoch: number;
  /** One weight step along `path` on the next training batch; the batch loss. */
  weightStep(path: Path): number;
  /** On the next validation batch: the loss, and ∂loss/∂gate of each slot's choice in `a` and in `b`. */
  gateGradients(a: Path, b: Path): { loss: number; a: number[]; b: number[] };
  /** The path's error on the validation split, with the shared weights. */
  validationError(path: Path): number;
}

export interface DnasOptions {
  lambdaTime: number;
  lambdaEnergy: number;
  lambdaPower: number;
  /** The units of the cost terms (the initial architecture's DRAM time, energy and power). */
  reference: Reference;
  /** Adam step size on α. */
  archLearningRate: number;
  /** Epochs of weight training on uniformly drawn paths before α moves. */
  warmupEpochs: number;
  /** Supernet epochs per search iteration. */
  epochsPerIteration: number;
  /** One architecture step after every this many weight steps (ProxylessNAS updates α every 5). */
  archEvery: number;
  /** True once the search's time is up: the epoch ends early and its argmax is proposed. */
  timeUp?: () => boolean;
  costOptions?: CostOptions;
  /** After each iteration's epochs: the derived architecture and how the supernet sees it. */
  onEpoch?: (epoch: SupernetEpoch) => void;
  /** Between steps, so that a long epoch can yield to progress output. */
  onStep?: (step: { epoch: number; step: number; steps: number; warmup: boolean }) => Promise<void> | void;
}

export interface SupernetEpoch {
  /** 0-based index of the iteration (one supernet epoch each, unless epochsPerIteration says more). */
  epoch: number;
  path: Path;
  architecture: Architecture;
  /** Expected DRAM figures under p, and the exact ones of the argmax path. */
  expected: DramFigures;
  exact: DramFigures;
  /** The argmax path's validation error with the supernet's shared weights. */
  supernetError: number;
  /** Mean losses of the last epoch's weight steps and architecture steps (NaN if none ran). */
  trainLoss: number;
  validationLoss: number;
  /** Mean entropy of the slot distributions, in nats: log(choices) at the start, 0 when decided. */
  entropy: number;
  probabilities: number[][];
}

/** Mean losses of an iteration's last epoch (NaN where no step of the kind ran). */
interface IterationLosses {
  epochs: number;
  trainLoss: number;
  validationLoss: number;
}

const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

export class DnasStrategy implements Strategy {
  readonly name = 'dnas';
  readonly alpha: number[][];
  private readonly cost: ExpectedCost;
  private readonly m: number[][];
  private readonly v: number[][];
  private adamSteps = 0;
  /** Search epochs run (warm-up excluded), and iterations proposed. */
  private epoch = 0;
  private iterations = 0;
  /** The epochs of the next iteration, running ahead of the search loop. */
  private pending: Promise<IterationLosses> | undefined;
  private stopping = false;
  private warmedUp = false;

  constructor(
    private readonly space: SupernetSpace,
    private readonly trainer: SupernetTrainer,
    processor: Processor,
    private readonly random: Random,
    private readonly options: DnasOptions,
  ) {
    const zeros = (): number[][] => space.slots.map((s) => s.choices.map(() => 0));
    this.alpha = zeros();
    this.m = zeros();
    this.v = zeros();
    this.cost = new ExpectedCost(space, processor, options.costOptions);
  }

  /** The most probable choice of every slot. */
  argmax(): Path {
    return this.alpha.map((a) => a.indexOf(Math.max(...a)));
  }

  /** Weights of the cost terms in the loss, per second and per joule. */
  costWeights(): { time: number; energy: number; power: number } {
    const { lambdaTime, lambdaEnergy, lambdaPower, reference } = this.options;
    return { time: lambdaTime / reference.dramTimeS, energy: lambdaEnergy / reference.dramEnergyJ, power: lambdaPower > 0 ? lambdaPower / reference.dramPowerW : 0 };
  }

  /**
   * The argmax after the next iteration's epochs. Those epochs run while the search loop trains
   * the previous argmax in a worker, so the supernet and the evaluator use both cores; the
   * epochs never depend on the trials' results, so the path stays deterministic.
   */
  async propose(): Promise<Architecture[]> {
    const { epochs, trainLoss, validationLoss } = await (this.pending ?? this.iteration());
    const path = this.argmax();
    // Time ran out before any epoch: nothing new to log; the loop already knows this argmax.
    if (epochs === 0) return [this.space.architecture(path)];
    this.cost.recentre(path);
    const p = probabilities(this.alpha);
    const record: SupernetEpoch = {
      epoch: this.iterations++,
      path,
      architecture: this.space.architecture(path),
      expected: this.cost.expected(p),
      exact: this.cost.exact(path),
      supernetError: this.trainer.validationError(path),
      trainLoss,
      validationLoss,
      entropy: p.reduce((sum, ps) => sum - ps.reduce((h, q) => h + (q > 0 ? q * Math.log(q) : 0), 0), 0) / p.length,
      probabilities: p,
    };
    this.options.onEpoch?.(record);
    this.pending = this.iteration();
    // Handled here so that a failure cannot crash the process before the next propose() sees it.
    this.pending.catch(() => undefined);
    return [record.architecture];
  }

  /** Stops epochs running ahead of the search (the search has ended) and waits for them. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.pending?.catch(() => undefined);
  }

  private async iteration(): Promise<IterationLosses> {
    if (!this.warmedUp) {
      for (let e = 0; e < this.options.warmupEpochs && !this.halted(); e++) await this.runEpoch(true);
      this.warmedUp = true;
    }
    let losses: IterationLosses = { epochs: 0, trainLoss: Number.NaN, validationLoss: Number.NaN };
    for (let e = 0; e < this.options.epochsPerIteration && !this.halted(); e++) losses = { ...(await this.runEpoch(false)), epochs: e + 1 };
    return losses;
  }

  private halted(): boolean {
    return this.stopping || (this.options.timeUp?.() ?? false);
  }

  observe(_trials: Trial[]): void {
    // The supernet learns from its own validation batches, not from the trials' errors.
  }

  /** One architecture step: the gradient of the loss in α, then Adam. Returns the validation loss. */
  private architectureStep(): number {
    const p = probabilities(this.alpha);
    const a = p.map((ps) => this.draw(ps));
    const b = p.map((ps, s) => this.draw(ps, a[s]));
    this.cost.recentre(this.argmax());
    const grad = this.cost.gradient(this.alpha, this.costWeights());
    const gates = this.trainer.gateGradients(a, b);
    a.forEach((ca, s) => {
      const cb = b[s] as number;
      if (ca === cb) return;
      const alpha = this.alpha[s] as number[];
      // p̃ = softmax over the two sampled choices; ∂CE/∂α_a = p̃_a p̃_b (g_a − g_b), and minus that for b.
      const ea = Math.exp((alpha[ca] as number) - Math.max(alpha[ca] as number, alpha[cb] as number));
      const eb = Math.exp((alpha[cb] as number) - Math.max(alpha[ca] as number, alpha[cb] as number));
      const pa = ea / (ea + eb);
      const d = pa * (1 - pa) * ((gates.a[s] as number) - (gates.b[s] as number));
      const row = grad[s] as number[];
      row[ca] = (row[ca] as number) + d;
      row[cb] = (row[cb] as number) - d;
    });
    this.adam(grad);
    return gates.loss;
  }

  private async runEpoch(warmup: boolean): Promise<{ trainLoss: number; validationLoss: number }> {
    const steps = this.trainer.stepsPerEpoch;
    let trainLoss = 0;
    let validationLoss = 0;
    let weightSteps = 0;
    let archSteps = 0;
    for (let step = 0; step < steps; step++) {
      const p = warmup ? undefined : probabilities(this.alpha);
      const path = this.space.slots.map((slot, s) => (p ? this.draw(p[s] as number[]) : Math.floor(this.random() * slot.choices.length)));
      trainLoss += this.trainer.weightStep(path);
      weightSteps++;
      if (!warmup && weightSteps % this.options.archEvery === 0) {
        validationLoss += this.architectureStep();
        archSteps++;
      }
      await this.options.onStep?.({ epoch: this.epoch, step: step + 1, steps, warmup });
      if (this.halted()) break;
    }
    if (!warmup) this.epoch++;
    return { trainLoss: trainLoss / Math.max(1, weightSteps), validationLoss: archSteps > 0 ? validationLoss / archSteps : Number.NaN };
  }

  /** A choice drawn from `ps`, or from `ps` without `except`. */
  private draw(ps: number[], except?: number): number {
    const total = ps.reduce((s, q, j) => (j === except ? s : s + q), 0);
    let r = this.random() * total;
    for (let j = 0; j < ps.length; j++) {
      if (j === except) continue;
      r -= ps[j] as number;
      if (r <= 0) return j;
    }
    for (let j = ps.length - 1; j >= 0; j--) if (j !== except) return j;
    return 0;
  }

  private adam(grad: number[][]): void {
    this.adamSteps++;
    const { beta1, beta2, epsilon } = ADAM;
    const lr = this.options.archLearningRate;
    const c1 = 1 - beta1 ** this.adamSteps;
    const c2 = 1 - beta2 ** this.adamSteps;
    grad.forEach((row, s) =>
      row.forEach((g, j) => {
        const m = (this.m[s] as number[])[j] as number;
        const v = (this.v[s] as number[])[j] as number;
        const m1 = beta1 * m + (1 - beta1) * g;
        const v1 = beta2 * v + (1 - beta2) * g * g;
        (this.m[s] as number[])[j] = m1;
        (this.v[s] as number[])[j] = v1;
        (this.alpha[s] as number[])[j] = ((this.alpha[s] as number[])[j] as number) - (lr * (m1 / c1)) / (Math.sqrt(v1 / c2) + epsilon);
      }),
    );
  }
}
