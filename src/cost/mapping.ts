/**
 * The mapping of one layer at the DRAM↔SRAM boundary, searched in the manner of Timeloop and
 * ZigZag (our own formulation):
 *
 * A layer is a loop nest over batch N, groups G, output channels K and input channels C (per
 * group), and output rows P and columns Q (the kernel window stays whole inside a tile). A
 * mapping cuts every loop into a tile loop inside the SRAM and a trip loop above it, and orders
 * the trip loops. Three operands: two read, one accumulated (the output of the forward pass,
 * the input gradient, the weight gradient).
 *
 * Traffic follows from relevance. N, P and Q index the same operands (the activations, not the
 * weights), so they form one loop class X beside K and C; G indexes all three and sits outermost,
 * where it refetches nothing. An operand is fetched again for every iteration of a loop that
 * does not index it but sits above the innermost loop that does (a loop of one trip is nowhere).
 * The innermost class thus names the stationary operand: X innermost keeps the weights, C the
 * output, K the input. When the accumulated operand is refetched, its reduction was split:
 * partial sums leave the chip at accumulator precision and come back. A windowed operand's tiles
 * overlap by the window's halo, re-read with every tile.
 *
 * Every tile size of a fixed candidate set is tried against the SRAM (half of it when double
 * buffered: the other half prefetches), so a smaller SRAM can only remove mappings: the cost
 * never falls as the SRAM shrinks. The objective (DRAM time, energy, or their product) is the
 * profile's. Results are memoised per processor and loop nest.
 *
 * A weight-shaped operand may come from flash instead (a microcontroller executing in place):
 * its sweeps are then priced at the flash's rates and counted apart, and its tiles still have
 * to fit on chip (the weight store when the processor has one: the core's data cache).
 */
import type { Processor } from '../processor/index.js';
import type { DramDevice } from '../processor/index.js';
import { NO_ACCESS, accessTime, burstsOf, rowsOf } from './dram.js';
import type { Access } from './dram.js';
import { flashDevice } from './flash.js';

/** Loop classes, as bits of an operand's relevance mask. */
export const LOOP_K = 1;
export const LOOP_C = 2;
export const LOOP_X = 4;

export type OperandName = 'input' | 'weights' | 'output' | 'output gradient' | 'input gradient' | 'weight gradient';

export interface Operand {
  name: OperandName;
  /** LOOP_K | LOOP_C for weight-shaped operands; LOOP_X and one channel class for activations. */
  relevance: number;
  /** Bytes per element in DRAM. */
  bytes: number;
  /** The operand the nest accumulates into; its partial sums have `partialBytes` per element. */
  accumulated?: { partialBytes: number };
  /** A windowed activation: its tiles take the halo of the kernel window. */
  window?: 'forward' | 'transposed';
  /** Read from flash rather than DRAM (weights executed in place); the processor must have flash. */
  flash?: boolean;
}

export type Pass = 'forward' | 'input-gradient' | 'weight-gradient';

/** A size along each loop: batch, groups, output and input channels per group, output rows and columns. */
export interface Extents {
  n: number;
  g: number;
  k: number;
  c: number;
  p: number;
  q: number;
}

/** A tile: how much of each loop the SRAM holds at once. */
export type Tile = Extents;

/** A layer's loop nest: its extents (p and q are the rows and columns the X loops run over), operands and window. */
export interface LoopNest extends Extents {
  pass: Pass;
  /** Elements of a weight-shaped operand per (k, c) pair: the kernel's area. */
  kernelArea: number;
  /** The window (effective kernel extent with dilation), its stride and padding, and the extents of the windowed operand. */
  kernel: number;
  stride: number;
  pad: number;
  rows: number;
  cols: number;
  operands: readonly [Operand, Operand, Operand];
  /** Compute time of the pass, for the energy and energy-delay objectives. */
  computeS: number;
}

export interface OperandTraffic {
  name: OperandName;
  readBytes: number;
  writeBytes: number;
  /** Read from flash, not DRAM. */
  flash: boolean;
}

export interface Mapping {
  pass: Pass;
  tile: Tile;
  /** The operand that stays on chip while the innermost trip loop runs. */
  stationary: OperandName | 'everything';
  operands: OperandTraffic[];
  /** Bytes of SRAM the tiles occupy (both halves when double buffered). */
  footprintBytes: number;
  /** DRAM accesses, split into reads and writes. */
  reads: Access;
  writes: Access;
  /** DRAM seconds. */
  timeS: number;
  /** DRAM dynamic and row energy (standby power is the caller's). */
  energyJ: number;
  /** Reads from flash (weights executed in place), their seconds and joules; none without. */
  flashReads: Access;
  flashS: number;
  flashJ: number;
}

