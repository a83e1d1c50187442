/**
 * The dashboard's own views (`procnas serve`): the list of runs, one trial, two trials side by
 * side, and a problem in place of a view. A run's view is the report's (render.ts): the report
 * and the dashboard are one set of views, one static, one live.
 */
import { formatMapping } from '../cost/index.js';
import { formatBytes, formatSI } from '../processor/index.js';
import type { Trial } from '../search/types.js';
import { notationOf } from '../space/index.js';
import { costLayers, pageData } from './data.js';
import { architectureDiagram } from './diagram.js';
import { escapeHtml } from './escape.js';
import { breakdownCharts, comparison, facts } from './render.js';
import type { View } from './shell.js';
import type { ReportInput } from './types.js';

const h = escapeHtml;

/** What the runs page shows of one run. */
export interface RunRow {
  /** Its page, e.g. /runs/0. */
  href: string;
  name: string;
  /** running, stopped or interrupted, and why it stopped. */
  state: string;
  why: string;
  processor: string;
  strategy: string;
  trials: number;
  done: number;
  bestLoss: number | null;
  /** Why the run cannot be read (a damaged store, no store yet), instead of its figures. */
  problem?: string;
}

export function runsView(rows: RunRow[], named: string[]): View {
  const body = rows
    .map((r) => {
      const name = `<a href="${h(r.href)}">${h(r.name)}</a>`;
      if (r.problem !== undefined) return `<tr><td>${name}</td><td colspan="6" class="problem">${h(r.problem)}</td></tr>`;
      const cells = [h(r.processor), h(r.strategy), `<span title="${h(r.why)}">${h(r.state)}${r.why ? `: ${h(r.why)}` : ''}</span>`];
      const figures = [String(r.trials), String(r.done), r.bestLoss === null ? '—' : r.bestLoss.toFixed(4)];
      return `<tr><td>${name}</td>${cells.map((c) => `<td>${c}</td>`).join('')}${figures.map((f) => `<td class="num">${h(f)}</td>`).join('')}</tr>`;
    })
    .join('');
  const table = rows.length
    ? `<div class="scroll"><table class="runs" id="runs-table"><thead><tr><th>run</th><th>processor</th><th>strategy</th><th>state</th><th class="num">trials</th><th class="num">evaluated</th><th class="num">best loss</th></tr></thead><tbody>${body}</tbody></table></div>`
    : `<p class="problem">No run found in ${h(named.join(', '))}: a run is a folder holding experiment.sqlite (as procnas search writes it), or a folder of such folders.</p>`;
  return {
    title: 'procnas runs',
    main: `<header><h1>procnas runs</h1><p class="lede">Served from ${h(named.join(', '))}. The list follows the runs as they are written.</p></header>${table}`,
  };
}

/** A page that cannot show what was asked, saying why (never a blank page). */
export function problemView(title: string, message: string): View {
  return { title, main: `<header><h1>${h(title)}</h1></header><p class="problem" id="problem">${h(message)}</p>` };
}

