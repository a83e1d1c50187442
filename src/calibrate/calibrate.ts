/**
 * Calibrating a processor profile to latencies measured on the device: fit its free parameters
 * (fit.ts), choose its fusion policy and double buffering, check the fit on measurements it did
 * not see, and give back a complete profile whose fitted numbers say where they came from.
 */
import { estimateCost } from '../cost/index.js';
import { kendall, medianAbsolutePercentageError, spearman } from '../export/index.js';
import { FUSION_POLICIES, withProcessor } from '../processor/index.js';
import type { Calibration, Processor } from '../processor/index.js';
import { lower } from '../space/index.js';
import { PARAMETERS, featuresOf, fitParameters, parametersOf, predict, sensitivities } from './fit.js';
import type { Features, Fit, Parameter } from './fit.js';
import type { UtilisationClass } from '../cost/index.js';
import type { Measurement } from './measurements.js';

/** A profile field a calibration may change. */
export type CalibratedField =
  | 'dram.bandwidth'
  | 'dram.latency'
  | 'compute.peak'
  | `compute.utilisation.${UtilisationClass}`
  | 'compute.layerOverhead'
  | 'fusion'
  | 'doubleBuffer';

export interface ParameterChange {
  name: CalibratedField;
  before: number | string | boolean;
  after: number | string | boolean;
  fitted: boolean;
}

export interface RowFit {
  line: number;
  name: string;
  measuredS: number;
  predictedS: number;
  /** Predicted by a fit that did not see this measurement. */
  heldOutS: number;
}

export interface CalibrationResult {
  processor: Processor;
  changes: ParameterChange[];
  rows: RowFit[];
  /** Rank correlations and median absolute percentage error, in-sample and held out. */
  fit: Calibration['fit'];
  /** When the measurements carry energies: how the calibrated profile ranks and errs on them (energy is not fitted). */
  energy?: { spearman: number; mdape: number };
  warnings: string[];
}

/** Below this, a parameter moves no log latency enough to be identified (1 % per unit of its transformed variable). */
const IDENTIFIABLE = 0.01;

const DESCRIPTIONS: Record<Parameter, string> = {
  'dram.bandwidth': 'the DRAM bandwidth (dram.bandwidth)',
  'dram.latency': 'the DRAM latency per transfer (dram.latency)',
  'rate.conv': 'the rate of convolutions (compute.utilisation.conv)',
  'rate.pointwise': 'the rate of pointwise convolutions (compute.utilisation.pointwise)',
  'rate.depthwise': 'the rate of depthwise convolutions (compute.utilisation.depthwise)',
  'rate.dense': 'the rate of dense layers (compute.utilisation.dense)',
  'rate.elementwise': 'the rate of elementwise work (compute.utilisation.elementwise)',
  'compute.layerOverhead': 'the layer overhead (compute.layerOverhead)',
};

function featuresFor(rows: Measurement[], p: Processor): Features[] {
  return rows.map((m) => featuresOf(estimateCost(lower(m.architecture), p, { batch: m.batch, layers: true }), p));
}

/**
 * A fit, with parameters the data cannot identify held at the profile's values: a parameter
 * that ends where it moves no prediction (a rate so high that its work takes no time, a
 * bandwidth no layer waits for) is held and the rest fitted again, until every free one matters.
 */
function identifiedFit(features: Features[], measured: number[], p: Processor, theta0: number[], sharedRates: boolean, free = PARAMETERS.map(() => true)): Fit {
  let fit = fitParameters(features, measured, p, theta0, free, { sharedRates });
  for (let round = 0; round < PARAMETERS.length; round++) {
    const s = sensitivities(features, p, fit.theta, sharedRates);
    // Shared rates stand or fall together, with the first.
    const still = fit.free.map((f, j) => f && (s[sharedRates && j > 2 && j < 7 ? 2 : j] as number) >= IDENTIFIABLE);
    if (still.every((f, j) => f === fit.free[j])) break;
    fit = fitParameters(features, measured, p, theta0, still, { sharedRates });
  }
  return fit;
}

