/*
 * Gradient kernels that tfjs-backend-wasm 4.22 lacks, compiled to WebAssembly SIMD.
 *
 * The module imports the TF.js backend's memory, so tensors are passed as byte offsets into it
 * and nothing is copied. It has no data segment and uses no linear-memory stack (plain scalar
 * locals only), which is what lets it share the memory safely. All tensors are NHWC float32;
 * filters are [kh][kw][in][out] (conv) or [kh][kw][channels][multiplier] (depthwise).
 * Loops put the channel dimension innermost so that clang vectorises it.
 */
#include "kernels.h"

typedef struct {
  int batch, in_h, in_w, in_c, out_h, out_w, out_c;
  int k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
} Geometry;

static void zero(float *restrict p, int n) {
  for (int i = 0; i < n; i++) p[i] = 0.0f;
}

/* dW[kh][kw][ci][co] += x[ci] * g[co]: one rank-1 update. */
static inline void rank1(float *restrict d, const float *restrict xi, const float *restrict g, int in_c, int out_c) {
  for (int ci = 0; ci < in_c; ci++) {
    float v = xi[ci];
    float *restrict row = d + ci * out_c;
    for (int co = 0; co < out_c; co++) row[co] += v * g[co];
  }
}

/* Four rank-1 updates in one pass over dW: a quarter of the loads and stores of dW. */
static inline void rank4(float *restrict d, const float *restrict x0, const float *restrict x1, const float *restrict x2,
                         const float *restrict x3, const float *restrict g0, const float *restrict g1,
                         const float *restrict g2, const float *restrict g3, int in_c, int out_c) {
  for (int ci = 0; ci < in_c; ci++) {
    float v0 = x0[ci], v1 = x1[ci], v2 = x2[ci], v3 = x3[ci];
    float *restrict row = d + ci * out_c;
    for (int co = 0; co < out_c; co++) row[co] += v0 * g0[co] + v1 * g1[co] + v2 * g2[co] + v3 * g3[co];
  }
}

/*
 * A filter of few taps over few input channels (a stem: 3x3 over one or three channels) has a
 * gradient too small for the rank-4 updates to pay: with 16 outputs and one input channel, each
 * update reads and writes a row of dW for one multiply a lane. Instead, for one input channel and
 * VEC output channels at a time, the sums of every tap (up to 3x3) stay in registers over one pass
 * of the output pixels.
 */
#define TAPS_H 3
#define TAPS_W 3

static inline __attribute__((always_inline)) void taps_filter_gradient(const float *restrict x,
                                                                       const float *restrict dy,
                                                                       float *restrict dw, Geometry g, int ci,
                                                                       int c0) {
  float acc[TAPS_H * TAPS_W][VEC];
#pragma clang loop unroll(full)
  for (int t = 0; t < TAPS_H * TAPS_W; t++)
#pragma clang loop unroll(full)
    for (int j = 0; j < VEC; j++) acc[t][j] = 0.0f;
  for (int n = 0; n < g.batch; n++) {
    for (int oh = 0; oh < g.out_h; oh++) {
      /* The input rows each filter row reads at this output row (null outside the image). */
      const float *x_rows[TAPS_H];
#pragma clang loop unroll(full)
      for (int kh = 0; kh < TAPS_H; kh++) {
        int ih = kh < g.k_h ? tap_input(oh, kh, g.stride_h, g.dil_h, g.pad_top, g.in_h) : -1;
        x_rows[kh] = ih >= 0 ? x + ((long)(n * g.in_h + ih) * g.in_w) * g.in_c + ci : 0;
      }
      const float *restrict dy_row = dy + ((long)(n * g.out_h + oh) * g.out_w) * g.out_c + c0;
      for (int ow = 0; ow < g.out_w; ow++) {
        const float *restrict gp = dy_row + (long)ow * g.out_c;
        float gv[VEC];
#pragma clang loop unroll(full)
        for (int j = 0; j < VEC; j++) gv[j] = gp[j];
#pragma clang loop unroll(full)
        for (int kw = 0; kw < TAPS_W; kw++) {
          int iw = kw < g.k_w ? tap_input(ow, kw, g.stride_w, g.dil_w, g.pad_left, g.in_w) : -1;
          if (iw < 0) continue;
#pragma clang loop unroll(full)
          for (int kh = 0; kh < TAPS_H; kh++) {
            if (!x_rows[kh]) continue;
            float v = x_rows[kh][(long)iw * g.in_c];
#pragma clang loop unroll(full)
            for (int j = 0; j < VEC; j++) acc[kh * TAPS_W + kw][j] += v * gv[j];
          }
        }
      }
    }
  }
  for (int kh = 0; kh < g.k_h; kh++)
    for (int kw = 0; kw < g.k_w; kw++) {
      float *restrict d = dw + ((long)(kh * g.k_w + kw) * g.in_c + ci) * g.out_c + c0;
#pragma clang loop unroll(full)
      for (int j = 0; j < VEC; j++) d[j] = acc[kh * TAPS_W + kw][j];
    }
}

/* Input channels up to which a filter of at most 3x3 taps takes taps_filter_gradient. */
#define TAPS_MAX_IN 4

