/** The baseline: the initial architecture, then uniform samples of the space. */
import type { Architecture, Random, SearchSpace } from '../../space/index.js';
import type { Strategy } from '../types.js';

export class RandomSearch implements Strategy {
  readonly name = 'random';
  private first = true;

  constructor(
    private readonly space: SearchSpace,
    private readonly initial: Architecture,
    private readonly random: Random,
    /** Samples proposed at once (one per parallel worker). */
    private readonly batch = 1,
  ) {}

  propose(): Architecture[] {
    if (this.first) {
      this.first = false;
      return [this.initial];
    }
    return Array.from({ length: Math.max(1, this.batch) }, () => this.space.sample(this.random));
  }

  observe(): void {}
}
