/* f32_act__ref: an activation over n floats in place, scalar (src/act.h). */
#include "../../src/act.h"
#include "../../src/kernels_f32.h"

void f32_act__ref(float *y, size_t n, int act) { act_f32_n(y, n, act); }

void f32_add__ref(const float *a, const float *b, float *y, size_t n, int act) {
  for (size_t i = 0; i < n; i++) y[i] = act_f32(a[i] + b[i], act);
}
