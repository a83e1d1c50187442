/** The baseline: uniform samples of the space (the loop evaluates the initial architecture itself). */
import type { Architecture, Random, SearchSpace } from '../../space/index.js';
import type { Strategy } from '../types.js';

export class RandomSearch implements Strategy {
  readonly name = 'random';
  constructor(
    private readonly space: SearchSpace,
    readonly initial: Architecture,
    private readonly random: Random,
  ) {}

  /** One sample per free worker. */
  propose(slots: number): Architecture[] {
    return Array.from({ length: Math.max(1, slots) }, () => this.space.sample(this.random));
  }

  observe(): void {}
}
