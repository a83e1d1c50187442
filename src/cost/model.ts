/**
 * The analytical cost model: params, MACs, DRAM traffic, DRAM time, energy and average power,
 * compute time and energy and a per-layer latency of one network on one processor, for
 * inference or one training step. Pure arithmetic over (LayerGraph, Processor); it never touches
 * an ML engine.
 *
 * - Each layer is mapped at the DRAM↔SRAM boundary (mapping.ts), or runs inside a fused composite
 *   op (composite.ts); the DRAM device turns its accesses into time and energy (dram.ts).
 * - Fusion policy none: layer by layer. composite: each composite op runs fused when that costs
 *   less and fits. depth-first: consecutive fused composite ops form stacks (DeFiNES) whose inner
 *   tensors stay on chip; the stacks are chosen by dynamic programming over the chain of ops to
 *   minimise the profile's objective. Each rule only removes traffic, and each switches on at an
 *   SRAM threshold, so fusion never raises traffic and a smaller SRAM never lowers it.
 * - Latency per layer is max(compute, DRAM) when double buffering overlaps them, else their sum.
 *   DRAM standby and refresh power accrue over the whole elapsed time.
 *
 * Composite ops are costed once per signature (analysis.ts) and processor: a search re-costs few.
 */
import type { LayerGraph } from '../space/index.js';
import { opName } from '../space/index.js';
import type { Processor } from '../processor/index.js';
import { UTILISATION_CLASSES, analyse } from './analysis.js';
import type { GraphFacts } from './analysis.js';
import { LayerLedger, costComposite, fitsOnChip, fusedRows } from './composite.js';
import type { Context, Optimizer, Variant } from './composite.js';
import type { Mapping } from './mapping.js';

export type CostMode = 'inference' | 'training';
export type { Optimizer } from './composite.js';

export interface CostOptions {
  mode?: CostMode;
  batch?: number;
  /** The optimiser a training step updates its weights with (default sgd, with momentum). */
  optimizer?: Optimizer;
  /** Also return the per-layer breakdown (slower; the search needs only totals). */
  layers?: boolean;
}

export interface LayerCost {
  name: string;
  op: string;
  composite: string;
  params: number;
  macs: number;
  dramReadBytes: number;
  dramWriteBytes: number;
  /** Part of the read and written bytes that is weights (in training also weight gradients and optimiser state). */
  dramWeightBytes: number;
  /** True when this layer's tensors stay on chip by fusion (an epilogue, or inside a fused op). */
  fused: boolean;
  /** True for a batch norm folded into the convolution before it (inference). */
  folded: boolean;
  /** The mapping of each pass of a layer mapped on its own (forward; in training also the gradients). */
  mappings: Mapping[];
  computeS: number;
  dramS: number;
  latencyS: number;
  /** DRAM (dynamic, rows, its share of standby) and compute energy. */
  energyJ: number;
}

export interface CostReport {
  architecture: string;
  processor: string;
  mode: CostMode;
  batch: number;
  params: number;
  /** Per-sample forward MACs of the network (the usual "FLOPs" figure). */
  macs: number;
  /** MACs executed by the whole job (batch, and backward passes in training). */
  executedMacs: number;
  dram: {
    readBytes: number;
    writeBytes: number;
    weightBytes: number;
    activationBytes: number;
    transfers: number;
    /** Rows (pages) opened. */
    rowActivations: number;
    timeS: number;
    /** dynamicJ + rowJ + backgroundJ. */
    energyJ: number;
    /** Read and write bursts, I/O included. */
    dynamicJ: number;
    /** Row activations and precharges. */
    rowJ: number;
    /** Standby and refresh over the elapsed time (the latency). */
    backgroundJ: number;
    /** Average DRAM power over the elapsed time: energyJ / latencyS. */
    powerW: number;
  };
  compute: { timeS: number; energyJ: number };
  latencyS: number;
  energyJ: number;
  layers: LayerCost[];
}

/** Sums over a run of layers. */
interface Totals {
  readBytes: number;
  writeBytes: number;
  weightBytes: number;
  transfers: number;
  rows: number;
  dramS: number;
  dynamicJ: number;
  rowJ: number;
  computeS: number;
  computeJ: number;
  latencyS: number;
  macs: number;
}

const zero = (): Totals => ({ readBytes: 0, writeBytes: 0, weightBytes: 0, transfers: 0, rows: 0, dramS: 0, dynamicJ: 0, rowJ: 0, computeS: 0, computeJ: 0, latencyS: 0, macs: 0 });

function addTotals(into: Totals, t: Totals): void {
  into.readBytes += t.readBytes;
  into.writeBytes += t.writeBytes;
  into.weightBytes += t.weightBytes;
  into.transfers += t.transfers;
  into.rows += t.rows;
  into.dramS += t.dramS;
  into.dynamicJ += t.dynamicJ;
  into.rowJ += t.rowJ;
  into.computeS += t.computeS;
  into.computeJ += t.computeJ;
  into.latencyS += t.latencyS;
  into.macs += t.macs;
}

