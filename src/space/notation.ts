/**
 * The compact block notation, after timm's EfficientNet builder strings.
 *
 *   ir_r2_k3_s2_e6_c24_se0.25_nre
 *   │  │  │  │  │  │   │      └ activation (re relu, r6 relu6, hs h-swish, sw swish, sg sigmoid, id none)
 *   │  │  │  │  │  │   └ squeeze-excite ratio (of the block's input channels)
 *   │  │  │  │  │  └ output channels
 *   │  │  │  │  └ expansion ratio
 *   │  │  │  └ stride of the first block (the others have stride 1)
 *   │  │  └ kernel size
 *   │  └ repeats: how many blocks this entry makes
 *   └ block type (see BLOCK_TYPES)
 *
 * Other options: `noskip` (no residual), `d2` (dilation), `g4` (groups), `cip` (average pooling
 * counts the padding), `o012340` (a NAS-Bench-201 cell: one op index per edge).
 */
import { ArchitectureError } from './errors.js';

export const ACTIVATIONS = ['relu', 'relu6', 'hswish', 'swish', 'sigmoid', 'none'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

const ACT_CODES: Record<string, Activation> = {
  re: 'relu',
  r6: 'relu6',
  hs: 'hswish',
  sw: 'swish',
  sg: 'sigmoid',
  id: 'none',
};
const CODE_OF_ACT = Object.fromEntries(Object.entries(ACT_CODES).map(([k, v]) => [v, k])) as Record<
  Activation,
  string
>;

/** NAS-Bench-201 edge operations, in the benchmark's own order (index = digit in `o......`). */
export const NB201_OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const;
export type Nb201Op = (typeof NB201_OPS)[number];

export const BLOCK_TYPES = {
  ir: 'inverted residual (MBConv): 1x1 expand, kxk depthwise, [SE], 1x1 project',
  ds: 'depthwise separable: kxk depthwise, [SE], 1x1 project',
  er: 'fused MBConv (edge residual): kxk expand, [SE], 1x1 project',
  cn: 'convolution + batch norm + activation',
  rb: 'ResNet basic block: two 3x3 convolutions, projection shortcut when shapes change',
  bt: 'ResNet bottleneck (v1.5): 1x1, 3x3 (strided), 1x1; width = c / e',
  nb: 'NAS-Bench-201 cell (o = six edge ops); keeps channels and resolution',
  nr: 'NAS-Bench-201 residual block: pre-activation 3x3 convs, avg-pool + 1x1 shortcut',
  ba: 'batch norm + activation',
  mp: 'max pooling',
  ap: 'average pooling',
  gap: 'global average pooling',
  fc: 'fully connected classifier (c defaults to the number of classes)',
} as const;
export type BlockType = keyof typeof BLOCK_TYPES;

/** A parsed block entry. `repeat` blocks are made from it by the block-construction rules. */
export interface BlockArgs {
  type: BlockType;
  repeat: number;
  kernel: number;
  stride: number;
  expand: number;
  /** Output channels; absent where the type keeps its input width (or, for `fc`, uses the classes). */
  out?: number;
  se: number;
  /** Absent: the network's default activation. */
  act?: Activation;
  skip: boolean;
  dilation: number;
  groups: number;
  countIncludePad: boolean;
  cell?: Nb201Op[];
}

export function defaultBlockArgs(type: BlockType): BlockArgs {
  return {
    type,
    repeat: 1,
    kernel: 3,
    stride: 1,
    expand: type === 'bt' ? 4 : 1,
    se: 0,
    skip: true,
    dilation: 1,
    groups: 1,
    countIncludePad: false,
  };
}

/** Which options mean something for each type; the parser accepts and the printer writes only these. */
const FIELDS: Record<BlockType, readonly string[]> = {
  ir: ['r', 'k', 's', 'e', 'c', 'se', 'n', 'noskip', 'd'],
  ds: ['r', 'k', 's', 'c', 'se', 'n', 'noskip', 'd'],
  er: ['r', 'k', 's', 'e', 'c', 'se', 'n', 'noskip'],
  cn: ['r', 'k', 's', 'c', 'n', 'd', 'g'],
  rb: ['r', 's', 'c', 'n'],
  bt: ['r', 's', 'e', 'c', 'n'],
  nb: ['r', 'o'],
  nr: ['s', 'c'],
  ba: ['n'],
  mp: ['k', 's'],
  ap: ['k', 's', 'cip'],
  gap: [],
  fc: ['c'],
};

/** The object-form key of each notation option. */
const KEY_OF_OPTION: Record<string, keyof BlockArgs> = {
  r: 'repeat',
  k: 'kernel',
  s: 'stride',
  e: 'expand',
  c: 'out',
  se: 'se',
  n: 'act',
  noskip: 'skip',
  d: 'dilation',
  g: 'groups',
  cip: 'countIncludePad',
  o: 'cell',
};

/** The keys of a block object that mean something for its type (besides `type`). */
export function blockKeys(type: BlockType): Array<keyof BlockArgs> {
  return FIELDS[type].map((option) => KEY_OF_OPTION[option] as keyof BlockArgs);
}

function fail(path: string, text: string, why: string): never {
  throw ArchitectureError.at(path, `${why} in block "${text}"`);
}

/** Widths, kernels and repeats beyond this are typos, not networks. */
export const MAX_SIZE = 1 << 20;

/**
 * Expansion ratios beyond this are typos, not networks: the widest blocks in use expand by 6
 * (MobileNetV2) or divide by 4 (ResNet's bottleneck); 1024 leaves room for any search while
 * keeping a width derived from one (channels × e, or c / e) far from overflow.
 */
export const MAX_EXPANSION = 1024;

/**
 * Blocks in a whole architecture (repeats counted), and basic operations of user graphs (nodes ×
 * repeats): ten times the deepest published networks (ResNet-1001: 333 blocks; DenseNet-264:
 * about 1,000 layers). Beyond them a file is a typo (`r1048576`) that would take minutes and
 * gigabytes to cost before saying anything.
 */
export const MAX_BLOCKS = 10_000;
export const MAX_GRAPH_NODES = 100_000;

function positiveInt(raw: string, path: string, text: string, what: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_SIZE) {
    fail(path, text, `${what} must be an integer from 1 to ${MAX_SIZE}, got "${raw}"`);
  }
  return Number(raw);
}

