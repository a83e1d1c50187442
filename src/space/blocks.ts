/**
 * Composite operations: each turns one block's arguments into a small graph of basic operations.
 * The block-construction rules that decide *which* arguments a block gets live in lower.ts.
 */
import type { ConvOptions, GraphBuilder } from './builder.js';
import type { Activation, BlockArgs, BlockType, Nb201Op } from './notation.js';

export interface BlockContext {
  /** The activation used where the block does not name one. */
  act: Activation;
  classes: number;
}

type CompositeBuilder = (b: GraphBuilder, x: number, a: BlockArgs, ctx: BlockContext) => number;

function outChannels(b: GraphBuilder, x: number, a: BlockArgs): number {
  return a.out ?? b.shape(x).c;
}

/** The residual rule of MobileNet-family blocks: only where shapes match and skip is allowed. */
function residual(b: GraphBuilder, x: number, y: number, a: BlockArgs): number {
  const s = b.shape(x);
  const t = b.shape(y);
  return a.skip && a.stride === 1 && s.c === t.c && s.h === t.h && s.w === t.w ? b.add([y, x], 'add') : y;
}

function squeezeExcite(b: GraphBuilder, x: number, inChannels: number, a: BlockArgs, act: Activation): number {
  return a.se > 0 ? b.se(x, Math.max(1, Math.round(inChannels * a.se)), act, 'se') : x;
}

/** Projection shortcut of ResNet blocks: identity, or 1x1 conv (strided) + BN when shapes change. */
function resnetShortcut(b: GraphBuilder, x: number, out: number, stride: number): number {
  if (stride === 1 && b.shape(x).c === out) return x;
  return b.bn(b.conv(x, 'down.conv', { out, kernel: 1, stride }), 'down.bn');
}

/** conv → BN → activation, with layers named `name`, `name.bn`, `name.<act>`. */
function convBnAct(b: GraphBuilder, x: number, name: string, o: ConvOptions, act: Activation): number {
  return b.act(b.bn(b.conv(x, name, o), `${name}.bn`), act, `${name}.${act}`);
}

/** The common tail of MobileNet-family blocks: [SE], linear 1x1 projection, residual. */
function exciteProject(b: GraphBuilder, x: number, y: number, a: BlockArgs, act: Activation): number {
  const excited = squeezeExcite(b, y, b.shape(x).c, a, act);
  const projected = b.bn(b.conv(excited, 'project', { out: outChannels(b, x, a), kernel: 1 }), 'project.bn');
  return residual(b, x, projected, a);
}

/** MBConv; with expansion 1 there is no expansion conv, which makes it the `ds` block. */
const invertedResidual: CompositeBuilder = (b, x, a, ctx) => {
  const act = a.act ?? ctx.act;
  const mid = b.expandedWidth(b.shape(x).c, a.expand, 'times');
  const expanded = a.expand === 1 ? x : convBnAct(b, x, 'expand', { out: mid, kernel: 1 }, act);
  const y = convBnAct(b, expanded, 'dw', { out: mid, kernel: a.kernel, stride: a.stride, groups: mid, dilation: a.dilation }, act);
  return exciteProject(b, x, y, a, act);
};

const depthwiseSeparable: CompositeBuilder = (b, x, a, ctx) => invertedResidual(b, x, { ...a, expand: 1 }, ctx);

const fusedInvertedResidual: CompositeBuilder = (b, x, a, ctx) => {
  const act = a.act ?? ctx.act;
  const mid = b.expandedWidth(b.shape(x).c, a.expand, 'times');
  const y = convBnAct(b, x, 'expand', { out: mid, kernel: a.kernel, stride: a.stride }, act);
  return exciteProject(b, x, y, a, act);
};

const convBnActBlock: CompositeBuilder = (b, x, a, ctx) => {
  const act = a.act ?? ctx.act;
  const o = { out: outChannels(b, x, a), kernel: a.kernel, stride: a.stride, groups: a.groups, dilation: a.dilation };
  return b.act(b.bn(b.conv(x, 'conv', o), 'bn'), act);
};

const resnetBasic: CompositeBuilder = (b, x, a, ctx) => {
  const act = a.act ?? ctx.act;
  const out = outChannels(b, x, a);
  let y = b.act(b.bn(b.conv(x, 'conv1', { out, kernel: 3, stride: a.stride }), 'bn1'), act, `${act}1`);
  y = b.bn(b.conv(y, 'conv2', { out, kernel: 3 }), 'bn2');
  return b.act(b.add([y, resnetShortcut(b, x, out, a.stride)]), act, `${act}2`);
};

