/* q8_i16x2__avx2.h: the i16x2 layout's 4 x 16 tile and dq8's GEMM on it, for the files that include it with their
 * multiply-add of int16 pairs into int32 (Q8_I16X2_DOT(c, a, x): c + a0 x0 + a1 x1 in each lane): the AVX2 file's
 * vpmaddwd and vpaddd, the AVX-VNNI file's vpdpwssd (one instruction; the same int32 sums: vpmaddwd's pair sum wraps
 * only for two products of -32768 x -32768, and both operands here are differences of int8 values, within 255). */
#ifndef TINYRUNTIME_Q8_I16X2_AVX2_H
#define TINYRUNTIME_Q8_I16X2_AVX2_H
#include <immintrin.h>
#include <string.h>
#include "../../src/kernels_q8.h"
#include "act__avx2.h"
#include "q8_asm4x16__avx2.h"

/* the layout's packers, quantization and im2col (q8_gemm_4x16__avx2.c, AVX2; the descriptors of both files take them) */
void q8_dq8_quant__avx2(int G, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym, int16_t *xq, ptrdiff_t pstride,
                        float *xs, ptrdiff_t ldxs);
void q8_dq8_quant_g__avx2(int g0, int g1, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym, int16_t *xq,
                          ptrdiff_t pstride, float *xs, ptrdiff_t ldxs);
int q8_dq8_conv_quant__avx2(const Q8Dq8Conv *c, int g0, int g1, int gs, int N, int asym, int16_t *xq, ptrdiff_t pstride,
                            float *xs, ptrdiff_t ldxs);
void q8_im2col_cols_i16x2__avx2(const int8_t *xp, int Hp, int Wp, int kh, int kw, int sh, int sw, int dh, int dw, int OH,
                                int OW, int32_t zx, int K, int p0, int p1, int16_t *X, ptrdiff_t pstride);
void q8_im2col_i8_i16x2__avx2(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw, int dh,
                              int dw, int OH, int OW, int32_t zx, int k0, int k1, int16_t *X, ptrdiff_t pstride);
int q8_pack_w_blk_i16x2__avx2(int M, int G, int gs, int T, const int8_t *w, int R, const int8_t *wz, int16_t *A);

#ifndef Q8_I16X2_DOT
#error "define Q8_I16X2_DOT(c, a, x) before including q8_i16x2__avx2.h"
#endif

/* int32 tile c[r][h] (row r, columns 8h..8h+7) = A-tile (kp pairs) . X panel (kp pairs of 16 columns).
   A panel's pair k is 64 contiguous bytes: columns 0-7 then 8-15, each as (x[2k], x[2k+1]). */
static inline __attribute__((always_inline)) void tile_4x16(int kp, const int16_t *A, const int16_t *X,
                                                            __m256i c[4][2]) {
  __m256i c0l = _mm256_setzero_si256(), c0h = c0l, c1l = c0l, c1h = c0l;
  __m256i c2l = c0l, c2h = c0l, c3l = c0l, c3h = c0l;
#ifdef Q8_I16X2_ASM
  /* (the AVX2 includer's) the loop in asm (q8_asm4x16__avx2.h), as q8_gemm_4x16__avx2.c's uq_tile: the same sums; in a
     harness running layers as the op does (Zen 3, the two kernels alternated) 0.80-0.96x the time at K >= 64 (1.03-1.07x
     at K = 16 and 32), ResNet18 dq8 0.93x, MobileNetV2 dq8 0.96x (8 alternated processes each) */
#define I16_ROW(i, r, L, H) Q8_ASM_ROW(i, r, L, H, "vpmaddwd %[b], %[lo], %[t]\n\t" "vpmaddwd %[b], %[hi], %[b]\n\t")
  Q8_ASM_RUN(I16_ROW, "", A, X, (size_t)kp, );
#undef I16_ROW
#else
  for (int k = 0; k < kp; k++) {
    __m256i lo = _mm256_loadu_si256((const __m256i *)(X + 32 * k));
    __m256i hi = _mm256_loadu_si256((const __m256i *)(X + 32 * k + 16));
    const int16_t *a = A + 8 * k;   /* 4 rows x (w[2k], w[2k+1]) */
    __m256i a0 = _mm256_broadcastd_epi32(_mm_loadu_si32(a)), a1 = _mm256_broadcastd_epi32(_mm_loadu_si32(a + 2));
    c0l = Q8_I16X2_DOT(c0l, a0, lo), c0h = Q8_I16X2_DOT(c0h, a0, hi);
    c1l = Q8_I16X2_DOT(c1l, a1, lo), c1h = Q8_I16X2_DOT(c1h, a1, hi);
    __m256i a2 = _mm256_broadcastd_epi32(_mm_loadu_si32(a + 4)), a3 = _mm256_broadcastd_epi32(_mm_loadu_si32(a + 6));
    c2l = Q8_I16X2_DOT(c2l, a2, lo), c2h = Q8_I16X2_DOT(c2h, a2, hi);
    c3l = Q8_I16X2_DOT(c3l, a3, lo), c3h = Q8_I16X2_DOT(c3h, a3, hi);
  }
#endif
  c[0][0] = c0l, c[0][1] = c0h, c[1][0] = c1l, c[1][1] = c1h;
  c[2][0] = c2l, c[2][1] = c2h, c[3][0] = c3l, c[3][1] = c3h;
}