/* dW[kh][kw][ci][co] = sum over n, oh, ow of x[n][ih][iw][ci] * dy[n][oh][ow][co]. */
EXPORT(conv2d_backprop_filter)
void conv2d_backprop_filter(const float *restrict x, const float *restrict dy, float *restrict dw,
                            int batch, int in_h, int in_w, int in_c, int out_h, int out_w, int out_c,
                            int k_h, int k_w, int stride_h, int stride_w, int dil_h, int dil_w,
                            int pad_top, int pad_left) {
  if (k_h <= TAPS_H && k_w <= TAPS_W && in_c <= TAPS_MAX_IN && out_c % VEC == 0) {
    Geometry g = {batch, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left};
    for (int ci = 0; ci < in_c; ci++)
      for (int c0 = 0; c0 < out_c; c0 += VEC) taps_filter_gradient(x, dy, dw, g, ci, c0);
    return;
  }
  zero(dw, k_h * k_w * in_c * out_c);
  for (int n = 0; n < batch; n++) {
    for (int oh = 0; oh < out_h; oh++) {
      const float *restrict dy_row = dy + (n * out_h + oh) * out_w * out_c;
      for (int kh = 0; kh < k_h; kh++) {
        int ih = oh * stride_h + kh * dil_h - pad_top;
        if (ih < 0 || ih >= in_h) continue;
        const float *restrict x_row = x + (n * in_h + ih) * in_w * in_c;
        for (int kw = 0; kw < k_w; kw++) {
          float *restrict d = dw + (kh * k_w + kw) * in_c * out_c;
          int ow = 0;
          /* Blocks of four output columns whose inputs are all inside the image. */
          for (; ow + 4 <= out_w; ow += 4) {
            int iw0 = ow * stride_w + kw * dil_w - pad_left;
            int iw3 = iw0 + 3 * stride_w;
            if (iw0 < 0 || iw3 >= in_w) {
              for (int j = 0; j < 4; j++) {
                int iw = iw0 + j * stride_w;
                if (iw >= 0 && iw < in_w) rank1(d, x_row + iw * in_c, dy_row + (ow + j) * out_c, in_c, out_c);
              }
              continue;
            }
            const float *restrict g = dy_row + ow * out_c;
            const float *restrict xi = x_row + iw0 * in_c;
            int step = stride_w * in_c;
            rank4(d, xi, xi + step, xi + 2 * step, xi + 3 * step, g, g + out_c, g + 2 * out_c, g + 3 * out_c, in_c, out_c);
          }
          for (; ow < out_w; ow++) {
            int iw = ow * stride_w + kw * dil_w - pad_left;
            if (iw >= 0 && iw < in_w) rank1(d, x_row + iw * in_c, dy_row + ow * out_c, in_c, out_c);
          }
        }
      }
    }
  }
}

/*
 * dx[n][ih][iw][ci] = sum over kh, kw, co of dy[n][oh][ow][co] * w[kh][kw][ci][co].
 * wt is caller-provided scratch for w transposed to [kh][kw][co][ci], so that the innermost loop
 * runs over input channels (contiguous in dx and wt) and vectorises without reassociation.
 */
EXPORT(conv2d_backprop_input)
void conv2d_backprop_input(const float *restrict dy, const float *restrict w, float *restrict dx, float *restrict wt,
                           int batch, int in_h, int in_w, int in_c, int out_h, int out_w, int out_c,
                           int k_h, int k_w, int stride_h, int stride_w, int dil_h, int dil_w,
                           int pad_top, int pad_left) {
  for (int k = 0; k < k_h * k_w; k++)
    for (int ci = 0; ci < in_c; ci++)
      for (int co = 0; co < out_c; co++) wt[(k * out_c + co) * in_c + ci] = w[(k * in_c + ci) * out_c + co];
  zero(dx, batch * in_h * in_w * in_c);
  for (int n = 0; n < batch; n++) {
    for (int oh = 0; oh < out_h; oh++) {
      for (int ow = 0; ow < out_w; ow++) {
        const float *restrict g = dy + ((n * out_h + oh) * out_w + ow) * out_c;
        for (int kh = 0; kh < k_h; kh++) {
          int ih = oh * stride_h + kh * dil_h - pad_top;
          if (ih < 0 || ih >= in_h) continue;
          for (int kw = 0; kw < k_w; kw++) {
            int iw = ow * stride_w + kw * dil_w - pad_left;
            if (iw < 0 || iw >= in_w) continue;
            float *restrict d = dx + ((n * in_h + ih) * in_w + iw) * in_c;
            const float *restrict wk = wt + (kh * k_w + kw) * out_c * in_c;
            int co = 0;
            /* Four output channels at a time: one pass over d instead of four. */
            for (; co + 4 <= out_c; co += 4) {
              float g0 = g[co], g1 = g[co + 1], g2 = g[co + 2], g3 = g[co + 3];
              const float *restrict w0 = wk + co * in_c;
              const float *restrict w1 = w0 + in_c;
              const float *restrict w2 = w1 + in_c;
              const float *restrict w3 = w2 + in_c;
              for (int ci = 0; ci < in_c; ci++) d[ci] += g0 * w0[ci] + g1 * w1[ci] + g2 * w2[ci] + g3 * w3[ci];
            }
            for (; co < out_c; co++) {
              float gc = g[co];
              const float *restrict wc = wk + co * in_c;
              for (int ci = 0; ci < in_c; ci++) d[ci] += gc * wc[ci];
            }
          }
        }
      }
    }
  }
}

