/**
 * The cost of one composite op: every layer's DRAM accesses and compute, in one of two ways.
 *
 * - Layer by layer: each sliding-window layer is mapped as a loop nest (mapping.ts); elementwise
 *   layers stream their inputs and output; a batch norm or activation that finishes its
 *   producer's output (an epilogue) is applied on chip as the tile leaves the MAC array, and at
 *   inference a batch norm after a convolution is folded into its weights (as the exporter does).
 * - Fused (depth-first inside the composite op): when its weights and line buffers fit, the op
 *   runs band by band of output rows, its intermediates never leave the chip; it reads its
 *   external inputs once, its weights once, writes its external outputs once. Larger bands mean
 *   fewer transfers; the largest that fits is taken.
 *
 * A training step adds: every activation written for the backward pass; the backward pass (layer
 * by layer with its own mappings, or fused like the forward when weights, weight-gradient
 * accumulators and the bands of activations and gradients fit); gradients of a tensor read by
 * several layers summed in DRAM; and the optimiser's update of every weight.
 *
 * At inference on a processor whose flash executes in place, every weight read comes from flash
 * (counted apart from DRAM), and weights take no room on chip beside a fused op's line buffers:
 * they stream from flash, once per band unless the weight store (the core's cache) holds them all.
 */
import type { LayerKind } from '../space/index.js';
import type { LayerGraph } from '../space/index.js';
import type { Processor } from '../processor/index.js';
import type { CompositeFacts, GraphFacts, LayerFacts } from './analysis.js';
import { busySeconds, contiguous, exposedLatency } from './dram.js';
import type { Access } from './dram.js';
import { flashDevice } from './flash.js';
import { mapLayer } from './mapping.js';
import type { Mapping } from './mapping.js';
import { forwardNest, inputGradientNest, weightGradientNest } from './nests.js';
import type { Precision } from './nests.js';

export type Optimizer = 'sgd' | 'adam';

/** Everything a composite op's cost depends on besides its layers. */
export interface Context {
  p: Processor;
  training: boolean;
  batch: number;
  optimizer: Optimizer;
  /** Activations, weights and gradients in DRAM, and partial sums. */
  x: Precision;
  /** Bytes of master weights and optimiser state. */
  masterBytes: number;
  /** MAC/s of each utilisation class, and joules per MAC, at this mode's precision. */
  rates: number[];
  macEnergy: number;
  /** Weights are read from flash (inference, executing in place), not DRAM. */
  weightsInFlash: boolean;
}

/** One layer's accesses and work. */
export class LayerLedger {
  readBytes = 0;
  readBursts = 0;
  writeBytes = 0;
  writeBursts = 0;
  rows = 0;
  transfers = 0;
  /** Of the DRAM bytes read and written, those of weights (in training also gradients and optimiser state). */
  weightBytes = 0;
  /** Reads from flash (weights executed in place): bytes, lines, transfers. */
  flashBytes = 0;
  flashLines = 0;
  flashTransfers = 0;
  computeS = 0;
  computeJ = 0;
  /** MACs executed (batch and passes included). */
  macs = 0;
  /** Kernels launched (passes that compute; an epilogue launches none). */
  launches = 0;
  /** Kept on chip by fusion (an epilogue, or inside a fused composite op). */
  fused = false;
  /** A batch norm folded into the convolution before it. */
  folded = false;
  mappings: Mapping[] = [];

  /** Adds another ledger of the same layer (a pass costed apart). */
  merge(o: LayerLedger): void {
    this.readBytes += o.readBytes;
    this.readBursts += o.readBursts;
    this.writeBytes += o.writeBytes;
    this.writeBursts += o.writeBursts;
    this.rows += o.rows;
    this.transfers += o.transfers;
    this.weightBytes += o.weightBytes;
    this.flashBytes += o.flashBytes;
    this.flashLines += o.flashLines;
    this.flashTransfers += o.flashTransfers;
    this.computeS += o.computeS;
    this.computeJ += o.computeJ;
    this.macs += o.macs;
    this.launches += o.launches;
    this.fused ||= o.fused;
    this.folded ||= o.folded;
    this.mappings.push(...o.mappings);
  }

  read(a: Access, weights = false): void {
    this.readBytes += a.bytes;
    this.readBursts += a.bursts;
    this.rows += a.rows;
    this.transfers += a.transfers;
    if (weights) this.weightBytes += a.bytes;
  }

