import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../src/data/index.js';
import { migrateStoredConfig, parseSearchConfig } from '../src/experiment/config.js';
import { MobileSpace, SpaceError, SupernetSpace, log10SpaceSize, parseArchitecture, stageFacts } from '../src/space/index.js';
import type { Architecture, BlockArgs, SpaceSpec, StageChoices } from '../src/space/index.js';

// Stage 0: two MBConv blocks (k3 e6, 24 wide); stage 1: one k5 e4 block with SE (40 wide).
const INITIAL = parseArchitecture({
  name: 'm',
  input: '32x32x3',
  classes: 10,
  stem: ['cn_k3_c16'],
  stages: [['ir_r2_k3_s2_e6_c24'], ['ir_k5_s2_e4_c40_se0.25']],
  head: ['gap', 'fc'],
});

const blocksOf = (a: Architecture, stage: number): BlockArgs[] => a.stages[stage]!.map((e) => (e.kind === 'block' ? e.args : assert.fail('not a block')));

/** Every architecture one move and 30 samples away, checked against the stage's choices. */
function assertWithin(space: MobileSpace, choices: readonly StageChoices[]): void {
  const random = createRng(7);
  for (const a of [...space.neighbours(INITIAL), ...Array.from({ length: 30 }, () => space.sample(random))]) {
    choices.forEach((c, s) => {
      const blocks = blocksOf(a, s);
      assert.ok(blocks.length >= c.minBlocks && blocks.length <= c.maxBlocks, `stage ${s} depth ${blocks.length} in ${space.key(a)}`);
      for (const b of blocks) {
        assert.ok(c.widths.includes(b.out as number), `stage ${s} width ${b.out} in ${space.key(a)}`);
        assert.ok(c.kernels.includes(b.kernel), `stage ${s} kernel ${b.kernel} in ${space.key(a)}`);
        assert.ok(c.expansions.includes(b.expand), `stage ${s} expansion ${b.expand} in ${space.key(a)}`);
        assert.ok(c.se.includes(b.se), `stage ${s} se ${b.se} in ${space.key(a)}`);
        assert.ok((c.types as string[]).includes(b.type), `stage ${s} type ${b.type} in ${space.key(a)}`);
      }
    });
  }
}

/** The SpaceError a spec raises, or a failure. */
function spaceError(spec: SpaceSpec): SpaceError {
  try {
    new MobileSpace(INITIAL, spec);
  } catch (error) {
    if (error instanceof SpaceError) return error;
    throw error;
  }
  return assert.fail(`no SpaceError for ${JSON.stringify(spec)}`);
}