/** Candidate tiles of a loop, smallest first: those of 1, 2, 3, 4, 6, 8, 12, 16, 24, ... trips, and of one element. */
function tileCandidates(extent: number): number[] {
  const tiles: number[] = [];
  const add = (trips: number): void => {
    const tile = Math.ceil(extent / trips);
    if (tiles[tiles.length - 1] !== tile) tiles.push(tile);
  };
  for (let trips = 1; trips < extent; trips *= 2) {
    add(trips);
    if (trips >= 2 && (3 * trips) / 2 < extent) add((3 * trips) / 2);
  }
  add(extent);
  return tiles.reverse();
}

/** Distinct rows of the windowed operand read by `trips` tiles over `out` rows. */
function windowRowsRead(kind: 'forward' | 'transposed', out: number, trips: number, extent: number, kernel: number, stride: number, pad: number): number {
  if (kind === 'transposed') {
    // Each gradient row band needs the output-gradient rows that reach it, overlapping the next band's by ⌈(k−1)/s⌉.
    return Math.min(trips * extent, extent + (trips - 1) * Math.ceil((kernel - 1) / stride));
  }
  // Rows the whole output needs, inside the input (padding is not read)...
  let needed: number;
  if (stride >= kernel) {
    needed = 0;
    for (let o = 0; o < out; o++) {
      const first = o * stride - pad;
      needed += Math.max(0, Math.min(extent, first + kernel) - Math.max(0, first));
    }
  } else {
    needed = Math.min(extent, (out - 1) * stride - pad + kernel) - Math.max(0, -pad);
  }
  // ...and the halo every further band reads again.
  return Math.min(trips * extent, needed + (trips - 1) * Math.max(0, kernel - stride));
}

/** Rows of the windowed operand one tile of `tile` rows holds. */
function windowRowsHeld(kind: 'forward' | 'transposed', tile: number, extent: number, kernel: number, stride: number): number {
  if (kind === 'transposed') return Math.min(extent, Math.ceil((tile + kernel - 1) / stride));
  return Math.min(extent, stride >= kernel ? tile * kernel : (tile - 1) * stride + kernel);
}

/** Loop-class orders (outermost first) of the trip loops. */
const CLASS_ORDERS: ReadonlyArray<readonly [number, number, number]> = [
  [LOOP_K, LOOP_C, LOOP_X],
  [LOOP_C, LOOP_K, LOOP_X],
  [LOOP_K, LOOP_X, LOOP_C],
  [LOOP_X, LOOP_K, LOOP_C],
  [LOOP_C, LOOP_X, LOOP_K],
  [LOOP_X, LOOP_C, LOOP_K],
];

/** How often an operand is fetched: trips of the loops above its innermost relevant loop that do not index it. */
function refetches(order: readonly [number, number, number], trips: readonly number[], relevance: number): number {
  let innermost = -1;
  for (let i = 0; i < 3; i++) {
    const cls = order[i] as number;
    if (relevance & cls && (trips[cls] as number) > 1) innermost = i;
  }
  let m = 1;
  for (let i = 0; i < innermost; i++) {
    const cls = order[i] as number;
    if (!(relevance & cls)) m *= trips[cls] as number;
  }
  return m;
}

/** The operand that stays on chip under the innermost loop class that runs. */
function stationaryOf(nest: LoopNest, order: readonly [number, number, number], trips: readonly number[]): OperandName | 'everything' {
  for (let i = 2; i >= 0; i--) {
    const cls = order[i] as number;
    if ((trips[cls] as number) > 1) return nest.operands.find((o) => !(o.relevance & cls))?.name ?? 'everything';
  }
  return 'everything';
}

const plus = (a: Access, b: Access): Access => ({ bytes: a.bytes + b.bytes, bursts: a.bursts + b.bursts, rows: a.rows + b.rows, transfers: a.transfers + b.transfers });
const times = (a: Access, m: number): Access => ({ bytes: a.bytes * m, bursts: a.bursts * m, rows: a.rows * m, transfers: a.transfers * m });

