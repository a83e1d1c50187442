/**
 * The DRAM device model: what moving a tile costs, beyond its bytes.
 *
 * - Data moves in bursts. A tile is a set of contiguous runs in DRAM (NHWC activations: one run
 *   per pixel when a tile holds some of the channels, per row of pixels when it holds all of
 *   them, per image when it holds whole rows); a run that does not start on a burst boundary
 *   touches one burst more than its bytes fill.
 * - Rows (pages) open and close. Within a run, a new row opens every page; between runs, the
 *   next run opens a new row unless it starts in the row just used. An activation costs energy,
 *   and time that the other banks' transfers hide but for 1/banks of it.
 * - Each transfer (one tile moved) pays the access latency, unless transfers are prefetched
 *   (double buffering): then the next tile's latency hides behind this one's work, and only the
 *   first of a layer is exposed.
 * - Refresh takes the device away for tRFC of every tREFI.
 * Read and write bursts cost different energy; standby and refresh power accrue over the elapsed
 * time of the whole network and are added by the caller (model.ts).
 */
import type { DramDevice } from '../processor/index.js';

/** One tensor's accesses in one sweep over its tiles. */
export interface Access {
  /** Bytes the layer asked for. */
  bytes: number;
  /** Bursts on the bus (bytes moved = bursts × burst size). */
  bursts: number;
  /** Rows opened. */
  rows: number;
  /** DRAM transfers (tiles). */
  transfers: number;
}

export const NO_ACCESS: Access = Object.freeze({ bytes: 0, bursts: 0, rows: 0, transfers: 0 });

/**
 * Bursts touched by `count` runs of `run` bytes. Aligned runs start on a burst boundary; the
 * others at a random element-aligned offset, touching 1 + (run - element) / burst on average.
 */
export function burstsOf(device: DramDevice, count: number, run: number, aligned: boolean, element: number): number {
  const burst = device.burstBytes;
  return count * (aligned ? Math.ceil(run / burst) : 1 + Math.max(0, run - element) / burst);
}

/**
 * Rows opened by `count` runs of `run` bytes, each starting `pitch` bytes after the previous:
 * the first, one per page boundary inside a run, and one per gap that leaves the row (a gap of g
 * bytes crosses a boundary with probability g / page, at most 1).
 */
export function rowsOf(device: DramDevice, count: number, run: number, pitch: number): number {
  const page = device.pageBytes;
  if (page <= 0 || count <= 0) return 0;
  const gap = Math.max(0, pitch - run);
  return 1 + (count * (run - 1)) / page + (count - 1) * Math.min(1, (gap + 1) / page);
}

/** `count` runs of `run` bytes, `pitch` bytes apart, moved in `transfers` transfers. */
export function runs(device: DramDevice, count: number, run: number, pitch: number, transfers: number, aligned: boolean, element: number): Access {
  if (count <= 0 || run <= 0) return NO_ACCESS;
  return { bytes: count * run, bursts: burstsOf(device, count, run, aligned, element), rows: rowsOf(device, count, run, pitch), transfers };
}

/** `bytes` in `transfers` equal pieces laid out one after the other (weights tile by tile, a streamed tensor). */
export function contiguous(device: DramDevice, bytes: number, transfers: number): Access {
  const pieces = Math.max(1, transfers);
  return runs(device, pieces, bytes / pieces, bytes / pieces, transfers, true, 1);
}

/** Seconds the DRAM is busy moving `bursts` and opening `rows`, refresh included. */
export function busySeconds(device: DramDevice, bursts: number, rows: number): number {
  return ((bursts * device.burstBytes) / device.bandwidth + (rows * device.rowCycle) / device.banks) / (1 - device.refreshFraction);
}

/** Latency exposed by `transfers` transfers: all of them, or the first when they are prefetched. */
export function exposedLatency(device: DramDevice, transfers: number, prefetched: boolean): number {
  return (prefetched ? Math.min(1, transfers) : transfers) * device.latency;
}

/** Seconds the accesses take. */
export function accessTime(device: DramDevice, a: Access, prefetched: boolean): number {
  return busySeconds(device, a.bursts, a.rows) + exposedLatency(device, a.transfers, prefetched);
}
