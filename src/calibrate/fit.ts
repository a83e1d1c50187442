/**
 * Fitting a processor profile's free parameters to measured latencies.
 *
 * The cost model's structure stays: each network is costed once with the profile (its mappings,
 * fusion, DRAM accesses per layer), and what the free parameters scale is kept apart per layer:
 *
 *   layer latency = combine(work / (peak · u[class]) + launches · overhead,
 *                           (bus bytes / bandwidth + rows · row cycle / banks) / (1 − refresh)
 *                           + exposed transfers · latency)
 *
 * with combine = max under double buffering, + without. The free parameters are the sustained
 * DRAM bandwidth, the per-transfer latency, the rate of each kind of work (peak × utilisation:
 * the profile's peak may be too low for the device, so the fit moves rates, and calibrate.ts
 * turns them back into utilisations no higher than 1 of a peak no lower than the fastest rate)
 * and the layer overhead; fusion and double buffering are discrete and tried each. The fit
 * minimises a robust (Huber) loss on log latency with a weak pull towards the profile's own
 * values, by Levenberg–Marquardt over log transforms (times and rates stay positive). A
 * parameter the data cannot move (e.g. the bandwidth when every network is compute-bound) is held
 * at its old value and said so.
 */
import type { CostReport } from '../cost/index.js';
import { UTILISATION_CLASSES } from '../cost/index.js';
import type { Processor } from '../processor/index.js';

/** The free parameters, in the order of the fit's vector; rates in MAC/s (elements/s for elementwise work). */
export const PARAMETERS = ['dram.bandwidth', 'dram.latency', 'rate.conv', 'rate.pointwise', 'rate.depthwise', 'rate.dense', 'rate.elementwise', 'compute.layerOverhead'] as const;
export type Parameter = (typeof PARAMETERS)[number];

/** Index of the first rate in the parameter vector (the five rates follow in UTILISATION_CLASSES order). */
const RATE = 2;

/** What a network's latency is made of, per layer, under one profile. */
export interface Features {
  cls: Int8Array;
  /** Compute seconds at the profile's rates, launches excluded. */
  work: Float64Array;
  launches: Float64Array;
  bus: Float64Array;
  rows: Float64Array;
  transfers: Float64Array;
}

export function featuresOf(report: CostReport, p: Processor): Features {
  const n = report.layers.length;
  const f: Features = {
    cls: new Int8Array(n),
    work: new Float64Array(n),
    launches: new Float64Array(n),
    bus: new Float64Array(n),
    rows: new Float64Array(n),
    transfers: new Float64Array(n),
  };
  report.layers.forEach((l, i) => {
    f.cls[i] = UTILISATION_CLASSES.indexOf(l.utilisation);
    f.work[i] = l.computeS - l.launches * p.compute.layerOverhead;
    f.launches[i] = l.launches;
    f.bus[i] = l.dramBusBytes;
    f.rows[i] = l.dramRowActivations;
    f.transfers[i] = l.dramTransfers;
  });
  return f;
}

/** The parameters of a profile, as a vector. */
export function parametersOf(p: Processor): number[] {
  const u = p.compute.utilisation;
  const peak = p.compute.peakMacsPerSecond;
  return [p.dram.bandwidth, p.dram.latency, ...[u.conv, u.pointwise, u.depthwise, u.dense, u.elementwise].map((x) => peak * x), p.compute.layerOverhead];
}

/** Predicted latencies of networks (their features) with parameters θ on a profile's fixed device and settings. */
export function predict(features: Features[], theta: number[], base: Processor): Float64Array {
  const [bandwidth, latency, ...rest] = theta as [number, number, ...number[]];
  const overhead = rest[5] as number;
  const rates0 = parametersOf(base).slice(2, 7);
  // Compute seconds scale with the ratio of old to new rate, per class.
  const scale = rates0.map((r, c) => r / (rest[c] as number));
  const d = base.dram;
  const perRow = d.rowCycle / d.banks;
  const busy = 1 / (1 - d.refreshFraction);
  const out = new Float64Array(features.length);
  features.forEach((f, r) => {
    let total = 0;
    for (let i = 0; i < f.work.length; i++) {
      const compute = (f.work[i] as number) * (scale[f.cls[i] as number] as number) + (f.launches[i] as number) * overhead;
      const transfers = f.transfers[i] as number;
      const dram = ((f.bus[i] as number) / bandwidth + (f.rows[i] as number) * perRow) * busy + (base.doubleBuffer ? Math.min(1, transfers) : transfers) * latency;
      total += base.doubleBuffer ? Math.max(compute, dram) : compute + dram;
    }
    out[r] = total;
  });
  return out;
}

