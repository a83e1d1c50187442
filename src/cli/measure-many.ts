/**
 * Measuring many architectures on this host through onnxruntime, as `procnas measure
 * --batch-file` and `procnas calibrate --host` do, and writing them as a calibration CSV.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative } from 'node:path';
import { CalibrationError } from '../calibrate/index.js';
import { OutputError, readErrorMessage, readTextFile, writeErrorMessage, writeFileAtomic } from '../files/index.js';
import { measureOnnx } from '../export/index.js';
import { resolveArchitecture } from '../space/index.js';
import type { Architecture } from '../space/index.js';
import { untrainedOnnx } from './commands/export.js';

export interface MeasuredRow {
  /** As the CSV names it: a built-in name, or a file path relative to the CSV. */
  name: string;
  latencyS: number;
  batch: number;
}

/** The architectures a batch file lists (one reference a line, `#` comments) or a folder holds (its .yaml, .yml and .json files). */
export function batchArchitectures(ref: string): Array<{ name: string; file?: string; architecture: Architecture }> {
  if (!existsSync(ref)) throw new CalibrationError(`${ref}: no such file or folder of architectures`);
  if (statSync(ref).isDirectory()) {
    const files = readdirSync(ref)
      .filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f)))
      .sort();
    if (files.length === 0) throw new CalibrationError(`${ref}: the folder holds no .yaml, .yml or .json architecture`);
    return files.map((f) => ({ name: f, file: join(ref, f), architecture: resolveArchitecture(join(ref, f)) }));
  }
  let text: string;
  try {
    text = readTextFile(ref);
  } catch (error) {
    throw new CalibrationError(`${ref}: cannot read the list of architectures: ${readErrorMessage(error)}`);
  }
  const lines = text.split(/\r?\n/);
  const out: Array<{ name: string; file?: string; architecture: Architecture }> = [];
  lines.forEach((raw, i) => {
    const name = raw.replace(/#.*/, '').trim();
    if (name === '') return;
    const isFile = !name.startsWith('nb201:') && /[./\\]/.test(name);
    const file = isFile ? (isAbsolute(name) ? name : join(dirname(ref), name)) : undefined;
    try {
      out.push({ name, ...(file ? { file } : {}), architecture: resolveArchitecture(file ?? name) });
    } catch (error) {
      throw new CalibrationError(`${ref}, line ${i + 1}: ${(error as Error).message.split('\n').join(' ')}`);
    }
  });
  if (out.length === 0) throw new CalibrationError(`${ref}: lists no architecture`);
  return out;
}

/** Times each architecture (fresh weights) in onnxruntime; `onEach` reports progress. */
export async function measureMany(
  architectures: Array<{ name: string; file?: string; architecture: Architecture }>,
  options: { runs: number; warmup: number; batch: number; threads: number; csv?: string },
  onEach?: (done: number, row: MeasuredRow) => void,
): Promise<MeasuredRow[]> {
  const rows: MeasuredRow[] = [];
  for (const a of architectures) {
    const measured = await measureOnnx(await untrainedOnnx(a.architecture), { runs: options.runs, warmup: options.warmup, batch: options.batch, threads: options.threads });
    // A file is named relative to the CSV, so that calibrate finds it from there.
    const name = a.file && options.csv ? relative(dirname(options.csv), a.file) : a.name;
    const row = { name, latencyS: measured.medianS, batch: options.batch };
    rows.push(row);
    onEach?.(rows.length, row);
  }
  return rows;
}

/** Writes a file a command produces; a path it cannot write is bad input, said in one line. */
export function writeOutput(file: string, text: string, what: string): void {
  try {
    writeFileAtomic(file, text);
  } catch (error) {
    throw new CalibrationError(`${file}: cannot write the ${what}: ${error instanceof OutputError ? error.why : writeErrorMessage(error)}`);
  }
}

/** A calibration CSV of measured rows. */
export function writeMeasurementsCsv(file: string, rows: MeasuredRow[]): void {
  const quote = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  writeOutput(file, `architecture,latency_ms,batch\n${rows.map((r) => `${quote(r.name)},${(r.latencyS * 1000).toPrecision(6)},${r.batch}`).join('\n')}\n`, 'measurements');
}
