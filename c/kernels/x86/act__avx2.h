/* act__avx2.h: the AVX2 vector helper of the activations (src/act.h is the definition): the same
 * values as act_f32, lane for lane. Included by the AVX2 (and wider) kernels. */
#ifndef TINYRUNTIME_ACT_AVX2_H
#define TINYRUNTIME_ACT_AVX2_H
#include <immintrin.h>

#include "../../src/act.h"

static inline __attribute__((always_inline)) __m256 act_avx2(__m256 v, int act) {
  const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.0f), three = _mm256_set1_ps(3.0f);
  switch (act) {
  case ACT_NONE: return v;
  case ACT_RELU: return _mm256_max_ps(v, zero);   /* max(v, 0): NaN -> 0, as act_f32 */
  case ACT_RELU6: return _mm256_min_ps(_mm256_max_ps(v, zero), six);
  case ACT_HARDSWISH:
    return _mm256_div_ps(_mm256_mul_ps(v, _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, three), zero), six)), six);
  case ACT_HARDSIGMOID: return _mm256_div_ps(_mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, three), zero), six), six);
  default: {
    float t[8];
    _mm256_storeu_ps(t, v);
    for (int i = 0; i < 8; i++) t[i] = act_f32(t[i], act);
    return _mm256_loadu_ps(t);
  }
  }
}
#endif
