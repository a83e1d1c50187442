/**
 * The last guard against insane output: a cost report's totals must be finite and non-negative.
 * The profile's plausible ranges (processor/units.ts) and the architecture's limits (space/) keep
 * them so; a figure that is not points at a gap in those, and is refused rather than printed
 * as null or Infinity.
 */
import type { CostReport } from './model.js';

/** The totals of a cost report, by the name `--json` gives them. */
function totals(r: CostReport): Array<[string, number]> {
  const d = r.dram;
  return [
    ['params', r.params],
    ['macs', r.macs],
    ['executedMacs', r.executedMacs],
    ['dram.readBytes', d.readBytes],
    ['dram.writeBytes', d.writeBytes],
    ['dram.weightBytes', d.weightBytes],
    ['dram.activationBytes', d.activationBytes],
    ['dram.busReadBytes', d.busReadBytes],
    ['dram.busWriteBytes', d.busWriteBytes],
    ['dram.transfers', d.transfers],
    ['dram.rowActivations', d.rowActivations],
    ['dram.timeS', d.timeS],
    ['dram.energyJ', d.energyJ],
    ['dram.dynamicJ', d.dynamicJ],
    ['dram.rowJ', d.rowJ],
    ['dram.backgroundJ', d.backgroundJ],
    ['dram.powerW', d.powerW],
    ['flash.readBytes', r.flash.readBytes],
    ['flash.busReadBytes', r.flash.busReadBytes],
    ['flash.transfers', r.flash.transfers],
    ['flash.timeS', r.flash.timeS],
    ['flash.energyJ', r.flash.energyJ],
    ['compute.timeS', r.compute.timeS],
    ['compute.energyJ', r.compute.energyJ],
    ['latencyS', r.latencyS],
    ['energyJ', r.energyJ],
    ['memory.peakActivationBytes', r.memory.peakActivationBytes],
    ['memory.storedWeightBytes', r.memory.storedWeightBytes],
  ];
}

/**
 * The first total of a report that is not a finite number of zero or more, said as
 * `dram.timeS is Infinity`; undefined when every total is sane.
 */
export function nonFiniteFigure(report: CostReport): string | undefined {
  for (const [name, value] of totals(report)) {
    if (!Number.isFinite(value)) return `${name} is ${value}`;
    if (value < 0) return `${name} is negative (${value})`;
  }
  return undefined;
}
