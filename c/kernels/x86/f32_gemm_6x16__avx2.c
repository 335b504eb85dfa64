/* f32_gemm_6x16__avx2: 6x16 GEMM micro-kernel, AVX2 + FMA, 12 accumulators (see kernels_f32.h); one entry,
 * gemm_u, as the AVX-512 kernel's: A read where it lies (the weights in the model file's map, an implicit
 * convolution's taps by channel; or a panel packed by f32_pack_a_tail for 1x1 convolutions and LINEAR), B in place.
 * Until 2026-12-05 this table had gemm only (packed A and B panels): every convolution went through im2col, and
 * every weight was packed at start-up. */
#include <immintrin.h>

#include "../../src/kernels_f32.h"
#include "act__avx2.h"
#include "store8__avx2.h"
#include "f32_gemm_u_taps.h"

enum { MR = 6, NR = 16 };

/* ---- gemm_u (kernels_f32.h): a tile of rows [0, m) and columns [0, n) with A read where it lies (the weights in
   the model file's map, K floats a row, or a panel packed by f32_pack_a_tail, ks floats a k step) and B in place
   (an activation, padded planes, a Winograd matrix). The loop of the gemm it replaced, 12 accumulators: per k step one or
   two 8-wide B loads and one broadcast a row. The sum over (kk, tap) in that order, fused multiply-adds from 0
   (or from C: acc 1), then + bias, (+ C: F32_ACC_RES), then the activation: the values of the reference and of
   the AVX-512 kernel, bit for bit. Columns past n by masked loads (vmaskmovps: none read) and st8_n's stores;
   rows past m never stored, and only rows < rr read: m rounded up to 2 (a file's panel of 32 rows read by tiles of
   6 ends with one of 2 rows at row 30; f32_tail_rows(2, 6) would be 4). */
enum { PF_B = 16 };   /* packed A: B's prefetch distance in k steps (as the AVX-512 kernel's) */
/* packed A: A's own prefetch distance in k steps (64 x 6 floats: 1.5 KiB on, a line a k step). At batch 1 a layer's
   weights come from memory or L3, a panel's K chunk at a time; alone, with the weights flushed, a 320 x 960 layer on
   49 columns took ~1.6x its time with them in L3. Zen 3, one thread (per-op minima of 12 processes alternated,
   2026-12-07): MobileNetV2's 7x7 1x1 layers 0.90-0.97x their time, its 14x14 ones 0.95-0.99x, ResNet50's 7x7 1x1
   layers 0.90-0.97x; 128 steps on no better, 32 worse; the same prefetch for the in-place 3x3 taps' six rows
   1.01-1.07x slower (ResNet18): not there */
enum { PF_A = 64 };

static inline __attribute__((always_inline)) __m256 ld8(const float *p, __m256i mk, int full) {
  return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mk);
}

/* row r's halves: act((x + bias) [+ c]) stored on its columns < n (the masks' for the loads of c) */
static inline __attribute__((always_inline)) void store_row_u(float *c, __m256 x0, __m256 x1, float bias, int act, int nv,
                                                              int full, __m256i mk0, __m256i mk1, int res, int n) {
  __m256 bb = _mm256_set1_ps(bias), x[2] = {_mm256_add_ps(x0, bb), _mm256_add_ps(x1, bb)};
  for (int h = 0; h < nv; h++) {
    __m256i mk = h ? mk1 : mk0;
    if (res) x[h] = _mm256_add_ps(x[h], ld8(c + 8 * h, mk, full || (h == 0 && nv == 2)));
    x[h] = act8_avx2(x[h], act);
    if (full) _mm256_storeu_ps(c + 8 * h, x[h]);
    else st8_n(c + 8 * h, x[h], n - 8 * h);   /* (h 1: n > 8) */
  }
}

/* nv (1 or 2) 8-wide halves of B, full (all 16 columns: plain loads and stores), rr (2, 4 or 6) rows of A read: all
   constants once inlined. Rows of A in place by two pointers (rows 0-2, 3-5) and offsets of 0, 1 and 2 rows */
static inline __attribute__((always_inline)) void gemm_u_nv(int nv, int full, int rr, size_t k, size_t nt, const ptrdiff_t *boff,
                                                            const float *a, size_t lda, size_t ks, const float *b, size_t ldb,
                                                            float *c, size_t ldc, int m, int n, __m256i mk0, __m256i mk1,
                                                            const float *bias, int act, int acc) {
  /* two halves (n > 8): the first whole, by plain loads. With both masks live, a k step of the masked tile needed 17
     vector registers (12 sums, 2 masks, 2 of B, a broadcast) and GCC spilled: a call on 9-15 columns took ~3x one
     on 16 (Winograd's blocks of 28 and 25 tiles: its products at 14-15 flop a TSC cycle, 30-34 on 32 columns) */
  const int full0 = full || nv == 2;
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int r = 0; r < MR; r++) c0[r] = c1[r] = _mm256_setzero_ps();
  if (acc == 1)
