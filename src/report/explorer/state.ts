/**
 * The cost explorer's model, free of the page: what the user chose (an architecture, a profile
 * as data, the mode and batch), how a change edits it, and the cost it comes to. The page's
 * controls and the test hook both go through `applyChange`, so a slider and `set` cannot differ.
 */
import { costReportJson, estimateCost, nonFiniteFigure } from '../../cost/index.js';
import type { CostMode, CostReport } from '../../cost/index.js';
import { parseDataText } from '../../files/read.js';
import { ACCUMULATORS, DTYPES, parseProcessor, presetNames, presetProcessor, profileData } from '../../processor/index.js';
import type { Dtype, Processor } from '../../processor/index.js';
import { builtinArchitecture, builtinNames, lower, parseArchitectureData } from '../../space/index.js';
import type { Architecture, LayerGraph } from '../../space/index.js';
import { DEFAULT_ARCHITECTURE, DEFAULT_PRESET } from './defaults.js';

/** A profile as the user edits it: plain data, quantities in base units or with their units. */
export type ProfileRecord = Record<string, unknown>;

/** A built-in by name (`nb201:` cells included), or the text of a pasted YAML/JSON architecture. */
export type ArchitectureChoice = { kind: 'builtin'; name: string } | { kind: 'pasted'; text: string };

export interface ExplorerState {
  architecture: ArchitectureChoice;
  preset: string;
  profile: ProfileRecord;
  /** Why there is no profile to cost (its text does not parse, no such preset); nothing is costed until there is. */
  profileError?: string;
  mode: CostMode;
  batch: number;
}

/** One change of the explorer: what `window.procnasExplorer.set` takes and every control sends. */
export interface ExplorerChange {
  /** A built-in name, or `nb201:` and a cell string. */
  architecture?: string;
  /** A pasted architecture, YAML or JSON (applied after `architecture`). */
  yaml?: string;
  /** A preset: the profile becomes the preset's, every field written out. */
  preset?: string;
  /** A whole profile, as data (applied after `preset`). */
  profile?: object;
  /** A whole profile, as YAML or JSON text (the profile box). */
  profileText?: string;
  sramBytes?: number;
  dramBandwidth?: number;
  /** DRAM energies per byte moved, in J/B. */
  dramReadEnergy?: number;
  dramWriteEnergy?: number;
  dtype?: string;
  fusion?: string;
  mode?: CostMode;
  batch?: number;
}

/** The state the page opens with: MobileNetV2 on the mobile NPU preset, one image at inference. */
export function initialState(): ExplorerState {
  const empty: ExplorerState = { architecture: { kind: 'builtin', name: DEFAULT_ARCHITECTURE }, preset: '', profile: {}, mode: 'inference', batch: 1 };
  return applyChange(empty, { preset: DEFAULT_PRESET });
}

/** A preset's profile with every field written out in base units, as the user will edit it. */
function presetProfile(name: string): ProfileRecord | undefined {
  const processor = presetProcessor(name);
  return processor ? (profileData(processor) as ProfileRecord) : undefined;
}

/** The state after a change; the state given is left as it was. */
export function applyChange(state: ExplorerState, change: ExplorerChange): ExplorerState {
  const next: ExplorerState = { ...state, profile: structuredClone(state.profile) };
  if (change.architecture !== undefined) next.architecture = { kind: 'builtin', name: change.architecture };
  if (change.yaml !== undefined) next.architecture = { kind: 'pasted', text: change.yaml };
  if (change.preset !== undefined) {
    next.preset = change.preset;
    const profile = presetProfile(change.preset);
    if (profile) {
      next.profile = profile;
      delete next.profileError;
    } else next.profileError = `"${change.preset}" is not a processor preset (${presetNames().join(', ')})`;
  }
  if (change.profile !== undefined) adoptProfile(next, () => structuredClone(change.profile));
  const text = change.profileText;
  if (text !== undefined) adoptProfile(next, () => parseDataText(text, 'profile.yaml'));
  // A control edits the last profile there was, and the profile box is rewritten with it: what stood in the way is gone.
  if (editProfile(next.profile, change)) delete next.profileError;
  if (change.mode !== undefined) next.mode = change.mode;
  if (change.batch !== undefined) next.batch = change.batch;
  return next;
}

/** Takes a whole profile; when there is none to take, the last one stays (for the controls) and the state says why. */
function adoptProfile(state: ExplorerState, read: () => unknown): void {
  try {
    state.profile = asRecord(read());
    delete state.profileError;
  } catch (error) {
    state.profileError = `profile: ${(error as Error).message}`;
  }
}

/** Writes the profile fields the controls edit into the data, in base units; false when the change edits none. */
function editProfile(profile: ProfileRecord, change: ExplorerChange): boolean {
  if (change.sramBytes !== undefined) profile.sram = change.sramBytes;
  if (change.dramBandwidth !== undefined) dramOf(profile).bandwidth = change.dramBandwidth;
  if (change.dramReadEnergy !== undefined) dramEnergyOf(profile).read = change.dramReadEnergy;
  if (change.dramWriteEnergy !== undefined) dramEnergyOf(profile).write = change.dramWriteEnergy;
  if (change.fusion !== undefined) profile.fusion = change.fusion;
  if (change.dtype !== undefined) {
    // The profile box writes the accumulator out even where it is the dtype's default: carry a
    // default along to the new dtype's (int32 for int8, fp32 for fp16), keep one the user chose.
    if (profile.accumulator === defaultAccumulator(profile.dtype)) profile.accumulator = defaultAccumulator(change.dtype);
    profile.dtype = change.dtype;
  }
  const edits: Array<keyof ExplorerChange> = ['sramBytes', 'dramBandwidth', 'dramReadEnergy', 'dramWriteEnergy', 'fusion', 'dtype'];
  return edits.some((key) => change[key] !== undefined);
}

