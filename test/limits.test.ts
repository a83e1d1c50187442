/**
 * Issue 14, "accepted, with insane output": extreme but finite inputs (a bandwidth of 1e-300 B/s,
 * an expansion of 1e-300) are refused with the file and the field, and whatever is accepted
 * costs to finite, non-negative figures.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { estimateCost, nonFiniteFigure } from '../src/cost/index.js';
import { createRng } from '../src/data/index.js';
import {
  DRAM_DEVICES,
  PLAUSIBLE,
  ProcessorError,
  TRAINING_DTYPES,
  dramDeviceNames,
  loadProcessorFile,
  parseProcessor,
  presetNames,
  presetProcessor,
  profileData,
} from '../src/processor/index.js';
import type { Dimension, Processor } from '../src/processor/index.js';
import { ArchitectureError, builtinArchitecture, lower, parseArchitecture } from '../src/space/index.js';
import type { LayerGraph } from '../src/space/index.js';

// fp32, as its training (the default): the training figures are the inference ones, not scaled.
const valid = {
  name: 'my-chip',
  dtype: 'fp32',
  sram: '64KiB',
  dram: { bandwidth: '1GB/s', energy: '20pJ/bit' },
  compute: { peak: '10GMAC/s' },
};

/** `valid` with one field (a dotted path) set to a value. */
function withField(path: string, value: unknown): Record<string, unknown> {
  const data = structuredClone(valid) as Record<string, unknown>;
  const keys = path.split('.');
  let at = data;
  for (const key of keys.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
    at = at[key] as Record<string, unknown>;
  }
  at[keys[keys.length - 1] as string] = value;
  return data;
}

/** Asserts that parsing refuses the data with a ProcessorError naming the source and the field. */
function refused(data: unknown, field: string, why: RegExp = /is outside the plausible range/): string {
  let message = '';
  assert.throws(
    () => parseProcessor(data, 'chip.yaml'),
    (error: unknown) => {
      assert.ok(error instanceof ProcessorError, `${field}: a ProcessorError, got ${String(error)}`);
      message = error.message;
      assert.ok(message.startsWith('chip.yaml: invalid processor profile'), `${field}: the message names the file first: ${message}`);
      const line = message.split('\n').find((l) => l.includes(`${field}: `));
      assert.ok(line, `${field}: a line names the field: ${message}`);
      assert.match(line, why, `${field}: says why`);
      return true;
    },
    `${field}: refused`,
  );
  return message;
}

/** Each field that takes a quantity, its dimension, and whether 0 is allowed. */
const FIELDS: Array<[string, Dimension, boolean]> = [
  ['sram', 'bytes', false],
  ['weightSram', 'bytes', true],
  ['dram.bandwidth', 'bytesPerSecond', false],
  ['dram.burst', 'bytes', false],
  ['dram.page', 'bytes', true],
  ['dram.latency', 'seconds', true],
  ['dram.rowCycle', 'seconds', true],
  ['dram.energy', 'joulesPerByte', false],
  ['dram.energy.read', 'joulesPerByte', false],
  ['dram.energy.write', 'joulesPerByte', false],
  ['dram.energy.activate', 'joules', true],
  ['dram.energy.background', 'watts', true],
  ['dram.refresh.interval', 'seconds', false],
  ['compute.peak', 'macsPerSecond', false],
  ['compute.macEnergy', 'joules', true],
  ['compute.layerOverhead', 'seconds', true],
  ['training.peak', 'macsPerSecond', false],
  ['training.macEnergy', 'joules', true],
  ['sramEnergy', 'joulesPerByte', true],
];

/** The data with `field` set to `value`, and what a sub-field needs beside it. */
function profileWith(field: string, value: number): Record<string, unknown> {
  if (field.startsWith('dram.energy.')) {
    const energy: Record<string, unknown> = { read: '20pJ/bit' };
    energy[field.slice('dram.energy.'.length)] = value;
    return withField('dram.energy', energy);
  }
  if (field === 'dram.refresh.interval') return withField('dram.refresh', { time: 0, interval: value });
  return withField(field, value);
}