/** A layer's DRAM time and energy, and its latency, from its ledger. */
function layerFigures(L: LayerLedger, p: Processor): Totals {
  const d = p.dram;
  const bursts = L.readBursts + L.writeBursts;
  const dramS = ((bursts * d.burstBytes) / d.bandwidth + (L.rows * d.rowCycle) / d.banks + L.transfers * d.latency) / (1 - d.refreshFraction);
  return {
    readBytes: L.readBytes,
    writeBytes: L.writeBytes,
    weightBytes: L.weightBytes,
    transfers: L.transfers,
    rows: L.rows,
    dramS,
    dynamicJ: d.burstBytes * (L.readBursts * d.readEnergyPerByte + L.writeBursts * d.writeEnergyPerByte),
    rowJ: L.rows * d.activateEnergy,
    computeS: L.computeS,
    computeJ: L.computeJ,
    latencyS: p.doubleBuffer ? Math.max(L.computeS, dramS) : L.computeS + dramS,
    macs: L.macs,
  };
}

/** A composite op costed one way: its layers' ledgers and their sums. */
interface CompositeResult {
  ledgers: LayerLedger[];
  totals: Totals;
}

/** The number the fusion choices minimise, per the profile's objective (additive over ops). */
function score(t: Totals, p: Processor): number {
  return p.mappingObjective === 'energy' ? t.dynamicJ + t.rowJ + p.dram.backgroundPower * t.latencyS : t.dramS;
}

/** Memo of composite results per processor, then per mode/batch/optimizer, then per op and variant. */
const memo = new WeakMap<Processor, Map<string, Map<string, CompositeResult>>>();

function contextOf(p: Processor, mode: CostMode, batch: number, optimizer: Optimizer): Context {
  const training = mode === 'training';
  const bytes = training ? p.training.bytesPerElement : p.bytesPerElement;
  const peak = training ? p.training.peakMacsPerSecond : p.compute.peakMacsPerSecond;
  return {
    p,
    training,
    batch,
    optimizer,
    x: { bytes, partialBytes: training ? 4 : p.accumulatorBytes },
    masterBytes: 4,
    rates: UTILISATION_CLASSES.map((k) => peak * p.compute.utilisation[k]),
    macEnergy: training ? p.training.macEnergy : p.compute.macEnergy,
  };
}

class Evaluation {
  private readonly table: Map<string, CompositeResult>;

  constructor(
    readonly graph: LayerGraph,
    readonly facts: GraphFacts,
    readonly ctx: Context,
  ) {
    const { p, training, batch, optimizer } = ctx;
    let perProcessor = memo.get(p);
    if (!perProcessor) {
      perProcessor = new Map();
      memo.set(p, perProcessor);
    }
    const key = `${training ? 't' : 'i'}|${batch}|${optimizer}`;
    let table = perProcessor.get(key);
    if (!table) {
      table = new Map();
      perProcessor.set(key, table);
    }
    this.table = table;
  }

  private networkInput(ci: number): boolean {
    return this.graph.producers[this.graph.composites[ci]!.input] === -1;
  }

  result(ci: number, variant: Variant): CompositeResult {
    const c = this.facts.composites[ci]!;
    const first = this.networkInput(ci);
    const key = `${variant.fused ? 'F' : 'L'}${variant.inputOnChip ? 1 : 0}${variant.outputOnChip ? 1 : 0}${first ? 'i' : ''}|${c.signature}`;
    let r = this.table.get(key);
    if (!r) {
      const ledgers = costComposite(this.graph, this.facts, ci, this.ctx, variant, first);
      const totals = zero();
      for (const L of ledgers) addTotals(totals, layerFigures(L, this.ctx.p));
      r = { ledgers, totals };
      if (this.table.size > 100_000) this.table.clear();
      this.table.set(key, r);
    }
    return r;
  }

  /** The cheaper of running an op layer by layer or fused. */
  private standalone(ci: number): CompositeResult {
    const layered = this.result(ci, { fused: false, inputOnChip: false, outputOnChip: false });
    if (this.ctx.p.fusion === 'none' || fusedRows(this.facts.composites[ci]!, this.ctx) === 0) return layered;
    const fused = this.result(ci, { fused: true, inputOnChip: false, outputOnChip: false });
    return score(fused.totals, this.ctx.p) <= score(layered.totals, this.ctx.p) ? fused : layered;
  }

  /** Per composite op, how it runs. */
  plan(): CompositeResult[] {
    const n = this.facts.composites.length;
    const single = Array.from({ length: n }, (_, ci) => this.standalone(ci));
    if (this.ctx.p.fusion !== 'depth-first') return single;
    return this.stacks(single);
  }