#pragma GCC unroll 6
    for (int r = 0; r < rr; r++)
      if (r < m) {
        c0[r] = ld8(c + r * ldc, mk0, full0);
        if (nv == 2) c1[r] = ld8(c + r * ldc + 8, mk1, full);
      }
  const float *ap[2] = {a, rr > 3 ? a + 3 * lda : a};
#define KSTEP(BT)                                                                    \
  do {                                                                               \
    __m256 b0 = ld8(BT, mk0, full0), b1 = nv == 2 ? ld8((BT) + 8, mk1, full) : b0;   \
    _Pragma("GCC unroll 6") for (int r = 0; r < rr; r++) {                           \
      __m256 ar = _mm256_broadcast_ss(ap[r / 3] + (size_t)(r % 3) * lda);            \
      c0[r] = _mm256_fmadd_ps(ar, b0, c0[r]);                                        \
      if (nv == 2) c1[r] = _mm256_fmadd_ps(ar, b1, c1[r]);                           \
    }                                                                                \
    ap[0]++, ap[1]++;                                                                \
  } while (0)
  if (ks != 1) {   /* packed (nt 1): one stream of ks floats a k step */
    const float *pa = a;
    /* B's row PF_B steps on, past the last row the caller's next tile's (NR columns on) */
    const size_t wrap = ldb == NR || k * ldb < NR ? 0 : k * ldb - NR;
    for (const float *bk = b, *be = b + k * ldb; bk != be; bk += ldb, pa += ks) {
      const float *pf = bk + PF_B * ldb;
      if (pf >= be) pf -= wrap;
      _mm_prefetch((const char *)pf, _MM_HINT_T0);
      _mm_prefetch((const char *)(pa + PF_A * ks), _MM_HINT_T0);
      if (nv == 2) _mm_prefetch((const char *)(pf + 15), _MM_HINT_T0);
      __m256 b0 = ld8(bk, mk0, full0), b1 = nv == 2 ? ld8(bk + 8, mk1, full) : b0;
#pragma GCC unroll 6
      for (int r = 0; r < rr; r++) {
        __m256 ar = _mm256_broadcast_ss(pa + r);
        c0[r] = _mm256_fmadd_ps(ar, b0, c0[r]);
        if (nv == 2) c1[r] = _mm256_fmadd_ps(ar, b1, c1[r]);
      }
    }
  } else   /* in place (the 3x3 taps unrolled on whole tiles) */
    F32_GEMM_U_TAPS(nt == 9 && nv == 2 && full && rr == MR, nt == 1);
#undef KSTEP
  int res = acc == F32_ACC_RES;
#pragma GCC unroll 6
  for (int r = 0; r < rr; r++)
    if (r < m) store_row_u(c + r * ldc, c0[r], c1[r], bias[r], act, nv, full, mk0, mk1, res, n);
}

static void gemm_u(size_t k, size_t nt, const ptrdiff_t *boff, const float *a, size_t lda, size_t ks, const float *b, size_t ldb,
                   float *c, size_t ldc, int m, int n, const float *bias, int act, int acc) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i mk0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx), mk1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), idx);
#define RR(nv, full)                                                                                      \
  do {                                                                                                    \
    if (m <= 2)                                                                                           \
      gemm_u_nv(nv, full, 2, k, nt, boff, a, lda, ks, b, ldb, c, ldc, m, n, mk0, mk1, bias, act, acc);    \
    else if (m <= 4)                                                                                      \
      gemm_u_nv(nv, full, 4, k, nt, boff, a, lda, ks, b, ldb, c, ldc, m, n, mk0, mk1, bias, act, acc);    \
    else                                                                                                  \
      gemm_u_nv(nv, full, MR, k, nt, boff, a, lda, ks, b, ldb, c, ldc, m, n, mk0, mk1, bias, act, acc);   \
  } while (0)
  if (n >= NR)
    RR(2, 1);
  else if (n > 8)
    RR(2, 0);
  else
    RR(1, 0);
#undef RR
}

const F32GemmDesc f32_gemm_6x16__avx2_desc = {"f32_gemm_6x16__avx2", MR, NR, NULL, f32_pack_a_panels, 1, gemm_u, NULL, 0, 0, 0};
