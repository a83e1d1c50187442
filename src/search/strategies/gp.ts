/**
 * A Gaussian-process model of the prediction error over a categorical space, for the Bayesian
 * strategy. An architecture is a set of categorical tokens (`SearchSpace.features`: one per
 * gene, such as "edge 2 = conv 3x3" or "stage 1, block 0, kernel = 5", and a NAS-Bench-201
 * cell's totals, such as "nor_conv_3x3 ≥ 2"); two architectures are
 * as alike as the tokens they share. The kernel is the exponentiated overlap kernel of
 * categorical Bayesian optimisation (CASMOPOLITAN, Wan et al., ICML 2021; COMBO's diffusion
 * kernel has the same form): k(a, b) = σ² · exp(−θ · d(a, b)), with d half the size of the
 * symmetric difference of the token sets, which is the Hamming distance when both have the
 * same genes, and counts a block present in one only by its genes.
 *
 * The targets are standardised; θ and the noise share g (of σ²) are chosen on a grid by the
 * leave-one-out predictive probability (see `leaveOneOut`), with σ² at its closed-form maximum
 * for each pair. Between refits (every 20% more points) a point joins by extending the Cholesky
 * factor, O(n²).
 */

/** θ: how fast similarity falls per differing gene. */
const THETAS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2.5];
/** g: observation noise as a share of the signal variance (trainings are noisy; tables are not). */
const NOISES = [1e-6, 1e-4, 3e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 0.05, 0.1, 0.2];
/** The most points the choice of θ and g looks at. */
const FIT_POINTS = 256;
/** Refit the hyperparameters when the points have grown by this factor since the last fit. */
const REFIT_GROWTH = 1.2;

export interface Prediction {
  mean: number;
  /** Standard deviation of the latent error (noise excluded). */
  sd: number;
  /**
   * Standard deviation of a new observation: the latent's and the noise's. Two trainings of one
   * network, or of two networks that compute the same function, differ by this much.
   */
  observedSd: number;
}

export class CategoricalGp {
  private readonly ids = new Map<string, number>();
  private readonly xs: Int32Array[] = [];
  private readonly ys: number[] = [];
  private theta = 0.5;
  private noise = 1e-2;
  /** Standardisation of the targets at the last fit. */
  private shift = 0;
  private scale = 1;
  /** Signal variance (standardised units) at the last fit. */
  private signal = 1;
  /** Lower-triangular Cholesky factor of R + g·I, row-major, n × n (n = this.xs.length at fit). */
  private chol: Float64Array = new Float64Array(0);
  private alpha: Float64Array = new Float64Array(0);
  private fitted = 0;
  /** exp(−θ·j/2) by j, for the current θ. */
  private table: number[] = [];
  private readonly buffers: [Float64Array, Float64Array] = [new Float64Array(64), new Float64Array(64)];

  get size(): number {
    return this.xs.length;
  }

  /** Adds an observation: the error of an architecture (`encode`d). */
  add(x: Int32Array, y: number): void {
    this.xs.push(x);
    this.ys.push(y);
    if (this.xs.length >= Math.max(3, this.fitted * REFIT_GROWTH)) this.refit();
    else this.extend();
  }

  /** The model's error at an architecture (`encode`d); the prior before any point. */
  predict(x: Int32Array): Prediction {
    const n = this.xs.length;
    if (n === 0) return { mean: 0, sd: 1, observedSd: 1 };
    const r = this.correlations(x);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += (r[i] as number) * (this.alpha[i] as number);
    // v = L⁻¹ r; the latent variance is σ²(1 − v·v).
    const v = forward(this.chol, n, r, this.scratch(1, n));
    let vv = 0;
    for (let i = 0; i < n; i++) vv += (v[i] as number) ** 2;
    return this.prediction(mean, Math.max(0, 1 - vv));
  }

  /**
   * The mean and an upper bound of the sd, O(n): the variance given all points is at most the
   * variance given the single most similar one. Enough to bound a candidate's promise from above.
   */
  predictCheaply(x: Int32Array): Prediction {
    const n = this.xs.length;
    if (n === 0) return { mean: 0, sd: 1, observedSd: 1 };
    const r = this.correlations(x);
    let mean = 0;
    let nearest = 0;
    for (let i = 0; i < n; i++) {
      mean += (r[i] as number) * (this.alpha[i] as number);
      if ((r[i] as number) > nearest) nearest = r[i] as number;
    }
    return this.prediction(mean, Math.max(0, 1 - (nearest * nearest) / (1 + this.noise)));
  }