describe('the configurable mobile space', () => {
  it('with no space section: the built-in choices, widened by the initial\'s own values', () => {
    const space = new MobileSpace(INITIAL);
    const [first, second] = space.choices as [StageChoices, StageChoices];
    assert.deepEqual(first.kernels, [3, 5, 7]);
    assert.deepEqual(second.expansions, [1, 3, 4, 6], 'expansion 4 of stage 1 joins the defaults');
    assert.deepEqual(first.expansions, [1, 3, 6], 'stage 0 has no expansion 4');
    assert.deepEqual(first.widths, [16, 24, 32, 40], 'multipliers 0.5…1.5 of 24, as multiples of 8, deduplicated');
    assert.deepEqual([first.minBlocks, first.maxBlocks], [1, 4]);
    assertWithin(space, space.choices);
  });

  it('takes space-wide lists, per-stage lists over them, widths written out, and a depth range', () => {
    const spec: SpaceSpec = {
      kernels: [3, 5],
      se: [0, 0.25],
      types: ['ir'],
      stages: { '0': { expansions: [6], widths: [16, 24], depth: { min: 2, max: 3 } }, '1': { kernels: [5], widthMultipliers: [1] } },
    };
    const space = new MobileSpace(INITIAL, spec);
    const [first, second] = space.choices as [StageChoices, StageChoices];
    assert.deepEqual(first.kernels, [3, 5]);
    assert.deepEqual(second.kernels, [5]);
    assert.deepEqual(first.expansions, [6]);
    assert.deepEqual(second.expansions, [1, 3, 4, 6], 'unwritten: default and initial');
    assert.deepEqual(first.widths, [16, 24]);
    assert.deepEqual(second.widths, [40]);
    assert.deepEqual([first.minBlocks, first.maxBlocks, second.minBlocks, second.maxBlocks], [2, 3, 1, 4]);
    assertWithin(space, space.choices);
    const moves = space.neighbours(INITIAL);
    assert.ok(moves.some((a) => blocksOf(a, 0).length === 3), 'grows stage 0 to its max');
    assert.ok(!moves.some((a) => blocksOf(a, 0).length === 1), 'never shrinks stage 0 below its min');
    assert.ok(!moves.some((a) => blocksOf(a, 1).some((b) => b.kernel !== 5)), 'stage 1 keeps kernel 5');
    assert.ok(moves.some((a) => blocksOf(a, 0)[0]!.out === 16), 'narrows stage 0 to a written width');
    // A space cut down to one choice per decision leaves only the depth moves.
    const fixed = new MobileSpace(INITIAL, { types: ['ir'], kernels: [3, 5], expansions: [4, 6], se: [0, 0.25], widthMultipliers: [1], stages: { '0': { kernels: [3], expansions: [6], se: [0], depth: { min: 2, max: 2 } }, '1': { kernels: [5], expansions: [4], se: [0.25], depth: { min: 1, max: 1 } } } });
    assert.deepEqual(fixed.neighbours(INITIAL), []);
    assert.equal(log10SpaceSize(fixed.choices), 0);
  });

  it('its size: widths × Σ over depths of (choices per block)^depth, multiplied over stages', () => {
    const space = new MobileSpace(INITIAL, { types: ['ir'], kernels: [3, 5], expansions: [4, 6], se: [0, 0.25], widthMultipliers: [1], depth: { min: 1, max: 2 } });
    // Per block 1·2·2·2 = 8 choices; depth 1–2: 8 + 64 = 72 per stage, one width each.
    assert.ok(Math.abs(log10SpaceSize(space.choices) - 2 * Math.log10(72)) < 1e-12);
  });

  it('rejects a space the initial architecture does not fit, naming each place', () => {
    const error = spaceError({ kernels: [5, 7], stages: { '1': { expansions: [6], widths: [32, 48], depth: { min: 2 } }, '2': { kernels: [3] } } });
    const lines = error.message.split('\n');
    assert.equal(lines[0], 'invalid search space');
    const text = error.message;
    assert.match(text, /space\.stages\.2: the initial architecture has 2 stages \(0–1\): no stage "2"/);
    assert.match(text, /space\.kernels: stage 0 of the initial architecture has kernel 3, which \[5, 7\] leaves out/);
    assert.match(text, /space\.stages\.1\.expansions: stage 1 of the initial architecture has expansion 4/);
    assert.match(text, /space\.stages\.1\.widths: stage 1 of the initial architecture is 40 wide/);
    assert.match(text, /space\.stages\.1\.depth: stage 1 of the initial architecture has 1 block, outside 2–4/);
    assert.equal(error.issues.length, 5, text);
    assert.match(spaceError({ widthMultipliers: [0.5, 2] }).message, /space\.widthMultipliers: needs multiplier 1/);
    assert.match(spaceError({ depth: { min: 3, max: 2 } }).message, /space\.depth: max 2 is below min 3/);
  });

  it('the supernet offers the same block choices, with squeeze-excite, and one width per stage', () => {
    const spec: SpaceSpec = { kernels: [3, 5], expansions: [4, 6], se: [0, 0.25], types: ['ir', 'er'], depth: { min: 1, max: 2 } };
    const supernet = new SupernetSpace(INITIAL, spec);
    const mobile = new MobileSpace(INITIAL, { ...spec, widthMultipliers: [1] });
    assert.deepEqual(supernet.choices, mobile.choices, 'the same choices as local search given one width');
    // 2 types × 2 kernels × 2 expansions × 2 SE ratios per slot; the second slot of a stage may skip.
    assert.deepEqual(supernet.slots.map((s) => s.choices.length), [16, 17, 16, 17]);
    assert.ok(supernet.slots[0]!.choices.some((c) => c !== 'skip' && c.se === 0.25), 'a squeeze-excite choice');
    // Every path is a point of the mobile space with the same choices.
    const random = createRng(3);
    for (let i = 0; i < 20; i++) {
      const path = supernet.slots.map((s) => Math.floor(random() * s.choices.length));
      const a = supernet.architecture(path);
      assert.equal(mobile.key(a), mobile.key(mobile.fromGenes(mobile.genes(a))));
      mobile.choices.forEach((c, s) => assert.ok(blocksOf(a, s).every((b) => c.kernels.includes(b.kernel) && c.se.includes(b.se) && b.out === c.widths[0])));
    }
    const deep = new SupernetSpace(INITIAL, { ...spec, stages: { '0': { depth: { min: 2, max: 3 } } } });
    assert.deepEqual(deep.slots.filter((s) => s.stage === 0).map((s) => s.choices.includes('skip')), [false, false, true], 'slots below the min depth cannot skip');
    assert.throws(
      () => new SupernetSpace(INITIAL, { widthMultipliers: [0.5, 1] }),
      (e: Error) => e instanceof SpaceError && /space\.stages\.0: the supernet keeps one width per stage, and this space gives stage 0 2 \(16, 24\)/.test(e.message),
    );
  });

  it('the initial\'s facts: ds blocks count as MBConv without expansion', () => {
    const ds = parseArchitecture({ name: 'd', input: '16x16x1', classes: 2, stem: ['cn_k3_c8'], stages: [['ds_k3_s1_c8', 'er_k5_s1_e3_c8']], head: ['gap', 'fc'] });
    assert.deepEqual(stageFacts(ds), [{ types: ['ir', 'er'], kernels: [3, 5], expansions: [1, 3], se: [0, 0], width: 8, depth: 2 }]);
  });
});