/**
 * Bounded transforms between parameters and the fit's unconstrained variables, and where a fit
 * starts a parameter the profile leaves at 0 (a time of that order: at 0 itself, a logarithm
 * would give the fit no slope to follow).
 */
const TRANSFORMS: Array<{ to: (x: number) => number; from: (z: number) => number; lo: number; hi: number; start: number }> = PARAMETERS.map((name) =>
  name.startsWith('rate.')
    ? { to: Math.log, from: Math.exp, lo: Math.log(1e5), hi: Math.log(1e17), start: 1e10 }
    : name === 'dram.bandwidth'
      ? { to: Math.log, from: Math.exp, lo: Math.log(1e5), hi: Math.log(1e13), start: 1e9 }
      : { to: (t: number) => Math.log(Math.max(t, 1e-12)), from: Math.exp, lo: Math.log(1e-12), hi: Math.log(1e-2), start: name === 'dram.latency' ? 1e-7 : 1e-6 },
);

const toZ = (theta: number[]): number[] => theta.map((x, j) => TRANSFORMS[j]!.to(x));
const fromZ = (z: number[]): number[] => z.map((v, j) => TRANSFORMS[j]!.from(v));
const clampZ = (z: number[]): number[] => z.map((v, j) => Math.min(TRANSFORMS[j]!.hi, Math.max(TRANSFORMS[j]!.lo, v)));

/** Solves A x = b for a small dense system (Gaussian elimination with partial pivoting). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i] as number]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[pivot]![c]!)) pivot = r;
    [m[c], m[pivot]] = [m[pivot]!, m[c]!];
    const d = m[c]![c]!;
    if (Math.abs(d) < 1e-300) continue;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / d;
      if (f !== 0) for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => (Math.abs(row[i]!) < 1e-300 ? 0 : row[n]! / row[i]!));
}

export interface FitOptions {
  /**
   * The rates of all kinds of work move together, by one factor (the profile's ratios between
   * them kept): two parameters fewer for few measurements that do not tell the kinds apart.
   */
  sharedRates?: boolean;
  /** Huber threshold on log latency (0.1: 10 %). */
  huber?: number;
  /** Weight of the pull towards the profile's own values, per parameter, in the transformed space. */
  prior?: number;
  iterations?: number;
}

export interface Fit {
  theta: number[];
  /** Which parameters moved (the others are held at the profile's values). */
  free: boolean[];
  /** The rates moved together (by the factor of the first). */
  sharedRates: boolean;
  predicted: Float64Array;
}

/**
 * Fits θ to the measured latencies (seconds), starting from and pulled towards θ0; parameters
 * not `free` stay at θ0.
 */
