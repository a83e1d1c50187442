/**
 * Latency of an exported model on this machine, through onnxruntime-node: warm-up runs, then
 * timed runs; the median is the figure (machines are noisy), with the 10th and 90th percentiles.
 */
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';

export interface MeasureOptions {
  runs: number;
  warmup: number;
  batch: number;
  /** Intra-op threads of onnxruntime (1 for a single core). */
  threads: number;
}

export interface Measurement {
  medianS: number;
  p10S: number;
  p90S: number;
  runs: number;
  input: number[];
}

export const DEFAULT_MEASURE: MeasureOptions = { runs: 30, warmup: 5, batch: 1, threads: 1 };

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))] as number;
}

/** The model's input shape with the batch dimension set. */
function inputShape(model: Uint8Array, batch: number): number[] {
  const decoded = onnxProto.onnx.ModelProto.decode(model);
  const input = decoded.graph?.input?.[0];
  const dims = input?.type?.tensorType?.shape?.dim ?? [];
  if (!input || dims.length === 0) throw new Error('the model declares no input shape');
  return dims.map((d, i) => (i === 0 ? batch : Number(d.dimValue ?? 0))).map((d) => {
    if (!(d > 0)) throw new Error('the model input has a dynamic dimension besides the batch');
    return d;
  });
}

export async function measureOnnx(model: Uint8Array, options: Partial<MeasureOptions> = {}): Promise<Measurement> {
  const o = { ...DEFAULT_MEASURE, ...options };
  const shape = inputShape(model, o.batch);
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: o.threads, interOpNumThreads: 1, executionMode: 'sequential' });
  try {
    const name = session.inputNames[0] as string;
    const feed = { [name]: new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), shape) };
    for (let i = 0; i < o.warmup; i++) await session.run(feed);
    const times: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      const t0 = performance.now();
      await session.run(feed);
      times.push((performance.now() - t0) / 1000);
    }
    times.sort((a, b) => a - b);
    return { medianS: quantile(times, 0.5), p10S: quantile(times, 0.1), p90S: quantile(times, 0.9), runs: o.runs, input: shape };
  } finally {
    await session.release();
  }
}

/** Spearman's rank correlation of two paired samples (average ranks for ties). */
export function spearman(a: number[], b: number[]): number {
  const ranks = (xs: number[]): number[] => {
    const order = xs.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(xs.length);
    for (let i = 0; i < order.length; ) {
      let j = i;
      while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
      for (let k = i; k <= j; k++) r[order[k]![1]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

/** Kendall's rank correlation τ-b of two paired samples (ties neither concordant nor discordant). */
export function kendall(a: number[], b: number[]): number {
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign(a[i]! - a[j]!);
      const db = Math.sign(b[i]! - b[j]!);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  }
  return (concordant - discordant) / Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
}

/** Median absolute percentage error of predictions against measurements (0.1: 10 %). */
export function medianAbsolutePercentageError(predicted: number[], measured: number[]): number {
  const errors = predicted.map((p, i) => Math.abs(p - measured[i]!) / measured[i]!).sort((x, y) => x - y);
  const mid = Math.floor(errors.length / 2);
  return errors.length % 2 ? errors[mid]! : (errors[mid - 1]! + errors[mid]!) / 2;
}