function defaultAccumulator(dtype: unknown): keyof typeof ACCUMULATORS | undefined {
  if (typeof dtype !== 'string' || !Object.keys(DTYPES).includes(dtype)) return undefined;
  const known = dtype as Dtype;
  return known === 'int8' || known === 'int16' ? 'int32' : 'fp32';
}

function asRecord(value: unknown): ProfileRecord {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as ProfileRecord;
  const what = value === null ? 'nothing' : Array.isArray(value) ? 'a list' : `a ${typeof value}`;
  throw new Error(`a profile is a mapping of its fields (name, dtype, sram, dram, compute, ...), not ${what}`);
}

function dramOf(profile: ProfileRecord): ProfileRecord {
  const dram = profile.dram;
  if (typeof dram === 'object' && dram !== null && !Array.isArray(dram)) return dram as ProfileRecord;
  const made: ProfileRecord = {};
  profile.dram = made;
  return made;
}

function dramEnergyOf(profile: ProfileRecord): ProfileRecord {
  const dram = dramOf(profile);
  const energy = dram.energy;
  if (typeof energy === 'object' && energy !== null && !Array.isArray(energy)) return energy as ProfileRecord;
  // One figure means reads and writes alike, no row or standby energy: the same in parts.
  const parts: ProfileRecord = energy === undefined ? {} : { read: energy, write: energy, activate: 0, background: 0 };
  dram.energy = parts;
  return parts;
}

/** An architecture lowered, and the cost of its network on a processor. */
export interface Costed {
  architecture: Architecture;
  graph: LayerGraph;
  processor: Processor;
  report: CostReport;
}

/** What stands in the way of a cost, by the part of the page it belongs to. */
export interface Problems {
  architecture?: string;
  processor?: string;
  cost?: string;
}

export type Outcome = { costed: Costed; problems?: undefined } | { costed?: undefined; problems: Problems };

type Lowered = { architecture: Architecture; graph: LayerGraph } | { error: string };

/**
 * Costs states. Lowered architectures and the last processor are kept: moving a profile slider
 * lowers nothing again, and changing only the mode reuses the processor (and so the cost
 * model's memo of its composite ops, which is keyed by the processor object).
 */
export class Evaluator {
  private readonly lowered = new Map<string, Lowered>();
  private lastProcessor: { key: string; processor: Processor } | { key: string; error: string } | undefined;

  evaluate(state: ExplorerState): Outcome {
    const problems: Problems = {};
    const lowered = this.lower(state.architecture);
    if ('error' in lowered) problems.architecture = lowered.error;
    const processor = state.profileError ?? this.processor(state.profile);
    if (typeof processor === 'string') problems.processor = processor;
    if ('error' in lowered || typeof processor === 'string') return { problems };
    let report: CostReport;
    try {
      report = estimateCost(lowered.graph, processor, { mode: state.mode, batch: state.batch, layers: true });
    } catch (error) {
      return { problems: { cost: (error as Error).message } };
    }
    const insane = nonFiniteFigure(report);
    // As `procnas cost` does: a figure that is not finite is no figure to show.
    if (insane) return { problems: { cost: `the cost's ${insane}: the profile's or the architecture's values are out of range (no figure is shown)` } };
    return { costed: { ...lowered, processor, report } };
  }

  private lower(choice: ArchitectureChoice): Lowered {
    const key = choice.kind === 'builtin' ? `builtin:${choice.name}` : `pasted:${choice.text}`;
    let lowered = this.lowered.get(key);
    if (!lowered) {
      lowered = lowerChoice(choice);
      // Pasted texts may come one keystroke at a time: keep the last few only.
      if (this.lowered.size >= 16) this.lowered.clear();
      this.lowered.set(key, lowered);
    }
    return lowered;
  }

  private processor(profile: ProfileRecord): Processor | string {
    const key = JSON.stringify(profile);
    if (this.lastProcessor?.key !== key) {
      try {
        this.lastProcessor = { key, processor: parseProcessor(profile, 'profile') };
      } catch (error) {
        this.lastProcessor = { key, error: (error as Error).message };
      }
    }
    return 'error' in this.lastProcessor ? this.lastProcessor.error : this.lastProcessor.processor;
  }
}

function lowerChoice(choice: ArchitectureChoice): Lowered {
  try {
    const architecture = choice.kind === 'builtin' ? builtin(choice.name) : pasted(choice.text);
    return { architecture, graph: lower(architecture) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function builtin(name: string): Architecture {
  const architecture = builtinArchitecture(name);
  if (!architecture) throw new Error(`"${name}" is not a built-in network (${builtinNames().join(', ')})`);
  return architecture;
}

function pasted(text: string): Architecture {
  let data: unknown;
  try {
    data = parseDataText(text, 'pasted.yaml');
  } catch (error) {
    throw new Error(`pasted architecture: ${(error as Error).message}`);
  }
  // A run's best.json pasted whole works too, as the CLI reads it.
  return parseArchitectureData(data, 'pasted architecture');
}

/** The totals as `procnas cost --json --totals` prints them: the report's JSON without its layers. */
export function totalsJson(report: CostReport): Record<string, unknown> {
  return Object.fromEntries(Object.entries(costReportJson(report)).filter(([key]) => key !== 'layers'));
}
