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
/* act of 8 floats where act is a run-time value: none, ReLU and ReLU6 inline, the others out of line (one
   copy per file; act_avx2's whole switch inlined at every call was ~3 KB of the AVX2 depthwise kernel) */
static __attribute__((noinline, unused)) __m256 act8_other(__m256 v, int act) { return act_avx2(v, act); }
static inline __attribute__((always_inline)) __m256 act8_avx2(__m256 v, int act) {
  return act == ACT_RELU || act == ACT_RELU6 ? act_avx2(v, act) : act == ACT_NONE ? v : act8_other(v, act);
}
#ifdef __AVX512F__
/* act of 16 floats in a register: ReLU and ReLU6 in 512 bits, inline; the others out of line, one copy in the
   binary (f32_gemm_12x32__avx512f.c: a static copy per file was 770 B in each of three), by act_avx2 on the two
   halves (a loop: one copy of its code; the halves go through 256-bit stores and loads, which forward, where a
   512-bit load of two 256-bit stores waits for both to reach the cache) */
__m512 act16_other__avx512f(__m512 v, int act);
#define act16_other act16_other__avx512f
static inline __attribute__((always_inline)) __m512 act16_avx512(__m512 v, int act) {
  if (act == ACT_NONE) return v;
  if (act == ACT_RELU) return _mm512_max_ps(v, _mm512_setzero_ps());
  if (act == ACT_RELU6) return _mm512_min_ps(_mm512_max_ps(v, _mm512_setzero_ps()), _mm512_set1_ps(6.0f));
  return act16_other(v, act);
}
#endif
#endif
