/**
 * A processor profile: what matters for the DRAM cost of running a network on it.
 * Files are YAML or JSON; quantities may carry units (see units.ts).
 */
import { describeIssues, readDataFile } from '../files/index.js';
import { z } from 'zod';
import { DRAM_DEVICES, dramDeviceNames } from './dram-devices.js';
import { formatLimit, outsidePlausible, parseQuantity } from './units.js';
import type { Dimension } from './units.js';

/** Number formats of data in DRAM and on chip, and their bytes per element. */
export const DTYPES = { int8: 1, int16: 2, fp16: 2, bf16: 2, fp32: 4 } as const;
export type Dtype = keyof typeof DTYPES;

/** Formats of partial sums (the accumulators of a reduction split across tiles). */
export const ACCUMULATORS = { int16: 2, int32: 4, fp16: 2, fp32: 4 } as const;
export type Accumulator = keyof typeof ACCUMULATORS;

/** Formats a training step may run in (int8 training is not a thing). */
export const TRAINING_DTYPES = ['fp32', 'fp16', 'bf16'] as const;
export type TrainingDtype = (typeof TRAINING_DTYPES)[number];

/**
 * How intermediate tensors may stay on chip:
 * - none: every layer is mapped on its own and reads its inputs from DRAM, writes its output back
 *   (batch norms and activations still finish their producer's output tile on chip);
 * - composite: a composite op whose weights and line buffers fit runs depth-first, row band by
 *   row band, its intermediates never leaving the chip;
 * - depth-first: as composite, and consecutive composite ops whose weights and line buffers fit
 *   together form one depth-first stack (DeFiNES), the tensors between them kept on chip.
 *   `greedy` is read as depth-first (its name before cost model v2).
 */
export const FUSION_POLICIES = ['none', 'composite', 'depth-first'] as const;
export type FusionPolicy = (typeof FUSION_POLICIES)[number];

/** What a layer's mapping minimises: DRAM time, DRAM energy, their product, or the bytes moved. */
export const MAPPING_OBJECTIVES = ['time', 'energy', 'edp', 'traffic'] as const;
export type MappingObjective = (typeof MAPPING_OBJECTIVES)[number];

/** Fraction of peak MAC rate each kind of work reaches. */
export interface Utilisation {
  conv: number;
  pointwise: number;
  depthwise: number;
  dense: number;
  /** Elementwise work (BN, activations, pooling, add) per element, as a fraction of peak MAC/s. */
  elementwise: number;
}

/** The DRAM device and its interface: what a byte moved costs in time and energy. */
export interface DramDevice {
  /** What the numbers describe, e.g. "LPDDR4X-4266, two x16 channels". */
  device: string;
  /** Peak interface bandwidth in B/s: data rate × bus width. */
  bandwidth: number;
  /** Bytes of one burst (burst length × bus width): the smallest read or write. */
  burstBytes: number;
  /** Bytes of one row (page) across the bus; 0 when rows are not modelled. */
  pageBytes: number;
  /** Banks that open rows independently; a row opened in one hides behind transfers of the others. */
  banks: number;
  /** Time to close a row and open another in the same bank (tRP + tRCD), in seconds. */
  rowCycle: number;
  /** tRFC and tREFI (0 and 0: refresh not modelled). */
  refreshTime: number;
  refreshInterval: number;
  /** Fraction of the time the device is refreshing and moves no data (tRFC / tREFI). */
  refreshFraction: number;
  /** Latency paid once per DRAM transfer (one tile moved), in seconds. */
  latency: number;
  /** Energy per byte read or written: burst energy in the device plus I/O, row activation excluded. */
  readEnergyPerByte: number;
  writeEnergyPerByte: number;
  /** Energy of one row activation and its precharge, in joules. */
  activateEnergy: number;
  /** Standby and refresh power, paid over the whole elapsed time, in watts. */
  backgroundPower: number;
}

/**
 * Non-volatile memory the weights are stored in (a microcontroller's embedded flash). With
 * `executeInPlace`, inference reads weights from it where they lie, not from DRAM; training
 * updates its weights, so it keeps them in DRAM whatever this says.
 */
export interface FlashMemory {
  sizeBytes: number;
  /** Sustained read bandwidth in B/s. */
  bandwidth: number;
  /** Bytes of one read (a cache line): the smallest transfer. */
  lineBytes: number;
  /** Latency paid once per transfer (one tile read) unless prefetched, in seconds. */
  latency: number;
  readEnergyPerByte: number;
  /** Inference reads weights from flash; false: they are copied to DRAM at start-up and read from there. */
  executeInPlace: boolean;
}

