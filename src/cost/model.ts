/**
 * The analytical cost model: params, MACs, DRAM traffic, DRAM time and energy, compute time and
 * energy and a per-layer roofline latency of one network on one processor. Pure arithmetic over
 * (LayerGraph, Processor); it never touches an ML engine.
 *
 * Fusion (the processor's policy):
 * - none: every layer is tiled on its own (tiling.ts) and reads/writes DRAM;
 * - composite: a composite op whose row-banded working set (all its weights + line buffers of
 *   its tensors) fits in SRAM runs fused: it reads its external inputs once, its weights once,
 *   and writes its external outputs once. One that does not fit runs layer by layer, with batch
 *   norms and activations fused into the op they finish;
 * - greedy: as composite, and the tensor between two fused composites stays on chip when both
 *   fit with their whole input and output tensors resident.
 * Each rule only removes traffic and switches on at an SRAM threshold, so fusion never raises
 * traffic and a smaller SRAM never lowers it.
 *
 * Training mode costs one training step: the forward pass (fusion saves reads, but every
 * activation is written because the backward pass needs it; batch norm needs the whole batch's
 * statistics, so it fuses only when the batch's tensor fits), the backward pass layer by layer
 * (input gradients, weight gradients), and an SGD-momentum update of every weight.
 */
import type { LayerGraph } from '../space/index.js';
import { opName } from '../space/index.js';
import type { Processor } from '../processor/index.js';
import { UTILISATION_CLASSES, analyse } from './analysis.js';
import type { GraphFacts, LayerFacts } from './analysis.js';
import { streamTraffic, windowTraffic } from './tiling.js';
import type { Traffic, WindowGeometry } from './tiling.js';

export type CostMode = 'inference' | 'training';

export interface CostOptions {
  mode?: CostMode;
  batch?: number;
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
  /** True when this layer's tensors stay on chip by fusion. */
  fused: boolean;
  computeS: number;
  dramS: number;
  latencyS: number;
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
    timeS: number;
    energyJ: number;
  };
  compute: { timeS: number; energyJ: number };
  latencyS: number;
  energyJ: number;
  layers: LayerCost[];
}

/**
 * Per-layer traffic in flat arrays. One scratch ledger is reused across calls (scoring is
 * synchronous), because allocating typed arrays per network dominated the scoring time.
 */
class Ledger {
  weightReads = new Float64Array(0);
  weightWrites = new Float64Array(0);
  activationReads = new Float64Array(0);
  writes = new Float64Array(0);
  transfers = new Float64Array(0);
  fused = new Uint8Array(0);

  reset(n: number): this {
    if (this.writes.length < n) {
      const size = Math.max(n, 2 * this.writes.length);
      this.weightReads = new Float64Array(size);
      this.weightWrites = new Float64Array(size);
      this.activationReads = new Float64Array(size);
      this.writes = new Float64Array(size);
      this.transfers = new Float64Array(size);
      this.fused = new Uint8Array(size);
    } else {
      this.weightReads.fill(0, 0, n);
      this.weightWrites.fill(0, 0, n);
      this.activationReads.fill(0, 0, n);
      this.writes.fill(0, 0, n);
      this.transfers.fill(0, 0, n);
      this.fused.fill(0, 0, n);
    }
    return this;
  }

  add(l: number, t: Traffic): void {
    this.weightReads[l]! += t.weightReads;
    this.activationReads[l]! += t.activationReads;
    this.writes[l]! += t.writes;
    this.transfers[l]! += t.transfers;
  }
}

const scratch = new Ledger();

/** What every traffic computation of one estimate shares. */
interface Context {
  batch: number;
  sram: number;
  /** Bytes per element. */
  b: number;
  /** Per-transfer DRAM overhead in byte-equivalents: latency × bandwidth + half a burst. */
  transferCost: number;
  training: boolean;
}

/**
 * In training, batch norm needs the statistics of the whole batch before it can normalise, so
 * it fuses into its producer only when the batch's tensor fits on chip.
 */
function batchNormFuses(f: LayerFacts, ctx: Context): boolean {
  return !ctx.training || f.kind !== 'bn' || ctx.batch * f.outputElements * ctx.b <= ctx.sram;
}

/** Traffic of one layer run on its own. */
function standalone(f: LayerFacts, ctx: Context, fuseEpilogues: boolean): Traffic {
  const { batch, sram, b } = ctx;
  if (f.isZero) return { weightReads: 0, activationReads: 0, writes: 0, transfers: 0 };
  if (fuseEpilogues && f.epilogueOf >= 0 && batchNormFuses(f, ctx)) {
    // Applied to the producer's output tile on chip: only its own parameters are loaded.
    return { weightReads: f.weights * b, activationReads: 0, writes: 0, transfers: f.weights > 0 ? 1 : 0 };
  }
  if (f.window) return windowTraffic(f.window, batch, sram, b, ctx.transferCost);
  const inputs = f.inputElements.map((e) => e * b);
  const traffic = streamTraffic(inputs, f.outputElements * b, f.weights * b, batch, sram);
  // Squeeze-excite pools a sample, then scales it: a second read unless the sample stays on chip.
  // Training batch norm likewise reads its input once for the statistics, once to normalise.
  const input = inputs[0] ?? 0;
  const twoPass =
    (f.kind === 'se' && input + f.weights * b > sram) || (ctx.training && f.kind === 'bn' && batch * input > sram);
  if (twoPass) {
    traffic.activationReads += batch * input;
    traffic.transfers += 1;
  }
  return traffic;
}

