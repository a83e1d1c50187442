/**
 * User-defined composite operations: a small graph of basic operations written as data.
 *
 *   graph:
 *     nodes:
 *       - { id: a, op: conv, kernel: 3, out: 32, inputs: [in] }
 *       - { id: b, op: bn, inputs: [a] }
 *       - { id: y, op: add, inputs: [b, in] }
 *     output: y
 */
import { z } from 'zod';
import type { GraphBuilder } from './builder.js';
import { ACTIVATIONS, MAX_SIZE } from './notation.js';
import type { Activation } from './notation.js';

export const BASIC_OPS = [
  'conv',
  'dwconv',
  'pwconv',
  'bn',
  'relu',
  'relu6',
  'hswish',
  'swish',
  'sigmoid',
  'maxpool',
  'avgpool',
  'gap',
  'se',
  'add',
  'concat',
  'identity',
  'zero',
  'dense',
] as const;

const positive = z.number().int().positive().max(MAX_SIZE);

export const GraphNodeSchema = z
  .object({
    id: z.string().min(1).refine((id) => id !== 'in', { message: '"in" names the block input; pick another id' }),
    op: z.enum(BASIC_OPS),
    inputs: z.array(z.string()).default([]),
    out: positive.optional(),
    kernel: positive.optional(),
    stride: positive.optional(),
    groups: positive.optional(),
    dilation: positive.optional(),
    pad: z.number().int().nonnegative().optional(),
    bias: z.boolean().optional(),
    countIncludePad: z.boolean().optional(),
    /** Squeeze-excite: squeeze channels as a fraction of the input channels. */
    ratio: z.number().positive().max(1).optional(),
    act: z.enum(ACTIVATIONS).optional(),
  })
  .strict();

export const GraphSchema = z
  .object({
    name: z.string().optional(),
    nodes: z.array(GraphNodeSchema).min(1),
    output: z.string(),
  })
  .strict();

export type GraphSpec = z.infer<typeof GraphSchema>;
type GraphNode = z.infer<typeof GraphNodeSchema>;

type NodeField = 'out' | 'kernel' | 'stride' | 'groups' | 'dilation' | 'pad' | 'bias' | 'countIncludePad' | 'ratio' | 'act';

/** The fields each op takes; any other field is a mistake worth reporting. */
const NODE_FIELDS: Record<GraphNode['op'], readonly NodeField[]> = {
  conv: ['out', 'kernel', 'stride', 'groups', 'dilation', 'pad', 'bias'],
  dwconv: ['out', 'kernel', 'stride', 'dilation', 'pad', 'bias'],
  pwconv: ['out', 'stride', 'groups', 'bias'],
  bn: [],
  relu: [],
  relu6: [],
  hswish: [],
  swish: [],
  sigmoid: [],
  maxpool: ['kernel', 'stride', 'pad'],
  avgpool: ['kernel', 'stride', 'pad', 'countIncludePad'],
  gap: [],
  se: ['ratio', 'act'],
  add: [],
  concat: [],
  identity: [],
  zero: [],
  dense: ['out', 'bias'],
};

const ARITY: Partial<Record<GraphNode['op'], [number, number]>> = {
  add: [1, Infinity],
  concat: [1, Infinity],
  zero: [0, 1],
};

/** Builds a user graph; node inputs must name `in` or an earlier node (topological order). */
export function buildCustom(b: GraphBuilder, x: number, graph: GraphSpec, defaultAct: Activation): number {
  const values = new Map<string, number>([['in', x]]);
  graph.nodes.forEach((node, index) => {
    const where = `nodes[${index}] (${node.id})`;
    if (values.has(node.id)) b.fail(`${where}: id "${node.id}" is used twice`);
    const allowed: readonly string[] = NODE_FIELDS[node.op];
    const stray = Object.keys(node).filter((key) => !['id', 'op', 'inputs'].includes(key) && !allowed.includes(key));
    if (stray.length) b.fail(`${where}: "${stray.join('", "')}" does not apply to "${node.op}" (it takes ${allowed.join(', ') || 'no options'})`);
    const [min, max] = ARITY[node.op] ?? [1, 1];
    if (node.inputs.length < min || node.inputs.length > max) {
      const want = max === Infinity ? `at least ${min}` : min === max ? `${min}` : `${min} to ${max}`;
      b.fail(`${where}: "${node.op}" takes ${want} input(s), got ${node.inputs.length}`);
    }
    const inputs = node.inputs.map((name) => {
      const value = values.get(name);
      if (value === undefined) b.fail(`${where}: input "${name}" is not "in" or an earlier node`);
      return value;
    });
    values.set(node.id, buildNode(b, node, inputs, x, defaultAct));
  });
  const output = values.get(graph.output);
  if (output === undefined) b.fail(`output "${graph.output}" is not a node of the graph`);
  return output;
}

function buildNode(b: GraphBuilder, node: GraphNode, inputs: number[], blockInput: number, act: Activation): number {
  const x = inputs[0] as number;
  const name = node.id;
  const conv = { stride: node.stride, dilation: node.dilation, pad: node.pad, bias: node.bias };
  const need = (value: number | undefined, what: string): number =>
    value ?? b.fail(`node "${name}": "${node.op}" needs "${what}"`);
  switch (node.op) {
    case 'conv':
      return b.conv(x, name, { ...conv, out: need(node.out, 'out'), kernel: need(node.kernel, 'kernel'), groups: node.groups });
    case 'dwconv': {
      const c = b.shape(x).c;
      return b.conv(x, name, { ...conv, out: node.out ?? c, kernel: need(node.kernel, 'kernel'), groups: c });
    }
    case 'pwconv':
      return b.conv(x, name, { ...conv, out: need(node.out, 'out'), kernel: 1, groups: node.groups });
    case 'bn':
      return b.bn(x, name);
    case 'relu':
    case 'relu6':
    case 'hswish':
    case 'swish':
    case 'sigmoid':
      return b.act(x, node.op, name);
    case 'maxpool':
    case 'avgpool':
      return b.pool(node.op, x, name, {
        kernel: need(node.kernel, 'kernel'),
        stride: node.stride,
        pad: node.pad,
        countIncludePad: node.countIncludePad,
      });
    case 'gap':
      return b.gap(x, name);
    case 'se':
      return b.se(x, Math.max(1, Math.round(b.shape(x).c * (node.ratio ?? 0.25))), node.act ?? act, name);
    case 'add':
      return b.add(inputs, name);
    case 'concat':
      return b.concat(inputs, name);
    case 'identity':
      return x;
    case 'zero':
      return b.zero(inputs.length ? b.shape(x) : b.shape(blockInput), name);
    case 'dense':
      return b.dense(x, need(node.out, 'out'), name, node.bias ?? true);
  }
}