  /** From standardised units: the mean and the latent variance as a share of the signal's. */
  private prediction(mean: number, share: number): Prediction {
    return {
      mean: this.shift + this.scale * mean,
      sd: this.scale * Math.sqrt(this.signal * share),
      observedSd: this.scale * Math.sqrt(this.signal * (share + this.noise)),
    };
  }

  /**
   * An architecture's tokens as sorted ids, to pass to `predict` (encode once, predict often).
   * Every token gets an id: a space's tokens are a small vocabulary.
   */
  encode(tokens: readonly string[]): Int32Array {
    const out = new Int32Array(tokens.length);
    tokens.forEach((t, i) => {
      let id = this.ids.get(t);
      if (id === undefined) {
        id = this.ids.size;
        this.ids.set(t, id);
      }
      out[i] = id;
    });
    return out.sort();
  }

  /** The kernel's correlation of x with every point (a scratch buffer, valid until the next call). */
  private correlations(x: Int32Array): Float64Array {
    const n = this.xs.length;
    const r = this.scratch(0, n);
    for (let i = 0; i < n; i++) r[i] = this.correlation(difference(x, this.xs[i] as Int32Array));
    return r;
  }

  /** exp(−θ·d) for a symmetric difference of `diff` tokens (d = diff / 2), from a table. */
  private correlation(diff: number): number {
    let k = this.table[diff];
    if (k === undefined) {
      for (let j = this.table.length; j <= diff; j++) this.table[j] = Math.exp((-this.theta * j) / 2);
      k = this.table[diff] as number;
    }
    return k;
  }

  private scratch(which: 0 | 1, n: number): Float64Array {
    let buffer = this.buffers[which];
    if (buffer.length < n) {
      buffer = new Float64Array(Math.max(n, 2 * buffer.length));
      this.buffers[which] = buffer;
    }
    return buffer.subarray(0, n);
  }

  /**
   * Chooses θ, g and σ² by the leave-one-out predictive probability and factorises anew. The
   * choice looks at no more than FIT_POINTS points, spread evenly over the order they came in:
   * each pair of the grid costs a factorisation, and a long search must not slow down as n³
   * times the grid.
   */
  private refit(): void {
    const n = this.xs.length;
    const mean = this.ys.reduce((s, y) => s + y, 0) / n;
    const sd = Math.sqrt(this.ys.reduce((s, y) => s + (y - mean) ** 2, 0) / n);
    this.shift = mean;
    this.scale = sd > 1e-12 ? sd : 1;
    const y = Float64Array.from(this.ys, (v) => (v - this.shift) / this.scale);
    const subset = n <= FIT_POINTS ? [...Array(n).keys()] : Array.from({ length: FIT_POINTS }, (_, i) => Math.floor((i * n) / FIT_POINTS));
    let best: { logLik: number; theta: number; noise: number; signal: number } | undefined;
    // The distances once: every pair of (θ, g) of the grid re-weighs the same ones.
    const distances = this.differences(subset);
    for (const theta of THETAS) {
      for (const noise of NOISES) {
        const fit = this.factorise(subset, distances, y, theta, noise);
        const score = fit && leaveOneOut(fit.chol, fit.alpha, subset.length);
        if (score && (!best || score.logLik > best.logLik)) best = { ...score, theta, noise };
      }
    }
    const everyone = [...Array(n).keys()];
    const all = best && this.factorise(everyone, this.differences(everyone), y, best.theta, best.noise);
    if (!best || !all) throw new Error('internal: no kernel of the grid factorises');
    this.theta = best.theta;
    this.noise = best.noise;
    this.signal = best.signal;
    ({ chol: this.chol, alpha: this.alpha } = all);
    this.table = [];
    this.fitted = n;
  }

