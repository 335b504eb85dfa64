/* q8_epi4x16__avx2.h: the sq8 epilogue of the AVX2-class 4 x 16 tiles (q8_gemm_4x16__avx2.c's, and on the same
 * layouts q8_gemm_4x16__avxvnni.c's): int32 sums of 4 rows x 16 columns to clamped int8, FORMAT.md's requantization
 * (q8_requant__avx2.h), so every kernel that ends in it writes the same bytes as the reference. Included by files
 * built with at least -mavx2 -mfma. */
#ifndef TINYRUNTIME_Q8_EPI4X16_AVX2_H
#define TINYRUNTIME_Q8_EPI4X16_AVX2_H
#include <immintrin.h>
#include <stdint.h>
#include "../../src/kernels_q8.h"
#include "q8_requant__avx2.h"

/* The sq8 epilogue (q8_requant__avx2.h): a row's constants (m, c, the shift's count) made once per call for a pass of
   up to RB rows, before the panels, and used by every panel's tiles. A row of shift >= 32 (big) is ~10 vector ops per
   8 outputs where the int64 path takes ~40: a 64 x 64 call of 256 columns at K = 64 (ResNet50's first 1x1s) 33.3 ->
   20.1 us, fastest of 20 rounds of 100 calls (Zen 3, one thread), when it was made in place of the int64 path */
enum { RB = 64 };
typedef struct { __m256i m, c; __m128i cnt; int big; } RowQ;
typedef struct { __m256i zy16, zy32, lo64, hi64; __m128i lo8, hi8; } EpiK;

static inline RowQ row_q(const Q8Sq8Epi *e, int o) {
  int32_t sh = e->shift[o];
  RowQ q = { _mm256_set1_epi64x(e->mult[o]), _mm256_set1_epi64x((int64_t)e->bias[o] * e->mult[o] + ((int64_t)1 << (sh - 1))),
             _mm_cvtsi32_si128(sh >= 32 ? sh - 32 : sh), sh >= 32 };
  return q;
}

/* one row's 16 outputs of the tile (two vectors of 8 int32 dots, columns 0-7 and 8-15) as int8 in column order */
static inline __attribute__((always_inline)) __m128i row16(__m256i v0, __m256i v1, const RowQ *q, const EpiK *k) {
  __m256i y16;
  if (q->big)
    y16 = _mm256_adds_epi16(_mm256_packs_epi32(q8_big8_avx2(v0, q->m, q->c, q->cnt), q8_big8_avx2(v1, q->m, q->c, q->cnt)), k->zy16);
  else   /* clamped to [qmin - zy, qmax - zy] in int64, + zy: within [-128, 127] */
    y16 = _mm256_packs_epi32(_mm256_add_epi32(q8_small8_avx2(v0, q->m, q->c, q->cnt, k->lo64, k->hi64), k->zy32),
                             _mm256_add_epi32(q8_small8_avx2(v1, q->m, q->c, q->cnt, k->lo64, k->hi64), k->zy32));
  /* int16 lanes [0-3, 8-11 | 4-7, 12-15] -> column order, then int8 (saturating: the clamp to [-128, 127]) */
  y16 = _mm256_permute4x64_epi64(y16, 0xD8);
  __m128i y8 = _mm_packs_epi16(_mm256_castsi256_si128(y16), _mm256_extracti128_si256(y16, 1));
  return _mm_min_epi8(_mm_max_epi8(y8, k->lo8), k->hi8);
}

/* the epilogue's constants of a call */
static inline EpiK epi_k(const Q8Sq8Epi *e) {
  EpiK k = { _mm256_set1_epi16((short)e->zy), _mm256_set1_epi32(e->zy), _mm256_set1_epi64x((int64_t)e->qmin - e->zy),
             _mm256_set1_epi64x((int64_t)e->qmax - e->zy), _mm_set1_epi8((char)e->qmin), _mm_set1_epi8((char)e->qmax) };
  return k;
}

/* the outputs of a tile's nr rows from o0 (of a pass from ob), nc <= 16 columns from j: c[r][h] row r's sums of columns
   8h .. 8h + 7 */
