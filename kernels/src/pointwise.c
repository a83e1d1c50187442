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
 * tiles) measured no faster than four in general: kept at four, but for products one vector wide
 * (NARROW_ROWS, below). TILE_ROOM: a tile can also be one vector and a half wide (below).
 */
#define TILE_ROWS 4
#define TILE_WIDTH (2 * VEC)
#define TILE_ROOM (TILE_WIDTH + 8)

/*
 * Rows of a tile of a product exactly one vector wide that is not accumulated (forward passes
 * and input gradients into 16 channels with AVX-512): four rows keep only four sums in flight.
 * Measured in isolation (bench/kernels.sh's shapes, median of 21, 50176 pixels): the forward pass
 * 64 → 16 channels 0.93 → 0.78 ms, the input gradient into 16 channels from 64 0.90–0.97 →
 * 0.77–0.79 ms; the filter gradient
 * (accumulated over chunks of 64 pixels) was slower with eight (1.28 → 1.42 ms) and keeps four.
 */
#define NARROW_ROWS 8

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
  float acc[NARROW_ROWS][TILE_ROOM];
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

/*
 * Every column block of `rows` rows of C, in widths TILE_WIDTH, VEC, 8, 4, then 1; with AVX-512,
 * a last block of 24 columns in one tile of a vector and a half rather than a vector and then 8
 * columns, which read A twice and kept only four sums in flight in the second pass (24 channels:
 * the CIFAR net's, measured in isolation, median of 21: forward 144 → 24 channels over 16384
 * pixels 1.40 → 1.16 ms, the input gradient into 24 channels 1.38 → 1.16 ms).
 */
static inline __attribute__((always_inline)) void tile_row(const float *restrict a, int a_row, int a_inner,
                                                           const float *restrict b, float *restrict c, int n,
                                                           int inner, int rows, int accumulate) {
  int j = 0;
  for (; j + TILE_WIDTH <= n; j += TILE_WIDTH) tile(a, a_row, a_inner, b + j, n, c + j, n, inner, rows, TILE_WIDTH, accumulate);
  if (VEC == 16 && n - j == VEC + 8) {
    tile(a, a_row, a_inner, b + j, n, c + j, n, inner, rows, VEC + 8, accumulate);
    return;
  }
  for (; j + VEC <= n; j += VEC) tile(a, a_row, a_inner, b + j, n, c + j, n, inner, rows, VEC, accumulate);
  for (; j + 8 <= n; j += 8) tile(a, a_row, a_inner, b + j, n, c + j, n, inner, rows, 8, accumulate);
  for (; j + 4 <= n; j += 4) tile(a, a_row, a_inner, b + j, n, c + j, n, inner, rows, 4, accumulate);
  for (; j < n; j++) tile(a, a_row, a_inner, b + j, n, c + j, n, inner, rows, 1, accumulate);
}

/* C [m][n] (+)= A [m][inner] * B [inner][n], A(r, k) at a[r * a_row + k * a_inner]. */
static void product(const float *restrict a, int a_row, int a_inner, const float *restrict b, float *restrict c,
                    int m, int n, int inner, int accumulate) {
  int r = 0;
  if (n == VEC && !accumulate)
    for (; r + NARROW_ROWS <= m; r += NARROW_ROWS)
      tile_row(a + (long)r * a_row, a_row, a_inner, b, c + (long)r * n, n, inner, NARROW_ROWS, accumulate);
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
