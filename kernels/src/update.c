/*
 * Per-step updates of a network's state, each one pass over its tensors where TF.js would run a
 * chain of element-wise ops (and dispatch each): SGD with momentum, and an exponential moving
 * average (batch norm's running statistics). Outputs are fresh tensors: no pointer aliases another.
 */
#include "kernels.h"

/*
 * PyTorch's SGD with momentum and L2 decay: g' = g + decay * w; buffer' = g' on the first step,
 * else momentum * buffer + g'; w' = w - rate * buffer'.
 */
EXPORT(sgd_momentum)
void sgd_momentum(const float *restrict w, const float *restrict g, const float *restrict buffer,
                  float *restrict w_out, float *restrict buffer_out, int n, float rate, float momentum, float decay,
                  int first) {
  if (first) {
    for (int i = 0; i < n; i++) {
      float b = g[i] + decay * w[i];
      buffer_out[i] = b;
      w_out[i] = w[i] - rate * b;
    }
  } else {
    for (int i = 0; i < n; i++) {
      float b = momentum * buffer[i] + (g[i] + decay * w[i]);
      buffer_out[i] = b;
      w_out[i] = w[i] - rate * b;
    }
  }
}

/* out = keep * average + (1 - keep) * scale * sample: one step of an exponential moving average. */
EXPORT(moving_average)
void moving_average(const float *restrict average, const float *restrict sample, float *restrict out, int n, float keep,
                    float scale) {
  for (int i = 0; i < n; i++) out[i] = keep * average[i] + (1.0f - keep) * scale * sample[i];
}
