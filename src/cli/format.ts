/** Human-readable rendering of cost reports and presets for the terminal. */
import { deployedFit, formatMapping } from '../cost/index.js';
import type { CostReport } from '../cost/index.js';
import { formatBytes, formatSI } from '../processor/index.js';
import type { Processor } from '../processor/index.js';
import { renderTable } from './table.js';

const count = (n: number): string => n.toLocaleString('en-US');

export function formatCostReport(report: CostReport, processor: Processor, show: { layers: boolean } = { layers: true }): string {
  const rows = report.layers.map((layer) => [
    layer.name,
    layer.op,
    count(layer.params),
    count(layer.macs),
    formatBytes(layer.dramReadBytes),
    formatBytes(layer.dramWriteBytes),
    formatSI(layer.latencyS, 's'),
    layer.dramS > layer.computeS ? 'DRAM' : 'compute',
    layer.folded ? 'folded' : layer.fused ? 'fused' : '',
    layer.mappings.map(formatMapping).join(', '),
  ]);
  const table = renderTable(
    ['layer', 'op', 'params', 'MACs', 'DRAM read', 'DRAM write', 'latency', 'bound', 'on chip', 'mapping'],
    rows,
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'left', 'left', 'left'],
  );
  const d = report.dram;
  const lines = [
    ...(show.layers ? [table, ''] : []),
    `${report.architecture} on ${processor.name} (${processor.dtype}, ${formatBytes(processor.sramBytes)} SRAM, fusion ${processor.fusion}, ${processor.dram.device || 'DRAM'}), ${report.mode}, batch ${report.batch}`,
    `  params          ${count(report.params)}`,
    `  MACs            ${count(report.macs)} per sample (${count(report.executedMacs)} executed)`,
    `  DRAM traffic    ${formatBytes(d.readBytes)} read + ${formatBytes(d.writeBytes)} written (weights ${formatBytes(d.weightBytes)}, activations ${formatBytes(d.activationBytes)})`,
    `  DRAM bus        ${formatBytes(d.busReadBytes)} read + ${formatBytes(d.busWriteBytes)} written in whole bursts, ${count(d.transfers)} transfers, ${count(Math.round(d.rowActivations))} rows opened`,
    `  DRAM time       ${formatSI(d.timeS, 's')}`,
    `  DRAM energy     ${formatSI(d.energyJ, 'J')} (bursts ${formatSI(d.dynamicJ, 'J')}, rows ${formatSI(d.rowJ, 'J')}, standby ${formatSI(d.backgroundJ, 'J')}), average power ${formatSI(d.powerW, 'W')}`,
    ...(report.flash.readBytes > 0
      ? [
          `  flash           ${formatBytes(report.flash.readBytes)} of weights read in place (${formatBytes(report.flash.busReadBytes)} in whole lines), time ${formatSI(report.flash.timeS, 's')}, energy ${formatSI(report.flash.energyJ, 'J')}`,
        ]
      : []),
    `  compute time    ${formatSI(report.compute.timeS, 's')}    energy ${formatSI(report.compute.energyJ, 'J')}`,
    `  latency         ${formatSI(report.latencyS, 's')} (per layer: ${latencyRule(processor, report.flash.readBytes > 0)})`,
    `  energy          ${formatSI(report.energyJ, 'J')}`,
    `  deployed        ${deployedLine(report, processor)}`,
  ];
  return lines.join('\n');
}

/** How a layer's latency is made up, in words. */
function latencyRule(p: Processor, flash: boolean): string {
  const memory = flash ? 'DRAM + flash' : 'DRAM';
  return p.doubleBuffer ? `max of compute and ${memory}, double buffered` : `compute + ${memory}`;
}

/** What the network needs deployed, against the SRAM and (when the processor has one) the flash. */
function deployedLine(report: CostReport, p: Processor): string {
  const { peakActivationBytes, storedWeightBytes } = report.memory;
  const fit = deployedFit(report, p);
  return `peak activations ${formatBytes(peakActivationBytes)} (one image, layer by layer; ${fit.sram}), weights ${formatBytes(storedWeightBytes)} stored${fit.flash ? ` (${fit.flash})` : ''}`;
}

/** The presets, a few short lines each (a table of every field was 270 columns wide). */
export function formatPresets(processors: Processor[]): string {
  const blocks = processors.map((p) => {
    const d = p.dram;
    const sram = formatBytes(p.sramBytes) + (p.weightSramBytes > 0 ? ` + ${formatBytes(p.weightSramBytes)} for weights` : '');
    const dram = [formatSI(d.bandwidth, 'B/s'), `${d.burstBytes} B bursts`, ...(d.pageBytes > 0 ? [`${formatBytes(d.pageBytes)} pages`] : [])];
    const energy = [
      `read / write ${((d.readEnergyPerByte / 8) * 1e12).toFixed(1)} / ${((d.writeEnergyPerByte / 8) * 1e12).toFixed(1)} pJ/bit`,
      ...(d.activateEnergy > 0 ? [`row ${formatSI(d.activateEnergy, 'J')}`] : []),
      ...(d.backgroundPower > 0 ? [`standby ${formatSI(d.backgroundPower, 'W')}`] : []),
    ];
    return [
      p.name,
      `  ${p.description}`,
      `  ${p.dtype}, SRAM ${sram}, peak ${formatSI(p.compute.peakMacsPerSecond, 'MAC/s')}, fusion ${p.fusion}`,
      `  DRAM ${d.device.split(':')[0] || '-'}: ${dram.join(', ')}`,
      `  DRAM energy: ${energy.join(', ')}`,
      ...(p.flash
        ? [
            `  flash ${formatBytes(p.flash.sizeBytes)}: ${formatSI(p.flash.bandwidth, 'B/s')}, ${((p.flash.readEnergyPerByte / 8) * 1e12).toFixed(2)} pJ/bit, weights ${p.flash.executeInPlace ? 'read in place' : 'copied to DRAM'}`,
          ]
        : []),
    ].join('\n');
  });
  return `${blocks.join('\n\n')}\n\nprocnas presets --json gives the source of every number.`;
}
