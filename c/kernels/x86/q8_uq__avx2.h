/* q8_uq__avx2.h: sq8's unsigned-quad layout on AVX2-class CPUs, shared by q8_gemm_4x16__avx2.c (vpmaddubsw, which
 * saturates: its tiles carry corrections) and q8_gemm_4x16__avxvnni.c (vpdpbusd on ymm, which does not: "whole" tiles,
 * the quads as they are). X: each activation as x ^ 0x80 = x + 128 (0..255), 4 consecutive k of a column in one
 * 32-bit lane, a panel of 16 columns 64 bytes a quad. A tile: 4 rows x kq quads of 4 weight bytes, after a header of
 * int32 comp[4] (-128 x each row's weight sum: the sum of w (x + 128) less 128 x the row's sum is the sum of w x) and
 * int32 n[4] (the rows' correction entries: always 0 in a whole tile). Defined in q8_gemm_4x16__avx2.c (built for
 * AVX2; every AVX-VNNI CPU runs AVX2). */
#ifndef TINYRUNTIME_Q8_UQ_AVX2_H
#define TINYRUNTIME_Q8_UQ_AVX2_H
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

enum { UQ_HDR = 32 };
/* a tile's bytes: with room for corrections (2 bytes a weight, as the i16x2 layout's), or whole (1 byte a weight) */
static inline size_t uq_tile_bytes(size_t kq) { return UQ_HDR + 32 * kq; }
static inline size_t uqw_tile_bytes(size_t kq) { return UQ_HDR + 16 * kq; }

size_t q8_uq_a_elems__avx2(int M, int G, int gs);
size_t q8_uqw_a_elems__avx2(int M, int G, int gs);
/* whole tiles from rows (pack_w) or from the file's blocks (pack_w_blk) */
void q8_uqw_pack_w__avx2(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A);
int q8_uqw_pack_w_blk__avx2(int M, int G, int gs, int T, const int8_t *w, int R, const int8_t *wz, int16_t *A);
/* X: one value, a column range's im2col, an image's (the descriptor's put_x, get_x, im2col_cols, im2col_i8) */
void q8_uq_put_x__avx2(int16_t *X, size_t pstride, int k, int p, int v);
int q8_uq_get_x__avx2(const int16_t *X, size_t pstride, int k, int p);
void q8_uq_im2col_cols__avx2(const int8_t *xp, int Hp, int Wp, int kh, int kw, int sh, int sw, int dh, int dw, int OH, int OW,
                             int32_t zx, int K, int p0, int p1, int16_t *X, ptrdiff_t pstride);
void q8_uq_im2col_i8__avx2(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                           int OH, int OW, int32_t zx, int k0, int k1, int16_t *X, ptrdiff_t pstride);

#ifdef Q8_UQ_DOT   /* (the includer's s + the quad products of x (u8) and a (s8), in int32 lanes) */
/* the last panel's nc <= 2 columns of 4 row tiles from row o0 (of a pass ending at oe; At[t] their tiles, the ones past oe
   tile 0's, not stored): s[t][c] column c's sums of tile t, two quads of a tile's 4 rows (32 bytes) against the column's
   quad q in lanes 0-3 and quad q + 1 in lanes 4-7, the halves to be added by the caller; the tiles that are real */
static inline __attribute__((always_inline)) int uq_cols_sums(int nc, size_t kq, const uint8_t *A, size_t tb, const uint8_t *X,
                                                               int o0, int oe, const uint8_t *At[4], __m256i s[4][2]) {
  int nt = oe - o0 >= 4 * Q8_MR ? 4 : (oe - o0 + Q8_MR - 1) / Q8_MR;
#pragma GCC unroll 4
  for (int t = 0; t < 4; t++) At[t] = A + (size_t)(o0 / Q8_MR + (t < nt ? t : 0)) * tb, s[t][0] = s[t][1] = _mm256_setzero_si256();
  size_t q = 0;
  for (; q + 2 <= kq; q += 2) {
    __m256i xv[2];
#pragma GCC unroll 2
    for (int c = 0; c < nc; c++) xv[c] = bcast2(X + 64 * q + 4 * c, X + 64 * (q + 1) + 4 * c);
#pragma GCC unroll 4
    for (int t = 0; t < 4; t++) {
      __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(At[t] + UQ_HDR + 16 * q));
#pragma GCC unroll 2
      for (int c = 0; c < nc; c++) s[t][c] = Q8_UQ_DOT(s[t][c], xv[c], a);
    }
  }
  if (q < kq)   /* an odd last quad: its 16 bytes, lanes 4-7 zero */
#pragma GCC unroll 4
    for (int t = 0; t < 4; t++) {
      __m256i a = _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(At[t] + UQ_HDR + 16 * q)));
#pragma GCC unroll 2
      for (int c = 0; c < nc; c++) s[t][c] = Q8_UQ_DOT(s[t][c], _mm256_set1_epi32(*(const int32_t *)(const void *)(X + 64 * q + 4 * c)), a);
    }
  return nt;
}

/* the last panel's nc <= 2 columns (a 7x7 map's 49th: a whole tile's work for one column), rows [ob, oe) of a pass: 4
   row tiles at once by uq_cols_sums (Q8_UQ_DOT), the halves added; then comp and the corrections (a row's entries: its
   4 bytes in lane r of one vpmaddubsw; a dense tile's rests in scalars: rare). A whole tile (AVX-VNNI's) has none: its
   n[] are 0, so comp alone */
