/*
 * procnas's kernels in isolation: the median time of each depthwise and pointwise kernel over
 * the shapes of the benchmark nets (bench/train-worker.ts), built as the host build is
 * (-O3 -march=native), each result checked against a plain loop. For A/B work on the kernels,
 * where a training step's noise hides changes of a few percent of the step:
 *   bench/kernels.sh [REPEATS] [SOURCES]   (default 21, kernels/src; clang needed)
 * Build it twice (two SOURCES) and run the two alternately to compare.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "kernels.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int ascending(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static float *filled(long n) {
  float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64);
  for (long i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
  return p;
}

/* The largest difference from the reference, relative to the reference's largest magnitude. */
static double relative_error(const float *got, const double *want, long n) {
  double err = 0, mag = 1e-30;
  for (long i = 0; i < n; i++) {
    if (fabs(got[i] - want[i]) > err) err = fabs(got[i] - want[i]);
    if (fabs(want[i]) > mag) mag = fabs(want[i]);
  }
  return err / mag;
}

enum { FORWARD, INPUT_GRAD, FILTER_GRAD };
static const char *const OP_NAMES[] = {"forward", "input gradient", "filter gradient"};

/* Depthwise, multiplier 1, padding k/2 on each side. */
static void depthwise(int op, int n, int h, int w, int c, int k, int s, int repeats) {
  int pad = k / 2, oh = (h + 2 * pad - k) / s + 1, ow = (w + 2 * pad - k) / s + 1;
  long nx = (long)n * h * w * c, ny = (long)n * oh * ow * c, nw = (long)k * k * c;
  long nout = op == FORWARD ? ny : op == INPUT_GRAD ? nx : nw;
  float *x = filled(nx), *dy = filled(ny), *f = filled(nw), *out = filled(nout);
  double *want = calloc(nout, sizeof *want), times[101];
  float *turned = filled(nw);
  for (int u = 0; u < k; u++)
    for (int v = 0; v < k; v++)
      for (int q = 0; q < c; q++) turned[((long)u * k + v) * c + q] = f[((long)(k - 1 - u) * k + (k - 1 - v)) * c + q];
  for (int r = 0; r < repeats; r++) {
    double t0 = now_ms();
    if (op == FORWARD) depthwise_forward(x, f, out, n, h, w, c, oh, ow, 1, k, k, s, s, 1, 1, pad, pad);
    /* As the engine runs it (src/engine/kernels/convolution.ts): at stride 1, a forward pass over
       dy with the filter turned half a turn (padding k - 1 - pad = pad, k odd). */
    if (op == INPUT_GRAD && s == 1) depthwise_forward(dy, turned, out, n, oh, ow, c, h, w, 1, k, k, 1, 1, 1, 1, pad, pad);
    if (op == INPUT_GRAD && s != 1) depthwise_backprop_input(dy, f, out, n, h, w, c, oh, ow, 1, k, k, s, s, 1, 1, pad, pad);
    if (op == FILTER_GRAD) depthwise_backprop_filter(x, dy, out, n, h, w, c, oh, ow, 1, k, k, s, s, 1, 1, pad, pad);
    times[r] = now_ms() - t0;
  }
  for (int b = 0; b < n; b++)
    for (int i = 0; i < oh; i++)
      for (int j = 0; j < ow; j++)
        for (int u = 0; u < k; u++)
          for (int v = 0; v < k; v++) {
            int ih = i * s + u - pad, iw = j * s + v - pad;
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
            for (int q = 0; q < c; q++) {
              long xi = (((long)b * h + ih) * w + iw) * c + q, yi = (((long)b * oh + i) * ow + j) * c + q, fi = ((long)u * k + v) * c + q;
              if (op == FORWARD) want[yi] += (double)x[xi] * f[fi];
              if (op == INPUT_GRAD) want[xi] += (double)dy[yi] * f[fi];
              if (op == FILTER_GRAD) want[fi] += (double)x[xi] * dy[yi];
            }
          }
  qsort(times, repeats, sizeof *times, ascending);
  printf("depthwise %dx%d s%d  %3dx%-3dx%3d  %-15s %8.3f ms   rel. error %.1e\n", k, k, s, h, w, c, OP_NAMES[op], times[repeats / 2],
         relative_error(out, want, nout));
  free(x), free(dy), free(f), free(turned), free(out), free(want);
}

