/**
 * The cost report in other forms: a mapping in a few characters, and the plain JSON of
 * `procnas cost --json` (also what the dashboard's cost explorer computes in the browser, so the
 * two cannot drift apart).
 */
import type { Processor } from '../processor/index.js';
import { formatBytes } from '../processor/units.js';
import type { Mapping } from './mapping.js';
import type { CostReport } from './model.js';

const STATIONARY: Record<Mapping['stationary'], string> = {
  weights: 'WS',
  'weight gradient': 'WS',
  output: 'OS',
  'input gradient': 'OS',
  input: 'IS',
  'output gradient': 'IS',
  everything: 'all',
};

/** A mapping in a few characters: its stationary operand and its tiles, e.g. `OS n1 k64 c8 p14 q28`. */
export function formatMapping(m: Mapping): string {
  const t = m.tile;
  const pass = m.pass === 'forward' ? '' : m.pass === 'input-gradient' ? 'dI ' : 'dW ';
  return `${pass}${STATIONARY[m.stationary]} n${t.n}${t.g > 1 ? ` g${t.g}` : ''} k${t.k} c${t.c} p${t.p} q${t.q}`;
}

/** The JSON form of `procnas cost --json`: counts as integers, seconds and joules as numbers. */
export function costReportJson(report: CostReport): object {
  return {
    architecture: report.architecture,
    processor: report.processor,
    mode: report.mode,
    batch: report.batch,
    params: report.params,
    macs: report.macs,
    executedMacs: report.executedMacs,
    dram: report.dram,
    flash: report.flash,
    compute: report.compute,
    latencyS: report.latencyS,
    energyJ: report.energyJ,
    memory: report.memory,
    layers: report.layers.map((l) => ({
      name: l.name,
      op: l.op,
      params: l.params,
      macs: l.macs,
      dramReadBytes: l.dramReadBytes,
      dramWriteBytes: l.dramWriteBytes,
      dramWeightBytes: l.dramWeightBytes,
      fused: l.fused,
      folded: l.folded,
      utilisation: l.utilisation,
      launches: l.launches,
      dramBusBytes: l.dramBusBytes,
      dramRowActivations: l.dramRowActivations,
      dramTransfers: l.dramTransfers,
      flashReadBytes: l.flashReadBytes,
      flashS: l.flashS,
      mappings: l.mappings.map((m) => ({
        pass: m.pass,
        tile: m.tile,
        stationary: m.stationary,
        footprintBytes: m.footprintBytes,
        operands: m.operands,
      })),
      computeS: l.computeS,
      dramS: l.dramS,
      latencyS: l.latencyS,
      energyJ: l.energyJ,
    })),
  };
}


/** Whether what a network needs deployed fits the processor: its SRAM, and its flash when it has one ('' without). */
export function deployedFit(report: CostReport, p: Processor): { sram: string; flash: string } {
  const { peakActivationBytes, storedWeightBytes } = report.memory;
  return {
    sram: `${peakActivationBytes <= p.sramBytes ? 'fits' : 'above'} the ${formatBytes(p.sramBytes)} SRAM`,
    flash: p.flash ? `${storedWeightBytes <= p.flash.sizeBytes ? 'fits' : 'above'} the ${formatBytes(p.flash.sizeBytes)} flash` : '',
  };
}
