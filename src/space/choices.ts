/**
 * The choices of the mobile space, stage by stage: which block types, kernels, expansions,
 * squeeze-excite ratios, widths and depths a search may give each stage of the initial
 * architecture. Written by the user as a `space` section (every key optional, per-stage keys
 * over space-wide ones over the built-in defaults) and resolved here against the initial.
 *
 * The rule that keeps a space honest: the initial architecture is a point of its space. A list
 * the user wrote must hold the initial's own values (else an error names the stage and the
 * value); a built-in default list is widened with them, so every initial keeps working with no
 * `space` section at all.
 */
import type { SpaceIssue } from './errors.js';

export type MobileBlockType = 'ir' | 'er';

/** What one stage may choose. Every list is without repeats; numbers ascending. */
export interface StageChoices {
  types: readonly MobileBlockType[];
  kernels: readonly number[];
  expansions: readonly number[];
  se: readonly number[];
  /** Output channels of the stage's blocks. */
  widths: readonly number[];
  minBlocks: number;
  maxBlocks: number;
}

/** The written form: any subset of the keys, space-wide or for one stage. */
export interface StageChoicesSpec {
  types?: readonly MobileBlockType[] | undefined;
  kernels?: readonly number[] | undefined;
  expansions?: readonly number[] | undefined;
  se?: readonly number[] | undefined;
  /** Stage width = initial width × multiplier, rounded to a multiple of 8 (at least 8); 1 keeps it exactly. */
  widthMultipliers?: readonly number[] | undefined;
  /** Output channels, written out (per stage only: stages differ in width). */
  widths?: readonly number[] | undefined;
  depth?: { min?: number | undefined; max?: number | undefined } | undefined;
}

export interface SpaceSpec extends Omit<StageChoicesSpec, 'widths'> {
  /** Per-stage choices, keyed by the stage's 0-based index. */
  stages?: Readonly<Record<string, StageChoicesSpec>> | undefined;
}

/** The built-in choices: MnasNet/EfficientNet's kernels, expansions and SE ratio, FBNet's fused blocks. */
export const DEFAULT_SPACE = {
  types: ['ir', 'er'] as const,
  kernels: [3, 5, 7],
  expansions: [1, 3, 6],
  se: [0, 0.25],
  widthMultipliers: [0.5, 0.75, 1, 1.25, 1.5],
  depth: { min: 1, max: 4 },
} satisfies Required<Omit<StageChoicesSpec, 'widths'>>;

/** Thrown for a space the initial architecture does not fit, or one that names no stage. */
export class SpaceError extends Error {
  readonly issues: SpaceIssue[];

