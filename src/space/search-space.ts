/**
 * Search spaces: the architectures a search may visit and the moves between them. A space
 * never leaves the block-construction rules: every architecture it returns lowers.
 */
import { parseArchitecture } from './architecture.js';
import type { Architecture, Entry } from './architecture.js';
import { ArchitectureError } from './errors.js';
import { NB201_DATASETS, nb201Network, parseNb201String, printNb201String } from './networks.js';
import type { Nb201Dataset } from './networks.js';
import { NB201_OPS, defaultBlockArgs, printBlock } from './notation.js';
import type { BlockArgs, BlockType } from './notation.js';
import { resolveChoices } from './choices.js';
import type { MobileBlockType, SpaceSpec, StageChoices, StageFacts } from './choices.js';

/** Uniform numbers in [0, 1), seeded by the caller. */
export type Random = () => number;

export interface SearchSpace {
  readonly name: string;
  /** A canonical key: two architectures with the same key are the same candidate. */
  key(a: Architecture): string;
  /** A uniformly drawn architecture of the space. */
  sample(random: Random): Architecture;
  /** Every architecture one move away, in a fixed order. */
  neighbours(a: Architecture): Architecture[];
  /** One random move. */
  mutate(a: Architecture, random: Random): Architecture;
  /**
   * The architecture as categorical tokens, one per gene ("edge 2 = 3") and any a space adds
   * (NAS-Bench-201's totals, "nor_conv_3x3 ≥ 2"): what a model of the error compares (two
   * architectures are as alike as the tokens they share).
   */
  features(a: Architecture): string[];
}

/** One to `maxMoves` random moves from `from` (how many, drawn first). */
export function randomWalk(space: SearchSpace, from: Architecture, maxMoves: number, random: Random): Architecture {
  let a = from;
  const moves = 1 + Math.floor(random() * maxMoves);
  for (let i = 0; i < moves; i++) a = space.mutate(a, random);
  return a;
}

function pick<T>(xs: readonly T[], random: Random): T {
  return xs[Math.floor(random() * xs.length)] as T;
}

/**
 * The cell's paths from node 0 to node 3 as edge indices, in the order of NAS-Bench-201's string
 * (edges 0→1, 0→2, 1→2, 0→3, 1→3, 2→3).
 */
const NB201_PATHS = [[3], [0, 4], [1, 5], [0, 2, 5]] as const;
/** The digit of skip_connect. */
const SKIP = String(NB201_OPS.indexOf('skip_connect'));

/** NAS-Bench-201: the cell's six edge ops, the same cell in all 15 positions. */
export class Nb201Space implements SearchSpace {
  readonly name = 'nb201';
  private readonly cells = new Map<string, Architecture>();

  constructor(readonly dataset: Nb201Dataset = 'cifar10') {
    if (!(dataset in NB201_DATASETS)) throw new Error(`unknown NAS-Bench-201 dataset "${dataset}"`);
  }

  /** The six digits of an architecture's cell. */
  digits(a: Architecture): string {
    const entry = a.stages[0]?.[0];
    if (entry?.kind !== 'block' || entry.args.type !== 'nb' || !entry.args.cell) {
      throw new ArchitectureError([{ path: 'stages[0][0]', message: 'not a NAS-Bench-201 network' }]);
    }
    return entry.args.cell.map((op) => NB201_OPS.indexOf(op)).join('');
  }

  key(a: Architecture): string {
    return this.digits(a);
  }

  fromDigits(digits: string): Architecture {
    // At most 5⁶ cells: a search that prices thousands of candidates parses each once.
    let a = this.cells.get(digits);
    if (!a) {
      a = parseArchitecture(nb201Network(printNb201String(digits), this.dataset));
      this.cells.set(digits, a);
    }
    return a;
  }

  /** Architecture of a NAS-Bench-201 string such as `|nor_conv_3x3~0|+...`. */
  fromString(text: string): Architecture {
    return this.fromDigits(parseNb201String(text));
  }

  sample(random: Random): Architecture {
    return this.fromDigits(Array.from({ length: 6 }, () => Math.floor(random() * NB201_OPS.length)).join(''));
  }

  neighbours(a: Architecture): Architecture[] {
    const digits = this.digits(a);
    const out: Architecture[] = [];
    for (let edge = 0; edge < 6; edge++) {
      for (let op = 0; op < NB201_OPS.length; op++) {
        if (String(op) === digits[edge]) continue;
        out.push(this.fromDigits(`${digits.slice(0, edge)}${op}${digits.slice(edge + 1)}`));
      }
    }
    return out;
  }

  mutate(a: Architecture, random: Random): Architecture {
    return pick(this.neighbours(a), random);
  }

