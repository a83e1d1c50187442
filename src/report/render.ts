/**
 * The report as one self-contained HTML page: the data in a JSON block, Chart.js and the page's
 * script inline, so that it opens from disk with no network.
 */
import { formatBytes, formatSI } from '../processor/index.js';
import type { Processor } from '../processor/index.js';
import type { Trial } from '../search/types.js';
import { notationOf } from '../space/index.js';
import { costLayers, pageData } from './data.js';
import { architectureDiagram } from './diagram.js';
import { escapeHtml } from './escape.js';
import { INLINE_ASSETS, renderPage } from './shell.js';
import type { View } from './shell.js';
import type { PageData, ReportInput } from './types.js';

const h = escapeHtml;

function change(initial: number, best: number, absolutePoints = false): string {
  if (!Number.isFinite(initial) || !Number.isFinite(best)) return '';
  const delta = absolutePoints ? 100 * (best - initial) : initial === 0 ? 0 : (100 * (best - initial)) / initial;
  if (Math.abs(delta) < 0.005) return '<td>±0</td>';
  const text = `${delta > 0 ? '+' : '−'}${Math.abs(delta).toFixed(absolutePoints ? 2 : 1)}${absolutePoints ? ' pp' : '%'}`;
  return `<td class="${delta < 0 ? 'good' : 'bad'}">${text}</td>`;
}

/** Two trials' figures side by side, with the change from the first to the second. */
export function comparison(initial: Trial, best: Trial, names: [string, string] = ['initial', 'best']): string {
  const pct = (t: Trial) => (t.error === undefined ? '—' : `${(100 * t.error).toFixed(2)}%`);
  const loss = (t: Trial) => (Number.isFinite(t.loss) ? t.loss.toFixed(4) : '—');
  const rows: Array<[string, string, string, string]> = [
    ['prediction error', pct(initial), pct(best), change(initial.error ?? NaN, best.error ?? NaN, true)],
    ['loss', loss(initial), loss(best), change(initial.loss, best.loss)],
    ['DRAM time', formatSI(initial.cost.dramTimeS, 's'), formatSI(best.cost.dramTimeS, 's'), change(initial.cost.dramTimeS, best.cost.dramTimeS)],
    ['DRAM energy', formatSI(initial.cost.dramEnergyJ, 'J'), formatSI(best.cost.dramEnergyJ, 'J'), change(initial.cost.dramEnergyJ, best.cost.dramEnergyJ)],
    ['DRAM power', formatSI(initial.cost.dramPowerW, 'W'), formatSI(best.cost.dramPowerW, 'W'), change(initial.cost.dramPowerW, best.cost.dramPowerW)],
    ['DRAM traffic', formatBytes(initial.cost.dramBytes), formatBytes(best.cost.dramBytes), change(initial.cost.dramBytes, best.cost.dramBytes)],
    ['latency (roofline)', formatSI(initial.cost.latencyS, 's'), formatSI(best.cost.latencyS, 's'), change(initial.cost.latencyS, best.cost.latencyS)],
    ['parameters', initial.cost.params.toLocaleString('en-US'), best.cost.params.toLocaleString('en-US'), change(initial.cost.params, best.cost.params)],
    ['MACs', formatSI(initial.cost.macs, ''), formatSI(best.cost.macs, ''), change(initial.cost.macs, best.cost.macs)],
    // Deployed one image at a time; a store written before these were costed has none ('—').
    ['peak activations (deployed)', bytesOrDash(initial.cost.peakActivationBytes), bytesOrDash(best.cost.peakActivationBytes), change(initial.cost.peakActivationBytes, best.cost.peakActivationBytes)],
    ['stored weights', bytesOrDash(initial.cost.storedWeightBytes), bytesOrDash(best.cost.storedWeightBytes), change(initial.cost.storedWeightBytes, best.cost.storedWeightBytes)],
  ];
  const body = rows.map(([what, a, b, d]) => `<tr><th scope="row">${h(what)}</th><td>${h(a)}</td><td>${h(b)}</td>${d || '<td></td>'}</tr>`).join('');
  // One stage per line: the notation separates stages with " | ".
  const stages = (t: Trial) => notationOf(t.architecture).split(' | ').map(h).join('<br>');
  const notation = `<tr><th scope="row">notation</th><td class="notation">${stages(initial)}</td><td class="notation">${stages(best)}</td><td></td></tr>`;
  return `<table class="compare"><thead><tr><th></th><th>${h(names[0])} (trial ${initial.index})</th><th>${h(names[1])} (trial ${best.index})</th><th>change</th></tr></thead><tbody>${body}${notation}</tbody></table>`;
}

