/**
 * A processor profile: what matters for the DRAM cost of running a network on it.
 * Files are YAML or JSON; quantities may carry units (see units.ts).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseQuantity } from './units.js';
import type { Dimension } from './units.js';

export const DTYPES = { int8: 1, int16: 2, fp16: 2, fp32: 4 } as const;
export type Dtype = keyof typeof DTYPES;

/**
 * How intermediate tensors may stay on chip:
 * - none: every basic op reads its inputs from DRAM and writes its output back;
 * - composite: inside a composite op, intermediates stay on chip when the fused (row-banded)
 *   working set fits; epilogues (batch norm, activation) always fuse into their producer;
 * - greedy: as composite, and a tensor passed to the next op stays on chip when both fit whole.
 */
export const FUSION_POLICIES = ['none', 'composite', 'greedy'] as const;
export type FusionPolicy = (typeof FUSION_POLICIES)[number];

/** Fraction of peak MAC rate each kind of work reaches. */
export interface Utilisation {
  conv: number;
  pointwise: number;
  depthwise: number;
  dense: number;
  /** Elementwise work (BN, activations, pooling, add) per element, as a fraction of peak MAC/s. */
  elementwise: number;
}

export interface Processor {
  name: string;
  description: string;
  dtype: Dtype;
  bytesPerElement: number;
  sramBytes: number;
  dram: {
    bandwidth: number;
    energyPerByte: number;
    latency: number;
    burstBytes: number;
  };
  compute: {
    peakMacsPerSecond: number;
    macEnergy: number;
    utilisation: Utilisation;
  };
  sramEnergyPerByte: number;
  fusion: FusionPolicy;
  /** Where each number came from, keyed by field. */
  sources: Record<string, string>;
}

const quantity = (dimension: Dimension, positive = true) =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const parsed = parseQuantity(value, dimension);
    if (typeof parsed !== 'number') {
      ctx.addIssue({ code: 'custom', message: parsed.error });
      return z.NEVER;
    }
    if (!Number.isFinite(parsed) || parsed < 0 || (positive && parsed === 0)) {
      ctx.addIssue({ code: 'custom', message: `must be ${positive ? 'positive' : 'zero or more'}, got ${value}` });
      return z.NEVER;
    }
    return parsed;
  });

const fraction = z.number().gt(0).max(1);

export const ProcessorSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    dtype: z.enum(Object.keys(DTYPES) as [Dtype, ...Dtype[]]),
    sram: quantity('bytes'),
    dram: z
      .object({
        bandwidth: quantity('bytesPerSecond'),
        energy: quantity('joulesPerByte'),
        latency: quantity('seconds', false).default(0),
        burst: quantity('bytes').default(64),
      })
      .strict(),
    compute: z
      .object({
        peak: quantity('macsPerSecond'),
        macEnergy: quantity('joules', false).default(0),
        utilisation: z
          .object({ conv: fraction, pointwise: fraction, depthwise: fraction, dense: fraction, elementwise: fraction })
          .strict()
          .partial()
          .default({}),
      })
      .strict(),
    sramEnergy: quantity('joulesPerByte', false).default(0),
    fusion: z.enum(FUSION_POLICIES).default('composite'),
    sources: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export type ProcessorData = z.input<typeof ProcessorSchema>;

const DEFAULT_UTILISATION: Utilisation = { conv: 0.7, pointwise: 0.7, depthwise: 0.25, dense: 0.3, elementwise: 0.05 };

export class ProcessorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProcessorError';
  }
}

export function parseProcessor(data: unknown, source = 'processor'): Processor {
  const result = ProcessorSchema.safeParse(data);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ProcessorError(`${source}: invalid processor profile\n${lines.join('\n')}`);
  }
  const p = result.data;
  return {
    name: p.name,
    description: p.description,
    dtype: p.dtype,
    bytesPerElement: DTYPES[p.dtype],
    sramBytes: p.sram,
    dram: { bandwidth: p.dram.bandwidth, energyPerByte: p.dram.energy, latency: p.dram.latency, burstBytes: p.dram.burst },
    compute: {
      peakMacsPerSecond: p.compute.peak,
      macEnergy: p.compute.macEnergy,
      utilisation: { ...DEFAULT_UTILISATION, ...p.compute.utilisation },
    },
    sramEnergyPerByte: p.sramEnergy,
    fusion: p.fusion,
    sources: p.sources,
  };
}

export function loadProcessorFile(file: string): Processor {
  let data: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    data = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ProcessorError(`${file}: cannot read processor profile: ${(error as Error).message}`);
  }
  return parseProcessor(data, file);
}

/** A copy with some fields changed (the SRAM size, the fusion policy...), for sweeps and tests. */
export function withProcessor(p: Processor, change: Partial<Pick<Processor, 'sramBytes' | 'fusion' | 'dtype'>>): Processor {
  const dtype = change.dtype ?? p.dtype;
  return { ...p, ...change, dtype, bytesPerElement: DTYPES[dtype] };
}
