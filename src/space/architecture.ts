/**
 * The architecture as plain data (a JSON or YAML file), its schema, and its validated form.
 *
 *   name: tiny
 *   input: 32x32x3
 *   classes: 10
 *   act: relu6
 *   stem: [cn_k3_s1_c16]
 *   stages:
 *     - [ir_r2_k3_s2_e6_c24]
 *     - [ir_r1_k5_s2_e3_c40_se0.25, { type: ir, kernel: 3, stride: 1, expand: 6, out: 40 }]
 *   head: [gap, fc]
 */
import { readDataFile } from '../files/index.js';
import { z } from 'zod';
import { GraphSchema } from './custom.js';
import type { GraphSpec } from './custom.js';
import { ArchitectureError } from './errors.js';
import type { SpaceIssue } from './errors.js';
import type { Shape } from './graph.js';
import { ACTIVATIONS, BLOCK_TYPES, MAX_BLOCKS, MAX_EXPANSION, MAX_GRAPH_NODES, MAX_SIZE, NB201_OPS, blockKeys, defaultBlockArgs, parseBlock, printBlock } from './notation.js';
import type { Activation, BlockArgs, BlockType } from './notation.js';

/** One entry of a stage (or of the stem or head): a block type with its arguments, or a user graph. */
export type Entry = { kind: 'block'; args: BlockArgs } | { kind: 'graph'; graph: GraphSpec; repeat: number };

export interface Architecture {
  name: string;
  /** The file it came from, for error messages. */
  source?: string;
  input: Shape;
  classes: number;
  /** The activation of blocks that do not name one. */
  act: Activation;
  stem: Entry[];
  stages: Entry[][];
  head: Entry[];
}

const positive = z.number().int().positive().max(MAX_SIZE);

const InputText = z
  .string()
  .regex(/^\d+x\d+x\d+$/, 'write the input as HxWxC, e.g. 32x32x3')
  .transform((text) => {
    const [h, w, c] = text.split('x').map(Number) as [number, number, number];
    return { h, w, c };
  })
  .pipe(z.object({ h: positive, w: positive, c: positive }));
const InputObject = z.object({ height: positive, width: positive, channels: positive }).strict().transform((s) => ({ h: s.height, w: s.width, c: s.channels }));

/** Text or an object, picked by the value's type, so that a bad string says how to write it (a union says "Invalid input"). */
const InputSchema = z.union([z.string(), z.object({}).passthrough()], { error: 'write the input as HxWxC, e.g. 32x32x3' }).transform((value, ctx) => {
  const result = (typeof value === 'string' ? InputText : InputObject).safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path as PropertyKey[] });
  return z.NEVER;
});

const BlockObjectSchema = z
  .object({
    type: z.enum(Object.keys(BLOCK_TYPES) as [BlockType, ...BlockType[]]),
    repeat: positive.optional(),
    kernel: positive.optional(),
    stride: positive.optional(),
    expand: z.number().positive().max(MAX_EXPANSION).optional(),
    out: positive.optional(),
    se: z.number().nonnegative().max(1).optional(),
    act: z.enum(ACTIVATIONS).optional(),
    skip: z.boolean().optional(),
    dilation: positive.optional(),
    groups: positive.optional(),
    countIncludePad: z.boolean().optional(),
    cell: z.array(z.enum(NB201_OPS)).length(6).optional(),
  })
  .strict();

const GraphEntrySchema = z.object({ graph: GraphSchema, repeat: positive.optional() }).strict();

const FileSchema = z
  .object({
    name: z.string().min(1).default('unnamed'),
    input: InputSchema,
    classes: positive,
    act: z.enum(ACTIVATIONS).default('relu'),
    stem: z.array(z.unknown()).default([]),
    stages: z.array(z.array(z.unknown()).min(1, 'a stage needs at least one block')).min(1, 'a network needs at least one stage'),
    head: z.array(z.unknown()).default([]),
  })
  .strict();

/** The file form of an architecture, before validation. */
export type ArchitectureData = z.input<typeof FileSchema>;

function pathOf(segments: ReadonlyArray<PropertyKey>): string {
  return segments.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );
}

function zodIssues(error: z.ZodError, prefix: ReadonlyArray<PropertyKey> = []): SpaceIssue[] {
  return error.issues.map((issue) => ({ path: pathOf([...prefix, ...issue.path]), message: issue.message }));
}

