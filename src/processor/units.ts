/**
 * Quantities with units, so that profiles read like datasheets: `1MiB`, `12.8GB/s`, `8pJ/bit`,
 * `100ns`, `2TMAC/s`, `30mW`. Plain numbers are taken in base units (bytes, B/s, J/B, s, MAC/s, J, W).
 */
const PREFIX: Record<string, number> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  m: 1e-3,
  u: 1e-6,
  µ: 1e-6,
  n: 1e-9,
  p: 1e-12,
  f: 1e-15,
};

export type Dimension = 'bytes' | 'bytesPerSecond' | 'joulesPerByte' | 'seconds' | 'macsPerSecond' | 'joules' | 'watts';

/** The unit forms each dimension accepts, and the factor from one unit to the base unit. */
const UNITS: Record<Dimension, Record<string, number>> = {
  bytes: { B: 1 },
  bytesPerSecond: { 'B/s': 1 },
  joulesPerByte: { 'J/B': 1, 'J/bit': 8 },
  seconds: { s: 1 },
  macsPerSecond: { 'MAC/s': 1 },
  joules: { J: 1 },
  watts: { W: 1 },
};

/**
 * The plausible physical range of each dimension: sanity bounds against typos (a latency in
 * nanoseconds written without its unit, a bandwidth in bits) and against numbers that overflow
 * the cost model (a bandwidth of 1e-300 B/s makes every DRAM time Infinity). They are generous:
 * every preset, DRAM device and calibrated profile lies well inside. A field that allows 0
 * (no latency, no row energy...) still does; a non-zero value must lie in its range.
 */
export const PLAUSIBLE: Record<Dimension, { min: number; max: number }> = {
  // SRAM, weight SRAM, burst and page: from a one-byte bus to 1 TiB (a wafer-scale chip holds 44 GB on chip).
  bytes: { min: 1, max: 1024 ** 4 },
  // DRAM bandwidth: from a microcontroller's serial external memory to far beyond a GPU's
  // HBM (8 TB/s); calibration fits within 100 kB/s to 10 TB/s.
  bytesPerSecond: { min: 1e3, max: 100e12 },
  // DRAM read/write and SRAM energy per byte: from a register file's 1 fJ/B to 10 nJ/B, 25x the
  // 46 pJ/bit of old SDR SDRAM (presets: 1.25 pJ/B to 371 pJ/B).
  joulesPerByte: { min: 1e-15, max: 1e-8 },
  // Latencies, row cycles, refresh times and intervals, launch overheads: from 1 ps (a 1 THz
  // clock; calibration fits no time below it) to 1 s per transfer or layer.
  seconds: { min: 1e-12, max: 1 },
  // MAC rates: from a 1 MHz 8-bit microcontroller multiplying in software to 1 EMAC/s, some
  // 1000x an H100's int8 peak; calibration fits rates within 100 kMAC/s to 100 PMAC/s.
  macsPerSecond: { min: 1e3, max: 1e18 },
  // Energy per MAC and per row activation: from 0.1 fJ (below in-memory computing's best MAC)
  // to 1 µJ (60x the 14.85 nJ row activation of old SDR SDRAM).
  joules: { min: 1e-16, max: 1e-6 },
  // DRAM standby and refresh power: from 1 nW (a deep power-down) to 1 kW (a large server's
  // whole DRAM draws a few hundred watts).
  watts: { min: 1e-9, max: 1e3 },
};

/** The base unit of each dimension: what a plain number means. */
export const BASE_UNIT: Record<Dimension, string> = {
  bytes: 'B',
  bytesPerSecond: 'B/s',
  joulesPerByte: 'J/B',
  seconds: 's',
  macsPerSecond: 'MAC/s',
  joules: 'J',
  watts: 'W',
};

/** A bound for a message: "1 kB/s", "100 TB/s", "1 TiB" (prefixed, trailing zeros dropped). */
export function formatLimit(value: number, dimension: Dimension): string {
  const text = dimension === 'bytes' ? formatBytes(value) : formatSI(value, BASE_UNIT[dimension]);
  return text.replace(/(\.\d*?)0+(?=\s)/, '$1').replace(/\.(?=\s)/, '');
}

/**
 * Why a non-zero value lies outside its dimension's plausible range (undefined when it does not).
 * `written` is the value as the profile wrote it, e.g. "1e-300GB/s".
 */
export function outsidePlausible(value: number, dimension: Dimension, written: number | string = value): string | undefined {
  const { min, max } = PLAUSIBLE[dimension];
  if (value >= min && value <= max) return undefined;
  const base = `${value} ${BASE_UNIT[dimension]}`;
  const shown = typeof written === 'number' ? base : `${written} (${base})`;
  return `${shown} is outside the plausible range ${formatLimit(min, dimension)} to ${formatLimit(max, dimension)}`;
}

const PATTERN = /^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(Ki|Mi|Gi|[kKMGTPEmuµnpf]?)(\S*)\s*$/;

/** Parses a quantity; returns a message naming the accepted units when it cannot. */
export function parseQuantity(value: number | string, dimension: Dimension): number | { error: string } {
  if (typeof value === 'number') return value;
  const units = UNITS[dimension];
  const match = PATTERN.exec(value);
  const accepted = Object.keys(units).join(' or ');
  if (match) {
    const [, number, prefix = '', unit = ''] = match;
    // "1MB": prefix "M" + unit "B"; but also "1m" alone would be milli-nothing: require a unit.
    const factor = units[unit];
    if (factor !== undefined) return Number(number) * (PREFIX[prefix] as number) * factor;
    // A prefix letter that is itself the start of the unit (e.g. no prefix, unit "MAC/s").
    const whole = units[`${prefix}${unit}`];
    if (whole !== undefined) return Number(number) * whole;
  }
  return { error: `cannot read "${value}" as ${dimension}: write a number with a unit in ${accepted} (with k, M, G, T, P, E, Ki, Mi, Gi, m, u, n, p, f prefixes)` };
}

/** Formats a number with an SI prefix, e.g. 1.2e-3 s → "1.20 ms". */
export function formatSI(value: number, unit: string, digits = 3): string {
  if (value === 0) return `0 ${unit}`;
  const steps: Array<[number, string]> = [
    [1e18, 'E'],
    [1e15, 'P'],
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
    [1, ''],
    [1e-3, 'm'],
    [1e-6, 'µ'],
    [1e-9, 'n'],
    [1e-12, 'p'],
  ];
  const abs = Math.abs(value);
  const [scale, prefix] = steps.find(([s]) => abs >= s) ?? steps[steps.length - 1]!;
  return `${(value / scale).toPrecision(digits)} ${prefix}${unit}`;
}

/** Formats bytes with binary prefixes: 1048576 → "1.00 MiB". */
export function formatBytes(bytes: number): string {
  const steps: Array<[number, string]> = [
    [1024 ** 4, 'TiB'],
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  const found = steps.find(([s]) => bytes >= s);
  return found ? `${(bytes / found[0]).toPrecision(3)} ${found[1]}` : `${bytes} B`;
}
