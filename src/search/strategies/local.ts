/**
 * The seed's iteration, asynchronous: draw unseen neighbours of the current architecture, one
 * per free worker, and move to a neighbour as soon as one lands with a lower loss (first
 * improvement; a neighbour of an earlier point that lands later moves it too when it is lower).
 * Only when every neighbour has been seen, and none is in flight, without one lowering the loss
 * is the current architecture a local optimum: then it restarts from a random walk of a few
 * moves away from the best so far (iterated local search). It starts from the initial
 * architecture, whose neighbours it proposes while the loop trains the initial itself; when the
 * initial's trial lands, the lowest of it and the neighbours landed before it is the current point.
 */
import type { Architecture, Random, SearchSpace } from '../../space/index.js';
import type { Strategy, Trial } from '../types.js';
import { Seen } from './seen.js';

export interface LocalOptions {
  /** Random moves away from the best architecture when stuck at a local optimum. */
  restartMoves: number;
}

export class LocalSearch implements Strategy {
  readonly name = 'local';
  private current: Trial | undefined;
  /** Whether the initial architecture's trial has landed (the walk has a point to compare with). */
  private started = false;
  private readonly initialKey: string;
  private readonly seen: Seen;
  /** The restart point in flight: the search goes on from it once it lands. */
  private restart: string | undefined;
  /** Keys of the local optima it restarted from, in order (every neighbour of each was seen). */
  readonly localOptima: string[] = [];

  constructor(
    private readonly space: SearchSpace,
    private readonly initial: Architecture,
    private readonly random: Random,
    private readonly options: LocalOptions = { restartMoves: 3 },
  ) {
    this.seen = new Seen(space);
    this.initialKey = space.key(initial);
  }

  propose(slots: number): Architecture[] {
    if (!this.started) {
      // The loop trains the initial: its neighbours meanwhile, then wait for it.
      const fresh = this.space.neighbours(this.initial).filter((a) => this.seen.unseen(a));
      return this.seen.track(shuffled(fresh, this.random).slice(0, fresh.length > 0 ? Math.max(1, slots) : 0));
    }
    if (this.current) {
      const fresh = this.space.neighbours(this.current.architecture).filter((a) => this.seen.unseen(a));
      if (fresh.length > 0) return this.seen.track(shuffled(fresh, this.random).slice(0, Math.max(1, slots)));
      // A neighbour in flight may still lower the loss: wait for it.
      if (this.seen.inFlight > 0) return [];
      this.localOptima.push(this.current.key);
      this.current = undefined;
    }
    // Waiting for the point to start from.
    if (this.seen.inFlight > 0) return [];
    const restart = this.escape();
    this.restart = this.space.key(restart);
    return this.seen.track([restart]);
  }

  observe(trials: Trial[]): void {
    for (const t of trials) {
      this.seen.tell(t);
      if (!this.started) {
        // Neighbours of the initial that land before it wait for it; then the lowest is the point.
        if (t.key !== this.initialKey) continue;
        this.started = true;
        this.current = this.seen.best;
      } else if (!this.current) {
        // The restart point: where the search goes on.
        if (t.key === this.restart) {
          this.current = t;
          this.restart = undefined;
        }
      } else if (t.loss < this.current.loss) this.current = t;
    }
  }

  private escape(): Architecture {
    let a = (this.seen.best ?? this.current)?.architecture ?? this.initial;
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