export interface TrainingPrecision {
  dtype: TrainingDtype;
  bytesPerElement: number;
  /** MAC rate at the training precision. */
  peakMacsPerSecond: number;
  macEnergy: number;
}

/** Where a calibrated profile's fitted numbers came from, and how well they fit (calibrate/). */
export interface Calibration {
  /** The measurements file. */
  from: string;
  measurements: number;
  /** The fields the fit moved. */
  fitted: string[];
  fit: {
    spearman: number;
    kendall: number;
    /** Median absolute percentage error (0.1: 10 %). */
    mdape: number;
    /** The same, of predictions by fits that did not see the measurement. */
    heldOut: { folds: string; spearman: number; kendall: number; mdape: number };
  };
  residuals: Array<{ architecture: string; measuredS: number; predictedS: number }>;
}

export interface Processor {
  name: string;
  description: string;
  dtype: Dtype;
  bytesPerElement: number;
  accumulator: Accumulator;
  accumulatorBytes: number;
  sramBytes: number;
  /**
   * A separate on-chip store for weights (e.g. the PEs' filter scratch pads): when non-zero,
   * weights bypass the SRAM and their tiles must fit here. 0: weights share the SRAM.
   */
  weightSramBytes: number;
  /** Half the SRAM prefetches the next tile while the other half computes: compute and DRAM overlap. */
  doubleBuffer: boolean;
  mappingObjective: MappingObjective;
  dram: DramDevice;
  /** Where weights are stored when the processor has flash (a microcontroller). */
  flash?: FlashMemory;
  compute: {
    peakMacsPerSecond: number;
    macEnergy: number;
    utilisation: Utilisation;
    /** Seconds the processor spends launching each layer's kernel, whatever its size (a runtime's dispatch). */
    layerOverhead: number;
  };
  training: TrainingPrecision;
  sramEnergyPerByte: number;
  fusion: FusionPolicy;
  /** Where each number came from, keyed by field. */
  sources: Record<string, string>;
  /** Set when the profile was calibrated to measurements. */
  calibration?: Calibration;
}

/**
 * A quantity of a dimension (units.ts), positive or (`positive` false) zero or more; a non-zero
 * value must lie in the dimension's plausible range (PLAUSIBLE in units.ts).
 */
const quantity = (dimension: Dimension, positive = true) =>
  // Any number, Infinity (YAML's .inf) too: it is then refused with the plausible range.
  z.custom<number | string>((value) => typeof value === 'number' || typeof value === 'string', {
    error: (issue) => (issue.input === undefined ? 'required' : `expected a number or a quantity with its unit, got ${JSON.stringify(issue.input)}`),
  }).transform((value, ctx) => {
    const parsed = parseQuantity(value, dimension);
    if (typeof parsed !== 'number') {
      ctx.addIssue({ code: 'custom', message: parsed.error });
      return z.NEVER;
    }
    if (Number.isNaN(parsed) || parsed < 0 || (positive && parsed === 0)) {
      ctx.addIssue({ code: 'custom', message: `must be ${positive ? 'positive' : 'zero or more'}, got ${value}` });
      return z.NEVER;
    }
    const outside = parsed === 0 ? undefined : outsidePlausible(parsed, dimension, value);
    if (outside) {
      ctx.addIssue({ code: 'custom', message: outside });
      return z.NEVER;
    }
    return parsed;
  });

/**
 * The slowest a kind of work may run (compute.peak × utilisation, in MAC/s): a utilisation of
 * 1e-300 is a typo, and makes a layer's time Infinity. Calibration fits no rate below
 * 100 kMAC/s, and the lowest peak (1 kMAC/s) at the default elementwise utilisation (0.05)
 * runs at 50 MAC/s. The training rates, the training peak (at least 1 kMAC/s) times the same
 * utilisations, then stay above 1e-15 MAC/s: slow, but finite.
 */
const SLOWEST_RATE = 1;

/** The training precision's MAC rate and energy: as the profile writes them, or the inference ones scaled by bytes per element. */
function trainingFigures(p: { dtype: Dtype; compute: { peak: number; macEnergy: number }; training: { dtype: TrainingDtype; peak?: number | undefined; macEnergy?: number | undefined } }): { peak: number; macEnergy: number } {
  // Unless the profile says otherwise, the MAC array moves as many bytes per cycle at the
  // training precision as at the inference one, and a MAC's energy grows with its bytes.
  const bytes = DTYPES[p.dtype];
  const trainingBytes = DTYPES[p.training.dtype];
  return {
    peak: p.training.peak ?? (p.compute.peak * bytes) / trainingBytes,
    macEnergy: p.training.macEnergy ?? (p.compute.macEnergy * trainingBytes) / bytes,
  };
}