static inline __attribute__((always_inline)) void uq_cols_nc(int nc, size_t kq, const uint8_t *A, size_t tb, const Q8Sq8Epi *e,
                                                              const uint8_t *X, int j, int ob, int oe, const RowQ *rq, const EpiK *k) {
  for (int o0 = ob; o0 < oe; o0 += 4 * Q8_MR) {
    const uint8_t *At[4];
    __m256i s[4][2];
    int nt = uq_cols_sums(nc, kq, A, tb, X, o0, oe, At, s);
    for (int t = 0; t < nt; t++) {
      const uint8_t *T = At[t];
      int32_t n[4];
      memcpy(n, T + 16, 16);
      __m128i add[2];   /* column c's corrections and comp, lane r = row r */
      for (int c = 0; c < nc; c++) add[c] = _mm_loadu_si128((const __m128i *)(const void *)T);
      if (n[0] < 0) {   /* dense: its rests here, in scalars (rare) */
        int32_t d[2][4] = {{0, 0, 0, 0}, {0, 0, 0, 0}};
        for (size_t q = 0; q < kq; q++)
          for (int c = 0; c < nc; c++)
            for (int r = 0; r < 4; r++)
              for (int i = 0; i < 4; i++) d[c][r] += (int8_t)T[UQ_HDR + 16 * kq + 16 * q + 4 * r + i] * X[64 * q + 4 * c + i];
        for (int c = 0; c < nc; c++) add[c] = _mm_add_epi32(add[c], _mm_loadu_si128((const __m128i *)(const void *)d[c]));
      }
      const uint8_t *en = T + UQ_HDR + 16 * kq;
      const __m128i one4 = _mm_set1_epi16(1);
#pragma GCC unroll 4
      for (int r = 0; r < 4; r++) {   /* an entry's 4 bytes in lane r, the column's quad in every lane */
        const __m128i lane = _mm_cvtepi8_epi32(_mm_cvtsi32_si128((int)(0xFFu << (8 * r))));
        for (int32_t i = n[0] < 0 ? 0 : n[r]; i > 0; i--, en += 8) {
          int32_t off;
          memcpy(&off, en, 4);
          __m128i a = _mm_and_si128(_mm_set1_epi32(*(const int32_t *)(const void *)(en + 4)), lane);
#pragma GCC unroll 2
          for (int c = 0; c < nc; c++)
            add[c] = _mm_add_epi32(add[c], _mm_madd_epi16(_mm_maddubs_epi16(_mm_set1_epi32(*(const int32_t *)(const void *)(X + off + 4 * c)), a), one4));
        }
      }
      __m128i r4[2];
      for (int c = 0; c < nc; c++)
        r4[c] = _mm_add_epi32(_mm_add_epi32(_mm256_castsi256_si128(s[t][c]), _mm256_extracti128_si256(s[t][c], 1)), add[c]);
      cols_out(nc, r4, o0 + t * Q8_MR, oe, ob, j, e, rq, k);
    }
  }
}
#endif

/* an sq8 GEMM on these tiles, NAME(g, e): passes of up to RB rows (their requantization constants first), panels of 16
   columns, each tile's sums by TILE(kq, tile, X, c) and stored by the epilogue (q8_epi4x16__avx2.h, included before);
   a last panel of 1 to 4 columns by COLS(nc, kq, A, tb, e, X, j, ob, oe, rq, &k), 3 and 4 as 2 and then 1 or 2 (a 14x14
   map's 196th-193rd columns: a whole tile's work did 4 of its 16; ResNet50's 14x14 layers 0.96-0.99x their time in the
   alternating harness, Zen 3); TB(kq) a tile's bytes */
#define Q8_UQ_SQ8_GEMM(NAME, TILE, COLS, TB) \
static void NAME(const Q8Gemm *g, const Q8Sq8Epi *e) {                                                     \
  __m256i c[4][2];                                                                                         \
  RowQ rq[RB];                                                                                             \
  size_t kq = (size_t)g->G * (size_t)g->kp, tb = TB(kq);                                                   \
  const EpiK k = epi_k(e);                                                                                 \
  const uint8_t *A = (const uint8_t *)(const void *)g->A;                                                  \
  for (int ob = 0; ob < g->M; ob += RB) {                                                                  \
    int oe = g->M - ob < RB ? g->M : ob + RB;                                                              \
    for (int o = ob; o < oe; o++) rq[o - ob] = row_q(e, o);                                                \
    for (int j = 0; j < g->N; j += Q8_NR) {                                                                \
      int nc = g->N - j < Q8_NR ? g->N - j : Q8_NR;                                                        \
      const uint8_t *X = (const uint8_t *)(const void *)(g->X + (size_t)(j / Q8_NR) * (size_t)g->pstride); \
      if (nc <= 4) {                                                                                       \
        if (nc == 1) COLS(1, kq, A, tb, e, X, j, ob, oe, rq, &k);                                          \
        else COLS(2, kq, A, tb, e, X, j, ob, oe, rq, &k);                                                  \
        if (nc == 3) COLS(1, kq, A, tb, e, X + 8, j + 2, ob, oe, rq, &k);                                  \
        else if (nc == 4) COLS(2, kq, A, tb, e, X + 8, j + 2, ob, oe, rq, &k);                             \
        continue;                                                                                          \
      }                                                                                                    \
      for (int o0 = ob; o0 < oe; o0 += Q8_MR) {                                                            \
        int nr = oe - o0 < Q8_MR ? oe - o0 : Q8_MR;                                                        \
        TILE(kq, A + (size_t)(o0 / Q8_MR) * tb, X, c);                                                     \
        tile_out(c, nr, o0, ob, j, nc, e, rq, &k);                                                         \
      }                                                                                                    \
    }                                                                                                      \
  }                                                                                                        \
}
#endif
