/*
 * Training-mode batch norm, optionally fused with ReLU or ReLU6, forward and backward, over
 * NHWC tensors seen as [rows][channels]. TF.js composes this from moments, tile and broadcasts,
 * which costs more than the convolutions around it; here it is two passes each way.
 *
 * Every pass walks the rows in chunks of CHUNK (a chunk's rows stay in L1/L2) and, within a
 * chunk, the channels in blocks of BLOCK (4 vectors), then VEC, then one by one: a block's sums
 * and per-channel parameters are fixed-size arrays unrolled in full, so that they live in
 * registers over the chunk's rows. Sums kept in memory instead (one load and one store per
 * element and a dependency through memory from row to row) held these passes to a quarter of
 * the machine's bandwidth. Per-channel sums are folded into double totals (scratch provided by
 * the caller) after each chunk, so that large batches keep float32 accuracy. Pointers a function
 * writes through never alias another of its pointers: outputs are fresh tensors, partial sums
 * live in the scratch.
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

/* Channels whose sums and parameters one block keeps in registers. */
#define BLOCK (4 * VEC)

/*
 * Calls BODY(c0, width) over the channels [0, channels): blocks of BLOCK, then VEC, then single
 * channels; `width` is a constant at each call, so that each body unrolls for it.
 */
#define EACH_BLOCK(channels, BODY)                                    \
  do {                                                                \
    int c0_ = 0;                                                      \
    for (; c0_ + BLOCK <= (channels); c0_ += BLOCK) BODY(c0_, BLOCK); \
    for (; c0_ + VEC <= (channels); c0_ += VEC) BODY(c0_, VEC);       \
    for (; c0_ < (channels); c0_++) BODY(c0_, 1);                   \
  } while (0)

#define INLINE static inline __attribute__((always_inline))

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

/* A block's float sums of one chunk of rows into the per-channel double totals. */
INLINE void fold(double *restrict total1, double *restrict total2, const float s1[BLOCK], const float s2[BLOCK], int c0,
                 int width) {
#pragma clang loop unroll(full)
  for (int j = 0; j < width; j++) {
    total1[c0 + j] += s1[j];
    total2[c0 + j] += s2[j];
  }
}

/*
 * Over rows [r0, r1) and channels [c0, c0 + width): d = x - shift summed into the totals, once
 * and squared.
 */
