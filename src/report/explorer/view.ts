/**
 * The explorer's output: the problems, the totals, the per-layer table and the charts. Every
 * string goes in as text (textContent), never as HTML: names come from pasted architectures.
 * The charts are made once and then given new data, so recomputing leaks nothing.
 */
import { deployedFit, formatMapping } from '../../cost/index.js';
import type { CostReport } from '../../cost/index.js';
import { formatBytes, formatSI } from '../../processor/units.js';
import type { Processor } from '../../processor/index.js';
import { notationOf } from '../../space/architecture.js';
import { byteUnit, siUnit } from '../data.js';
import { byId, element, newChart } from './dom.js';
import type { ChartData, ChartInstance, ChartOptions, PageElement } from './dom.js';
import type { Costed, Outcome } from './state.js';

const COLOR = { dram: '#1a73e8', compute: '#9aa0a6', weights: '#e8710a', activations: '#188038' };

const count = (n: number): string => n.toLocaleString('en-US');
const seconds = (s: number): string => formatSI(s, 's');
const joules = (j: number): string => formatSI(j, 'J');

function showProblem(id: string, message: string | undefined): void {
  const box = byId(id);
  box.textContent = message ?? '';
  box.hidden = message === undefined;
}

function deployed(report: CostReport, processor: Processor): Array<[string, string]> {
  const { peakActivationBytes, storedWeightBytes } = report.memory;
  const fit = deployedFit(report, processor);
  return [
    ['peak activations (deployed, one image)', `${formatBytes(peakActivationBytes)}: ${fit.sram}`],
    ['stored weights', `${formatBytes(storedWeightBytes)}${fit.flash ? ` (${fit.flash})` : ''}`],
  ];
}

function totalsRows({ report, processor }: Costed): Array<[string, string]> {
  const { dram, flash } = report;
  const job = report.mode === 'training' ? `one training step (${processor.training.dtype})` : `inference (${processor.dtype})`;
  return [
    ['network on processor', `${report.architecture} on ${report.processor}`],
    ['job', `${job}, batch ${report.batch}`],
    ['parameters', count(report.params)],
    ['MACs', `${formatSI(report.macs, 'MAC')} per image, ${formatSI(report.executedMacs, 'MAC')} executed`],
    ['DRAM read', `${formatBytes(dram.readBytes)} (${count(dram.readBytes)} B)`],
    ['DRAM written', `${formatBytes(dram.writeBytes)} (${count(dram.writeBytes)} B)`],
    ['of which weights, activations', `${formatBytes(dram.weightBytes)}, ${formatBytes(dram.activationBytes)}`],
    ['on the bus (whole bursts)', `${formatBytes(dram.busReadBytes)} read, ${formatBytes(dram.busWriteBytes)} written, in ${count(dram.transfers)} transfers opening ${count(Math.round(dram.rowActivations))} rows`],
    ['DRAM time', seconds(dram.timeS)],
    ['DRAM energy', `${joules(dram.energyJ)} (bursts ${joules(dram.dynamicJ)}, rows ${joules(dram.rowJ)}, standby ${joules(dram.backgroundJ)})`],
    ['DRAM power', formatSI(dram.powerW, 'W')],
    ...(flash.readBytes > 0
      ? [['flash', `${formatBytes(flash.readBytes)} of weights read in place (${formatBytes(flash.busReadBytes)} in whole lines), ${seconds(flash.timeS)}, ${joules(flash.energyJ)}`] as [string, string]]
      : []),
    ['compute', `${seconds(report.compute.timeS)}, ${joules(report.compute.energyJ)}`],
    ['latency', seconds(report.latencyS)],
    ['energy', joules(report.energyJ)],
    ...deployed(report, processor),
  ];
}

function row(cells: Array<[string, string?]>): PageElement {
  const tr = element('tr');
  for (const [text, className] of cells) tr.append(element('td', text, className ?? ''));
  return tr;
}

function showTotals(costed: Costed): void {
  const rows = totalsRows(costed).map(([what, value]) => {
    const tr = element('tr');
    const th = element('th', what);
    th.setAttribute('scope', 'row');
    tr.append(th, element('td', value));
    return tr;
  });
  byId('totals').replaceChildren(...rows);
}

