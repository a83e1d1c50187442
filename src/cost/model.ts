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
 * - Latency per layer is max(compute, memory) when double buffering overlaps them, else their
 *   sum; memory time is DRAM time plus flash time (weights executed in place at inference), as
 *   one core or DMA engine issues both. DRAM standby and refresh power accrue over the whole
 *   elapsed time.
 *
 * Composite ops are costed once per signature (analysis.ts) and processor: a search re-costs few.
 */
import type { LayerGraph } from '../space/index.js';
import { opName } from '../space/index.js';
import type { Processor } from '../processor/index.js';
import { UTILISATION_CLASSES, analyse } from './analysis.js';
import type { GraphFacts, UtilisationClass } from './analysis.js';
import { LayerLedger, costComposite, fitsOnChip, fusedRows } from './composite.js';
import type { Context, Optimizer, Variant } from './composite.js';
import { busySeconds, exposedLatency } from './dram.js';
import { flashDevice, weightsInFlash } from './flash.js';
import type { Mapping } from './mapping.js';
import { deployedMemory } from './memory.js';
import type { MemoryFigures } from './memory.js';

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
  /** The kind of work its compute time is rated at (the profile's utilisation class). */
  utilisation: UtilisationClass;
  /** Kernels launched (each pays the profile's layer overhead). */
  launches: number;
  /** What its DRAM time is made of: bytes on the bus, rows opened (an expected number), transfers. */
  dramBusBytes: number;
  dramRowActivations: number;
  dramTransfers: number;
  /** Weights read from flash (executed in place at inference), and the time that takes. */
  flashReadBytes: number;
  flashS: number;
  computeS: number;
  dramS: number;
  latencyS: number;
  /** DRAM (dynamic, rows, its share of standby), flash and compute energy. */
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
    /** Bytes on the bus: whole bursts, so strided tiles move more than they ask for. */
    busReadBytes: number;
    busWriteBytes: number;
    transfers: number;
    /** Rows (pages) opened, an expected number (strided runs cross row boundaries by chance). */
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
  /**
   * Weights read from flash where they are stored (inference on a processor that executes in
   * place): bytes asked for, bytes of whole lines read, transfers, seconds, joules. Zero otherwise.
   */
  flash: { readBytes: number; busReadBytes: number; transfers: number; timeS: number; energyJ: number };
  compute: { timeS: number; energyJ: number };
  /** Compute, DRAM and flash time, overlapped or not as the profile says. */
  latencyS: number;
  /** DRAM, flash and compute energy. */
  energyJ: number;
  /** What the network needs deployed, one image at a time, whatever the mode (memory.ts). */
  memory: MemoryFigures;
  layers: LayerCost[];
}

/** Sums over a run of layers. */
interface Totals {
  readBytes: number;
  writeBytes: number;
  busReadBytes: number;
  busWriteBytes: number;
  weightBytes: number;
  transfers: number;
  rows: number;
  dramS: number;
  dynamicJ: number;
  rowJ: number;
  flashBytes: number;
  flashBusBytes: number;
  flashTransfers: number;
  flashS: number;
  flashJ: number;
  computeS: number;
  computeJ: number;
  latencyS: number;
  macs: number;
}

const zero = (): Totals => ({
  readBytes: 0,
  writeBytes: 0,
  busReadBytes: 0,
  busWriteBytes: 0,
  weightBytes: 0,
  transfers: 0,
  rows: 0,
  dramS: 0,
  dynamicJ: 0,
  rowJ: 0,
  flashBytes: 0,
  flashBusBytes: 0,
  flashTransfers: 0,
  flashS: 0,
  flashJ: 0,
  computeS: 0,
  computeJ: 0,
  latencyS: 0,
  macs: 0,
});

function addTotals(into: Totals, t: Totals): void {
  into.readBytes += t.readBytes;
  into.writeBytes += t.writeBytes;
  into.busReadBytes += t.busReadBytes;
  into.busWriteBytes += t.busWriteBytes;
  into.weightBytes += t.weightBytes;
  into.transfers += t.transfers;
  into.rows += t.rows;
  into.dramS += t.dramS;
  into.dynamicJ += t.dynamicJ;
  into.rowJ += t.rowJ;
  into.flashBytes += t.flashBytes;
  into.flashBusBytes += t.flashBusBytes;
  into.flashTransfers += t.flashTransfers;
  into.flashS += t.flashS;
  into.flashJ += t.flashJ;
  into.computeS += t.computeS;
  into.computeJ += t.computeJ;
  into.latencyS += t.latencyS;
  into.macs += t.macs;
}