/*
 * Depthwise convolution: forward, input gradient and filter gradient share one walk over every
 * (output pixel, kernel tap) whose input pixel lies inside the image. `in` is at the input pixel
 * (x or dx), `out` at the output pixel (y or dy), `w` at the tap (w or dW); the tensor the op
 * writes is zeroed first. Inlined with a constant op, so each exported kernel is specialised.
 */
enum { DW_FORWARD, DW_INPUT_GRAD, DW_FILTER_GRAD };

static inline void depthwise_walk(int op, float *restrict in, float *restrict out, float *restrict w,
                                  int batch, int in_h, int in_w, int channels, int out_h, int out_w, int mult,
                                  int k_h, int k_w, int stride_h, int stride_w, int dil_h, int dil_w,
                                  int pad_top, int pad_left) {
  if (op == DW_FORWARD) zero(out, batch * out_h * out_w * channels * mult);
  if (op == DW_INPUT_GRAD) zero(in, batch * in_h * in_w * channels);
  if (op == DW_FILTER_GRAD) zero(w, k_h * k_w * channels * mult);
  for (int n = 0; n < batch; n++) {
    for (int oh = 0; oh < out_h; oh++) {
      for (int ow = 0; ow < out_w; ow++) {
        float *restrict o = out + ((n * out_h + oh) * out_w + ow) * channels * mult;
        for (int kh = 0; kh < k_h; kh++) {
          int ih = oh * stride_h + kh * dil_h - pad_top;
          if (ih < 0 || ih >= in_h) continue;
          for (int kw = 0; kw < k_w; kw++) {
            int iw = ow * stride_w + kw * dil_w - pad_left;
            if (iw < 0 || iw >= in_w) continue;
            float *restrict i = in + ((n * in_h + ih) * in_w + iw) * channels;
            float *restrict t = w + (kh * k_w + kw) * channels * mult;
            if (mult == 1) {
              if (op == DW_FORWARD) for (int c = 0; c < channels; c++) o[c] += i[c] * t[c];
              if (op == DW_INPUT_GRAD) for (int c = 0; c < channels; c++) i[c] += o[c] * t[c];
              if (op == DW_FILTER_GRAD) for (int c = 0; c < channels; c++) t[c] += i[c] * o[c];
            } else {
              for (int c = 0; c < channels; c++) {
                for (int q = 0; q < mult; q++) {
                  int k = c * mult + q;
                  if (op == DW_FORWARD) o[k] += i[c] * t[k];
                  if (op == DW_INPUT_GRAD) i[c] += o[k] * t[k];
                  if (op == DW_FILTER_GRAD) t[k] += i[c] * o[k];
                }
              }
            }
          }
        }
      }
    }
  }
}

#define DEPTHWISE_ARGS                                                                                   \
  int batch, int in_h, int in_w, int channels, int out_h, int out_w, int mult, int k_h, int k_w, int stride_h, \
      int stride_w, int dil_h, int dil_w, int pad_top, int pad_left
#define DEPTHWISE_PASS \
  batch, in_h, in_w, channels, out_h, out_w, mult, k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left

/*
 * Multiplier 1 (every depthwise layer procnas builds) takes kernels that keep their sums in
 * registers: blocks of CB channels (four SIMD vectors, so four independent sums in flight)
 * summed over every tap, or over a row of pixels, and stored once, where the walk above loads and
 * stores its sum at every tap. Channels past the last whole block go a vector, then one, at a time.
 */
#define CB (4 * VEC)

/* Output columns ow whose input column ow*stride + k*dil - pad lies in [0, in): [*lo, *hi). */
static inline void valid_columns(int k, int dil, int stride, int pad, int in, int out, int *lo, int *hi) {
  int first = pad - k * dil; /* ow * stride >= first */
  int a = first <= 0 ? 0 : (first + stride - 1) / stride;
  int last = in - 1 + pad - k * dil; /* ow * stride <= last */
  int b = last < 0 ? 0 : last / stride + 1;
  *lo = a;
  *hi = b < out ? b : out;
}


/*
 * The output row (or column) whose tap k reads input i; -1 when no output's does. Strides 1 and
 * 2 (every depthwise layer procnas builds) avoid the division: this runs per tap and pixel.
 */
static inline int tap_output(int i, int k, int stride, int dil, int pad, int out) {
  int a = i + pad - k * dil;
  if (a < 0) return -1;
  int o;
  if (stride == 1) {
    o = a;
  } else if (stride == 2) {
    if (a & 1) return -1;
    o = a >> 1;
  } else {
    if (a % stride) return -1;
    o = a / stride;
  }
  return o < out ? o : -1;
}

/*
 * One output pixel's channels [c, c + width), summed over every tap. Called with a constant
 * width (CB, or 1 for the remainder), so that the sums unroll into registers: an array indexed
 * by a variable would live in linear memory, which this module does not have.
 */
