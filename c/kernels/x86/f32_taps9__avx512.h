/* f32_taps9__avx512.h: 16 channels' 3x3 filters as nine vectors (tap q of channel c in lane c of vector q), for
 * the Winograd weight transforms (f32_wino23__avx512f.c, which defines these, and f32_wino43__avx512f.c). The
 * 144 floats are nine loads; tap q's lanes c read float 9c + q, which lies in one of the five pairs of loads (32
 * floats), so each tap is five two-source permutes (vpermt2ps), each kept in the lanes its pair holds (masks).
 * The transforms run once a forward on every Winograd layer's weights (at batch 1 U is made per panel, not kept:
 * peak memory); by nine 16-lane gathers a block (~33 cycles each on Zen 4) they were 4% of ResNet50 f32 on one
 * thread. The weights come from memory then (ResNet50 f32's 90 MB stay in no cache), so each block prefetches
 * TAPS9_PF bytes ahead: 256 x 256 filters, caches flushed before, 551 us by gathers, 464 by permutes, 215 with
 * the prefetch (hot: 334, 181, 145). */
#ifndef TINYRUNTIME_F32_TAPS9_AVX512_H
#define TINYRUNTIME_F32_TAPS9_AVX512_H
#include <immintrin.h>

typedef struct { __m512i idx[9][5]; __mmask16 mk[9][5]; } Taps9;
enum { TAPS9_PF = 2048 };

/* the permutes' indices (9c + q - 32i, bits 0-4) and lanes (0 <= 9c + q - 32i < 32). Inline: a call to it out of
   line (defined with f32_taps9__avx512f) was dropped by GCC 12's interprocedural passes at -O2, and the
   transforms read an uninitialized table */
static inline void taps9_init(Taps9 *t) {
  const __m512i f = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(9));
  for (int q = 0; q < 9; q++)
    for (int i = 0; i < 5; i++) {
      __m512i x = _mm512_add_epi32(f, _mm512_set1_epi32(q - 32 * i));
      t->idx[q][i] = x;
      t->mk[q][i] = _mm512_cmpge_epi32_mask(x, _mm512_setzero_si512()) & _mm512_cmplt_epi32_mask(x, _mm512_set1_epi32(32));
    }
}
/* g[q] = tap q of the n <= 16 channels whose filters are the 9n floats at p (lanes past n: 0) */
void f32_taps9__avx512f(const Taps9 *t, const float *p, int n, __m512 g[9]);
#endif