  /** Bytes of weights and of line buffers a composite op's fused run occupies at one row per step. */
  private footprint(ci: number): [number, number] {
    const c = this.facts.composites[ci]!;
    const b = this.ctx.x.bytes;
    return [c.weights * b, (this.ctx.p.doubleBuffer ? 2 : 1) * c.bandElements * b];
  }

  /**
   * Depth-first stacks: best[i] is the least score of ops 0..i-1; the last stack ends at op i-1
   * and starts at any j whose ops are linked one to the next, all run fused, and fit together.
   */
  private stacks(single: CompositeResult[]): CompositeResult[] {
    const { facts, ctx } = this;
    const n = single.length;
    const best = new Array<number>(n + 1).fill(Infinity);
    const start = new Array<number>(n + 1).fill(0);
    best[0] = 0;
    const canFuse = facts.composites.map((c) => fusedRows(c, ctx) > 0);
    for (let i = 0; i < n; i++) {
      best[i + 1] = (best[i] as number) + score(single[i]!.totals, ctx.p);
      start[i + 1] = i;
      if (!canFuse[i]) continue;
      let [weights, lines] = this.footprint(i);
      for (let j = i - 1; j >= 0; j--) {
        const link = facts.composites[j]!.linkOut;
        if (!canFuse[j] || link < 0 || facts.composites[j + 1]!.linkIn !== link) break;
        const [w, a] = this.footprint(j);
        weights += w;
        lines += a;
        if (!fitsOnChip(ctx, weights, lines)) break;
        let total = best[j] as number;
        for (let m = j; m <= i; m++) total += score(this.result(m, { fused: true, inputOnChip: m > j, outputOnChip: m < i }).totals, ctx.p);
        if (total < (best[i + 1] as number)) {
          best[i + 1] = total;
          start[i + 1] = j;
        }
      }
    }
    const plan: CompositeResult[] = new Array(n);
    for (let end = n; end > 0; ) {
      const j = start[end] as number;
      const i = end - 1;
      if (j === i) plan[i] = single[i]!;
      else for (let m = j; m <= i; m++) plan[m] = this.result(m, { fused: true, inputOnChip: m > j, outputOnChip: m < i });
      end = j;
    }
    return plan;
  }
}

export function estimateCost(graph: LayerGraph, p: Processor, options: CostOptions = {}): CostReport {
  const mode = options.mode ?? 'inference';
  const batch = options.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`);
  const facts = analyse(graph);
  const ctx = contextOf(p, mode, batch, options.optimizer ?? 'sgd');
  const plan = new Evaluation(graph, facts, ctx).plan();
  const totals = zero();
  for (const r of plan) addTotals(totals, r.totals);
  const backgroundJ = p.dram.backgroundPower * totals.latencyS;
  const dramJ = totals.dynamicJ + totals.rowJ + backgroundJ;
  const layers: LayerCost[] = [];
  if (options.layers) {
    plan.forEach((r, ci) => {
      const c = graph.composites[ci]!;
      r.ledgers.forEach((L, i) => {
        const layer = graph.layers[c.firstLayer + i]!;
        const f = layerFigures(L, p);
        layers.push({
          name: layer.name,
          op: opName(graph, layer),
          composite: c.notation,
          params: layer.params,
          macs: layer.macs,
          dramReadBytes: Math.round(f.readBytes),
          dramWriteBytes: Math.round(f.writeBytes),
          dramWeightBytes: Math.round(f.weightBytes),
          fused: L.fused,
          folded: L.folded,
          mappings: L.mappings,
          computeS: f.computeS,
          dramS: f.dramS,
          latencyS: f.latencyS,
          energyJ: f.dynamicJ + f.rowJ + p.dram.backgroundPower * f.latencyS + f.computeJ,
        });
      });
    });
  }
  return {
    architecture: graph.name,
    processor: p.name,
    mode,
    batch,
    params: graph.params,
    macs: graph.macs,
    executedMacs: totals.macs,
    dram: {
      readBytes: Math.round(totals.readBytes),
      writeBytes: Math.round(totals.writeBytes),
      weightBytes: Math.round(totals.weightBytes),
      activationBytes: Math.round(totals.readBytes + totals.writeBytes - totals.weightBytes),
      transfers: Math.round(totals.transfers),
      rowActivations: Math.round(totals.rows),
      timeS: totals.dramS,
      energyJ: dramJ,
      dynamicJ: totals.dynamicJ,
      rowJ: totals.rowJ,
      backgroundJ,
      powerW: totals.latencyS > 0 ? dramJ / totals.latencyS : 0,
    },
    compute: { timeS: totals.computeS, energyJ: totals.computeJ },
    latencyS: totals.latencyS,
    energyJ: dramJ + totals.computeJ,
    layers,
  };
}