/**
 * One loop nest's mapping space on one processor. Candidate tiles are indices into per-loop
 * candidate lists; everything that depends on one loop's tile alone is tabulated per candidate,
 * so that trying a mapping is a few dozen multiplications.
 */
class MappingSpace {
  readonly gs: number[];
  readonly ks: number[];
  readonly cs: number[];
  readonly ns: number[];
  readonly ps: number[];
  readonly qs: number[];
  /** Per operand: rows and columns one tile holds, and rows and columns a sweep reads, per candidate. */
  private readonly heldRows: number[][];
  private readonly heldCols: number[][];
  private readonly readRows: number[][];
  private readonly readCols: number[][];
  /** Per operand: the device it lives in (DRAM, or flash); seconds per burst, per row opened, per transfer; joules per burst read and written, per row. */
  private readonly devices: DramDevice[];
  private readonly tBurst: number[];
  private readonly tRow: number[];
  private readonly tTransfer: number[];
  private readonly eRead: number[];
  private readonly eWrite: number[];
  private readonly eRow: number[];

  constructor(
    readonly nest: LoopNest,
    readonly p: Processor,
  ) {
    this.gs = nest.g > 1 ? tileCandidates(nest.g) : [1];
    this.ks = tileCandidates(nest.k);
    this.cs = tileCandidates(nest.c);
    this.ns = tileCandidates(nest.n);
    this.ps = tileCandidates(nest.p);
    this.qs = tileCandidates(nest.q);
    const held = (o: Operand, tiles: number[], extent: number) =>
      tiles.map((t) => (o.window ? windowRowsHeld(o.window, t, extent, nest.kernel, nest.stride) : t));
    const read = (o: Operand, tiles: number[], extent: number, out: number) =>
      tiles.map((t) => (o.window ? windowRowsRead(o.window, out, Math.ceil(out / t), extent, nest.kernel, nest.stride, nest.pad) : out));
    this.heldRows = nest.operands.map((o) => held(o, this.ps, nest.rows));
    this.heldCols = nest.operands.map((o) => held(o, this.qs, nest.cols));
    this.readRows = nest.operands.map((o) => read(o, this.ps, nest.rows, nest.p));
    this.readCols = nest.operands.map((o) => read(o, this.qs, nest.cols, nest.q));
    this.devices = nest.operands.map((o) => {
      if (!o.flash) return p.dram;
      if (!p.flash) throw new RangeError(`${o.name} is to be read from flash, but processor ${p.name} has none`);
      return flashDevice(p.flash);
    });
    const busy = (d: DramDevice) => 1 / (1 - d.refreshFraction);
    this.tBurst = this.devices.map((d) => (busy(d) * d.burstBytes) / d.bandwidth);
    this.tRow = this.devices.map((d) => (busy(d) * d.rowCycle) / d.banks);
    // Prefetched transfers hide their latency behind the previous tile's work.
    this.tTransfer = this.devices.map((d) => (p.doubleBuffer ? 0 : d.latency));
    this.eRead = this.devices.map((d) => d.burstBytes * d.readEnergyPerByte);
    this.eWrite = this.devices.map((d) => d.burstBytes * d.writeEnergyPerByte);
    this.eRow = this.devices.map((d) => d.activateEnergy);
  }

  /** Bytes per element of an operand's tile: partial sums are wider while the reduction is split. */
  private tileBytes(i: number, t: Tile, atLeast: boolean): number {
    const o = this.nest.operands[i] as Operand;
    if (!o.accumulated) return o.bytes;
    if (atLeast) return Math.min(o.bytes, o.accumulated.partialBytes);
    const n = this.nest;
    const split =
      (!(o.relevance & LOOP_K) && t.k < n.k) ||
      (!(o.relevance & LOOP_C) && t.c < n.c) ||
      (!(o.relevance & LOOP_X) && (t.n < n.n || t.p < n.p || t.q < n.q));
    return split ? o.accumulated.partialBytes : o.bytes;
  }

