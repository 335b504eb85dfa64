/* crc32__vpclmul.c: zlib's CRC-32 by carry-less multiplication on 512-bit registers (AVX-512 +
 * VPCLMULQDQ): four zmm (16 lanes of 16 bytes) folded 256 bytes at a time, then into one zmm, then
 * lane by lane into one xmm, as crc32__pclmul.c from there on. Inputs under 256 bytes go to the
 * 128-bit path. Same result as crc32_bytewise on every input. */
#include "../../src/crc32.h"
#include "crc32_fold.h"

#define CRC_K2080 0x11542778aull   /* x^(2048+32): fold 256 bytes forward, low qword */
#define CRC_K2016 0x1322d1430ull   /* x^(2048-32): high qword */

static inline __m512i fold64(__m512i x, __m512i k, __m512i next) {
  return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00), _mm512_clmulepi64_epi128(x, k, 0x11), next,
                                   0x96);   /* a ^ b ^ c */
}

uint32_t crc32_vpclmul(uint32_t crc, const void *buf, size_t n) {
  const unsigned char *p = buf;
  if (n < 256) return crc32_pclmul(crc, p, n);
  __m512i x0 = _mm512_loadu_si512(p), x1 = _mm512_loadu_si512(p + 64);
  __m512i x2 = _mm512_loadu_si512(p + 128), x3 = _mm512_loadu_si512(p + 192);
  x0 = _mm512_xor_si512(x0, _mm512_castsi128_si512(_mm_cvtsi32_si128((int)~crc)));
  p += 256, n -= 256;
  const __m512i k256 = _mm512_broadcast_i32x4(_mm_set_epi64x((long long)CRC_K2016, (long long)CRC_K2080));
  for (; n >= 256; p += 256, n -= 256) {
    x0 = fold64(x0, k256, _mm512_loadu_si512(p));
    x1 = fold64(x1, k256, _mm512_loadu_si512(p + 64));
    x2 = fold64(x2, k256, _mm512_loadu_si512(p + 128));
    x3 = fold64(x3, k256, _mm512_loadu_si512(p + 192));
  }
  const __m512i k64 = _mm512_broadcast_i32x4(_mm_set_epi64x((long long)CRC_K2, (long long)CRC_K1));
  x0 = fold64(x0, k64, x1);
  x0 = fold64(x0, k64, x2);
  x0 = fold64(x0, k64, x3);
  for (; n >= 64; p += 64, n -= 64) x0 = fold64(x0, k64, _mm512_loadu_si512(p));
  const __m128i k34 = _mm_set_epi64x((long long)CRC_K4, (long long)CRC_K3);
  __m128i a = _mm512_extracti32x4_epi32(x0, 0);
  a = crc_fold16(a, k34, _mm512_extracti32x4_epi32(x0, 1));
  a = crc_fold16(a, k34, _mm512_extracti32x4_epi32(x0, 2));
  a = crc_fold16(a, k34, _mm512_extracti32x4_epi32(x0, 3));
  for (; n >= 16; p += 16, n -= 16) a = crc_fold16(a, k34, _mm_loadu_si128((const __m128i *)p));
  return crc32_slice16(~crc_reduce128(a), p, n);
}
