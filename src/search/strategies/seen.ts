/**
 * What a walk over a space has met, shared by the strategies that draw unseen neighbours (local,
 * nested): the trials told, the candidates proposed and not landed, and the best so far.
 */
import type { Architecture, SearchSpace } from '../../space/index.js';
import type { Trial } from '../types.js';

export class Seen {
  private readonly told = new Map<string, Trial>();
  /** Proposed and not landed yet. */
  private readonly pending = new Set<string>();
  best: Trial | undefined;

  constructor(private readonly space: SearchSpace) {}

  /** A trial landed (or was told again). */
  tell(t: Trial): void {
    this.told.set(t.key, t);
    this.pending.delete(t.key);
    if (!this.best || t.loss < this.best.loss) this.best = t;
  }

  /** Marks candidates as in flight and hands them back. */
  track(candidates: Architecture[]): Architecture[] {
    for (const a of candidates) this.pending.add(this.space.key(a));
    return candidates;
  }

  /** Neither told nor in flight. */
  unseen(a: Architecture): boolean {
    return this.unseenKey(this.space.key(a));
  }

  /** `unseen` for a key already computed. */
  unseenKey(key: string): boolean {
    return !this.told.has(key) && !this.pending.has(key);
  }

  trial(key: string): Trial | undefined {
    return this.told.get(key);
  }

  get inFlight(): number {
    return this.pending.size;
  }
}