  /**
   * SRAM bytes of the tiles with candidate indices (pi, qi) for rows and columns: in the shared
   * SRAM, and in the weight buffer when the processor has one (weight-shaped operands bypass the
   * shared SRAM then). With `atLeast`, a lower bound that only grows with every tile, so that a
   * loop over growing tiles may stop at the first that does not fit.
   */
  private occupancy(t: Tile, pi: number, qi: number, atLeast: boolean): [number, number] {
    const n = this.nest;
    let shared = 0;
    let weights = 0;
    for (let i = 0; i < 3; i++) {
      const o = n.operands[i] as Operand;
      const r = o.relevance;
      if (r & LOOP_X) {
        shared += t.n * t.g * (r & LOOP_K ? t.k : t.c) * (this.heldRows[i]![pi] as number) * (this.heldCols[i]![qi] as number) * this.tileBytes(i, t, atLeast);
      } else {
        const bytes = t.g * (r & LOOP_K ? t.k : 1) * (r & LOOP_C ? t.c : 1) * n.kernelArea * this.tileBytes(i, t, atLeast);
        if (this.p.weightSramBytes > 0) weights += bytes;
        else shared += bytes;
      }
    }
    const buffers = this.p.doubleBuffer ? 2 : 1;
    return [buffers * shared, buffers * weights];
  }

  /** Bytes the tiles occupy on chip, both buffers of a double buffer counted. */
  footprint(t: Tile, pi: number, qi: number): number {
    const [shared, weights] = this.occupancy(t, pi, qi, false);
    return shared + weights;
  }

  /** Whether the tiles fit on chip (`atLeast`: whether they may, by a bound that grows with every tile). */
  fits(t: Tile, pi: number, qi: number, atLeast = false): boolean {
    const [shared, weights] = this.occupancy(t, pi, qi, atLeast);
    return shared <= this.p.sramBytes && weights <= this.p.weightSramBytes;
  }

  /**
   * One sweep over all tiles of operand i at `bytes` per element, into `out`: bytes, bursts,
   * rows opened, transfers. Scalar, for the search's inner loop.
   */
  private sweepInto(i: number, t: Tile, pi: number, qi: number, bytes: number, out: Float64Array): void {
    const n = this.nest;
    const o = n.operands[i] as Operand;
    const r = o.relevance;
    const device = this.devices[i] as DramDevice;
    const tripsG = Math.ceil(n.g / t.g);
    if (!(r & LOOP_X)) {
      // Weight-shaped: laid out offline tile after tile, each tile one aligned run.
      const total = n.g * (r & LOOP_K ? n.k : 1) * (r & LOOP_C ? n.c : 1) * n.kernelArea * bytes;
      const tiles = tripsG * (r & LOOP_K ? Math.ceil(n.k / t.k) : 1) * (r & LOOP_C ? Math.ceil(n.c / t.c) : 1);
      out[0] = total;
      out[1] = total > 0 ? burstsOf(device, tiles, total / tiles, true, bytes) : 0;
      out[2] = total > 0 ? rowsOf(device, tiles, total / tiles, total / tiles) : 0;
      out[3] = total > 0 ? tiles : 0;
      return;
    }
    const ch = r & LOOP_K ? n.k : n.c;
    const tch = r & LOOP_K ? t.k : t.c;
    const rows = o.window ? n.rows : n.p;
    const cols = o.window ? n.cols : n.q;
    const tileRows = this.heldRows[i]![pi] as number;
    const tileCols = this.heldCols[i]![qi] as number;
    const tiles = Math.ceil(n.n / t.n) * tripsG * Math.ceil(ch / tch) * Math.ceil(n.p / t.p) * Math.ceil(n.q / t.q);
    const totalChannels = n.g * ch;
    const total = n.n * totalChannels * (this.readRows[i]![pi] as number) * (this.readCols[i]![qi] as number) * bytes;
    // NHWC: a tile's contiguous run is a pixel's channels, a row of pixels, or whole rows.
    const tileChannels = tch < ch ? tch : t.g * ch;
    const pixel = totalChannels * bytes;
    let run: number;
    let pitch: number;
    if (tileChannels < totalChannels) {
      run = tileChannels * bytes;
      pitch = pixel;
    } else if (tileCols < cols) {
      run = tileCols * pixel;
      pitch = cols * pixel;
    } else {
      run = tileRows * cols * pixel;
      pitch = rows * cols * pixel;
    }
    const count = total / run;
    const burst = device.burstBytes;
    out[0] = total;
    out[1] = burstsOf(device, count, run, pitch % burst === 0 && run % burst === 0, bytes);
    out[2] = rowsOf(device, count, run, pitch);
    out[3] = tiles;
  }

  private readonly scratch = new Float64Array(4);

