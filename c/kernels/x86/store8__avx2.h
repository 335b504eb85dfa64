/* store8__avx2.h: the AVX2 kernels' store of a vector's first n floats. vmaskmovps stores are slow on AMD: on
 * Zen 3 (2026-12-07) one took ~11 cycles (3.8 ns a store in a loop of them, masked loads 0.28, plain stores 0.4),
 * and the depthwise convolution and the max pool stored every output vector so. Here a full vector is one plain
 * store and a part one to three (4, 2 and 1 floats): only floats [0, n) are written. */
#ifndef TINYRUNTIME_STORE8_AVX2_H
#define TINYRUNTIME_STORE8_AVX2_H
#include <immintrin.h>

static inline __attribute__((always_inline)) void st8_n(float *p, __m256 v, int n) {
  if (n >= 8) {
    _mm256_storeu_ps(p, v);
    return;
  }
  __m128 h = _mm256_castps256_ps128(v);
  if (n >= 4) _mm_storeu_ps(p, h), h = _mm256_extractf128_ps(v, 1), p += 4, n -= 4;
  if (n >= 2) _mm_storel_pi((__m64 *)(void *)p, h), h = _mm_movehl_ps(h, h), p += 2, n -= 2;
  if (n >= 1) _mm_store_ss(p, h);
}
#endif
