/* f32_wino__avx2.h: the AVX2 Winograd transforms' helpers (f32_wino23__avx2.c, f32_wino43__avx2.c): lane masks for
 * vmaskmovps loads (stores of part of a vector: st8_n, store8__avx2.h), an 8x8 transpose, and 8 channels' 3x3 filters as
 * nine vectors (the weight transforms' input). */
#ifndef TINYRUNTIME_F32_WINO_AVX2_H
#define TINYRUNTIME_F32_WINO_AVX2_H
#include <immintrin.h>

#include "store8__avx2.h"

/* lanes [lo, hi) of 8 set (an int mask for vmaskmovps) */
static inline __m256i lanes(long lo, long hi) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  if (lo < 0) lo = 0;
  if (hi > 8) hi = 8;
  if (hi < lo) hi = lo;
  return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)lo), idx), _mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), idx));
}

/* the 8 x 8 floats of rows r[0..7] transposed in place (column c of the rows in r[c]) */
static inline __attribute__((always_inline)) void transpose8(__m256 r[8]) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]), t2 = _mm256_unpacklo_ps(r[2], r[3]);
  __m256 t3 = _mm256_unpackhi_ps(r[2], r[3]), t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE), s2 = _mm256_shuffle_ps(t1, t3, 0x44);
  __m256 s3 = _mm256_shuffle_ps(t1, t3, 0xEE), s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20), r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20), r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31), r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31), r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/* g[q] = tap q of the n <= 8 channels whose filters are the 9n floats at p (lanes past n: 0): each channel's taps 0-7
   one load, transposed; tap 8 from the channels' last floats */
static inline __attribute__((always_inline)) void taps9(const float *p, int n, __m256 g[9]) {
  __m256 r[8];
  if (n == 8) {   /* a whole block unrolled, its ninth taps by one vector (not 8 stores read back at once): the F(4x4)
                     weight transform 181-202 -> 138-141 TSC cycles per 8 filters with its loops unrolled (Zen 3) */
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) r[c] = _mm256_loadu_ps(p + 9 * c);
    g[8] = _mm256_setr_ps(p[8], p[17], p[26], p[35], p[44], p[53], p[62], p[71]);
  } else {
    float t8[8];
    for (int c = 0; c < 8; c++) {
      r[c] = c < n ? _mm256_loadu_ps(p + 9 * c) : _mm256_setzero_ps();
      t8[c] = c < n ? p[9 * c + 8] : 0.0f;
    }
    g[8] = _mm256_loadu_ps(t8);
  }
  transpose8(r);
#pragma GCC unroll 8
  for (int q = 0; q < 8; q++) g[q] = r[q];
}

#endif
