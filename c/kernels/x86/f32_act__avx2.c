/* f32_act__avx2: an activation over n floats in place, and an elementwise add with its activation, 8 at
 * a time (act__avx2.h), the tail scalar. */
#include "../../src/kernels_f32.h"
#include "act__avx2.h"

void f32_act__avx2(float *y, size_t n, int act) {
  if (act == ACT_NONE) return;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, act_avx2(_mm256_loadu_ps(y + i), act));
  for (; i < n; i++) y[i] = act_f32(y[i], act);
}

void f32_add__avx2(const float *a, const float *b, float *y, size_t n, int act) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, act_avx2(_mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)), act));
  for (; i < n; i++) y[i] = act_f32(a[i] + b[i], act);
}
