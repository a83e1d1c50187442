/** Human-readable rendering of cost reports and presets for the terminal. */
import Table from 'cli-table3';
import type { CostReport } from '../cost/index.js';
import { formatBytes, formatSI } from '../processor/index.js';
import type { Processor } from '../processor/index.js';

const count = (n: number): string => n.toLocaleString('en-US');

export function formatCostReport(report: CostReport, processor: Processor): string {
  const table = new Table({
    head: ['layer', 'op', 'params', 'MACs', 'DRAM read', 'DRAM write', 'latency', 'bound', 'on chip'],
    colAligns: ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
    style: { head: [], border: [], compact: true },
  });
  for (const layer of report.layers) {
    table.push([
      layer.name,
      layer.op,
      count(layer.params),
      count(layer.macs),
      formatBytes(layer.dramReadBytes),
      formatBytes(layer.dramWriteBytes),
      formatSI(layer.latencyS, 's'),
      layer.dramS > layer.computeS ? 'DRAM' : 'compute',
      layer.fused ? 'fused' : '',
    ]);
  }
  const d = report.dram;
  const lines = [
    table.toString(),
    '',
    `${report.architecture} on ${processor.name} (${processor.dtype}, ${formatBytes(processor.sramBytes)} SRAM, fusion ${processor.fusion}), ${report.mode}, batch ${report.batch}`,
    `  params          ${count(report.params)}`,
    `  MACs            ${count(report.macs)} per sample (${count(report.executedMacs)} executed)`,
    `  DRAM traffic    ${formatBytes(d.readBytes)} read + ${formatBytes(d.writeBytes)} written (weights ${formatBytes(d.weightBytes)}, activations ${formatBytes(d.activationBytes)}) in ${count(d.transfers)} transfers`,
    `  DRAM time       ${formatSI(d.timeS, 's')}    energy ${formatSI(d.energyJ, 'J')}`,
    `  compute time    ${formatSI(report.compute.timeS, 's')}    energy ${formatSI(report.compute.energyJ, 'J')}`,
    `  latency         ${formatSI(report.latencyS, 's')} (per-layer roofline)`,
    `  energy          ${formatSI(report.energyJ, 'J')}`,
  ];
  return lines.join('\n');
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
    compute: report.compute,
    latencyS: report.latencyS,
    energyJ: report.energyJ,
    layers: report.layers.map((l) => ({
      name: l.name,
      op: l.op,
      params: l.params,
      macs: l.macs,
      dramReadBytes: l.dramReadBytes,
      dramWriteBytes: l.dramWriteBytes,
      dramWeightBytes: l.dramWeightBytes,
      fused: l.fused,
      computeS: l.computeS,
      dramS: l.dramS,
      latencyS: l.latencyS,
      energyJ: l.energyJ,
    })),
  };
}

export function formatPresets(processors: Processor[]): string {
  const table = new Table({
    head: ['preset', 'dtype', 'SRAM', 'DRAM bandwidth', 'DRAM energy', 'peak', 'fusion', 'what'],
    style: { head: [], border: [], compact: true },
  });
  for (const p of processors) {
    table.push([
      p.name,
      p.dtype,
      formatBytes(p.sramBytes),
      formatSI(p.dram.bandwidth, 'B/s'),
      formatSI(p.dram.readEnergyPerByte, 'J/B'),
      formatSI(p.compute.peakMacsPerSecond, 'MAC/s'),
      p.fusion,
      p.description,
    ]);
  }
  return table.toString();
}
