/*
 * Training-mode batch norm, optionally fused with ReLU or ReLU6, forward and backward, over
 * NHWC tensors seen as [rows][channels]. TF.js composes this from moments, tile and broadcasts,
 * which costs more than the convolutions around it; here it is two passes each way.
 * Per-channel sums are accumulated in double (scratch provided by the caller) so that large
 * batches keep float32 accuracy. Pointers a function writes through never alias another of its
 * pointers: outputs are fresh tensors, partial sums live in the scratch.
 */
#include "kernels.h"

enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU6 = 2 };

static inline float activate(float z, int act) {
  if (act == ACT_NONE) return z;
  z = z > 0.0f ? z : 0.0f;
  return act == ACT_RELU6 && z > 6.0f ? 6.0f : z;
}

/* d(act)/dz as a 0/1 mask, from the pre-activation value. */
static inline float passes(float z, int act) {
  if (act == ACT_NONE) return 1.0f;
  if (z <= 0.0f) return 0.0f;
  return act == ACT_RELU6 && z >= 6.0f ? 0.0f : 1.0f;
}

/* Rows summed in float before each fold into the double totals: vectorised, yet accurate. */
#define CHUNK 64

/*
 * Scratch the caller provides (8 floats' room per channel), laid out as per-channel double
 * totals followed by float partial sums, so that no two pointers a kernel writes through alias.
 */
typedef struct {
  double *first, *second; /* double totals */
  float *p1, *p2, *shift; /* float partial sums of one chunk, and the statistics' shift */
} Scratch;

static Scratch scratch_of(double *acc, int channels) {
  float *f = (float *)(acc + 2 * channels);
  Scratch s = {acc, acc + channels, f, f + channels, f + 2 * channels};
  return s;
}

/* shift[c] = mean of rows [0, r1): close to the batch mean, so sums of x - shift do not cancel. */
static void first_rows_mean(const float *restrict x, float *restrict shift, int r1, int channels) {
  for (int c = 0; c < channels; c++) shift[c] = 0.0f;
  for (int r = 0; r < r1; r++) {
    const float *restrict row = x + (long)r * channels;
    for (int c = 0; c < channels; c++) shift[c] += row[c];
  }
  for (int c = 0; c < channels; c++) shift[c] /= (float)r1;
}

/* ps[c] = sum of d, pq[c] = sum of d*d over rows [r0, r1), with d = x - shift. */
static void shifted_sums(const float *restrict x, const float *restrict shift, float *restrict ps, float *restrict pq,
                         int r0, int r1, int channels) {
  for (int c = 0; c < channels; c++) ps[c] = pq[c] = 0.0f;
  for (int r = r0; r < r1; r++) {
    const float *restrict row = x + (long)r * channels;
    for (int c = 0; c < channels; c++) {
      float d = row[c] - shift[c];
      ps[c] += d;
      pq[c] += d * d;
    }
  }
}

static void fold(double *restrict total1, double *restrict total2, const float *restrict p1, const float *restrict p2,
                 int channels) {
  for (int c = 0; c < channels; c++) {
    total1[c] += p1[c];
    total2[c] += p2[c];
  }
}

/*
 * mean[c], the biased variance[c] and invstd[c] = 1/sqrt(variance + eps); acc holds 8*channels
 * floats' room.
 * The sums are of x - shift, with shift near the mean: E[x^2] - E[x]^2 would lose every digit of
 * the variance when |mean| >> std (mean 1000, std 0.01: the variance is 1e-10 of E[x^2]).
 */
EXPORT(bn_statistics)
void bn_statistics(const float *x, float *mean, float *invstd, float *variance, double *acc, int rows, int channels,
                   float epsilon) {
  Scratch s = scratch_of(acc, channels);
  for (int c = 0; c < channels; c++) s.first[c] = s.second[c] = 0.0;
  first_rows_mean(x, s.shift, rows < CHUNK ? rows : CHUNK, channels);
  for (int r0 = 0; r0 < rows; r0 += CHUNK) {
    int r1 = r0 + CHUNK < rows ? r0 + CHUNK : rows;
    shifted_sums(x, s.shift, s.p1, s.p2, r0, r1, channels);
    fold(s.first, s.second, s.p1, s.p2, channels);
  }
  for (int c = 0; c < channels; c++) {
    double d = rows > 0 ? s.first[c] / rows : 0.0; /* mean - shift */
    double var = rows > 0 ? s.second[c] / rows - d * d : 0.0;
    if (var < 0.0) var = 0.0;
    mean[c] = (float)((double)s.shift[c] + d);
    variance[c] = (float)var;
    invstd[c] = (float)(1.0 / __builtin_sqrt(var + epsilon));
  }
}

