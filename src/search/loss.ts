/**
 * The processor-related loss: prediction error plus the processor's DRAM cost.
 *
 * - additive (default): error + λ_time · T_dram / T_ref + λ_energy · E_dram / E_ref
 *   + λ_power · P_dram / P_ref (the average DRAM power: the patent names time and power), with
 *   the references taken from the initial architecture so that λ is unitless;
 * - mnasnet: MnasNet's soft constraint, as a loss: 1 - (1 - error) · (T / T_target)^w, where
 *   T is the DRAM time (or, with `mnasnetMetric: 'latency'`, the roofline latency);
 * - budgets: hard limits; a candidate above any is rejected (infinite loss) before training.
 */
import type { CostFigures } from './types.js';

export interface Budgets {
  dramTimeS?: number;
  dramEnergyJ?: number;
  dramPowerW?: number;
  latencyS?: number;
  params?: number;
  macs?: number;
  /** Bytes: the peak of activations deployed (a microcontroller's SRAM), and the weights stored (its flash). */
  peakSramBytes?: number;
  flashBytes?: number;
}

export interface LossConfig {
  kind: 'additive' | 'mnasnet';
  lambdaTime: number;
  lambdaEnergy: number;
  lambdaPower: number;
  /** mnasnet: the target time in seconds, the exponent w (MnasNet: -0.07) and what T measures. */
  targetS?: number;
  exponent: number;
  mnasnetMetric: 'dram' | 'latency';
  budgets: Budgets;
}

export const DEFAULT_LOSS: LossConfig = {
  kind: 'additive',
  lambdaTime: 0.1,
  lambdaEnergy: 0.1,
  lambdaPower: 0,
  exponent: -0.07,
  mnasnetMetric: 'dram',
  budgets: {},
};

/** The initial architecture's DRAM time, energy and power (the units of the additive terms) and latency (MnasNet's default target). */
export interface Reference {
  dramTimeS: number;
  dramEnergyJ: number;
  dramPowerW: number;
  latencyS: number;
}

export function referenceOf(cost: CostFigures): Reference {
  return { dramTimeS: cost.dramTimeS, dramEnergyJ: cost.dramEnergyJ, dramPowerW: cost.dramPowerW, latencyS: cost.latencyS };
}

/** The budgets a candidate breaks, as readable reasons (empty when it fits them all). */
export function budgetViolations(cost: CostFigures, budgets: Budgets): string[] {
  const checks: Array<[keyof Budgets, number, string]> = [
    ['dramTimeS', cost.dramTimeS, 'DRAM time'],
    ['dramEnergyJ', cost.dramEnergyJ, 'DRAM energy'],
    ['dramPowerW', cost.dramPowerW, 'DRAM power'],
    ['latencyS', cost.latencyS, 'latency'],
    ['params', cost.params, 'params'],
    ['macs', cost.macs, 'MACs'],
    ['peakSramBytes', cost.peakActivationBytes, 'peak activation memory'],
    ['flashBytes', cost.storedWeightBytes, 'stored weights'],
  ];
  return checks.flatMap(([key, value, what]) => {
    const limit = budgets[key];
    // Counts and bytes whole, as the budgets are written; times and energies to four digits.
    return limit !== undefined && value > limit ? [`${what} ${Number.isInteger(value) ? value : value.toPrecision(4)} above the budget ${limit}`] : [];
  });
}

/**
 * The lowest loss a candidate of cost `cost` can reach: its loss at no prediction error at all
 * (both forms grow with the error). No training can take it below this, so a candidate whose
 * floor is not below the best loss found cannot become the best.
 */
export function lossFloor(cost: CostFigures, reference: Reference, config: LossConfig): number {
  return processorLoss(0, cost, reference, config);
}

/** The loss of a candidate with prediction error `error` (0..1) and cost `cost`. */
export function processorLoss(error: number, cost: CostFigures, reference: Reference, config: LossConfig): number {
  if (budgetViolations(cost, config.budgets).length > 0) return Number.POSITIVE_INFINITY;
  if (config.kind === 'mnasnet') {
    const latency = config.mnasnetMetric === 'latency';
    const t = latency ? cost.latencyS : cost.dramTimeS;
    // The default target is the initial architecture's value of the same measure.
    const target = config.targetS ?? (latency ? reference.latencyS : reference.dramTimeS);
    return 1 - (1 - error) * (t / target) ** config.exponent;
  }
  return (
    error +
    config.lambdaTime * (cost.dramTimeS / reference.dramTimeS) +
    config.lambdaEnergy * (cost.dramEnergyJ / reference.dramEnergyJ) +
    (config.lambdaPower > 0 ? config.lambdaPower * (cost.dramPowerW / reference.dramPowerW) : 0)
  );
}