static inline void forward_pixel(const float *restrict x, const float *restrict w, float *restrict o, int width, int n,
                                 int oh, int ow, int c, DEPTHWISE_ARGS) {
  float acc[CB] = {0};
  for (int kh = 0; kh < k_h; kh++) {
    int ih = tap_input(oh, kh, stride_h, dil_h, pad_top, in_h);
    if (ih < 0) continue;
    for (int kw = 0; kw < k_w; kw++) {
      int iw = tap_input(ow, kw, stride_w, dil_w, pad_left, in_w);
      if (iw < 0) continue;
      const float *restrict i = x + ((n * in_h + ih) * in_w + iw) * channels + c;
      const float *restrict t = w + (kh * k_w + kw) * channels + c;
      for (int j = 0; j < width; j++) acc[j] += i[j] * t[j];
    }
  }
  for (int j = 0; j < width; j++) o[c + j] = acc[j];
}

/*
 * The input gradient of one input pixel's channels [c, c + width), gathered from the output
 * pixels whose window holds it; a constant width, as for forward_pixel.
 */
static inline void input_gradient_pixel(const float *restrict dy, const float *restrict w, float *restrict d, int width,
                                        int n, int ih, int iw, int c, DEPTHWISE_ARGS) {
  float acc[CB] = {0};
  for (int kh = 0; kh < k_h; kh++) {
    int oh = tap_output(ih, kh, stride_h, dil_h, pad_top, out_h);
    if (oh < 0) continue;
    for (int kw = 0; kw < k_w; kw++) {
      int ow = tap_output(iw, kw, stride_w, dil_w, pad_left, out_w);
      if (ow < 0) continue;
      const float *restrict g = dy + ((n * out_h + oh) * out_w + ow) * channels + c;
      const float *restrict t = w + (kh * k_w + kw) * channels + c;
      for (int j = 0; j < width; j++) acc[j] += g[j] * t[j];
    }
  }
  for (int j = 0; j < width; j++) d[c + j] = acc[j];
}

static void depthwise_forward_1(const float *restrict x, const float *restrict w, float *restrict y, DEPTHWISE_ARGS) {
  for (int n = 0; n < batch; n++) {
    for (int oh = 0; oh < out_h; oh++) {
      for (int ow = 0; ow < out_w; ow++) {
        float *restrict o = y + ((n * out_h + oh) * out_w + ow) * channels;
        int c = 0;
        for (; c + CB <= channels; c += CB) forward_pixel(x, w, o, CB, n, oh, ow, c, DEPTHWISE_PASS);
        for (; c + VEC <= channels; c += VEC) forward_pixel(x, w, o, VEC, n, oh, ow, c, DEPTHWISE_PASS);
        for (; c < channels; c++) forward_pixel(x, w, o, 1, n, oh, ow, c, DEPTHWISE_PASS);
      }
    }
  }
}

/* The input gradient gathered per input pixel (a transposed convolution). */
static void depthwise_backprop_input_1(const float *restrict dy, const float *restrict w, float *restrict dx, DEPTHWISE_ARGS) {
  for (int n = 0; n < batch; n++) {
    for (int ih = 0; ih < in_h; ih++) {
      for (int iw = 0; iw < in_w; iw++) {
        float *restrict d = dx + ((n * in_h + ih) * in_w + iw) * channels;
        int c = 0;
        for (; c + CB <= channels; c += CB) input_gradient_pixel(dy, w, d, CB, n, ih, iw, c, DEPTHWISE_PASS);
        for (; c + VEC <= channels; c += VEC) input_gradient_pixel(dy, w, d, VEC, n, ih, iw, c, DEPTHWISE_PASS);
        for (; c < channels; c++) input_gradient_pixel(dy, w, d, 1, n, ih, iw, c, DEPTHWISE_PASS);
      }
    }
  }
}

/*
 * One tap's filter gradient over output columns [lo, hi) of a row, channels [c, c + width), where
 * output column ow reads input column ow * stride_w + shift; a constant width, as for forward_pixel.
 */
static inline void filter_gradient_row(const float *restrict x_row, const float *restrict g_row, float *restrict t,
                                       int width, int c, int lo, int hi, int stride_w, int shift, int channels) {
  float acc[CB] = {0};
  for (int ow = lo; ow < hi; ow++) {
    const float *restrict i = x_row + (ow * stride_w + shift) * channels + c;
    const float *restrict g = g_row + ow * channels + c;
    for (int j = 0; j < width; j++) acc[j] += i[j] * g[j];
  }
  for (int j = 0; j < width; j++) t[c + j] += acc[j];
}

/* The filter gradient a row of output pixels at a time: each tap's sums over the row, added once. */
/* Filter row kh's taps' gradients from one output row (g_row) and the input row its taps read (x_row). */
static void filter_gradient_taps(const float *restrict x_row, const float *restrict g_row, float *restrict dw, int kh,
                                 int in_w, int channels, int out_w, int k_w, int stride_w, int dil_w, int pad_left) {
  for (int kw = 0; kw < k_w; kw++) {
    int lo, hi;
    valid_columns(kw, dil_w, stride_w, pad_left, in_w, out_w, &lo, &hi);
    int shift = kw * dil_w - pad_left; /* input column of output column ow: ow * stride_w + shift */
    float *restrict t = dw + (kh * k_w + kw) * channels;
    int c = 0;
    for (; c + CB <= channels; c += CB) filter_gradient_row(x_row, g_row, t, CB, c, lo, hi, stride_w, shift, channels);
    for (; c + VEC <= channels; c += VEC) filter_gradient_row(x_row, g_row, t, VEC, c, lo, hi, stride_w, shift, channels);
    for (; c < channels; c++) filter_gradient_row(x_row, g_row, t, 1, c, lo, hi, stride_w, shift, channels);
  }
}