export function fitParameters(features: Features[], measured: number[], base: Processor, theta0: number[], free: boolean[], options: FitOptions = {}): Fit {
  const huber = options.huber ?? 0.1;
  const strength = options.prior ?? 1e-5 * Math.max(1, measured.length);
  const z0 = clampZ(toZ(theta0));
  // A parameter the profile leaves at 0 has no value to be pulled back to: no prior on it.
  const prior = theta0.map((x) => (x > 0 ? strength : 0));
  const start = clampZ(toZ(theta0.map((x, j) => (x > 0 ? x : TRANSFORMS[j]!.start))));
  const logMeasured = measured.map(Math.log);
  const shared = options.sharedRates ?? false;
  // Shared rates: the first rate's variable carries them all; the others follow it.
  const varied = free.map((f, j) => f && !(shared && j > RATE && j < RATE + 5));
  const freeIndex = varied.map((f, j) => (f ? j : -1)).filter((j) => j >= 0);
  const expand = (z: number[]): number[] => (shared ? z.map((v, j) => (j > RATE && j < RATE + 5 ? (z0[j] as number) + (z[RATE] as number) - (z0[RATE] as number) : v)) : z);
  const residuals = (z: number[]): number[] => {
    const p = predict(features, fromZ(expand(z)), base);
    return logMeasured.map((m, i) => Math.log(Math.max(p[i] as number, 1e-15)) - m);
  };
  const weightsOf = (r: number[]): number[] => r.map((x) => (Math.abs(x) <= huber ? 1 : huber / Math.abs(x)));
  const robust = (r: number[]): number => r.reduce((s, x) => s + (Math.abs(x) <= huber ? x * x : huber * (2 * Math.abs(x) - huber)), 0);
  const objective = (z: number[], r: number[]): number => robust(r) + freeIndex.reduce((s, j) => s + (prior[j] as number) * ((z[j] as number) - (z0[j] as number)) ** 2, 0);
  let z = free.map((f, j) => (f ? (start[j] as number) : (z0[j] as number)));
  let r = residuals(z);
  let value = objective(z, r);
  let mu = 1e-2;
  const iterations = options.iterations ?? 60;
  for (let it = 0; it < iterations && freeIndex.length > 0; it++) {
    const w = weightsOf(r);
    // Jacobian of the residuals in the free variables, by forward differences.
    const h = 1e-5;
    const jacobian = freeIndex.map((j) => {
      const zj = [...z];
      zj[j] = (zj[j] as number) + h;
      const rj = residuals(zj);
      return rj.map((x, i) => (x - (r[i] as number)) / h);
    });
    const k = freeIndex.length;
    const a = Array.from({ length: k }, (_, p) => Array.from({ length: k }, (_, q) => jacobian[p]!.reduce((s, x, i) => s + (w[i] as number) * x * jacobian[q]![i]!, 0)));
    const g = freeIndex.map((j, p) => jacobian[p]!.reduce((s, x, i) => s + (w[i] as number) * x * (r[i] as number), 0) + (prior[j] as number) * ((z[j] as number) - (z0[j] as number)));
    let improved = false;
    for (let tries = 0; tries < 12; tries++) {
      const damped = a.map((row, p) => row.map((x, q) => x + (p === q ? (prior[freeIndex[p] as number] as number) + mu * (1 + x) : 0)));
      const step = solve(damped, g.map((x) => -x));
      const candidate = [...z];
      freeIndex.forEach((j, p) => (candidate[j] = (candidate[j] as number) + (step[p] as number)));
      const bounded = clampZ(candidate);
      const rc = residuals(bounded);
      const vc = objective(bounded, rc);
      if (vc < value) {
        const gain = value - vc;
        z = bounded;
        r = rc;
        value = vc;
        mu = Math.max(mu / 3, 1e-9);
        improved = true;
        if (gain < 1e-12 * Math.max(1, value)) it = iterations;
        break;
      }
      mu *= 4;
    }
    if (!improved) break;
  }
  const followed = shared ? free.map((f, j) => f || (j > RATE && j < RATE + 5 && (free[RATE] as boolean))) : free;
  const theta = fromZ(expand(z)).map((x, j) => (followed[j] ? x : (theta0[j] as number)));
  return { theta, free: followed, sharedRates: shared, predicted: predict(features, theta, base) };
}

/**
 * How much each parameter can move the predictions: the largest change of a log latency per unit
 * of the parameter's transformed variable. Below `threshold` the data cannot identify it.
 */
export function sensitivities(features: Features[], base: Processor, theta: number[], sharedRates = false): number[] {
  const z = clampZ(toZ(theta));
  const at = predict(features, theta, base).map(Math.log);
  return PARAMETERS.map((_, j) => {
    const h = 1e-4;
    const moved = [...z];
    // With shared rates, the first rate stands for all of them.
    const together = sharedRates && j === RATE ? [RATE, RATE + 1, RATE + 2, RATE + 3, RATE + 4] : [j];
    for (const k of together) moved[k] = (moved[k] as number) + h;
    const p = predict(features, fromZ(moved), base);
    let most = 0;
    for (let i = 0; i < p.length; i++) most = Math.max(most, Math.abs((Math.log(p[i] as number) - (at[i] as number)) / h));
    return most;
  });
}