static inline __attribute__((always_inline)) void tile_out(__m256i c[4][2], int nr, int o0, int ob, int j, int nc, const Q8Sq8Epi *e,
                                                            const RowQ *rq, const EpiK *k) {
  if (nr == 4 && nc == Q8_NR && e->ys_p == 1 && rq[o0 - ob].big & rq[o0 - ob + 1].big & rq[o0 - ob + 2].big & rq[o0 - ob + 3].big) {
    /* a whole tile of big rows: two rows a vector from the int16 step on (one vpacksswb, vpermq and vpshufd, the clamp
       once, for two rows), the rows' addresses ys_o apart; the same bytes as row16's. Small K is where the epilogue
       weighs (without it a K = 64 layer ran ~0.77x its time): a harness running layers as the op does (two kernels
       alternated, Zen 3) 0.92-0.97x their time at K = 16-64, 0.98 at 256, none at 576; MobileNetV2 sq8 0.97-0.99x */
    int8_t *y = e->y + o0 * e->ys_o + j;
    const RowQ *q = rq + (o0 - ob);
#pragma GCC unroll 2
    for (int r = 0; r < 4; r += 2) {
      __m256i a = _mm256_adds_epi16(_mm256_packs_epi32(q8_big8_avx2(c[r][0], q[r].m, q[r].c, q[r].cnt), q8_big8_avx2(c[r][1], q[r].m, q[r].c, q[r].cnt)), k->zy16);
      __m256i b = _mm256_adds_epi16(_mm256_packs_epi32(q8_big8_avx2(c[r + 1][0], q[r + 1].m, q[r + 1].c, q[r + 1].cnt), q8_big8_avx2(c[r + 1][1], q[r + 1].m, q[r + 1].c, q[r + 1].cnt)), k->zy16);
      /* int8 lanes: [a 0-3, 8-11, b 0-3, 8-11 | a 4-7, 12-15, b 4-7, 12-15] -> [a 0-3, 8-11, 4-7, 12-15 | b ...] -> column order */
      __m256i y8 = _mm256_shuffle_epi32(_mm256_permute4x64_epi64(_mm256_packs_epi16(a, b), 0xD8), 0xD8);
      y8 = _mm256_min_epi8(_mm256_max_epi8(y8, _mm256_broadcastsi128_si256(k->lo8)), _mm256_broadcastsi128_si256(k->hi8));
      _mm_storeu_si128((__m128i *)(void *)(y + (size_t)r * e->ys_o), _mm256_castsi256_si128(y8));
      _mm_storeu_si128((__m128i *)(void *)(y + (size_t)(r + 1) * e->ys_o), _mm256_extracti128_si256(y8, 1));
    }
    return;
  }
  for (int r = 0; r < nr; r++) {
    int o = o0 + r;
    __m128i y8 = row16(c[r][0], c[r][1], &rq[o - ob], k);
    int8_t *y = e->y + o * e->ys_o + j * e->ys_p;
    if (e->ys_p == 1 && nc == Q8_NR) _mm_storeu_si128((__m128i *)y, y8);
    else {
      int8_t tmp[16];
      _mm_storeu_si128((__m128i *)tmp, y8);
      for (int cc = 0; cc < nc; cc++) y[cc * e->ys_p] = tmp[cc];
    }
  }
}

/* the 4 bytes at a in lanes 0-3, those at b in lanes 4-7 */
static inline __attribute__((always_inline)) __m256i bcast2(const void *a, const void *b) {
  return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi32(*(const int32_t *)a)), _mm_set1_epi32(*(const int32_t *)b), 1);
}

/* the outputs of nc <= 2 columns of a tile's rows [o0, min(o0 + 4, oe)) from r4[c] = column c's sums of its 4 rows */
static inline __attribute__((always_inline)) void cols_out(int nc, __m128i r4[2], int o0, int oe, int ob, int j, const Q8Sq8Epi *e,
                                                            const RowQ *rq, const EpiK *k) {
  if (nc == 1) r4[1] = _mm_setzero_si128();
  /* row r's columns in lanes 0 and 1: (r4[0][r], r4[1][r]) */
  __m128i lo = _mm_unpacklo_epi32(r4[0], r4[1]), hi = _mm_unpackhi_epi32(r4[0], r4[1]);   /* rows 0, 1 | rows 2, 3 */
  for (int r = 0; r < Q8_MR && o0 + r < oe; r++) {
    int o = o0 + r;
    __m128i pr = r < 2 ? lo : hi;
    pr = (r & 1) ? _mm_srli_si128(pr, 8) : pr;
    __m128i y8 = row16(_mm256_zextsi128_si256(_mm_move_epi64(pr)), _mm256_setzero_si256(), &rq[o - ob], k);
    int8_t *y = e->y + o * e->ys_o + j * e->ys_p;
    y[0] = (int8_t)_mm_extract_epi8(y8, 0);
    if (nc == 2) y[e->ys_p] = (int8_t)_mm_extract_epi8(y8, 1);
  }
}
#endif