/* y = act((x - mean) * invstd * gamma + beta) */
EXPORT(bn_apply)
void bn_apply(const float *restrict x, const float *restrict mean, const float *restrict invstd,
              const float *restrict gamma, const float *restrict beta, float *restrict y,
              int rows, int channels, int act) {
  for (int r = 0; r < rows; r++) {
    const float *restrict in = x + (long)r * channels;
    float *restrict out = y + (long)r * channels;
    for (int c = 0; c < channels; c++) {
      float z = (in[c] - mean[c]) * invstd[c] * gamma[c] + beta[c];
      out[c] = activate(z, act);
    }
  }
}

/* Over rows [r0, r1): pz[c] = sum of dz, pzx[c] = sum of dz * x^ (dz = dy * act'(z)). */
static void backward_sums(const float *restrict dy, const float *restrict x, const float *restrict mean,
                          const float *restrict invstd, const float *restrict gamma, const float *restrict beta,
                          float *restrict pz, float *restrict pzx, int r0, int r1, int channels, int act) {
  for (int c = 0; c < channels; c++) pz[c] = pzx[c] = 0.0f;
  for (int r = r0; r < r1; r++) {
    const float *restrict g = dy + (long)r * channels;
    const float *restrict in = x + (long)r * channels;
    for (int c = 0; c < channels; c++) {
      float xhat = (in[c] - mean[c]) * invstd[c];
      float dz = g[c] * passes(xhat * gamma[c] + beta[c], act);
      pz[c] += dz;
      pzx[c] += dz * xhat;
    }
  }
}

static void backward_input(const float *restrict dy, const float *restrict x, const float *restrict mean,
                           const float *restrict invstd, const float *restrict gamma, const float *restrict beta,
                           const float *restrict dgamma, const float *restrict dbeta, float *restrict dx,
                           int rows, int channels, int act) {
  float inv_rows = 1.0f / rows;
  for (int r = 0; r < rows; r++) {
    const float *restrict g = dy + (long)r * channels;
    const float *restrict in = x + (long)r * channels;
    float *restrict out = dx + (long)r * channels;
    for (int c = 0; c < channels; c++) {
      float xhat = (in[c] - mean[c]) * invstd[c];
      float dz = g[c] * passes(xhat * gamma[c] + beta[c], act);
      out[c] = gamma[c] * invstd[c] * (dz - dbeta[c] * inv_rows - xhat * dgamma[c] * inv_rows);
    }
  }
}

/*
 * Gradients of y = act(BN(x)) with batch statistics: with dz = dy * act'(z) and x^ the normalised
 * input, dbeta = sum dz, dgamma = sum dz * x^, dx = gamma * invstd * (dz - dbeta/m - x^ * dgamma/m).
 * acc holds 8*channels floats' room.
 */
EXPORT(bn_backward)
void bn_backward(const float *dy, const float *x, const float *mean, const float *invstd, const float *gamma,
                 const float *beta, float *dx, float *dgamma, float *dbeta, double *acc, int rows, int channels,
                 int act) {
  Scratch s = scratch_of(acc, channels);
  for (int c = 0; c < channels; c++) s.first[c] = s.second[c] = 0.0;
  for (int r0 = 0; r0 < rows; r0 += CHUNK) {
    int r1 = r0 + CHUNK < rows ? r0 + CHUNK : rows;
    backward_sums(dy, x, mean, invstd, gamma, beta, s.p1, s.p2, r0, r1, channels, act);
    fold(s.first, s.second, s.p1, s.p2, channels);
  }
  for (int c = 0; c < channels; c++) {
    dbeta[c] = (float)s.first[c];
    dgamma[c] = (float)s.second[c];
  }
  backward_input(dy, x, mean, invstd, gamma, beta, dgamma, dbeta, dx, rows, channels, act);
}
