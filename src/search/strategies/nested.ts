/**
 * Two levels, as the patent frames its search (a "first" architecture under a "first"
 * termination condition, and inside it a second search under its own): the outer level moves
 * the macro structure — one stage's width or depth — and, for each macro candidate, the inner
 * level searches the composite operations inside its blocks (type, kernel, expansion,
 * squeeze-excite) by first-improvement local search, until its own termination condition:
 * `innerPatience` trials in a row without a lower loss for that macro, or no unseen neighbour
 * left. The macro candidate's value is the best its inner search found; the outer level moves to
 * it when that is lower than the current point's, and starts the next macro candidate from the
 * current point's composite operations. A macro structure whose every neighbour has been tried
 * without a lower loss is a local optimum: the outer level restarts a few macro moves away from
 * the best.
 */
import type { Architecture, MobileSpace, Random } from '../../space/index.js';
import type { Strategy, Trial } from '../types.js';
import { shuffled } from './local.js';
import { Seen } from './seen.js';

export interface NestedOptions {
  /** The inner level's termination: trials in a row without a lower loss for the macro candidate. */
  innerPatience: number;
  /** Macro moves away from the best when the outer level is at a local optimum. */
  restartMoves: number;
}

interface Inner {
  macro: string;
  /** The macro candidate as the outer level proposed it, until its trial lands. */
  start: Architecture;
  best: Trial | undefined;
  sinceImprovement: number;
}

export class NestedSearch implements Strategy {
  readonly name = 'nested';
  /** The outer level's point: the best architecture of the best macro structure so far. */
  private current: Trial | undefined;
  private inner: Inner | undefined;
  private readonly seen: Seen;
  /** Macro structures whose inner search ran (or runs), so that the outer level moves to new ones. */
  private readonly tried = new Set<string>();
  /** The macro structures the outer level restarted from, in order. */
  readonly localOptima: string[] = [];
  /** Each inner search as it ended: its macro structure, its trials and its best loss. */
  readonly innerSearches: Array<{ macro: string; trials: number; bestLoss: number }> = [];
  private innerTrials = 0;

  constructor(
    private readonly space: MobileSpace,
    private readonly random: Random,
    private readonly options: NestedOptions = { innerPatience: 6, restartMoves: 2 },
  ) {
    this.seen = new Seen(space);
  }

  propose(slots: number): Architecture[] {
    // Inner searches that end at once (every neighbour seen) hand over to the next macro candidate;
    // after many in a row, a random architecture of the space starts the next one.
    for (let ended = 0; ended < 100; ended++) {
      // The initial architecture's trial starts the first inner search: until it lands, wait.
      const inner = this.inner;
      if (!inner) return [];
      if (!inner.best) return this.seen.inFlight > 0 ? [] : this.seen.track([inner.start]);
      if (inner.sinceImprovement < this.options.innerPatience) {
        const fresh = this.space.microNeighbours(inner.best.architecture).filter((a) => this.seen.unseen(a));
        if (fresh.length > 0) return this.seen.track(shuffled(fresh, this.random).slice(0, Math.max(1, slots)));
      }
      // The inner search has ended; what it has in flight lands first.
      if (this.seen.inFlight > 0) return [];
      this.endInner(inner);
    }
    this.startInner(this.space.sample(this.random));
    return this.seen.track([(this.inner as Inner).start]);
  }

  observe(trials: Trial[]): void {
    for (const t of trials) {
      this.seen.tell(t);
      if (!this.current) {
        this.current = t;
        this.startInner(t.architecture, t);
        continue;
      }
      const inner = this.inner;
      if (!inner || this.space.macroKey(t.architecture) !== inner.macro) continue;
      this.innerTrials++;
      if (!inner.best || t.loss < inner.best.loss) {
        inner.best = t;
        inner.sinceImprovement = 0;
      } else inner.sinceImprovement++;
    }
  }

  /** The outer level's step: take the inner search's best if lower, then the next macro candidate. */
  private endInner(inner: Inner): void {
    const found = inner.best as Trial;
    this.innerSearches.push({ macro: inner.macro, trials: this.innerTrials, bestLoss: found.loss });
    if (found.loss < (this.current as Trial).loss) this.current = found;
    const point = (this.current as Trial).architecture;
    const untried = this.space.macroNeighbours(point).filter((a) => !this.tried.has(this.space.macroKey(a)));
    if (untried.length > 0) {
      this.startInner(shuffled(untried, this.random)[0] as Architecture);
      return;
    }
    // Every macro neighbour tried without a lower loss: restart a few macro moves from the best.
    this.localOptima.push(this.space.macroKey(point));
    let a = (this.seen.best as Trial).architecture;
    for (let i = 0; i < this.options.restartMoves; i++) a = pick(this.space.macroNeighbours(a), this.random) ?? a;
    this.tried.delete(this.space.macroKey(a));
    this.startInner(a);
  }

  private startInner(start: Architecture, known?: Trial): void {
    const macro = this.space.macroKey(start);
    this.tried.add(macro);
    this.innerTrials = known ? 1 : 0;
    this.inner = { macro, start, best: known ?? this.seen.trial(this.space.key(start)), sinceImprovement: 0 };
  }
}

function pick<T>(xs: readonly T[], random: Random): T | undefined {
  return xs.length === 0 ? undefined : xs[Math.floor(random() * xs.length)];
}