/**
 * A profile with the fitted parameters: each rate becomes a utilisation of the peak, the peak
 * raised to the fastest rate where the device computes faster than the profile said (no
 * utilisation above 1).
 */
function withParameters(p: Processor, theta: number[]): Processor {
  const [bandwidth, latency, ...rest] = theta as [number, number, ...number[]];
  const rates = rest.slice(0, 5);
  const layerOverhead = rest[5] as number;
  const peak = Math.max(p.compute.peakMacsPerSecond, ...rates);
  const [conv, pointwise, depthwise, dense, elementwise] = rates.map((r) => r / peak) as [number, number, number, number, number];
  return {
    ...p,
    dram: { ...p.dram, bandwidth, latency },
    compute: { ...p.compute, peakMacsPerSecond: peak, utilisation: { conv, pointwise, depthwise, dense, elementwise }, layerOverhead },
  };
}

/** The calibrated fields of a profile, by name. */
function fieldsOf(p: Processor): Record<Exclude<CalibratedField, 'fusion' | 'doubleBuffer'>, number> {
  const u = p.compute.utilisation;
  return {
    'dram.bandwidth': p.dram.bandwidth,
    'dram.latency': p.dram.latency,
    'compute.peak': p.compute.peakMacsPerSecond,
    'compute.utilisation.conv': u.conv,
    'compute.utilisation.pointwise': u.pointwise,
    'compute.utilisation.depthwise': u.depthwise,
    'compute.utilisation.dense': u.dense,
    'compute.utilisation.elementwise': u.elementwise,
    'compute.layerOverhead': p.compute.layerOverhead,
  };
}

/** Predictions of each measurement by fits that did not see it: leave-one-out up to 60 rows, else 10 folds. */
function heldOut(features: Features[], measured: number[], p: Processor, theta0: number[], free: boolean[], sharedRates: boolean): { predicted: number[]; folds: string } {
  const n = measured.length;
  const folds = n <= 60 ? n : 10;
  const predicted = new Array<number>(n).fill(0);
  for (let k = 0; k < folds; k++) {
    const test = measured.map((_, i) => i).filter((i) => i % folds === k);
    const train = measured.map((_, i) => i).filter((i) => i % folds !== k);
    const fit = fitParameters(
      train.map((i) => features[i]!),
      train.map((i) => measured[i]!),
      p,
      theta0,
      free,
      { sharedRates },
    );
    const out = predict(test.map((i) => features[i]!), fit.theta, p);
    test.forEach((i, t) => (predicted[i] = out[t] as number));
  }
  return { predicted, folds: folds === n ? 'leave-one-out' : '10-fold' };
}

/**
 * Calibrates `base` to the measurements. `source` names them in the fitted numbers' sources
 * (e.g. the CSV's path).
 */
