/**
 * Weight inheritance: the trained networks a search has met, kept so that a new candidate
 * starts from the one it shares the most weights with (same names, same shapes) rather than
 * from a random initialisation. Names are positional (`s<stage>.b<block>.<op>.<role>`), so the
 * network a local move or a mutation came from is, in general, the one that shares the most:
 * the strategy need not say which it was. A promoted candidate (multi-fidelity) finds its own
 * lower-rung training and goes on from it.
 */
import { sharedValues } from '../../engine/variables.js';
import type { Weights } from '../../engine/variables.js';

/** What the parents are kept in: enough for hundreds of the main job's networks (about 0.2 MB each). */
export const DEFAULT_PARENT_BYTES = 256 * 2 ** 20;

export interface Parent {
  /** The parent's name (its architecture's notation). */
  name: string;
  weights: Weights;
  /** Values the child takes from it, and how many values the child has. */
  shared: number;
  of: number;
}

const bytesOf = (weights: Weights): number => Object.values(weights).reduce((n, w) => n + w.values.byteLength, 0);

export class Parents {
  /** In order of last use, oldest first (a Map keeps insertion order). */
  private readonly networks = new Map<string, { weights: Weights; bytes: number }>();
  private bytes = 0;

  constructor(private readonly capacityBytes = DEFAULT_PARENT_BYTES) {}

  get size(): number {
    return this.networks.size;
  }

  /** Keeps a trained network under `name` (replacing an earlier training of it); the least recently used go past the capacity. */
  add(name: string, weights: Weights): void {
    this.remove(name);
    const bytes = bytesOf(weights);
    if (bytes > this.capacityBytes) return;
    this.networks.set(name, { weights, bytes });
    this.bytes += bytes;
    for (const [oldest] of this.networks) {
      if (this.bytes <= this.capacityBytes) break;
      this.remove(oldest);
    }
  }

  /**
   * The kept network a child of these variables (shape by name) takes the most values from;
   * the most recently used among equals; none when no kept network shares a value with it.
   */
  parentFor(variables: ReadonlyMap<string, number[]>): Parent | undefined {
    let of = 0;
    for (const shape of variables.values()) of += shape.reduce((n, d) => n * d, 1);
    let best: Parent | undefined;
    for (const [name, { weights }] of this.networks) {
      const shared = sharedValues(variables, weights);
      // `>=`: later entries were used more recently.
      if (shared > 0 && shared >= (best?.shared ?? 0)) best = { name, weights, shared, of };
    }
    if (best) {
      // Used: it is kept the longest.
      const entry = this.networks.get(best.name) as { weights: Weights; bytes: number };
      this.networks.delete(best.name);
      this.networks.set(best.name, entry);
    }
    return best;
  }

  private remove(name: string): void {
    const entry = this.networks.get(name);
    if (!entry) return;
    this.networks.delete(name);
    this.bytes -= entry.bytes;
  }
}