function lede(initial: Trial, best: Trial): string {
  if (initial === best) return 'No candidate beat the initial architecture.';
  const compare = (a: number, b: number, what: string) => (b <= a ? `${(100 * (1 - b / a)).toFixed(1)}% less ${what}` : `${(100 * (b / a - 1)).toFixed(1)}% more ${what}`);
  const error = best.error !== undefined && initial.error !== undefined ? `, at ${(100 * best.error).toFixed(2)}% error (initial ${(100 * initial.error).toFixed(2)}%)` : '';
  return `The best architecture needs ${compare(initial.cost.dramTimeS, best.cost.dramTimeS, 'DRAM time')} and ${compare(initial.cost.dramEnergyJ, best.cost.dramEnergyJ, 'DRAM energy')} than the initial one${error}.`;
}

export function facts(rows: Array<[string, string]>): string {
  return `<table class="facts"><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${h(k)}</th><td>${h(v)}</td></tr>`).join('')}</tbody></table>`;
}

function processorTable(p: Processor): string {
  const u = p.compute.utilisation;
  const d = p.dram;
  const rows: Array<[string, string, string]> = [
    ['name', p.name, ''],
    ['description', p.description, ''],
    ['data type', `${p.dtype} (${p.bytesPerElement} B per element), partial sums ${p.accumulator}`, 'dtype'],
    ['on-chip SRAM', `${formatBytes(p.sramBytes)}${p.doubleBuffer ? ', double buffered' : ''}`, 'sram'],
    ...(p.weightSramBytes > 0 ? [['weight store', formatBytes(p.weightSramBytes), 'weightSram'] as [string, string, string]] : []),
    ['DRAM device', d.device, ''],
    ['DRAM bandwidth (peak)', formatSI(d.bandwidth, 'B/s'), 'dram.bandwidth'],
    ['DRAM burst', `${d.burstBytes} B`, 'dram.burst'],
    ['DRAM rows', d.pageBytes > 0 ? `${formatBytes(d.pageBytes)} pages, ${d.banks} banks, ${formatSI(d.rowCycle, 's')} to change rows` : 'not modelled', 'dram.page'],
    ['DRAM energy', `read ${formatSI(d.readEnergyPerByte, 'J/B')}, write ${formatSI(d.writeEnergyPerByte, 'J/B')}, row ${formatSI(d.activateEnergy, 'J')}, standby ${formatSI(d.backgroundPower, 'W')}`, 'dram.energy'],
    ['DRAM latency per transfer', formatSI(d.latency, 's'), 'dram.latency'],
    ...(p.flash
      ? [
          [
            'flash',
            `${formatBytes(p.flash.sizeBytes)}, ${formatSI(p.flash.bandwidth, 'B/s')}, ${formatSI(p.flash.readEnergyPerByte, 'J/B')}; inference reads weights ${p.flash.executeInPlace ? 'in place' : 'from DRAM (copied at start-up)'}`,
            'flash.bandwidth',
          ] as [string, string, string],
        ]
      : []),
    ['training precision', `${p.training.dtype}, ${formatSI(p.training.peakMacsPerSecond, 'MAC/s')}`, 'training'],
    ...(p.calibration
      ? [
          [
            'calibrated',
            `from ${p.calibration.from}, ${p.calibration.measurements} measurements (fitted: ${p.calibration.fitted.join(', ')}); on measurements each fit did not see (${p.calibration.fit.heldOut.folds}): Spearman ${p.calibration.fit.heldOut.spearman.toFixed(3)}, median error ${(100 * p.calibration.fit.heldOut.mdape).toFixed(1)}%`,
            '',
          ] as [string, string, string],
        ]
      : []),
    ['peak compute', formatSI(p.compute.peakMacsPerSecond, 'MAC/s'), 'compute.peak'],
    ['energy per MAC', formatSI(p.compute.macEnergy, 'J'), 'compute.macEnergy'],
    ['utilisation', `conv ${u.conv}, pointwise ${u.pointwise}, depthwise ${u.depthwise}, dense ${u.dense}, elementwise ${u.elementwise}`, 'compute.utilisation'],
    ['SRAM energy', formatSI(p.sramEnergyPerByte, 'J/B'), 'sramEnergy'],
    ['fusion', p.fusion, 'fusion'],
  ];
  const body = rows.map(([what, value, key]) => `<tr><th scope="row">${h(what)}</th><td>${h(value)}</td><td class="source">${h((key && p.sources[key]) || '')}</td></tr>`).join('');
  return `<table class="facts processor"><thead><tr><th>field</th><th>value</th><th>source</th></tr></thead><tbody>${body}</tbody></table>`;
}

function headers(columns: Array<[string, 'num' | 'text']>): string {
  return `<thead><tr>${columns.map(([name, type]) => `<th scope="col" data-type="${type}">${h(name)}</th>`).join('')}</tr></thead><tbody></tbody>`;
}

const TRIAL_COLUMNS: Array<[string, 'num' | 'text']> = [
  ['#', 'num'], ['notation', 'text'], ['status', 'text'], ['error', 'num'], ['loss', 'num'], ['DRAM time', 'num'], ['DRAM energy', 'num'], ['params', 'num'], ['MACs', 'num'],
  ['peak activations', 'num'], ['stored weights', 'num'], ['trained on', 'num'], ['inherited', 'num'],
];

const bytesOrDash = (x: number): string => (Number.isFinite(x) ? formatBytes(x) : '—');
const LAYER_COLUMNS: Array<[string, 'num' | 'text']> = [
  ['#', 'num'], ['layer', 'text'], ['op', 'text'], ['block', 'text'], ['read KiB', 'num'], ['write KiB', 'num'], ['weights KiB', 'num'], ['fused', 'num'], ['DRAM time', 'num'],
];

const SUPERNET_COLUMNS: Array<[string, 'num' | 'text']> = [
  ['epoch', 'num'], ['argmax', 'text'], ['trial', 'num'], ['supernet error', 'num'], ['expected DRAM time', 'num'], ['argmax DRAM time', 'num'],
  ['expected DRAM energy', 'num'], ['argmax DRAM energy', 'num'], ['entropy', 'num'], ['train loss', 'num'], ['validation loss', 'num'],
];

function chart(id: string, title: string, caption: string, size = ''): string {
  return `<div class="card"><h3>${h(title)}</h3><div class="chart ${size}"><canvas id="${id}" role="img" aria-label="${h(title)}"></canvas></div><p class="caption">${h(caption)}</p></div>`;
}

/** The canvases of two architectures' DRAM per stage and per block (the page's script draws byStage and byBlock into them). */
export function breakdownCharts(): string {
  return `<div class="grid2">
