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

function entryRepeat(entry: Entry): number {
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
  let x = b.input(architecture.input);
  const run = entryRunner(b, architecture.act, architecture.classes);
  x = run(x, architecture.stem, 'stem', -1, 'stem', 'stem.');
  architecture.stages.forEach((stage, s) => (x = run(x, stage, 'stage', s, `stages[${s}]`, `s${s}.b`)));
  x = run(x, architecture.head, 'head', -1, 'head', 'head.');

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

/** Lays out entries one block after another; returns the last tensor. */
function entryRunner(b: GraphBuilder, act: Architecture['act'], classes: number) {
  const ctx: BlockContext = { act, classes };
  return (x: number, entries: Entry[], part: Part, stage: number, pathPrefix: string, namePrefix: string): number => {
    let block = 0;
    entries.forEach((entry, i) => {
      for (let j = 0; j < entryRepeat(entry); j++, block++) {
        const meta = {
          name: `${namePrefix}${block}`,
          notation: blockNotation(entry, j),
          part,
          stage,
          block,
          path: `${pathPrefix}[${i}]${entryRepeat(entry) > 1 ? ` (block ${j + 1} of ${entryRepeat(entry)})` : ''}`,
        };
        x = b.composite(meta, x, (input) => {
          if (entry.kind === 'graph') return buildCustom(b, input, entry.graph, act);
          const args = { ...entry.args, repeat: 1, stride: j === 0 ? entry.args.stride : 1 };
          return COMPOSITES[args.type](b, input, args, ctx);
        });
      }
    });
    return x;
  };
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
  const x = entryRunner(b, piece.act, piece.classes)(b.input(piece.input), piece.entries, piece.part, piece.stage, piece.namePrefix, piece.namePrefix);
  return graphOf(b, piece.namePrefix, piece.input, piece.classes, x);
}
