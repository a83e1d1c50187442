/*
 * Training-mode batch norm, optionally fused with ReLU or ReLU6, forward and backward, over
 * NHWC tensors seen as [rows][channels]. TF.js composes this from moments, tile and broadcasts,
 * which costs more than the convolutions around it; here it is two passes each way.
 * Per-channel sums are accumulated in double (scratch provided by the caller) so that large
 * batches keep float32 accuracy.
 */
#define EXPORT(name) __attribute__((export_name(#name)))

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

/* mean[c] and invstd[c] = 1/sqrt(biased variance + eps); acc holds 4*channels floats' room. */
EXPORT(bn_statistics)
void bn_statistics(const float *restrict x, float *restrict mean, float *restrict invstd, double *restrict acc,
                   int rows, int channels, float epsilon) {
  double *restrict sum = acc;
  double *restrict sq = acc + channels;
  /* The float partial sums live in mean and invstd until the end. */
  float *restrict ps = mean;
  float *restrict pq = invstd;
  for (int c = 0; c < channels; c++) sum[c] = sq[c] = 0.0;
  for (int r0 = 0; r0 < rows; r0 += CHUNK) {
    int r1 = r0 + CHUNK < rows ? r0 + CHUNK : rows;
    for (int c = 0; c < channels; c++) ps[c] = pq[c] = 0.0f;
    for (int r = r0; r < r1; r++) {
      const float *restrict row = x + (long)r * channels;
      for (int c = 0; c < channels; c++) {
        float v = row[c];
        ps[c] += v;
        pq[c] += v * v;
      }
    }
    for (int c = 0; c < channels; c++) {
      sum[c] += ps[c];
      sq[c] += pq[c];
    }
  }
  for (int c = 0; c < channels; c++) {
    double m = sum[c] / rows;
    double var = sq[c] / rows - m * m;
    if (var < 0.0) var = 0.0;
    mean[c] = (float)m;
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

/*
 * Gradients of y = act(BN(x)) with batch statistics: with dz = dy * act'(z) and x^ the normalised
 * input, dbeta = sum dz, dgamma = sum dz * x^, dx = gamma * invstd * (dz - dbeta/m - x^ * dgamma/m).
 */
EXPORT(bn_backward)
void bn_backward(const float *restrict dy, const float *restrict x, const float *restrict mean,
                 const float *restrict invstd, const float *restrict gamma, const float *restrict beta,
                 float *restrict dx, float *restrict dgamma, float *restrict dbeta, double *restrict acc,
                 int rows, int channels, int act) {
  double *restrict sum_dz = acc;
  double *restrict sum_dz_xhat = acc + channels;
  /* The float partial sums live in dbeta and dgamma until the end. */
  float *restrict pz = dbeta;
  float *restrict pzx = dgamma;
  for (int c = 0; c < channels; c++) sum_dz[c] = sum_dz_xhat[c] = 0.0;
  for (int r0 = 0; r0 < rows; r0 += CHUNK) {
    int r1 = r0 + CHUNK < rows ? r0 + CHUNK : rows;
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
    for (int c = 0; c < channels; c++) {
      sum_dz[c] += pz[c];
      sum_dz_xhat[c] += pzx[c];
    }
  }
  for (int c = 0; c < channels; c++) {
    dbeta[c] = (float)sum_dz[c];
    dgamma[c] = (float)sum_dz_xhat[c];
  }
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
