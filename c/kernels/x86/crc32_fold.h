/* crc32_fold.h: the 128-bit folding steps shared by crc32__pclmul.c and crc32__vpclmul.c (each
 * compiled with its own flags, both with SSE4.1 + PCLMULQDQ). Constants: x^n mod P, bit-reflected,
 * shifted left by one (Intel, "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ"). */
#ifndef TINYRUNTIME_CRC32_FOLD_H
#define TINYRUNTIME_CRC32_FOLD_H
#include <immintrin.h>
#include <stdint.h>

#define CRC_K1 0x154442bd4ull   /* x^(512+32): fold 64 bytes forward, low qword */
#define CRC_K2 0x1c6e41596ull   /* x^(512-32): high qword */
#define CRC_K3 0x1751997d0ull   /* x^(128+32): fold 16 bytes forward */
#define CRC_K4 0x0ccaa009eull   /* x^(128-32) */
#define CRC_K5 0x163cd6124ull   /* x^64 */
#define CRC_P  0x1db710641ull   /* P' (reflected polynomial) */
#define CRC_MU 0x1f7011641ull   /* Barrett's mu */

/* x folded forward by the distance of k, xored with next */
static inline __m128i crc_fold16(__m128i x, __m128i k, __m128i next) {
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), next);
}

/* the 32-bit CRC state of a 128-bit remainder: fold to 64 bits, then Barrett reduction */
static inline uint32_t crc_reduce128(__m128i x1) {
  const __m128i k3k4 = _mm_set_epi64x((long long)CRC_K4, (long long)CRC_K3);
  const __m128i mask = _mm_setr_epi32(~0, 0, ~0, 0);
  __m128i x2 = _mm_clmulepi64_si128(x1, k3k4, 0x10);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
  x2 = _mm_srli_si128(x1, 4);
  x1 = _mm_and_si128(x1, mask);
  x1 = _mm_clmulepi64_si128(x1, _mm_set_epi64x(0, (long long)CRC_K5), 0x00);
  x1 = _mm_xor_si128(x1, x2);
  const __m128i poly = _mm_set_epi64x((long long)CRC_MU, (long long)CRC_P);
  x2 = _mm_and_si128(x1, mask);
  x2 = _mm_clmulepi64_si128(x2, poly, 0x10);
  x2 = _mm_and_si128(x2, mask);
  x2 = _mm_clmulepi64_si128(x2, poly, 0x00);
  x1 = _mm_xor_si128(x1, x2);
  return (uint32_t)_mm_extract_epi32(x1, 1);
}
#endif
