/**
 * The architecture drawn as nested boxes: stages (rows) → blocks → the composite op each block
 * holds → its basic ops (chips). It is a diagram, not a chart, so plain HTML suffices.
 */
import { formatBytes, formatSI } from '../processor/index.js';
import { BLOCK_TYPES, opName, parseBlock, printBlock } from '../space/index.js';
import type { Composite, Entry, Layer, LayerGraph, Nb201Op, Shape } from '../space/index.js';
import type { Costed } from './data.js';
import { escapeHtml } from './escape.js';

const EPILOGUES = new Set<Layer['kind']>(['bn', 'act']);

interface Chip {
  /** A cell edge, "i→j". */
  edge?: string;
  before: string[];
  main: string;
  after: string[];
  /** The tensor the chip ends in: a batch norm or activation reading it joins the chip. */
  output: number;
}

/** NAS-Bench-201 edges in the benchmark's string order, and what each edge op lowers to. */
const NB201_EDGES = ['0→1', '0→2', '1→2', '0→3', '1→3', '2→3'];
const NB201_CHIPS: Record<Nb201Op, Omit<Chip, 'output'> | undefined> = {
  none: undefined,
  skip_connect: { before: [], main: 'skip', after: [] },
  nor_conv_1x1: { before: ['relu'], main: 'conv1x1', after: ['bn'] },
  nor_conv_3x3: { before: ['relu'], main: 'conv3x3', after: ['bn'] },
  avg_pool_3x3: { before: [], main: 'avgpool3x3', after: [] },
};

/** A NAS-Bench-201 cell is a small DAG: one chip per edge (i→j), nodes sum their inputs. */
function cellChips(cell: Nb201Op[]): Chip[] {
  return cell.flatMap((op, e) => {
    const chip = NB201_CHIPS[op];
    return chip ? [{ ...chip, edge: NB201_EDGES[e], output: -1 }] : [];
  });
}

/** Groups a composite's layers into chips: a main op with the batch norms and activations around it. */
function chips(graph: LayerGraph, composite: Composite): Chip[] {
  const out: Chip[] = [];
  let pending: string[] = [];
  for (let l = composite.firstLayer; l < composite.endLayer; l++) {
    const layer = graph.layers[l] as Layer;
    const op = opName(graph, layer);
    const last = out[out.length - 1];
    if (EPILOGUES.has(layer.kind)) {
      // Follows the op whose output it reads; otherwise it is a pre-activation of the next op.
      if (last && pending.length === 0 && layer.inputs[0] === last.output) {
        last.after.push(op);
        last.output = layer.output;
      } else {
        pending.push(op);
      }
      continue;
    }
    out.push({ before: pending, main: op, after: [], output: layer.output });
    pending = [];
  }
  if (pending.length) out.push({ before: [], main: pending.join('·'), after: [], output: -1 });
  return out;
}

function shape(s: Shape | undefined): string {
  return s ? `${s.h}×${s.w}×${s.c}` : '?';
}

function chipHtml(c: Chip): string {
  const side = (ops: string[], before: boolean) => (ops.length ? `<span class="epi">${escapeHtml(before ? `${ops.join('·')}·` : `·${ops.join('·')}`)}</span>` : '');
  const edge = c.edge ? `<span class="edge">${escapeHtml(c.edge)}</span>` : '';
  return `<span class="chip">${edge}${side(c.before, true)}<span class="main">${escapeHtml(c.main)}</span>${side(c.after, false)}</span>`;
}

function compositeChips(graph: LayerGraph, composite: Composite): string {
  const cell = composite.notation.startsWith('nb_') ? parseBlock(composite.notation).cell : undefined;
  if (cell) return `<div class="chips cell">${cellChips(cell).map(chipHtml).join('')}</div>`;
  return `<div class="chips">${chips(graph, composite).map(chipHtml).join('<span class="arrow">›</span>')}</div>`;
}

function typeCode(notation: string): string {
  return notation.startsWith('graph:') ? 'graph' : (notation.split('_')[0] as string);
}