  /**
   * What the cell computes: each live path from its input to its output as its ops in order,
   * skips left out (BANANAS's path encoding, White et al. 2021), the op of each edge on a live
   * path, and the cell's totals: how many live edges hold each op, and its depth in convolutions
   * (the most on one live path). A path through a "none" carries nothing, so the ops on it are
   * not features: two cells that differ only there compute the same function, and get the same
   * tokens. A skip is the identity, so "skip, conv 3x3" computes what "conv 3x3" does: both are
   * "path 3", and cells that compute one function by different routes share their path tokens.
   * Why the totals: NAS-Bench-201's error follows them wherever the ops sit (three 3x3
   * convolutions on any live edges do much the same), which per-edge and per-path tokens cannot
   * say. They are ordinal, one token per unit ("nor_conv_3x3 ≥ 2"): cells whose counts differ by
   * one share all but one of them, so the model's similarity falls with the difference of the
   * counts, not only with whether they are equal (README, "The cell's totals", has the figures).
   */
  features(a: Architecture): string[] {
    const digits = this.digits(a);
    const live = NB201_PATHS.filter((path) => path.every((edge) => digits[edge] !== '0'));
    // Computes nothing: like no other cell.
    if (live.length === 0) return [];
    const liveEdges = [...new Set(live.flat())].sort();
    const edges = liveEdges.map((edge) => `e${edge}=${digits[edge]}`);
    // A skip is the identity: a path computes what its other ops do, in order.
    const paths = live.map((path) => `path ${path.map((edge) => digits[edge]).filter((op) => op !== SKIP).join('') || 'identity'}`);
    const isConvolution = (edge: number): boolean => NB201_OPS[Number(digits[edge])]?.startsWith('nor_conv') ?? false;
    const totals: Array<[string, number]> = NB201_OPS.slice(1).map((op, i) => [op, liveEdges.filter((edge) => digits[edge] === String(i + 1)).length]);
    totals.push(['depth', Math.max(...live.map((path) => path.filter(isConvolution).length))]);
    return [...edges, ...paths, ...totals.flatMap(([name, n]) => Array.from({ length: n }, (_, k) => `${name} ≥ ${k + 1}`))];
  }
}

interface BlockGene {
  type: MobileBlockType;
  kernel: number;
  expand: number;
  se: number;
  /** Kept as the architecture has them (the space's moves do not change them). */
  act: BlockArgs['act'];
  dilation: number;
  skip: boolean;
}

interface StageGene {
  stride: number;
  /** Output channels of every block of the stage. */
  width: number;
  blocks: BlockGene[];
}

/** A stage's blocks as genes; `ds` is `ir` without expansion (the same layers). */
function stageGenes(stage: readonly Entry[], s: number): StageGene {
  const blocks: BlockGene[] = [];
  let stride = 1;
  const widths = new Set<number | undefined>();
  stage.forEach((entry, i) => {
    if (entry.kind !== 'block' || !['ir', 'er', 'ds'].includes(entry.args.type)) {
      throw new ArchitectureError([{ path: `stages[${s}][${i}]`, message: 'the mobile search space takes ir, er and ds blocks only' }]);
    }
    const args = entry.args;
    if (i === 0) stride = args.stride;
    widths.add(args.out);
    for (let r = 0; r < args.repeat; r++) {
      blocks.push({ type: args.type === 'er' ? 'er' : 'ir', kernel: args.kernel, expand: args.type === 'ds' ? 1 : args.expand, se: args.se, act: args.act, dilation: args.dilation, skip: args.skip });
    }
  });
  const [width] = widths;
  if (widths.size !== 1 || width === undefined) {
    throw new ArchitectureError([{ path: `stages[${s}]`, message: 'the mobile search space needs one output width ("c") per stage, on every block' }]);
  }
  return { stride, width, blocks };
}

/** What the initial architecture's stages hold, for resolving a written space against it. */
export function stageFacts(initial: Architecture): StageFacts[] {
  return initial.stages.map((stage, s) => {
    const gene = stageGenes(stage, s);
    return {
      types: gene.blocks.map((b) => b.type),
      kernels: gene.blocks.map((b) => b.kernel),
      expansions: gene.blocks.map((b) => b.expand),
      se: gene.blocks.map((b) => b.se),
      width: gene.width,
      depth: gene.blocks.length,
    };
  });
}

/**
 * A MobileNet-style space around an initial architecture: the stem and head stay; each stage
 * keeps its stride, and may change its width, its depth, and each block's type (MBConv or fused
 * MBConv), kernel, expansion and squeeze-excite, among the values its `StageChoices` allow.
 * The first block of a stage takes the stride; all blocks of a stage share its width, as the
 * block-construction rules require.
 */
export class MobileSpace implements SearchSpace {
  readonly name = 'mobile';
  /** Per stage, the values moves may set. */
  readonly choices: readonly StageChoices[];

  constructor(
    private readonly initial: Architecture,
    spec: SpaceSpec = {},
  ) {
    this.choices = resolveChoices(stageFacts(initial), spec);
  }

