/* q8_requant__avx512.h: FORMAT.md's sq8 requantization of 16 int32 dots with AVX-512, for the kernels
 * that keep int32 dots (q8_gemm_32x32__amx.c, q8_gemm_8x32__avx512vnni.c's implicit convolution):
 * acc * m = dot * m + bias * m, where dot (int32) * m is one vpmuldq and c = bias * m + (1 << (shift - 1))
 * one int64 per row, so the int64 sum equals the reference's (acc * m + rounding), shifted in int64. */
#ifndef TINYRUNTIME_Q8_REQUANT_AVX512_H
#define TINYRUNTIME_Q8_REQUANT_AVX512_H
#include <immintrin.h>

/* clamp(zy + requant(dot + bias, m, shift), qmin, qmax) of 16 int32 dots, as int8; lo, hi: qmin - zy,
   qmax - zy (int64 lanes), zy: int32 lanes, m, c: the row's int64 lanes, cnt: its shift */
static inline __m128i requant16(__m512i v, __m512i m, __m512i c, __m128i cnt, __m512i lo, __m512i hi, __m512i zy) {
  __m512i ev = _mm512_mul_epi32(v, m), od = _mm512_mul_epi32(_mm512_srli_epi64(v, 32), m);
  ev = _mm512_sra_epi64(_mm512_add_epi64(ev, c), cnt);
  od = _mm512_sra_epi64(_mm512_add_epi64(od, c), cnt);
  ev = _mm512_min_epi64(_mm512_max_epi64(ev, lo), hi);   /* clamp(r, qmin - zy, qmax - zy) */
  od = _mm512_min_epi64(_mm512_max_epi64(od, lo), hi);
  __m512i r = _mm512_mask_blend_epi32(0xAAAA, ev, _mm512_slli_epi64(od, 32));
  return _mm512_cvtepi32_epi8(_mm512_add_epi32(r, zy));
}

#endif
