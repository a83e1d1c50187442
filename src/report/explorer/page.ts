/**
 * The cost explorer's view (`procnas serve`, GET /explorer): the controls, empty tables and
 * canvases. The page around it loads Chart.js, then the explorer's bundle (no inline script: the
 * server's CSP allows scripts from its own origin only), which fills everything in and recomputes
 * the cost in the browser on every change.
 */
import { DTYPES, FUSION_POLICIES, presetNames } from '../../processor/index.js';
import { builtinNames } from '../../space/index.js';
import { escapeHtml } from '../escape.js';
import type { View } from '../shell.js';
import { DEFAULT_ARCHITECTURE, DEFAULT_NB201_CELL, DEFAULT_PRESET, NB201_CHOICE, PASTED_CHOICE } from './defaults.js';
import { SLIDERS } from './sliders.js';
import type { LogSlider } from './sliders.js';

const h = escapeHtml;

/** What the pasted-architecture box holds at first: the README's example, to edit. */
const EXAMPLE_ARCHITECTURE = `name: tiny
input: 32x32x3
classes: 10
act: relu6
stem: [cn_k3_s1_c16]
stages:
  - [ir_r2_k3_s2_e6_c24]
  - [ir_k5_s2_e3_c40_se0.25, { type: ir, kernel: 3, expand: 6, out: 40 }]
head: [cn_k1_c1280, gap, fc]
`;

const EXPLORER_STYLES = `
.controls { align-items: start; }
.controls label { display: block; margin: 8px 0 2px; color: var(--muted); font-size: 12.5px; }
.controls select, .controls input[type="text"], .controls input[type="number"] { font: inherit; padding: 3px 6px; max-width: 100%; }
.controls input[type="number"] { width: 7em; }
.controls input[type="text"] { width: 100%; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.controls textarea { width: 100%; min-height: 180px; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.slider { display: grid; grid-template-columns: 150px 1fr 92px; align-items: center; gap: 8px; margin: 4px 0; }
.slider label { margin: 0; }
.slider output { text-align: right; font-variant-numeric: tabular-nums; }
.row { display: flex; flex-wrap: wrap; gap: 4px 16px; }
.row > div { min-width: 120px; }
.problem { color: #c5221f; background: #fce8e6; border-radius: 6px; padding: 6px 10px; margin: 8px 0; white-space: pre-wrap; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
#results.stale { opacity: 0.45; }
#status { color: var(--muted); }
table.explorer-layers td.num, table.explorer-layers th.num { white-space: nowrap; }
table.explorer-layers td.mapping { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 11.5px; white-space: nowrap; }
`;

function options(values: readonly string[], selected: string, label: (value: string) => string = (v) => v): string {
  return values.map((v) => `<option value="${h(v)}"${v === selected ? ' selected' : ''}>${h(label(v))}</option>`).join('');
}

function slider(s: LogSlider): string {
  return `<div class="slider"><label for="${h(s.id)}">${h(s.label)}</label><input type="range" id="${h(s.id)}" min="${s.min}" max="${s.max}" step="${s.step}"><output id="${h(s.id)}-value" for="${h(s.id)}"></output></div>`;
}

function architectureCard(): string {
  // nb201 takes a cell string, so it is a choice of its own with a field beside it.
  const builtins = builtinNames().filter((name) => !name.startsWith('nb201:'));
  return `<div class="card">
<h3>Architecture</h3>
<label for="arch-select">network</label>
<select id="arch-select">${options(builtins, DEFAULT_ARCHITECTURE)}<option value="${NB201_CHOICE}">NAS-Bench-201 cell…</option><option value="${PASTED_CHOICE}">pasted YAML or JSON…</option></select>
<div id="nb201-row" hidden><label for="nb201-cell">cell string (nb201:…)</label><input type="text" id="nb201-cell" spellcheck="false" value="${h(DEFAULT_NB201_CELL)}"></div>
<div id="yaml-row" hidden><label for="arch-yaml">architecture (YAML or JSON, as a file holds it)</label><textarea id="arch-yaml" spellcheck="false">${h(EXAMPLE_ARCHITECTURE)}</textarea></div>
<div id="arch-error" class="problem" role="alert" hidden></div>
<p class="caption">notation: <code id="arch-notation"></code></p>
</div>`;
}

function processorCard(): string {
  return `<div class="card">
<h3>Processor</h3>
<label for="preset-select">start from the preset</label>
<select id="preset-select">${options(presetNames(), DEFAULT_PRESET)}</select>
${SLIDERS.map(slider).join('\n')}
<div class="row">
<div><label for="dtype-select">data type (bytes per element)</label><select id="dtype-select">${options(Object.keys(DTYPES), '', (d) => `${d} (${DTYPES[d as keyof typeof DTYPES]} B)`)}</select></div>
<div><label for="fusion-select">fusion</label><select id="fusion-select">${options(FUSION_POLICIES, '')}</select></div>
<div><label for="mode-select">mode</label><select id="mode-select">${options(['inference', 'training'], 'inference', (m) => (m === 'training' ? 'one training step' : m))}</select></div>
<div><label for="batch-input">batch</label><input type="number" id="batch-input" min="1" step="1" value="1"></div>
</div>
<details><summary>profile (YAML, base units: B, B/s, J/B, s, MAC/s, J, W; units such as 2MiB or 5pJ/bit work too)</summary>
<textarea id="profile-yaml" spellcheck="false"></textarea>
</details>
<div id="profile-error" class="problem" role="alert" hidden></div>
</div>`;
}

/** The explorer's view, for the dashboard's page shell (which loads Chart.js and the explorer's bundle). */
export function explorerView(): View {
  return {
    title: 'procnas cost explorer',
    styles: EXPLORER_STYLES,
    main: `<h1>procnas <small>cost explorer</small></h1>
<p class="lede">Pick an architecture and a processor; every change recomputes the analytical DRAM cost in this page, with the cost model of <code>procnas cost</code>. Nothing is sent to the server.</p>
<section class="grid2 controls">
${architectureCard()}
${processorCard()}
</section>
<div id="cost-error" class="problem" role="alert" hidden></div>
<p id="status" aria-live="polite">computing…</p>
<div id="results">
<h2>Totals</h2>
<table class="facts"><tbody id="totals"></tbody></table>
<h2>Where the time and the traffic go</h2>
<div class="grid2">
<div class="card"><h3>DRAM and compute time per layer</h3><p class="caption">layers in network order; hover a bar for its name</p><div class="chart"><canvas id="chart-layer-time"></canvas></div></div>
<div class="card"><h3>DRAM traffic per stage</h3><div class="chart"><canvas id="chart-stage-traffic"></canvas></div></div>
</div>
<h2>Layers</h2>
<div class="scroll"><table class="explorer-layers"><thead><tr><th>layer</th><th>op</th><th class="num">DRAM read</th><th class="num">DRAM write</th><th class="num">of which weights</th><th>fused</th><th class="num">DRAM time</th><th class="num">compute</th><th class="num">latency</th><th>mapping</th></tr></thead><tbody id="layers"></tbody></table></div>
</div>`,
  };
}