  write(a: Access, weights = false): void {
    this.writeBytes += a.bytes;
    this.writeBursts += a.bursts;
    this.rows += a.rows;
    this.transfers += a.transfers;
    if (weights) this.weightBytes += a.bytes;
  }

  readFlash(a: Access): void {
    this.flashBytes += a.bytes;
    this.flashLines += a.bursts;
    this.flashTransfers += a.transfers;
  }

  /** Seconds the flash reads take on processor p (0 without flash reads). */
  flashSeconds(p: Processor): number {
    if (!p.flash || this.flashBytes === 0) return 0;
    const f = flashDevice(p.flash);
    return busySeconds(f, this.flashLines, 0) + exposedLatency(f, this.flashTransfers, p.doubleBuffer);
  }

  /** Weights read in `transfers` transfers: from flash when the mode executes in place, else from DRAM. */
  readWeights(ctx: Context, bytes: number, transfers: number): void {
    if (ctx.weightsInFlash) this.readFlash(contiguous(flashDevice(ctx.p.flash!), bytes, transfers));
    else this.read(contiguous(ctx.p.dram, bytes, transfers), true);
  }

  /** A mapped pass: its accesses, its weight-shaped operand counted as weights (in DRAM unless it came from flash). */
  pass(m: Mapping): void {
    this.mappings.push(m);
    this.read(m.reads);
    this.write(m.writes);
    this.readFlash(m.flashReads);
    for (const o of m.operands) if (!o.flash && (o.name === 'weights' || o.name === 'weight gradient')) this.weightBytes += o.readBytes + o.writeBytes;
  }

  work(ctx: Context, f: LayerFacts, passes: number): void {
    if (passes <= 0) return;
    const work = ctx.batch * f.work * passes;
    const seconds = work / (ctx.rates[f.utilisationIndex] as number);
    const touched = (ctx.batch * (f.inputTotal + f.outputElements) + f.weights) * ctx.x.bytes * passes;
    // Each pass is a kernel of its own, which costs the processor a fixed time to launch.
    this.launches += passes;
    this.computeS += seconds + passes * ctx.p.compute.layerOverhead;
    this.computeJ += work * ctx.macEnergy + touched * ctx.p.sramEnergyPerByte;
    if (f.utilisation !== 'elementwise') this.macs += ctx.batch * f.work * passes;
  }
}

/** How a composite op runs: fused or not, and whether the tensors it shares with its neighbours stay on chip. */
export interface Variant {
  fused: boolean;
  inputOnChip: boolean;
  outputOnChip: boolean;
}

/** What the backward pass of each kind of layer reads from the forward pass. */
const SAVED: Record<LayerKind, 'input' | 'output' | 'none'> = {
  conv: 'input',
  dense: 'input',
  bn: 'input',
  act: 'output',
  maxpool: 'input',
  avgpool: 'none',
  gap: 'none',
  se: 'input',
  add: 'none',
  concat: 'none',
  zero: 'none',
};

/** Whether a layer's backward pass moves data: add and concatenate hand their gradient on as views. */
const BACKWARD: Record<LayerKind, 'mapped' | 'stream' | 'view' | 'none'> = {
  conv: 'mapped',
  dense: 'mapped',
  maxpool: 'mapped',
  avgpool: 'mapped',
  bn: 'stream',
  act: 'stream',
  gap: 'stream',
  se: 'stream',
  add: 'view',
  concat: 'view',
  zero: 'none',
};

/** SRAM bytes tiles may use on one side of a double buffer. */
function room(ctx: Context): number {
  return ctx.p.doubleBuffer ? ctx.p.sramBytes / 2 : ctx.p.sramBytes;
}

/** In training a batch norm needs its batch's statistics before it can normalise: it fuses only when the batch's tensor fits. */
function batchNormFits(ctx: Context, elements: number): boolean {
  return !ctx.training || ctx.batch * elements * ctx.x.bytes <= ctx.p.sramBytes;
}

/** A batch norm or activation applied on chip to its producer's output tile. */
function isEpilogue(f: LayerFacts, ctx: Context): boolean {
  return f.epilogueOf >= 0 && (f.kind !== 'bn' || batchNormFits(ctx, f.outputElements));
}

/**
 * Whether weights and activations fit on chip together (weights in their own store when the
 * processor has one). Weights executed in place from flash need no room: they stream.
 */
