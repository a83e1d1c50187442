/*
 * The forward pass of a dense k x k convolution (NHWC, filter [kh][kw][ci][co]), for the host
 * build, where XNNPACK's WebAssembly kernel ran a network's stem (3 input channels) at a few
 * GMAC/s. A tile of CONV_ROWS output pixels of one row by a block of output channels keeps its
 * sums in registers over every tap and input channel; ROWS and WIDTH are constants at every call,
 * as in pointwise.c, so that clang unrolls the tile into vector registers.
 */
#include "kernels.h"

#define CONV_ROWS 4
#define CONV_WIDTH (2 * VEC)

static inline __attribute__((always_inline)) void conv_tile(const float *restrict x, const float *restrict w,
                                                            float *restrict y, int n, int oh, int ow0, int co,
                                                            int rows, int width, CONV_GEOMETRY) {
  float acc[CONV_ROWS][CONV_WIDTH];
#pragma clang loop unroll(full)
  for (int r = 0; r < rows; r++)
#pragma clang loop unroll(full)
    for (int j = 0; j < width; j++) acc[r][j] = 0.0f;
  for (int kh = 0; kh < k_h; kh++) {
    int ih = tap_input(oh, kh, stride_h, dil_h, pad_top, in_h);
    if (ih < 0) continue;
    const float *restrict x_row = x + ((long)n * in_h + ih) * in_w * in_c;
    for (int kw = 0; kw < k_w; kw++) {
      const float *restrict w_tap = w + (long)(kh * k_w + kw) * in_c * out_c + co;
      int iw0 = ow0 * stride_w + kw * dil_w - pad_left;
      if (iw0 >= 0 && iw0 + (rows - 1) * stride_w < in_w) {
        /* Every pixel of the tile reads inside the image. */
        const float *restrict xp = x_row + (long)iw0 * in_c;
        for (int ci = 0; ci < in_c; ci++) {
          const float *restrict wk = w_tap + (long)ci * out_c;
#pragma clang loop unroll(full)
          for (int r = 0; r < rows; r++) {
            float a = xp[(long)r * stride_w * in_c + ci];
#pragma clang loop unroll(full)
            for (int j = 0; j < width; j++) acc[r][j] += a * wk[j];
          }
        }
      } else {
        /* At the image's left or right edge: pixels whose tap falls outside read zero. */
        for (int ci = 0; ci < in_c; ci++) {
          const float *restrict wk = w_tap + (long)ci * out_c;
#pragma clang loop unroll(full)
          for (int r = 0; r < rows; r++) {
            int iw = iw0 + r * stride_w;
            float a = iw >= 0 && iw < in_w ? x_row[(long)iw * in_c + ci] : 0.0f;
#pragma clang loop unroll(full)
            for (int j = 0; j < width; j++) acc[r][j] += a * wk[j];
          }
        }
      }
    }
  }
  float *restrict out = y + (((long)n * out_h + oh) * out_w + ow0) * out_c + co;
#pragma clang loop unroll(full)
  for (int r = 0; r < rows; r++)
#pragma clang loop unroll(full)
    for (int j = 0; j < width; j++) out[(long)r * out_c + j] = acc[r][j];
}

#define CONV_PASS                                                                                       \
  batch, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, \
      pad_left

/* Every block of output channels of `rows` pixels, in widths CONV_WIDTH, VEC, 8, 4, then 1. */
static inline __attribute__((always_inline)) void conv_pixels(const float *restrict x, const float *restrict w,
                                                              float *restrict y, int n, int oh, int ow0, int rows,
                                                              CONV_GEOMETRY) {
  int co = 0;
  for (; co + CONV_WIDTH <= out_c; co += CONV_WIDTH) conv_tile(x, w, y, n, oh, ow0, co, rows, CONV_WIDTH, CONV_PASS);
  for (; co + VEC <= out_c; co += VEC) conv_tile(x, w, y, n, oh, ow0, co, rows, VEC, CONV_PASS);
  for (; co + 8 <= out_c; co += 8) conv_tile(x, w, y, n, oh, ow0, co, rows, 8, CONV_PASS);
  for (; co + 4 <= out_c; co += 4) conv_tile(x, w, y, n, oh, ow0, co, rows, 4, CONV_PASS);
  for (; co < out_c; co++) conv_tile(x, w, y, n, oh, ow0, co, rows, 1, CONV_PASS);
}

/* y[n][oh][ow][co] = sum over kh, kw, ci of x[n][ih][iw][ci] * w[kh][kw][ci][co]. */
EXPORT(conv2d_forward)
void conv2d_forward(const float *restrict x, const float *restrict w, float *restrict y, CONV_GEOMETRY) {
  for (int n = 0; n < batch; n++) {
    for (int oh = 0; oh < out_h; oh++) {
      int ow = 0;
      for (; ow + CONV_ROWS <= out_w; ow += CONV_ROWS) conv_pixels(x, w, y, n, oh, ow, CONV_ROWS, CONV_PASS);
      for (; ow < out_w; ow++) conv_pixels(x, w, y, n, oh, ow, 1, CONV_PASS);
    }
  }
}
