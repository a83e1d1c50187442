/**
 * The report's figures: trial rows with Pareto membership, and the initial and best
 * architectures' per-layer DRAM costs, also summed per stage and per block. Plain data only,
 * so that the page's script can chart it.
 */
import { estimateCost } from '../cost/index.js';
import type { CostReport } from '../cost/index.js';
import type { Processor } from '../processor/index.js';
import { paretoFront } from '../search/pareto.js';
import { topRung } from '../search/fidelity.js';
import type { Trial } from '../search/types.js';
import { lower, notationOf } from '../space/index.js';
import type { Architecture, Composite, LayerGraph } from '../space/index.js';
import type { Breakdown, LayerRow, PageData, ReportInput, Series, SupernetEpochInput, SupernetRow, TrialRow, Unit } from './types.js';

/** An architecture lowered and costed layer by layer. */
export interface Costed {
  architecture: Architecture;
  graph: LayerGraph;
  cost: CostReport;
}

export function costLayers(architecture: Architecture, processor: Processor, cost: ReportInput['cost']): Costed {
  const graph = lower(architecture);
  return { architecture, graph, cost: estimateCost(graph, processor, { ...cost, layers: true }) };
}

/** The largest SI prefix that shows `max` as at least 1 (µs rather than 0.0001 s). */
export function siUnit(max: number, base: string): Unit {
  const steps: Array<[number, string]> = [[1, ''], [1e-3, 'm'], [1e-6, 'µ'], [1e-9, 'n'], [1e-12, 'p']];
  const [size, prefix] = steps.find(([s]) => max >= s) ?? steps[steps.length - 1]!;
  return { label: `${prefix}${base}`, scale: 1 / size };
}

export function byteUnit(max: number): Unit {
  if (max >= 1024 ** 2) return { label: 'MiB', scale: 1 / 1024 ** 2 };
  return max >= 1024 ? { label: 'KiB', scale: 1 / 1024 } : { label: 'B', scale: 1 };
}

function trialRows(trials: Trial[]): TrialRow[] {
  // Like with like: the front among the trials at the highest rung (all, without multi-fidelity).
  const front = new Set(paretoFront(topRung(trials)));
  const finite = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : x);
  return trials.map((t) => ({
    i: t.index,
    notation: notationOf(t.architecture),
    status: t.status,
    error: finite(t.error),
    loss: finite(t.loss),
    timeS: t.cost.dramTimeS,
    energyJ: t.cost.dramEnergyJ,
    params: t.cost.params,
    macs: t.cost.macs,
    peakActivationBytes: finite(t.cost.peakActivationBytes),
    storedWeightBytes: finite(t.cost.storedWeightBytes),
    pareto: front.has(t),
    reason: t.reason ?? null,
    images: t.images ?? null,
    inherited: t.inherited ? { fraction: t.inherited.fraction, from: t.inherited.from } : null,
  }));
}

const PART_ORDER = { stem: 0, stage: 1, head: 2 } as const;

function stageLabel(c: Composite): string {
  return c.part === 'stage' ? `stage ${c.stage + 1}` : c.part;
}

function blockLabel(c: Composite): string {
  return c.part === 'stage' ? `S${c.stage + 1}·B${c.block + 1}` : `${c.part}·${c.block + 1}`;
}

function order(c: Composite): number {
  return PART_ORDER[c.part] * 1e6 + Math.max(c.stage, 0) * 1e3 + c.block;
}

interface Sums {
  weightBytes: number;
  activationBytes: number;
  timeS: number;
  notation: string;
}

/** Sums an architecture's layer costs into groups of composites (stages or blocks). */
function sums(c: Costed, label: (composite: Composite) => string): Map<string, Sums & { order: number }> {
  const out = new Map<string, Sums & { order: number }>();
  c.graph.layers.forEach((layer, l) => {
    const composite = c.graph.composites[layer.composite];
    const cost = c.cost.layers[l];
    if (!composite || !cost) return;
    const key = label(composite);
    const entry = out.get(key) ?? { weightBytes: 0, activationBytes: 0, timeS: 0, notation: composite.notation, order: order(composite) };
    entry.weightBytes += cost.dramWeightBytes;
    entry.activationBytes += cost.dramReadBytes + cost.dramWriteBytes - cost.dramWeightBytes;
    entry.timeS += cost.dramS;
    out.set(key, entry);
  });
  return out;
}