export function fitsOnChip(ctx: Context, weightBytes: number, activationBytes: number): boolean {
  const { sramBytes, weightSramBytes } = ctx.p;
  if (ctx.weightsInFlash) return activationBytes <= sramBytes;
  return weightSramBytes > 0 ? weightBytes <= weightSramBytes && activationBytes <= sramBytes : weightBytes + activationBytes <= sramBytes;
}

/** The widest band of output rows a fused composite op can run in (0: it cannot run fused). */
export function fusedRows(c: CompositeFacts, ctx: Context): number {
  if (c.firstLayer === c.endLayer || !batchNormFits(ctx, c.largestBatchNorm)) return 0;
  const b = ctx.x.bytes;
  const buffers = ctx.p.doubleBuffer ? 2 : 1;
  const fits = (rows: number): boolean => fitsOnChip(ctx, c.weights * b, buffers * Math.min(c.touchedElements, c.bandElements + (rows - 1) * c.rowElements) * b);
  if (!fits(1)) return 0;
  let rows = 1;
  for (let r = 2; r < 2 * c.outputRows; r *= 2) {
    const candidate = Math.min(r, c.outputRows);
    if (!fits(candidate)) break;
    rows = candidate;
  }
  return rows;
}

/** Whether the backward pass of a composite op fits fused: weights, their gradient accumulators, and bands of activations and gradients. */
function backwardFits(c: CompositeFacts, ctx: Context): boolean {
  const b = ctx.x.bytes;
  const buffers = ctx.p.doubleBuffer ? 2 : 1;
  return c.firstLayer < c.endLayer && batchNormFits(ctx, c.largestBatchNorm) && fitsOnChip(ctx, c.weights * (b + ctx.x.partialBytes), 2 * buffers * c.bandElements * b);
}

/** A whole tensor streamed through chunks that share the SRAM with `streams` others. */
function stream(ctx: Context, bytes: number, streams: number): Access {
  const chunk = Math.max(1, room(ctx) / streams);
  return contiguous(ctx.p.dram, bytes, Math.ceil(bytes / chunk));
}

/** A whole tensor moved in `transfers` bands. */
function banded(ctx: Context, bytes: number, transfers: number): Access {
  return contiguous(ctx.p.dram, bytes, transfers);
}

/** Bytes of weights a layer loads: at inference a folded batch norm only adds a bias to its convolution. */
function loadedWeightBytes(graph: LayerGraph, facts: GraphFacts, l: number, ctx: Context): number {
  return layerWeightBytes(graph, facts, l, ctx.x.bytes, ctx.training);
}

/**
 * Bytes of a layer's weights at `bytes` per element; at inference a batch norm folded into the
 * convolution before it only adds a bias to it (none when it has one already).
 */
export function layerWeightBytes(graph: LayerGraph, facts: GraphFacts, l: number, bytes: number, training: boolean): number {
  const f = facts.layers[l]!;
  if (!training && foldsIntoProducer(graph, facts, l)) {
    const producer = graph.layers[f.epilogueOf]!;
    return producer.bias ? 0 : f.outputElements === 0 ? 0 : graph.tensors[graph.layers[l]!.output]!.c * bytes;
  }
  return f.weights * bytes;
}

/** At inference a batch norm right after a convolution or dense layer is folded into its weights. */
function folded(graph: LayerGraph, facts: GraphFacts, l: number, ctx: Context): boolean {
  return !ctx.training && foldsIntoProducer(graph, facts, l);
}

/** A batch norm right after a convolution or dense layer (which inference folds it into). */
export function foldsIntoProducer(graph: LayerGraph, facts: GraphFacts, l: number): boolean {
  const f = facts.layers[l]!;
  if (f.kind !== 'bn' || f.epilogueOf < 0) return false;
  const kind = graph.layers[f.epilogueOf]!.kind;
  return kind === 'conv' || kind === 'dense';
}

/**
 * The compute time of one pass of a mapped layer, which only the energy and energy-delay
 * objectives weigh (standby power over the elapsed time); 0 otherwise, so that mappings are
 * shared by processors that differ only in their compute.
 */
function passCompute(ctx: Context, f: LayerFacts): number {
  const objective = ctx.p.mappingObjective;
  return objective === 'energy' || objective === 'edp' ? (ctx.batch * f.work) / (ctx.rates[f.utilisationIndex] as number) : 0;
}