describe('plausible ranges of profile fields', () => {
  it('refuses the issue\'s profile, naming the file, the field, the value, the unit and the range', () => {
    const message = refused(withField('dram.bandwidth', 1e-300), 'dram.bandwidth');
    assert.match(message, /dram\.bandwidth: 1e-300 B\/s is outside the plausible range 1 kB\/s to 100 TB\/s/);
  });

  for (const [field, dimension] of FIELDS) {
    it(`refuses ${field} below and above its range (${dimension}), and takes both bounds`, () => {
      const { min, max } = PLAUSIBLE[dimension];
      for (const bad of [1e-300, min / 2, max * 2, 1e300]) refused(profileWith(field, bad), field);
      for (const bound of [min, max]) {
        assert.doesNotThrow(() => parseProcessor(profileWith(field, bound), 'chip.yaml'), `${field} = ${bound}`);
      }
    });
  }

  it('refuses Infinity (YAML .inf) as out of range, and still refuses negatives and zero where it was refused', () => {
    assert.match(refused(withField('dram.bandwidth', Number.POSITIVE_INFINITY), 'dram.bandwidth'), /Infinity B\/s is outside/);
    refused(withField('dram.bandwidth', true), 'dram.bandwidth', /expected a number or a quantity with its unit, got true/);
    refused({ ...valid, sram: undefined }, 'sram', /required/);
    refused(withField('dram.bandwidth', -1), 'dram.bandwidth', /must be positive/);
    refused(withField('dram.bandwidth', 0), 'dram.bandwidth', /must be positive/);
    refused(withField('sram', 0), 'sram', /must be positive/);
    refused(withField('compute.peak', 0), 'compute.peak', /must be positive/);
  });

  it('keeps 0 where the field allows it', () => {
    for (const [field, , zero] of FIELDS) {
      if (zero) assert.doesNotThrow(() => parseProcessor(profileWith(field, 0), 'chip.yaml'), `${field} = 0`);
    }
  });

  it('shows a quantity with units as written and in base units', () => {
    const message = refused(withField('dram.latency', '100000ms'), 'dram.latency');
    assert.match(message, /dram\.latency: 100000ms \(100 s\) is outside the plausible range 1 ps to 1 s/);
  });

  it('refuses training figures scaled out of range from the inference ones, saying which to write', () => {
    // int8 → fp32: a quarter of the MAC rate, four times the energy per MAC.
    const slow = { ...withField('compute.peak', 2e3), dtype: 'int8' };
    refused(slow, 'training.peak', /compute\.peak scaled from int8 to fp32 \(500 MAC\/s\) is outside .*write training\.peak/);
    assert.doesNotThrow(() => parseProcessor({ ...slow, training: { peak: 2e3 } }), 'an explicit training peak in range');
    refused({ ...withField('compute.macEnergy', 0.5e-6), dtype: 'int8' }, 'training.macEnergy', /write training\.macEnergy/);
  });

  it('refuses a utilisation that leaves a kind of work slower than 1 MAC/s', () => {
    refused(withField('compute.utilisation', { depthwise: 1e-300 }), 'compute.utilisation.depthwise', /runs at .* MAC\/s, below the slowest plausible rate of 1 MAC\/s/);
    assert.doesNotThrow(() => parseProcessor(withField('compute.utilisation', { depthwise: 1e-6 })), '10 GMAC/s x 1e-6 = 10 kMAC/s');
  });

  it('names the file of a profile read from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procnas-limits-'));
    const file = join(dir, 'x.json');
    writeFileSync(file, JSON.stringify({ ...valid, dram: { bandwidth: 1e-300, energy: '20pJ/bit' } }));
    assert.throws(() => loadProcessorFile(file), (error: unknown) => {
      assert.ok(error instanceof ProcessorError, 'a ProcessorError');
      assert.ok(error.message.startsWith(`${file}: `), `starts with the file: ${error.message}`);
      assert.match(error.message, /dram\.bandwidth: 1e-300 B\/s is outside/);
      return true;
    });
  });

  for (const name of presetNames()) {
    it(`preset ${name} lies inside the ranges, and so does its written form`, () => {
      const p = presetProcessor(name);
      assert.ok(p, `${name} parses`);
      assert.deepEqual(parseProcessor(profileData(p), name), p);
    });
  }

  for (const device of dramDeviceNames()) {
    it(`DRAM device ${device} lies inside the ranges`, () => {
      assert.doesNotThrow(() => parseProcessor({ ...valid, dram: { device } }), device);
      assert.ok(DRAM_DEVICES[device], device);
    });
  }

  it("README's example profile lies inside the ranges", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /## Processor profiles\n\n```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block, 'the README shows a profile');
    // Its calibration block is elided ("{ ... }").
    const data: unknown = parseYaml(block.split('\n').filter((line) => !line.startsWith('calibration:')).join('\n'));
    assert.doesNotThrow(() => parseProcessor(data, 'README'), 'the example parses');
  });
});