function parseEntry(raw: unknown, path: ReadonlyArray<PropertyKey>, issues: SpaceIssue[]): Entry | undefined {
  const where = pathOf(path);
  if (typeof raw === 'string') {
    try {
      return { kind: 'block', args: parseBlock(raw, where) };
    } catch (error) {
      if (error instanceof ArchitectureError) issues.push(...error.issues);
      else throw error;
      return undefined;
    }
  }
  if (raw !== null && typeof raw === 'object' && 'graph' in raw) {
    const result = GraphEntrySchema.safeParse(raw);
    if (!result.success) return void issues.push(...zodIssues(result.error, path));
    return { kind: 'graph', graph: result.data.graph, repeat: result.data.repeat ?? 1 };
  }
  const result = BlockObjectSchema.safeParse(raw);
  if (!result.success) {
    if (raw === null || typeof raw !== 'object') {
      issues.push({ path: where, message: 'a block is a notation string such as "ir_r2_k3_s2_e6_c24", a block object or { graph: ... }' });
      return undefined;
    }
    return void issues.push(...zodIssues(result.error, path));
  }
  const { type, cell, ...rest } = result.data;
  const allowed = blockKeys(type);
  const stray = Object.keys(raw as object).filter((key) => key !== 'type' && !allowed.includes(key as keyof BlockArgs));
  if (stray.length) {
    issues.push({ path: `${where}.${stray[0]}`, message: `"${stray.join('", "')}" does not apply to a "${type}" block (it takes ${allowed.join(', ') || 'no options'})` });
    return undefined;
  }
  const args: BlockArgs = { ...defaultBlockArgs(type), ...stripUndefined(rest) };
  if (cell) args.cell = cell;
  if (type === 'nb' && !cell) issues.push({ path: `${where}.cell`, message: 'a NAS-Bench-201 cell needs its six edge ops' });
  return { kind: 'block', args };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Whole-architecture limits: blocks (repeats counted) and the basic operations of user graphs. */
function sizeIssues(a: Architecture): SpaceIssue[] {
  let blocks = 0;
  let nodes = 0;
  for (const entry of [...a.stem, ...a.stages.flat(), ...a.head]) {
    if (entry.kind === 'block') blocks += entry.args.repeat;
    else {
      blocks += entry.repeat;
      nodes += entry.graph.nodes.length * entry.repeat;
    }
  }
  const issues: SpaceIssue[] = [];
  if (blocks > MAX_BLOCKS) issues.push({ path: 'stages', message: `${blocks} blocks (repeats counted), more than the ${MAX_BLOCKS} an architecture may have` });
  if (nodes > MAX_GRAPH_NODES) issues.push({ path: 'stages', message: `${nodes} operations in graphs (nodes × repeats), more than the ${MAX_GRAPH_NODES} an architecture may have` });
  return issues;
}

/** Validates file data; throws ArchitectureError listing every bad field with its path. */
export function parseArchitecture(data: unknown, source?: string): Architecture {
  const result = FileSchema.safeParse(data);
  if (!result.success) throw new ArchitectureError(zodIssues(result.error), source);
  const file = result.data;
  const issues: SpaceIssue[] = [];
  const entries = (list: unknown[], path: PropertyKey[]): Entry[] =>
    list.flatMap((raw, i) => parseEntry(raw, [...path, i], issues) ?? []);
  const architecture: Architecture = {
    name: file.name,
    input: file.input,
    classes: file.classes,
    act: file.act,
    stem: entries(file.stem, ['stem']),
    stages: file.stages.map((stage, s) => entries(stage, ['stages', s])),
    head: entries(file.head, ['head']),
  };
  issues.push(...sizeIssues(architecture));
  if (issues.length) throw new ArchitectureError(issues, source);
  if (source) architecture.source = source;
  return architecture;
}

/**
 * Reads a .json, .yaml or .yml architecture file. A file that holds an architecture under
 * `architecture` and no `stages` of its own (a run's best.json, with its figures beside it) is
 * read as that architecture, so that a search's result feeds `cost`, `train`, `search -i`.
 */
export function loadArchitectureFile(file: string): Architecture {
  let data: unknown;
  try {
    data = readDataFile(file);
  } catch (error) {
    throw new ArchitectureError([{ path: '', message: `cannot read the file: ${(error as Error).message}` }], file);
  }
  return parseArchitectureData(data, file);
}

/** The data of an architecture file (parsed text), a run's best.json included: see loadArchitectureFile. */
export function parseArchitectureData(data: unknown, source: string): Architecture {
  if (isWrapped(data)) {
    try {
      return parseArchitecture(data.architecture, source);
    } catch (error) {
      if (error instanceof ArchitectureError) throw new ArchitectureError(error.issues.map((i) => ({ ...i, path: i.path ? `architecture.${i.path}` : 'architecture' })), source);
      throw error;
    }
  }
  return parseArchitecture(data, source);
}

function isWrapped(data: unknown): data is { architecture: unknown } {
  if (data === null || typeof data !== 'object' || Array.isArray(data) || 'stages' in data) return false;
  const inner = (data as { architecture?: unknown }).architecture;
  return inner !== null && typeof inner === 'object' && !Array.isArray(inner);
}

function entryToData(entry: Entry): unknown {
  if (entry.kind === 'graph') return entry.repeat === 1 ? { graph: entry.graph } : { graph: entry.graph, repeat: entry.repeat };
  return printBlock(entry.args);
}

/** The file form of an architecture: block entries in notation, so that files stay readable. */
export function architectureToData(a: Architecture): ArchitectureData {
  return {
    name: a.name,
    input: `${a.input.h}x${a.input.w}x${a.input.c}`,
    classes: a.classes,
    act: a.act,
    stem: a.stem.map(entryToData),
    stages: a.stages.map((stage) => stage.map(entryToData)),
    head: a.head.map(entryToData),
  };
}

/** The stages in block notation, one `|`-separated group per stage, for logs and metadata. */
export function notationOf(a: Architecture): string {
  return a.stages.map((stage) => stage.map((e) => (e.kind === 'block' ? printBlock(e.args) : `graph:${e.graph.name ?? 'custom'}`)).join(' ')).join(' | ');
}
