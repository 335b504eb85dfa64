/* f32_act__neon: an activation over n floats in place, 4 at a time (act__neon.h), the tail scalar. */
#include "../../src/kernels_f32.h"
#include "act__neon.h"

void f32_act__neon(float *y, size_t n, int act) {
  if (act == ACT_NONE) return;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, act_neon(vld1q_f32(y + i), act));
  for (; i < n; i++) y[i] = act_f32(y[i], act);
}
