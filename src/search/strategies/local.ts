/**
 * The seed's iteration: evaluate neighbours of the current architecture (`neighbourhood` unseen
 * ones at a time) and move to the best of them when it lowers the loss. Only when every
 * neighbour has been seen without one lowering it is the current architecture a local optimum:
 * then it restarts from a random walk of a few moves away from the best so far (iterated local
 * search). It starts from the initial architecture's trial, which the loop tells it first.
 */
import type { Architecture, Random, SearchSpace } from '../../space/index.js';
import type { Strategy, Trial } from '../types.js';

export interface LocalOptions {
  /** Neighbours evaluated per iteration (a random subset when smaller than the neighbourhood). */
  neighbourhood: number;
  /** Random moves away from the best architecture when stuck at a local optimum. */
  restartMoves: number;
}

interface Point {
  architecture: Architecture;
  loss: number;
}

export class LocalSearch implements Strategy {
  readonly name = 'local';
  private current: Point | undefined;
  private best: Point | undefined;
  private batch: string[] = [];
  private readonly seen = new Map<string, Trial>();
  private restart: Architecture | undefined;
  /** Keys of the local optima it restarted from, in order (every neighbour of each was seen). */
  readonly localOptima: string[] = [];

  constructor(
    private readonly space: SearchSpace,
    private readonly initial: Architecture,
    private readonly random: Random,
    private readonly options: LocalOptions = { neighbourhood: Number.POSITIVE_INFINITY, restartMoves: 3 },
  ) {}

  propose(): Architecture[] {
    let candidates: Architecture[];
    if (!this.current) candidates = [this.restart ?? this.escape()];
    else {
      const fresh = this.space.neighbours(this.current.architecture).filter((a) => !this.seen.has(this.space.key(a)));
      candidates = shuffled(fresh, this.random).slice(0, this.options.neighbourhood);
      if (candidates.length === 0) candidates = [this.escape()];
    }
    this.batch = candidates.map((a) => this.space.key(a));
    return candidates;
  }

  observe(trials: Trial[]): void {
    for (const t of trials) this.seen.set(t.key, t);
    // Trials told before any proposal (the initial architecture's) are where the search starts.
    const batch = this.batch.length === 0 ? trials : this.batch.map((k) => this.seen.get(k)).filter((t): t is Trial => t !== undefined);
    if (batch.length < this.batch.length) return;
    this.batch = [];
    const winner = batch.reduce<Trial | undefined>((a, t) => (a === undefined || t.loss < a.loss ? t : a), undefined);
    if (!winner) return;
    const point = { architecture: winner.architecture, loss: winner.loss };
    if (!this.best || point.loss < this.best.loss) this.best = point;
    if (!this.current || point.loss < this.current.loss) {
      this.current = point;
      this.restart = undefined;
      return;
    }
    // No improvement yet: draw more of the neighbours not seen; a local optimum only when none is left.
    if (this.space.neighbours(this.current.architecture).some((a) => !this.seen.has(this.space.key(a)))) return;
    this.localOptima.push(this.space.key(this.current.architecture));
    this.current = undefined;
    this.restart = this.escape();
  }

  private escape(): Architecture {
    let a = (this.best ?? this.current)?.architecture ?? this.initial;
    for (let i = 0; i < this.options.restartMoves; i++) a = this.space.mutate(a, this.random);
    return a;
  }
}

export function shuffled<T>(xs: readonly T[], random: Random): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