/* dq8: per group the tile's int32 sums, scaled in float in group order, then bias, the residual (res) and act */
static inline __attribute__((always_inline)) void dq8_gemm_4x16(const Q8Gemm *g, const Q8Dq8Epi *e) {
  __m256i c[4][2];
  float acc[4][16];
  size_t tile_elems = (size_t)g->G * g->kp * Q8_MR * 2;
  const __m256 zero = _mm256_setzero_ps();
  for (int j = 0; j < g->N; j += Q8_NR) {
    int nc = g->N - j < Q8_NR ? g->N - j : Q8_NR;
    const int16_t *X = g->X + (size_t)(j / Q8_NR) * (size_t)g->pstride;
    for (int o0 = 0; o0 < g->M; o0 += Q8_MR) {
      int nr = g->M - o0 < Q8_MR ? g->M - o0 : Q8_MR;
      const int16_t *A = g->A + (size_t)(o0 / Q8_MR) * tile_elems;
      __m256 f[4][2];
      for (int r = 0; r < 4; r++) f[r][0] = f[r][1] = zero;
      for (int grp = 0; grp < g->G; grp++) {
        tile_4x16(g->kp, A + (size_t)grp * g->kp * Q8_MR * 2, X + (size_t)grp * g->kp * 2 * Q8_NR, c);
        const float *xs = e->xs + grp * e->ldxs + j;
        __m256 x0 = _mm256_loadu_ps(xs), x1 = _mm256_loadu_ps(xs + 8);
        for (int r = 0; r < nr; r++) {
          __m256 w = _mm256_set1_ps(e->ws[(size_t)(o0 + r) * g->G + grp]);
          __m256 s0 = _mm256_mul_ps(w, x0), s1 = _mm256_mul_ps(w, x1);
          __m256 i0 = _mm256_cvtepi32_ps(c[r][0]), i1 = _mm256_cvtepi32_ps(c[r][1]);
          f[r][0] = _mm256_add_ps(f[r][0], _mm256_mul_ps(s0, i0));
          f[r][1] = _mm256_add_ps(f[r][1], _mm256_mul_ps(s1, i1));
        }
      }
      for (int r = 0; r < nr; r++) {
        __m256 v0 = f[r][0], v1 = f[r][1];
        if (e->bias) {
          __m256 b = _mm256_set1_ps(e->bias[o0 + r]);
          v0 = _mm256_add_ps(b, v0); v1 = _mm256_add_ps(b, v1);
        }
        float *y = e->y + (o0 + r) * e->ys_o + j * e->ys_p;
        if (e->res) {   /* (ys_p 1) */
          memset(acc[r], 0, sizeof acc[r]);
          memcpy(acc[r], y, sizeof *y * (size_t)nc);
          v0 = _mm256_add_ps(v0, _mm256_loadu_ps(acc[r])), v1 = _mm256_add_ps(v1, _mm256_loadu_ps(acc[r] + 8));
        }
        v0 = act_avx2(v0, e->act), v1 = act_avx2(v1, e->act);
        if (e->ys_p == 1 && nc == Q8_NR) {
          _mm256_storeu_ps(y, v0);
          _mm256_storeu_ps(y + 8, v1);
        } else {
          _mm256_storeu_ps(acc[r], v0);
          _mm256_storeu_ps(acc[r] + 8, v1);
          for (int cc = 0; cc < nc; cc++) y[cc * e->ys_p] = acc[r][cc];
        }
      }
    }
  }
}
#endif
