/**
 * Regularized (aging) evolution (Real et al., AAAI 2019), seeded with the initial architecture:
 * the population starts from its trial (told by the loop) and its mutants; each step a tournament of `sampleSize` picks a
 * parent, its mutant joins the population and the oldest member leaves.
 */
import type { Architecture, Random, SearchSpace } from '../../space/index.js';
import type { Strategy, Trial } from '../types.js';

export interface EvolutionOptions {
  populationSize: number;
  sampleSize: number;
  /** Children proposed at once (one per parallel worker); each from its own tournament. */
  batch: number;
}

export class Evolution implements Strategy {
  readonly name = 'evolution';
  private readonly population: Trial[] = [];

  constructor(
    private readonly space: SearchSpace,
    private readonly initial: Architecture,
    private readonly random: Random,
    private readonly options: EvolutionOptions = { populationSize: 20, sampleSize: 5, batch: 1 },
  ) {}

  propose(): Architecture[] {
    return Array.from({ length: Math.max(1, this.options.batch) }, () => this.child());
  }

  private child(): Architecture {
    if (this.population.length < this.options.populationSize) {
      // Founders: mutants of the initial architecture, one to three moves away.
      let a = this.initial;
      const moves = 1 + Math.floor(this.random() * 3);
      for (let i = 0; i < moves; i++) a = this.space.mutate(a, this.random);
      return a;
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
