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

const PATTERN = /^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(Ki|Mi|Gi|[kKMGTmuµnpf]?)(\S*)\s*$/;

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
  return { error: `cannot read "${value}" as ${dimension}: write a number with a unit in ${accepted} (with k, M, G, T, Ki, Mi, Gi, m, u, n, p prefixes)` };
}

/** Formats a number with an SI prefix, e.g. 1.2e-3 s → "1.20 ms". */
export function formatSI(value: number, unit: string, digits = 3): string {
  if (value === 0) return `0 ${unit}`;
  const steps: Array<[number, string]> = [
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
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  const found = steps.find(([s]) => bytes >= s);
  return found ? `${(bytes / found[0]).toPrecision(3)} ${found[1]}` : `${bytes} B`;
}
