/* q8_requant__avx2.h: FORMAT.md's sq8 requantization of 8 int32 sums in AVX2 lanes, for the AVX2 kernels that keep
 * int32 sums (q8_gemm_4x16__avx2.c, q8_dwconv__avx2.c), as q8_requant__avx512.h does it in 16: x = sum * m + c in int64
 * lanes, c = bias * m + (1 << (shift - 1)) once per row or plane (the reference's (sum + bias) * m + rounding, the same
 * int64 bits), one vpmuldq per four lanes. Then x >> shift:
 * - shift >= 32 (big, a real model's usual one: m >= 2^30 and a multiplier below 1/2): the high half of x shifted by
 *   shift - 32 in int32 lanes (a floor of a floor is the floor), exact for a valid model's |x| < 2^62.6 (the result
 *   below 2^30.6: + zy does not wrap); ~10 ops per 8 outputs with the caller's narrowing;
 * - shift < 32 (small): in int64 lanes (the arithmetic shift by the sign trick, AVX2 having no vpsraq), clamped to
 *   [lo, hi] = [qmin - zy, qmax - zy] there, ~40 ops per 8 outputs.
 * The callers add zy and narrow (vpackssdw, + zy saturating in int16 where big, vpacksswb: each saturation monotone),
 * then clamp to [qmin, qmax] in int8 lanes. */
#ifndef TINYRUNTIME_Q8_REQUANT_AVX2_H
#define TINYRUNTIME_Q8_REQUANT_AVX2_H
#include <immintrin.h>

/* x = v * m + c of 8 int32 sums (m, c: int64 in every lane): the even lanes' int64 in *ev, the odd lanes' in *od */
static inline __attribute__((always_inline)) void q8_x64_avx2(__m256i v, __m256i m, __m256i c, __m256i *ev, __m256i *od) {
  *ev = _mm256_add_epi64(_mm256_mul_epi32(v, m), c);
  *od = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(v, 32), m), c);
}

/* shift >= 32: x >> shift in int32 lanes, cnt = shift - 32 */
static inline __attribute__((always_inline)) __m256i q8_big8_avx2(__m256i v, __m256i m, __m256i c, __m128i cnt) {
  __m256i ev, od;
  q8_x64_avx2(v, m, c, &ev, &od);
  return _mm256_sra_epi32(_mm256_blend_epi32(_mm256_shuffle_epi32(ev, 0xF5), od, 0xAA), cnt);
}

/* int64 lanes: (p >> cnt) arithmetic, then clamped to [lo, hi] */
static inline __attribute__((always_inline)) __m256i q8_shift_clamp_avx2(__m256i p, __m128i cnt, __m256i lo, __m256i hi) {
  __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), p);
  __m256i r = _mm256_xor_si256(_mm256_srl_epi64(_mm256_xor_si256(p, sign), cnt), sign);
  r = _mm256_blendv_epi8(r, lo, _mm256_cmpgt_epi64(lo, r));
  return _mm256_blendv_epi8(r, hi, _mm256_cmpgt_epi64(r, hi));
}

/* shift < 32: clamp(x >> shift, lo, hi) in int32 lanes, cnt = shift */
static inline __attribute__((always_inline)) __m256i q8_small8_avx2(__m256i v, __m256i m, __m256i c, __m128i cnt, __m256i lo,
                                                                    __m256i hi) {
  __m256i ev, od;
  q8_x64_avx2(v, m, c, &ev, &od);
  ev = q8_shift_clamp_avx2(ev, cnt, lo, hi), od = q8_shift_clamp_avx2(od, cnt, lo, hi);
  return _mm256_blend_epi32(ev, _mm256_slli_epi64(od, 32), 0xAA);
}
#endif
