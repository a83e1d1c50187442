/**
 * The supernet space of the differentiable search: the mobile space with every block position
 * ("slot") holding all its candidate composite operations at once. A stage keeps its stride
 * and its width (the initial architecture's); each slot chooses a block type, kernel,
 * expansion and squeeze-excite ratio among the stage's choices, and every slot past the
 * stage's minimum depth may also choose to skip (that is how depth is searched). A path (one
 * choice per slot) is one architecture of the mobile space with the same choices.
 */
import type { Architecture, Entry } from './architecture.js';
import { ArchitectureError } from './errors.js';
import type { LayerGraph, Part, Shape } from './graph.js';
import { lower, lowerPart } from './lower.js';
import { defaultBlockArgs } from './notation.js';
import type { BlockArgs } from './notation.js';
import { SpaceError, resolveChoices } from './choices.js';
import type { SpaceSpec, StageChoices } from './choices.js';
import { stageFacts } from './search-space.js';

/** A slot's choice: a block, or `skip` (the slot passes its input through). */
export type SlotChoice = BlockArgs | 'skip';

export interface Slot {
  stage: number;
  /** Position in the stage, 0-based. */
  index: number;
  /** Per-sample input shape; with skips allowed only where shapes match, it never depends on other slots. */
  input: Shape;
  choices: SlotChoice[];
}

/** One choice per slot, as indices into `Slot.choices`. */
export type Path = number[];

/** A written space as the supernet reads it: each stage keeps the initial's width unless the space says otherwise. */
export function supernetSpec(spec: SpaceSpec): SpaceSpec {
  return { widthMultipliers: [1], ...spec };
}

export class SupernetSpace {
  readonly slots: Slot[];
  /** Per stage, the choices its slots offer (one width each: the supernet shares no weights across widths). */
  readonly choices: readonly StageChoices[];
  private readonly headInput: Shape;

  constructor(
    readonly initial: Architecture,
    spec: SpaceSpec = {},
  ) {
    const graph = lower(initial);
    this.choices = resolveChoices(stageFacts(initial), supernetSpec(spec));
    const wide = this.choices.flatMap((c, s) => (c.widths.length > 1 ? [{ path: `space.stages.${s}`, message: `the supernet keeps one width per stage, and this space gives stage ${s} ${c.widths.length} (${c.widths.join(', ')}): search widths with local search or evolution` }] : []));
    if (wide.length > 0) throw new SpaceError(wide);
    const firstBlock = (s: number) => {
      const first = graph.composites.find((c) => c.part === 'stage' && c.stage === s);
      if (!first) throw new ArchitectureError([{ path: `stages[${s}]`, message: 'the supernet needs at least one block per stage' }]);
      return { input: graph.tensors[first.input] as Shape, output: graph.tensors[first.output] as Shape };
    };
    const lastStage = [...graph.composites].reverse().find((c) => c.part === 'stage');
    this.headInput = graph.tensors[lastStage?.output ?? 0] as Shape;
    this.slots = initial.stages.flatMap((stage, s) => {
      const first = stage[0] as Entry & { kind: 'block' };
      const c = this.choices[s] as StageChoices;
      const { input, output: afterFirst } = firstBlock(s);
      const out = c.widths[0] as number;
      if (out !== afterFirst.c) throw new SpaceError([{ path: `space.stages.${s}`, message: `the supernet keeps stage ${s} at the initial's width ${afterFirst.c}, not ${out}` }]);
      const candidates = (stride: number): BlockArgs[] =>
        c.types.flatMap((type) =>
          c.kernels.flatMap((kernel) =>
            c.expansions.flatMap((expand) => c.se.map((se): BlockArgs => ({ ...defaultBlockArgs(type), kernel, stride, expand, out, se, act: first.args.act, dilation: first.args.dilation, skip: first.args.skip }))),
          ),
        );
      // A stage's first minBlocks slots always hold a block; the rest may skip (that is how depth is searched).
      return Array.from({ length: c.maxBlocks }, (_, index): Slot => ({
        stage: s,
        index,
        input: index === 0 ? input : afterFirst,
        choices: index === 0 ? candidates(first.args.stride) : index < c.minBlocks ? candidates(1) : [...candidates(1), 'skip'],
      }));
    });
  }

  /** The architecture a path selects. */
  architecture(path: Path): Architecture {
    this.check(path);
    const stages: Entry[][] = this.initial.stages.map(() => []);
    this.slots.forEach((slot, i) => {
      const choice = slot.choices[path[i] as number] as SlotChoice;
      if (choice !== 'skip') (stages[slot.stage] as Entry[]).push({ kind: 'block', args: choice });
    });
    return { ...this.initial, stages };
  }

  /** The layers of one choice on its own (none for skip), for an engine that assembles paths. */
  choiceGraph(slot: number, choice: number): LayerGraph | undefined {
    const s = this.slots[slot] as Slot;
    const c = s.choices[choice];
    if (c === undefined) throw new RangeError(`slot ${slot} has no choice ${choice}`);
    if (c === 'skip') return undefined;
    return this.piece([{ kind: 'block', args: c }], s.input, 'stage', s.stage, `s${s.stage}.x${s.index}c${choice}.`);
  }

  /** The fixed layers before the first slot and after the last. */
  stemGraph(): LayerGraph {
    return this.piece(this.initial.stem, this.initial.input, 'stem', -1, 'stem.');
  }

  headGraph(): LayerGraph {
    return this.piece(this.initial.head, this.headInput, 'head', -1, 'head.');
  }

  private piece(entries: Entry[], input: Shape, part: Part, stage: number, namePrefix: string): LayerGraph {
    return lowerPart({ entries, input, act: this.initial.act, classes: this.initial.classes, part, stage, namePrefix });
  }

  private check(path: Path): void {
    if (path.length !== this.slots.length || path.some((c, i) => !Number.isInteger(c) || c < 0 || c >= (this.slots[i] as Slot).choices.length)) {
      throw new RangeError(`a path needs one choice per slot (${this.slots.length} slots), got [${path.join(', ')}]`);
    }
  }
}