const fraction = z.number().gt(0).max(1);

const DramEnergyPerByte = quantity('joulesPerByte');

const DramEnergyParts = z
  .object({
    read: quantity('joulesPerByte'),
    write: quantity('joulesPerByte').optional(),
    activate: quantity('joules', false).default(0),
    background: quantity('watts', false).default(0),
  })
  .strict();

/**
 * DRAM energy: one figure per byte for everything (as before v2), or the device's parts. Which
 * one is chosen by the value's type, so that a bad figure is reported with its own path and
 * reason (`dram.energy.read: ... is outside the plausible range ...`), where a union of the two
 * would only say "Invalid input".
 */
const DramEnergySchema = z
  .custom<z.input<typeof DramEnergyPerByte> | z.input<typeof DramEnergyParts>>()
  .transform((value, ctx): z.output<typeof DramEnergyPerByte> | z.output<typeof DramEnergyParts> => {
    const result = typeof value === 'object' && value !== null ? DramEnergyParts.safeParse(value) : DramEnergyPerByte.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  });

const rankFit = { spearman: z.number().min(-1).max(1), kendall: z.number().min(-1).max(1), mdape: z.number().nonnegative() };

const CalibrationSchema = z
  .object({
    from: z.string(),
    measurements: z.number().int().positive(),
    fitted: z.array(z.string()),
    fit: z.object({ ...rankFit, heldOut: z.object({ folds: z.string(), ...rankFit }).strict() }).strict(),
    residuals: z.array(z.object({ architecture: z.string(), measuredS: z.number().positive(), predictedS: z.number().positive() }).strict()),
  })
  .strict();

export const ProcessorSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    dtype: z.enum(Object.keys(DTYPES) as [Dtype, ...Dtype[]]),
    accumulator: z.enum(Object.keys(ACCUMULATORS) as [Accumulator, ...Accumulator[]]).optional(),
    sram: quantity('bytes'),
    weightSram: quantity('bytes', false).default(0),
    doubleBuffer: z.boolean().default(true),
    mappingObjective: z.enum(MAPPING_OBJECTIVES).default('time'),
    dram: z
      .object({
        device: z.string().default(''),
        bandwidth: quantity('bytesPerSecond'),
        energy: DramEnergySchema,
        latency: quantity('seconds', false).default(0),
        burst: quantity('bytes').default(64),
        page: quantity('bytes', false).default(0),
        banks: z.number().int().positive().default(8),
        rowCycle: quantity('seconds', false).default(0),
        refresh: z.object({ time: quantity('seconds', false), interval: quantity('seconds') }).strict().optional(),
      })
      .strict(),
    flash: z
      .object({
        size: quantity('bytes'),
        bandwidth: quantity('bytesPerSecond'),
        energy: quantity('joulesPerByte'),
        line: quantity('bytes').default(32),
        latency: quantity('seconds', false).default(0),
        executeInPlace: z.boolean().default(true),
      })
      .strict()
      .optional(),
    compute: z
      .object({
        peak: quantity('macsPerSecond'),
        macEnergy: quantity('joules', false).default(0),
        layerOverhead: quantity('seconds', false).default(0),
        utilisation: z
          .object({ conv: fraction, pointwise: fraction, depthwise: fraction, dense: fraction, elementwise: fraction })
          .strict()
          .partial()
          .default({}),
      })
      .strict(),
    training: z
      .object({
        dtype: z.enum(TRAINING_DTYPES).default('fp32'),
        peak: quantity('macsPerSecond').optional(),
        macEnergy: quantity('joules', false).optional(),
      })
      .strict()
      .default({ dtype: 'fp32' }),
    sramEnergy: quantity('joulesPerByte', false).default(0),
    fusion: z
      .enum([...FUSION_POLICIES, 'greedy'])
      .default('composite')
      .transform((f): FusionPolicy => (f === 'greedy' ? 'depth-first' : f)),
    sources: z.record(z.string(), z.string()).default({}),
    calibration: CalibrationSchema.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const refresh = p.dram.refresh;
    if (refresh && refresh.time >= refresh.interval) {
      ctx.addIssue({ code: 'custom', path: ['dram', 'refresh'], message: 'the refresh time must be shorter than the refresh interval' });
    }
    // The training figures a profile leaves out are scaled from the inference ones (up to 4x
    // either way): they must land in the plausible ranges too.
    const training = trainingFigures(p);
    const scaled = (field: string) => `compute.${field} scaled from ${p.dtype} to ${p.training.dtype}`;
    if (p.training.peak === undefined) {
      const outside = outsidePlausible(training.peak, 'macsPerSecond', scaled('peak'));
      if (outside) ctx.addIssue({ code: 'custom', path: ['training', 'peak'], message: `${outside}: write training.peak` });
    }
    if (p.training.macEnergy === undefined && training.macEnergy > 0) {
      const outside = outsidePlausible(training.macEnergy, 'joules', scaled('macEnergy'));
      if (outside) ctx.addIssue({ code: 'custom', path: ['training', 'macEnergy'], message: `${outside}: write training.macEnergy` });
    }
    for (const [kind, u] of Object.entries(p.compute.utilisation)) {
      if (u !== undefined && p.compute.peak * u < SLOWEST_RATE) {
        ctx.addIssue({
          code: 'custom',
          path: ['compute', 'utilisation', kind],
          message: `${u} of ${formatLimit(p.compute.peak, 'macsPerSecond')} runs at ${p.compute.peak * u} MAC/s, below the slowest plausible rate of ${SLOWEST_RATE} MAC/s`,
        });
      }
    }
  });

