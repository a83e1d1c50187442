/**
 * The cost of an architecture without lowering it whole: a search costs every candidate, and
 * candidates share most of their blocks. Each block is lowered on its own once per input shape
 * (cached), and the composite ops are costed by the same code and memo as a lowered network's,
 * so the figures are those of estimateCost(lower(architecture)) (tested).
 */
import type { Processor } from '../processor/index.js';
import { blockEntry, entryRepeat, lower, lowerBlock } from '../space/index.js';
import type { Architecture, Entry, LayerGraph, Shape } from '../space/index.js';
import { analyse } from './analysis.js';
import type { GraphFacts } from './analysis.js';
import { chainedMemory, deployedMemory } from './memory.js';
import type { MemoryFigures } from './memory.js';
import { costOps } from './model.js';
import type { CostOptions, CostReport, OpRef } from './model.js';

interface Piece {
  graph: LayerGraph;
  facts: GraphFacts;
  output: Shape;
  hasLayers: boolean;
  /** Its memory figures in elements (one byte each): they scale with the profile's element size. */
  elements: MemoryFigures;
}

/** Lowered blocks by entry, position in the entry (first or not), context and input shape. */
const pieces = new Map<string, Piece>();
const entryKeys = new WeakMap<Entry, string>();

function entryKey(entry: Entry): string {
  let key = entryKeys.get(entry);
  if (key === undefined) {
    key = entry.kind === 'graph' ? `g${JSON.stringify(entry.graph)}` : `b${JSON.stringify(entry.args)}`;
    entryKeys.set(entry, key);
  }
  return key;
}

/** Forgets the lowered blocks (for benchmarks that measure the cold path). */
export function forgetBlocks(): void {
  pieces.clear();
}

function piece(entry: Entry, j: number, input: Shape, architecture: Architecture): Piece {
  const { act, classes } = architecture;
  const key = `${entryKey(entry)}|${j === 0 ? 1 : 0}|${act}|${classes}|${input.h}x${input.w}x${input.c}`;
  let found = pieces.get(key);
  if (!found) {
    const graph = lowerBlock({ entry: blockEntry(entry, j), name: 'block', notation: '', part: 'stage', stage: 0, block: 0, path: '' }, input, act, classes);
    found = { graph, facts: analyse(graph), output: graph.tensors[graph.output]!, hasLayers: graph.layers.length > 0, elements: deployedMemory(graph, 1) };
    if (pieces.size > 50_000) pieces.clear();
    pieces.set(key, found);
  }
  return found;
}

/**
 * The cost of an architecture's totals (no per-layer breakdown: for that, estimateCost on the
 * lowered graph). A malformed architecture throws lowering's error, with its file and path.
 */
export function estimateArchitectureCost(architecture: Architecture, p: Processor, options: CostOptions = {}): CostReport {
  const ops: OpRef[] = [];
  let shape = architecture.input;
  let params = 0;
  let macs = 0;
  let atInput = true;
  const blocks: MemoryFigures[] = [];
  try {
    for (const entries of [architecture.stem, ...architecture.stages, architecture.head]) {
      for (const entry of entries) {
        const repeat = entryRepeat(entry);
        for (let j = 0; j < repeat; j++) {
          const found = piece(entry, j, shape, architecture);
          ops.push({ graph: found.graph, facts: found.facts, index: 0, networkInput: atInput });
          if (found.hasLayers) atInput = false;
          shape = found.output;
          params += found.graph.params;
          macs += found.graph.macs;
          blocks.push(found.elements);
        }
      }
    }
  } catch (error) {
    lower(architecture); // throws the error with the file and the path it names
    throw error;
  }
  if (shape.h !== 1 || shape.w !== 1 || shape.c !== architecture.classes) lower(architecture);
  return costOps(ops, p, { ...options, layers: false }, { name: architecture.name, params, macs, memory: chainedMemory(blocks, p.bytesPerElement) });
}