/* Pointwise over `pixels` pixels, ci → co channels. */
static void pointwise(int op, int pixels, int ci, int co, int repeats) {
  float *x = filled((long)pixels * ci), *dy = filled((long)pixels * co), *f = filled((long)ci * co), *scratch = filled((long)ci * co);
  long nout = op == FORWARD ? (long)pixels * co : op == INPUT_GRAD ? (long)pixels * ci : (long)ci * co;
  float *out = filled(nout);
  double *want = calloc(nout, sizeof *want), times[101];
  for (int r = 0; r < repeats; r++) {
    double t0 = now_ms();
    if (op == FORWARD) pointwise_forward(x, f, out, pixels, ci, co);
    if (op == INPUT_GRAD) pointwise_backprop_input(dy, f, out, scratch, pixels, ci, co);
    if (op == FILTER_GRAD) pointwise_backprop_filter(x, dy, out, pixels, ci, co);
    times[r] = now_ms() - t0;
  }
  for (long p = 0; p < pixels; p++)
    for (int i = 0; i < ci; i++)
      for (int o = 0; o < co; o++) {
        if (op == FORWARD) want[p * co + o] += (double)x[p * ci + i] * f[(long)i * co + o];
        if (op == INPUT_GRAD) want[p * ci + i] += (double)dy[p * co + o] * f[(long)i * co + o];
        if (op == FILTER_GRAD) want[(long)i * co + o] += (double)x[p * ci + i] * dy[p * co + o];
      }
  qsort(times, repeats, sizeof *times, ascending);
  double median = times[repeats / 2];
  printf("pointwise %6d px %3d → %-3d     %-15s %8.3f ms   %4.0f GFLOPS   rel. error %.1e\n", pixels, ci, co, OP_NAMES[op], median,
         2.0 * pixels * ci * co / median / 1e6, relative_error(out, want, nout));
  free(x), free(dy), free(f), free(scratch), free(out), free(want);
}

int main(int argc, char **argv) {
  int repeats = argc > 1 ? atoi(argv[1]) : 21;
  if (repeats < 1 || repeats > 101) {
    fprintf(stderr, "repeats: expected 1 to 101, got %s\n", argv[1]);
    return 2;
  }
  /* The CIFAR net's depthwise layers (batch 64), and the MNIST net's 7x7 one. */
  static const int DW[][5] = {{32, 32, 48, 3, 1}, {32, 32, 96, 3, 2}, {16, 16, 144, 5, 1}, {16, 16, 144, 5, 2}, {8, 8, 240, 7, 1}, {7, 7, 192, 3, 1}};
  for (unsigned i = 0; i < sizeof DW / sizeof *DW; i++)
    for (int op = FORWARD; op <= FILTER_GRAD; op++) depthwise(op, 64, DW[i][0], DW[i][1], DW[i][2], DW[i][3], DW[i][4], repeats);
  /* Pointwise layers of both nets: pixels (batch 64 × image), channels in and out. */
  static const int PW[][3] = {{50176, 16, 64}, {50176, 64, 16}, {12544, 32, 128}, {16384, 24, 144}, {16384, 144, 24}, {3136, 48, 192}, {4096, 40, 240}};
  for (unsigned i = 0; i < sizeof PW / sizeof *PW; i++)
    for (int op = FORWARD; op <= FILTER_GRAD; op++) pointwise(op, PW[i][0], PW[i][1], PW[i][2], repeats);
  return 0;
}