${chart('chart-stage-traffic', 'DRAM traffic per stage', 'Dark: weights; light: activations (inputs, outputs and intermediate tensors that leave the chip).')}
${chart('chart-stage-time', 'DRAM time per stage', 'Bytes over bandwidth plus per-transfer latency and over-fetch.')}
${chart('chart-block-traffic', 'DRAM traffic per block', 'Blocks in network order (S2·B1: stage 2, block 1).', 'tall')}
${chart('chart-block-time', 'DRAM time per block', 'Hover a bar for the block\'s notation.', 'tall')}
</div>`;
}

/** The top candidates' repeated trainings: each one's errors, their spread, and the loss at the mean. */
function confirmationSection(input: ReportInput): string {
  const c = input.confirmation;
  if (!c || c.candidates.length === 0) return '';
  const pct = (e: number) => `${(100 * e).toFixed(2)}%`;
  const rows = c.candidates.map((x, rank) => {
    const mark = x.trial === input.best ? ' ★' : '';
    const spread = x.errors.length > 1 ? `${pct(x.meanError)} ± ${(100 * x.sdError).toFixed(2)}` : pct(x.meanError);
    const cells = [
      `${rank + 1}${mark}`,
      String(x.trial.index),
      notationOf(x.trial.architecture),
      x.errors.map(pct).join(', '),
      spread,
      Number.isFinite(x.trial.loss) ? x.trial.loss.toFixed(4) : '—',
      x.meanLoss.toFixed(4),
      x.failures.join('; '),
    ];
    return `<tr>${cells.map((v, i) => `<td${i === 2 ? ' class="notation"' : ''}>${h(v)}</td>`).join('')}</tr>`;
  });
  const columns = ['rank', 'trial', 'notation', 'errors (search, then seeds)', 'mean ± sd', 'loss (search)', 'loss at mean error', 'failed'];
  const changed = c.candidates[0] && c.candidates[0].trial !== [...c.candidates].sort((a, b) => a.trial.loss - b.trial.loss)[0]?.trial;
  return `<section id="confirmation-section">