/** Forward work passes of a layer: none for an epilogue, which the output path applies, but a training batch norm's statistics. */
function forwardPasses(f: LayerFacts, ctx: Context): number {
  if (f.isZero) return 0;
  if (isEpilogue(f, ctx)) return ctx.training && f.kind === 'bn' ? 1 : 0;
  return 1;
}

/**
 * Costs the layers of composite op `ci`; one ledger per layer of the op. `networkInput`: the op
 * reads the network's input (whose gradient nobody needs).
 */
export function costComposite(graph: LayerGraph, facts: GraphFacts, ci: number, ctx: Context, variant: Variant, networkInput: boolean): LayerLedger[] {
  const c = facts.composites[ci]!;
  const own = Array.from({ length: c.endLayer - c.firstLayer }, () => new LayerLedger());
  const at = (l: number): LayerLedger => own[l - c.firstLayer]!;
  const input = graph.composites[ci]!.input;
  const readsNetworkInput = (l: number): boolean => networkInput && graph.layers[l]!.inputs.includes(input);
  if (variant.fused) forwardFused(graph, facts, c, ctx, variant, at);
  else forwardLayers(graph, facts, c, ctx, at);
  if (!ctx.training) return own;
  // The backward pass layer by layer, or fused when it fits and costs less.
  const fresh = (): LayerLedger[] => own.map(() => new LayerLedger());
  let backward = fresh();
  backwardLayers(graph, facts, c, ctx, readsNetworkInput, (l) => backward[l - c.firstLayer]!);
  if (ctx.p.fusion !== 'none' && backwardFits(c, ctx)) {
    const fused = fresh();
    backwardFused(graph, facts, c, ctx, input, networkInput, readsNetworkInput, (l) => fused[l - c.firstLayer]!);
    if (ledgerScore(fused, ctx.p) <= ledgerScore(backward, ctx.p)) backward = fused;
  }
  own.forEach((L, i) => L.merge(backward[i]!));
  for (let l = c.firstLayer; l < c.endLayer; l++) optimiserStep(facts.layers[l]!, ctx, at(l));
  return own;
}

/** What a choice between two ways of running layers minimises: the profile's objective, over their DRAM accesses. */
function ledgerScore(ledgers: LayerLedger[], p: Processor): number {
  const d = p.dram;
  const f = p.flash ? flashDevice(p.flash) : undefined;
  let score = 0;
  for (const L of ledgers) {
    const flashS = L.flashSeconds(p);
    const seconds = busySeconds(d, L.readBursts + L.writeBursts, L.rows) + exposedLatency(d, L.transfers, p.doubleBuffer) + flashS;
    switch (p.mappingObjective) {
      case 'traffic':
        score += L.readBytes + L.writeBytes + L.flashBytes;
        break;
      case 'energy':
        score +=
          d.burstBytes * (L.readBursts * d.readEnergyPerByte + L.writeBursts * d.writeEnergyPerByte) +
          L.rows * d.activateEnergy +
          (f ? f.burstBytes * L.flashLines * f.readEnergyPerByte : 0) +
          d.backgroundPower * seconds;
        break;
      case 'time':
      case 'edp':
        score += seconds;
        break;
    }
  }
  return score;
}

function forwardLayers(graph: LayerGraph, facts: GraphFacts, c: CompositeFacts, ctx: Context, at: (l: number) => LayerLedger): void {
  const b = ctx.x.bytes;
  const { batch } = ctx;
  for (let l = c.firstLayer; l < c.endLayer; l++) {
    const f = facts.layers[l]!;
    const L = at(l);
    if (f.isZero) continue;
    L.work(ctx, f, forwardPasses(f, ctx));
    const out = batch * f.outputElements * b;
    if (isEpilogue(f, ctx)) {
      L.fused = true;
      L.folded = folded(graph, facts, l, ctx);
      // Its parameters come with its producer's weights, in the same transfer.
      const w = loadedWeightBytes(graph, facts, l, ctx);
      if (w > 0) L.readWeights(ctx, w, 0);
      // Training keeps every activation for the backward pass.
      if (ctx.training && out > 0) L.write(stream(ctx, out, 1));
      continue;
    }
    if (f.geometry) {
      const g = f.geometry;
      L.pass(mapLayer(forwardNest(g, batch, ctx.x, passCompute(ctx, f), ctx.weightsInFlash), ctx.p));
      if (g.bias > 0) L.readWeights(ctx, g.bias * b, 1);
      continue;
    }
    // Elementwise layers and reductions stream their inputs and output through the SRAM.
    const streams = f.inputElements.length + 1;
    for (const e of f.inputElements) if (e > 0) L.read(stream(ctx, batch * e * b, streams));
    if (out > 0) L.write(stream(ctx, out, streams));
    if (f.weights > 0) L.readWeights(ctx, f.weights * b, 1);
    // Squeeze-excite pools a sample, then scales it: a second read unless the sample stays on chip.
    // A training batch norm reads its input once for the statistics, once to normalise.
    const input = (f.inputElements[0] ?? 0) * b;
    const twoPass = (f.kind === 'se' && input + f.weights * b > room(ctx)) || (ctx.training && f.kind === 'bn' && batch * input > ctx.p.sramBytes);
    if (twoPass) L.read(stream(ctx, batch * input, streams));
  }
}

