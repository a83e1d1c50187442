/*
 * Node-API binding of procnas's kernels built natively (kernels/src, see kernels.h): each function
 * takes the TF.js WASM backend's memory (an ArrayBuffer) and then the kernel's own arguments, its
 * tensors as byte offsets into that memory, exactly as the WebAssembly build takes them. So the
 * engine calls either build the same way, and the kernels read and write tensors in place.
 */
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#include "../src/kernels.h"

#define MAX_ARGS 32

/* The call's arguments: memory base, then every other argument as a number. */
typedef struct {
  uint8_t *base;
  size_t length;
  double v[MAX_ARGS];
  size_t count;
} Args;

static int read_args(napi_env env, napi_callback_info info, size_t expected, Args *a) {
  napi_value argv[MAX_ARGS + 1];
  size_t argc = MAX_ARGS + 1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc != expected + 1) {
    napi_throw_type_error(env, NULL, "procnas host kernels: wrong number of arguments");
    return 0;
  }
  void *data;
  if (napi_get_arraybuffer_info(env, argv[0], &data, &a->length) != napi_ok) {
    napi_throw_type_error(env, NULL, "procnas host kernels: the first argument must be the backend's memory");
    return 0;
  }
  a->base = (uint8_t *)data;
  a->count = expected;
  for (size_t i = 0; i < expected; i++) {
    if (napi_get_value_double(env, argv[i + 1], &a->v[i]) != napi_ok) {
      napi_throw_type_error(env, NULL, "procnas host kernels: arguments after the memory must be numbers");
      return 0;
    }
  }
  return 1;
}

/*
 * Arguments [first, first + count) are byte offsets into the memory. Unlike the WebAssembly
 * build, which traps outside its memory, native code would write over the process: refuse an
 * offset past the memory's end (a tensor's extent is the caller's to get right, as in WebAssembly).
 */
static int offsets_inside(napi_env env, const Args *a, size_t first, size_t count) {
  for (size_t i = first; i < first + count; i++) {
    if (!(a->v[i] >= 0 && a->v[i] < (double)a->length)) {
      napi_throw_range_error(env, NULL, "procnas host kernels: a tensor offset lies outside the backend's memory");
      return 0;
    }
  }
  return 1;
}

/* Argument i as a pointer into the memory (a byte offset, as the WebAssembly build takes it). */
#define F(i) ((float *)(a.base + (uint32_t)a.v[i]))
#define D(i) ((double *)(a.base + (uint32_t)a.v[i]))
#define I(i) ((int)a.v[i])
#define GEOMETRY(i)                                                                                       \
  I(i), I(i + 1), I(i + 2), I(i + 3), I(i + 4), I(i + 5), I(i + 6), I(i + 7), I(i + 8), I(i + 9), I(i + 10), \
      I(i + 11), I(i + 12), I(i + 13), I(i + 14)

#define CONV3(name)                                                    \
  static napi_value js_##name(napi_env env, napi_callback_info info) { \
    Args a;                                                            \
    if (!read_args(env, info, 18, &a)) return NULL;                    \
    if (!offsets_inside(env, &a, 0, 3)) return NULL;                   \
    name(F(0), F(1), F(2), GEOMETRY(3));                               \
    return NULL;                                                       \
  }

CONV3(conv2d_forward)
CONV3(conv2d_backprop_filter)
CONV3(depthwise_forward)
CONV3(depthwise_backprop_input)
CONV3(depthwise_backprop_filter)

static napi_value js_conv2d_backprop_input(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, 19, &a)) return NULL;
  if (!offsets_inside(env, &a, 0, 4)) return NULL;
  conv2d_backprop_input(F(0), F(1), F(2), F(3), GEOMETRY(4));
  return NULL;
}

static napi_value js_bn_depthwise_forward(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, 24, &a)) return NULL;
  if (!offsets_inside(env, &a, 0, 8)) return NULL;
  bn_depthwise_forward(F(0), F(1), F(2), F(3), F(4), F(5), F(6), F(7), I(8), GEOMETRY(9));
  return NULL;
}

static napi_value js_bn_depthwise_backprop_filter(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, 24, &a)) return NULL;
  if (!offsets_inside(env, &a, 0, 8)) return NULL;
  bn_depthwise_backprop_filter(F(0), F(1), F(2), F(3), F(4), F(5), F(6), F(7), I(8), GEOMETRY(9));
  return NULL;
}

static napi_value js_pointwise_forward(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, 6, &a)) return NULL;
  if (!offsets_inside(env, &a, 0, 3)) return NULL;
  pointwise_forward(F(0), F(1), F(2), I(3), I(4), I(5));
  return NULL;
}

static napi_value js_pointwise_backprop_input(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, 7, &a)) return NULL;
  if (!offsets_inside(env, &a, 0, 4)) return NULL;
  pointwise_backprop_input(F(0), F(1), F(2), F(3), I(4), I(5), I(6));
  return NULL;
}

static napi_value js_pointwise_backprop_filter(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, 6, &a)) return NULL;
  if (!offsets_inside(env, &a, 0, 3)) return NULL;
  pointwise_backprop_filter(F(0), F(1), F(2), I(3), I(4), I(5));
  return NULL;
}

static napi_value js_sgd_momentum(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, 10, &a)) return NULL;
  if (!offsets_inside(env, &a, 0, 5)) return NULL;
  sgd_momentum(F(0), F(1), F(2), F(3), F(4), I(5), (float)a.v[6], (float)a.v[7], (float)a.v[8], I(9));
  return NULL;
}

static napi_value js_moving_average(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, 6, &a)) return NULL;
  if (!offsets_inside(env, &a, 0, 3)) return NULL;
  moving_average(F(0), F(1), F(2), I(3), (float)a.v[4], (float)a.v[5]);
  return NULL;
}

static napi_value js_bn_statistics(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, 8, &a)) return NULL;
  if (!offsets_inside(env, &a, 0, 5)) return NULL;
  bn_statistics(F(0), F(1), F(2), F(3), D(4), I(5), I(6), (float)a.v[7]);
  return NULL;
}

static napi_value js_bn_apply(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, 9, &a)) return NULL;
  if (!offsets_inside(env, &a, 0, 6)) return NULL;
  bn_apply(F(0), F(1), F(2), F(3), F(4), F(5), I(6), I(7), I(8));
  return NULL;
}

static napi_value js_bn_backward(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, 13, &a)) return NULL;
  if (!offsets_inside(env, &a, 0, 10)) return NULL;
  bn_backward(F(0), F(1), F(2), F(3), F(4), F(5), F(6), F(7), F(8), D(9), I(10), I(11), I(12));
  return NULL;
}

#define ENTRY(name) {#name, NULL, js_##name, NULL, NULL, NULL, napi_default, NULL}

NAPI_MODULE_INIT() {
  napi_property_descriptor entries[] = {
      ENTRY(conv2d_forward), ENTRY(conv2d_backprop_filter), ENTRY(conv2d_backprop_input), ENTRY(depthwise_forward),
      ENTRY(depthwise_backprop_input), ENTRY(depthwise_backprop_filter), ENTRY(pointwise_forward),
      ENTRY(pointwise_backprop_input), ENTRY(pointwise_backprop_filter), ENTRY(sgd_momentum),
      ENTRY(moving_average), ENTRY(bn_statistics),
      ENTRY(bn_apply), ENTRY(bn_backward), ENTRY(bn_depthwise_forward), ENTRY(bn_depthwise_backprop_filter),
  };
  napi_define_properties(env, exports, sizeof entries / sizeof entries[0], entries);
  return exports;
}