INLINE void shifted_sums(const float *restrict x, const float *restrict shift, double *restrict total1,
                         double *restrict total2, int r0, int r1, int channels, int c0, int width) {
  float sh[BLOCK], s1[BLOCK], s2[BLOCK];
#pragma clang loop unroll(full)
  for (int j = 0; j < width; j++) {
    sh[j] = shift[c0 + j];
    s1[j] = s2[j] = 0.0f;
  }
  for (int r = r0; r < r1; r++) {
    const float *restrict row = x + (long)r * channels + c0;
#pragma clang loop unroll(full)
    for (int j = 0; j < width; j++) {
      float d = row[j] - sh[j];
      s1[j] += d;
      s2[j] += d * d;
    }
  }
  fold(total1, total2, s1, s2, c0, width);
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
#define SUMS(c0, width) shifted_sums(x, s.shift, s.first, s.second, r0, r1, channels, c0, width)
    EACH_BLOCK(channels, SUMS);
#undef SUMS
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

/*
 * y = act((x - mean) * (invstd * gamma) + beta) over rows [r0, r1), channels [c0, c0 + width).
 * Not x * scale + (beta - mean * scale): where the mean dwarfs the spread, the two products
 * would cancel to a few bits.
 */
INLINE void apply_block(const float *restrict x, const float *restrict mean, const float *restrict invstd,
                        const float *restrict gamma, const float *restrict beta, float *restrict y, int r0, int r1,
                        int channels, int c0, int width, int act) {
  float m[BLOCK], k[BLOCK], b[BLOCK];
#pragma clang loop unroll(full)
  for (int j = 0; j < width; j++) {
    m[j] = mean[c0 + j];
    k[j] = invstd[c0 + j] * gamma[c0 + j];
    b[j] = beta[c0 + j];
  }
  for (int r = r0; r < r1; r++) {
    const float *restrict in = x + (long)r * channels + c0;
    float *restrict out = y + (long)r * channels + c0;
#pragma clang loop unroll(full)
    for (int j = 0; j < width; j++) out[j] = activate((in[j] - m[j]) * k[j] + b[j], act);
  }
}

INLINE void apply_rows(const float *restrict x, const float *restrict mean, const float *restrict invstd,
                       const float *restrict gamma, const float *restrict beta, float *restrict y, int rows,
                       int channels, int act) {
  for (int r0 = 0; r0 < rows; r0 += CHUNK) {
    int r1 = r0 + CHUNK < rows ? r0 + CHUNK : rows;
#define APPLY(c0, width) apply_block(x, mean, invstd, gamma, beta, y, r0, r1, channels, c0, width, act)
    EACH_BLOCK(channels, APPLY);
#undef APPLY
  }
}

/* y = act((x - mean) * invstd * gamma + beta); one body per activation, so that none branches. */
EXPORT(bn_apply)
void bn_apply(const float *restrict x, const float *restrict mean, const float *restrict invstd,
              const float *restrict gamma, const float *restrict beta, float *restrict y,
              int rows, int channels, int act) {
  if (act == ACT_RELU) apply_rows(x, mean, invstd, gamma, beta, y, rows, channels, ACT_RELU);
  else if (act == ACT_RELU6) apply_rows(x, mean, invstd, gamma, beta, y, rows, channels, ACT_RELU6);
  else apply_rows(x, mean, invstd, gamma, beta, y, rows, channels, ACT_NONE);
}

/* dz = dy * act'(z) at z = x^ * gamma + beta: the gradient at the pre-activation, as both backward passes take it. */
INLINE float through_activation(float dy, float xhat, float gamma, float beta, int act) {
  return dy * passes(xhat * gamma + beta, act);
}

/*
 * Over rows [r0, r1), channels [c0, c0 + width): sum of dz and of dz * x^ into the totals
 * (dz = dy * act'(z), x^ the normalised input, z = x^ * gamma + beta).
 */
INLINE void backward_sums(const float *restrict dy, const float *restrict x, const float *restrict mean,
                          const float *restrict invstd, const float *restrict gamma, const float *restrict beta,
                          double *restrict total1, double *restrict total2, int r0, int r1, int channels, int c0,
                          int width, int act) {
  float m[BLOCK], is[BLOCK], g[BLOCK], b[BLOCK], s1[BLOCK], s2[BLOCK];
#pragma clang loop unroll(full)
  for (int j = 0; j < width; j++) {
    m[j] = mean[c0 + j];
    is[j] = invstd[c0 + j];
    g[j] = gamma[c0 + j];
    b[j] = beta[c0 + j];
    s1[j] = s2[j] = 0.0f;
  }
  for (int r = r0; r < r1; r++) {
    const float *restrict gr = dy + (long)r * channels + c0;
    const float *restrict in = x + (long)r * channels + c0;
#pragma clang loop unroll(full)
    for (int j = 0; j < width; j++) {
      float xhat = (in[j] - m[j]) * is[j];
      float dz = through_activation(gr[j], xhat, g[j], b[j], act);
      s1[j] += dz;
      s2[j] += dz * xhat;
    }
  }
  fold(total1, total2, s1, s2, c0, width);
}

/*
 * dx = gamma * invstd * (dz - dbeta/m - x^ * dgamma/m) over rows [r0, r1), channels
 * [c0, c0 + width); k1 = gamma * invstd, k2 = dbeta / m, k3 = dgamma / m per channel.
 */
INLINE void backward_input(const float *restrict dy, const float *restrict x, const float *restrict mean,
                           const float *restrict invstd, const float *restrict gamma, const float *restrict beta,
                           const float *restrict k1, const float *restrict k2, const float *restrict k3,
                           float *restrict dx, int r0, int r1, int channels, int c0, int width, int act) {
  float m[BLOCK], is[BLOCK], g[BLOCK], b[BLOCK], a1[BLOCK], a2[BLOCK], a3[BLOCK];
#pragma clang loop unroll(full)
  for (int j = 0; j < width; j++) {
    m[j] = mean[c0 + j];
    is[j] = invstd[c0 + j];
    g[j] = gamma[c0 + j];
    b[j] = beta[c0 + j];
    a1[j] = k1[c0 + j];
    a2[j] = k2[c0 + j];
    a3[j] = k3[c0 + j];
  }
  for (int r = r0; r < r1; r++) {
    const float *restrict gr = dy + (long)r * channels + c0;
    const float *restrict in = x + (long)r * channels + c0;
    float *restrict out = dx + (long)r * channels + c0;
#pragma clang loop unroll(full)
    for (int j = 0; j < width; j++) {
      float xhat = (in[j] - m[j]) * is[j];
      float dz = through_activation(gr[j], xhat, g[j], b[j], act);
      out[j] = a1[j] * (dz - a2[j] - xhat * a3[j]);
    }
  }
}

INLINE void backward_rows(const float *dy, const float *x, const float *mean, const float *invstd, const float *gamma,
                          const float *beta, float *dx, float *dgamma, float *dbeta, Scratch s, int rows,
                          int channels, int act) {
  for (int c = 0; c < channels; c++) s.first[c] = s.second[c] = 0.0;
  for (int r0 = 0; r0 < rows; r0 += CHUNK) {
    int r1 = r0 + CHUNK < rows ? r0 + CHUNK : rows;
#define SUMS(c0, width) backward_sums(dy, x, mean, invstd, gamma, beta, s.first, s.second, r0, r1, channels, c0, width, act)
    EACH_BLOCK(channels, SUMS);
#undef SUMS
  }
  /* The float partial sums' room now holds the per-channel factors of the input gradient. */
  float *k1 = s.p1, *k2 = s.p2, *k3 = s.shift;
  float inv_rows = 1.0f / rows;
  for (int c = 0; c < channels; c++) {
    dbeta[c] = (float)s.first[c];
    dgamma[c] = (float)s.second[c];
    k1[c] = gamma[c] * invstd[c];
    k2[c] = dbeta[c] * inv_rows;
    k3[c] = dgamma[c] * inv_rows;
  }
  for (int r0 = 0; r0 < rows; r0 += CHUNK) {
    int r1 = r0 + CHUNK < rows ? r0 + CHUNK : rows;
#define INPUT(c0, width) backward_input(dy, x, mean, invstd, gamma, beta, k1, k2, k3, dx, r0, r1, channels, c0, width, act)
    EACH_BLOCK(channels, INPUT);
#undef INPUT
  }
}

/*
 * Gradients of y = act(BN(x)) with batch statistics: with dz = dy * act'(z) and x^ the normalised
 * input, dbeta = sum dz, dgamma = sum dz * x^, dx = gamma * invstd * (dz - dbeta/m - x^ * dgamma/m).
 * acc holds 8*channels floats' room. One body per activation, so that none branches.
 */
EXPORT(bn_backward)
void bn_backward(const float *dy, const float *x, const float *mean, const float *invstd, const float *gamma,
                 const float *beta, float *dx, float *dgamma, float *dbeta, double *acc, int rows, int channels,
                 int act) {
  Scratch s = scratch_of(acc, channels);
  if (act == ACT_RELU) backward_rows(dy, x, mean, invstd, gamma, beta, dx, dgamma, dbeta, s, rows, channels, ACT_RELU);
  else if (act == ACT_RELU6) backward_rows(dy, x, mean, invstd, gamma, beta, dx, dgamma, dbeta, s, rows, channels, ACT_RELU6);
  else backward_rows(dy, x, mean, invstd, gamma, beta, dx, dgamma, dbeta, s, rows, channels, ACT_NONE);
}