function positiveNumber(raw: string, path: string, text: string, what: string): number {
  const value = Number(raw);
  if (raw === '' || !Number.isFinite(value) || value <= 0) fail(path, text, `${what} must be a positive number, got "${raw}"`);
  return value;
}

/** Parses one block string; `path` locates it in the file for error messages. */
export function parseBlock(text: string, path = ''): BlockArgs {
  const [head, ...options] = text.trim().split('_');
  if (!head || !(head in BLOCK_TYPES)) {
    fail(path, text, `unknown block type "${head ?? ''}" (known: ${Object.keys(BLOCK_TYPES).join(', ')})`);
  }
  const type = head as BlockType;
  const args = defaultBlockArgs(type);
  const allowed = FIELDS[type];
  const seen = new Set<string>();
  for (const option of options) {
    const key = optionKey(option);
    if (!key || !allowed.includes(key)) {
      fail(path, text, `option "${option}" does not apply to "${type}" (allowed: ${allowed.join(', ') || 'none'})`);
    }
    if (seen.has(key)) fail(path, text, `option "${key}" given twice`);
    seen.add(key);
    const raw = option.slice(key.length);
    switch (key) {
      case 'r': args.repeat = positiveInt(raw, path, text, 'repeat'); break;
      case 'k': args.kernel = positiveInt(raw, path, text, 'kernel'); break;
      case 's': args.stride = positiveInt(raw, path, text, 'stride'); break;
      case 'e':
        args.expand = positiveNumber(raw, path, text, 'expansion');
        if (args.expand > MAX_EXPANSION) fail(path, text, `expansion must be at most ${MAX_EXPANSION}, got "${raw}"`);
        break;
      case 'c': args.out = positiveInt(raw, path, text, 'channels'); break;
      case 'se':
        args.se = positiveNumber(raw, path, text, 'squeeze-excite ratio');
        if (args.se > 1) fail(path, text, `squeeze-excite ratio must be at most 1, got "${raw}"`);
        break;
      case 'd': args.dilation = positiveInt(raw, path, text, 'dilation'); break;
      case 'g': args.groups = positiveInt(raw, path, text, 'groups'); break;
      case 'noskip': args.skip = false; break;
      case 'cip': args.countIncludePad = true; break;
      case 'n': {
        const act = ACT_CODES[raw];
        if (!act) fail(path, text, `unknown activation "${raw}" (known: ${Object.keys(ACT_CODES).join(', ')})`);
        args.act = act;
        break;
      }
      case 'o': {
        if (!/^[0-4]{6}$/.test(raw)) fail(path, text, `cell must be six digits 0-4 (${NB201_OPS.join(', ')}), got "${raw}"`);
        args.cell = [...raw].map((d) => NB201_OPS[Number(d)] as Nb201Op);
        break;
      }
    }
  }
  if (type === 'nb' && !args.cell) fail(path, text, 'a NAS-Bench-201 cell needs its ops, e.g. "nb_o333333"');
  return args;
}

function optionKey(option: string): string | undefined {
  if (option === 'noskip' || option === 'cip') return option;
  if (/^se([\d.]|$)/.test(option)) return 'se';
  const match = /^([rksecdgno])/.exec(option);
  return match?.[1];
}

/** Prints the canonical string: `parseBlock(printBlock(a))` equals `a`. */
export function printBlock(args: BlockArgs): string {
  const parts: string[] = [args.type];
  const fields = FIELDS[args.type];
  const defaults = defaultBlockArgs(args.type);
  for (const field of fields) {
    switch (field) {
      case 'r': parts.push(`r${args.repeat}`); break;
      case 'k': parts.push(`k${args.kernel}`); break;
      case 's': parts.push(`s${args.stride}`); break;
      case 'e': if (args.type !== 'bt' || args.expand !== defaults.expand) parts.push(`e${args.expand}`); break;
      case 'c': if (args.out !== undefined) parts.push(`c${args.out}`); break;
      case 'se': if (args.se > 0) parts.push(`se${args.se}`); break;
      case 'n': if (args.act) parts.push(`n${CODE_OF_ACT[args.act]}`); break;
      case 'noskip': if (!args.skip) parts.push('noskip'); break;
      case 'd': if (args.dilation !== 1) parts.push(`d${args.dilation}`); break;
      case 'g': if (args.groups !== 1) parts.push(`g${args.groups}`); break;
      case 'cip': if (args.countIncludePad) parts.push('cip'); break;
      case 'o': if (args.cell) parts.push(`o${args.cell.map((op) => NB201_OPS.indexOf(op)).join('')}`); break;
    }
  }
  return parts.join('_');
}