describe('expansions that give no channels, or too many', () => {
  const architecture = (stage: unknown[]): LayerGraph => lower(parseArchitecture({ input: '32x32x3', classes: 10, stages: [stage], head: ['gap', 'fc'] }, 'net.yaml'));

  const cases: Array<[string, unknown, RegExp]> = [
    ['bt_e1e-300_c16', 'bt_e1e-300_c16', /stages\[0\]\[0\]: 16 channels over expansion 1e-300 gives 1\.6e\+301 channels, more than the 1048576/],
    ['ir_e1e-300_c16', 'ir_e1e-300_c16', /stages\[0\]\[0\]: expansion 1e-300 of 3 channels gives 0 channels, fewer than one/],
    ['er_e0.1_c16', 'er_e0.1_c16', /stages\[0\]\[0\]: expansion 0\.1 of 3 channels gives 0 channels/],
    ['{ type: ir, expand: 1e-300 }', { type: 'ir', expand: 1e-300, out: 16 }, /stages\[0\]\[0\]: expansion 1e-300 of 3 channels gives 0 channels/],
    ['{ type: bt, expand: 1e-300 }', { type: 'bt', expand: 1e-300, out: 16 }, /stages\[0\]\[0\]: 16 channels over expansion 1e-300 gives 1\.6e\+301 channels/],
    ['bt_e1024_c16', 'bt_e1024_c16', /stages\[0\]\[0\]: 16 channels over expansion 1024 gives 0\.0156 channels, fewer than one/],
    ['ir_e2000_c16', 'ir_e2000_c16', /stages\[0\]\[0\]: expansion must be at most 1024, got "2000"/],
    ['{ type: ir, expand: 2000 }', { type: 'ir', expand: 2000, out: 16 }, /stages\[0\]\[0\]\.expand: .*1024/],
  ];
  for (const [what, block, why] of cases) {
    it(`refuses ${what}, naming the file and the block`, () => {
      assert.throws(
        () => architecture([block]),
        (error: unknown) => {
          assert.ok(error instanceof ArchitectureError, `an ArchitectureError, got ${String(error)}`);
          assert.ok(error.message.startsWith('net.yaml: invalid architecture'), `names the file first: ${error.message}`);
          assert.match(error.message, why);
          return true;
        },
      );
    });
  }

  it('refuses the width a block made by a search gets, not only what a file says', () => {
    const graph = parseArchitecture({ input: '32x32x3', classes: 10, stages: [['ir_e6_c16']], head: ['gap', 'fc'] });
    const entry = graph.stages[0]![0]!;
    assert.ok(entry.kind === 'block', 'a block entry');
    entry.args.expand = 1e-300;
    assert.throws(() => lower(graph), /stages\[0\]\[0\]: expansion 1e-300 of 3 channels gives 0 channels/);
  });

  it('takes the largest expansion where it gives a sane width', () => {
    const g = architecture(['ir_e1024_c16']);
    assert.ok(g.layers.some((l) => l.name.endsWith('expand') && g.tensors[l.output]!.c === 3 * 1024), 'a 3072-channel expansion');
  });
});

