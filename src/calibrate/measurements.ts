/**
 * Latency measurements to calibrate a profile from: a CSV file with a header,
 *
 *   architecture,latency_ms[,energy_mj][,batch][,input]
 *   mobilenet_v2,12.5
 *   nets/a.yaml,3.1,,1,64x64x3
 *
 * `architecture` is a built-in name, `nb201:<cell>`, or a file relative to the CSV. Every bad row
 * is reported with its line number before anything is fitted or written.
 */
import { describeIssues, readErrorMessage, readTextFile } from '../files/index.js';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { lower, resolveArchitecture } from '../space/index.js';
import type { Architecture } from '../space/index.js';

export class CalibrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CalibrationError';
  }
}

export interface Measurement {
  /** The CSV line it came from (the header is line 1). */
  line: number;
  /** As written in the file. */
  name: string;
  architecture: Architecture;
  latencyS: number;
  energyJ?: number;
  batch: number;
}

export const MIN_ROWS = 5;
export const MAX_ROWS = 1000;
const COLUMNS = ['architecture', 'latency_ms', 'energy_mj', 'batch', 'input'] as const;

function positiveNumber(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) && value > 0 ? value : Number.NaN;
}

/** Reads and checks a measurements file; throws one CalibrationError naming every bad line. */
export function readMeasurements(file: string): Measurement[] {
  let text: string;
  try {
    text = readTextFile(file);
  } catch (error) {
    throw new CalibrationError(`${file}: cannot read the measurements: ${readErrorMessage(error)}`);
  }
  let records: Array<Record<string, string>>;
  try {
    records = parse(text, { columns: (header: string[]) => header.map((h) => h.trim()), skip_empty_lines: true, trim: true, relax_column_count: true }) as Array<Record<string, string>>;
  } catch (error) {
    throw new CalibrationError(`${file}: not a CSV file: ${(error as Error).message}`);
  }
  const header = text.split(/\r?\n/, 1)[0]?.split(',').map((h) => h.trim()) ?? [];
  const problems: string[] = [];
  for (const required of ['architecture', 'latency_ms']) {
    if (!header.includes(required)) problems.push(`line 1: the header has no "${required}" column (columns: ${COLUMNS.join(', ')})`);
  }
  const unknown = header.filter((h) => h !== '' && !(COLUMNS as readonly string[]).includes(h));
  if (unknown.length) problems.push(`line 1: unknown column(s) ${unknown.map((u) => `"${u}"`).join(', ')} (columns: ${COLUMNS.join(', ')})`);
  if (problems.length) throw new CalibrationError(describeIssues(file, 'measurements', problems.map((message) => ({ path: '', message }))));
  const base = dirname(file);
  const rows: Measurement[] = [];
  records.forEach((record, i) => {
    const line = i + 2;
    const name = record.architecture ?? '';
    const latency = positiveNumber(record.latency_ms);
    const energy = positiveNumber(record.energy_mj);
    const batch = positiveNumber(record.batch) ?? 1;
    const fail = (message: string) => problems.push(`line ${line}: ${message}`);
    if (name === '') return fail('no architecture');
    if (latency === undefined) return fail('no latency_ms');
    if (Number.isNaN(latency)) return fail(`latency_ms must be a positive number, got "${record.latency_ms}"`);
    if (Number.isNaN(energy)) return fail(`energy_mj must be a positive number, got "${record.energy_mj}"`);
    if (!Number.isInteger(batch)) return fail(`batch must be a positive integer, got "${record.batch}"`);
    let architecture: Architecture;
    try {
      const ref = name.startsWith('nb201:') || isAbsolute(name) || !/[./\\]/.test(name) ? name : join(base, name);
      architecture = resolveArchitecture(ref);
    } catch (error) {
      return fail(`architecture "${name}": ${(error as Error).message.split('\n').join(' ')}`);
    }
    const input = record.input ?? '';
    if (input !== '') {
      const match = /^(\d+)x(\d+)x(\d+)$/.exec(input);
      if (!match) return fail(`input must be HxWxC, got "${input}"`);
      architecture = { ...architecture, input: { h: Number(match[1]), w: Number(match[2]), c: Number(match[3]) } };
    }
    try {
      lower(architecture);
    } catch (error) {
      return fail(`architecture "${name}": ${(error as Error).message.split('\n').join(' ')}`);
    }
    rows.push({ line, name, architecture, latencyS: latency / 1000, ...(energy !== undefined ? { energyJ: energy / 1000 } : {}), batch });
  });
  if (problems.length) throw new CalibrationError(describeIssues(file, 'measurements', problems.map((message) => ({ path: '', message }))));
  if (rows.length < MIN_ROWS) throw new CalibrationError(`${file}: ${rows.length} measurement(s); calibrating needs at least ${MIN_ROWS}`);
  if (rows.length > MAX_ROWS) throw new CalibrationError(`${file}: ${rows.length} measurements; calibrating takes at most ${MAX_ROWS}`);
  return rows;
}