function forwardTraffic(graph: LayerGraph, facts: GraphFacts, fusion: Processor['fusion'], ctx: Context, ledger: Ledger): void {
  const { batch, sram, b } = ctx;
  const fusedComposite = new Uint8Array(facts.composites.length);
  facts.composites.forEach((c, ci) => {
    const fits = (c.weights + c.bandElements) * b <= sram && (!ctx.training || batch * c.largestBatchNorm * b <= sram);
    if (fusion !== 'none' && fits) fusedComposite[ci] = 1;
    if (!fusedComposite[ci]) {
      for (let l = c.firstLayer; l < c.endLayer; l++) {
        const f = facts.layers[l]!;
        ledger.add(l, standalone(f, ctx, fusion !== 'none'));
        if (fusion !== 'none' && f.epilogueOf >= 0 && batchNormFuses(f, ctx)) ledger.fused[l] = 1;
      }
      return;
    }
    for (let l = c.firstLayer; l < c.endLayer; l++) {
      const f = facts.layers[l]!;
      ledger.fused[l] = 1;
      if (f.weights > 0) {
        ledger.weightReads[l]! += f.weights * b;
        ledger.transfers[l]! += 1;
      }
      if (f.escapes && f.outputElements > 0) {
        ledger.writes[l]! += batch * f.outputElements * b;
        ledger.transfers[l]! += batch;
      }
    }
    for (const { layer, elements } of c.externalInputs) {
      const bytes = elements * b;
      if (bytes > 0) {
        ledger.activationReads[layer]! += batch * bytes;
        ledger.transfers[layer]! += batch;
      }
    }
  });
  if (fusion !== 'greedy') return;
  // Whole-tensor residency between two fused composites. Execution is batch-major (all samples
  // through one composite, then the next), so the whole batch's tensors must fit.
  const resident = (ci: number): boolean => {
    const c = facts.composites[ci]!;
    return fusedComposite[ci] === 1 && (c.weights + c.bandElements + batch * c.externalElements) * b <= sram;
  };
  facts.composites.forEach((c, ci) => {
    if (c.linkTensor < 0 || !resident(ci) || !resident(ci + 1)) return;
    const producer = graph.producers[c.linkTensor] as number;
    const reader = facts.composites[ci + 1]!.externalInputs.find((e) => e.tensor === c.linkTensor);
    if (!reader || reader.elements === 0) return;
    ledger.writes[producer]! -= batch * (facts.tensorElements[c.linkTensor] as number) * b;
    ledger.transfers[producer]! -= batch;
    ledger.activationReads[reader.layer]! -= batch * reader.elements * b;
    ledger.transfers[reader.layer]! -= batch;
  });
}

/** Geometry of the input-gradient pass: a convolution from the output gradient to the input gradient. */
function transposed(g: WindowGeometry): WindowGeometry {
  return { ...g, hi: g.ho, wi: g.wo, ci: g.co, ho: g.hi, wo: g.wi, co: g.ci, stride: 1 };
}

function backwardTraffic(graph: LayerGraph, facts: GraphFacts, ctx: Context, ledger: Ledger): void {
  const { batch, sram, b, transferCost } = ctx;
  graph.layers.forEach((layer, l) => {
    const f = facts.layers[l]!;
    if (f.isZero) return;
    // The forward pass saves every activation for the backward pass.
    ledger.writes[l]! = Math.max(ledger.writes[l]!, batch * f.outputElements * b);
    const out = batch * f.outputElements * b;
    const inputs = f.inputTotal * batch * b;
    const weights = f.weights * b;
    if (f.window) {
      if (!f.readsNetworkInput) ledger.add(l, windowTraffic(transposed(f.window), batch, sram, b, transferCost));
      if (weights === 0) return;
      // Weight gradient: the forward tiling, reading the output gradient instead of writing it and
      // writing weight gradients where the forward pass loaded weights.
      const fwd = windowTraffic(f.window, batch, sram, b, transferCost);
      ledger.add(l, { weightReads: 0, activationReads: fwd.activationReads + out, writes: 0, transfers: fwd.transfers });
      ledger.weightWrites[l]! += fwd.weightReads;
    } else {
      // Elementwise ops and reductions: read the output gradient and the saved input, write the
      // input gradient; batch norm and squeeze-excite need a second pass for their reductions.
      const passes = (layer.kind === 'bn' || layer.kind === 'se') && inputs + out > sram ? 2 : 1;
      ledger.add(l, { weightReads: 0, activationReads: passes * (out + inputs), writes: inputs, transfers: 2 * passes });
      ledger.weightWrites[l]! += weights;
    }
    // SGD with momentum: read weight, gradient and momentum; write weight and momentum.
    if (weights > 0) {
      ledger.add(l, { weightReads: 3 * weights, activationReads: 0, writes: 0, transfers: 2 });
      ledger.weightWrites[l]! += 2 * weights;
    }
  });
  // A tensor read by several layers receives several gradients, summed in DRAM (none for the
  // network input, whose gradient nobody needs).
  facts.consumers.forEach((users, t) => {
    const extra = users.length - 1;
    const bytes = batch * (facts.tensorElements[t] as number) * b;
    if (extra > 0 && bytes > 0 && graph.producers[t] !== -1) {
      ledger.add(users[0] as number, { weightReads: 0, activationReads: extra * bytes, writes: extra * bytes, transfers: 2 * extra });
    }
  });
}