static void depthwise_backprop_filter_1(const float *restrict x, const float *restrict dy, float *restrict dw, DEPTHWISE_ARGS) {
  zero(dw, k_h * k_w * channels);
  /* The rows of x and dy one (n, oh, kh) reads stay in cache for every kw and channel block. */
  for (int n = 0; n < batch; n++) {
    for (int oh = 0; oh < out_h; oh++) {
      const float *restrict g_row = dy + (n * out_h + oh) * out_w * channels;
      for (int kh = 0; kh < k_h; kh++) {
        int ih = oh * stride_h + kh * dil_h - pad_top;
        if (ih < 0 || ih >= in_h) continue;
        filter_gradient_taps(x + (n * in_h + ih) * in_w * channels, g_row, dw, kh, in_w, channels, out_w, k_w, stride_w, dil_w, pad_left);
      }
    }
  }
}

/*
 * The forward pass of a filter of at most 3x3 taps, a vector of channels at a time: the filter's
 * taps stay in registers over a whole output row, and four output columns are summed at once, so
 * that a tap costs one load of the input a column, where forward_pixel loads the input and the
 * filter at every tap and pixel. Columns whose taps all fall inside the image go four at a time
 * without checks; the others, one at a time with them.
 */
#define DW_TAPS 3

/* Output column ow of the row whose input rows are x_rows (null outside the image), channels [c, c + VEC). */
static inline __attribute__((always_inline)) void forward_column(const float *const x_rows[DW_TAPS],
                                                                 const float taps[DW_TAPS * DW_TAPS][VEC],
                                                                 float *restrict o, int ow, int c, int k_h, int k_w,
                                                                 int stride_w, int dil_w, int pad_left, int in_w,
                                                                 int channels) {
  float acc[VEC];
#pragma clang loop unroll(full)
  for (int j = 0; j < VEC; j++) acc[j] = 0.0f;
#pragma clang loop unroll(full)
  for (int kh = 0; kh < DW_TAPS; kh++) {
    if (!x_rows[kh]) continue;
#pragma clang loop unroll(full)
    for (int kw = 0; kw < DW_TAPS; kw++) {
      int iw = kw < k_w ? tap_input(ow, kw, stride_w, dil_w, pad_left, in_w) : -1;
      if (iw < 0) continue;
      const float *restrict i = x_rows[kh] + (long)iw * channels + c;
#pragma clang loop unroll(full)
      for (int j = 0; j < VEC; j++) acc[j] += i[j] * taps[kh * DW_TAPS + kw][j];
    }
  }
#pragma clang loop unroll(full)
  for (int j = 0; j < VEC; j++) o[(long)ow * channels + c + j] = acc[j];
}

/* Output columns [ow, ow + 4) of a row whose 3x3 window lies inside the image, channels [c, c + VEC). */
static inline __attribute__((always_inline)) void forward_quad(const float *const x_rows[DW_TAPS],
                                                               const float taps[DW_TAPS * DW_TAPS][VEC],
                                                               float *restrict o, int ow, int c, int stride_w,
                                                               int dil_w, int pad_left, int channels) {
  float acc[4][VEC];
#pragma clang loop unroll(full)
  for (int p = 0; p < 4; p++)
#pragma clang loop unroll(full)
    for (int j = 0; j < VEC; j++) acc[p][j] = 0.0f;
#pragma clang loop unroll(full)
  for (int kh = 0; kh < DW_TAPS; kh++) {
#pragma clang loop unroll(full)
    for (int kw = 0; kw < DW_TAPS; kw++) {
      const float *restrict i = x_rows[kh] + (long)(ow * stride_w + kw * dil_w - pad_left) * channels + c;
#pragma clang loop unroll(full)
      for (int p = 0; p < 4; p++)
#pragma clang loop unroll(full)
        for (int j = 0; j < VEC; j++) acc[p][j] += i[(long)p * stride_w * channels + j] * taps[kh * DW_TAPS + kw][j];
    }
  }
#pragma clang loop unroll(full)
  for (int p = 0; p < 4; p++)
#pragma clang loop unroll(full)
    for (int j = 0; j < VEC; j++) o[(long)(ow + p) * channels + c + j] = acc[p][j];
}

/* Output columns all of whose taps lie inside the image: [*lo, *hi). */
static void interior_columns(int k_w, int dil_w, int stride_w, int pad_left, int in_w, int out_w, int *lo, int *hi) {
  int lo_last, hi_last;
  valid_columns(0, dil_w, stride_w, pad_left, in_w, out_w, lo, hi);
  valid_columns(k_w - 1, dil_w, stride_w, pad_left, in_w, out_w, &lo_last, &hi_last);
  if (lo_last > *lo) *lo = lo_last;
  if (hi_last < *hi) *hi = hi_last;
  if (*hi < *lo) *hi = *lo;
}

/*
 * One output row o of a filter of at most 3x3 taps, whose filter rows read the input rows x_rows
 * (null outside the image); [lo, hi) are the interior columns.
 */