<h2 id="confirmation">Confirming the best</h2>
<p class="note">One short training's error scatters by about as much as the DRAM terms move the loss. Before the best was declared, the ${c.candidates.length} candidate${c.candidates.length === 1 ? '' : 's'} of lowest loss were trained again with seed${c.seeds.length === 1 ? '' : 's'} ${h(c.seeds.join(', '))} on the same images; the best (★) is the one of lowest loss at its mean error, after every candidate that trained with every seed.${changed ? ' Confirmation changed the best: the search\'s best by one training is not first.' : ''} sd: the sample standard deviation of the errors, in points.</p>
<div class="scroll"><table id="confirmation-table"><thead><tr>${columns.map((name) => `<th scope="col">${h(name)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>
</section>`;
}

/** A `dnas` run's supernet epochs: expected against exact DRAM time, error and entropy, the table. */
function supernetSection(input: ReportInput): string {
  const epochs = input.supernet ?? [];
  if (epochs.length === 0) return '';
  return `<section id="supernet-section">
<h2 id="supernet">The supernet (dnas)</h2>
<p class="note">${epochs.length} supernet epoch${epochs.length === 1 ? '' : 's'}. After each, the argmax architecture (every slot's most probable choice) became the next candidate and was trained from scratch as a trial. Expected DRAM cost: under the choice probabilities p, the figure in the supernet's loss; argmax: the cost model's exact figure for the argmax. Entropy: the mean over slots of the choice distribution's entropy, in nats; it falls to 0 as every slot decides.</p>
<div class="grid2">
${chart('chart-supernet-dram', 'Expected vs argmax DRAM time', 'The two meet as p concentrates on the argmax. Dashed: the initial architecture. Hover an epoch for its argmax.')}
${chart('chart-supernet-error', 'Supernet error and entropy', 'The argmax\'s validation error with the supernet\'s shared weights (left axis) and the mean slot entropy (right axis).')}
</div>
<p class="note">Click a header to sort. ★ the epoch whose argmax is the best architecture; “trial” is the trial that trained it from scratch.</p>
<div class="scroll"><table class="sortable" id="supernet-table">${headers(SUPERNET_COLUMNS)}</table></div>
</section>`;
}

/** What a report's page links to: the trials' pages (the dashboard's; the static report has none). */
export interface ReportLinks {
  trialUrl?: string;
}

/** The inside of the report's <main>, and the data its script draws: one view for the static page and the live one. */
export function reportView(input: ReportInput, links: ReportLinks = {}): View {
  const initial = costLayers(input.initial.architecture, input.processor, input.cost);
  const best = costLayers(input.best.architecture, input.processor, input.cost);
  const data: PageData = { ...pageData(input, initial, best), ...(links.trialUrl ? { trialUrl: links.trialUrl } : {}) };
  const done = input.trials.filter((t) => t.status === 'done').length;
  const costWhat = input.cost.mode === 'training' ? `one training step (batch ${input.cost.batch})` : `inference (batch ${input.cost.batch})`;
  const main = `<header>
<h1>procnas report <small>${h(input.title)}</small></h1>
<p class="lede">${h(lede(input.initial, input.best))}</p>
</header>
<div class="grid2">
<div class="card"><h3>Best vs initial</h3>${comparison(input.initial, input.best)}</div>
<div class="card"><h3>The run</h3>${facts(input.facts)}</div>
</div>

<h2 id="search">The search</h2>
<p class="note">${input.trials.length} trials, ${done} evaluated; DRAM figures are the cost model's for ${h(costWhat)} on ${h(input.processor.name)}. Pareto-optimal: no other trial is at least as good in error, DRAM time and DRAM energy and better in one.</p>
<div class="grid2">
${chart('chart-pareto-time', 'Error vs DRAM time', 'Each point is a trial; ▲ the initial architecture, ★ the best (lowest loss).')}
${chart('chart-pareto-energy', 'Error vs DRAM energy', 'Blue: Pareto-optimal over error, DRAM time and DRAM energy together.')}
</div>
<div class="single">${chart('chart-loss', 'Loss over the search', 'The processor-related loss of each trial in evaluation order, and the best so far.', 'wide')}</div>
${confirmationSection(input)}
${supernetSection(input)}
<h2 id="best">The best architecture</h2>
<p class="note">Stages → blocks → the composite operation each block holds → its basic operations (batch norms and activations shown beside the op they follow or precede). DRAM figures per block are for the best architecture on ${h(input.processor.name)}.</p>
<pre class="notation" id="best-notation">${h(notationOf(input.best.architecture))}</pre>
<div class="diagram" id="diagram">
${architectureDiagram(best)}
</div>

<h2 id="savings">Where the DRAM savings came from</h2>
<p class="note">The cost model's per-layer DRAM traffic and time of the best and the initial architecture, summed per stage and per block.</p>
${breakdownCharts()}
<details><summary>Every layer of the best architecture</summary><div class="scroll"><table class="sortable layers" id="layers-best">${headers(LAYER_COLUMNS)}</table></div></details>
<details><summary>Every layer of the initial architecture</summary><div class="scroll"><table class="sortable layers" id="layers-initial">${headers(LAYER_COLUMNS)}</table></div></details>

<h2 id="processor">Processor profile</h2>
<div class="card">${processorTable(input.processor)}</div>

<h2 id="trials">All trials</h2>
<p class="note">Click a header to sort (again to reverse); a hundred trials a page.</p>
<div class="scroll"><table class="sortable" id="trials-table">${headers(TRIAL_COLUMNS)}</table></div>
<div class="pager" id="trials-pager"></div>

`;
  return { title: `procnas report — ${input.title}`, main, data };
}

/** The whole static page: everything inline, so that it opens from disk with no network. */
export function renderReport(input: ReportInput): string {
  return renderPage(reportView(input), INLINE_ASSETS);
}
