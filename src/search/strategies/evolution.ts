/**
 * Regularized (aging) evolution (Real et al., AAAI 2019), seeded with the initial architecture:
 * the population starts from its trial (told by the loop) and its mutants; each free worker gets
 * the mutant of a tournament's winner (`sampleSize` drawn), and each child joins the population
 * as it lands while the oldest member leaves. Asynchronous as in the paper: no generation waits.
 */
import { randomWalk } from '../../space/index.js';
import type { Architecture, Random, SearchSpace } from '../../space/index.js';
import type { Strategy, Trial } from '../types.js';

export interface EvolutionOptions {
  populationSize: number;
  sampleSize: number;
}

export class Evolution implements Strategy {
  readonly name = 'evolution';
  private readonly population: Trial[] = [];

  constructor(
    private readonly space: SearchSpace,
    private readonly initial: Architecture,
    private readonly random: Random,
    private readonly options: EvolutionOptions = { populationSize: 20, sampleSize: 5 },
  ) {}

  propose(slots: number): Architecture[] {
    return Array.from({ length: Math.max(1, slots) }, () => this.child());
  }

  private child(): Architecture {
    if (this.population.length < this.options.populationSize) {
      // Founders: mutants of the initial architecture, one to three moves away.
      return randomWalk(this.space, this.initial, 3, this.random);
    }
    let parent: Trial | undefined;
    for (let i = 0; i < this.options.sampleSize; i++) {
      const t = this.population[Math.floor(this.random() * this.population.length)] as Trial;
      if (!parent || t.loss < parent.loss) parent = t;
    }
    return this.space.mutate((parent as Trial).architecture, this.random);
  }

  observe(trials: Trial[]): void {
    for (const t of trials) {
      this.population.push(t);
      if (this.population.length > this.options.populationSize) this.population.shift();
    }
  }
}