static inline __attribute__((always_inline)) void forward_row(const float *const x_rows[DW_TAPS],
                                                              const float *restrict w, float *restrict o, int lo,
                                                              int hi, int k_h, int k_w, int stride_w, int dil_w,
                                                              int pad_left, int in_w, int out_w, int channels) {
  int whole = channels - channels % VEC;
  int full = k_h == DW_TAPS && k_w == DW_TAPS && x_rows[0] && x_rows[1] && x_rows[2];
  for (int c = 0; c < whole; c += VEC) {
    float taps[DW_TAPS * DW_TAPS][VEC];
#pragma clang loop unroll(full)
    for (int t = 0; t < DW_TAPS * DW_TAPS; t++) {
      int kh = t / DW_TAPS, kw = t % DW_TAPS;
#pragma clang loop unroll(full)
      for (int j = 0; j < VEC; j++) taps[t][j] = kh < k_h && kw < k_w ? w[(kh * k_w + kw) * channels + c + j] : 0.0f;
    }
    int ow = 0;
    for (; ow < lo && ow < out_w; ow++) forward_column(x_rows, taps, o, ow, c, k_h, k_w, stride_w, dil_w, pad_left, in_w, channels);
    /* A full 3x3 window on rows inside the image: four columns at a time, nothing checked, with
       strides and dilations of 1 and 2 as constants, so that the compiler sees which columns'
       taps share an input vector and loads it once. */
    if (full && stride_w == 1 && dil_w == 1)
      for (; ow + 4 <= hi; ow += 4) forward_quad(x_rows, taps, o, ow, c, 1, 1, pad_left, channels);
    else if (full && stride_w == 2 && dil_w == 1)
      for (; ow + 4 <= hi; ow += 4) forward_quad(x_rows, taps, o, ow, c, 2, 1, pad_left, channels);
    else if (full)
      for (; ow + 4 <= hi; ow += 4) forward_quad(x_rows, taps, o, ow, c, stride_w, dil_w, pad_left, channels);
    for (; ow < out_w; ow++) forward_column(x_rows, taps, o, ow, c, k_h, k_w, stride_w, dil_w, pad_left, in_w, channels);
  }
  /* Channels past the last whole vector: one at a time. */
  for (int ow = 0; ow < out_w && whole < channels; ow++) {
    for (int c = whole; c < channels; c++) {
      float sum = 0.0f;
      for (int kh = 0; kh < k_h; kh++) {
        if (!x_rows[kh]) continue;
        for (int kw = 0; kw < k_w; kw++) {
          int iw = tap_input(ow, kw, stride_w, dil_w, pad_left, in_w);
          if (iw >= 0) sum += x_rows[kh][(long)iw * channels + c] * w[(kh * k_w + kw) * channels + c];
        }
      }
      o[(long)ow * channels + c] = sum;
    }
  }
}

static void depthwise_forward_3(const float *restrict x, const float *restrict w, float *restrict y, DEPTHWISE_ARGS) {
  int lo, hi;
  interior_columns(k_w, dil_w, stride_w, pad_left, in_w, out_w, &lo, &hi);
  for (int n = 0; n < batch; n++) {
    for (int oh = 0; oh < out_h; oh++) {
      const float *x_rows[DW_TAPS];
#pragma clang loop unroll(full)
      for (int kh = 0; kh < DW_TAPS; kh++) {
        int ih = kh < k_h ? tap_input(oh, kh, stride_h, dil_h, pad_top, in_h) : -1;
        x_rows[kh] = ih >= 0 ? x + (long)(n * in_h + ih) * in_w * channels : 0;
      }
      forward_row(x_rows, w, y + (long)(n * out_h + oh) * out_w * channels, lo, hi, k_h, k_w, stride_w, dil_w, pad_left,
                  in_w, out_w, channels);
    }
  }
}

/*
 * Batch norm (+ ReLU/ReLU6) fused into the depthwise convolution it feeds (filters of at most 3x3
 * taps, dilation 1, multiplier 1), so that its output, the largest tensor of an inverted residual
 * block, is never written nor read back: the convolution reads the input rows normalised and
 * activated as it needs them, each once, into a ring of DW_TAPS rows (caller-provided scratch of
 * DW_TAPS * in_w * channels floats), and the filter gradient does the same. The statistics come
 * from bn_statistics; mean, invstd, gamma and beta are per channel, as for bn_apply.
 */
typedef struct {
  const float *x, *mean, *invstd, *gamma, *beta;
  float *ring;
  int act, in_h, row; /* row: floats in an input row */
  int next;           /* the first input row of the image not yet in the ring */
} NormalisedRows;

/*
 * Image n's input row ih, normalised and activated, in slot ih % DW_TAPS of the ring. Rows are
 * asked for in ascending order within an image, and an output row's taps span at most DW_TAPS
 * consecutive rows: a row written over (ih - DW_TAPS) is never needed again.
 */