function showLayers(report: CostReport): void {
  const rows = report.layers.map((layer) =>
    row([
      [layer.name],
      [layer.op],
      [formatBytes(layer.dramReadBytes), 'num'],
      [formatBytes(layer.dramWriteBytes), 'num'],
      [formatBytes(layer.dramWeightBytes), 'num'],
      [layer.folded ? 'folded' : layer.fused ? 'fused' : ''],
      [seconds(layer.dramS), 'num'],
      [seconds(layer.computeS), 'num'],
      [seconds(layer.latencyS), 'num'],
      [layer.mappings.map(formatMapping).join('; '), 'mapping'],
    ]),
  );
  byId('layers').replaceChildren(...rows);
}

/** `perLayer`: a bar per layer, too many to name on the axis (measuring a hundred labels is also most of a redraw). */
function barOptions(stacked: boolean, axis: string, perLayer: boolean): ChartOptions {
  return {
    animation: false,
    maintainAspectRatio: false,
    scales: {
      x: { stacked, ticks: perLayer ? { display: false } : { autoSkip: true, maxRotation: 90 } },
      y: { stacked, title: { display: true, text: axis } },
    },
  };
}

/** A chart's data and the title of its value axis (the unit fits the largest value). */
interface ChartContent {
  data: ChartData;
  axis: string;
}

function layerTimes(report: CostReport): ChartContent {
  const unit = siUnit(Math.max(0, ...report.layers.map((l) => Math.max(l.dramS, l.computeS))), 's');
  return {
    axis: `time (${unit.label})`,
    data: {
      labels: report.layers.map((l) => l.name),
      datasets: [
        { label: 'DRAM', data: report.layers.map((l) => l.dramS * unit.scale), backgroundColor: COLOR.dram },
        { label: 'compute', data: report.layers.map((l) => l.computeS * unit.scale), backgroundColor: COLOR.compute },
      ],
    },
  };
}

/** DRAM bytes per stage (stem and head as their own), weights apart from activations. */
function stageTraffic({ graph, report }: Costed): ChartContent {
  const stages = new Map<string, { weights: number; activations: number }>();
  // The cost's layers come in the lowered graph's order, one for one.
  graph.layers.forEach((layer, l) => {
    const composite = graph.composites[layer.composite];
    const cost = report.layers[l];
    if (!composite || !cost) return;
    const label = composite.part === 'stage' ? `stage ${composite.stage + 1}` : composite.part;
    const sums = stages.get(label) ?? { weights: 0, activations: 0 };
    sums.weights += cost.dramWeightBytes;
    sums.activations += cost.dramReadBytes + cost.dramWriteBytes - cost.dramWeightBytes;
    stages.set(label, sums);
  });
  const sums = [...stages.values()];
  const unit = byteUnit(Math.max(0, ...sums.map((s) => s.weights + s.activations)));
  return {
    axis: `DRAM traffic (${unit.label})`,
    data: {
      labels: [...stages.keys()],
      datasets: [
        { label: 'weights', data: sums.map((s) => s.weights * unit.scale), backgroundColor: COLOR.weights, stack: 'bytes' },
        { label: 'activations', data: sums.map((s) => s.activations * unit.scale), backgroundColor: COLOR.activations, stack: 'bytes' },
      ],
    },
  };
}

const charts = new Map<string, ChartInstance>();

/** Draws a chart the first time, then gives it the new data (no new chart per recompute). */
function showChart(canvasId: string, content: ChartContent, shape: { stacked: boolean; perLayer: boolean }): void {
  const options = barOptions(shape.stacked, content.axis, shape.perLayer);
  const chart = charts.get(canvasId);
  if (!chart) {
    charts.set(canvasId, newChart(byId(canvasId), content.data, options));
    return;
  }
  chart.data = content.data;
  chart.options = options;
  chart.update('none');
}

/** Shows an outcome: its problems beside the controls they concern, or its figures. */
export function showOutcome(outcome: Outcome): void {
  const problems = outcome.problems ?? {};
  showProblem('arch-error', problems.architecture);
  showProblem('profile-error', problems.processor);
  showProblem('cost-error', problems.cost);
  // The last figures stay, faded, while a problem stands: the user sees what they are fixing.
  byId('results').classList.toggle('stale', !outcome.costed);
  if (problems.architecture) byId('arch-notation').textContent = '—';
  if (!outcome.costed) return;
  byId('arch-notation').textContent = notationOf(outcome.costed.architecture);
  showTotals(outcome.costed);
  showLayers(outcome.costed.report);
  showChart('chart-layer-time', layerTimes(outcome.costed.report), { stacked: false, perLayer: true });
  showChart('chart-stage-traffic', stageTraffic(outcome.costed), { stacked: true, perLayer: false });
}

export function showStatus(text: string): void {
  byId('status').textContent = text;
}
