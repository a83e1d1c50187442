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
import type { Measurement } from './measurements.js';

export interface ParameterChange {
  name: Parameter | 'fusion' | 'doubleBuffer';
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
  'dram.bandwidth': 'the DRAM bandwidth',
  'dram.latency': 'the DRAM latency per transfer',
  'compute.utilisation.conv': 'the utilisation of convolutions',
  'compute.utilisation.pointwise': 'the utilisation of pointwise convolutions',
  'compute.utilisation.depthwise': 'the utilisation of depthwise convolutions',
  'compute.utilisation.dense': 'the utilisation of dense layers',
  'compute.utilisation.elementwise': 'the utilisation of elementwise work',
  'compute.layerOverhead': 'the layer overhead',
};

function featuresFor(rows: Measurement[], p: Processor): Features[] {
  return rows.map((m) => featuresOf(estimateCost(lower(m.architecture), p, { batch: m.batch, layers: true }), p));
}

/** A fit, with parameters the data cannot identify held at the profile's values. */
function identifiedFit(features: Features[], measured: number[], p: Processor, theta0: number[]): Fit {
  const first = fitParameters(features, measured, p, theta0, PARAMETERS.map(() => true));
  const free = sensitivities(features, p, first.theta).map((s) => s >= IDENTIFIABLE);
  return free.every(Boolean) ? first : fitParameters(features, measured, p, theta0, free);
}

function withParameters(p: Processor, theta: number[]): Processor {
  const [bandwidth, latency, conv, pointwise, depthwise, dense, elementwise, layerOverhead] = theta as [number, number, number, number, number, number, number, number];
  return {
    ...p,
    dram: { ...p.dram, bandwidth, latency },
    compute: { ...p.compute, utilisation: { conv, pointwise, depthwise, dense, elementwise }, layerOverhead },
  };
}

/** Predictions of each measurement by fits that did not see it: leave-one-out up to 60 rows, else 10 folds. */
function heldOut(features: Features[], measured: number[], p: Processor, theta0: number[], free: boolean[]): { predicted: number[]; folds: string } {
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
  // Fusion and double buffering change what reaches DRAM: try each, keep the one whose fits
  // predict the measurements they did not see best. The profile's own settings are tried first
  // and kept unless another predicts clearly better (by a tenth): the continuous parameters can
  // often make up for a wrong setting within the noise, and the profile's is the physics we know.
  let best: { p: Processor; fit: Fit; heldOut: number } | undefined;
  let first: Processor | undefined;
  const fusions = [base.fusion, ...FUSION_POLICIES.filter((f) => f !== base.fusion)];
  for (const fusion of fusions) {
    for (const doubleBuffer of [base.doubleBuffer, !base.doubleBuffer]) {
      const p = withProcessor(base, { fusion, doubleBuffer });
      first ??= p;
      const features = featuresFor(rows, p);
      const fit = identifiedFit(features, measured, p, theta0);
      const error = medianAbsolutePercentageError(heldOut(features, measured, p, theta0, fit.free).predicted, measured);
      if (!best || error < best.heldOut * (best.p === first ? 0.9 : 1) - 1e-12) best = { p, fit, heldOut: error };
    }
  }
  const chosen = best as { p: Processor; fit: Fit };
  // The mappings were chosen under the old parameters: cost again under the fitted ones, refit.
  const fitted = withParameters(chosen.p, chosen.fit.theta);
  const features = featuresFor(rows, fitted);
  const free = chosen.fit.free;
  const final = fitParameters(features, measured, fitted, theta0, free);
  const held = heldOut(features, measured, fitted, theta0, free);
  const predicted = Array.from(final.predicted);

  const n = rows.length;
  const changes: ParameterChange[] = [
    ...PARAMETERS.map((name, j) => ({ name, before: theta0[j] as number, after: final.theta[j] as number, fitted: free[j] as boolean })),
    { name: 'fusion', before: base.fusion, after: chosen.p.fusion, fitted: true },
    { name: 'doubleBuffer', before: base.doubleBuffer, after: chosen.p.doubleBuffer, fitted: true },
  ];
  const warnings = PARAMETERS.flatMap((name, j) =>
    free[j] ? [] : [`${DESCRIPTIONS[name]} (${name}) moves no measured latency: the data cannot identify it, so it stays at ${theta0[j]}`],
  );
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
    ...withParameters(chosen.p, final.theta),
    sources,
    calibration: { from: source, measurements: n, fitted: changes.filter((c) => c.fitted).map((c) => c.name), fit, residuals: rowsOut.map((r) => ({ architecture: r.name, measuredS: r.measuredS, predictedS: r.predictedS })) },
  };
  const withEnergy = rows.map((r, i) => [r, i] as const).filter(([r]) => r.energyJ !== undefined);
  let energy: CalibrationResult['energy'];
  if (withEnergy.length >= 2) {
    const predictedJ = withEnergy.map(([r]) => estimateCost(lower(r.architecture), processor, { batch: r.batch }).energyJ);
    const measuredJ = withEnergy.map(([r]) => r.energyJ as number);
    energy = { spearman: spearman(predictedJ, measuredJ), mdape: medianAbsolutePercentageError(predictedJ, measuredJ) };
  }
  return { processor, changes, rows: rowsOut, fit, ...(energy ? { energy } : {}), warnings };
}
