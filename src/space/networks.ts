/**
 * Built-in networks, written in the block notation. Parameter counts match the reference
 * implementations exactly (torchvision for MobileNetV2 and the ResNets; MnasNet-A1 as in timm,
 * 3,887,038, the count osmr/imgclsmob asserts for its mnasnet_a1;
 * NAS-Bench-201's TinyNetwork for `nb201:<arch string>`).
 */
import { parseArchitecture } from './architecture.js';
import type { Architecture, ArchitectureData } from './architecture.js';
import { ArchitectureError } from './errors.js';
import { NB201_OPS } from './notation.js';

const IMAGENET = { input: '224x224x3', classes: 1000 } as const;

/**
 * The main job's default initial architecture (procnas's own, not a published network): 37,658
 * parameters, 97.8% on MNIST in one epoch.
 */
export const MNIST_MBCONV: ArchitectureData = {
  name: 'mnist-mbconv',
  input: '28x28x1',
  classes: 10,
  stem: ['cn_k3_c16'],
  stages: [['ir_k3_s2_e4_c32'], ['ir_r2_k3_s2_e4_c48']],
  head: ['gap', 'fc'],
};

const BUILTINS: Record<string, ArchitectureData> = {
  mobilenet_v2: {
    name: 'mobilenet_v2',
    ...IMAGENET,
    act: 'relu6',
    stem: ['cn_k3_s2_c32'],
    stages: [
      ['ds_r1_k3_s1_c16'],
      ['ir_r2_k3_s2_e6_c24'],
      ['ir_r3_k3_s2_e6_c32'],
      ['ir_r4_k3_s2_e6_c64'],
      ['ir_r3_k3_s1_e6_c96'],
      ['ir_r3_k3_s2_e6_c160'],
      ['ir_r1_k3_s1_e6_c320'],
    ],
    head: ['cn_k1_s1_c1280', 'gap', 'fc'],
  },
  mnasnet_a1: {
    name: 'mnasnet_a1',
    ...IMAGENET,
    act: 'relu',
    stem: ['cn_k3_s2_c32'],
    stages: [
      ['ds_r1_k3_s1_c16_noskip'],
      ['ir_r2_k3_s2_e6_c24'],
      ['ir_r3_k5_s2_e3_c40_se0.25'],
      ['ir_r4_k3_s2_e6_c80'],
      ['ir_r2_k3_s1_e6_c112_se0.25'],
      ['ir_r3_k5_s2_e6_c160_se0.25'],
      ['ir_r1_k3_s1_e6_c320'],
    ],
    head: ['cn_k1_s1_c1280', 'gap', 'fc'],
  },
  resnet18: resnet('resnet18', 'rb', [2, 2, 2, 2], 1),
  resnet34: resnet('resnet34', 'rb', [3, 4, 6, 3], 1),
  resnet50: resnet('resnet50', 'bt', [3, 4, 6, 3], 4),
  'mnist-mbconv': MNIST_MBCONV,
};

function resnet(name: string, type: 'rb' | 'bt', repeats: number[], expansion: number): ArchitectureData {
  return {
    name,
    ...IMAGENET,
    act: 'relu',
    stem: ['cn_k7_s2_c64', 'mp_k3_s2'],
    stages: repeats.map((r, i) => [`${type}_r${r}_s${i === 0 ? 1 : 2}_c${64 * 2 ** i * expansion}`]),
    head: ['gap', 'fc'],
  };
}

/** The NAS-Bench-201 datasets and their skeleton inputs. */
export const NB201_DATASETS = {
  cifar10: { input: '32x32x3', classes: 10 },
  cifar100: { input: '32x32x3', classes: 100 },
  'ImageNet16-120': { input: '16x16x3', classes: 120 },
} as const;
export type Nb201Dataset = keyof typeof NB201_DATASETS;

/** Parses `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` into the cell's six digits, edges in string order. */
export function parseNb201String(text: string): string {
  const nodes = text.split('+');
  const fail = (why: string): never => {
    throw ArchitectureError.at('nb201', `${why} in "${text}" (expected |op~0|+|op~0|op~1|+|op~0|op~1|op~2|)`);
  };
  if (nodes.length !== 3) fail('a cell string has three "+"-separated nodes');
  const digits: number[] = [];
  nodes.forEach((node, j) => {
    if (!node.startsWith('|') || !node.endsWith('|') || node.length < 2) fail(`node ${j + 1} must be written |op~i|...|`);
    const tokens = node.slice(1, -1).split('|');
    if (tokens.length !== j + 1) fail(`node ${j + 1} needs ${j + 1} edge(s), got ${tokens.length}`);
    tokens.forEach((token, i) => {
      const parts = token.split('~');
      if (parts.length !== 2) fail(`edge "${token}" must be op~node`);
      const [op, from] = parts;
      const index = NB201_OPS.indexOf(op as (typeof NB201_OPS)[number]);
      if (index < 0) fail(`unknown op "${op}" (known: ${NB201_OPS.join(', ')})`);
      if (from !== String(i)) fail(`edge "${token}" must come from node ${i}`);
      digits.push(index);
    });
  });
  return digits.join('');
}

/** Prints six cell digits back in NAS-Bench-201's string form. */
export function printNb201String(digits: string): string {
  const op = (k: number, from: number): string => `${NB201_OPS[Number(digits[k])]}~${from}`;
  return `|${op(0, 0)}|+|${op(1, 0)}|${op(2, 1)}|+|${op(3, 0)}|${op(4, 1)}|${op(5, 2)}|`;
}

/** NAS-Bench-201's TinyNetwork (C=16, N=5) around one cell, on a dataset's skeleton. */
export function nb201Network(cellString: string, dataset: Nb201Dataset = 'cifar10'): ArchitectureData {
  const cell = `nb_r5_o${parseNb201String(cellString)}`;
  return {
    name: `nb201:${cellString}`,
    ...NB201_DATASETS[dataset],
    act: 'relu',
    stem: ['cn_k3_s1_c16_nid'],
    stages: [[cell], ['nr_s2_c32', cell], ['nr_s2_c64', cell]],
    head: ['ba_nre', 'gap', 'fc'],
  };
}

export function builtinNames(): string[] {
  return [...Object.keys(BUILTINS), 'nb201:<arch string>'];
}

/** A built-in by name (`mobilenet_v2`, `nb201:|...|`), or undefined when the name is not one. */
export function builtinArchitecture(name: string): Architecture | undefined {
  if (name.startsWith('nb201:')) return parseArchitecture(nb201Network(name.slice('nb201:'.length)), name);
  const data = BUILTINS[name];
  return data ? parseArchitecture(data, name) : undefined;
}