/** A layer's DRAM and flash time and energy, and its latency, from its ledger. */
function layerFigures(L: LayerLedger, p: Processor): Totals {
  const d = p.dram;
  const dramS = busySeconds(d, L.readBursts + L.writeBursts, L.rows) + exposedLatency(d, L.transfers, p.doubleBuffer);
  const f = p.flash && L.flashBytes > 0 ? flashDevice(p.flash) : undefined;
  const flashS = L.flashSeconds(p);
  return {
    readBytes: L.readBytes,
    writeBytes: L.writeBytes,
    busReadBytes: L.readBursts * d.burstBytes,
    busWriteBytes: L.writeBursts * d.burstBytes,
    weightBytes: L.weightBytes,
    transfers: L.transfers,
    rows: L.rows,
    dramS,
    dynamicJ: d.burstBytes * (L.readBursts * d.readEnergyPerByte + L.writeBursts * d.writeEnergyPerByte),
    rowJ: L.rows * d.activateEnergy,
    flashBytes: L.flashBytes,
    flashBusBytes: f ? L.flashLines * f.burstBytes : 0,
    flashTransfers: L.flashTransfers,
    flashS,
    flashJ: f ? L.flashLines * f.burstBytes * f.readEnergyPerByte : 0,
    computeS: L.computeS,
    computeJ: L.computeJ,
    latencyS: p.doubleBuffer ? Math.max(L.computeS, dramS + flashS) : L.computeS + dramS + flashS,
    macs: L.macs,
  };
}

/** A composite op costed one way: its layers' ledgers and their sums. */
interface CompositeResult {
  ledgers: LayerLedger[];
  totals: Totals;
}

/** The number the fusion choices minimise, per the profile's objective (additive over ops): over DRAM and flash. */
function score(t: Totals, p: Processor): number {
  switch (p.mappingObjective) {
    case 'energy':
      return t.dynamicJ + t.rowJ + t.flashJ + p.dram.backgroundPower * t.latencyS;
    case 'traffic':
      return t.readBytes + t.writeBytes + t.flashBytes;
    case 'time':
    case 'edp':
      return t.dramS + t.flashS;
  }
}

/** What the plan of a chain needs of one op under one context, worked out once. */
interface OpInfo {
  /** The op run on its own: layer by layer, or fused when that scores less. */
  single: CompositeResult;
  singleScore: number;
  /** Whether it can run fused, and what that occupies: weights, and line buffers at one row per step. */
  canFuse: boolean;
  weightBytes: number;
  lineBytes: number;
  /** Whether its input and its output can stay on chip as the link to the neighbouring op. */
  linkIn: boolean;
  linkOut: boolean;
  /** Scores inside a depth-first stack: as its first op, a middle one, its last (depth-first only). */
  head: number;
  middle: number;
  tail: number;
}

/** Per processor, then per mode/batch/optimizer: composite results by op and variant, and op infos. */
interface Tables {
  results: Map<number, CompositeResult>;
  infos: Map<number, OpInfo>;
}

let memo = new WeakMap<Processor, Map<string, Tables>>();

/** Forgets the costed composite ops (for benchmarks that measure the cold path). */
export function forgetComposites(): void {
  memo = new WeakMap();
}

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
    weightsInFlash: weightsInFlash(p, training),
  };
}

/** One composite op to cost: the graph that holds it (a whole network, or the op alone) and whether it reads the network input. */
export interface OpRef {
  graph: LayerGraph;
  facts: GraphFacts;
  index: number;
  networkInput: boolean;
}

/** The composite ops of a lowered network, in order. */
function opsOf(graph: LayerGraph): OpRef[] {
  const facts = analyse(graph);
  return graph.composites.map((c, index) => ({ graph, facts, index, networkInput: graph.producers[c.input] === -1 }));
}