function forwardFused(graph: LayerGraph, facts: GraphFacts, c: CompositeFacts, ctx: Context, variant: Variant, at: (l: number) => LayerLedger): void {
  const b = ctx.x.bytes;
  const { batch } = ctx;
  const steps = batch * Math.ceil(c.outputRows / Math.max(1, fusedRows(c, ctx)));
  // Weights streamed from flash are read again by every band, unless the weight store keeps them all.
  const weightReads = ctx.weightsInFlash && c.weights * b > ctx.p.weightSramBytes ? steps : 1;
  for (let l = c.firstLayer; l < c.endLayer; l++) {
    const f = facts.layers[l]!;
    const L = at(l);
    if (f.isZero) continue;
    L.fused = true;
    L.folded = folded(graph, facts, l, ctx);
    L.work(ctx, f, forwardPasses(f, ctx));
    // A fused op loads all its weights in one transfer; an epilogue's come with its producer's.
    const w = loadedWeightBytes(graph, facts, l, ctx);
    if (w > 0) L.readWeights(ctx, w * weightReads, (f.epilogueOf >= 0 ? 0 : 1) * weightReads);
    const out = batch * f.outputElements * b;
    const linked = variant.outputOnChip && graph.layers[l]!.output === c.linkOut;
    // Training keeps every activation for the backward pass; inference writes what leaves the op.
    if (out > 0 && (ctx.training || (f.escapes && !linked))) L.write(banded(ctx, out, steps));
  }
  for (const e of c.externalInputs) {
    if (e.elements === 0 || (variant.inputOnChip && e.tensor === c.linkIn)) continue;
    at(e.layer).read(banded(ctx, batch * e.elements * b, steps));
  }
}

function backwardLayers(graph: LayerGraph, facts: GraphFacts, c: CompositeFacts, ctx: Context, readsNetworkInput: (l: number) => boolean, at: (l: number) => LayerLedger): void {
  const b = ctx.x.bytes;
  const { batch } = ctx;
  const users = new Map<number, number[]>();
  for (let l = c.firstLayer; l < c.endLayer; l++) {
    const f = facts.layers[l]!;
    const L = at(l);
    const layer = graph.layers[l]!;
    for (const t of layer.inputs) users.set(t, [...(users.get(t) ?? []), l]);
    const first = readsNetworkInput(l);
    const out = batch * f.outputElements * b;
    switch (BACKWARD[f.kind]) {
      case 'mapped': {
        const g = f.geometry!;
        const passes = f.weights > 0 ? 1 : 0;
        if (!first) {
          L.work(ctx, f, 1);
          L.pass(mapLayer(inputGradientNest(g, batch, ctx.x, passCompute(ctx, f)), ctx.p));
          // Max pooling routes each gradient to its window's maximum, found again in the saved input.
          if (f.kind === 'maxpool') L.read(stream(ctx, batch * f.inputTotal * b, 3));
        }
        if (passes > 0) {
          L.work(ctx, f, 1);
          L.pass(mapLayer(weightGradientNest(g, batch, ctx.x, passCompute(ctx, f)), ctx.p));
          if (g.bias > 0) L.write(contiguous(ctx.p.dram, g.bias * b, 1), true);
        }
        break;
      }
      case 'stream': {
        L.work(ctx, f, 1);
        const saved = SAVED[f.kind] === 'input' ? batch * f.inputTotal * b : SAVED[f.kind] === 'output' ? out : 0;
        const dI = first ? 0 : batch * f.inputTotal * b;
        // Batch norm and squeeze-excite reduce before they can scale: a second pass unless the data stays on chip.
        const passes = (f.kind === 'bn' || f.kind === 'se') && out + saved > ctx.p.sramBytes ? 2 : 1;
        for (let i = 0; i < passes; i++) {
          if (out > 0) L.read(stream(ctx, out, 3));
          if (saved > 0) L.read(stream(ctx, saved, 3));
        }
        if (dI > 0) L.write(stream(ctx, dI, 3));
        if (f.weights > 0) L.write(contiguous(ctx.p.dram, f.weights * b, 1), true);
        break;
      }
      case 'view':
      case 'none':
        break;
    }
  }
  // A tensor read by several layers receives several gradients, summed in DRAM (none for the
  // network input, whose gradient nobody needs).
  for (const [t, readers] of users) {
    const extra = readers.length - 1;
    const bytes = batch * (facts.tensorElements[t] as number) * b;
    if (extra > 0 && bytes > 0 && !readers.every(readsNetworkInput)) {
      const L = at(readers[0] as number);
      for (let i = 0; i < extra; i++) {
        L.read(stream(ctx, bytes, 3));
        L.write(stream(ctx, bytes, 3));
      }
    }
  }
}

