/* crc32__pclmul.c: zlib's CRC-32 by carry-less multiplication (SSE4.1 + PCLMULQDQ): four 16-byte
 * lanes folded 64 bytes at a time, then one lane, then Barrett reduction; the last n % 16 bytes
 * (and inputs under 64 bytes) by slicing-by-16. Same result as crc32_bytewise on every input. */
#include "../../src/crc32.h"
#include "crc32_fold.h"

uint32_t crc32_pclmul(uint32_t crc, const void *buf, size_t n) {
  const unsigned char *p = buf;
  if (n < 64) return crc32_slice16(crc, p, n);
  __m128i x1 = _mm_loadu_si128((const __m128i *)p), x2 = _mm_loadu_si128((const __m128i *)(p + 16));
  __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 32)), x4 = _mm_loadu_si128((const __m128i *)(p + 48));
  x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)~crc));
  p += 64, n -= 64;
  const __m128i k12 = _mm_set_epi64x((long long)CRC_K2, (long long)CRC_K1);
  for (; n >= 64; p += 64, n -= 64) {
    x1 = crc_fold16(x1, k12, _mm_loadu_si128((const __m128i *)p));
    x2 = crc_fold16(x2, k12, _mm_loadu_si128((const __m128i *)(p + 16)));
    x3 = crc_fold16(x3, k12, _mm_loadu_si128((const __m128i *)(p + 32)));
    x4 = crc_fold16(x4, k12, _mm_loadu_si128((const __m128i *)(p + 48)));
  }
  const __m128i k34 = _mm_set_epi64x((long long)CRC_K4, (long long)CRC_K3);
  x1 = crc_fold16(x1, k34, x2);
  x1 = crc_fold16(x1, k34, x3);
  x1 = crc_fold16(x1, k34, x4);
  for (; n >= 16; p += 16, n -= 16) x1 = crc_fold16(x1, k34, _mm_loadu_si128((const __m128i *)p));
  return crc32_slice16(~crc_reduce128(x1), p, n);
}