describe('the space section of a search configuration', () => {
  it('parses lists per stage and space-wide, and rejects bad values by their path', () => {
    const config = parseSearchConfig({ space: { kernels: [3, 5], stages: { 1: { widths: [32, 40], depth: { min: 1, max: 2 } } } } });
    assert.deepEqual(config.space.kernels, [3, 5]);
    assert.deepEqual(config.space.stages?.['1']?.widths, [32, 40]);
    const bad = (space: unknown, pattern: RegExp) => assert.throws(() => parseSearchConfig({ space }), (e: Error) => pattern.test(e.message), JSON.stringify(space));
    bad({ kernels: [4] }, /space\.kernels\.0: kernels are odd/);
    bad({ kernels: [] }, /space\.kernels: list at least one value/);
    bad({ types: ['bt'] }, /space\.types\.0: Invalid option: expected one of "ir"\|"er"/);
    bad({ se: [1.5] }, /space\.se\.0/);
    bad({ widths: [16] }, /space: Unrecognized key: "widths"/);
    bad({ stages: { first: {} } }, /space\.stages\.first: key stages by their 0-based index/);
    bad({ depth: { min: 0 } }, /space\.depth\.min/);
  });

  it('a stored configuration of an earlier procnas keeps its supernet depth as the space\'s', () => {
    const old = { strategy: 'dnas', dnas: { archLr: 0.1, maxBlocks: 2 } };
    const config = parseSearchConfig(migrateStoredConfig(old));
    assert.deepEqual(config.space.depth, { max: 2 });
    assert.equal(config.dnas.archLr, 0.1);
    // Before multi-fidelity every candidate trained in full; before asynchronous local search it had a neighbourhood.
    assert.deepEqual(migrateStoredConfig({ strategy: 'local', neighbourhood: 8 }), { strategy: 'local', fidelity: { rungs: 1 }, training: { inherit: false }, prune: false });
    assert.deepEqual(migrateStoredConfig({ strategy: 'local', fidelity: { rungs: 3, eta: 3 }, training: { inherit: true }, prune: true }), { strategy: 'local', fidelity: { rungs: 3, eta: 3 }, training: { inherit: true }, prune: true });
  });
});