export function calibrate(rows: Measurement[], base: Processor, source: string): CalibrationResult {
  const measured = rows.map((r) => r.latencyS);
  const theta0 = parametersOf(base);
  // Candidate models, simplest and closest to the profile first: rates moved together or each
  // its own; the profile's fusion and double buffering, then the others (they change what
  // reaches DRAM). The one whose fits best predict the measurements they did not see wins, but
  // a later (richer, or less like the profile) one must beat the best so far by a tenth: with few
  // measurements the continuous parameters can make up for a wrong model within the noise, and
  // the profile is the physics we know.
  let best: { p: Processor; fit: Fit; heldOut: number } | undefined;
  const fusions = [base.fusion, ...FUSION_POLICIES.filter((f) => f !== base.fusion)];
  for (const sharedRates of [true, false]) {
    for (const fusion of fusions) {
      for (const doubleBuffer of [base.doubleBuffer, !base.doubleBuffer]) {
        const p = withProcessor(base, { fusion, doubleBuffer });
        const features = featuresFor(rows, p);
        const fit = identifiedFit(features, measured, p, theta0, sharedRates);
        const error = medianAbsolutePercentageError(heldOut(features, measured, p, theta0, fit.free, sharedRates).predicted, measured);
        if (!best || error < 0.9 * best.heldOut) best = { p, fit, heldOut: error };
      }
    }
  }
  const chosen = best as { p: Processor; fit: Fit };
  const sharedRates = chosen.fit.sharedRates;
  // The mappings were chosen under the old parameters: cost again under the fitted ones, refit.
  const fitted = withParameters(chosen.p, chosen.fit.theta);
  const features = featuresFor(rows, fitted);
  const final = identifiedFit(features, measured, fitted, theta0, sharedRates, chosen.fit.free);
  const free = final.free;
  const held = heldOut(features, measured, fitted, theta0, free, sharedRates);
  const predicted = Array.from(final.predicted);

  const n = rows.length;
  const calibrated = withParameters(chosen.p, final.theta);
  const [before, after] = [fieldsOf(base), fieldsOf(calibrated)];
  const moved = (field: keyof typeof before): boolean => before[field] !== after[field];
  const changes: ParameterChange[] = [
    ...(Object.keys(before) as Array<keyof typeof before>).map((name) => ({ name, before: before[name], after: after[name], fitted: moved(name) })),
    { name: 'fusion', before: base.fusion, after: chosen.p.fusion, fitted: true },
    { name: 'doubleBuffer', before: base.doubleBuffer, after: chosen.p.doubleBuffer, fitted: true },
  ];
  const warnings = PARAMETERS.flatMap((name, j) => (free[j] ? [] : [`${DESCRIPTIONS[name]} moves no measured latency: the data cannot identify it, so it stays as it was`]));
  if (moved('compute.peak')) warnings.push(`the device computes faster than the profile's peak: compute.peak raised to ${after['compute.peak'].toPrecision(4)} MAC/s (the fastest kind of work at utilisation 1)`);
  const fit: Calibration['fit'] = {
    spearman: spearman(predicted, measured),
    kendall: kendall(predicted, measured),
    mdape: medianAbsolutePercentageError(predicted, measured),
    heldOut: {
      folds: held.folds,
      spearman: spearman(held.predicted, measured),
      kendall: kendall(held.predicted, measured),
      mdape: medianAbsolutePercentageError(held.predicted, measured),
    },
  };
  const note = `calibrated from ${source}, n=${n}`;
  const sources = { ...base.sources };
  for (const change of changes) {
    if (!change.fitted) continue;
    const key = change.name.startsWith('compute.utilisation') ? 'compute.utilisation' : change.name;
    sources[key] = note;
  }
  const rowsOut: RowFit[] = rows.map((r, i) => ({ line: r.line, name: r.name, measuredS: r.latencyS, predictedS: predicted[i] as number, heldOutS: held.predicted[i] as number }));
  const processor: Processor = {
    ...calibrated,
    sources,
    calibration: { from: source, measurements: n, fitted: changes.filter((c) => c.fitted).map((c) => c.name), fit, residuals: rowsOut.map((r) => ({ architecture: r.name, measuredS: r.measuredS, predictedS: r.predictedS })) },
  };
  const withEnergy = rows.filter((r) => r.energyJ !== undefined);
  let energy: CalibrationResult['energy'];
  if (withEnergy.length >= 2) {
    const predictedJ = withEnergy.map((r) => estimateCost(lower(r.architecture), processor, { batch: r.batch }).energyJ);
    const measuredJ = withEnergy.map((r) => r.energyJ as number);
    energy = { spearman: spearman(predictedJ, measuredJ), mdape: medianAbsolutePercentageError(predictedJ, measuredJ) };
  }
  return { processor, changes, rows: rowsOut, fit, ...(energy ? { energy } : {}), warnings };
}
