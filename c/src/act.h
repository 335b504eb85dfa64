/* act.h: the activations, defined once (FORMAT.md's `act` codes). Every kernel and op that applies
 * an activation calls act_f32 (scalar) or its instruction set's vector helper (kernels/x86/act__avx2.h,
 * kernels/arm/act__neon.h), which computes the same values (the cheap ones in SIMD, the
 * exponential ones through act_f32 lane by lane). */
#ifndef TINYRUNTIME_ACT_H
#define TINYRUNTIME_ACT_H
#include <math.h>
#include <stddef.h>

#include "ops.h"

static inline float act_relu6_f32(float y) {
  y = y > 0.0f ? y : 0.0f;
  return y < 6.0f ? y : 6.0f;
}

/* y = act(x); ReLU maps NaN to 0 as the kernels always did (max(x, 0) with x second) */
static inline float act_f32(float x, int act) {
  switch (act) {
  case ACT_RELU: return x > 0.0f ? x : 0.0f;
  case ACT_RELU6: return act_relu6_f32(x);
  case ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
  case ACT_SILU: return x / (1.0f + expf(-x));
  case ACT_HARDSWISH: return x * act_relu6_f32(x + 3.0f) / 6.0f;
  case ACT_HARDSIGMOID: return act_relu6_f32(x + 3.0f) / 6.0f;
  default: return x;
  }
}

/* in place over n values */
static inline void act_f32_n(float *y, size_t n, int act) {
  if (act != ACT_NONE)
    for (size_t i = 0; i < n; i++) y[i] = act_f32(y[i], act);
}
#endif
