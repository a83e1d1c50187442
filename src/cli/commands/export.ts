import { copyFileSync, cpSync, existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { initEngine } from '../../engine/backend.js';
import { Network } from '../../engine/network.js';
import { ExportError, exportGraphModel, exportOnnx, writeGraphModel } from '../../export/index.js';
import { OutputError, readDataFile, writeErrorMessage, writeFileAtomic } from '../../files/index.js';
import { architectureToData, lower, notationOf, resolveArchitecture } from '../../space/index.js';
import type { Architecture } from '../../space/index.js';
import { ARCH_HELP } from './cost.js';

/** An architecture with freshly initialised (seeded) weights: enough to measure latency. */
async function untrained(architecture: Architecture) {
  await initEngine('auto');
  const graph = lower(architecture);
  const network = new Network(graph, { seed: 0 });
  try {
    return { graph, weights: network.weights(), metadata: { notation: notationOf(architecture), architecture: JSON.stringify(architectureToData(architecture)), trained: 'false' } };
  } finally {
    network.dispose();
  }
}

export async function untrainedOnnx(architecture: Architecture): Promise<Uint8Array> {
  const { graph, weights, metadata } = await untrained(architecture);
  return exportOnnx(graph, weights, { metadata });
}

/** A copy of a run's file to where the user asked; a path it cannot write is bad input. */
function copyOut(copy: () => void, out: string): void {
  try {
    copy();
  } catch (error) {
    throw new OutputError(`${out}: cannot write: ${writeErrorMessage(error)}`);
  }
}

/** The run's best.json, or an ExportError saying what is wrong with it. */
function readBest(file: string): { architecture: unknown } {
  let data: unknown;
  try {
    data = readDataFile(file);
  } catch (error) {
    throw new ExportError(`${file}: cannot read the run's best architecture: ${(error as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || !('architecture' in data)) throw new ExportError(`${file}: the run's best.json has no architecture`);
  return data as { architecture: unknown };
}

/** `export --int8`: a run's int8 model where the user asks, and its test accuracy beside the float one. */
function exportInt8(ref: string, isRun: boolean, flags: { format: string; out?: string }): void {
  if (!isRun) throw new ExportError(`${ref}: --int8 exports a search's trained best (a run folder): an architecture alone has no trained weights to quantise`);
  if (flags.format !== 'onnx') throw new ExportError(`--int8 writes ONNX (QDQ), not ${flags.format}`);
  const model = join(ref, 'best-int8.onnx');
  if (!existsSync(model)) throw new ExportError(`${ref}: no int8 model (the search evaluated from a table, its final training did not run, or quantization.enabled was false)`);
  const out = flags.out ?? model;
  if (out !== model) copyOut(() => copyFileSync(model, out), out);
  let final: { testAccuracy?: number; int8?: { testAccuracy?: number } } | undefined;
  try {
    final = readDataFile(join(ref, 'final.json')) as typeof final;
  } catch {
    // Said as unknown below: the model itself is what was asked for.
  }
  const pct = (x: number | undefined) => (x === undefined ? 'unknown' : `${(100 * x).toFixed(2)}%`);
  console.log(out);
  console.error(`int8 test accuracy ${pct(final?.int8?.testAccuracy)} (float ${pct(final?.testAccuracy)})`);
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('Write a search\'s best architecture (trained, from a run folder) or any architecture (untrained) as ONNX, a TF.js GraphModel folder or JSON')
    .argument('<run-dir|arch>', `a search's results folder, or ${ARCH_HELP}`)
    .addOption(new Option('-f, --format <format>', 'output format (tfjs: a GraphModel folder)').choices(['onnx', 'tfjs', 'json']).default('onnx'))
    .option('-o, --out <path>', 'output file (default: best.<format> in the run folder, or <name>.<format> here)')
    .option('--int8', "a run's best quantised to int8 after its training (best-int8.onnx), with its accuracy beside the float one")
    .action(async (ref: string, flags: { format: 'onnx' | 'tfjs' | 'json'; out?: string; int8?: boolean }) => {
      const isRun = existsSync(join(ref, 'best.json'));
      if (flags.int8) {
        exportInt8(ref, isRun, flags);
        return;
      }
      const extension = flags.format === 'tfjs' ? '-tfjs' : `.${flags.format}`;
      if (isRun) {
        // The architecture alone goes beside best.json, never over it (best.json keeps the figures).
        const out = flags.out ?? join(ref, flags.format === 'json' ? 'best-architecture.json' : `best${extension}`);
        if (resolve(out) === resolve(ref, 'best.json')) throw new OutputError(`${out}: that is the run's best.json (its figures would be lost): choose another --out`);
        if (flags.format === 'tfjs') {
          const folder = join(ref, 'best-tfjs');
          if (!existsSync(folder)) throw new ExportError(`${ref}: no trained weights to export (the search evaluated from a table, or its final training did not run)`);
          if (out !== folder) copyOut(() => cpSync(folder, out, { recursive: true }), out);
        } else if (flags.format === 'json') {
          const best = readBest(join(ref, 'best.json'));
          writeFileAtomic(out, `${JSON.stringify(best.architecture, null, 2)}\n`);
        } else {
          const onnx = join(ref, 'best.onnx');
          if (!existsSync(onnx)) throw new ExportError(`${ref}: no trained weights to export (the search evaluated from a table, or its final training did not run); export the architecture untrained with: procnas export ${join(ref, 'best.json')}`);
          if (out !== onnx) copyOut(() => copyFileSync(onnx, out), out);
        }
        console.log(out);
        return;
      }
      const architecture = resolveArchitecture(ref);
      const out = flags.out ?? `${basename(architecture.name).replace(/[^\w.-]+/g, '_')}${extension}`;
      if (flags.format === 'json') {
        writeFileAtomic(out, `${JSON.stringify(architectureToData(architecture), null, 2)}\n`);
      } else {
        console.error('note: the weights are freshly initialised (untrained); a search exports its trained best to its run folder');
        const { graph, weights, metadata } = await untrained(architecture);
        if (flags.format === 'onnx') writeFileAtomic(out, exportOnnx(graph, weights, { metadata }));
        else writeGraphModel(out, exportGraphModel(graph, weights, metadata));
      }
      console.log(out);
    });
}
