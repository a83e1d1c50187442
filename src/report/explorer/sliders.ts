/**
 * The profile's sliders: each moves one field on a log scale (SRAM sizes and DRAM figures span
 * orders of magnitude, and a linear slider would give all its travel to the largest). Shared by
 * the page, which draws them, and the client, which maps a position to the field's value.
 */
import { formatBytes, formatSI, parseQuantity } from '../../processor/units.js';
import type { Dimension } from '../../processor/units.js';
import type { ExplorerChange, ProfileRecord } from './state.js';

export interface LogSlider {
  /** The <input type="range">'s id; the value beside it is `${id}-value`. */
  id: string;
  label: string;
  dimension: Dimension;
  /** Positions are log-`base` of the value, from `min` to `max` by `step`. */
  base: 2 | 10;
  min: number;
  max: number;
  step: number;
  /** The value a position stands for, rounded to what a datasheet would write. */
  valueAt(position: number): number;
  format(value: number): string;
  change(value: number): ExplorerChange;
  /** The field as the profile holds it (a number in base units, or a quantity with its unit). */
  field(profile: ProfileRecord): unknown;
}

/** Three significant digits: 10^9.05 B/s is shown, and stored, as 1.12 GB/s. */
const threeDigits = (value: number): number => Number(value.toPrecision(3));

function member(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as ProfileRecord)[key] : undefined;
}

/** A DRAM energy: the part named, or the one figure a profile may give for reads and writes alike. */
function dramEnergy(profile: ProfileRecord, part: 'read' | 'write'): unknown {
  const energy = member(profile.dram, 'energy');
  if (typeof energy !== 'object' || energy === null) return energy;
  const parts = energy as ProfileRecord;
  return part === 'write' ? (parts.write ?? parts.read) : parts.read;
}

/** DRAM read or write energy per byte, 0.1 pJ/B to 1 nJ/B on a log scale. */
function energySlider(access: 'read' | 'write'): LogSlider {
  return {
    id: `${access}-energy`,
    label: `DRAM ${access} energy`,
    dimension: 'joulesPerByte',
    base: 10,
    min: -13,
    max: -9,
    step: 0.05,
    valueAt: (position) => threeDigits(10 ** position),
    format: (value) => formatSI(value, 'J/B'),
    change: (value) => (access === 'read' ? { dramReadEnergy: value } : { dramWriteEnergy: value }),
    field: (profile) => dramEnergy(profile, access),
  };
}

export const SLIDERS: LogSlider[] = [
  {
    id: 'sram',
    label: 'SRAM',
    dimension: 'bytes',
    base: 2,
    // 1 KiB to 256 MiB in quarter octaves.
    min: 10,
    max: 28,
    step: 0.25,
    // Whole KiB: 2^16.25 B is 76 KiB.
    valueAt: (position) => 1024 * Math.round(2 ** position / 1024),
    format: formatBytes,
    change: (value) => ({ sramBytes: value }),
    field: (profile) => profile.sram,
  },
  {
    id: 'bandwidth',
    label: 'DRAM bandwidth',
    dimension: 'bytesPerSecond',
    base: 10,
    // 1 MB/s (a serial memory) to 1 TB/s (HBM).
    min: 6,
    max: 12,
    step: 0.05,
    valueAt: (position) => threeDigits(10 ** position),
    format: (value) => formatSI(value, 'B/s'),
    change: (value) => ({ dramBandwidth: value }),
    field: (profile) => member(profile.dram, 'bandwidth'),
  },
  // 0.1 pJ/B to 1 nJ/B: the presets lie between 20 pJ/B and 371 pJ/B.
  energySlider('read'),
  energySlider('write'),
];

/** The field's value in base units, or undefined when it is missing or cannot be read (the profile's check then says why). */
export function fieldValue(slider: LogSlider, profile: ProfileRecord): number | undefined {
  const raw = slider.field(profile);
  if (typeof raw !== 'number' && typeof raw !== 'string') return undefined;
  const parsed = parseQuantity(raw, slider.dimension);
  return typeof parsed === 'number' && Number.isFinite(parsed) && parsed > 0 ? parsed : undefined;
}

/** The slider's position nearest a value, within its travel. */
export function positionOf(slider: LogSlider, value: number): number {
  const position = Math.log(value) / Math.log(slider.base);
  const stepped = slider.min + Math.round((position - slider.min) / slider.step) * slider.step;
  return Math.min(slider.max, Math.max(slider.min, stepped));
}