export type ProcessorData = z.input<typeof ProcessorSchema>;

/** A profile as written: its DRAM may name a device of dram-devices.ts and leave the device's fields out. */
export type ProfileData = Omit<ProcessorData, 'dram'> & { dram: Partial<ProcessorData['dram']> };

const DEFAULT_UTILISATION: Utilisation = { conv: 0.7, pointwise: 0.7, depthwise: 0.25, dense: 0.3, elementwise: 0.05 };

export class ProcessorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProcessorError';
  }
}

/**
 * A profile whose DRAM names a device of dram-devices.ts takes the device's parameters and
 * sources, under whatever the profile writes itself.
 */
function withDevice(data: unknown, source: string): unknown {
  if (typeof data !== 'object' || data === null) return data;
  const profile = data as { dram?: unknown; sources?: unknown };
  const dram = profile.dram as { device?: unknown; energy?: unknown } | undefined;
  if (typeof dram !== 'object' || dram === null || typeof dram.device !== 'string') return data;
  const preset = DRAM_DEVICES[dram.device.toLowerCase()];
  if (!preset) {
    if ('bandwidth' in dram && 'energy' in dram) return data;
    throw new ProcessorError(
      describeIssues(source, 'processor profile', [
        { path: 'dram.device', message: `"${dram.device}" is not a known DRAM device (${dramDeviceNames().join(', ')}); name one, or give the device's bandwidth and energy` },
      ]),
    );
  }
  const energy =
    typeof dram.energy === 'object' && dram.energy !== null && typeof preset.dram.energy === 'object'
      ? { ...preset.dram.energy, ...dram.energy }
      : (dram.energy ?? preset.dram.energy);
  const sources = typeof profile.sources === 'object' && profile.sources !== null ? profile.sources : {};
  return {
    ...profile,
    dram: { ...preset.dram, ...dram, device: `${dram.device.toLowerCase()}: ${preset.dram.device}`, energy },
    sources: { ...preset.sources, ...sources },
  };
}