describe('cost figures stay finite', () => {
  it('nonFiniteFigure names a figure that is Infinity, NaN or negative, and nothing in a sane report', () => {
    const g = lower(builtinArchitecture('mobilenet_v2')!);
    const p = presetProcessor('mobile-npu')!;
    assert.equal(nonFiniteFigure(estimateCost(g, p)), undefined);
    // Processors that skip the schema: what the guard at the edge is for.
    const stalled: Processor = { ...p, dram: { ...p.dram, bandwidth: 0 } };
    assert.match(nonFiniteFigure(estimateCost(g, stalled)) ?? '', /^dram\.timeS is (Infinity|NaN)$/);
    const negative: Processor = { ...p, dram: { ...p.dram, readEnergyPerByte: -1 } };
    assert.match(nonFiniteFigure(estimateCost(g, negative)) ?? '', /^dram\.energyJ is negative/);
  });

  // A seeded search over profiles at and inside the edges of every range: whatever the schema
  // takes, the totals are finite and non-negative.
  it('gives finite, non-negative totals for random profiles anywhere in the ranges', () => {
    const rnd = createRng(14);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    /** At a bound a third of the time each, else log-uniform in between; 0 sometimes where allowed. */
    const draw = (dimension: Dimension, zero = false): number => {
      const { min, max } = PLAUSIBLE[dimension];
      const u = rnd();
      if (zero && u < 0.15) return 0;
      if (u < 0.4) return min;
      if (u < 0.7) return max;
      return Math.min(max, Math.max(min, min * (max / min) ** rnd()));
    };
    const tiny = lower(parseArchitecture({ input: '8x8x1', classes: 2, stages: [['ir_k3_s2_e6_c4_se0.25']], head: ['gap', 'fc'] }));
    const mobilenet = lower(builtinArchitecture('mobilenet_v2')!);
    for (let trial = 0; trial < 24; trial++) {
      const peak = draw('macsPerSecond');
      const refresh = draw('seconds');
      // Each utilisation keeps its kind of work at 1 MAC/s or more, as the schema asks.
      const utilisation = () => Math.min(1, Math.max(2 / peak, rnd() < 0.3 ? 0 : rnd()));
      const data = {
        name: `random-${trial}`,
        dtype: pick(['int8', 'int16', 'fp16', 'bf16', 'fp32'] as const),
        sram: draw('bytes'),
        weightSram: draw('bytes', true),
        doubleBuffer: rnd() < 0.5,
        mappingObjective: pick(['time', 'energy', 'edp', 'traffic'] as const),
        dram: {
          bandwidth: draw('bytesPerSecond'),
          burst: draw('bytes'),
          page: draw('bytes', true),
          banks: 1 + Math.floor(rnd() * 32),
          rowCycle: draw('seconds', true),
          latency: draw('seconds', true),
          // A refresh time of 0, or one in range and shorter than the interval.
          ...(rnd() < 0.5 ? { refresh: { time: refresh > 2 * PLAUSIBLE.seconds.min && rnd() < 0.7 ? Math.max(PLAUSIBLE.seconds.min, refresh * 0.99 * rnd()) : 0, interval: refresh } } : {}),
          energy: { read: draw('joulesPerByte'), write: draw('joulesPerByte'), activate: draw('joules', true), background: draw('watts', true) },
        },
        compute: {
          peak,
          macEnergy: draw('joules', true),
          layerOverhead: draw('seconds', true),
          utilisation: { conv: utilisation(), pointwise: utilisation(), depthwise: utilisation(), dense: utilisation(), elementwise: utilisation() },
        },
        training: { dtype: pick(TRAINING_DTYPES), peak: draw('macsPerSecond'), macEnergy: draw('joules', true) },
        sramEnergy: draw('joulesPerByte', true),
        fusion: pick(['none', 'composite', 'depth-first'] as const),
      };
      const p = parseProcessor(data, `trial ${trial}`);
      for (const [name, graph] of [['tiny', tiny], ['mobilenet_v2', mobilenet]] as const) {
        for (const mode of ['inference', 'training'] as const) {
          const batch = pick([1, 7, 256]);
          const report = estimateCost(graph, p, { mode, batch });
          const insane = nonFiniteFigure(report);
          assert.equal(insane, undefined, `trial ${trial}, ${name}, ${mode} at batch ${batch}: ${insane} with ${JSON.stringify(data)}`);
        }
      }
    }
  });
});
