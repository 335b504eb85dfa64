/* q8_dq8scale__avx512.h: a dq8 group's activation scale and its reciprocal without a division, AVX-512F,
 * for the kernel that quantizes activations (q8_dq8gemm_4x32__avx512vnni.c's columns, which the AMX
 * descriptor shares):
 * - s = fl(d / b) (d = max|v| and b = 127, or d = hi - lo and b = 255; 1 where d = 0, FORMAT.md) as
 *   q0 = fl(d * fl(1/b)) and one FMA correction q0 + fl(d - q0 b) * fl(1/b): equal to the IEEE division
 *   for every finite d >= 0, subnormals included (checked over all 2^31 of them for both b when this was
 *   written; the tests' tiny and huge modes check the ends). For d = inf the correction gives NaN where
 *   the division gives inf: such a lane is out of range below, and the callers divide.
 * - r = 1/s from the 14-bit estimate and one Newton step in FMAs: |r - 1/s| <= 1.1 * 2^-24 |1/s| while s
 *   is in [2^-100, 2^100] (so r is a normal float), which the callers' rounding checks assume. */
#ifndef TINYRUNTIME_Q8_DQ8SCALE_AVX512_H
#define TINYRUNTIME_Q8_DQ8SCALE_AVX512_H
#include <immintrin.h>

#define Q8_RNE (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define Q8_MAXABS 0x0B   /* _mm512_range_ps: the larger magnitude, sign cleared (a NaN kept) */

/* s and 1/s of 16 groups from d (asym: b = 255, else 127) into *sx and *r; returns the lanes where s is in
   [2^-100, 2^100] */
static inline __attribute__((always_inline)) __mmask16 q8_dq8_scale16(__m512 d, int asym, __m512 *sx, __m512 *r) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 b = _mm512_set1_ps(asym ? 255.0f : 127.0f), rb = _mm512_set1_ps(asym ? 1.0f / 255.0f : 1.0f / 127.0f);
  __m512 q0 = _mm512_mul_ps(d, rb);
  __m512 s = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(d, _mm512_setzero_ps(), _CMP_EQ_OQ),
                                  _mm512_fmadd_ps(_mm512_fnmadd_ps(q0, b, d), rb, q0), one);
  __m512 r0 = _mm512_rcp14_ps(s);
  *sx = s, *r = _mm512_fmadd_ps(r0, _mm512_fnmadd_ps(s, r0, one), r0);
  return _mm512_cmp_ps_mask(s, _mm512_set1_ps(0x1p-100f), _CMP_GE_OQ) & _mm512_cmp_ps_mask(s, _mm512_set1_ps(0x1p100f), _CMP_LE_OQ);
}

#endif