/** Costs a chain of composite ops under one context, memoising each op's results by signature. */
class Evaluation {
  private readonly tables: Tables;

  constructor(readonly ctx: Context) {
    const { p, training, batch, optimizer } = ctx;
    let perProcessor = memo.get(p);
    if (!perProcessor) {
      perProcessor = new Map();
      memo.set(p, perProcessor);
    }
    const key = `${training ? 't' : 'i'}|${batch}|${optimizer}`;
    let tables = perProcessor.get(key);
    if (!tables) {
      tables = { results: new Map(), infos: new Map() };
      perProcessor.set(key, tables);
    }
    this.tables = tables;
  }

  result(op: OpRef, variant: Variant): CompositeResult {
    const c = op.facts.composites[op.index]!;
    const key = c.id * 16 + (variant.fused ? 8 : 0) + (variant.inputOnChip ? 4 : 0) + (variant.outputOnChip ? 2 : 0) + (op.networkInput ? 1 : 0);
    const { results } = this.tables;
    let r = results.get(key);
    if (!r) {
      const ledgers = costComposite(op.graph, op.facts, op.index, this.ctx, variant, op.networkInput);
      const totals = zero();
      for (const L of ledgers) addTotals(totals, layerFigures(L, this.ctx.p));
      r = { ledgers, totals };
      if (results.size > 100_000) results.clear();
      results.set(key, r);
    }
    return r;
  }

  private info(op: OpRef): OpInfo {
    const c = op.facts.composites[op.index]!;
    const key = c.id * 2 + (op.networkInput ? 1 : 0);
    const { infos } = this.tables;
    let info = infos.get(key);
    if (!info) {
      const { ctx } = this;
      const { p } = ctx;
      const fusion = p.fusion !== 'none' && fusedRows(c, ctx) > 0;
      const layered = this.result(op, { fused: false, inputOnChip: false, outputOnChip: false });
      const alone = fusion ? this.result(op, { fused: true, inputOnChip: false, outputOnChip: false }) : layered;
      const single = score(alone.totals, p) <= score(layered.totals, p) ? alone : layered;
      const stacked = (first: boolean, last: boolean): number =>
        fusion && p.fusion === 'depth-first' ? score(this.result(op, { fused: true, inputOnChip: !first, outputOnChip: !last }).totals, p) : Infinity;
      info = {
        single,
        singleScore: score(single.totals, p),
        canFuse: fusion,
        weightBytes: c.weights * ctx.x.bytes,
        lineBytes: (p.doubleBuffer ? 2 : 1) * c.bandElements * ctx.x.bytes,
        linkIn: c.linkIn >= 0,
        linkOut: c.linkOut >= 0,
        head: stacked(true, false),
        middle: stacked(false, false),
        tail: stacked(false, true),
      };
      if (infos.size > 100_000) infos.clear();
      infos.set(key, info);
    }
    return info;
  }

  /** Per composite op, how it runs. */
  plan(ops: OpRef[]): CompositeResult[] {
    const infos = ops.map((op) => this.info(op));
    if (this.ctx.p.fusion !== 'depth-first') return infos.map((i) => i.single);
    return this.stacks(ops, infos);
  }

