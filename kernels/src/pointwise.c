/*
 * 1x1 (pointwise) convolutions, stride 1, NHWC: over the batch's pixels they are matrix products,
 *   forward          y[p][co]   = sum over ci of x[p][ci] * w[ci][co]
 *   input gradient   dx[p][ci]  = sum over co of dy[p][co] * w[ci][co]
 *   filter gradient  dw[ci][co] = sum over p  of x[p][ci] * dy[p][co]
 * all three computed by one register-tiled product C = A * B (B row-major, A read through
 * strides, so that the filter gradient reads x transposed without a copy). A tile of ROWS rows by
 * WIDTH columns of C stays in registers over the whole inner dimension: ROWS and WIDTH are
 * constants at every call, so that clang unrolls the tile into vector registers of the target's
 * width (4 floats in WebAssembly, 16 with AVX-512). Locals stay scalar or fixed-size: the
 * WebAssembly build has no stack.
 */
#include "kernels.h"

/*
 * A tile of TILE_ROWS x TILE_WIDTH sums. Eight rows with AVX-512 (more sums in flight for narrow
 * tiles) measured no faster than four: kept at four.
 */
#define TILE_ROWS 4
#define TILE_WIDTH (2 * VEC)

/*
 * Pixels of the filter gradient's inner dimension per pass: their rows of x and dy stay in L1
 * over the passes of every tile (64 measured 10-30% faster than 256 on the MNIST and CIFAR nets'
 * shapes, where a 256-pixel chunk of a 64-channel dy alone fills L1).
 */
#define PIXEL_CHUNK 64

/*
 * C[r][j] (+)= sum over k of A(r, k) * B[k][j] for r < rows, j < width, with A(r, k) at
 * a[r * a_row + k * a_inner]; C rows ldc apart, B rows ldb apart.
 */
static inline __attribute__((always_inline)) void tile(const float *restrict a, int a_row, int a_inner,
                                                       const float *restrict b, int ldb, float *restrict c, int ldc,
                                                       int inner, int rows, int width, int accumulate) {
  /* Unrolled in full, so that the sums live in registers (clang's default threshold stops short). */
  float acc[TILE_ROWS][TILE_WIDTH];
#pragma clang loop unroll(full)
  for (int r = 0; r < rows; r++)
#pragma clang loop unroll(full)
    for (int j = 0; j < width; j++) acc[r][j] = accumulate ? c[r * ldc + j] : 0.0f;
  for (int k = 0; k < inner; k++) {
    const float *restrict bk = b + (long)k * ldb;
#pragma clang loop unroll(full)
    for (int r = 0; r < rows; r++) {
      float ark = a[(long)r * a_row + (long)k * a_inner];
#pragma clang loop unroll(full)
      for (int j = 0; j < width; j++) acc[r][j] += ark * bk[j];
    }
  }
#pragma clang loop unroll(full)
  for (int r = 0; r < rows; r++)
#pragma clang loop unroll(full)
    for (int j = 0; j < width; j++) c[r * ldc + j] = acc[r][j];
}

/* Every column block of `rows` rows of C, in widths TILE_WIDTH, VEC, 8, 4, then 1. */
static inline __attribute__((always_inline)) void tile_row(const float *restrict a, int a_row, int a_inner,
                                                           const float *restrict b, float *restrict c, int n,
                                                           int inner, int rows, int accumulate) {
  int j = 0;
  for (; j + TILE_WIDTH <= n; j += TILE_WIDTH) tile(a, a_row, a_inner, b + j, n, c + j, n, inner, rows, TILE_WIDTH, accumulate);
  for (; j + VEC <= n; j += VEC) tile(a, a_row, a_inner, b + j, n, c + j, n, inner, rows, VEC, accumulate);
  for (; j + 8 <= n; j += 8) tile(a, a_row, a_inner, b + j, n, c + j, n, inner, rows, 8, accumulate);
  for (; j + 4 <= n; j += 4) tile(a, a_row, a_inner, b + j, n, c + j, n, inner, rows, 4, accumulate);
  for (; j < n; j++) tile(a, a_row, a_inner, b + j, n, c + j, n, inner, rows, 1, accumulate);
}

/* C [m][n] (+)= A [m][inner] * B [inner][n], A(r, k) at a[r * a_row + k * a_inner]. */
static void product(const float *restrict a, int a_row, int a_inner, const float *restrict b, float *restrict c,
                    int m, int n, int inner, int accumulate) {
  int r = 0;
  for (; r + TILE_ROWS <= m; r += TILE_ROWS)
    tile_row(a + (long)r * a_row, a_row, a_inner, b, c + (long)r * n, n, inner, TILE_ROWS, accumulate);
  for (; r < m; r++) tile_row(a + (long)r * a_row, a_row, a_inner, b, c + (long)r * n, n, inner, 1, accumulate);
}

EXPORT(pointwise_forward)
void pointwise_forward(const float *restrict x, const float *restrict w, float *restrict y, int pixels, int in_c,
                       int out_c) {
  product(x, in_c, 1, w, y, pixels, out_c, in_c, 0);
}

/* wt is caller-provided scratch for w transposed to [co][ci]. */
EXPORT(pointwise_backprop_input)
void pointwise_backprop_input(const float *restrict dy, const float *restrict w, float *restrict dx,
                              float *restrict wt, int pixels, int in_c, int out_c) {
  for (int co = 0; co < out_c; co++)
    for (int ci = 0; ci < in_c; ci++) wt[co * in_c + ci] = w[ci * out_c + co];
  product(dy, out_c, 1, wt, dx, pixels, in_c, out_c, 0);
}

EXPORT(pointwise_backprop_filter)
void pointwise_backprop_filter(const float *restrict x, const float *restrict dy, float *restrict dw, int pixels,
                               int in_c, int out_c) {
  for (int p = 0; p < pixels; p += PIXEL_CHUNK) {
    int chunk = pixels - p < PIXEL_CHUNK ? pixels - p : PIXEL_CHUNK;
    product(x + (long)p * in_c, 1, in_c, dy + (long)p * out_c, dw, in_c, out_c, chunk, p > 0);
  }
}
