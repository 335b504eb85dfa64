/* q8_bytes64__avx512.h: the mask of bytes [lo, hi) of a 64-byte vector, the range clipped to [0, 64): the depthwise
 * kernels' masked loads and stores (q8_dwconv__avx512vnni.c, q8_dwsmall__vbmivnni.c). */
#ifndef TINYRUNTIME_Q8_BYTES64_AVX512_H
#define TINYRUNTIME_Q8_BYTES64_AVX512_H
#include <immintrin.h>
#include <stdint.h>

static inline __mmask64 q8_bytes64(long lo, long hi) {
  if (lo < 0) lo = 0;
  if (hi > 64) hi = 64;
  if (hi <= lo) return 0;
  uint64_t h = hi == 64 ? ~(uint64_t)0 : ((uint64_t)1 << hi) - 1;
  return (__mmask64)(h & ~(((uint64_t)1 << lo) - 1));
}

#endif