  /** One sweep over all tiles of operand i, at `bytes` per element. */
  sweep(i: number, t: Tile, pi: number, qi: number, bytes: number): Access {
    const s = this.scratch;
    this.sweepInto(i, t, pi, qi, bytes, s);
    return { bytes: s[0] as number, bursts: s[1] as number, rows: s[2] as number, transfers: s[3] as number };
  }

  /** Seconds and joules (read or written) of operand i's sweep in the scratch. */
  private scratchSeconds(i: number): number {
    const s = this.scratch;
    return (s[1] as number) * (this.tBurst[i] as number) + (s[2] as number) * (this.tRow[i] as number) + (s[3] as number) * (this.tTransfer[i] as number);
  }

  private scratchJoules(i: number, write: boolean): number {
    const s = this.scratch;
    return (s[1] as number) * ((write ? this.eWrite[i] : this.eRead[i]) as number) + (s[2] as number) * (this.eRow[i] as number);
  }

  private seconds(device: DramDevice, a: Access): number {
    return accessTime(device, a, this.p.doubleBuffer);
  }

  private joules(device: DramDevice, a: Access, write: boolean): number {
    return a.bursts * device.burstBytes * (write ? device.writeEnergyPerByte : device.readEnergyPerByte) + a.rows * device.activateEnergy;
  }

  private score(timeS: number, energyJ: number, bytes: number): number {
    const { p, nest } = this;
    switch (p.mappingObjective) {
      case 'traffic':
        return bytes;
      case 'time':
        return timeS;
      case 'energy':
        return energyJ + p.dram.backgroundPower * Math.max(timeS, nest.computeS);
      case 'edp': {
        const elapsed = Math.max(timeS, nest.computeS);
        return (energyJ + p.dram.backgroundPower * elapsed) * elapsed;
      }
    }
  }

  private readonly sweepTime = new Float64Array(3);
  private readonly sweepEnergy = new Float64Array(3);
  private readonly sweepBytes = new Float64Array(3);
  private readonly tripsScratch = [0, 0, 0, 0, 0];

  /** The best loop order of one tile: its score and the order's index. */
  bestOrder(t: Tile, pi: number, qi: number): { score: number; order: number } {
    const n = this.nest;
    const trips = this.tripsInto(t, this.tripsScratch);
    const time = this.sweepTime;
    const energy = this.sweepEnergy;
    const bytes = this.sweepBytes;
    let spillTime = 0;
    let spillEnergy = 0;
    let spillBytes = 0;
    for (let i = 0; i < 3; i++) {
      const o = n.operands[i] as Operand;
      this.sweepInto(i, t, pi, qi, o.bytes, this.scratch);
      time[i] = this.scratchSeconds(i);
      energy[i] = this.scratchJoules(i, o.accumulated !== undefined);
      bytes[i] = this.scratch[0] as number;
      if (o.accumulated) {
        this.sweepInto(i, t, pi, qi, o.accumulated.partialBytes, this.scratch);
        spillTime = 2 * this.scratchSeconds(i);
        spillEnergy = this.scratchJoules(i, true) + this.scratchJoules(i, false);
        spillBytes = 2 * (this.scratch[0] as number);
      }
    }
    let bestScore = Infinity;
    let bestOrder = 0;
    for (let index = 0; index < CLASS_ORDERS.length; index++) {
      const order = CLASS_ORDERS[index] as readonly [number, number, number];
      let timeS = 0;
      let energyJ = 0;
      let moved = 0;
      for (let i = 0; i < 3; i++) {
        const o = n.operands[i] as Operand;
        const m = refetches(order, trips, o.relevance);
        if (o.accumulated) {
          timeS += (time[i] as number) + (m - 1) * spillTime;
          energyJ += (energy[i] as number) + (m - 1) * spillEnergy;
          moved += (bytes[i] as number) + (m - 1) * spillBytes;
        } else {
          timeS += m * (time[i] as number);
          energyJ += m * (energy[i] as number);
          moved += m * (bytes[i] as number);
        }
      }
      const score = this.score(timeS, energyJ, moved);
      if (score < bestScore) {
        bestScore = score;
        bestOrder = index;
      }
    }
    return { score: bestScore, order: bestOrder };
  }

  private tripsInto(t: Tile, trips: number[]): number[] {
    const n = this.nest;
    trips[LOOP_K] = Math.ceil(n.k / t.k);
    trips[LOOP_C] = Math.ceil(n.c / t.c);
    trips[LOOP_X] = Math.ceil(n.n / t.n) * Math.ceil(n.p / t.p) * Math.ceil(n.q / t.q);
    return trips;
  }

