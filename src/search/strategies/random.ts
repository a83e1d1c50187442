/** The baseline: uniform samples of the space (the loop evaluates the initial architecture itself). */
import type { Architecture, Random, SearchSpace } from '../../space/index.js';
import type { Strategy } from '../types.js';

export class RandomSearch implements Strategy {
  readonly name = 'random';
  constructor(
    private readonly space: SearchSpace,
    readonly initial: Architecture,
    private readonly random: Random,
    /** Samples proposed at once (one per parallel worker). */
    private readonly batch = 1,
  ) {}

  propose(): Architecture[] {
    return Array.from({ length: Math.max(1, this.batch) }, () => this.space.sample(this.random));
  }

  observe(): void {}
}
