/* q8_quad64__avx512.h: four k rows of 64 columns -> the columns' 4-byte quads, with AVX-512 BW (included by
 * q8_im2col4__avx512.h and q8_ew__avx512f.c). The byte interleave works within 128-bit lanes (lane g of q0:
 * columns 16g..16g+3, of q1: +4..7, q2: +8..11, q3: +12..15), then a 4x4 transpose of the lanes: out[g] holds
 * columns 16g..16g+15, column c at bytes 4c..4c+3 = (a, b, c, e)[c], each ^ 0x80 when flip. */
#ifndef TINYRUNTIME_Q8_QUAD64_AVX512_H
#define TINYRUNTIME_Q8_QUAD64_AVX512_H
#include <immintrin.h>

static inline void quad64v(__m512i a, __m512i b, __m512i c, __m512i e, int flip, __m512i out[4]) {
  if (flip) {
    __m512i f = _mm512_set1_epi8((char)0x80);
    a = _mm512_xor_si512(a, f), b = _mm512_xor_si512(b, f), c = _mm512_xor_si512(c, f), e = _mm512_xor_si512(e, f);
  }
  __m512i ab0 = _mm512_unpacklo_epi8(a, b), ab1 = _mm512_unpackhi_epi8(a, b);
  __m512i ce0 = _mm512_unpacklo_epi8(c, e), ce1 = _mm512_unpackhi_epi8(c, e);
  __m512i q0 = _mm512_unpacklo_epi16(ab0, ce0), q1 = _mm512_unpackhi_epi16(ab0, ce0);
  __m512i q2 = _mm512_unpacklo_epi16(ab1, ce1), q3 = _mm512_unpackhi_epi16(ab1, ce1);
  __m512i t0 = _mm512_shuffle_i64x2(q0, q1, 0x44), t1 = _mm512_shuffle_i64x2(q0, q1, 0xEE);
  __m512i t2 = _mm512_shuffle_i64x2(q2, q3, 0x44), t3 = _mm512_shuffle_i64x2(q2, q3, 0xEE);
  out[0] = _mm512_shuffle_i64x2(t0, t2, 0x88), out[1] = _mm512_shuffle_i64x2(t0, t2, 0xDD);
  out[2] = _mm512_shuffle_i64x2(t1, t3, 0x88), out[3] = _mm512_shuffle_i64x2(t1, t3, 0xDD);
}
#endif