const percent = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(2)}%`);

function trialFacts(t: Trial): Array<[string, string]> {
  const c = t.cost;
  return [
    ['status', t.reason ? `${t.status}: ${t.reason}` : t.status],
    ['prediction error', percent(t.error)],
    ['loss', Number.isFinite(t.loss) ? t.loss.toFixed(4) : '—'],
    ['trained on', t.images === undefined ? 'every training image' : `${t.images.toLocaleString('en-US')} images (rung ${t.rung ?? 0})`],
    ['inherited', t.inherited ? `${percent(t.inherited.fraction)} of its weights, from ${t.inherited.from}` : 'nothing (trained from its initialisation)'],
    ['DRAM time', formatSI(c.dramTimeS, 's')],
    ['DRAM energy', formatSI(c.dramEnergyJ, 'J')],
    ['DRAM power', formatSI(c.dramPowerW, 'W')],
    ['DRAM traffic', formatBytes(c.dramBytes)],
    ['latency (roofline)', formatSI(c.latencyS, 's')],
    ['parameters', c.params.toLocaleString('en-US')],
    ['MACs', formatSI(c.macs, '')],
    ['evaluation', formatSI(t.evaluationS, 's')],
  ];
}

function layerTable(input: ReportInput, t: Trial): string {
  const costed = costLayers(t.architecture, input.processor, input.cost);
  const kib = (b: number) => (b / 1024).toFixed(1);
  const rows = costed.cost.layers.map((l, k) => {
    const cells: Array<[string, boolean]> = [
      [String(k + 1), true], [l.name, false], [l.op, false], [l.composite, false], [kib(l.dramReadBytes), true], [kib(l.dramWriteBytes), true],
      [kib(l.dramWeightBytes), true], [l.folded ? 'folded' : l.fused ? 'fused' : '', false], [formatSI(l.dramS, 's'), true], [formatSI(l.latencyS, 's'), true],
      [l.mappings.map(formatMapping).join(', '), false],
    ];
    return `<tr${l.fused ? ' class="fused"' : ''}>${cells.map(([v, num]) => `<td${num ? ' class="num"' : ''}>${h(v)}</td>`).join('')}</tr>`;
  });
  const columns = ['#', 'layer', 'op', 'block', 'read KiB', 'write KiB', 'weights KiB', 'on chip', 'DRAM time', 'latency', 'mapping (stationary operand, tiles)'];
  return `<div class="scroll"><table class="layers" id="trial-layers"><thead><tr>${columns.map((c) => `<th>${h(c)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

/** One trial: its figures, its architecture drawn and costed, and each layer's mapping. */
export function trialView(input: ReportInput, t: Trial, compareUrl: string): View {
  const costWhat = input.cost.mode === 'training' ? `one training step (batch ${input.cost.batch})` : `inference (batch ${input.cost.batch})`;
  const other = t === input.best ? input.initial : input.best;
  return {
    title: `trial ${t.index} — ${input.title}`,
    main: `<header><h1>trial ${t.index} <small>${h(input.title)}</small></h1>
<p class="lede">${t === input.best ? 'The best trial. ' : ''}${t === input.initial ? 'The initial architecture. ' : ''}DRAM figures: the cost model's for ${h(costWhat)} on ${h(input.processor.name)}.</p></header>
<div class="grid2"><div class="card"><h3>Figures</h3>${facts(trialFacts(t))}</div>
<div class="card"><h3>Compare</h3><form method="get" action="${h(compareUrl)}" class="compare-form"><input type="hidden" name="a" value="${t.index}">
<label>with trial <input type="number" name="b" min="0" max="${input.trials.length - 1}" value="${other.index}" required></label> <button type="submit">compare</button></form>
<p class="note">${[input.best, input.initial].filter((x) => x !== t).map((x) => `<a href="${h(compareUrl)}?a=${t.index}&amp;b=${x.index}">with the ${x === input.best ? 'best' : 'initial'} (trial ${x.index})</a>`).join(' · ')}</p></div></div>
<h2>Architecture</h2><pre class="notation" id="trial-notation">${h(notationOf(t.architecture))}</pre>
<div class="diagram" id="diagram">${architectureDiagram(costLayers(t.architecture, input.processor, input.cost))}</div>
<h2>Every layer</h2><p class="note">Each layer's DRAM traffic and its mapping at the DRAM↔SRAM boundary: the stationary operand (WS weights, OS outputs, IS inputs; dI/dW the gradient passes of a training step) and the tile of each loop (n batch, g groups, k output channels, c input channels, p×q output pixels).</p>
${layerTable(input, t)}`,
  };
}

/** Two trials side by side: figures, drawings and the DRAM of each stage and block. */
export function compareView(input: ReportInput, a: Trial, b: Trial): View {
  const names = { initial: `trial ${a.index}`, best: `trial ${b.index}` };
  const costedA = costLayers(a.architecture, input.processor, input.cost);
  const costedB = costLayers(b.architecture, input.processor, input.cost);
  // The charts need only the two trials: no rows for the trials table.
  const data = { ...pageData({ ...input, initial: a, best: b, trials: [a, b] }, costedA, costedB), names };
  const drawing = (t: Trial, costed: typeof costedA) =>
    `<div class="card"><h3>trial ${t.index}</h3><pre class="notation">${h(notationOf(t.architecture))}</pre><div class="diagram">${architectureDiagram(costed)}</div></div>`;
  return {
    title: `trials ${a.index} and ${b.index} — ${input.title}`,
    main: `<header><h1>trial ${a.index} and trial ${b.index} <small>${h(input.title)}</small></h1></header>
<div class="card"><h3>Side by side</h3>${comparison(a, b, [`trial ${a.index}`, `trial ${b.index}`])}</div>
<h2>DRAM per stage and block</h2>
${breakdownCharts()}
<h2>The two architectures</h2><div class="grid2">${drawing(a, costedA)}${drawing(b, costedB)}</div>`,
    data,
  };
}