  trips(t: Tile): number[] {
    return this.tripsInto(t, [0, 0, 0, 0, 0]);
  }

  /** The full description of one mapping. */
  describe(t: Tile, pi: number, qi: number, orderIndex: number): Mapping {
    const n = this.nest;
    const order = CLASS_ORDERS[orderIndex] as readonly [number, number, number];
    const trips = this.trips(t);
    let reads = NO_ACCESS;
    let writes = NO_ACCESS;
    let flashReads = NO_ACCESS;
    const operands: OperandTraffic[] = n.operands.map((o, i) => {
      const m = refetches(order, trips, o.relevance);
      const sweep = this.sweep(i, t, pi, qi, o.bytes);
      if (o.accumulated) {
        // The last pass writes the result; each earlier one spills partial sums, read back by the next.
        const spill = times(this.sweep(i, t, pi, qi, o.accumulated.partialBytes), m - 1);
        writes = plus(plus(writes, sweep), spill);
        reads = plus(reads, spill);
        return { name: o.name, readBytes: spill.bytes, writeBytes: sweep.bytes + spill.bytes, flash: false };
      }
      const fetched = times(sweep, m);
      if (o.flash) flashReads = plus(flashReads, fetched);
      else reads = plus(reads, fetched);
      return { name: o.name, readBytes: fetched.bytes, writeBytes: 0, flash: o.flash === true };
    });
    const flash = this.p.flash ? flashDevice(this.p.flash) : undefined;
    return {
      pass: n.pass,
      tile: t,
      stationary: stationaryOf(n, order, trips),
      operands,
      footprintBytes: this.footprint(t, pi, qi),
      reads,
      writes,
      timeS: this.seconds(this.p.dram, plus(reads, writes)),
      energyJ: this.joules(this.p.dram, reads, false) + this.joules(this.p.dram, writes, true),
      flashReads,
      flashS: flash ? this.seconds(flash, flashReads) : 0,
      flashJ: flash ? this.joules(flash, flashReads, false) : 0,
    };
  }
}

/** Loop classes by name, outermost first: `['k', 'c', 'x']` keeps the weights, `['k', 'x', 'c']` the output. */
export type LoopOrder = readonly ['k' | 'c' | 'x', 'k' | 'c' | 'x', 'k' | 'c' | 'x'];

/**
 * One given mapping of a loop nest (its tiles among the search's candidates), whether or not
 * it fits: to compare a mapping of one's own with the search's.
 */
export function evaluateMapping(nest: LoopNest, p: Processor, tile: Tile, order: LoopOrder): Mapping {
  const space = new MappingSpace(nest, p);
  const pi = space.ps.indexOf(tile.p);
  const qi = space.qs.indexOf(tile.q);
  if (pi < 0 || qi < 0) throw new RangeError(`tile rows ${tile.p} or columns ${tile.q} is not among the candidates (${space.ps.join(', ')}; ${space.qs.join(', ')})`);
  const classes = { k: LOOP_K, c: LOOP_C, x: LOOP_X };
  const index = CLASS_ORDERS.findIndex((o) => o.every((cls, i) => cls === classes[order[i] as 'k' | 'c' | 'x']));
  if (index < 0) throw new RangeError(`${order.join(', ')} is not an order of the three loop classes`);
  return space.describe(tile, pi, qi, index);
}