function backwardFused(
  graph: LayerGraph,
  facts: GraphFacts,
  c: CompositeFacts,
  ctx: Context,
  input: number,
  networkInput: boolean,
  readsNetworkInput: (l: number) => boolean,
  at: (l: number) => LayerLedger,
): void {
  const b = ctx.x.bytes;
  const { batch } = ctx;
  const steps = batch * c.outputRows;
  const savedRead = new Set<number>();
  for (let l = c.firstLayer; l < c.endLayer; l++) {
    const f = facts.layers[l]!;
    const L = at(l);
    const layer = graph.layers[l]!;
    if (f.isZero) continue;
    L.fused = true;
    const first = readsNetworkInput(l);
    if (BACKWARD[f.kind] === 'mapped') L.work(ctx, f, (first ? 0 : 1) + (f.weights > 0 ? 1 : 0));
    else if (BACKWARD[f.kind] === 'stream') L.work(ctx, f, 1);
    // The gradient arriving from outside, and the weights for the input gradients.
    if (f.escapes && f.outputElements > 0) L.read(banded(ctx, batch * f.outputElements * b, steps));
    if (f.weights > 0) {
      L.read(contiguous(ctx.p.dram, f.weights * b, 1), true);
      L.write(contiguous(ctx.p.dram, f.weights * b, 1), true);
    }
    // What the forward pass saved, each tensor once.
    const saved = SAVED[f.kind] === 'input' ? layer.inputs : SAVED[f.kind] === 'output' ? [layer.output] : [];
    for (const t of saved) {
      const elements = facts.tensorElements[t] as number;
      if (savedRead.has(t) || elements === 0) continue;
      savedRead.add(t);
      L.read(banded(ctx, batch * elements * b, steps));
    }
  }
  // The gradients leaving through the op's inputs.
  if (!networkInput) {
    for (const e of c.externalInputs) {
      const elements = facts.tensorElements[e.tensor] as number;
      if (elements > 0 && e.tensor === input) at(e.layer).write(banded(ctx, batch * elements * b, steps));
    }
  }
}

/** SGD with momentum reads weight, gradient and momentum and writes weight and momentum; Adam keeps a second moment. */
function optimiserStep(f: LayerFacts, ctx: Context, L: LayerLedger): void {
  if (f.weights === 0) return;
  const dram = ctx.p.dram;
  const master = f.weights * ctx.masterBytes;
  const moments = ctx.optimizer === 'adam' ? 2 : 1;
  L.read(contiguous(dram, master * (1 + moments), 1 + moments), true);
  L.read(contiguous(dram, f.weights * ctx.x.bytes, 1), true);
  L.write(contiguous(dram, master * (1 + moments), 1 + moments), true);
  // Mixed precision: the fp16/bf16 copy the next step computes with.
  if (ctx.x.bytes !== ctx.masterBytes) L.write(contiguous(dram, f.weights * ctx.x.bytes, 1), true);
}