  /**
   * Depth-first stacks: best[i] is the least score of ops 0..i-1; the last stack ends at op i-1
   * and starts at any j whose ops are linked one to the next, all run fused, and fit together.
   * A stack j..i scores its first op with its output on chip, its middle ops with both, its last
   * with its input on chip.
   */
  private stacks(ops: OpRef[], infos: OpInfo[]): CompositeResult[] {
    const { ctx } = this;
    const n = ops.length;
    const best = new Float64Array(n + 1).fill(Infinity);
    const start = new Int32Array(n + 1);
    best[0] = 0;
    const middle = new Float64Array(n + 1);
    for (let m = 0; m < n; m++) middle[m + 1] = (middle[m] as number) + infos[m]!.middle;
    for (let i = 0; i < n; i++) {
      const last = infos[i]!;
      best[i + 1] = (best[i] as number) + last.singleScore;
      start[i + 1] = i;
      if (!last.canFuse) continue;
      let weights = last.weightBytes;
      let lines = last.lineBytes;
      for (let j = i - 1; j >= 0; j--) {
        const first = infos[j]!;
        if (!first.canFuse || !first.linkOut || !infos[j + 1]!.linkIn) break;
        weights += first.weightBytes;
        lines += first.lineBytes;
        if (!fitsOnChip(ctx, weights, lines)) break;
        const total = (best[j] as number) + first.head + ((middle[i] as number) - (middle[j + 1] as number)) + last.tail;
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
      if (j === i) plan[i] = infos[i]!.single;
      else for (let m = j; m <= i; m++) plan[m] = this.result(ops[m]!, { fused: true, inputOnChip: m > j, outputOnChip: m < i });
      end = j;
    }
    return plan;
  }
}

function checkBatch(batch: number): void {
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`);
}

/** Costs a chain of composite ops; per-layer figures only when `layers` names their graph's layers. */
export function costOps(ops: OpRef[], p: Processor, options: CostOptions, network: { name: string; params: number; macs: number; memory: MemoryFigures }): CostReport {
  const mode = options.mode ?? 'inference';
  const batch = options.batch ?? 1;
  checkBatch(batch);
  const ctx = contextOf(p, mode, batch, options.optimizer ?? 'sgd');
  const plan = new Evaluation(ctx).plan(ops);
  const totals = zero();
  for (const r of plan) addTotals(totals, r.totals);
  const backgroundJ = p.dram.backgroundPower * totals.latencyS;
  const dramJ = totals.dynamicJ + totals.rowJ + backgroundJ;
  const layers: LayerCost[] = [];
  if (options.layers) {
    plan.forEach((r, i) => {
      const op = ops[i]!;
      const { graph, index } = op;
      const c = graph.composites[index]!;
      r.ledgers.forEach((L, k) => {
        const layer = graph.layers[c.firstLayer + k]!;
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
          utilisation: op.facts.layers[c.firstLayer + k]!.utilisation,
          launches: L.launches,
          dramBusBytes: Math.round(f.busReadBytes + f.busWriteBytes),
          dramRowActivations: f.rows,
          dramTransfers: f.transfers,
          flashReadBytes: Math.round(f.flashBytes),
          flashS: f.flashS,
          computeS: f.computeS,
          dramS: f.dramS,
          latencyS: f.latencyS,
          energyJ: f.dynamicJ + f.rowJ + p.dram.backgroundPower * f.latencyS + f.flashJ + f.computeJ,
        });
      });
    });
  }
  return {
    architecture: network.name,
    processor: p.name,
    mode,
    batch,
    params: network.params,
    macs: network.macs,
    executedMacs: totals.macs,
    dram: {
      readBytes: Math.round(totals.readBytes),
      writeBytes: Math.round(totals.writeBytes),
      weightBytes: Math.round(totals.weightBytes),
      activationBytes: Math.round(totals.readBytes + totals.writeBytes - totals.weightBytes),
      busReadBytes: Math.round(totals.busReadBytes),
      busWriteBytes: Math.round(totals.busWriteBytes),
      transfers: Math.round(totals.transfers),
      rowActivations: totals.rows,
      timeS: totals.dramS,
      energyJ: dramJ,
      dynamicJ: totals.dynamicJ,
      rowJ: totals.rowJ,
      backgroundJ,
      powerW: totals.latencyS > 0 ? dramJ / totals.latencyS : 0,
    },
    flash: {
      readBytes: Math.round(totals.flashBytes),
      busReadBytes: Math.round(totals.flashBusBytes),
      transfers: Math.round(totals.flashTransfers),
      timeS: totals.flashS,
      energyJ: totals.flashJ,
    },
    compute: { timeS: totals.computeS, energyJ: totals.computeJ },
    latencyS: totals.latencyS,
    energyJ: dramJ + totals.flashJ + totals.computeJ,
    memory: network.memory,
    layers,
  };
}

/** The cost of a lowered network, with its per-layer breakdown when `options.layers` is set. */
export function estimateCost(graph: LayerGraph, p: Processor, options: CostOptions = {}): CostReport {
  checkBatch(options.batch ?? 1);
  const memory = deployedMemory(graph, p.bytesPerElement);
  return costOps(opsOf(graph), p, options, { name: graph.name, params: graph.params, macs: graph.macs, memory });
}