/** The best mapping of a loop nest on the processor's SRAM. */
export function searchMapping(nest: LoopNest, p: Processor): Mapping {
  const space = new MappingSpace(nest, p);
  const { gs, ks, cs, ns, ps, qs } = space;
  let best: { score: number; tile: Tile; pi: number; qi: number; order: number } | undefined;
  const consider = (t: Tile, pi: number, qi: number): void => {
    const { score, order } = space.bestOrder(t, pi, qi);
    if (!best || score < best.score) best = { score, tile: t, pi, qi, order };
  };
  const last = (xs: number[]) => xs.length - 1;
  const full: Tile = { n: nest.n, g: nest.g, k: nest.k, c: nest.c, p: nest.p, q: nest.q };
  // Everything on chip at once: the compulsory traffic, nothing can beat it.
  if (space.fits(full, last(ps), last(qs))) {
    consider(full, last(ps), last(qs));
  } else {
    const room = (t: Tile, pi: number, qi: number): boolean => space.fits(t, pi, qi, true);
    for (const g of gs) {
      if (!room({ n: 1, g, k: 1, c: 1, p: 1, q: 1 }, 0, 0)) break;
      for (const k of ks) {
        if (!room({ n: 1, g, k, c: 1, p: 1, q: 1 }, 0, 0)) break;
        for (const c of cs) {
          if (!room({ n: 1, g, k, c, p: 1, q: 1 }, 0, 0)) break;
          for (const n of ns) {
            if (!room({ n, g, k, c, p: 1, q: 1 }, 0, 0)) break;
            // Rows grow, so the widest column tile that fits can only shrink: one pass down the columns.
            // More columns never cost more, so only the widest is tried.
            let qi = qs.length - 1;
            for (let pi = 0; pi < ps.length; pi++) {
              const rows = ps[pi] as number;
              if (!room({ n, g, k, c, p: rows, q: 1 }, pi, 0)) break;
              while (qi >= 0 && !space.fits({ n, g, k, c, p: rows, q: qs[qi] as number }, pi, qi)) qi--;
              if (qi < 0) break;
              consider({ n, g, k, c, p: rows, q: qs[qi] as number }, pi, qi);
            }
            // The whole of the X loops in one tile: the weight gradient then holds finished sums,
            // narrower than partial ones, so this tile may fit where slightly smaller ones did not.
            const all = { n, g, k, c, p: nest.p, q: nest.q };
            if (n === nest.n && qi < qs.length - 1 && space.fits(all, ps.length - 1, qs.length - 1)) {
              consider(all, ps.length - 1, qs.length - 1);
            }
          }
        }
      }
    }
  }
  // Not even one output of one channel fits: the smallest tiles anyway (the kernel window and
  // the partial sums live in registers), the worst mapping of all, so smaller SRAMs stay dearer.
  if (!best) consider({ n: 1, g: 1, k: 1, c: 1, p: 1, q: 1 }, 0, 0);
  const chosen = best as unknown as { tile: Tile; pi: number; qi: number; order: number };
  return space.describe(chosen.tile, chosen.pi, chosen.qi, chosen.order);
}

/**
 * Mappings by what they depend on in a processor (its SRAM, weight store, double buffering,
 * objective and DRAM device): processors that differ elsewhere (fusion, compute) share them.
 */
const memo = new Map<string, Map<string, Mapping>>();
const tables = new WeakMap<Processor, Map<string, Mapping>>();
const fingerprints = new WeakMap<Processor, string>();

function tableOf(p: Processor): Map<string, Mapping> {
  let table = tables.get(p);
  if (!table || !memo.has(fingerprints.get(p) as string)) {
    const fingerprint = JSON.stringify([p.sramBytes, p.weightSramBytes, p.doubleBuffer, p.mappingObjective, p.dram, p.flash ?? null]);
    fingerprints.set(p, fingerprint);
    table = memo.get(fingerprint);
    if (!table) {
      if (memo.size > 1000) memo.clear();
      table = new Map();
      memo.set(fingerprint, table);
    }
    tables.set(p, table);
  }
  return table;
}

/** A stable key of everything a mapping depends on besides the processor. */
function nestKey(nest: LoopNest): string {
  const o = nest.operands.map((x) => `${x.name}:${x.relevance}:${x.bytes}:${x.accumulated?.partialBytes ?? 0}:${x.window ?? ''}:${x.flash ? 'f' : ''}`).join(',');
  return `${nest.pass}|${nest.n},${nest.g},${nest.k},${nest.c},${nest.p},${nest.q}|${nest.kernelArea},${nest.kernel},${nest.stride},${nest.pad},${nest.rows},${nest.cols}|${nest.computeS}|${o}`;
}

/** Forgets every memoised mapping (for benchmarks that measure the cold path). */
export function forgetMappings(): void {
  memo.clear();
}

/** searchMapping, memoised per processor and loop nest (networks repeat few layer shapes). */
export function mapLayer(nest: LoopNest, p: Processor): Mapping {
  const table = tableOf(p);
  const key = nestKey(nest);
  let mapping = table.get(key);
  if (!mapping) {
    mapping = searchMapping(nest, p);
    if (table.size > 200_000) table.clear();
    table.set(key, mapping);
  }
  return mapping;
}