export function estimateCost(graph: LayerGraph, p: Processor, options: CostOptions = {}): CostReport {
  const mode = options.mode ?? 'inference';
  const batch = options.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`);
  const facts = analyse(graph);
  const n = graph.layers.length;
  const ledger = scratch.reset(n);
  const b = p.bytesPerElement;
  const { bandwidth, energyPerByte, latency, burstBytes } = p.dram;
  const ctx: Context = { batch, sram: p.sramBytes, b, transferCost: latency * bandwidth + burstBytes / 2, training: mode === 'training' };
  forwardTraffic(graph, facts, p.fusion, ctx, ledger);
  if (ctx.training) backwardTraffic(graph, facts, ctx, ledger);

  const rates = UTILISATION_CLASSES.map((k) => p.compute.peakMacsPerSecond * p.compute.utilisation[k]);
  const totals = { read: 0, write: 0, weight: 0, transfers: 0, dramS: 0, dramJ: 0, computeS: 0, computeJ: 0, latency: 0, macs: 0 };
  const layers: LayerCost[] = [];
  for (let l = 0; l < n; l++) {
    const f = facts.layers[l]!;
    const layer = graph.layers[l]!;
    const reads = ledger.weightReads[l]! + ledger.activationReads[l]!;
    const weightBytes = ledger.weightReads[l]! + ledger.weightWrites[l]!;
    const writes = ledger.writes[l]! + ledger.weightWrites[l]!;
    const transfers = ledger.transfers[l]!;
    // Each transfer pays the access latency and, on average, half a burst of over-fetch.
    const moved = reads + writes + (transfers * burstBytes) / 2;
    const dramS = moved / bandwidth + transfers * latency;
    const dramJ = moved * energyPerByte;
    const isMac = f.utilisation !== 'elementwise';
    // Training: forward, input gradient (not for the first layer) and weight gradient.
    const passes = mode === 'training' ? (isMac ? (f.readsNetworkInput ? 2 : 3) : 2) : 1;
    const work = batch * f.work * passes;
    const computeS = work / (rates[f.utilisationIndex] as number);
    const touched = (batch * (f.inputTotal + f.outputElements) + f.weights) * b * passes;
    const computeJ = work * p.compute.macEnergy + touched * p.sramEnergyPerByte;
    const latencyS = Math.max(computeS, dramS);
    totals.read += reads;
    totals.write += writes;
    totals.weight += weightBytes;
    totals.transfers += transfers;
    totals.dramS += dramS;
    totals.dramJ += dramJ;
    totals.computeS += computeS;
    totals.computeJ += computeJ;
    totals.latency += latencyS;
    if (isMac) totals.macs += batch * layer.macs * passes;
    if (options.layers) {
      layers.push({
        name: layer.name,
        op: opName(graph, layer),
        composite: graph.composites[layer.composite]?.notation ?? '',
        params: layer.params,
        macs: layer.macs,
        dramReadBytes: Math.round(reads),
        dramWriteBytes: Math.round(writes),
        dramWeightBytes: Math.round(weightBytes),
        fused: ledger.fused[l] === 1,
        computeS,
        dramS,
        latencyS,
        energyJ: dramJ + computeJ,
      });
    }
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
      readBytes: Math.round(totals.read),
      writeBytes: Math.round(totals.write),
      weightBytes: Math.round(totals.weight),
      activationBytes: Math.round(totals.read + totals.write - totals.weight),
      transfers: Math.round(totals.transfers),
      timeS: totals.dramS,
      energyJ: totals.dramJ,
    },
    compute: { timeS: totals.computeS, energyJ: totals.computeJ },
    latencyS: totals.latency,
    energyJ: totals.dramJ + totals.computeJ,
    layers,
  };
}
