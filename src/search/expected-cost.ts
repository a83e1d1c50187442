/**
 * The expected DRAM cost of a supernet's architecture distribution, differentiable in the
 * architecture logits α.
 *
 * Choices are independent across slots (p = softmax(α_slot)), so the expectation of a cost that
 * is a sum of per-slot terms is Σ_slot Σ_choice p · cost. The cost model's figures are not quite
 * additive (greedy fusion keeps a tensor on chip between two blocks, SRAM tiling depends on the
 * neighbours), so each choice is costed in context: the whole network with that choice in its
 * slot and the current centre path (the argmax) everywhere else,
 *
 *   E[C](α) = C(centre) + Σ_slot Σ_j p_slot,j · (C(centre with slot ← j) − C(centre)).
 *
 * It equals the cost model exactly at the centre and at every path one slot away from it, and
 * everywhere when the cost is additive (fusion none/composite, inference).
 */
import { estimateArchitectureCost } from '../cost/index.js';
import type { CostOptions } from '../cost/index.js';
import type { Processor } from '../processor/index.js';
import type { Path, SupernetSpace } from '../space/index.js';

export interface DramFigures {
  dramTimeS: number;
  dramEnergyJ: number;
  dramPowerW: number;
}

const NONE: DramFigures = { dramTimeS: 0, dramEnergyJ: 0, dramPowerW: 0 };

/** Softmax of each slot's logits. */
export function probabilities(alpha: number[][]): number[][] {
  return alpha.map((logits) => {
    const top = Math.max(...logits);
    const e = logits.map((a) => Math.exp(a - top));
    const sum = e.reduce((s, x) => s + x, 0);
    return e.map((x) => x / sum);
  });
}

export class ExpectedCost {
  private centre: Path = [];
  private base: DramFigures = NONE;
  /** Per slot and choice: the change from the centre's cost. */
  private delta: DramFigures[][] = [];

  constructor(
    private readonly space: SupernetSpace,
    private readonly processor: Processor,
    private readonly options: CostOptions = {},
  ) {}

  /** The exact cost-model figures of a path. */
  exact(path: Path): DramFigures {
    const report = estimateArchitectureCost(this.space.architecture(path), this.processor, this.options);
    return { dramTimeS: report.dram.timeS, dramEnergyJ: report.dram.energyJ, dramPowerW: report.dram.powerW };
  }

  /** Re-costs every choice in the context of a new centre path (cheap: one cost-model call per choice). */
  recentre(centre: Path): void {
    if (this.centre.length === centre.length && this.centre.every((c, i) => c === centre[i])) return;
    this.centre = [...centre];
    this.base = this.exact(centre);
    this.delta = this.space.slots.map((slot, s) =>
      slot.choices.map((_, j) => {
        if (j === centre[s]) return NONE;
        const moved = this.exact(centre.map((c, i) => (i === s ? j : c)));
        return {
          dramTimeS: moved.dramTimeS - this.base.dramTimeS,
          dramEnergyJ: moved.dramEnergyJ - this.base.dramEnergyJ,
          dramPowerW: moved.dramPowerW - this.base.dramPowerW,
        };
      }),
    );
  }

  /** E[DRAM time], E[DRAM energy] and (to first order around the centre) E[DRAM power] under the slot probabilities. */
  expected(p: number[][]): DramFigures {
    this.ready();
    let { dramTimeS, dramEnergyJ, dramPowerW } = this.base;
    p.forEach((ps, s) =>
      ps.forEach((pj, j) => {
        const d = this.delta[s]?.[j] as DramFigures;
        dramTimeS += pj * d.dramTimeS;
        dramEnergyJ += pj * d.dramEnergyJ;
        dramPowerW += pj * d.dramPowerW;
      }),
    );
    return { dramTimeS, dramEnergyJ, dramPowerW };
  }

  /**
   * ∂/∂α of w_time · E[T] + w_energy · E[E]. With p = softmax(α): ∂E/∂α_j = p_j (c_j − Σ_k p_k c_k).
   */
  gradient(alpha: number[][], weights: { time: number; energy: number; power: number }): number[][] {
    this.ready();
    return probabilities(alpha).map((ps, s) => {
      const c = ps.map((_, j) => {
        const d = this.delta[s]?.[j] as DramFigures;
        return weights.time * d.dramTimeS + weights.energy * d.dramEnergyJ + weights.power * d.dramPowerW;
      });
      const mean = ps.reduce((sum, pj, j) => sum + pj * (c[j] as number), 0);
      return ps.map((pj, j) => pj * ((c[j] as number) - mean));
    });
  }

  private ready(): void {
    if (this.centre.length === 0) throw new Error('internal: ExpectedCost used before recentre()');
  }
}