export function parseProcessor(data: unknown, source = 'processor'): Processor {
  const result = ProcessorSchema.safeParse(withDevice(data, source));
  if (!result.success) {
    throw new ProcessorError(describeIssues(source, 'processor profile', result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))));
  }
  const p = result.data;
  const energy = typeof p.dram.energy === 'number' ? { read: p.dram.energy, activate: 0, background: 0 } : p.dram.energy;
  const bytesPerElement = DTYPES[p.dtype];
  const accumulator = p.accumulator ?? (p.dtype === 'int8' || p.dtype === 'int16' ? 'int32' : 'fp32');
  const training = trainingFigures(p);
  return {
    name: p.name,
    description: p.description,
    dtype: p.dtype,
    bytesPerElement,
    accumulator,
    accumulatorBytes: ACCUMULATORS[accumulator],
    sramBytes: p.sram,
    weightSramBytes: p.weightSram,
    doubleBuffer: p.doubleBuffer,
    mappingObjective: p.mappingObjective,
    dram: {
      device: p.dram.device,
      bandwidth: p.dram.bandwidth,
      burstBytes: p.dram.burst,
      pageBytes: p.dram.page,
      banks: p.dram.banks,
      rowCycle: p.dram.rowCycle,
      refreshTime: p.dram.refresh?.time ?? 0,
      refreshInterval: p.dram.refresh?.interval ?? 0,
      refreshFraction: p.dram.refresh ? p.dram.refresh.time / p.dram.refresh.interval : 0,
      latency: p.dram.latency,
      readEnergyPerByte: energy.read,
      writeEnergyPerByte: energy.write ?? energy.read,
      activateEnergy: energy.activate,
      backgroundPower: energy.background,
    },
    ...(p.flash
      ? {
          flash: {
            sizeBytes: p.flash.size,
            bandwidth: p.flash.bandwidth,
            lineBytes: p.flash.line,
            latency: p.flash.latency,
            readEnergyPerByte: p.flash.energy,
            executeInPlace: p.flash.executeInPlace,
          },
        }
      : {}),
    compute: {
      peakMacsPerSecond: p.compute.peak,
      macEnergy: p.compute.macEnergy,
      utilisation: { ...DEFAULT_UTILISATION, ...p.compute.utilisation },
      layerOverhead: p.compute.layerOverhead,
    },
    training: {
      dtype: p.training.dtype,
      bytesPerElement: DTYPES[p.training.dtype],
      peakMacsPerSecond: training.peak,
      macEnergy: training.macEnergy,
    },
    sramEnergyPerByte: p.sramEnergy,
    fusion: p.fusion,
    sources: p.sources,
    ...(p.calibration ? { calibration: p.calibration } : {}),
  };
}

/**
 * A profile as a file holds it, every field written out in base units (bytes, B/s, J/B, s,
 * MAC/s, J, W): parseProcessor gives back the same processor.
 */
export function profileData(p: Processor): ProcessorData {
  const d = p.dram;
  return {
    name: p.name,
    description: p.description,
    dtype: p.dtype,
    accumulator: p.accumulator,
    sram: p.sramBytes,
    weightSram: p.weightSramBytes,
    doubleBuffer: p.doubleBuffer,
    mappingObjective: p.mappingObjective,
    dram: {
      device: d.device,
      bandwidth: d.bandwidth,
      burst: d.burstBytes,
      page: d.pageBytes,
      banks: d.banks,
      rowCycle: d.rowCycle,
      ...(d.refreshInterval > 0 ? { refresh: { time: d.refreshTime, interval: d.refreshInterval } } : {}),
      latency: d.latency,
      energy: { read: d.readEnergyPerByte, write: d.writeEnergyPerByte, activate: d.activateEnergy, background: d.backgroundPower },
    },
    ...(p.flash
      ? {
          flash: {
            size: p.flash.sizeBytes,
            bandwidth: p.flash.bandwidth,
            energy: p.flash.readEnergyPerByte,
            line: p.flash.lineBytes,
            latency: p.flash.latency,
            executeInPlace: p.flash.executeInPlace,
          },
        }
      : {}),
    compute: {
      peak: p.compute.peakMacsPerSecond,
      macEnergy: p.compute.macEnergy,
      utilisation: { ...p.compute.utilisation },
      layerOverhead: p.compute.layerOverhead,
    },
    training: { dtype: p.training.dtype, peak: p.training.peakMacsPerSecond, macEnergy: p.training.macEnergy },
    sramEnergy: p.sramEnergyPerByte,
    fusion: p.fusion,
    sources: { ...p.sources },
    ...(p.calibration ? { calibration: p.calibration } : {}),
  };
}

export function loadProcessorFile(file: string): Processor {
  let data: unknown;
  try {
    data = readDataFile(file);
  } catch (error) {
    throw new ProcessorError(`${file}: cannot read processor profile: ${(error as Error).message}`);
  }
  return parseProcessor(data, file);
}

/** A copy with some fields changed (the SRAM size, the fusion policy...), for sweeps and tests. */
export function withProcessor(
  p: Processor,
  change: Partial<Pick<Processor, 'sramBytes' | 'fusion' | 'dtype' | 'doubleBuffer' | 'mappingObjective'>>,
): Processor {
  const dtype = change.dtype ?? p.dtype;
  return { ...p, ...change, dtype, bytesPerElement: DTYPES[dtype] };
}
