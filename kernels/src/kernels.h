/*
 * procnas's kernels, one set of C sources built two ways: to WebAssembly (scripts/build-kernels.sh,
 * the committed kernels/procnas-kernels.wasm, which runs everywhere) and natively for the machine
 * at hand (binding.gyp, through native/binding.c, when a C compiler is there at install time).
 * Pointers are into the TF.js WASM backend's memory in both builds.
 */
#ifndef PROCNAS_KERNELS_H
#define PROCNAS_KERNELS_H

#ifdef __wasm__
#define EXPORT(name) __attribute__((export_name(#name)))
#else
#define EXPORT(name)
#endif

/* Floats in one vector register of the target: 4 in WebAssembly SIMD, 8 with AVX, 16 with AVX-512. */
#if defined(__AVX512F__)
#define VEC 16
#elif defined(__AVX__)
#define VEC 8
#else
#define VEC 4
#endif

/* The input row (or column) tap k of output o reads; -1 outside the image. */
static inline int tap_input(int o, int k, int stride, int dil, int pad, int in) {
  int i = o * stride + k * dil - pad;
  return i >= 0 && i < in ? i : -1;
}

#define CONV_GEOMETRY                                                                                 \
  int batch, int in_h, int in_w, int in_c, int out_h, int out_w, int out_c, int k_h, int k_w, int stride_h, \
      int stride_w, int dil_h, int dil_w, int pad_top, int pad_left

void conv2d_forward(const float *restrict x, const float *restrict w, float *restrict y, CONV_GEOMETRY);
void conv2d_backprop_filter(const float *restrict x, const float *restrict dy, float *restrict dw, CONV_GEOMETRY);
void conv2d_backprop_input(const float *restrict dy, const float *restrict w, float *restrict dx, float *restrict wt,
                           CONV_GEOMETRY);
void depthwise_forward(float *x, float *w, float *y, CONV_GEOMETRY);
void depthwise_backprop_input(float *dy, float *w, float *dx, CONV_GEOMETRY);
void depthwise_backprop_filter(float *x, float *dy, float *dw, CONV_GEOMETRY);
void bn_depthwise_forward(const float *x, const float *mean, const float *invstd, const float *gamma, const float *beta,
                          const float *w, float *y, float *ring, int act, CONV_GEOMETRY);
void bn_depthwise_backprop_filter(const float *x, const float *mean, const float *invstd, const float *gamma,
                                  const float *beta, const float *dy, float *dw, float *ring, int act, CONV_GEOMETRY);

void pointwise_forward(const float *restrict x, const float *restrict w, float *restrict y, int pixels, int in_c,
                       int out_c);
void pointwise_backprop_input(const float *restrict dy, const float *restrict w, float *restrict dx,
                              float *restrict wt, int pixels, int in_c, int out_c);
void pointwise_backprop_filter(const float *restrict x, const float *restrict dy, float *restrict dw, int pixels,
                               int in_c, int out_c);

void sgd_momentum(const float *restrict w, const float *restrict g, const float *restrict buffer,
                  float *restrict w_out, float *restrict buffer_out, int n, float rate, float momentum, float decay,
                  int first);
void moving_average(const float *restrict average, const float *restrict sample, float *restrict out, int n, float keep,
                    float scale);

void bn_statistics(const float *x, float *mean, float *invstd, float *variance, double *acc, int rows, int channels,
                   float epsilon);
void bn_apply(const float *restrict x, const float *restrict mean, const float *restrict invstd,
              const float *restrict gamma, const float *restrict beta, float *restrict y, int rows, int channels,
              int act);
void bn_backward(const float *dy, const float *x, const float *mean, const float *invstd, const float *gamma,
                 const float *beta, float *dx, float *dgamma, float *dbeta, double *acc, int rows, int channels,
                 int act);

#endif