  /** The symmetric difference of each pair i > j of the points `at` (row-major, n × n). */
  private differences(at: readonly number[]): Int32Array {
    const n = at.length;
    const diff = new Int32Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) diff[i * n + j] = difference(this.xs[at[i] as number] as Int32Array, this.xs[at[j] as number] as Int32Array);
    }
    return diff;
  }

  /** The factor of R + g·I over the points `at` (`diff`: their `differences`), and the weights α = (R + g·I)⁻¹ y. */
  private factorise(at: readonly number[], diff: Int32Array, ys: Float64Array, theta: number, noise: number): { chol: Float64Array; alpha: Float64Array } | undefined {
    const n = at.length;
    const y = Float64Array.from(at, (i) => ys[i] as number);
    const k = new Float64Array(n * n);
    const table: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        const d = diff[i * n + j] as number;
        k[i * n + j] = k[j * n + i] = table[d] ??= Math.exp((-theta * d) / 2);
      }
      k[i * n + i] = 1 + noise;
    }
    const chol = cholesky(k, n);
    if (!chol) return undefined;
    return { chol, alpha: backward(chol, n, forward(chol, n, y)) };
  }

  /** The newest point joins the factor with the hyperparameters kept. */
  private extend(): void {
    const n = this.xs.length;
    const m = n - 1;
    const x = this.xs[m] as Int32Array;
    const r = new Float64Array(m);
    for (let i = 0; i < m; i++) r[i] = this.correlation(difference(x, this.xs[i] as Int32Array));
    const l = forward(this.chol, m, r);
    let ll = 0;
    for (let i = 0; i < m; i++) ll += (l[i] as number) ** 2;
    const chol = new Float64Array(n * n);
    for (let i = 0; i < m; i++) chol.set(this.chol.subarray(i * m, i * m + i + 1), i * n);
    chol.set(l, m * n);
    chol[m * n + m] = Math.sqrt(Math.max(1 + this.noise - ll, 1e-12));
    this.chol = chol;
    const y = Float64Array.from(this.ys, (v) => (v - this.shift) / this.scale);
    this.alpha = backward(chol, n, forward(chol, n, y));
  }
}

/**
 * The leave-one-out log predictive probability of the points (Rasmussen & Williams 2006, §5.4.2),
 * with σ² at its maximum: the i-th point's prediction from the others has residual α_i / [K⁻¹]_ii
 * and variance σ²/[K⁻¹]_ii, so it scores the model by how well calibrated its predictions of
 * unseen points are, which is what the acquisition spends, rather than by the evidence.
 */
export function leaveOneOut(chol: Float64Array, alpha: Float64Array, n: number): { signal: number; logLik: number } {
  // [K⁻¹]_ii = Σ_k (L⁻¹)_ki²: the squared norms of the columns of L⁻¹, built column by column.
  const diag = new Float64Array(n);
  const column = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    for (let i = j; i < n; i++) {
      let s = i === j ? 1 : 0;
      for (let k = j; k < i; k++) s -= (chol[i * n + k] as number) * (column[k] as number);
      column[i] = s / (chol[i * n + i] as number);
    }
    for (let i = j; i < n; i++) diag[j] = (diag[j] as number) + (column[i] as number) ** 2;
  }
  let sumLogVariance = 0;
  let sumScaled = 0;
  for (let i = 0; i < n; i++) {
    const d = diag[i] as number;
    const residual = (alpha[i] as number) / d;
    sumLogVariance += -Math.log(d);
    sumScaled += residual * residual * d;
  }
  const signal = Math.max(sumScaled / n, 1e-12);
  return { signal, logLik: -0.5 * sumLogVariance - 0.5 * n * Math.log(signal) - 0.5 * n };
}

/** The size of the symmetric difference of two sorted token-id sets (twice the distance d). */
function difference(a: Int32Array, b: Int32Array): number {
  let i = 0;
  let j = 0;
  let shared = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      shared++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return a.length + b.length - 2 * shared;
}

/** The lower Cholesky factor of a symmetric n × n matrix, or undefined when not positive definite. */
function cholesky(a: Float64Array, n: number): Float64Array | undefined {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j] as number;
      for (let k = 0; k < j; k++) s -= (l[i * n + k] as number) * (l[j * n + k] as number);
      if (i === j) {
        if (s <= 0) return undefined;
        l[i * n + i] = Math.sqrt(s);
      } else l[i * n + j] = s / (l[j * n + j] as number);
    }
  }
  return l;
}

/** Solves L x = b (into `out` when given). */
function forward(l: Float64Array, n: number, b: Float64Array, out?: Float64Array): Float64Array {
  const x = out ?? new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (l[i * n + k] as number) * (x[k] as number);
    x[i] = s / (l[i * n + i] as number);
  }
  return x;
}

/** Solves Lᵀ x = b. */
function backward(l: Float64Array, n: number, b: Float64Array): Float64Array {
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i] as number;
    for (let k = i + 1; k < n; k++) s -= (l[k * n + i] as number) * (x[k] as number);
    x[i] = s / (l[i * n + i] as number);
  }
  return x;
}