  constructor(issues: SpaceIssue[]) {
    super(`invalid search space\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
    this.name = 'SpaceError';
    this.issues = issues;
  }
}

/** The width of a stage at a multiplier: the initial width itself at 1, else a multiple of 8. */
export function widthAt(base: number, multiplier: number): number {
  return multiplier === 1 ? base : Math.max(8, Math.round((base * multiplier) / 8) * 8);
}

/** Numbers ascending, names in the order given (MBConv before fused MBConv, as written); no repeats. */
const ascending = <T extends number | string>(xs: Iterable<T>): T[] => {
  const unique = [...new Set(xs)];
  return unique.every((x) => typeof x === 'number') ? unique.sort((a, b) => (a as number) - (b as number)) : unique;
};

/** What the initial architecture has in one stage, read from its blocks. */
export interface StageFacts {
  types: MobileBlockType[];
  kernels: number[];
  expansions: number[];
  se: number[];
  width: number;
  depth: number;
}

/**
 * Resolves a written space against the facts of the initial's stages. Collects every problem
 * before it throws, each named by its path in the `space` section.
 */
export function resolveChoices(stages: readonly StageFacts[], spec: SpaceSpec = {}): StageChoices[] {
  const issues: SpaceIssue[] = [];
  for (const key of Object.keys(spec.stages ?? {})) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= stages.length) {
      issues.push({ path: `space.stages.${key}`, message: `the initial architecture has ${stages.length} stage${stages.length === 1 ? '' : 's'} (0–${stages.length - 1}): no stage "${key}"` });
    }
  }
  const resolved = stages.map((facts, s) => {
    const own = spec.stages?.[String(s)] ?? {};
    /** A list for one field: written per stage, written space-wide, or the default widened by the initial's. */
    const list = <T extends number | string>(field: 'types' | 'kernels' | 'expansions' | 'se', defaults: readonly T[], initial: readonly T[], noun: string): T[] => {
      const perStage = own[field] as readonly T[] | undefined;
      const written = perStage ?? (spec[field] as readonly T[] | undefined);
      if (written === undefined) return ascending([...defaults, ...initial]);
      const where = perStage !== undefined ? `space.stages.${s}.${field}` : `space.${field}`;
      for (const value of new Set(initial)) {
        if (!written.includes(value)) issues.push({ path: where, message: `stage ${s} of the initial architecture has ${noun} ${value}, which [${written.join(', ')}] leaves out` });
      }
      return ascending(written);
    };
    const widths = ((): number[] => {
      if (own.widths !== undefined) {
        if (!own.widths.includes(facts.width)) issues.push({ path: `space.stages.${s}.widths`, message: `stage ${s} of the initial architecture is ${facts.width} wide, which [${own.widths.join(', ')}] leaves out` });
        return ascending(own.widths);
      }
      const [written, where] = own.widthMultipliers !== undefined ? [own.widthMultipliers, `space.stages.${s}.widthMultipliers`] : [spec.widthMultipliers, 'space.widthMultipliers'];
      if (written === undefined) return ascending(DEFAULT_SPACE.widthMultipliers.map((m) => widthAt(facts.width, m)));
      if (!written.includes(1)) issues.push({ path: where, message: 'needs multiplier 1 (the initial architecture\'s own width)' });
      return ascending(written.map((m) => widthAt(facts.width, m)));
    })();
    const depth = ((): { min: number; max: number } => {
      const written = own.depth ?? spec.depth;
      const where = own.depth !== undefined ? `space.stages.${s}.depth` : 'space.depth';
      if (written === undefined) return { min: Math.min(DEFAULT_SPACE.depth.min, facts.depth), max: Math.max(DEFAULT_SPACE.depth.max, facts.depth) };
      const min = written.min ?? DEFAULT_SPACE.depth.min;
      const max = written.max ?? Math.max(DEFAULT_SPACE.depth.max, min);
      if (max < min) issues.push({ path: where, message: `max ${max} is below min ${min}` });
      else if (facts.depth < min || facts.depth > max) issues.push({ path: where, message: `stage ${s} of the initial architecture has ${facts.depth} block${facts.depth === 1 ? '' : 's'}, outside ${min}–${max}` });
      return { min, max };
    })();
    return {
      types: list('types', DEFAULT_SPACE.types, facts.types, 'block type'),
      kernels: list('kernels', DEFAULT_SPACE.kernels, facts.kernels, 'kernel'),
      expansions: list('expansions', DEFAULT_SPACE.expansions, facts.expansions, 'expansion'),
      se: list('se', DEFAULT_SPACE.se, facts.se, 'squeeze-excite ratio'),
      widths,
      minBlocks: depth.min,
      maxBlocks: depth.max,
    } satisfies StageChoices;
  });
  if (issues.length > 0) throw new SpaceError(issues);
  return resolved;
}

/** One line per stage, for a search's start-up report. */
export function describeChoices(choices: readonly StageChoices[]): string[] {
  return choices.map((c, s) => {
    const depth = c.minBlocks === c.maxBlocks ? `${c.minBlocks}` : `${c.minBlocks}–${c.maxBlocks}`;
    return `stage ${s}: ${c.types.join('/')} · k ${c.kernels.join('/')} · e ${c.expansions.join('/')} · se ${c.se.join('/')} · c ${c.widths.join('/')} · ${depth} blocks`;
  });
}

/** log10 of the number of architectures the choices allow (a stage's blocks choose independently). */
export function log10SpaceSize(choices: readonly StageChoices[]): number {
  return choices.reduce((sum, c) => {
    const perBlock = c.types.length * c.kernels.length * c.expansions.length * c.se.length;
    let depths = 0;
    for (let d = c.minBlocks; d <= c.maxBlocks; d++) depths += perBlock ** d;
    return sum + Math.log10(c.widths.length * depths);
  }, 0);
}