static inline __attribute__((always_inline)) const float *normalised_row(NormalisedRows *r, int n, int ih, int channels) {
  float *slot = r->ring + (long)(ih % DW_TAPS) * r->row;
  if (ih >= r->next) {
    for (int i = r->next > ih - DW_TAPS + 1 ? r->next : ih - DW_TAPS + 1; i <= ih; i++) {
      if (i < 0) continue;
      bn_apply(r->x + ((long)n * r->in_h + i) * r->row, r->mean, r->invstd, r->gamma, r->beta,
               r->ring + (long)(i % DW_TAPS) * r->row, r->row / channels, channels, r->act);
    }
    r->next = ih + 1;
  }
  return slot;
}

EXPORT(bn_depthwise_forward)
void bn_depthwise_forward(const float *x, const float *mean, const float *invstd, const float *gamma, const float *beta,
                          const float *w, float *y, float *ring, int act, DEPTHWISE_ARGS) {
  int lo, hi;
  interior_columns(k_w, dil_w, stride_w, pad_left, in_w, out_w, &lo, &hi);
  NormalisedRows r = {x, mean, invstd, gamma, beta, ring, act, in_h, in_w * channels, 0};
  for (int n = 0; n < batch; n++) {
    r.next = 0;
    for (int oh = 0; oh < out_h; oh++) {
      const float *x_rows[DW_TAPS];
#pragma clang loop unroll(full)
      for (int kh = 0; kh < DW_TAPS; kh++) {
        int ih = kh < k_h ? tap_input(oh, kh, stride_h, 1, pad_top, in_h) : -1;
        x_rows[kh] = ih >= 0 ? normalised_row(&r, n, ih, channels) : 0;
      }
      forward_row(x_rows, w, y + (long)(n * out_h + oh) * out_w * channels, lo, hi, k_h, k_w, stride_w, 1, pad_left,
                  in_w, out_w, channels);
    }
  }
  /* The geometry's multiplier and dilations are 1 here: the caller fuses no other (fusesWithDepthwise). */
  (void)mult;
  (void)dil_h;
  (void)dil_w;
}

EXPORT(bn_depthwise_backprop_filter)
void bn_depthwise_backprop_filter(const float *x, const float *mean, const float *invstd, const float *gamma,
                                  const float *beta, const float *dy, float *dw, float *ring, int act, DEPTHWISE_ARGS) {
  zero(dw, k_h * k_w * channels);
  NormalisedRows r = {x, mean, invstd, gamma, beta, ring, act, in_h, in_w * channels, 0};
  for (int n = 0; n < batch; n++) {
    r.next = 0;
    for (int oh = 0; oh < out_h; oh++) {
      const float *restrict g_row = dy + (long)(n * out_h + oh) * out_w * channels;
      for (int kh = 0; kh < k_h; kh++) {
        int ih = tap_input(oh, kh, stride_h, 1, pad_top, in_h);
        if (ih < 0) continue;
        filter_gradient_taps(normalised_row(&r, n, ih, channels), g_row, dw, kh, in_w, channels, out_w, k_w, stride_w, 1, pad_left);
      }
    }
  }
  /* The geometry's multiplier and dilations are 1 here: the caller fuses no other (fusesWithDepthwise). */
  (void)mult;
  (void)dil_h;
  (void)dil_w;
}

/*
 * Output columns [ow, ow + count) (count at most 4) of row oh of a filter KW columns wide,
 * channels [c, c + VEC): the filter row's taps loaded once per four columns, four sums in flight.
 * KW, EDGE, and where they can be the column stride and dilation, are constants at each call.
 * Inside the image (EDGE 0, count 4) nothing is checked. At its edges (EDGE 1) each tap is
 * skipped where its input column lies outside the image, and columns past count are summed
 * (their taps read inside the image or not at all) but not stored: on a small image most columns
 * are at an edge (all of an 8-wide row under a 7x7 filter), and one column at a time, as
 * forward_pixel sums them, loads the filter at every tap and keeps one sum in flight (the 7x7
 * forward pass of an 8x8x240 batch: 1.95 ms that way, 1.16 ms this way, median of 21, one core).
 * Not for 3x3 filters: there the same edge blocks were slower than forward_column's (7x7x192:
 * 0.15 → 0.22 ms).
 */
static inline __attribute__((always_inline)) void wide_block(const float *restrict x, const float *restrict w,
                                                             float *restrict o, int KW, int EDGE, int count, int sw,
                                                             int dw, int n, int oh, int ow, int c, DEPTHWISE_ARGS) {
  float acc[4][VEC];
#pragma clang loop unroll(full)
  for (int p = 0; p < 4; p++)
#pragma clang loop unroll(full)
    for (int j = 0; j < VEC; j++) acc[p][j] = 0.0f;
  for (int kh = 0; kh < k_h; kh++) {
    int ih = tap_input(oh, kh, stride_h, dil_h, pad_top, in_h);
    if (ih < 0) continue;
    const float *restrict row = x + (long)(n * in_h + ih) * in_w * channels + c;
    const float *restrict wr = w + (long)kh * KW * channels + c;
#pragma clang loop unroll(full)
    for (int kw = 0; kw < KW; kw++) {
      float t[VEC];
#pragma clang loop unroll(full)
      for (int j = 0; j < VEC; j++) t[j] = wr[(long)kw * channels + j];
#pragma clang loop unroll(full)
      for (int p = 0; p < 4; p++) {
        int iw = (ow + p) * sw + kw * dw - pad_left;
        if (EDGE && (unsigned)iw >= (unsigned)in_w) continue;
        const float *restrict i = row + (long)iw * channels;
#pragma clang loop unroll(full)
        for (int j = 0; j < VEC; j++) acc[p][j] += i[j] * t[j];
      }
    }
  }
#pragma clang loop unroll(full)
  for (int p = 0; p < 4; p++)
    if (p < count)
#pragma clang loop unroll(full)
      for (int j = 0; j < VEC; j++) o[(long)(ow + p) * channels + c + j] = acc[p][j];
  (void)out_h;
  (void)out_w;
  (void)mult;
  (void)stride_w;
  (void)dil_w;
}

