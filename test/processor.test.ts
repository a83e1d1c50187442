import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ProcessorError,
  parseProcessor,
  parseQuantity,
  presetNames,
  presetProcessor,
  resolveProcessor,
} from '../src/processor/index.js';

describe('quantities with units', () => {
  const cases: Array<[string, Parameters<typeof parseQuantity>[1], number]> = [
    ['1MiB', 'bytes', 1024 * 1024],
    ['108KiB', 'bytes', 108 * 1024],
    ['64B', 'bytes', 64],
    ['12.8GB/s', 'bytesPerSecond', 12.8e9],
    ['8pJ/bit', 'joulesPerByte', 64e-12],
    ['160pJ/B', 'joulesPerByte', 160e-12],
    ['100ns', 'seconds', 100e-9],
    ['2TMAC/s', 'macsPerSecond', 2e12],
    ['960MMAC/s', 'macsPerSecond', 960e6],
    ['1e9MAC/s', 'macsPerSecond', 1e9],
    ['0.23pJ', 'joules', 0.23e-12],
  ];
  for (const [text, dimension, value] of cases) {
    it(`${text} as ${dimension}`, () => {
      const parsed = parseQuantity(text, dimension);
      assert.equal(typeof parsed, 'number');
      assert.ok(Math.abs((parsed as number) / value - 1) < 1e-12, `${String(parsed)} vs ${value}`);
    });
  }
  it('refuses a unit of the wrong dimension, saying which units fit', () => {
    const parsed = parseQuantity('12GB/s', 'bytes');
    assert.ok(typeof parsed === 'object');
    assert.match(parsed.error, /"12GB\/s".*B/);
  });
});

describe('presets', () => {
  it('has the four kinds of processor the users deploy to', () => {
    assert.deepEqual(presetNames(), ['mobile-npu', 'edge-cpu', 'microcontroller', 'eyeriss']);
  });

  for (const name of presetNames()) {
    it(`${name} parses and names a source for every number`, () => {
      const p = presetProcessor(name);
      assert.ok(p);
      for (const field of ['sram', 'dram.bandwidth', 'dram.energy', 'dram.latency', 'dram.burst', 'compute.peak', 'compute.macEnergy', 'sramEnergy']) {
        assert.ok(p.sources[field], `${name}: source of ${field}`);
      }
      assert.ok(p.sramBytes > 0 && p.dram.bandwidth > 0 && p.compute.peakMacsPerSecond > 0);
    });
  }

  it('uses the published figures', () => {
    const npu = presetProcessor('mobile-npu')!;
    assert.equal(npu.sramBytes, 1 << 20);
    assert.equal(npu.bytesPerElement, 1);
    assert.ok(Math.abs(npu.dram.energyPerByte - 64e-12) < 1e-20, 'LPDDR4 8 pJ/bit');
    const eyeriss = presetProcessor('eyeriss')!;
    assert.equal(eyeriss.sramBytes, 108 * 1024);
    assert.equal(eyeriss.bytesPerElement, 2);
    assert.ok(Math.abs(eyeriss.dram.energyPerByte / eyeriss.compute.macEnergy - 100) < 1e-9, 'DRAM ~200x a MAC per 16-bit access');
    assert.equal(presetProcessor('edge-cpu')!.bytesPerElement, 4);
  });
});

describe('profile files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'procnas-proc-'));
  const valid = {
    name: 'my-chip',
    dtype: 'fp16',
    sram: '256KiB',
    dram: { bandwidth: '4GB/s', energy: '20pJ/bit' },
    compute: { peak: '100GMAC/s', utilisation: { depthwise: 0.1 } },
  };

  it('loads YAML with defaults for what it leaves out', () => {
    const file = join(dir, 'chip.yaml');
    writeFileSync(file, ['name: my-chip', 'dtype: fp16', 'sram: 256KiB', 'dram: { bandwidth: 4GB/s, energy: 20pJ/bit }', 'compute: { peak: 100GMAC/s, utilisation: { depthwise: 0.1 } }', ''].join('\n'));
    const p = resolveProcessor(file);
    assert.deepEqual(p, parseProcessor(valid));
    assert.equal(p.bytesPerElement, 2);
    assert.equal(p.sramBytes, 256 * 1024);
    assert.equal(p.compute.utilisation.depthwise, 0.1);
    assert.equal(p.compute.utilisation.conv, 0.7);
    assert.equal(p.fusion, 'composite');
    assert.equal(p.dram.burstBytes, 64);
  });

  it('names every bad field', () => {
    const bad = { ...valid, dtype: 'int4', sram: '-5KiB', dram: { bandwidth: '4GB', energy: '20pJ/bit' }, extra: 1 };
    assert.throws(
      () => parseProcessor(bad, 'chip.yaml'),
      (error: unknown) => {
        assert.ok(error instanceof ProcessorError);
        assert.match(error.message, /^chip\.yaml: invalid processor profile/);
        assert.match(error.message, /dtype/);
        assert.match(error.message, /sram: cannot read "-5KiB"/);
        assert.match(error.message, /dram\.bandwidth: cannot read "4GB" as bytesPerSecond/);
        assert.match(error.message, /extra/);
        return true;
      },
    );
  });

  it('says when a file is neither a preset nor readable', () => {
    assert.throws(() => resolveProcessor(join(dir, 'nope.yaml')), /neither a processor preset/);
    const file = join(dir, 'garbage.json');
    writeFileSync(file, '{ not json');
    assert.throws(() => resolveProcessor(file), /garbage\.json: cannot read processor profile/);
  });
});