const resnetBottleneck: CompositeBuilder = (b, x, a, ctx) => {
  const act = a.act ?? ctx.act;
  const out = outChannels(b, x, a);
  const width = b.expandedWidth(out, a.expand, 'over');
  if (!Number.isInteger(width)) b.fail(`bottleneck width c/e = ${out}/${a.expand} is not an integer`);
  let y = b.act(b.bn(b.conv(x, 'conv1', { out: width, kernel: 1 }), 'bn1'), act, `${act}1`);
  y = b.act(b.bn(b.conv(y, 'conv2', { out: width, kernel: 3, stride: a.stride }), 'bn2'), act, `${act}2`);
  y = b.bn(b.conv(y, 'conv3', { out, kernel: 1 }), 'bn3');
  return b.act(b.add([y, resnetShortcut(b, x, out, a.stride)]), act, `${act}3`);
};

/** NAS-Bench-201's ReLU → Conv → BN. */
function reluConvBn(b: GraphBuilder, x: number, name: string, out: number, kernel: number, stride = 1): number {
  return b.bn(b.conv(b.act(x, 'relu', `${name}.relu`), `${name}.conv`, { out, kernel, stride }), `${name}.bn`);
}

/** Edges in NAS-Bench-201 string order: (0→1), (0→2), (1→2), (0→3), (1→3), (2→3). */
const NB201_EDGES: ReadonlyArray<readonly [number, number]> = [
  [0, 1],
  [0, 2],
  [1, 2],
  [0, 3],
  [1, 3],
  [2, 3],
];

function nb201Edge(b: GraphBuilder, x: number, op: Nb201Op, name: string): number | undefined {
  const c = b.shape(x).c;
  switch (op) {
    case 'none':
      return undefined;
    case 'skip_connect':
      return x;
    case 'nor_conv_1x1':
      return reluConvBn(b, x, name, c, 1);
    case 'nor_conv_3x3':
      return reluConvBn(b, x, name, c, 3);
    case 'avg_pool_3x3':
      return b.pool('avgpool', x, `${name}.pool`, { kernel: 3, stride: 1, pad: 1, countIncludePad: false });
  }
}

/** A NAS-Bench-201 cell: node j = sum of op(node i) over its incoming edges; output = node 3. */
const nb201Cell: CompositeBuilder = (b, x, a) => {
  const cell = a.cell ?? b.fail('a NAS-Bench-201 cell needs its six edge ops');
  const nodes: number[] = [x];
  for (let j = 1; j <= 3; j++) {
    const terms: number[] = [];
    NB201_EDGES.forEach(([from, to], e) => {
      if (to !== j) return;
      const term = nb201Edge(b, nodes[from] as number, cell[e] as Nb201Op, `e${from}${to}`);
      if (term !== undefined) terms.push(term);
    });
    nodes.push(terms.length === 0 ? b.zero(b.shape(x), `node${j}.zero`) : b.add(terms, `node${j}.add`));
  }
  return nodes[3] as number;
};

/** NAS-Bench-201's ResNetBasicblock (pre-activation; avg-pool + 1x1 shortcut when strided). */
const nb201Residual: CompositeBuilder = (b, x, a) => {
  const out = outChannels(b, x, a);
  let y = reluConvBn(b, x, 'conv_a', out, 3, a.stride);
  y = reluConvBn(b, y, 'conv_b', out, 3);
  let shortcut = x;
  if (a.stride === 2) {
    shortcut = b.pool('avgpool', x, 'down.pool', { kernel: 2, stride: 2, pad: 0 });
    shortcut = b.conv(shortcut, 'down.conv', { out, kernel: 1 });
  } else if (a.stride !== 1) {
    b.fail(`a NAS-Bench-201 residual block has stride 1 or 2, got ${a.stride}`);
  } else if (out !== b.shape(x).c) {
    shortcut = reluConvBn(b, x, 'down', out, 1);
  }
  return b.add([y, shortcut]);
};

export const COMPOSITES: Record<BlockType, CompositeBuilder> = {
  ir: invertedResidual,
  ds: depthwiseSeparable,
  er: fusedInvertedResidual,
  cn: convBnActBlock,
  rb: resnetBasic,
  bt: resnetBottleneck,
  nb: nb201Cell,
  nr: nb201Residual,
  ba: (b, x, a, ctx) => b.act(b.bn(x, 'bn'), a.act ?? ctx.act),
  mp: (b, x, a) => b.pool('maxpool', x, 'pool', { kernel: a.kernel, stride: a.stride }),
  ap: (b, x, a) =>
    b.pool('avgpool', x, 'pool', { kernel: a.kernel, stride: a.stride, countIncludePad: a.countIncludePad }),
  gap: (b, x) => b.gap(x),
  fc: (b, x, a, ctx) => b.dense(x, a.out ?? ctx.classes),
};