/*
 * The forward pass of a wider filter (5 or 7 columns, any number of rows), a vector of channels
 * at a time: four output columns are summed at once, over the filter row by row, with the row's
 * taps in registers. A tap's weights are loaded once per four columns instead of once per pixel
 * (forward_pixel), and four sums are in flight. KW is a constant at each call, so the taps and
 * the sums unroll into registers. Columns with taps outside the image take wide_block's checks.
 */
static inline __attribute__((always_inline)) void forward_wide(const float *restrict x, const float *restrict w,
                                                               float *restrict y, int KW, DEPTHWISE_ARGS) {
  int lo, hi;
  interior_columns(k_w, dil_w, stride_w, pad_left, in_w, out_w, &lo, &hi);
  int whole = channels - channels % VEC;
  for (int n = 0; n < batch; n++) {
    for (int oh = 0; oh < out_h; oh++) {
      float *restrict o = y + (long)(n * out_h + oh) * out_w * channels;
      for (int c = 0; c < whole; c += VEC) {
        int ow = 0;
        for (; ow < lo && ow < out_w; ow += 4) wide_block(x, w, o, KW, 1, out_w - ow < 4 ? out_w - ow : 4, stride_w, dil_w, n, oh, ow, c, DEPTHWISE_PASS);
#define WIDE_QUADS(sw, dw) \
  for (; ow + 4 <= hi; ow += 4) wide_block(x, w, o, KW, 0, 4, sw, dw, n, oh, ow, c, DEPTHWISE_PASS)
        /* Strides and dilations of 1 and 2 as constants, as in forward_row. */
        if (stride_w == 1 && dil_w == 1) WIDE_QUADS(1, 1);
        else if (stride_w == 2 && dil_w == 1) WIDE_QUADS(2, 1);
        else WIDE_QUADS(stride_w, dil_w);
#undef WIDE_QUADS
        for (; ow < out_w; ow += 4) wide_block(x, w, o, KW, 1, out_w - ow < 4 ? out_w - ow : 4, stride_w, dil_w, n, oh, ow, c, DEPTHWISE_PASS);
      }
      for (int ow = 0; ow < out_w && whole < channels; ow++)
        for (int c = whole; c < channels; c++) forward_pixel(x, w, o + (long)ow * channels, 1, n, oh, ow, c, DEPTHWISE_PASS);
    }
  }
}

static void depthwise_forward_5(const float *restrict x, const float *restrict w, float *restrict y, DEPTHWISE_ARGS) {
  forward_wide(x, w, y, 5, DEPTHWISE_PASS);
}

static void depthwise_forward_7(const float *restrict x, const float *restrict w, float *restrict y, DEPTHWISE_ARGS) {
  forward_wide(x, w, y, 7, DEPTHWISE_PASS);
}

/* y[n][oh][ow][c*m+q] = sum over kh, kw of x[n][ih][iw][c] * w[kh][kw][c][q]. */
EXPORT(depthwise_forward)
void depthwise_forward(float *x, float *w, float *y, DEPTHWISE_ARGS) {
  if (mult == 1 && k_h <= DW_TAPS && k_w <= DW_TAPS) depthwise_forward_3(x, w, y, DEPTHWISE_PASS);
  else if (mult == 1 && k_w == 5) depthwise_forward_5(x, w, y, DEPTHWISE_PASS);
  else if (mult == 1 && k_w == 7) depthwise_forward_7(x, w, y, DEPTHWISE_PASS);
  else if (mult == 1) depthwise_forward_1(x, w, y, DEPTHWISE_PASS);
  else depthwise_walk(DW_FORWARD, x, y, w, DEPTHWISE_PASS);
}

/* dx[n][ih][iw][c] = sum over kh, kw, q of dy[n][oh][ow][c*m+q] * w[kh][kw][c][q]. */
EXPORT(depthwise_backprop_input)
void depthwise_backprop_input(float *dy, float *w, float *dx, DEPTHWISE_ARGS) {
  if (mult == 1) depthwise_backprop_input_1(dy, w, dx, DEPTHWISE_PASS);
  else depthwise_walk(DW_INPUT_GRAD, dx, dy, w, DEPTHWISE_PASS);
}

/* dW[kh][kw][c][q] = sum over n, oh, ow of x[n][ih][iw][c] * dy[n][oh][ow][c*m+q]. */
EXPORT(depthwise_backprop_filter)
void depthwise_backprop_filter(float *x, float *dy, float *dw, DEPTHWISE_ARGS) {
  if (mult == 1) depthwise_backprop_filter_1(x, dy, dw, DEPTHWISE_PASS);
  else depthwise_walk(DW_FILTER_GRAD, x, dy, dw, DEPTHWISE_PASS);
}