function typeOf(notation: string): string {
  const code = typeCode(notation);
  if (code === 'graph') return 'user-defined graph of basic ops';
  if (code === 'nb') return `${BLOCK_TYPES.nb}; shown as its edges i→j (node j sums its edges, node 3 is the output)`;
  return BLOCK_TYPES[code as keyof typeof BLOCK_TYPES] ?? code;
}

function compositeHtml(c: Costed, composite: Composite, index: number): string {
  const { graph, cost } = c;
  let params = 0;
  let bytes = 0;
  let timeS = 0;
  for (let l = composite.firstLayer; l < composite.endLayer; l++) {
    params += graph.layers[l]?.params ?? 0;
    const lc = cost.layers[l];
    if (lc) {
      bytes += lc.dramReadBytes + lc.dramWriteBytes;
      timeS += lc.dramS;
    }
  }
  const residual = !composite.notation.startsWith('nb_') && graph.layers.slice(composite.firstLayer, composite.endLayer).some((l) => l.kind === 'add' && l.inputs.includes(composite.input));
  const io = `${shape(graph.tensors[composite.input])} → ${shape(graph.tensors[composite.output])}`;
  return (
    `<div class="block" data-composite="${index}">` +
    `<div class="block-head"><span>block ${composite.block + 1}</span><span class="shape">${escapeHtml(io)}</span></div>` +
    `<div class="composite" title="${escapeHtml(typeOf(composite.notation))}">` +
    `<div class="notation">${escapeHtml(composite.notation)}${residual ? ' <span class="badge">+ residual</span>' : ''}</div>` +
    compositeChips(graph, composite) +
    `<div class="figures">${params.toLocaleString('en-US')} params · DRAM ${escapeHtml(formatBytes(bytes))}, ${escapeHtml(formatSI(timeS, 's'))}</div>` +
    `</div></div>`
  );
}

function entryNotation(e: Entry): string {
  return e.kind === 'block' ? printBlock(e.args) : `graph:${e.graph.name ?? 'custom'}`;
}

/** The diagram of a costed architecture (its cost figures label the blocks). */
export function architectureDiagram(c: Costed): string {
  const rows: Array<{ label: string; entries: string; composites: Array<[Composite, number]> }> = [];
  const rowOf = (composite: Composite): string => (composite.part === 'stage' ? `stage ${composite.stage + 1}` : composite.part);
  c.graph.composites.forEach((composite, index) => {
    const label = rowOf(composite);
    let row = rows[rows.length - 1];
    if (!row || row.label !== label) {
      const entries = composite.part === 'stage' ? c.architecture.stages[composite.stage] : composite.part === 'stem' ? c.architecture.stem : c.architecture.head;
      row = { label, entries: (entries ?? []).map(entryNotation).join(' '), composites: [] };
      rows.push(row);
    }
    row.composites.push([composite, index]);
  });
  const types = [...new Set(c.graph.composites.map((composite) => typeCode(composite.notation)))];
  const legend = `<p class="types">${types.map((t) => `<span><code>${escapeHtml(t)}</code> ${escapeHtml(typeOf(t === 'graph' ? 'graph:' : t))}</span>`).join('')}</p>`;
  return legend + rows
    .map((row) => {
      const first = row.composites[0]![0];
      const last = row.composites[row.composites.length - 1]![0];
      const io = `${shape(c.graph.tensors[first.input])} → ${shape(c.graph.tensors[last.output])}`;
      const part = first.part;
      return (
        `<section class="stage ${part}"><div class="stage-head"><strong>${escapeHtml(row.label)}</strong>` +
        `<span class="shape">${escapeHtml(io)}</span><span class="count">${row.composites.length} block${row.composites.length === 1 ? '' : 's'}</span>` +
        `<code>${escapeHtml(row.entries)}</code></div>` +
        `<div class="blocks">${row.composites.map(([composite, index]) => compositeHtml(c, composite, index)).join('')}</div></section>`
      );
    })
    .join('\n');
}
