/* q8_requant__avx512.h: FORMAT.md's sq8 requantization of 16 int32 dots with AVX-512, for the kernels
 * that keep int32 dots (q8_gemm_32x32__amx.c, q8_gemm_8x32__avx512vnni.c's implicit convolution):
 * acc * m = dot * m + bias * m, where dot (int32) * m is one vpmuldq and c = bias * m + (1 << (shift - 1))
 * one int64 per row, so the int64 sum equals the reference's (acc * m + rounding). */
#ifndef TINYRUNTIME_Q8_REQUANT_AVX512_H
#define TINYRUNTIME_Q8_REQUANT_AVX512_H
#include <immintrin.h>
#include <stdint.h>

#include "../../src/kernels_q8.h"

/* One output row's requantization: x = dot * m + (bias * m + (1 << (shift - 1))) in int64 lanes, then
   x >> shift. With shift >= 32 (big) that is (high half of x) >> (shift - 32) in int32 (a floor of a floor
   is the floor; |x| < 2^63 so the result fits): one blend and one 32-bit shift instead of two 64-bit
   shifts, and the clamp in int32 lanes. Bounds: clamp(r, qmin - zy, qmax - zy), then + zy. */
typedef struct { __m512i m, c; __m128i cnt; int big; } RowQ;
typedef struct { __m512i zy, lo64, hi64, lo32, hi32; } EpiQ;

static inline EpiQ epi_q(const Q8Sq8Epi *e) {
  EpiQ q = { _mm512_set1_epi32(e->zy), _mm512_set1_epi64((int64_t)e->qmin - e->zy), _mm512_set1_epi64((int64_t)e->qmax - e->zy),
             _mm512_set1_epi32(e->qmin - e->zy), _mm512_set1_epi32(e->qmax - e->zy) };
  return q;
}

static inline RowQ row_q(const Q8Sq8Epi *e, int o) {
  int s = e->shift[o];
  RowQ q = { _mm512_set1_epi64(e->mult[o]), _mm512_set1_epi64((int64_t)e->bias[o] * e->mult[o] + ((int64_t)1 << (s - 1))),
             _mm_cvtsi32_si128(s >= 32 ? s - 32 : s), s >= 32 };
  return q;
}

/* clamp(zy + requant(dot + bias, m, shift), qmin, qmax) of 16 int32 dots, as int8 */
static inline __m128i requant16(__m512i v, const RowQ *q, const EpiQ *p) {
  __m512i ev = _mm512_add_epi64(_mm512_mul_epi32(v, q->m), q->c);
  __m512i od = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(v, 32), q->m), q->c);
  __m512i r;
  if (q->big) {
    r = _mm512_sra_epi32(_mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(ev, 32), od), q->cnt);
    r = _mm512_min_epi32(_mm512_max_epi32(r, p->lo32), p->hi32);
  } else {
    ev = _mm512_min_epi64(_mm512_max_epi64(_mm512_sra_epi64(ev, q->cnt), p->lo64), p->hi64);
    od = _mm512_min_epi64(_mm512_max_epi64(_mm512_sra_epi64(od, q->cnt), p->lo64), p->hi64);
    r = _mm512_mask_blend_epi32(0xAAAA, ev, _mm512_slli_epi64(od, 32));
  }
  return _mm512_cvtepi32_epi8(_mm512_add_epi32(r, p->zy));
}

#endif