  /** The genes of an architecture of this space. */
  genes(a: Architecture): StageGene[] {
    if (a.stages.length !== this.choices.length) {
      throw new ArchitectureError([{ path: 'stages', message: `this space has ${this.choices.length} stages, the architecture ${a.stages.length}` }]);
    }
    return a.stages.map((stage, s) => stageGenes(stage, s));
  }

  fromGenes(genes: StageGene[]): Architecture {
    const stages = genes.map((stage) =>
      stage.blocks.map((block, i): Entry => {
        const args: BlockArgs = {
          ...defaultBlockArgs(block.type as BlockType),
          kernel: block.kernel,
          stride: i === 0 ? stage.stride : 1,
          expand: block.expand,
          out: stage.width,
          se: block.se,
          act: block.act,
          dilation: block.dilation,
          skip: block.skip,
        };
        return { kind: 'block', args };
      }),
    );
    return { ...this.initial, stages };
  }

  /** One notation string per block, so that `ir_r2` and two `ir_r1` blocks are the same key. */
  key(a: Architecture): string {
    return this.fromGenes(this.genes(a))
      .stages.map((stage) => stage.map((e) => (e.kind === 'block' ? printBlock(e.args) : '')).join(' '))
      .join(' | ');
  }

  sample(random: Random): Architecture {
    const genes = this.genes(this.initial).map((stage, s): StageGene => {
      const c = this.choices[s] as StageChoices;
      return {
        stride: stage.stride,
        width: pick(c.widths, random),
        // Activation, dilation and residual as the stage's first block has them.
        blocks: Array.from({ length: c.minBlocks + Math.floor(random() * (c.maxBlocks - c.minBlocks + 1)) }, () => ({
          ...(stage.blocks[0] as BlockGene),
          type: pick(c.types, random),
          kernel: pick(c.kernels, random),
          expand: pick(c.expansions, random),
          se: pick(c.se, random),
        })),
      };
    });
    return this.fromGenes(genes);
  }

  neighbours(a: Architecture): Architecture[] {
    return [...this.macroNeighbours(a), ...this.microNeighbours(a)];
  }

  /** The macro structure: each stage's width and depth (what the outer level of a nested search moves). */
  macroKey(a: Architecture): string {
    return this.genes(a).map((stage) => `${stage.width}x${stage.blocks.length}`).join(' ');
  }

  /** One stage's width or depth changed (a block more repeats the stage's last one). */
  macroNeighbours(a: Architecture): Architecture[] {
    return this.moves(a, (stage, s, emit) => {
      const c = this.choices[s] as StageChoices;
      for (const w of c.widths) if (w !== stage.width) emit((g) => ((g[s] as StageGene).width = w));
      if (stage.blocks.length < c.maxBlocks) emit((g) => (g[s] as StageGene).blocks.push({ ...(stage.blocks[stage.blocks.length - 1] as BlockGene) }));
      if (stage.blocks.length > c.minBlocks) emit((g) => (g[s] as StageGene).blocks.pop());
    });
  }

  /** One block's composite operation changed: its type, kernel, expansion or squeeze-excite. */
  microNeighbours(a: Architecture): Architecture[] {
    return this.moves(a, (stage, s, emit) => {
      const c = this.choices[s] as StageChoices;
      stage.blocks.forEach((block, b) => {
        const set = (field: keyof BlockGene, value: BlockGene[keyof BlockGene]): void => {
          if (block[field] !== value) emit((g) => (((g[s] as StageGene).blocks[b] as Record<keyof BlockGene, unknown>)[field] = value));
        };
        c.types.forEach((t) => set('type', t));
        c.kernels.forEach((k) => set('kernel', k));
        c.expansions.forEach((e) => set('expand', e));
        c.se.forEach((r) => set('se', r));
      });
    });
  }

  /** Every architecture one change away, as `stageMoves` emits the changes of each stage. */
  private moves(a: Architecture, stageMoves: (stage: StageGene, s: number, emit: (change: (g: StageGene[]) => void) => void) => void): Architecture[] {
    const genes = this.genes(a);
    const out: Architecture[] = [];
    const emit = (change: (g: StageGene[]) => void): void => {
      const copy = genes.map((s) => ({ ...s, blocks: s.blocks.map((b) => ({ ...b })) }));
      change(copy);
      out.push(this.fromGenes(copy));
    };
    genes.forEach((stage, s) => stageMoves(stage, s, emit));
    return out;
  }

  mutate(a: Architecture, random: Random): Architecture {
    return pick(this.neighbours(a), random);
  }

  /** Each stage's width and depth, and each block's genes by position in its stage. */
  features(a: Architecture): string[] {
    return this.genes(a).flatMap((stage, s) => [
      `s${s} width=${stage.width}`,
      `s${s} depth=${stage.blocks.length}`,
      ...stage.blocks.flatMap((block, b) => Object.entries(block).map(([gene, value]) => `s${s}b${b} ${gene}=${String(value)}`)),
    ]);
  }
}
