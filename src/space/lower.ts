/**
 * Block-construction rules and lowering: Architecture → LayerGraph.
 *
 * Rules: an entry with `r` repeats makes r blocks; the first block of an entry takes the entry's
 * stride and width change, the others have stride 1 and keep the width. Each block holds one
 * composite operation; MobileNet-family blocks get a residual connection only where input and
 * output shapes match (and `noskip` is not set); ResNet blocks project their shortcut when the
 * shape changes.
 */
import type { Architecture, Entry } from './architecture.js';
import { COMPOSITES } from './blocks.js';
import type { BlockContext } from './blocks.js';
import { GraphBuilder } from './builder.js';
import { buildCustom } from './custom.js';
import { ArchitectureError } from './errors.js';
import type { LayerGraph, Part, Shape } from './graph.js';
import { printBlock } from './notation.js';

export function entryRepeat(entry: Entry): number {
  return entry.kind === 'block' ? entry.args.repeat : entry.repeat;
}

/** The notation of the j-th block made from an entry. */
function blockNotation(entry: Entry, j: number): string {
  if (entry.kind === 'graph') return `graph:${entry.graph.name ?? 'custom'}`;
  return printBlock({ ...entry.args, repeat: 1, stride: j === 0 ? entry.args.stride : 1 });
}

/** Lowers an architecture; errors name its source file and the block they come from. */
export function lower(architecture: Architecture): LayerGraph {
  try {
    return lowerUnchecked(architecture);
  } catch (error) {
    if (error instanceof ArchitectureError && architecture.source) throw new ArchitectureError(error.issues, architecture.source);
    throw error;
  }
}

function lowerUnchecked(architecture: Architecture): LayerGraph {
  const b = new GraphBuilder();
  const x = buildBlocks(b, b.input(architecture.input), architectureBlocks(architecture), architecture.act, architecture.classes);

  const out = b.shape(x);
  if (out.h !== 1 || out.w !== 1 || out.c !== architecture.classes) {
    b.path = 'head';
    b.fail(
      `the network ends in ${out.h}x${out.w}x${out.c}, a classifier must end in 1x1x${architecture.classes}` +
        ' (end the head with "gap" and "fc")',
    );
  }

  return graphOf(b, architecture.name, architecture.input, architecture.classes, x);
}

/** One block of an architecture: its entry reduced to that block (one repeat, its own stride), and where it sits. */
export interface BlockRef {
  entry: Entry;
  name: string;
  notation: string;
  part: Part;
  stage: number;
  block: number;
  /** Where in the architecture file it came from, for errors. */
  path: string;
}

/** The j-th block an entry makes, as an entry of one block: the first takes the entry's stride, the others stride 1. */
export function blockEntry(entry: Entry, j: number): Entry {
  return entry.kind === 'graph' ? { ...entry, repeat: 1 } : { kind: 'block', args: { ...entry.args, repeat: 1, stride: j === 0 ? entry.args.stride : 1 } };
}

/** The blocks an entry list makes, by the block-construction rules. */
function blocksOf(entries: Entry[], part: Part, stage: number, pathPrefix: string, namePrefix: string): BlockRef[] {
  const blocks: BlockRef[] = [];
  entries.forEach((entry, i) => {
    const repeat = entryRepeat(entry);
    for (let j = 0; j < repeat; j++) {
      blocks.push({
        entry: blockEntry(entry, j),
        name: `${namePrefix}${blocks.length}`,
        notation: blockNotation(entry, j),
        part,
        stage,
        block: blocks.length,
        path: `${pathPrefix}[${i}]${repeat > 1 ? ` (block ${j + 1} of ${repeat})` : ''}`,
      });
    }
  });
  return blocks;
}

/** Every block of an architecture, stem to head, in the order lowering lays them out. */
export function architectureBlocks(architecture: Architecture): BlockRef[] {
  return [
    ...blocksOf(architecture.stem, 'stem', -1, 'stem', 'stem.'),
    ...architecture.stages.flatMap((stage, s) => blocksOf(stage, 'stage', s, `stages[${s}]`, `s${s}.b`)),
    ...blocksOf(architecture.head, 'head', -1, 'head', 'head.'),
  ];
}

/** Lays out blocks one after another; returns the last tensor. */
function buildBlocks(b: GraphBuilder, x: number, blocks: BlockRef[], act: Architecture['act'], classes: number): number {
  const ctx: BlockContext = { act, classes };
  for (const block of blocks) {
    const { entry } = block;
    x = b.composite(block, x, (input) => (entry.kind === 'graph' ? buildCustom(b, input, entry.graph, act) : COMPOSITES[entry.args.type](b, input, entry.args, ctx)));
  }
  return x;
}

/**
 * One block lowered on its own from an input shape: a graph of one composite op, whose input is
 * the graph's input. No classifier check. For costing architectures block by block.
 */
export function lowerBlock(block: BlockRef, input: Shape, act: Architecture['act'], classes: number): LayerGraph {
  const b = new GraphBuilder();
  const x = buildBlocks(b, b.input(input), [block], act, classes);
  return graphOf(b, block.name, input, classes, x);
}

function graphOf(b: GraphBuilder, name: string, input: Shape, classes: number, output: number): LayerGraph {
  let params = 0;
  let macs = 0;
  for (const layer of b.layers) {
    params += layer.params;
    macs += layer.macs;
  }
  return { name, input, classes, tensors: b.tensors, producers: b.producers, layers: b.layers, composites: b.composites, output, params, macs };
}

/**
 * Lowers a run of entries on its own, from an input shape: a piece of a network (a stem, one
 * block, a head) for a supernet that assembles networks from pieces. No classifier check.
 * Layer names are `<namePrefix><block>.<layer>`.
 */
export function lowerPart(piece: { entries: Entry[]; input: Shape; act: Architecture['act']; classes: number; part: Part; stage: number; namePrefix: string }): LayerGraph {
  const b = new GraphBuilder();
  const x = buildBlocks(b, b.input(piece.input), blocksOf(piece.entries, piece.part, piece.stage, piece.namePrefix, piece.namePrefix), piece.act, piece.classes);
  return graphOf(b, piece.namePrefix, piece.input, piece.classes, x);
}