/** Both architectures over the union of their labels, in network order. */
function breakdown(initial: Costed, best: Costed, label: (composite: Composite) => string): Breakdown {
  const a = sums(initial, label);
  const b = sums(best, label);
  const orderOf = new Map<string, number>();
  for (const [key, s] of [...a, ...b]) orderOf.set(key, Math.min(orderOf.get(key) ?? Infinity, s.order));
  const labels = [...orderOf.keys()].sort((x, y) => (orderOf.get(x) as number) - (orderOf.get(y) as number));
  const series = (m: Map<string, Sums>): Series => ({
    weightBytes: labels.map((k) => m.get(k)?.weightBytes ?? null),
    activationBytes: labels.map((k) => m.get(k)?.activationBytes ?? null),
    timeS: labels.map((k) => m.get(k)?.timeS ?? null),
    notation: labels.map((k) => m.get(k)?.notation ?? null),
  });
  return { labels, initial: series(a), best: series(b) };
}

function layerRows(c: Costed): LayerRow[] {
  return c.cost.layers.map((l) => ({
    name: l.name,
    op: l.op,
    block: l.composite,
    readBytes: l.dramReadBytes,
    writeBytes: l.dramWriteBytes,
    weightBytes: l.dramWeightBytes,
    fused: l.fused,
    dramS: l.dramS,
  }));
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The supernet's epochs, each with the trial that evaluated its argmax (the first of that notation). */
function supernetRows(epochs: SupernetEpochInput[], trials: TrialRow[]): SupernetRow[] {
  const trialOf = new Map<string, number>();
  for (const t of trials) if (!trialOf.has(t.notation)) trialOf.set(t.notation, t.i);
  return epochs.map((e) => ({
    epoch: e.epoch + 1,
    notation: e.notation,
    trial: trialOf.get(e.notation) ?? null,
    supernetError: finiteOrNull(e.supernetError),
    expectedTimeS: e.expected.dramTimeS,
    exactTimeS: e.exact.dramTimeS,
    expectedEnergyJ: e.expected.dramEnergyJ,
    exactEnergyJ: e.exact.dramEnergyJ,
    entropy: finiteOrNull(e.entropy),
    trainLoss: finiteOrNull(e.trainLoss),
    validationLoss: finiteOrNull(e.validationLoss),
  }));
}

export function pageData(input: ReportInput, initial: Costed, best: Costed): PageData {
  const byStage = breakdown(initial, best, stageLabel);
  const stageBytes = [byStage.initial, byStage.best].flatMap((s) => s.weightBytes.map((w, k) => (w ?? 0) + (s.activationBytes[k] ?? 0)));
  const trials = trialRows(input.trials);
  const supernet = supernetRows(input.supernet ?? [], trials);
  // The units fit the supernet's figures too: one unit for every DRAM time on the page.
  const times = supernet.flatMap((e) => [e.expectedTimeS, e.exactTimeS]).filter(Number.isFinite);
  const energies = supernet.flatMap((e) => [e.expectedEnergyJ, e.exactEnergyJ]).filter(Number.isFinite);
  return {
    units: {
      time: siUnit(Math.max(input.initial.cost.dramTimeS, input.best.cost.dramTimeS, ...times), 's'),
      energy: siUnit(Math.max(input.initial.cost.dramEnergyJ, input.best.cost.dramEnergyJ, ...energies), 'J'),
      bytes: byteUnit(Math.max(0, ...stageBytes)),
    },
    trials,
    initial: input.initial.index,
    best: input.best.index,
    byStage,
    byBlock: breakdown(initial, best, blockLabel),
    layers: { initial: layerRows(initial), best: layerRows(best) },
    supernet,
  };
}
