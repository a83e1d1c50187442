import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ProcessorError,
  dramDeviceNames,
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
  it('has the kinds of processor the users deploy to', () => {
    assert.deepEqual(presetNames(), ['mobile-npu', 'edge-cpu', 'microcontroller', 'stm32f746', 'eyeriss']);
  });

  for (const name of presetNames()) {
    it(`${name} parses and names a source for every number`, () => {
      const p = presetProcessor(name);
      assert.ok(p);
      const fields = ['sram', 'doubleBuffer', 'training', 'dram.bandwidth', 'dram.energy', 'dram.latency', 'dram.burst', 'compute.peak', 'compute.macEnergy', 'sramEnergy'];
      if (p.dram.pageBytes > 0) fields.push('dram.page', 'dram.banks', 'dram.rowCycle', 'dram.refresh');
      if (p.weightSramBytes > 0) fields.push('weightSram');
      if (p.flash) fields.push('flash.size', 'flash.bandwidth', 'flash.energy', 'flash.line', 'flash.latency', 'flash.executeInPlace');
      for (const field of fields) assert.ok(p.sources[field], `${name}: source of ${field}`);
      assert.ok(p.sramBytes > 0 && p.dram.bandwidth > 0 && p.compute.peakMacsPerSecond > 0);
    });
  }

  it('uses the published figures', () => {
    const npu = presetProcessor('mobile-npu')!;
    assert.equal(npu.sramBytes, 1 << 20);
    assert.equal(npu.bytesPerElement, 1);
    assert.equal(npu.accumulatorBytes, 4, 'int8 accumulates in int32');
    assert.equal(npu.training.dtype, 'fp16');
    assert.ok(Math.abs(npu.dram.bandwidth - 17.06e9) < 1e6, 'LPDDR4X-4266 x32');
    assert.equal(npu.dram.pageBytes, 2048);
    assert.ok(npu.dram.backgroundPower > 0 && npu.dram.activateEnergy > 0);
    assert.ok(npu.dram.writeEnergyPerByte < npu.dram.readEnergyPerByte, 'LPDDR4 writes cost less than reads (no read I/O drive)');
    const eyeriss = presetProcessor('eyeriss')!;
    assert.equal(eyeriss.sramBytes, 108 * 1024);
    assert.equal(eyeriss.weightSramBytes, 168 * 224 * 2, '168 PEs, 224 x 16-bit filter scratch pads');
    assert.equal(eyeriss.bytesPerElement, 2);
    assert.equal(eyeriss.accumulatorBytes, 2);
    assert.ok(Math.abs(eyeriss.dram.readEnergyPerByte / eyeriss.compute.macEnergy - 100) < 1e-9, 'DRAM ~200x a MAC per 16-bit access');
    assert.equal(presetProcessor('edge-cpu')!.bytesPerElement, 4);
    assert.equal(presetProcessor('microcontroller')!.dram.pageBytes, 1024);
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

  it('takes a named DRAM device with its sources, under the fields the profile writes', () => {
    const p = parseProcessor({ ...valid, dram: { device: 'LPDDR4-3200-x32', latency: '80ns', energy: { read: '6pJ/bit' } } });
    assert.equal(p.dram.bandwidth, 12.8e9);
    assert.equal(p.dram.latency, 80e-9);
    assert.ok(Math.abs(p.dram.readEnergyPerByte - 48e-12) < 1e-20);
    assert.ok(Math.abs(p.dram.writeEnergyPerByte - 5.03 * 8e-12) < 1e-20, 'the device keeps what the profile does not replace');
    assert.match(p.dram.device, /^lpddr4-3200-x32: /);
    assert.match(p.sources['dram.bandwidth'] ?? '', /DRAMPower/);
    assert.throws(() => parseProcessor({ ...valid, dram: { device: 'hbm9' } }, 'chip.yaml'), /^ProcessorError: chip\.yaml: invalid processor profile: dram\.device: "hbm9" is not a known DRAM device \(lpddr4x-4266-x32, lpddr4-3200-x32, ddr4-2400-x64, sdr-100-x32\); name one, or give the device's bandwidth and energy$/);
  });

  for (const device of dramDeviceNames()) {
    it(`DRAM device ${device} gives every DRAM field, each with its source`, () => {
      const p = parseProcessor({ ...valid, dram: { device } });
      for (const field of ['bandwidth', 'burst', 'page', 'banks', 'rowCycle', 'refresh', 'energy']) assert.ok(p.sources[`dram.${field}`], `${device}: source of dram.${field}`);
      assert.ok(p.dram.pageBytes > 0 && p.dram.rowCycle > 0 && p.dram.refreshFraction > 0 && p.dram.refreshFraction < 0.15, device);
      assert.ok(p.dram.activateEnergy > 0 && p.dram.backgroundPower > 0, device);
      // Datasheet energies land in the range the literature gives per bit (4 to 50 pJ/bit).
      const perBit = p.dram.readEnergyPerByte / 8;
      assert.ok(perBit > 4e-12 && perBit < 50e-12, `${device}: ${perBit}`);
    });
  }

  it('reads one energy per byte as reads and writes alike, without rows or standby (profiles before v2)', () => {
    const p = parseProcessor(valid);
    assert.equal(p.dram.readEnergyPerByte, p.dram.writeEnergyPerByte);
    assert.equal(p.dram.activateEnergy, 0);
    assert.equal(p.dram.backgroundPower, 0);
    assert.equal(p.dram.pageBytes, 0);
    assert.equal(p.doubleBuffer, true);
    assert.equal(p.training.dtype, 'fp32');
    assert.equal(parseProcessor({ ...valid, fusion: 'greedy' }).fusion, 'depth-first');
  });

  it('refuses a refresh that takes longer than its interval, and an unknown training precision', () => {
    assert.throws(() => parseProcessor({ ...valid, dram: { ...valid.dram, refresh: { time: '5us', interval: '4us' } } }), /dram\.refresh: the refresh time must be shorter/);
    assert.throws(() => parseProcessor({ ...valid, training: { dtype: 'int8' } }), /training\.dtype/);
  });

  it('says when a file is neither a preset nor readable', () => {
    assert.throws(() => resolveProcessor(join(dir, 'nope.yaml')), /nope\.yaml: no such file, and not a processor preset/);
    const file = join(dir, 'garbage.json');
    writeFileSync(file, '{ not json');
    assert.throws(() => resolveProcessor(file), /garbage\.json: cannot read processor profile/);
  });
});
