import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ArchitectureError,
  architectureToData,
  builtinArchitecture,
  loadArchitectureFile,
  lower,
  nb201Network,
  parseArchitecture,
  parseBlock,
  parseNb201String,
  printBlock,
  printNb201String,
  resolveArchitecture,
} from '../src/space/index.js';
import type { ArchitectureData } from '../src/space/index.js';

const NB201_TABLE = new URL('../../shared/data/nb201/accuracy.json', import.meta.url);

function built(name: string) {
  const architecture = builtinArchitecture(name);
  assert.ok(architecture, `built-in ${name}`);
  return lower(architecture);
}

/** Runs `body` and returns the ArchitectureError it throws. */
function archError(body: () => unknown): ArchitectureError {
  try {
    body();
  } catch (error) {
    assert.ok(error instanceof ArchitectureError, `expected ArchitectureError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an ArchitectureError');
}

describe('built-in networks match their reference parameter counts exactly', () => {
  const cases: Array<[string, number]> = [
    ['mobilenet_v2', 3_504_872],
    ['resnet18', 11_689_512],
    ['resnet34', 21_797_672],
    ['resnet50', 25_557_032],
    ['mnasnet_a1', 3_887_038],
  ];
  for (const [name, params] of cases) {
    it(name, () => assert.equal(built(name).params, params));
  }

  it('MACs agree with the published figures', () => {
    // torchvision: MobileNetV2 0.30 GMACs, ResNet-18 1.81 G, ResNet-34 3.66 G, ResNet-50 4.09 G; MnasNet-A1 312 M.
    const within = (value: number, expected: number, tolerance: number) =>
      assert.ok(Math.abs(value / expected - 1) < tolerance, `${value} vs ${expected}`);
    within(built('mobilenet_v2').macs, 300e6, 0.01);
    within(built('resnet18').macs, 1.81e9, 0.01);
    within(built('resnet34').macs, 3.66e9, 0.01);
    within(built('resnet50').macs, 4.09e9, 0.01);
    within(built('mnasnet_a1').macs, 312e6, 0.01);
  });

  it('the all-none NAS-Bench-201 network has 73,306 params and 7,783,050 MACs', () => {
    const g = built('nb201:|none~0|+|none~0|none~1|+|none~0|none~1|none~2|');
    assert.equal(g.params, 73_306);
    assert.equal(g.macs, 7_783_050);
  });

  it('every NAS-Bench-201 network lies in the published ranges, ends exactly at both', () => {
    const table = JSON.parse(readFileSync(NB201_TABLE, 'utf8')) as Record<string, unknown>;
    const keys = Object.keys(table);
    assert.equal(keys.length, 15_625);
    let minParams = Infinity;
    let maxParams = 0;
    let minMacs = Infinity;
    let maxMacs = 0;
    for (const key of keys) {
      const g = lower(parseArchitecture(nb201Network(key)));
      minParams = Math.min(minParams, g.params);
      maxParams = Math.max(maxParams, g.params);
      minMacs = Math.min(minMacs, g.macs);
      maxMacs = Math.max(maxMacs, g.macs);
    }
    assert.equal(minParams, 73_306);
    assert.equal(maxParams, 1_531_546);
    assert.equal(minMacs, 7_783_050);
    assert.equal(Math.round(maxMacs / 1e4) / 100, 220.12);
  });

  it('ImageNet16-120 uses the 16x16 skeleton with 120 classes', () => {
    const g = lower(parseArchitecture(nb201Network('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|', 'ImageNet16-120')));
    assert.deepEqual(g.input, { h: 16, w: 16, c: 3 });
    // Only the classifier differs from CIFAR-10: Linear(64, 120) instead of Linear(64, 10).
    assert.equal(g.params, 73_306 - 650 + 64 * 120 + 120);
  });
});

describe('block notation', () => {
  it('parses every field', () => {
    const a = parseBlock('ir_r2_k5_s2_e6_c24_se0.25_nhs_noskip_d2');
    assert.deepEqual(
      { ...a },
      { type: 'ir', repeat: 2, kernel: 5, stride: 2, expand: 6, out: 24, se: 0.25, act: 'hswish', skip: false, dilation: 2, groups: 1, countIncludePad: false },
    );
  });

  it('prints canonically and round-trips', () => {
    for (const text of [
      'ir_r2_k3_s2_e6_c24',
      'ir_r1_k5_s1_e3_c40_se0.25',
      'ds_r1_k3_s1_c16_noskip',
      'er_r1_k3_s2_e4_c48_nsw',
      'cn_r1_k3_s2_c32_nid_g2',
      'rb_r2_s2_c128',
      'bt_r3_s1_c256',
      'bt_r3_s1_e2_c256',
      'nb_r5_o312043',
      'nr_s2_c32',
      'mp_k3_s2',
      'ap_k3_s1_cip',
      'gap',
      'fc_c10',
      'fc',
      'ba_nre',
    ]) {
      assert.equal(printBlock(parseBlock(text)), text);
      assert.deepEqual(parseBlock(printBlock(parseBlock(text))), parseBlock(text));
    }
  });

  it('orders options canonically whatever order they were written in', () => {
    assert.equal(printBlock(parseBlock('ir_c24_e6_s2_k3_r2')), 'ir_r2_k3_s2_e6_c24');
  });

  it('rejects bad blocks with the reason and the place', () => {
    assert.match(archError(() => parseBlock('xr_r2', 'stages[1][0]')).message, /stages\[1\]\[0\].*unknown block type "xr"/);
    assert.match(archError(() => parseBlock('ir_k0')).message, /kernel must be an integer from 1 to/);
    assert.match(archError(() => parseBlock('gap_k3')).message, /option "k3" does not apply to "gap"/);
    assert.match(archError(() => parseBlock('ir_k3_k5')).message, /given twice/);
    assert.match(archError(() => parseBlock('ir_nzz')).message, /unknown activation "zz"/);
    assert.match(archError(() => parseBlock('nb_o3333')).message, /six digits/);
    assert.match(archError(() => parseBlock('nb_r5')).message, /needs its ops/);
  });

  it('NAS-Bench-201 strings map to cell digits and back', () => {
    const text = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
    assert.equal(parseNb201String(text), '334131');
    assert.equal(printNb201String('334131'), text);
    assert.match(archError(() => parseNb201String('|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|')).message, /unknown op "conv"/);
    assert.match(archError(() => parseNb201String('|none~1|+|none~0|none~1|+|none~0|none~1|none~2|')).message, /must come from node 0/);
    for (const loose of ['none~0|+|none~0|none~1|+|none~0|none~1|none~2|', '|none~0||+|none~0|none~1|+|none~0|none~1|none~2|', '|none~0~7|+|none~0|none~1|+|none~0|none~1|none~2|']) {
      assert.throws(() => parseNb201String(loose), ArchitectureError, loose);
    }
  });
});

const tiny = (stages: unknown[][], extra: Partial<Record<string, unknown>> = {}): unknown => ({
  name: 'tiny',
  input: '32x32x3',
  classes: 10,
  stem: ['cn_k3_s1_c16'],
  stages,
  head: ['gap', 'fc'],
  ...extra,
});

describe('architecture validation', () => {
  it('names the path of a bad field', () => {
    const error = archError(() => parseArchitecture(tiny([[{ type: 'ir', out: -3 }]])));
    assert.equal(error.issues[0]?.path, 'stages[0][0].out');
    assert.match(error.message, /stages\[0\]\[0\]\.out/);
  });

  it('reports every bad entry at once', () => {
    const error = archError(() => parseArchitecture(tiny([['ir_k3_c16', 'zz_k3'], [{ type: 'ir', kernel: 0 }]])));
    assert.deepEqual(
      error.issues.map((i) => i.path),
      ['stages[0][1]', 'stages[1][0].kernel'],
    );
  });

  it('rejects unknown keys, unknown ops and an empty network', () => {
    assert.match(archError(() => parseArchitecture({ ...(tiny([['gap']]) as object), colour: 'red' })).message, /colour/);
    const unknownOp = archError(() =>
      parseArchitecture(tiny([[{ graph: { nodes: [{ id: 'a', op: 'convolve', inputs: ['in'] }], output: 'a' } }]])),
    );
    assert.equal(unknownOp.issues[0]?.path, 'stages[0][0].graph.nodes[0].op');
    assert.match(archError(() => parseArchitecture(tiny([]))).message, /at least one stage/);
  });

  it('rejects a residual across different shapes, naming the block and the shapes', () => {
    const graph = {
      nodes: [
        { id: 'a', op: 'conv', kernel: 3, stride: 2, out: 16, inputs: ['in'] },
        { id: 'y', op: 'add', inputs: ['a', 'in'] },
      ],
      output: 'y',
    };
    const error = archError(() => lower(parseArchitecture(tiny([['ir_k3_c16'], [{ graph }]]))));
    assert.match(error.message, /stages\[1\]\[0\].*cannot add tensors of different shapes 16x16x16 and 32x32x16/);
  });

  it('rejects a dense layer on a feature map and a network that does not end in the classes', () => {
    assert.match(
      archError(() => lower(parseArchitecture(tiny([['ir_k3_c16']], { head: ['fc'] })))).message,
      /head\[0\].*needs a 1x1 input.*gap/,
    );
    assert.match(archError(() => lower(parseArchitecture(tiny([['ir_k3_c16']], { head: ['gap'] })))).message, /must end in 1x1x10/);
  });

  it('rejects a resolution that collapses, naming the repeated block', () => {
    const graph = { nodes: [{ id: 'a', op: 'conv', kernel: 5, pad: 0, out: 16, inputs: ['in'] }], output: 'a' };
    const error = archError(() => lower(parseArchitecture(tiny([[{ graph, repeat: 4 }]], { input: '16x16x3' }))));
    assert.match(error.message, /stages\[0\]\[0\] \(block 4 of 4\).*5x5 window with stride 1 and padding 0 does not fit a 4x4 input/);
  });

  it('rejects a depthwise or dilated convolution with no output, naming the layer', () => {
    const one = (node: Record<string, unknown>): string => {
      const graph = { nodes: [{ id: 'narrow', inputs: ['in'], ...node }], output: 'narrow' };
      return archError(() => lower(parseArchitecture(tiny([[{ graph }]], { input: '5x5x8' })))).message;
    };
    assert.match(one({ op: 'dwconv', kernel: 7, pad: 0 }), /stages\[0\]\[0\].*narrow: a 7x7 window with stride 1 and padding 0 does not fit a 5x5 input/);
    assert.match(
      one({ op: 'conv', kernel: 3, dilation: 3, pad: 0, out: 8 }),
      /narrow: a 3x3 window with dilation 3 \(a 7x7 field\) with stride 1 and padding 0 does not fit a 5x5 input/,
    );
  });

  it('applies the block-construction rules: stride on the first block, residual only where shapes match', () => {
    const g = lower(parseArchitecture(tiny([['ir_r3_k3_s2_e6_c24']])));
    const blocks = g.composites.filter((c) => c.part === 'stage');
    assert.deepEqual(
      blocks.map((c) => c.notation),
      ['ir_r1_k3_s2_e6_c24', 'ir_r1_k3_s1_e6_c24', 'ir_r1_k3_s1_e6_c24'],
    );
    const adds = blocks.map((c) => g.layers.slice(c.firstLayer, c.endLayer).filter((l) => l.kind === 'add').length);
    assert.deepEqual(adds, [0, 1, 1]);
    const noskip = lower(parseArchitecture(tiny([['ir_r2_k3_s1_e6_c16_noskip']])));
    assert.equal(noskip.layers.filter((l) => l.kind === 'add').length, 0);
  });

  it('builds user-defined graph composites with branches and concat', () => {
    const graph = {
      name: 'two-branch',
      nodes: [
        { id: 'a', op: 'conv', kernel: 3, out: 8, inputs: ['in'] },
        { id: 'b', op: 'dwconv', kernel: 5, inputs: ['in'] },
        { id: 'c', op: 'concat', inputs: ['a', 'b'] },
        { id: 'd', op: 'pwconv', out: 16, inputs: ['c'] },
        { id: 'e', op: 'se', ratio: 0.25, inputs: ['d'] },
        { id: 'y', op: 'add', inputs: ['e', 'in'] },
      ],
      output: 'y',
    };
    const g = lower(parseArchitecture(tiny([[{ graph, repeat: 2 }]])));
    const stage = g.composites.filter((c) => c.part === 'stage');
    assert.equal(stage.length, 2);
    assert.equal(stage[0]?.notation, 'graph:two-branch');
    const perBlock = 9 * 16 * 8 + 25 * 16 + 24 * 16 + (2 * 16 * 4 + 16 + 4);
    const stem = 27 * 16 + 32;
    const head = 16 * 10 + 10;
    assert.equal(g.params, stem + 2 * perBlock + head);
  });

  it('rejects fields that do not apply, and sizes that are typos', () => {
    assert.equal(archError(() => parseArchitecture(tiny([[{ type: 'rb', out: 32, dilation: 2 }]]))).issues[0]?.path, 'stages[0][0].dilation');
    assert.match(archError(() => parseArchitecture(tiny([[{ type: 'gap', kernel: 7 }]]))).message, /"kernel" does not apply to a "gap" block/);
    const node = { graph: { nodes: [{ id: 'a', op: 'relu', kernel: 3, inputs: ['in'] }], output: 'a' } };
    assert.match(archError(() => lower(parseArchitecture(tiny([[node]])))).message, /"kernel" does not apply to "relu"/);
    assert.match(archError(() => parseBlock('cn_c99999999999999999999')).message, /channels must be an integer from 1 to/);
    assert.match(archError(() => parseBlock('ir_e6_c8_se2')).message, /squeeze-excite ratio must be at most 1/);
    assert.match(archError(() => parseBlock('ir_se')).message, /squeeze-excite ratio must be a positive number/);
    const pool = { graph: { nodes: [{ id: 'p', op: 'maxpool', kernel: 3, pad: 2, inputs: ['in'] }], output: 'p' } };
    assert.match(archError(() => lower(parseArchitecture(tiny([[pool]])))).message, /padding 2 must be at most half/);
  });

  it('names the file in errors found while lowering', () => {
    const error = archError(() => lower(parseArchitecture(tiny([['cn_g3_c9']]), 'net.yaml')));
    assert.match(error.message, /^net\.yaml: invalid architecture: stages\[0\]\[0\]: conv: groups 3 must divide/);
  });

  it('an inverted residual with any expansion other than 1 has an expansion conv', () => {
    const g = lower(parseArchitecture(tiny([['ir_k3_e1.05_c16']])));
    assert.ok(g.layers.some((l) => l.name.endsWith('expand')));
  });

  it('rejects graph nodes that read an unknown or later node', () => {
    const graph = { nodes: [{ id: 'a', op: 'relu', inputs: ['b'] }, { id: 'b', op: 'relu', inputs: ['in'] }], output: 'b' };
    assert.match(archError(() => lower(parseArchitecture(tiny([[{ graph }]])))).message, /input "b" is not "in" or an earlier node/);
  });
});

describe('architecture files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'procnas-space-'));

  it('loads YAML and JSON, and writes back what it read', () => {
    const yamlFile = join(dir, 'net.yaml');
    writeFileSync(
      yamlFile,
      ['name: net', 'input: 32x32x3', 'classes: 10', 'act: relu6', 'stem: [cn_k3_s2_c16]', 'stages:', '  - [ir_r2_k3_s2_e6_c24, ir_k5_e3_c24]', '  - [{type: ds, kernel: 3, out: 32}]', 'head: [gap, fc]', ''].join('\n'),
    );
    const fromYaml = loadArchitectureFile(yamlFile);
    const data = architectureToData(fromYaml);
    assert.deepEqual(data.stages, [['ir_r2_k3_s2_e6_c24', 'ir_r1_k5_s1_e3_c24'], ['ds_r1_k3_s1_c32']]);
    const jsonFile = join(dir, 'net.json');
    writeFileSync(jsonFile, JSON.stringify(data));
    const fromJson = resolveArchitecture(jsonFile);
    assert.deepEqual({ ...fromJson, source: '' }, { ...fromYaml, source: '' });
    assert.equal(fromJson.source, jsonFile);
    assert.equal(lower(fromJson).params, lower(fromYaml).params);
  });

  it('says which file is broken and why', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'name: [unclosed\n');
    assert.match(archError(() => loadArchitectureFile(file)).message, /broken\.yaml.*not valid YAML/s);
    assert.match(archError(() => resolveArchitecture(join(dir, 'missing.yaml'))).message, /missing\.yaml: invalid architecture: no such file, and not a built-in network/);
  });

  it('reads an architecture kept under `architecture` (a run\'s best.json), naming its fields by that path', () => {
    const file = join(dir, 'best.json');
    const architecture = architectureToData(builtinArchitecture('mnasnet_a1')!);
    writeFileSync(file, JSON.stringify({ architecture, index: 3, error: 0.1, initial: { index: 0 } }));
    assert.deepEqual(architectureToData(loadArchitectureFile(file)), architecture);
    writeFileSync(file, JSON.stringify({ architecture: { ...architecture, classes: -1 }, index: 3 }));
    assert.match(archError(() => loadArchitectureFile(file)).message, /best\.json: invalid architecture: architecture\.classes: /);
    // A file with stages of its own is an architecture, whatever else it holds.
    writeFileSync(file, JSON.stringify({ ...architecture, architecture: { notes: 1 } }));
    assert.match(archError(() => loadArchitectureFile(file)).message, /invalid architecture: Unrecognized key: "architecture"/);
  });

  it('every built-in survives a round trip through its file form', () => {
    for (const name of ['mobilenet_v2', 'mnasnet_a1', 'resnet50', 'mnist-mbconv', 'nb201:|nor_conv_1x1~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|']) {
      const architecture = builtinArchitecture(name)!;
      const again = parseArchitecture(JSON.parse(JSON.stringify(architectureToData(architecture))) as ArchitectureData);
      assert.equal(lower(again).params, lower(architecture).params, name);
      assert.equal(lower(again).macs, lower(architecture).macs, name);
    }
  });
});
