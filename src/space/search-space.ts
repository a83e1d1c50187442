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
}

function pick<T>(xs: readonly T[], random: Random): T {
  return xs[Math.floor(random() * xs.length)] as T;
}

/** NAS-Bench-201: the cell's six edge ops, the same cell in all 15 positions. */
export class Nb201Space implements SearchSpace {
  readonly name = 'nb201';

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
    return parseArchitecture(nb201Network(printNb201String(digits), this.dataset));
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
}

/** The choices of the mobile space; every option is a list of allowed values. */
export interface MobileSpaceOptions {
  types: ReadonlyArray<'ir' | 'er'>;
  kernels: readonly number[];
  expansions: readonly number[];
  se: readonly number[];
  /** Stage width = initial width × multiplier, rounded to a multiple of 8 (at least 8). */
  widthMultipliers: readonly number[];
  minBlocks: number;
  maxBlocks: number;
}

export const DEFAULT_MOBILE_OPTIONS: MobileSpaceOptions = {
  types: ['ir', 'er'],
  kernels: [3, 5, 7],
  expansions: [1, 3, 6],
  se: [0, 0.25],
  widthMultipliers: [0.5, 0.75, 1, 1.25, 1.5],
  minBlocks: 1,
  maxBlocks: 4,
};

interface BlockGene {
  type: 'ir' | 'er';
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
  /** Index into widthMultipliers. */
  width: number;
  blocks: BlockGene[];
}

/**
 * A MobileNet-style space around an initial architecture: the stem and head stay; each stage
 * keeps its stride, and may change its width, its depth, and each block's type (MBConv or fused
 * MBConv), kernel, expansion and squeeze-excite. The first block of a stage takes the stride and
 * the width change; the others keep both, as the block-construction rules require.
 */
export class MobileSpace implements SearchSpace {
  readonly name = 'mobile';
  private readonly baseWidths: number[];

  constructor(
    private readonly initial: Architecture,
    private readonly options: MobileSpaceOptions = DEFAULT_MOBILE_OPTIONS,
  ) {
    this.baseWidths = initial.stages.map((stage, s) => {
      const out = stage.map((entry, i) => this.checkEntry(entry, `stages[${s}][${i}]`).out);
      const width = out.find((c) => c !== undefined);
      if (width === undefined || out.some((c) => c !== width)) {
        throw new ArchitectureError([{ path: `stages[${s}]`, message: 'the mobile search space needs one output width ("c") per stage, on every block' }]);
      }
      return width;
    });
    if (!options.widthMultipliers.includes(1)) throw new Error('the mobile search space needs width multiplier 1');
  }

  private checkEntry(entry: Entry, path: string): BlockArgs {
    if (entry.kind !== 'block' || !['ir', 'er', 'ds'].includes(entry.args.type)) {
      throw new ArchitectureError([{ path, message: 'the mobile search space takes ir, er and ds blocks only' }]);
    }
    return entry.args;
  }

  /** The genes of an architecture of this space. */
  genes(a: Architecture): StageGene[] {
    return a.stages.map((stage, s) => {
      const blocks: BlockGene[] = [];
      let stride = 1;
      let out = 0;
      stage.forEach((entry, i) => {
        const args = this.checkEntry(entry, `stages[${s}][${i}]`);
        if (i === 0) stride = args.stride;
        out = args.out ?? out;
        for (let r = 0; r < args.repeat; r++) {
          blocks.push({ type: args.type === 'er' ? 'er' : 'ir', kernel: args.kernel, expand: args.type === 'ds' ? 1 : args.expand, se: args.se, act: args.act, dilation: args.dilation, skip: args.skip });
        }
      });
      const width = this.options.widthMultipliers.findIndex((m) => this.width(s, m) === out);
      if (width < 0) throw new ArchitectureError([{ path: `stages[${s}]`, message: `width ${out} is not one of this space's widths` }]);
      return { stride, width, blocks };
    });
  }

  /** The width of a stage at a multiplier: the initial width itself at 1, else a multiple of 8. */
  private width(stage: number, multiplier: number): number {
    const base = this.baseWidths[stage] as number;
    return multiplier === 1 ? base : Math.max(8, Math.round((base * multiplier) / 8) * 8);
  }

  fromGenes(genes: StageGene[]): Architecture {
    const stages = genes.map((stage, s) =>
      stage.blocks.map((block, i): Entry => {
        const args: BlockArgs = {
          ...defaultBlockArgs(block.type as BlockType),
          kernel: block.kernel,
          stride: i === 0 ? stage.stride : 1,
          expand: block.expand,
          out: this.width(s, this.options.widthMultipliers[stage.width] as number),
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
    const o = this.options;
    const genes = this.genes(this.initial).map((stage) => ({
      stride: stage.stride,
      width: Math.floor(random() * o.widthMultipliers.length),
      // Activation, dilation and residual as the stage's first block has them.
      blocks: Array.from({ length: o.minBlocks + Math.floor(random() * (o.maxBlocks - o.minBlocks + 1)) }, () => ({
        ...(stage.blocks[0] as BlockGene),
        type: pick(o.types, random),
        kernel: pick(o.kernels, random),
        expand: pick(o.expansions, random),
        se: pick(o.se, random),
      })),
    }));
    return this.fromGenes(genes);
  }

  neighbours(a: Architecture): Architecture[] {
    const o = this.options;
    const genes = this.genes(a);
    const out: Architecture[] = [];
    const emit = (change: (g: StageGene[]) => void): void => {
      const copy = genes.map((s) => ({ ...s, blocks: s.blocks.map((b) => ({ ...b })) }));
      change(copy);
      out.push(this.fromGenes(copy));
    };
    genes.forEach((stage, s) => {
      for (let w = 0; w < o.widthMultipliers.length; w++) {
        if (w !== stage.width && this.width(s, o.widthMultipliers[w] as number) !== this.width(s, o.widthMultipliers[stage.width] as number)) {
          emit((g) => ((g[s] as StageGene).width = w));
        }
      }
      if (stage.blocks.length < o.maxBlocks) emit((g) => (g[s] as StageGene).blocks.push({ ...(stage.blocks[stage.blocks.length - 1] as BlockGene) }));
      if (stage.blocks.length > o.minBlocks) emit((g) => (g[s] as StageGene).blocks.pop());
      stage.blocks.forEach((block, b) => {
        const set = (field: keyof BlockGene, value: BlockGene[keyof BlockGene]): void => {
          if (block[field] !== value) emit((g) => (((g[s] as StageGene).blocks[b] as Record<keyof BlockGene, unknown>)[field] = value));
        };
        o.types.forEach((t) => set('type', t));
        o.kernels.forEach((k) => set('kernel', k));
        o.expansions.forEach((e) => set('expand', e));
        o.se.forEach((r) => set('se', r));
      });
    });
    return out;
  }

  mutate(a: Architecture, random: Random): Architecture {
    return pick(this.neighbours(a), random);
  }
}
